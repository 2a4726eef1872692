"""Windowing of split units and the on-disk window cache.

Units of a split are cut into fixed-length windows (``window_s`` long, every ``stride_s``); the
cache keeps, per patient, what the windows are cut from, computed once, streaming recording by
recording from the EDF files: each sample (raw) or interior STFT frame (spectrogram) of a stretch
of recording once, or one row per window for the other representations (layout and reading in
:mod:`benchmark.window_store`). The cache key is (dataset index hash, preprocessing config, window
table), so a second run with the same data and preprocessing reuses it, and anything that changes
the windows makes a new entry. Memory stays bounded by one read span, whatever the hours of EEG.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import shutil
import tempfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark import features
from benchmark.errors import DataError
from benchmark.index import RecordingIndex
from benchmark.splits import SplitSpec
from benchmark.tasks import BY_OVERLAP, BY_TYPE, get_task, window_labels
from benchmark.window_store import (
    DATA_FILE,
    EDGES_FILE,
    INDEX_FILE,
    INT16_RANGE,
    LAYOUT_FILE,
    LUT_FILE,
    LUT_FORMULAS,
    PART_FILES,
    WindowStore,
    layout_record,
    plan_layout,
)

log = logging.getLogger(__name__)

MAX_READ_S = 120.0  # longest stretch of EEG read from disk at once
NPY_HEADER_BYTES = 128  # what np.save writes before the data of a small-shaped array
# Bump when reading, resampling or windowing changes what a cache entry holds.
CACHE_VERSION = 2  # 2: each sample or STFT frame stored once (benchmark.window_store)


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


def default_window(task: str) -> WindowParams:
    """The window of ``task`` when none is given: its ``window_s``, stride = window (a video task's
    default is the clip of VIDEO_DEFAULTS, 8 frames at 4 fps; a video run's window is its method's
    clip, n_frames / fps seconds: :func:`video_window`)."""
    w = get_task(task).metadata.window_s
    return WindowParams(w, w)


#: Clips of the ``video`` representation: ``n_frames`` consecutive frames at ``fps`` frames per
#: second, ``size`` x ``size`` pixels. The two first fix the clip's length: ``n_frames / fps`` s.
VIDEO_DEFAULTS = {"n_frames": 8, "size": 64, "fps": 4.0}
#: How far a requested clip length (``--window``) may be from ``n_frames / fps``: a millisecond,
#: so that 8 frames at 15 fps may be asked for as ``--window 0.533``.
CLIP_TOLERANCE_S = 1e-3


def video_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Clip parameters of the ``video`` representation over their defaults; unknown names fail."""
    from benchmark.errors import BenchmarkError

    params = dict(params or {})
    bad = sorted(set(params) - set(VIDEO_DEFAULTS))
    if bad:
        raise BenchmarkError(f"representation 'video' has no parameter(s) {bad}; allowed: {sorted(VIDEO_DEFAULTS)}.")
    out = {**VIDEO_DEFAULTS, **params}
    out["n_frames"], out["size"], out["fps"] = int(out["n_frames"]), int(out["size"]), float(out["fps"])
    if out["n_frames"] < 1 or out["size"] < 1 or not 0 < out["fps"] < float("inf"):
        raise BenchmarkError(f"video clips need n_frames >= 1, size >= 1 and 0 < fps < inf, got {out}.")
    return out


def clip_seconds(params: dict[str, Any] | None) -> float:
    """Length in seconds of a clip of the ``video`` representation: ``n_frames / fps``."""
    vp = video_params(params)
    return vp["n_frames"] / vp["fps"]


def video_window(params: dict[str, Any] | None, window: WindowParams | None, method: str) -> WindowParams:
    """The window of a video run: clips of ``n_frames / fps`` seconds, every ``stride_s``.

    ``n_frames`` and ``fps`` (the method's clip) determine the clip length; a requested window
    (``--window``) must equal it within :data:`CLIP_TOLERANCE_S` and is then replaced by it, so
    that a run with ``--window`` and one without are the same run. Without a request, clips are
    cut back to back (stride = clip length). ``--stride`` is kept as given (overlapping clips).
    """
    from benchmark.errors import BenchmarkError

    vp = video_params(params)
    clip_s = vp["n_frames"] / vp["fps"]
    if window is None:
        return WindowParams(clip_s, clip_s)
    if abs(window.window_s - clip_s) > CLIP_TOLERANCE_S:
        raise BenchmarkError(
            f"--window {window.window_s:g} s does not match the clips of {method}: {vp['n_frames']} frames at "
            f"{vp['fps']:g} fps last {clip_s:g} s; drop --window (the clip sets it) or choose another budget."
        )
    return WindowParams(clip_s, window.stride_s, window.ictal_stride_s)


def video_clip_count(duration: float, wp: WindowParams) -> int:
    """Clips of a video of ``duration`` seconds: every whole window, back from its start at
    ``wp.stride_s``; a video shorter than one clip still gives one, whose frames past the video's end
    repeat its last frame (:func:`benchmark.video_io.read_clips`), so short seizures (Hou et al.'s
    shortest is 7.5 s, their clips 10 s) are not dropped."""
    if duration <= 0:
        return 0
    return max(1, int(np.floor((duration - wp.window_s) / wp.stride_s + 1e-6)) + 1)


def recording_file(index: RecordingIndex, patient: str, recording: str) -> str:
    """File of a recording, or of an unlabelled contextual video of a video dataset."""
    try:
        return index.recording(patient, recording).file
    except KeyError:
        for item in index.patient(patient).contextual:
            if item.video_id == recording:
                return item.file
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
            n = (
                video_clip_count(seg.end - seg.start, wp)
                if unit.kind == "video"
                else int(np.floor((seg.end - seg.start - wp.window_s) / wp.stride_s + eps)) + 1
            )
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
    sfreq: float  # the rate windows are cut at (features.target_sfreq: the representation's, else the dataset's)
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


class NpyWriter:
    """Write a C-ordered ``.npy`` file by rows with positioned writes instead of a memmap.

    Rows assigned with ``writer[rows] = values`` go straight to the file (``os.pwrite``), so the
    pages of a multi-gigabyte output never enter the process's resident set (a written memmap's
    dirty pages count in its RSS until written back) and no page faults are taken per 4 KiB.
    A running xxh3-128 checksum of the file (header included) is kept while the rows arrive in
    file order. Writing and checksum run in one background thread, overlapping the computation of
    the next rows; at most one assignment is in flight, so memory stays bounded. The writer keeps a
    reference to ``values`` until its write is done: callers must not modify them afterwards.
    """

    def __init__(self, path: Path, shape: tuple[int, ...], dtype):
        self.path = Path(path)
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": self.shape}
        head = io.BytesIO()
        np.lib.format.write_array_header_1_0(head, header)
        self._fh = open(self.path, "wb")
        self._fh.write(head.getvalue())
        self._fh.flush()
        self.header_bytes = self._fh.tell()
        self.nbytes = self.shape[0] * self.row_bytes
        self._fh.truncate(self.header_bytes + self.nbytes)  # right size from the start; holes read as 0
        self._hash = _new_hash()
        self._hash.update(head.getvalue())
        self._in_order = True
        self._next = 0  # first row not yet written in order
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="npy-writer")
        self._pending: Future | None = None

    def __len__(self) -> int:
        return self.shape[0]

    def __setitem__(self, rows, values: np.ndarray) -> None:
        rows = np.arange(self.shape[0])[rows] if not isinstance(rows, np.ndarray) else rows.astype(np.int64)
        values = np.ascontiguousarray(values, dtype=self.dtype).reshape(len(rows), *self.shape[1:])
        if len(rows) == 0:
            return
        self._wait()
        self._pending = self._pool.submit(self._write, rows, values)

    def write_block(self, first: int, values: np.ndarray) -> None:
        """Write ``values`` to ``[:, first : first + m]`` (along the second axis: one positioned write
        per index of the first; the file's checksum is then computed from the file at close)."""
        values = np.ascontiguousarray(values, dtype=self.dtype)
        if values.shape[0] != self.shape[0] or values.shape[2:] != self.shape[2:]:
            raise ValueError(f"a block of shape {values.shape} does not fit an array of shape {self.shape}")
        if values.shape[1] == 0:
            return
        self._wait()
        self._pending = self._pool.submit(self._write_block, int(first), values)

    def _write_block(self, first: int, values: np.ndarray) -> None:
        m = values.shape[1]
        if first < 0 or first + m > self.shape[1]:
            raise IndexError(f"columns {first}..{first + m - 1} outside an array of {self.shape[1]}")
        inner = self.row_bytes // self.shape[1]  # bytes of one [i, j] element block
        for i in range(self.shape[0]):
            buf = memoryview(values[i]).cast("B")
            offset = self.header_bytes + i * self.row_bytes + first * inner
            while len(buf):
                n = os.pwrite(self._fh.fileno(), buf, offset)
                buf, offset = buf[n:], offset + n
        self._in_order = False

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()  # re-raises a failed write here, in the caller's thread

    def _write(self, rows: np.ndarray, values: np.ndarray) -> None:
        # Split into runs of consecutive rows: each run is one positioned write.
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(rows)]):
            first = int(rows[lo])
            if first < 0 or first + (hi - lo) > self.shape[0]:
                raise IndexError(f"rows {first}..{first + hi - lo - 1} outside an array of {self.shape[0]} rows")
            buf = memoryview(values[lo:hi]).cast("B")
            offset = self.header_bytes + first * self.row_bytes
            while len(buf):
                n = os.pwrite(self._fh.fileno(), buf, offset)
                buf, offset = buf[n:], offset + n
            if self._in_order and first == self._next:
                self._hash.update(values[lo:hi])
                self._next = first + (hi - lo)
            else:
                self._in_order = False  # out of order: the checksum is computed from the file at close

    def close(self) -> str:
        """Finish pending writes and close the file; returns the xxh3-128 hex digest of the file."""
        try:
            self._wait()
        finally:
            self._pool.shutdown(wait=True)
            self._fh.close()
        if not self._in_order or self._next != self.shape[0]:
            return _hash_file(self.path)
        return self._hash.hexdigest()


def _new_hash():
    import xxhash  # imported here: the GPU image runs benchmark code without this package

    return xxhash.xxh3_128()


# Files are checksummed in chunks read into one reused buffer: streamed, never held whole.
HASH_CHUNK = 8 << 20


def _hash_file(path: Path) -> str:
    """xxh3-128 hex digest of every byte of ``path`` (tens of GB/s, bound by reading the file)."""
    h = _new_hash()
    buf = bytearray(HASH_CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def _crc_file(path: Path, offset: int, chunk: int = 16 << 20) -> int:
    """CRC-32 of the data bytes: the full checksum of entries written before xxh3-128 was used."""
    crc = 0
    with open(path, "rb") as fh:
        fh.seek(offset)
        while block := fh.read(chunk):
            crc = zlib.crc32(block, crc)
    return crc


# Integrity record of a cache entry (``X.json``): the file size, the .npy header, the xxh3-128
# checksum of every byte of X.npy (computed while building) and a blake2b digest of SAMPLE_BLOCKS
# blocks of SAMPLE_BYTES spread evenly over the file. ``WindowCache`` (``verify="full"``, the
# default) checks size, header and the full checksum the first time it opens an entry, so every
# byte a run reads has been checked in that run; xxh3 runs at memory bandwidth, so this costs
# about one extra read of the entry. The sampled digest (a few MiB read whatever the size) is a
# cheaper check for ``verify="sampled"``; it misses damage between its blocks. Entries written
# before xxh3 have a CRC-32 of their data bytes instead, checked the same way (about 4 GB/s).
SAMPLE_BLOCKS = 64
SAMPLE_BYTES = 64 << 10
INTEGRITY_FILE = "X.json"


def _npy_header(path: Path) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """``(shape, fortran_order, dtype, header_bytes)`` of a ``.npy`` file."""
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(fh)
        return tuple(shape), bool(fortran), dtype, fh.tell()


def _sampled_digest(path: Path, size: int) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        if size <= SAMPLE_BLOCKS * SAMPLE_BYTES:
            h.update(fh.read())
        else:
            for off in np.linspace(0, size - SAMPLE_BYTES, SAMPLE_BLOCKS).astype(np.int64):
                fh.seek(int(off))
                h.update(fh.read(SAMPLE_BYTES))
    return h.hexdigest()


def _integrity_record(path: Path, shape, dtype, header_bytes: int, digest: str) -> dict[str, Any]:
    """``digest``: the xxh3-128 hex digest of the whole file (``NpyWriter.close``, ``_hash_file``)."""
    size = path.stat().st_size
    return {
        "shape": [int(d) for d in shape],
        "dtype": np.dtype(dtype).str,
        "header_bytes": int(header_bytes),
        "file_bytes": int(size),
        "xxh3_128": str(digest),
        "sampled_blake2b": _sampled_digest(path, size),
        "sample": [SAMPLE_BLOCKS, SAMPLE_BYTES],
    }


def _part_record(path: Path) -> dict[str, Any]:
    """Size and checksums of one of an entry's other files (``windows.npy``, ``E.npy``, ...)."""
    size = path.stat().st_size
    return {"file_bytes": int(size), "xxh3_128": _hash_file(path), "sampled_blake2b": _sampled_digest(path, size)}


def _check_parts(entry: Path, parts: dict[str, Any], full: bool) -> str | None:
    """Why one of the entry's other files does not match its record, or ``None``."""
    for name in PART_FILES:
        rec = parts.get(name)
        path = entry / name
        if rec is None:
            if path.exists():
                return f"{name} is not in its integrity record"
            continue
        size = path.stat().st_size
        if size != rec["file_bytes"]:
            return f"{name} holds {size} bytes, {rec['file_bytes']} expected (truncated or overwritten)"
        if (_hash_file(path) != rec["xxh3_128"]) if full else (_sampled_digest(path, size) != rec["sampled_blake2b"]):
            return f"the checksum of {name} does not match (altered bytes)"
    return None


def check_entry(entry: Path, full: bool = False) -> str | None:
    """Why the cache entry at ``entry`` cannot be used, or ``None`` when it checks out.

    Checks the size and header of ``X.npy`` against the integrity record written when the entry
    was built, then with ``full`` the checksum of every byte (xxh3-128; CRC-32 of the data bytes
    for entries written before it), else the sampled digest only.
    """
    data, record_path = entry / "X.npy", entry / INTEGRITY_FILE
    if not record_path.exists():
        return f"it has no integrity record {INTEGRITY_FILE}"
    try:
        rec = json.loads(record_path.read_text())
        size = data.stat().st_size
        if size != rec["file_bytes"]:
            return f"X.npy holds {size} bytes, {rec['file_bytes']} expected (truncated or overwritten)"
        shape, fortran, dtype, header_bytes = _npy_header(data)
        if list(shape) != rec["shape"] or dtype.str != rec["dtype"] or fortran or header_bytes != rec["header_bytes"]:
            return f"X.npy header says {dtype.str}{tuple(shape)}, {rec['dtype']}{tuple(rec['shape'])} expected"
        if full:
            if "xxh3_128" in rec:
                if _hash_file(data) != rec["xxh3_128"]:
                    return "the checksum of every byte of X.npy (xxh3-128) does not match (altered bytes)"
            elif _crc_file(data, header_bytes) != rec["crc32"]:
                return "the checksum of every byte of X.npy (CRC-32) does not match (altered bytes)"
        elif (
            rec.get("sample") != [SAMPLE_BLOCKS, SAMPLE_BYTES] or _sampled_digest(data, size) != rec["sampled_blake2b"]
        ):
            return "the sampled checksum of X.npy does not match (altered bytes)"
        if "parts" not in rec:
            return "its integrity record predates the current entry layout"
        return _check_parts(entry, rec["parts"], full)
    except (OSError, ValueError, KeyError, TypeError) as err:
        return f"its files cannot be read ({type(err).__name__}: {err})"
    return None


def _file_state(entry: Path) -> tuple:
    """What changes when X.npy or its record is rewritten, replaced or touched."""
    out = []
    for name in ("X.npy", INTEGRITY_FILE, *PART_FILES):
        if name in (EDGES_FILE, LUT_FILE) and not (entry / name).exists():
            out.append(None)  # optional parts; one that appears later changes the state too
            continue
        st = (entry / name).stat()
        out.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(out)


class WindowCache:
    """Per-patient memmaps of window representations under ``root/windows/<key>/``.

    ``verify="full"`` (the default) checks every byte of an entry the first time this object
    opens it, and again only if its files changed since; a run uses one object, so each entry
    it reads is fully checked once per run. ``"sampled"`` checks size, header and sampled blocks.
    """

    def __init__(self, root: Path | None = None, verify: str = "full"):
        if verify not in ("sampled", "full"):
            raise ValueError(f"verify must be 'sampled' or 'full', got {verify!r}")
        self.root = Path(root) if root is not None else default_cache_dir()
        self.verify = verify
        self._verified: dict[Path, tuple] = {}  # entry -> file state when it was last checked

    def _check(self, entry: Path) -> str | None:
        try:
            state = _file_state(entry)
        except OSError:
            state = None
        if state is not None and self._verified.get(entry) == state:
            return None
        problem = check_entry(entry, full=self.verify == "full")
        if problem is None and state is not None:
            self._verified[entry] = state
        return problem

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
        key = _hash(
            {
                "version": CACHE_VERSION,
                "index": index.content_hash(),
                "patient": patient,
                "windows": table_hash,
                "prep": prep.key(),
                "files": files,
            }
        )
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in patient)[:40]
        return self.root / "windows" / f"{safe}-{key}"

    def get(
        self, index: RecordingIndex, patient: str, table: pd.DataFrame, prep: Preprocessing, progress=None
    ) -> tuple[WindowStore, bool]:
        """Return ``(windows, reused)`` of the patient's windows in ``table`` order, building them if needed.

        An existing entry is used only when it passes :func:`check_entry` (size, header and the
        checksum of every byte; sampled blocks only with ``verify="sampled"``), checked once per
        ``WindowCache`` object; a damaged one is moved aside and rebuilt with a warning.
        """
        table = table.reset_index(drop=True)
        entry = self.entry_dir(index, patient, table, prep)
        if (entry / "COMPLETE").exists():
            problem = self._check(entry)
            if problem is None:
                return WindowStore(entry), True
            log.warning("window cache entry %s is damaged: %s; rebuilding it", entry, problem)
            stale = entry.with_name(f".stale-{entry.name}-{os.getpid()}")
            try:
                entry.rename(stale)  # out of the way atomically, then removed
            except OSError:
                pass
            shutil.rmtree(stale, ignore_errors=True)
            self._verified.pop(entry, None)
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=entry.parent))
        try:
            record = self._build(index, table, prep, tmp, progress)
            # Written before COMPLETE: an entry marked complete always has its integrity record.
            (tmp / INTEGRITY_FILE).write_text(json.dumps(record, indent=1))
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
        return WindowStore(entry), False

    def _build(
        self, index: RecordingIndex, table: pd.DataFrame, prep: Preprocessing, out: Path, progress
    ) -> dict[str, Any]:
        """Write the entry's arrays into the folder ``out``; returns their integrity record."""
        lay = plan_layout(table, prep)
        extra: dict[str, Any] = {}
        if prep.representation == "video":
            _build_clips(index, table, prep, out / DATA_FILE, progress)
            shape, _, dtype, header_bytes = _npy_header(out / DATA_FILE)
            digest = _hash_file(out / DATA_FILE)
        elif lay.kind == "rows":
            shape, dtype, header_bytes, digest = _build_rows(index, table, prep, out / DATA_FILE, progress)
        else:
            shape, dtype, header_bytes, digest, extra = _build_strided(index, table, prep, lay, out, progress)
        np.save(out / INDEX_FILE, lay.index())
        (out / LAYOUT_FILE).write_text(json.dumps(layout_record(lay, prep, extra)))
        record = _integrity_record(out / DATA_FILE, shape, dtype, header_bytes, digest)
        record["parts"] = {name: _part_record(out / name) for name in PART_FILES if (out / name).exists()}
        return record


def _build_rows(
    index: RecordingIndex, table: pd.DataFrame, prep: Preprocessing, out: Path, progress
) -> tuple[tuple[int, ...], np.dtype, int, str]:
    """One stored row per window (representations whose windows share nothing)."""
    from benchmark.edf import EdfReader

    n_times = int(round(float(table["end"].iloc[0] - table["start"].iloc[0]) * prep.sfreq))
    shape = features.output_shape(
        prep.representation, len(prep.channels), n_times, prep.sfreq, prep.representation_params
    )
    writer = NpyWriter(out, (len(table), *shape), np.float32)
    try:
        root = Path(index.root or ".")
        for rec_id, rows in table.groupby("recording", sort=False):
            patient = rows["patient"].iloc[0]
            rec = index.recording(patient, rec_id)
            with EdfReader(root / rec.file, prep.channels) as reader:
                stats = recording_channel_stats(reader, prep) if _per_recording(prep) else None
                # _fill reads bounded spans of windows in time order; rows keep their table positions.
                _fill(reader, rows.sort_values("start", kind="stable"), writer, prep, n_times, stats)
            if progress is not None:
                progress.update(len(rows))
    finally:
        digest = writer.close()
    # No fsync: a file cut short by a crash fails the size/checksum test and is rebuilt.
    return writer.shape, writer.dtype, writer.header_bytes, digest


#: Microvolts per physical unit tried for a signal whose dimension the header does not name.
UNIT_CANDIDATES = (1.0, 1e3, 1e6, 1e-3)


class _NotLossless(Exception):
    """The signal is not the EDF's 16-bit integers under one scaling per channel: store float32."""


class _Digital:
    """EDF integers of a patient's signal, and the microvolt value each integer reads as.

    ``encode`` turns float32 microvolts into the int16 samples of the EDF (from the header's
    scaling) and records, per channel, the exact float32 each integer was read as; a value that
    disagrees with one recorded for the same integer (another scaling, a resampled or filtered
    signal) raises :class:`_NotLossless`. The table therefore reproduces the reader's numbers bit
    for bit.
    """

    def __init__(self, n_chans: int):
        self.bits = np.zeros((n_chans, INT16_RANGE), dtype=np.uint32)
        self.seen = np.zeros((n_chans, INT16_RANGE), dtype=bool)
        self.scale: np.ndarray | None = None

    def use(self, reader, prep: Preprocessing) -> None:
        """Take the scaling of ``reader``'s channels; refuse what is not stored losslessly as int16."""
        head = reader.header
        if reader.sfreq != prep.sfreq or head.bytes_per_sample != 2 or not head.scaling:
            raise _NotLossless("resampled, or not 16-bit EDF")
        scale = []
        for i in reader.indices:
            dmin, dmax, pmin, pmax, _ = head.scaling[i]
            gain = (pmax - pmin) / (dmax - dmin)
            scale.append((gain, pmin - dmin * gain, head.microvolts_per_unit(i) or 0.0))
        self.scale = np.asarray(scale, dtype=np.float64)
        self.units: np.ndarray | None = None

    def _units(self, sig: np.ndarray) -> np.ndarray:
        """Microvolts per header unit of each channel: the dimension's, else the one under which
        the samples fall on the integers (the reader's conversion of an unnamed unit)."""
        out = []
        for c, (gain, offset, known) in enumerate(self.scale):
            for unit in ((known,) if known else ()) + UNIT_CANDIDATES:
                r = (sig[c].astype(np.float64) - offset * unit) / (gain * unit)
                if np.all(np.abs(r - np.rint(r)) < 0.01):
                    out.append(unit)
                    break
            else:
                raise _NotLossless("samples that are not the EDF's integers")
        return np.asarray(out)

    def encode(self, sig: np.ndarray) -> np.ndarray:
        """``(n_chans, n)`` int16 EDF samples of ``sig`` ``(n_chans, n)`` µV."""
        if self.units is None:
            self.units = self._units(sig)
        gain, offset = (self.scale[:, :1] * self.units[:, None]), (self.scale[:, 1:2] * self.units[:, None])
        d = np.rint((sig.astype(np.float64) - offset) / gain)
        if d.size and (d.min() < -32768 or d.max() > 32767):
            raise _NotLossless("samples outside the 16-bit range")
        flat = d.astype(np.int64) + 32768 + (np.arange(len(sig)) * INT16_RANGE)[:, None]
        bits = np.ascontiguousarray(sig, dtype=np.float32).view(np.uint32)
        table, seen = self.bits.reshape(-1), self.seen.reshape(-1)
        new = ~seen[flat]
        table[flat[new]] = bits[new]
        seen[flat] = True
        if not np.array_equal(table[flat], bits):
            raise _NotLossless("an integer reads as two values")
        return d.astype(np.int16)

    def save(self, path: Path) -> dict[str, Any]:
        """Describe each channel's integers from its lowest to its highest seen: by a formula of the
        EDF scaling when one gives every recorded value exactly, else as a table written to ``path``."""
        rec: dict[str, Any] = {"dlo": [], "dhi": []}
        for c in range(len(self.bits)):
            idx = np.flatnonzero(self.seen[c])
            lo, hi = (int(idx[0]), int(idx[-1]) + 1) if len(idx) else (INT16_RANGE // 2, INT16_RANGE // 2)
            rec["dlo"].append(lo - INT16_RANGE // 2)
            rec["dhi"].append(hi - INT16_RANGE // 2)
        if self.units is None:  # nothing was encoded
            self.units = np.ones(len(self.bits))
        formulas = [self._formula(c) for c in range(len(self.bits))]
        if all(f is not None for f in formulas):
            rec["formula"] = formulas
            return rec
        parts = [
            self.bits[c, lo + 32768 : hi + 32768].view(np.float32)
            for c, (lo, hi) in enumerate(zip(rec["dlo"], rec["dhi"]))
        ]
        np.save(path, np.concatenate(parts) if parts else np.zeros(0, np.float32))
        return rec

    def _formula(self, c: int) -> list | None:
        """``[name, gain, offset]`` of a :data:`LUT_FORMULAS` entry that gives channel ``c``'s recorded
        values bit for bit, or ``None``."""
        idx = np.flatnonzero(self.seen[c])
        d = (idx - INT16_RANGE // 2).astype(np.float64)
        args = (float(self.scale[c, 0]), float(self.scale[c, 1]), float(self.units[c]))
        for name, f in LUT_FORMULAS.items():
            if np.array_equal(f(d.copy(), *args).astype(np.float32).view(np.uint32), self.bits[c, idx]):
                return [name, *args]
        return None


def stored_dtype(prep: Preprocessing, native_sfreq: float, bdf: bool = False) -> np.dtype:
    """dtype of a ``samples`` entry's ``X.npy``: the EDF's int16 samples when windows are cut from
    them unchanged (no resampling, band-pass or recording z-score), else float32."""
    unchanged = prep.sfreq == native_sfreq and prep.bandpass is None and not _per_recording(prep)
    return np.dtype(np.int16 if prep.representation == "raw" and unchanged and not bdf else np.float32)


def entry_bytes(table: pd.DataFrame, prep: Preprocessing, native_sfreq: float, bdf: bool = False) -> tuple[int, str]:
    """Bytes of the arrays of the cache entry of ``table``'s windows (one patient) and its layout's
    kind, from the window table alone: what :meth:`WindowCache.get` writes, a per-channel table of
    integer values aside (a few numbers per channel when the EDF scaling gives them, the rule)."""
    lay = plan_layout(table.reset_index(drop=True), prep)
    dtype = stored_dtype(prep, native_sfreq, bdf) if lay.kind == "samples" else np.float32
    files = 3 if lay.kind == "frames" and len(lay.frames.edges) else 2  # X, windows (and E)
    return lay.nbytes(dtype) + NPY_HEADER_BYTES * files, lay.kind


def _build_strided(
    index: RecordingIndex, table: pd.DataFrame, prep: Preprocessing, lay, out: Path, progress
) -> tuple[tuple[int, ...], np.dtype, int, str, dict[str, Any]]:
    """Write a ``samples`` or ``frames`` entry; int16 samples when lossless, else float32."""
    # Whether the samples are the EDF's integers is checked while reading (rate, 16 bits, scaling).
    if lay.kind == "samples" and stored_dtype(prep, prep.sfreq) == np.int16:
        try:
            return _write_strided(index, table, prep, lay, out, progress, _Digital(len(prep.channels)))
        except _NotLossless as why:
            log.info("window cache stores float32 samples (%s)", why)
            for name in (DATA_FILE, EDGES_FILE, LUT_FILE):
                (out / name).unlink(missing_ok=True)
    return _write_strided(index, table, prep, lay, out, progress, None)


def _write_strided(index, table, prep, lay, out: Path, progress, digital: _Digital | None):
    from benchmark.edf import EdfReader

    dtype = np.int16 if digital is not None else np.float32
    writer = NpyWriter(out / DATA_FILE, lay.data_shape, dtype)
    edges = None
    if lay.kind == "frames" and len(lay.frames.edges):
        n_edges = len(lay.frames.edges)
        edges = NpyWriter(
            out / EDGES_FILE, (lay.n_windows, lay.window_shape[0], n_edges, lay.frames.n_freqs), np.float32
        )
    root = Path(index.root or ".")
    patient = table["patient"].iloc[0]
    try:
        next_edge = 0
        for rec_id in dict.fromkeys(span.recording for span in lay.spans):
            with EdfReader(root / index.recording(patient, rec_id).file, prep.channels) as reader:
                spans = [sp for sp in lay.spans if sp.recording == rec_id]
                _check_within(reader, spans, lay.n_times, prep)
                if digital is not None:
                    digital.use(reader, prep)
                stats = recording_channel_stats(reader, prep) if _per_recording(prep) else None
                for span in spans:
                    next_edge = _write_span(reader, span, lay, prep, stats, writer, edges, next_edge, digital)
                    if progress is not None:
                        progress.update(len(span.rows))
    finally:
        digest = writer.close()
        if edges is not None:
            edges.close()
    extra = {"lut": digital.save(out / LUT_FILE)} if digital is not None else {}
    return writer.shape, writer.dtype, writer.header_bytes, digest, extra


def _check_within(reader, spans, n_times: int, prep: Preprocessing) -> None:
    """Refuse windows that run past the recording's end (an index that says a recording is longer
    than its EDF file), rather than inventing samples for them."""
    n_total = reader.n_samples * prep.sfreq / float(reader.sfreq)
    end = max(int(sp.starts.max()) + n_times for sp in spans)
    if end > n_total + 1:  # one sample of rounding
        raise DataError(
            f"{reader.path}: windows reach {end / prep.sfreq:g} s but the file holds {reader.duration:g} s; "
            "the dataset index says the recording is longer than its EDF file: re-download the file or fix the index"
        )


def _on_common_grid(t: float, native: float, target: float) -> float:
    """``t`` rounded down to an instant that is a sample at both rates (integer rates), so that a
    resampled read puts its samples at the same times whichever block it starts."""
    if float(native).is_integer() and float(target).is_integer():
        period = 1.0 / math.gcd(int(native), int(target))
        return math.floor(t / period + 1e-9) * period
    return t


def _write_span(reader, span, lay, prep, stats, writer, edges, next_edge: int, digital) -> int:
    """Write one span's units (and its windows' edge frames), reading bounded groups of windows."""
    written = span.lo  # first unit of the span not written yet
    length = lay.units_per_window
    n = len(span.rows)
    i = 0
    while i < n:
        j = i + 1
        while j < n and span.starts[j] + lay.n_times - span.starts[i] <= MAX_READ_S * prep.sfreq:
            j += 1
        lo, hi = int(span.starts[i]), int(span.starts[i:j].max()) + lay.n_times
        upto = int((span.first[i:j] + length).max())
        if lay.kind == "samples":
            a = max(written, lo)
            if upto > a:
                sig = _read_samples(reader, a, upto, prep, stats)
                writer.write_block(a - span.lo + span.base, sig if digital is None else digital.encode(sig))
        elif lay.frames.signal:
            a = max(written, int(span.first[i]))
            if upto > a:
                _write_signal_frames(reader, span, lay, prep, stats, writer, a, upto)
        else:
            sig = _read_samples(reader, lo, hi, prep, stats)
            a = max(written, int(span.first[i]))
            if upto > a:
                hop, pad = lay.frames.hop, lay.frames.win // 2
                first = span.phase + np.arange(a, upto) * hop - pad - lo
                vals = features.spectrogram_frames(sig, first, prep.sfreq, prep.representation_params)
                writer.write_block(a - span.lo + span.base, vals)
            offs = span.starts[i:j] - lo
            edges[np.arange(next_edge, next_edge + j - i)] = features.spectrogram_edge_frames(
                sig, offs, lay.n_times, prep.sfreq, prep.representation_params
            )
            next_edge += j - i
        written = max(written, upto)
        i = j
    return next_edge


def _write_signal_frames(reader, span, lay, prep: Preprocessing, stats, writer, a: int, b: int) -> None:
    """Frames ``[a, b)`` of the span's hop grid from the EEG around them (``edges="signal"``): the
    recording's own STFT, reflected only at the recording's ends."""
    hop, win = lay.frames.hop, lay.frames.win
    first = span.phase + np.arange(a, b) * hop - win // 2
    lo, hi = int(first[0]), int(first[-1]) + win
    n_total = round(reader.n_samples * prep.sfreq / float(reader.sfreq))
    inside_lo, inside_hi = max(0, lo), min(n_total, hi)
    sig = _read_samples(reader, inside_lo, inside_hi, prep, stats)
    sig = np.pad(sig, ((0, 0), (inside_lo - lo, hi - inside_hi)), mode="reflect")
    vals = features.spectrogram_frames(sig, first - lo, prep.sfreq, prep.representation_params)
    writer.write_block(a - span.lo + span.base, vals)


def _read_samples(reader, a: int, b: int, prep: Preprocessing, stats) -> np.ndarray:
    """Samples ``[a, b)`` (at ``prep.sfreq``) of the recording, resampled, band-passed and z-scored
    by ``stats`` as windows are; the filters settle in padding read on each side."""
    native = float(reader.sfreq)
    pad = _read_pad(native, prep)
    total_s = reader.n_samples / native
    lo_s, hi_s = a / prep.sfreq, b / prep.sfreq
    read_lo, read_hi = max(0.0, lo_s - pad), min(total_s, hi_s + pad)
    if native != prep.sfreq:
        read_lo = _on_common_grid(read_lo, native, prep.sfreq)
    raw = _read_signal(reader, read_lo, read_hi, prep)
    if stats is not None:
        raw = features.zscore_channels(raw, *stats)
    off = int(round((lo_s - read_lo) * prep.sfreq))
    out = raw[:, off : off + (b - a)]
    if out.shape[-1] < b - a:  # rounding at the recording's end: repeat its last sample
        out = np.pad(out, ((0, 0), (0, b - a - out.shape[-1])), mode="edge")
    return np.ascontiguousarray(out, dtype=np.float32)


def _build_clips(index: RecordingIndex, table: pd.DataFrame, prep: Preprocessing, out: Path, progress) -> None:
    """Video clips of one patient as uint8 ``(n, frames, 3, size, size)``; 4x smaller than float32,
    and :meth:`WindowSet.get` scales them to [0, 1]."""
    from benchmark.errors import BenchmarkError
    from benchmark.video_io import read_clips

    vp = video_params(prep.representation_params)
    clip_s = float(table["end"].iloc[0] - table["start"].iloc[0])
    if abs(clip_s - vp["n_frames"] / vp["fps"]) > CLIP_TOLERANCE_S:  # the rule of video_window
        raise BenchmarkError(
            f"video windows of {clip_s:g} s cannot hold clips of {vp['n_frames']} frames at "
            f"{vp['fps']:g} fps ({vp['n_frames'] / vp['fps']:g} s); cut them with video_window()."
        )
    shape = (len(table), vp["n_frames"], 3, vp["size"], vp["size"])
    arr = np.lib.format.open_memmap(out, mode="w+", dtype=np.uint8, shape=shape)
    root = Path(index.root or ".")
    boxes_all = None
    for rec_id, rows in table.groupby("recording", sort=False):
        patient = rows["patient"].iloc[0]
        boxes = None
        box_file = index.patient(patient).boxes
        if box_file:
            if boxes_all is None:
                boxes_all = pd.read_csv(root / box_file, dtype={"video_id": str})
            boxes = boxes_all[boxes_all["video_id"] == rec_id]
            boxes = boxes if len(boxes) else None
        arr[rows.index.to_numpy()] = read_clips(
            root / recording_file(index, patient, rec_id),
            rows["start"].to_numpy(float),
            n_frames=vp["n_frames"],
            size=vp["size"],
            fps=vp["fps"],
            boxes=boxes,
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


def _per_recording(prep: Preprocessing) -> bool:
    """Whether ``prep`` z-scores each channel over its whole recording (raw ``zscore="recording"``)."""
    return (
        prep.representation == "raw"
        and features.zscore_mode(prep.representation_params.get("zscore", False)) == "recording"
    )


def _read_pad(native: float, prep: Preprocessing) -> float:
    """Seconds read beyond each side of a span: filters (the band-pass, and the anti-aliasing filter
    of resampling) then settle before the windows, which equal those of filtering the whole recording."""
    return FILTER_PAD_S if prep.bandpass is not None or native != prep.sfreq else 0.0


def _read_signal(reader, read_lo: float, read_hi: float, prep: Preprocessing) -> np.ndarray:
    """``[read_lo, read_hi)`` seconds of the recording, resampled to ``prep.sfreq`` and band-passed."""
    from scipy.signal import resample_poly

    raw = reader.read(read_lo, read_hi)
    native = float(reader.sfreq)
    if native != prep.sfreq:
        from fractions import Fraction

        frac = Fraction(prep.sfreq / native).limit_denominator(1000)
        raw = resample_poly(raw, frac.numerator, frac.denominator, axis=-1).astype(np.float32)
    if prep.bandpass is not None:
        raw = bandpass_filter(raw, prep.sfreq, prep.bandpass)
    return raw


def recording_channel_stats(reader, prep: Preprocessing) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each channel over the whole recording, after resampling and
    band-pass filtering as the windows are, read in bounded spans (the memory of one span).

    The statistics of ``zscore="recording"`` (DistilCLIP-EEG z-scores each channel's band-passed
    signal). They use the recording's EEG only, never a label, and are the same whichever of its
    windows a fold trains or tests on.
    """
    native = float(reader.sfreq)
    total_s = reader.n_samples / native
    pad = _read_pad(native, prep)
    n_ch = len(prep.channels)
    total, total_sq, count = np.zeros(n_ch), np.zeros(n_ch), 0
    lo = 0.0
    while lo < total_s:
        hi = min(total_s, lo + MAX_READ_S)
        read_lo, read_hi = max(0.0, lo - pad), min(total_s, hi + pad)
        sig = _read_signal(reader, read_lo, read_hi, prep)
        a = int(round((lo - read_lo) * prep.sfreq))
        b = min(sig.shape[-1], a + int(round((hi - lo) * prep.sfreq)))
        part = sig[:, a:b].astype(np.float64)
        total += part.sum(axis=1)
        total_sq += np.square(part).sum(axis=1)
        count += part.shape[-1]
        lo = hi
    if count == 0:
        return np.zeros(n_ch, np.float32), np.zeros(n_ch, np.float32)
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    return mean.astype(np.float32), std.astype(np.float32)


def _fill(
    reader,
    rows: pd.DataFrame,
    arr: np.ndarray,
    prep: Preprocessing,
    n_times: int,
    stats: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Read ``rows``' windows from one recording in bounded spans and write their representation.

    ``stats``: per-channel (mean, std) of the recording, applied to each span before windowing.
    """
    params = prep.representation_params
    if stats is not None:
        params = {**params, "zscore": False}  # the span is already z-scored by the recording's statistics
    starts = rows["start"].to_numpy(float)
    ends = rows["end"].to_numpy(float)
    idx = rows.index.to_numpy()
    native = float(reader.sfreq)
    pad = _read_pad(native, prep)
    total_s = reader.n_samples / native if pad else float("inf")
    i = 0
    while i < len(rows):
        j = i + 1
        while j < len(rows) and ends[j] - starts[i] <= MAX_READ_S:
            j += 1
        span_lo, span_hi = starts[i], ends[j - 1]
        read_lo, read_hi = max(0.0, span_lo - pad), min(total_s, span_hi + pad)
        raw = _read_signal(reader, read_lo, read_hi, prep)
        if stats is not None:
            raw = features.zscore_channels(raw, *stats)
        offs = np.round((starts[i:j] - read_lo) * prep.sfreq).astype(np.int64)
        # Clip to the read span: rounding can put the last window one sample past it.
        offs = np.minimum(offs, max(0, raw.shape[-1] - n_times))
        arr[idx[i:j]] = features.compute_span(prep.representation, raw, offs, n_times, prep.sfreq, params)
        i = j
