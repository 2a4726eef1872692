"""Cache of per-clip features of frozen video backbones, shared across folds and runs.

A frozen backbone maps the same clip to the same features in every fold and every run, and it is
by far the most expensive part of the video baselines; this cache computes each clip's features
once. Entries are stored per (extractor, dataset, patient, video):

``<root>/<extractor name>-<key>/<dataset>/<patient>/<video>.npy``
    float32 array ``(n_clips, *feature_shape)``, read memory-mapped;
``<same>.json``
    sidecar: format version, extractor key, the ids, each clip's ``[start, end]`` and a digest of
    its pixels, the array's shape and the SHA-256 of its bytes.

The key hashes the extractor description (backbone, weights digest or random-init seed, input
size, ...) with the clip representation (``representation``, ``n_frames``, ``size``, ``fps``,
``window_s`` of ``WindowSet.info``) and the window shape; the dataset, patient, video and clip
times select within it. A stored entry is used only if its sidecar, version, key, array shape and
checksum all agree and the pixels of one of the requested clips still hash to the stored digest (a
regenerated dataset under the same name is caught there). Anything else is logged as a warning and
rebuilt, never silently used. Files are written to a temporary name and renamed, the sidecar last,
so an interrupted write leaves an entry that fails verification rather than a wrong one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.windowset import WindowSet

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
#: ``WindowSet.info`` entries that change what a clip contains, hence part of the key.
REPRESENTATION_KEYS = ("representation", "n_frames", "size", "fps", "window_s")
_TIME_DECIMALS = 6  # clip times are matched to the microsecond

Compute = Callable[[np.ndarray], np.ndarray]


def _slug(text: str) -> str:
    """A file-name-safe form of an id; ids that had to change get a short hash to stay distinct."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", str(text)) or "_"
    if safe != str(text) or safe.startswith("."):
        safe = f"{safe}-{hashlib.sha256(str(text).encode()).hexdigest()[:8]}"
    return safe


def _digest(array: np.ndarray) -> str:
    # Hashed through the buffer protocol: a memory-mapped entry is read, not copied whole.
    return hashlib.sha256(np.ascontiguousarray(array)).hexdigest()


def _clip_key(start: float, end: float) -> tuple[float, float]:
    return round(float(start), _TIME_DECIMALS), round(float(end), _TIME_DECIMALS)


def compute_features(windows: WindowSet, compute: Compute, batch_size: int = 8) -> np.ndarray:
    """Features of every clip of ``windows``, in order, without caching.

    ``compute`` maps a float32 batch ``(b, *window_shape)`` to ``(b, *feature_shape)``.
    """
    return _compute_rows(windows, np.arange(len(windows)), compute, batch_size)[0]


def _compute_rows(
    windows: WindowSet, positions: np.ndarray, compute: Compute, batch_size: int, with_digests: bool = False
) -> tuple[np.ndarray, list[str]]:
    parts, digests = [], []
    for i in range(0, len(positions), max(1, int(batch_size))):
        idx = positions[i : i + batch_size]
        clips = windows.get(idx)
        feats = np.asarray(compute(clips), dtype=np.float32)
        if feats.ndim < 1 or feats.shape[0] != len(idx):
            raise ValueError(f"feature extractor returned shape {feats.shape} for a batch of {len(idx)} clips")
        parts.append(feats)
        if with_digests:
            digests.extend(_digest(c)[:16] for c in clips)
    if not parts:
        raise ValueError("no clips to compute features for")
    return np.concatenate(parts), digests


@dataclass
class _Entry:
    """A verified stored entry: features by clip and the clips' pixel digests."""

    features: np.ndarray
    row_of: dict[tuple[float, float], int]
    pixels: list[str]
    clips: list[tuple[float, float]]


class ClipFeatureCache:
    """Per-clip backbone features on disk, keyed by extractor, representation, dataset and clip.

    Parameters
    ----------
    root
        Cache folder (the harness passes ``FitContext.cache_dir``); created on first write.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    # -- public -----------------------------------------------------------------------------

    def extractor_key(self, windows: WindowSet, extractor: dict[str, Any]) -> str:
        """Hex key of an extractor applied to the clip representation of ``windows``."""
        payload = {
            "extractor": extractor,
            "representation": {k: windows.info.get(k) for k in REPRESENTATION_KEYS if k in windows.info},
            "window_shape": [int(d) for d in windows.window_shape],
        }
        try:
            text = json.dumps(payload, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"the extractor description must be plain JSON ({exc}): {extractor!r}") from exc
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def get_or_compute(
        self, windows: WindowSet, extractor: dict[str, Any], compute: Compute, batch_size: int = 8
    ) -> np.ndarray:
        """Features of every clip of ``windows``, in order, computing only those not cached.

        Parameters
        ----------
        windows
            Clips with ``meta`` columns ``patient``, ``recording`` (the video id), ``start`` and
            ``end``; ``info`` gives the representation and ``dataset``.
        extractor
            JSON description of the feature extractor; every setting that changes the features
            (backbone, weights SHA-256 or ``"random-init:<seed>"``, input size, normalisation, ...)
            must be in it, with a ``"name"`` for the folder.
        compute
            Maps a float32 batch ``(b, *window_shape)`` to a float32 ``(b, *feature_shape)``.
        batch_size
            Clips per ``compute`` call.

        Returns
        -------
        np.ndarray
            ``(len(windows), *feature_shape)`` float32.
        """
        if len(windows) == 0:
            raise ValueError("no clips to compute features for")
        key = self.extractor_key(windows, extractor)
        dataset = str(windows.info.get("dataset", "unknown-dataset"))
        base = self.root / f"{_slug(str(extractor.get('name', 'extractor')))}-{key}" / _slug(dataset)
        meta = windows.meta
        groups = meta.groupby(["patient", "recording"], sort=False).indices
        out: np.ndarray | None = None
        for (patient, video), positions in groups.items():
            positions = np.asarray(positions, dtype=np.int64)
            starts, ends = meta["start"].to_numpy()[positions], meta["end"].to_numpy()[positions]
            wanted = [_clip_key(s, e) for s, e in zip(starts, ends)]
            ids = {"key": key, "dataset": dataset, "patient": str(patient), "video": str(video)}
            path = base / _slug(str(patient)) / f"{_slug(str(video))}.npy"
            entry = self._read(path, ids, windows, positions, wanted)
            missing = sorted({c for c in wanted if entry is None or c not in entry.row_of})
            if missing:
                entry = self._extend(path, ids, entry, windows, positions, wanted, missing, compute, batch_size)
            rows = entry.features[[entry.row_of[c] for c in wanted]]
            if out is None:
                out = np.empty((len(windows), *rows.shape[1:]), dtype=np.float32)
            out[positions] = rows
        assert out is not None
        return out

    # -- reading ----------------------------------------------------------------------------

    @staticmethod
    def _sidecar(path: Path) -> Path:
        return path.with_suffix(".json")

    def _read(
        self, path: Path, ids: dict[str, str], windows: WindowSet, positions: np.ndarray, wanted: list
    ) -> _Entry | None:
        """The verified entry at ``path``, or ``None`` (with a warning when one was there but bad)."""
        sidecar = self._sidecar(path)
        if not path.exists() and not sidecar.exists():
            return None
        where = f"{ids['patient']}/{ids['video']}"
        problem = None
        try:
            info = json.loads(sidecar.read_text())
            if info.get("format") != FORMAT_VERSION:
                problem = f"format version {info.get('format')} is not {FORMAT_VERSION}"
            elif any(info.get(k) != v for k, v in ids.items()):
                problem = "its sidecar names another extractor or video"
            else:
                arr = np.load(path, mmap_mode="r", allow_pickle=False)
                clips = [tuple(c) for c in info["clips"]]
                if arr.dtype != np.float32 or list(arr.shape) != info["shape"] or len(arr) != len(clips):
                    problem = f"the array has shape {arr.shape} {arr.dtype}, the sidecar says {info['shape']} float32"
                elif _digest(arr) != info["sha256"]:
                    problem = "the array's checksum does not match (altered or partly written file)"
        except FileNotFoundError as exc:
            problem = f"{Path(exc.filename or '').name or 'a file'} is missing"
        except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
            problem = f"it cannot be read ({type(exc).__name__}: {exc})"
        if problem is None:
            entry = _Entry(arr, {c: i for i, c in enumerate(clips)}, list(info["pixels"]), clips)
            problem = self._pixels_changed(entry, windows, positions, wanted)
            if problem is None:
                return entry
        extractor_dir = path.parent.parent.parent.name
        log.warning("feature cache entry %s of %s is not used: %s; recomputing it", where, extractor_dir, problem)
        return None

    @staticmethod
    def _pixels_changed(entry: _Entry, windows: WindowSet, positions: np.ndarray, wanted: list) -> str | None:
        # One clip per video is re-read and hashed: cheap next to a backbone pass, and it catches
        # a dataset regenerated or re-encoded under the same name.
        for pos, clip in zip(positions, wanted):
            row = entry.row_of.get(clip)
            if row is not None:
                if _digest(windows.get(np.array([pos])))[:16] != entry.pixels[row]:
                    return f"the pixels of clip {clip[0]:g}-{clip[1]:g} s changed since it was cached"
                return None
        return None

    # -- writing ----------------------------------------------------------------------------

    def _extend(
        self,
        path: Path,
        ids: dict[str, str],
        entry: _Entry | None,
        windows: WindowSet,
        positions: np.ndarray,
        wanted: list,
        missing: list,
        compute: Compute,
        batch_size: int,
    ) -> _Entry:
        """Compute the ``missing`` clips, merge them with ``entry`` and store the result."""
        first_pos = {}
        for pos, clip in zip(positions, wanted):
            first_pos.setdefault(clip, pos)
        todo = np.array([first_pos[c] for c in missing])
        new_feats, new_pixels = _compute_rows(windows, todo, compute, batch_size, with_digests=True)
        if entry is not None and entry.features.shape[1:] != new_feats.shape[1:]:
            where = f"{ids['patient']}/{ids['video']}"
            log.warning("feature cache entry %s holds features of another shape; replacing it", where)
            entry = None
        clips = list(missing) + ([] if entry is None else entry.clips)
        pixels = list(new_pixels) + ([] if entry is None else entry.pixels)
        feats = new_feats if entry is None else np.concatenate([new_feats, np.asarray(entry.features)])
        order = sorted(range(len(clips)), key=lambda i: clips[i])
        clips = [clips[i] for i in order]
        pixels = [pixels[i] for i in order]
        feats = np.ascontiguousarray(feats[order], dtype=np.float32)
        self._write(path, ids, feats, clips, pixels)
        return _Entry(feats, {c: i for i, c in enumerate(clips)}, pixels, clips)

    def _write(self, path: Path, ids: dict[str, str], feats: np.ndarray, clips: list, pixels: list[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tag = f".tmp-{os.getpid()}"
        tmp_npy = path.with_name(path.name + tag)
        with open(tmp_npy, "wb") as fh:
            np.save(fh, feats, allow_pickle=False)
        os.replace(tmp_npy, path)
        sidecar = {
            "format": FORMAT_VERSION,
            **ids,
            "clips": [list(c) for c in clips],
            "pixels": pixels,
            "shape": list(feats.shape),
            "dtype": "float32",
            "sha256": _digest(feats),
        }
        tmp_json = path.with_name(path.stem + ".json" + tag)
        tmp_json.write_text(json.dumps(sidecar, indent=1))
        os.replace(tmp_json, self._sidecar(path))


def cached_features(
    windows: WindowSet,
    extractor: dict[str, Any],
    compute: Compute,
    cache_dir: str | Path | None,
    batch_size: int = 8,
) -> np.ndarray:
    """Features of ``windows`` through a :class:`ClipFeatureCache` at ``cache_dir``, or computed
    directly when ``cache_dir`` is ``None`` (``FitContext.cache_dir`` unset)."""
    if cache_dir is None:
        return compute_features(windows, compute, batch_size)
    return ClipFeatureCache(cache_dir).get_or_compute(windows, extractor, compute, batch_size)
