"""Windowing of split units and the on-disk window cache.

Units of a split are cut into fixed-length windows (``window_s`` long, every ``stride_s``); each
window's representation (raw samples, band power, spectrogram, see :mod:`benchmark.features`) is
computed once, streaming recording by recording from the EDF files, and stored in a ``.npy`` memmap
per patient. The cache key is (dataset index hash, preprocessing config, window table), so a second
run with the same data and preprocessing reuses it, and anything that changes the windows makes a
new entry. Memory stays bounded by one read span, whatever the hours of EEG.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark import features
from benchmark.index import RecordingIndex
from benchmark.splits import SplitSpec
from benchmark.tasks import BY_OVERLAP, BY_TYPE, window_labels

log = logging.getLogger(__name__)

MAX_READ_S = 120.0  # longest stretch of EEG read from disk at once
CACHE_VERSION = 1  # bump when reading, resampling or windowing changes what a cache entry holds


@dataclass(frozen=True)
class WindowParams:
    """How units are cut into windows; recorded with every run.

    ``window_s`` is 10 s for prediction (as in the ResNet-LSTM paper) and 1 s for detection;
    ``stride_s`` equal to ``window_s`` means no overlap (the ResNet-LSTM paper oversamples with a
    1-s stride).
    """

    window_s: float
    stride_s: float
    # Stride of extra windows inside seizures (detection, seizure type), e.g. half the window for
    # the 50 % overlap DistilCLIP-EEG uses; they oversample the rare ictal class in TRAINING only:
    # test windows keep the regular stride so scores are not weighted towards seizures.
    ictal_stride_s: float | None = None

    def __post_init__(self) -> None:
        from benchmark.errors import BenchmarkError

        if self.window_s <= 0 or self.stride_s <= 0:
            raise BenchmarkError("window length and stride must be positive (seconds).")
        if self.ictal_stride_s is not None and not 0 < self.ictal_stride_s <= self.window_s:
            raise BenchmarkError(
                f"--ictal-stride must be in (0, window length {self.window_s:g} s], got {self.ictal_stride_s:g}."
            )


DEFAULT_WINDOWS = {
    "prediction": WindowParams(10.0, 10.0),
    "detection": WindowParams(1.0, 1.0),
    "seizure-type": WindowParams(1.0, 1.0),
    # Video clips: 2 s keeps smoke runs small; Li et al. use 10-s clips (--window 10).
    "classification": WindowParams(2.0, 2.0),
}
VIDEO_DEFAULTS = {"n_frames": 8, "size": 64, "fps": 25.0}


def video_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Clip parameters of the ``video`` representation over their defaults; unknown names fail."""
    from benchmark.errors import BenchmarkError

    params = dict(params or {})
    bad = sorted(set(params) - set(VIDEO_DEFAULTS))
    if bad:
        raise BenchmarkError(f"representation 'video' has no parameter(s) {bad}; allowed: {sorted(VIDEO_DEFAULTS)}.")
    out = {**VIDEO_DEFAULTS, **params}
    out["n_frames"], out["size"], out["fps"] = int(out["n_frames"]), int(out["size"]), float(out["fps"])
    return out


def recording_file(index: RecordingIndex, patient: str, recording: str) -> str:
    """File of a recording, or of an unlabelled contextual video of a video dataset."""
    try:
        return index.recording(patient, recording).file
    except KeyError:
        for item in (index.patient(patient).info or {}).get("contextual", []):
            if item["video_id"] == recording:
                return item["file"]
        raise


def default_cache_dir() -> Path:
    return Path(os.environ.get("SEIZURE_BENCH_CACHE", Path.home() / ".cache" / "seizure-bench"))


def window_table(spec: SplitSpec, index: RecordingIndex, wp: WindowParams) -> pd.DataFrame:
    """All windows of the split's units: ``patient, recording, start, end, label, unit, extra``.

    Windows never cross a segment boundary. For detection a window is ictal when it overlaps a
    seizure of its recording; for seizure type its label is the class of the seizure it overlaps
    most. ``extra`` marks the additional windows placed inside seizures at ``wp.ictal_stride_s``
    (training-only oversampling).
    """
    rows: list[pd.DataFrame] = []
    eps = 1e-6
    classes = spec.class_names()
    for uid, unit in spec.units.items():
        for seg in unit.segments:
            n = int(np.floor((seg.end - seg.start - wp.window_s) / wp.stride_s + eps)) + 1
            if n <= 0:
                continue
            starts = np.round(seg.start + wp.stride_s * np.arange(n), 6)
            extra = np.zeros(n, dtype=bool)
            if seg.label in (BY_OVERLAP, BY_TYPE):
                rec = index.recording(unit.patient, seg.recording)
                if wp.ictal_stride_s is not None:
                    more = _ictal_starts(rec.seizures, seg.start, seg.end, wp, set(starts.tolist()))
                    starts = np.concatenate([starts, more])
                    extra = np.concatenate([extra, np.ones(len(more), dtype=bool)])
                ends = np.round(starts + wp.window_s, 6)
                labels = window_labels(rec.seizures, starts, ends, seg.label, classes)
            else:
                ends = np.round(starts + wp.window_s, 6)
                labels = np.full(len(starts), seg.label, dtype=np.int64)
            rows.append(
                pd.DataFrame(
                    {
                        "patient": unit.patient,
                        "recording": seg.recording,
                        "start": starts,
                        "end": ends,
                        "label": labels,
                        "unit": uid,
                        "extra": extra,
                    }
                )
            )
    if not rows:
        return pd.DataFrame(columns=["patient", "recording", "start", "end", "label", "unit", "extra"])
    table = pd.concat(rows, ignore_index=True)
    return table.sort_values(["patient", "recording", "start"], kind="stable").reset_index(drop=True)


def _ictal_starts(seizures, seg_start: float, seg_end: float, wp: WindowParams, taken: set) -> np.ndarray:
    """Starts of the extra windows inside the seizures of one segment (not already regular ones)."""
    out: list[float] = []
    for sz in seizures:
        lo, hi = max(seg_start, sz.onset), min(seg_end, sz.offset)
        if hi - lo < wp.window_s:
            continue
        k = int(np.floor((hi - lo - wp.window_s) / wp.ictal_stride_s + 1e-6)) + 1
        for t in np.round(lo + wp.ictal_stride_s * np.arange(k), 6).tolist():
            if t not in taken:
                taken.add(t)
                out.append(t)
    return np.asarray(out, dtype=float)


@dataclass(frozen=True)
class Preprocessing:
    """Everything that determines the cached arrays besides the window table."""

    channels: tuple[str, ...]
    sfreq: float
    representation: str
    representation_params: dict[str, Any]
    # (low, high) Hz band-pass of the continuous signal before windowing; None: unfiltered.
    bandpass: tuple[float, float] | None = None

    def key(self) -> dict[str, Any]:
        d = asdict(self)
        d["channels"] = list(self.channels)
        d["bandpass"] = None if self.bandpass is None else [float(f) for f in self.bandpass]
        if self.representation == "video":
            d["representation_params"] = video_params(self.representation_params)
        else:
            d["representation_params"] = features.representation_key(self.representation, self.representation_params)
        return d


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:20]


class WindowCache:
    """Per-patient memmaps of window representations under ``root/windows/<key>/``."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()

    def entry_dir(self, index: RecordingIndex, patient: str, table: pd.DataFrame, prep: Preprocessing) -> Path:
        """Cache folder of one patient's windows.

        The key covers the dataset version, the windows, the preprocessing, the cache format and
        the size and modification time of every EDF read: the index of CHB-MIT comes from its
        summaries alone, so a replaced EDF file would otherwise reuse stale windows.
        """
        table_hash = hashlib.sha256(
            pd.util.hash_pandas_object(table[["recording", "start", "end"]], index=False).values.tobytes()
        ).hexdigest()[:20]
        root = Path(index.root or ".")
        files = {}
        for rec_id in sorted(table["recording"].unique()):
            path = root / recording_file(index, patient, rec_id)
            st = path.stat() if path.exists() else None
            files[rec_id] = [st.st_size, st.st_mtime_ns] if st else None
        key = _hash({"version": CACHE_VERSION, "index": index.content_hash(), "patient": patient,
                     "windows": table_hash, "prep": prep.key(), "files": files})
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in patient)[:40]
        return self.root / "windows" / f"{safe}-{key}"

    def get(
        self, index: RecordingIndex, patient: str, table: pd.DataFrame, prep: Preprocessing, progress=None
    ) -> tuple[np.ndarray, bool]:
        """Return ``(memmap, reused)`` of the patient's windows in ``table`` order, building it if needed."""
        table = table.reset_index(drop=True)
        entry = self.entry_dir(index, patient, table, prep)
        data = entry / "X.npy"
        if (entry / "COMPLETE").exists():
            return np.load(data, mmap_mode="r"), True
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=entry.parent))
        try:
            self._build(index, table, prep, tmp / "X.npy", progress)
            table[["recording", "start", "end"]].to_csv(tmp / "windows.csv", index=False)
            (tmp / "preprocessing.json").write_text(json.dumps(prep.key(), indent=1))
            (tmp / "COMPLETE").write_text("ok\n")
            try:
                tmp.rename(entry)  # atomic publish; a concurrent builder may have won the race
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return np.load(data, mmap_mode="r"), False

    def _build(self, index: RecordingIndex, table: pd.DataFrame, prep: Preprocessing, out: Path, progress) -> None:
        if prep.representation == "video":
            return _build_clips(index, table, prep, out, progress)
        from benchmark.edf import EdfReader

        n_times = int(round(float(table["end"].iloc[0] - table["start"].iloc[0]) * prep.sfreq))
        shape = features.output_shape(
            prep.representation, len(prep.channels), n_times, prep.sfreq, prep.representation_params
        )
        arr = np.lib.format.open_memmap(out, mode="w+", dtype=np.float32, shape=(len(table), *shape))
        root = Path(index.root or ".")
        for rec_id, rows in table.groupby("recording", sort=False):
            patient = rows["patient"].iloc[0]
            rec = index.recording(patient, rec_id)
            with EdfReader(root / rec.file, prep.channels) as reader:
                _fill(reader, rows, arr, prep, n_times)
            if progress is not None:
                progress.update(len(rows))
        arr.flush()
        del arr


def _build_clips(index: RecordingIndex, table: pd.DataFrame, prep: Preprocessing, out: Path, progress) -> None:
    """Video clips of one patient as uint8 ``(n, frames, 3, size, size)``; 4x smaller than float32,
    and :meth:`WindowSet.get` scales them to [0, 1]."""
    from benchmark.video_io import read_clips

    vp = video_params(prep.representation_params)
    clip_s = float(table["end"].iloc[0] - table["start"].iloc[0])
    shape = (len(table), vp["n_frames"], 3, vp["size"], vp["size"])
    arr = np.lib.format.open_memmap(out, mode="w+", dtype=np.uint8, shape=shape)
    root = Path(index.root or ".")
    boxes_all = None
    for rec_id, rows in table.groupby("recording", sort=False):
        patient = rows["patient"].iloc[0]
        boxes = None
        box_file = (index.patient(patient).info or {}).get("boxes")
        if box_file:
            if boxes_all is None:
                boxes_all = pd.read_csv(root / box_file, dtype={"video_id": str})
            boxes = boxes_all[boxes_all["video_id"] == rec_id]
            boxes = boxes if len(boxes) else None
        arr[rows.index.to_numpy()] = read_clips(
            root / recording_file(index, patient, rec_id), rows["start"].to_numpy(float), clip_s,
            vp["n_frames"], vp["size"], fps=vp["fps"], boxes=boxes,
        )
        if progress is not None:
            progress.update(len(rows))
    arr.flush()
    del arr


# Signal read on each side of a span before band-pass filtering, so that the filter's edge
# transients (a 0.1-Hz high-pass rings for seconds) fall outside the windows that are kept.
FILTER_PAD_S = 10.0


def bandpass_filter(x: np.ndarray, sfreq: float, band: tuple[float, float], order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth band-pass of ``x`` (channels, samples) along its last axis.

    A high edge at or above 0.99 x Nyquist leaves a high-pass only. Returns float32.
    """
    from scipy.signal import butter, sosfiltfilt

    low, high = float(band[0]), float(band[1])
    nyquist = sfreq / 2.0
    if high >= 0.99 * nyquist:
        sos = butter(order, low, btype="highpass", fs=sfreq, output="sos")
    else:
        sos = butter(order, [low, high], btype="bandpass", fs=sfreq, output="sos")
    return sosfiltfilt(sos, x, axis=-1).astype(np.float32)


def _fill(reader, rows: pd.DataFrame, arr: np.ndarray, prep: Preprocessing, n_times: int) -> None:
    """Read ``rows``' windows from one recording in bounded spans and write their representation."""
    from scipy.signal import resample_poly

    starts = rows["start"].to_numpy(float)
    ends = rows["end"].to_numpy(float)
    idx = rows.index.to_numpy()
    native = float(reader.sfreq)
    pad = FILTER_PAD_S if prep.bandpass is not None else 0.0
    total_s = reader.n_samples / native if pad else float("inf")
    i = 0
    while i < len(rows):
        j = i + 1
        while j < len(rows) and ends[j] - starts[i] <= MAX_READ_S:
            j += 1
        span_lo, span_hi = starts[i], ends[j - 1]
        read_lo, read_hi = max(0.0, span_lo - pad), min(total_s, span_hi + pad)
        raw = reader.read(read_lo, read_hi)
        if native != prep.sfreq:
            from fractions import Fraction

            frac = Fraction(prep.sfreq / native).limit_denominator(1000)
            raw = resample_poly(raw, frac.numerator, frac.denominator, axis=-1).astype(np.float32)
        if prep.bandpass is not None:
            raw = bandpass_filter(raw, prep.sfreq, prep.bandpass)
        offs = np.round((starts[i:j] - read_lo) * prep.sfreq).astype(np.int64)
        # Clip to the read span: rounding can put the last window one sample past it.
        offs = np.minimum(offs, max(0, raw.shape[-1] - n_times))
        batch = np.stack([raw[:, o : o + n_times] for o in offs]).astype(np.float32)
        arr[idx[i:j]] = features.compute(prep.representation, batch, prep.sfreq, prep.representation_params)
        i = j
