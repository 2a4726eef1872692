"""Layout of a window-cache entry: each sample or STFT frame stored once, windows as strided views.

Overlapping windows share most of their data: 10-s windows every second hold each sample ten
times. An entry therefore stores, per *span* (a stretch of one recording covered by windows that
overlap or touch), the continuous sequence the windows are cut from, and each window is a view of
``window_shape`` rows into it. The layout is a pure function of the entry's window table and
preprocessing (:func:`plan_layout`), so ``plan`` predicts an entry's bytes without reading EEG.

Kinds of entry (``layout.json`` says which):

``samples`` (raw windows)
    ``X.npy``: the signal ``(n_chans, n_samples)``, channel-major so that a window's samples of a
    channel are one contiguous run. Without resampling, band-pass filtering or z-scoring by
    recording statistics the samples are the EDF's own 16-bit integers, stored as int16 with, per
    channel, the formula (:data:`LUT_FORMULAS`, in ``layout.json``) or else the table
    (``lut.npy``) that gives the reader's float32 value of each integer bit for bit: lossless with
    respect to the EDF, no bigger than its samples. Otherwise float32. Per-window z-scoring is
    applied when windows are read.
``frames`` (spectrogram windows)
    ``X.npy``: the sequence of interior STFT frames ``(n_chans, n_frames, n_freqs)`` on the span's
    hop grid, float32; ``E.npy``: each window's head and tail frames, which reach into the
    window's own reflected padding and so belong to it alone (none with ``edges="signal"``,
    whose frames are all the recording's).
``rows`` (band power, video clips, spectrogram windows too short to share frames)
    ``X.npy``: one row per window, as computed.

``windows.npy`` holds, per window in table order, its first row of ``X`` (and for ``frames`` its
row of ``E``). :class:`WindowStore` reads an entry as an array of windows; :func:`copy_windows`
writes the private copy of some windows an isolated fold gets.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from benchmark.features import FrameLayout

LAYOUT_FILE = "layout.json"
INDEX_FILE = "windows.npy"
EDGES_FILE = "E.npy"
LUT_FILE = "lut.npy"
DATA_FILE = "X.npy"
#: Files of an entry besides ``X.npy``, in the order their checksums are recorded.
PART_FILES = (INDEX_FILE, EDGES_FILE, LUT_FILE, LAYOUT_FILE)
#: Everything :class:`WindowStore` reads (an isolated fold gets these and nothing else).
WINDOW_FILES = (DATA_FILE, *PART_FILES)
INT16_RANGE = 1 << 16
#: Samples of a channel decoded together when EDF integers are first read (2 MB of float32 for 18
#: channels): reads after the first copy float32 from memory, as fast as a float32 cache.
DECODE_CHUNK = 1 << 15
#: Samples decoded per step within a chunk: the float64 intermediate (1.2 MB for 18 channels) stays
#: in the CPU cache, which decodes about 1.5x faster than a chunk at once.
DECODE_STEP = 1 << 13
#: Megabytes of decoded signal one process keeps (default: an eighth of the machine's memory, at
#: most 4 GiB; 0 decodes every window again at each read).
DECODED_MB_ENV = "SEIZURE_BENCH_DECODED_MB"
#: How a channel's EDF integer ``d`` becomes microvolts: float64 arithmetic, in place on ``d`` (a
#: float64 array), then rounded to float32, given the header's scaling ``gain`` and ``offset`` (its
#: physical unit per integer, and at 0) and the microvolts per physical ``unit``. An entry names, per
#: channel, the first that gives every value the reader gave bit for bit; ``lut.npy`` (a table of
#: values) is written only when none does.
LUT_FORMULAS = {
    # First because it is one multiplication, read straight into the float32 window (symmetric ranges
    # in microvolts, the rule, have offset 0).
    "scale": lambda d, gain, offset, unit: np.multiply(d, gain * unit, out=d),
    "microvolts": lambda d, gain, offset, unit: np.add(np.multiply(d, gain * unit, out=d), offset * unit, out=d),
    "unit-last": lambda d, gain, offset, unit: np.multiply(
        np.add(np.multiply(d, gain, out=d), offset, out=d), unit, out=d
    ),
    "via-volts": lambda d, gain, offset, unit: np.multiply(
        np.multiply(np.add(np.multiply(d, gain, out=d), offset, out=d), unit * 1e-6, out=d), 1e6, out=d
    ),
}


@dataclass
class Span:
    """One stretch of a recording stored contiguously: units ``[lo, hi)`` at ``X`` rows from ``base``.

    A unit is a sample (``samples``) or a frame of the hop grid whose frame 0 is centred on sample
    ``phase`` (``frames``). ``rows`` are the entry's windows in it, by start; ``first`` the first
    unit each of them stores.
    """

    recording: str
    rows: np.ndarray
    starts: np.ndarray  # first sample of each window in the recording, at the cache's rate
    first: np.ndarray
    lo: int
    hi: int
    base: int = 0
    phase: int = 0


@dataclass
class EntryLayout:
    """Where each window of an entry lies; see the module docstring."""

    kind: str
    n_windows: int
    n_times: int
    window_shape: tuple[int, ...]
    unit_shape: tuple[int, ...]
    spans: list[Span] = field(default_factory=list)
    frames: FrameLayout | None = None

    @property
    def n_units(self) -> int:
        """Samples or frames of ``X`` per channel (its rows for ``rows``)."""
        if self.kind == "rows":
            return self.n_windows
        return int(sum(s.hi - s.lo for s in self.spans))

    @property
    def data_shape(self) -> tuple[int, ...]:
        """Shape of ``X``: channel-major ``(n_chans, n_units, ...)`` for ``samples`` and ``frames``
        (a window's part of each channel is one contiguous run), ``(n_windows, ...)`` for ``rows``."""
        if self.kind == "rows":
            return (self.n_windows, *self.unit_shape)
        return (self.unit_shape[0], self.n_units, *self.unit_shape[1:])

    @property
    def units_per_window(self) -> int:
        if self.kind == "samples":
            return self.n_times
        if self.kind == "frames":
            return len(self.frames.interior)
        return 1

    @property
    def index_columns(self) -> int:
        """Columns of ``windows.npy``: the first ``X`` row, and for ``frames`` the ``E`` row."""
        return 2 if self.kind == "frames" and len(self.frames.edges) else 1

    def index(self) -> np.ndarray:
        """``(n_windows, index_columns)``: each window's first ``X`` row (and ``E`` row), as int32
        while ``X`` is small enough, so the index adds 4 bytes per window."""
        dtype = np.int32 if max(self.n_units, self.n_windows) < 2**31 else np.int64
        out = np.zeros((self.n_windows, self.index_columns), dtype=dtype)
        if self.kind == "rows":
            out[:, 0] = np.arange(self.n_windows)
            return out
        edge = 0
        for span in self.spans:
            out[span.rows, 0] = span.base + (span.first - span.lo)
            if self.index_columns == 2:
                out[span.rows, 1] = edge + np.arange(len(span.rows))
                edge += len(span.rows)
        return out

    def nbytes(self, dtype) -> int:
        """Bytes of the entry's arrays with ``X`` of ``dtype`` (headers and ``lut.npy`` left out)."""
        unit = int(np.prod(self.unit_shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        wide = max(self.n_units, self.n_windows) >= 2**31
        total = self.n_units * unit + self.n_windows * self.index_columns * (8 if wide else 4)
        if self.kind == "frames":
            f = self.frames
            total += self.n_windows * self.window_shape[0] * len(f.edges) * f.n_freqs * 4
        return int(total)


def plan_layout(table: pd.DataFrame, prep) -> EntryLayout:
    """The layout of the entry holding ``table``'s windows (one patient, in table order) under
    ``prep`` (:class:`benchmark.windows.Preprocessing`)."""
    from benchmark import features  # scipy: not for fold workers, which only read entries

    n_chans = len(prep.channels)
    n = len(table)
    if n == 0:
        raise ValueError("an entry holds at least one window")
    n_times = int(round(float(table["end"].iloc[0] - table["start"].iloc[0]) * prep.sfreq))
    if prep.representation == "video":
        return EntryLayout("rows", n, n_times, (), ())
    shape = features.output_shape(prep.representation, n_chans, n_times, prep.sfreq, prep.representation_params)
    if prep.representation == "raw":
        lay = EntryLayout("samples", n, n_times, shape, (n_chans,))
    elif prep.representation == "spectrogram":
        frames = features.frame_layout(n_times, prep.sfreq, prep.representation_params)
        if not frames.shareable:
            return EntryLayout("rows", n, n_times, shape, shape)
        lay = EntryLayout("frames", n, n_times, shape, (n_chans, frames.n_freqs), frames=frames)
    else:
        return EntryLayout("rows", n, n_times, shape, shape)
    starts = np.rint(table["start"].to_numpy(float) * prep.sfreq).astype(np.int64)
    recordings = table["recording"].to_numpy()
    base = 0
    for rec in pd.unique(recordings):
        rows = np.flatnonzero(recordings == rec)
        for span in _spans(lay, str(rec), rows, starts[rows]):
            span.base = base
            base += span.hi - span.lo
            lay.spans.append(span)
    return lay


def _spans(lay: EntryLayout, rec: str, rows: np.ndarray, starts: np.ndarray) -> list[Span]:
    """Spans of one recording's windows: windows whose stored units overlap or touch share one."""
    if lay.kind == "samples":
        groups = [(0, rows, starts, starts)]
    else:
        hop = lay.frames.hop
        phases = starts % hop
        groups = []
        for p in np.unique(phases):
            mine = phases == p
            groups.append((int(p), rows[mine], starts[mine], starts[mine] // hop + int(lay.frames.interior[0])))
    out = []
    length = lay.units_per_window
    for phase, g_rows, g_starts, first in groups:
        order = np.argsort(first, kind="stable")
        g_rows, g_starts, first = g_rows[order], g_starts[order], first[order]
        # A new span where a window's first unit lies past everything stored so far.
        reach = np.maximum.accumulate(first + length)
        breaks = np.flatnonzero(first[1:] > reach[:-1]) + 1
        for a, b in zip(np.r_[0, breaks], np.r_[breaks, len(first)]):
            out.append(Span(rec, g_rows[a:b], g_starts[a:b], first[a:b], int(first[a]), int(reach[b - 1]), phase=phase))
    return out


def layout_record(lay: EntryLayout, prep, extra: dict[str, Any]) -> dict[str, Any]:
    """The ``layout.json`` of an entry: what :class:`WindowStore` needs to cut windows from it."""
    rec: dict[str, Any] = {
        "kind": lay.kind,
        "n_windows": lay.n_windows,
        "window_shape": [int(d) for d in lay.window_shape],
        "units_per_window": lay.units_per_window,
        **extra,
    }
    if lay.kind == "frames":
        rec["interior"] = [int(i) for i in lay.frames.interior]
        rec["edges"] = [int(i) for i in lay.frames.edges]
    if lay.kind == "samples":
        from benchmark.features import zscore_mode

        rec["zscore"] = zscore_mode(prep.representation_params.get("zscore", False))
        rec["sfreq"] = float(prep.sfreq)
    return rec


class WindowStore:
    """The windows of one cache entry as a read-only array ``(n_windows, *window_shape)``.

    Indexing with an int, a slice or an array of ints returns the windows as float32 (video clips
    of a ``rows`` entry keep their uint8 pixels, scaled by :class:`~benchmark.windowset.WindowSet`).
    """

    def __init__(self, entry: str | Path):
        self.path = Path(entry)
        self.layout = json.loads((self.path / LAYOUT_FILE).read_text())
        self.kind = self.layout["kind"]
        self.X = np.load(self.path / DATA_FILE, mmap_mode="r")
        self._x = self.X.view(np.ndarray)  # slices of a plain view skip np.memmap's per-slice Python
        self.index = np.load(self.path / INDEX_FILE).astype(np.int64, copy=False)
        self.index.setflags(write=False)  # read-only like the memmaps: windows cannot be re-pointed
        self.E = np.load(self.path / EDGES_FILE, mmap_mode="r") if (self.path / EDGES_FILE).exists() else None
        self._lut = self._decoder = None
        rec = self.layout.get("lut")
        if rec and "formula" in rec:
            self._decoder = _Decoder(rec["formula"])
        elif rec:
            self._lut = _value_table(rec, self.path / LUT_FILE)
        self._decoded: _DecodedSignal | None = None
        if self.kind == "samples" and self.X.dtype != np.float32:
            # A function of the decoding tables alone: a bound method would make a reference cycle,
            # keeping the decoded memory until the garbage collector runs.
            self._decoded = _DecodedSignal(self._x, functools.partial(_decode_block, self._decoder, self._lut))
        n = int(self.layout["n_windows"])
        self.shape = (n, *self.layout["window_shape"]) if self.kind != "rows" else tuple(self.X.shape)
        self.dtype = self.X.dtype if self.kind == "rows" else np.dtype(np.float32)
        self.ndim = len(self.shape)
        self._check_index()

    def _check_index(self) -> None:
        """Windows are read through views that do not check bounds (:func:`_window_view`): an index
        pointing before or past the entry's signal is refused when the entry is opened."""
        if self.kind == "rows" or not len(self.index):
            return
        first, length, units = self.index[:, 0], int(self.layout["units_per_window"]), self.X.shape[1]
        bad = int(first.min()) < 0 or int(first.max()) + length > units
        if self.kind == "frames" and bool(self.layout.get("edges")) != (self.E is not None):
            bad = True  # edge frames named but absent (or present but not named)
        elif self.E is not None:
            bad = bad or int(self.index[:, 1].min()) < 0 or int(self.index[:, 1].max()) >= len(self.E)
        if bad or len(self.index) != self.shape[0]:
            raise ValueError(
                f"cache entry {self.path} is inconsistent: its window index does not fit its arrays; "
                "delete the entry and run again to rebuild it"
            )

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def filename(self) -> str:
        """The entry's folder (what a fold is told to open)."""
        return str(self.path)

    def arrays(self) -> list[np.ndarray]:
        """The arrays the windows are cut from (what a fingerprint of the entry must cover)."""
        out = [self.X, self.index]
        out += [a for a in (self.E, None if self._lut is None else self._lut[0]) if a is not None]
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self[np.arange(len(self))]
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, key) -> np.ndarray:
        if self.kind == "rows":
            return np.asarray(self.X[key])
        if isinstance(key, (int, np.integer)):
            return self._windows(np.array([key]))[0]
        rows = np.arange(len(self))[key] if isinstance(key, slice) else np.asarray(key, dtype=np.int64)
        if rows.ndim != 1:
            raise IndexError("windows are indexed by an int, a slice or a 1-d array of ints")
        return self._windows(rows)

    def _windows(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), *self.shape[1:]), dtype=np.float32)
        self.read_into(rows, out, np.arange(len(rows)))
        return out

    def read_into(self, rows: np.ndarray, out: np.ndarray, dest: np.ndarray) -> None:
        """Write windows ``rows`` to ``out[dest]`` (float32), without an intermediate copy."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        if rows.min() < -len(self) or rows.max() >= len(self):
            raise IndexError(f"window index out of range for {len(self)} windows")
        if self.kind == "rows":
            order = np.argsort(rows, kind="stable")  # sorted rows read a memmap sequentially
            out[dest[order]] = scaled(np.asarray(self.X[rows[order]]))
            return
        length = int(self.layout["units_per_window"])
        first = self.index[rows, 0].tolist()
        if self.kind == "samples":
            self._samples_into(first, length, out, dest)
            if self.layout.get("zscore") is True:  # per window, as features.raw does
                from benchmark.features import raw

                out[dest] = raw(out[dest], float(self.layout["sfreq"]), zscore=True)
            return
        interior = np.asarray(self.layout["interior"])
        lo, hi = int(interior[0]), int(interior[-1]) + 1
        starts = _window_view(self._x, length, axis=1)
        for w, o in zip(dest.tolist(), first):
            out[w, :, lo:hi, :] = starts[o]
        if self.E is None:  # edges="signal": every frame is in X
            return
        frames = self.E.view(np.ndarray)[self.index[rows, 1]]  # (k, n_chans, n_edges, n_freqs)
        whole = len(dest) == len(out) and bool(np.all(dest == np.arange(len(out))))
        for j, e in enumerate(self.layout["edges"]):
            if whole:  # plain slices: no scattered writes
                out[:, :, e, :] = frames[:, :, j, :]
            else:
                out[dest, :, e, :] = frames[:, :, j, :]

    def _samples_into(self, first: list[int], length: int, out: np.ndarray, dest: np.ndarray) -> None:
        x = self._x
        values = x
        if x.dtype != np.float32:
            values, ready = self._decoded.windows(np.asarray(first, dtype=np.int64), length)
            if not ready.all():
                self._decode_into(first, length, out, dest, values, ready)
                return
        starts = _window_view(values, length, axis=1)
        for w, o in zip(dest.tolist(), first):
            out[w] = starts[o]

    def _decode_into(self, first, length, out, dest, values, ready) -> None:
        """Windows from the decoded signal where ``ready``, the others decoded from the integers."""
        x = self._x
        starts = None if values is None else _window_view(values, length, axis=1)
        tmp = None
        for w, o, ok in zip(dest.tolist(), first, ready.tolist()):
            if ok:
                out[w] = starts[o]
                continue
            if tmp is None:  # per call: an adapter may read from several threads
                tmp = np.empty((x.shape[0], length))
            _decode_block(self._decoder, self._lut, x[:, o : o + length], out[w], tmp)


def _window_view(a: np.ndarray, length: int, axis: int) -> np.ndarray:
    """A read-only view of ``a`` whose item ``o`` is ``a``'s ``length`` steps from ``o`` along ``axis``
    (the other axes kept in order): a window by one integer index, without slicing each axis."""
    n = max(0, a.shape[axis] - length + 1)  # no window fits: an empty view, any index refused
    shape = (n, *a.shape[:axis], length, *a.shape[axis + 1 :])
    strides = (a.strides[axis], *a.strides[:axis], a.strides[axis], *a.strides[axis + 1 :])
    return np.lib.stride_tricks.as_strided(a, shape=shape, strides=strides, writeable=False)


def _decode_block(decoder: _Decoder | None, lut, block: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> None:
    """Stored integers ``(n_chans, n)`` as the reader's float32 values, into ``out``, by the entry's
    formulas (``decoder``) or value table (``lut``); ``tmp`` is a float64 buffer of the same shape (a
    window's or a decoding step's: it stays in the CPU cache)."""
    if decoder is not None:
        decoder.into(block, out, tmp)
        return
    out[...] = _table_values(lut, block)


def _table_values(lut, block: np.ndarray) -> np.ndarray:
    """The float32 values of stored integers ``(n_chans, n)`` by an entry's value table."""
    table, zero = lut
    return table[block.astype(np.int64) + zero[:, None]]


class _DecodedBudget:
    """Bytes of decoded signal this process may still keep (:data:`DECODED_MB_ENV`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._left: int | None = None

    def _limit(self) -> int:
        value = os.environ.get(DECODED_MB_ENV, "").strip()
        if value:
            try:
                return max(0, int(float(value) * (1 << 20)))
            except ValueError:
                raise ValueError(
                    f"{DECODED_MB_ENV}={value!r} is not a number of megabytes; set e.g. 2048, or 0"
                ) from None
        try:
            total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            total = 8 << 30
        return min(total // 8, 4 << 30)

    def reserve(self, n: int) -> bool:
        with self._lock:
            if self._left is None:
                self._left = self._limit()
            if n > self._left:
                return False
            self._left -= n
            return True

    def release(self, n: int) -> None:
        with self._lock:
            if self._left is not None:
                self._left += n


DECODED_BUDGET = _DecodedBudget()


class _DecodedSignal:
    """The float32 values of an entry's stored integers, decoded a chunk of :data:`DECODE_CHUNK`
    samples at a time when a window first needs it and kept while the budget allows; the memory is
    given back when the store is collected."""

    def __init__(self, x: np.ndarray, decode) -> None:
        self._x, self._decode = x, decode
        self._lock = threading.Lock()
        self.values: np.ndarray | None = None  # allocated on first use; pages exist once written
        n_chunks = -(-x.shape[1] // DECODE_CHUNK)
        self.done = np.zeros(n_chunks, dtype=bool)
        self._budget = DECODED_BUDGET  # the one it reserves from gets the bytes back
        self._held = [0]  # bytes reserved, read by the finalizer
        self._full = False
        self.complete = False  # every chunk decoded: windows() has nothing to look up
        weakref.finalize(self, _give_back, self._budget, self._held)

    def windows(self, first: np.ndarray, length: int) -> tuple[np.ndarray | None, np.ndarray]:
        """The decoded signal and, per window starting at ``first``, whether all of it is decoded
        there (decoding the chunks it needs first, as the budget allows)."""
        if self.complete or len(first) == 0:
            return self.values, np.full(len(first), self.complete)
        lo, hi = first // DECODE_CHUNK, (first + length - 1) // DECODE_CHUNK
        if not self._full:
            wanted = np.unique(np.concatenate([lo, hi])) if int((hi - lo).max()) <= 1 else None
            if wanted is None:
                wanted = np.unique(np.concatenate([np.arange(a, b + 1) for a, b in zip(lo.tolist(), hi.tolist())]))
            missing = wanted[~self.done[wanted]]
            if len(missing):
                self._decode_chunks(missing)
        if not self.done.any():
            return None, np.zeros(len(first), dtype=bool)
        ready = self.done[lo] & self.done[hi]
        if int((hi - lo).max()) > 1:  # windows longer than a chunk: every chunk between too
            ready &= np.array([self.done[a : b + 1].all() for a, b in zip(lo.tolist(), hi.tolist())])
        return self.values, ready

    def _decode_chunks(self, chunks: np.ndarray) -> None:
        x = self._x
        with self._lock:
            if self.values is None:
                self.values = np.empty(x.shape, dtype=np.float32)
            tmp = np.empty((x.shape[0], min(DECODE_STEP, DECODE_CHUNK)))
            for k in chunks.tolist():
                if self.done[k]:
                    continue
                a, b = k * DECODE_CHUNK, min((k + 1) * DECODE_CHUNK, x.shape[1])
                size = x.shape[0] * (b - a) * 4
                if not self._budget.reserve(size):
                    self._full = True
                    return
                self._held[0] += size
                for s in range(a, b, tmp.shape[1]):
                    e = min(s + tmp.shape[1], b)
                    self._decode(x[:, s:e], self.values[:, s:e], tmp[:, : e - s])
                self.done[k] = True
            self.complete = bool(self.done.all())


def _give_back(budget: _DecodedBudget, held: list[int]) -> None:
    budget.release(held[0])
    held[0] = 0


class _Decoder:
    """Microvolts of stored EDF integers by the formula (:data:`LUT_FORMULAS`) each channel's
    values were verified against when the entry was built: float64 arithmetic, then float32, the
    reader's numbers bit for bit."""

    def __init__(self, formulas: list):
        groups: dict[str, list] = {}
        for c, (name, gain, offset, unit) in enumerate(formulas):
            groups.setdefault(name, []).append((c, gain, offset, unit))
        self.n_chans = len(formulas)
        #: ``(formula, channels or None for all, gain, offset, unit)``, the last three ``(n, 1)``.
        self.groups = [
            (
                LUT_FORMULAS[name],
                None if len(chans) == len(formulas) else np.asarray([c for c, *_ in chans]),
                *(np.asarray([ch[i] for ch in chans], dtype=np.float64)[:, None] for i in (1, 2, 3)),
            )
            for name, chans in groups.items()
        ]

    def into(self, block: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> None:
        """Decode one window's ``(n_chans, n_times)`` integers into ``out`` (float32), in ``tmp``
        (float64, the same shape)."""
        np.copyto(tmp, block)
        for formula, idx, gain, offset, unit in self.groups:
            if idx is None:
                formula(tmp, gain, offset, unit)
            else:
                part = tmp[idx]
                tmp[idx] = formula(part, gain, offset, unit)
        np.copyto(out, tmp, casting="same_kind")


def scaled(block: np.ndarray) -> np.ndarray:
    """Stored rows as float32; video clips, cached as uint8 pixels, scaled to [0, 1]."""
    if block.dtype == np.uint8:
        return block.astype(np.float32) * np.float32(1.0 / 255.0)
    return block.astype(np.float32, copy=False)


def _value_table(rec: dict[str, Any], path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The stored float32 value of every integer, flat, and per channel the position of integer 0
    in it (``table[d + zero[c]]`` is channel ``c``'s value of ``d``)."""
    dlo, dhi = np.asarray(rec["dlo"], np.int64), np.asarray(rec["dhi"], np.int64)
    start = np.concatenate([[0], np.cumsum(dhi - dlo)])
    return np.load(path), start[:-1] - dlo


def open_windows(path: str | Path) -> np.ndarray | WindowStore:
    """The windows at ``path``: an entry folder (:class:`WindowStore`) or a plain ``.npy`` of rows."""
    path = Path(path)
    if path.is_dir():
        return WindowStore(path)
    return np.load(path, mmap_mode="r")


def copy_bytes(path: str | Path, rows: np.ndarray) -> int:
    """Bytes :func:`copy_windows` writes for ``rows`` of the entry at ``path`` (an upper bound)."""
    store = open_windows(path)
    if not isinstance(store, WindowStore) or store.kind == "rows":
        arr = store if not isinstance(store, WindowStore) else store.X
        return len(rows) * (arr[:1].nbytes if len(arr) else 0)
    unit = store.X[:, :1].nbytes  # one unit of every channel
    length = int(store.layout["units_per_window"])
    spans = _covering(store.index[np.asarray(rows, np.int64), 0], length)
    total = sum(b - a for a, b in spans) * unit
    if store.E is not None and len(store.E):
        total += len(rows) * store.E[:1].nbytes
    return int(total)


def _covering(first: np.ndarray, length: int) -> list[tuple[int, int]]:
    """Merged ``[a, b)`` ranges of the rows ``[f, f + length)`` for ``f`` in ``first``."""
    out: list[tuple[int, int]] = []
    for f in np.unique(first).tolist():
        if out and f <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], f + length))
        else:
            out.append((f, f + length))
    return out


def copy_windows(
    src: str | Path,
    dest: Path,
    rows: np.ndarray,
    place: np.ndarray,
    chunk_bytes: int = 64 << 20,
    rng: np.random.Generator | None = None,
) -> None:
    """Write an entry at ``dest`` holding only windows ``rows`` of ``src``, window ``rows[k]`` as
    window ``place[k]``: the stored samples or frames no referenced window covers are left out, the
    stretches kept are laid out in a random order (``rng``), and EDF integers decoded by a table
    (whose entries would tell which values occur in windows left out) are written as float32."""
    src, dest = Path(src), Path(dest)
    rows, place = np.asarray(rows, np.int64), np.asarray(place, np.int64)
    store = WindowStore(src)
    dest.mkdir(parents=True, exist_ok=True)
    layout = dict(store.layout, n_windows=len(rows))
    if "formula" in layout.get("lut", {}):
        # The range of integers seen spans windows the copy leaves out; the formula does not need it.
        layout["lut"] = {"formula": layout["lut"]["formula"]}
    index = np.zeros((len(rows), store.index.shape[1]), dtype=np.int64)
    if store.kind == "rows":
        copy_rows(store.X, dest / DATA_FILE, rows, place, chunk_bytes)
        index[:, 0] = np.arange(len(rows))
    else:
        length = int(store.layout["units_per_window"])
        first = store.index[rows, 0]
        ranges = _covering(first, length)
        starts = np.array([a for a, _ in ranges], dtype=np.int64)
        order = (rng or np.random.default_rng()).permutation(len(ranges))  # range order[j] goes j-th
        sizes = np.array([b - a for a, b in ranges], dtype=np.int64)
        bases = np.empty(len(ranges), dtype=np.int64)
        bases[order] = np.concatenate([[0], np.cumsum(sizes[order])[:-1]])
        decode = store._lut is not None
        dtype = np.float32 if decode else store.X.dtype
        shape = (store.X.shape[0], int(sizes.sum()), *store.X.shape[2:])
        out = np.lib.format.open_memmap(dest / DATA_FILE, "w+", dtype, shape)
        for (a, b), base in zip(ranges, bases.tolist()):
            part = store.X[:, a:b]
            if decode:
                part = _table_values(store._lut, part)
            out[:, base : base + b - a] = part
        out.flush()
        del out
        if decode:
            layout.pop("lut")
        k = np.searchsorted(starts, first, side="right") - 1
        index[place, 0] = bases[k] + (first - starts[k])
        if store.E is not None:
            copy_rows(store.E, dest / EDGES_FILE, store.index[rows, 1], place, chunk_bytes)
            index[place, 1] = place
    np.save(dest / INDEX_FILE, index)

    (dest / LAYOUT_FILE).write_text(json.dumps(layout))


def copy_rows(arr: np.ndarray, dest: Path, rows: np.ndarray, place: np.ndarray, chunk_bytes: int = 64 << 20) -> None:
    """Write ``arr[rows[k]]`` to row ``place[k]`` of a new ``.npy`` at ``dest``, a chunk at a time."""
    out = np.lib.format.open_memmap(dest, mode="w+", dtype=arr.dtype, shape=(len(rows), *arr.shape[1:]))
    step = max(1, chunk_bytes // max(1, arr[:1].nbytes))
    for s in range(0, len(rows), step):
        out[place[s : s + step]] = arr[rows[s : s + step]]
    out.flush()
    del out
