"""Input representations computed from raw EEG windows.

Every function here is pure: it takes raw windows ``x`` of shape ``(n, n_chans, n_times)`` in µV at
sampling rate ``sfreq`` and returns a float32 array. The window cache calls :func:`compute` chunk by
chunk and preallocates its memmaps with :func:`output_shape`; :func:`representation_key` gives the
JSON-serialisable description of a representation that goes into the cache key.

Representations
---------------
``raw``
    The windows unchanged, ``(n_chans, n_times)``.
``bandpower``
    Power in the classical EEG bands per channel, ``(n_chans, n_bands)``, from Welch's averaged
    periodogram (Welch 1967), as used for spectral seizure-prediction features (Mormann et al. 2007).
``spectrogram``
    Short-time Fourier transform power per channel, ``(n_chans, n_frames, n_freqs)``. The defaults
    (1-s Hann window, 50 % overlap, 1-60 Hz) give ``(18, 21, 60)`` for a 10-s, 18-channel window at
    256 Hz, the input size of the ResNet-LSTM seizure predictor of Lee et al. (2024): "The input
    dimensions for CHB-MIT and SNUH datasets are (18 x 21 x 60) and (21 x 21 x 60), respectively"
    (section "Residual learning"), from "the Hanning window function with a window length of 1 s
    and 50 % overlap" and "the 0 ~ 60 Hz band" (section "STFT").

References
----------
Welch, P. (1967). The use of fast Fourier transform for the estimation of power spectra. IEEE
Transactions on Audio and Electroacoustics, 15(2), 70-73.

Mormann, F., Andrzejak, R. G., Elger, C. E., & Lehnertz, K. (2007). Seizure prediction: the long and
winding road. Brain, 130(2), 314-333.

Lee, D., Kim, B., Kim, T., Joe, I., Chong, J., Min, K., & Jung, K. (2024). A ResNet-LSTM hybrid model
for predicting epileptic seizures using a pretrained model with supervised contrastive learning.
Scientific Reports, 14. https://doi.org/10.1038/s41598-023-43328-y
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from benchmark.errors import BenchmarkError, DataError, UnknownNameError, did_you_mean

# Bumped whenever a representation's numbers change for the same parameters, so stale caches miss.
FEATURES_VERSION = "2"  # 2: resampled spans are read with filter padding (windows.py)

# Floor added before taking logarithms so flat (e.g. disconnected or zero-padded) channels stay finite.
LOG_FLOOR = 1e-12


class Band(NamedTuple):
    """A frequency band ``[lo, hi)`` in Hz."""

    name: str
    lo: float
    hi: float


BANDS: tuple[Band, ...] = (
    Band("delta", 0.5, 4.0),
    Band("theta", 4.0, 8.0),
    Band("alpha", 8.0, 13.0),
    Band("beta", 13.0, 30.0),
    Band("gamma", 30.0, 45.0),  # low gamma only: stays below 50/60 Hz mains interference
)


def _check_windows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"expected raw windows of shape (n, n_chans, n_times), got shape {x.shape}")
    return x


def _as_bands(bands) -> tuple[Band, ...]:
    out = tuple(Band(str(b[0]), float(b[1]), float(b[2])) for b in bands)
    if not out:
        raise ValueError("at least one frequency band is needed")
    for b in out:
        if not 0 <= b.lo < b.hi:
            raise ValueError(f"band {b.name!r} must satisfy 0 <= lo < hi, got [{b.lo}, {b.hi})")
    return out


def _welch_nperseg(n_times: int, sfreq: float, welch_s: float) -> int:
    return int(min(n_times, round(welch_s * sfreq)))


def _frames(x: np.ndarray, win: int, starts: np.ndarray) -> np.ndarray:
    """Frames ``(..., len(starts), win)`` of the last axis of ``x`` starting at ``starts``."""
    return np.lib.stride_tricks.sliding_window_view(x, win, axis=-1)[..., starts, :]


def _psd_frames(frames: np.ndarray, sfreq: float, bins: tuple[int, int] | None = None) -> np.ndarray:
    """One-sided power spectral density (µV²/Hz) of each frame, Hann taper, mean removed.

    Returns float32 ``(..., win // 2 + 1)``, or only frequency bins ``bins[0] <= k < bins[1]``
    (the same numbers, without squaring bins that are dropped anyway); matches the
    ``"density"`` scaling of scipy.signal.
    """
    win = frames.shape[-1]
    lo, hi = (0, win // 2 + 1) if bins is None else bins
    import scipy.fft  # imported where used: reading windows or planning needs no scipy
    import scipy.signal

    taper = scipy.signal.get_window("hann", win, fftbins=True).astype(np.float32)
    centred = frames - frames.mean(axis=-1, keepdims=True)
    centred *= taper
    spec = scipy.fft.rfft(centred, axis=-1)[..., lo:hi]
    del centred
    psd = np.square(spec.real)
    psd += np.square(spec.imag)
    psd *= np.float32(2.0 / (sfreq * float(np.sum(taper.astype(np.float64) ** 2))))
    if lo == 0:
        psd[..., 0] /= 2  # DC and (even win) Nyquist have no mirrored negative-frequency half
    if win % 2 == 0 and hi == win // 2 + 1:
        psd[..., -1] /= 2
    return psd.astype(np.float32, copy=False)


def _band_masks(bands: tuple[Band, ...], sfreq: float, nperseg: int) -> list[np.ndarray]:
    """Boolean masks over the Welch frequency bins, one per band; checks each band is resolvable."""
    freqs = np.fft.rfftfreq(nperseg, 1.0 / sfreq)
    masks = []
    for band in bands:
        if band.hi > sfreq / 2:
            raise DataError(
                f"band {band.name!r} reaches {band.hi:g} Hz, above the Nyquist frequency {sfreq / 2:g} Hz "
                f"of {sfreq:g}-Hz data; lower the band edges or use data sampled faster."
            )
        mask = (freqs >= band.lo) & (freqs < band.hi)
        if not mask.any():
            raise DataError(
                f"band {band.name!r} [{band.lo}, {band.hi}) Hz holds no frequency bin with {nperseg}-sample "
                f"Welch segments (resolution {sfreq / nperseg:.3g} Hz); widen the band or raise welch_s."
            )
        masks.append(mask)
    return masks


def band_power(
    x: np.ndarray,
    sfreq: float,
    bands=BANDS,
    log: bool = True,
    welch_s: float = 2.0,
) -> np.ndarray:
    """Power per channel in each frequency band, from Welch's method.

    Parameters
    ----------
    x
        Raw windows ``(n, n_chans, n_times)`` in µV.
    sfreq
        Sampling rate in Hz.
    bands
        Sequence of ``(name, lo, hi)``; a band covers frequencies ``lo <= f < hi`` Hz.
    log
        Return ``log10`` of the power (µV²) instead of the power itself.
    welch_s
        Welch segment length in seconds (Hann window, 50 % overlap); clipped to the window length.
        Its inverse is the frequency resolution, so every band must be at least that wide.

    Returns
    -------
    np.ndarray
        float32 array ``(n, n_chans, n_bands)``: the power spectral density integrated over each
        band (µV², or log10 µV² when ``log``).
    """
    x = _check_windows(x)
    bands = _as_bands(bands)
    nperseg = _welch_nperseg(x.shape[-1], sfreq, welch_s)
    step = nperseg - nperseg // 2
    starts = np.arange((x.shape[-1] - nperseg) // step + 1) * step
    masks = _band_masks(bands, sfreq, nperseg)
    # Same estimate as scipy.signal.welch(window="hann", noverlap=nperseg // 2), about 10x faster
    # because it stays in float32 and works on a strided view.
    psd = _psd_frames(_frames(np.asarray(x, dtype=np.float32), nperseg, starts), sfreq).mean(axis=-2)
    df = sfreq / nperseg
    out = np.empty((*x.shape[:2], len(bands)), dtype=np.float32)
    for i, mask in enumerate(masks):
        out[..., i] = psd[..., mask].sum(axis=-1) * df
    if log:
        np.log10(out + LOG_FLOOR, out=out)
    return out


def _stft_framing(n_times: int, sfreq: float, win_s: float, overlap: float) -> tuple[int, int, int]:
    """Return ``(window, hop, n_frames)`` in samples for centred STFT frames."""
    win = int(round(win_s * sfreq))
    if win < 2:
        raise DataError(f"win_s={win_s} s is shorter than two samples at sfreq={sfreq} Hz; use a longer win_s.")
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    hop = max(1, int(round(win * (1.0 - overlap))))
    # Frames are centred on samples 0, hop, 2*hop, ... (half a window of padding at each end), so a
    # 10-s window at 256 Hz with 1-s frames and 50 % overlap yields 2560 // 128 + 1 = 21 frames.
    return win, hop, n_times // hop + 1


def _n_freqs(sfreq: float, win_s: float, fmax: float) -> int:
    win = int(round(win_s * sfreq))
    df = sfreq / win
    n = int(np.floor(fmax / df + 1e-9))
    if n < 1:
        raise DataError(f"fmax={fmax} Hz is below the STFT frequency resolution {df:g} Hz; raise fmax or win_s.")
    if n > win // 2:
        raise DataError(f"fmax={fmax} Hz is above the Nyquist frequency {sfreq / 2:g} Hz; lower fmax.")
    return n


def spectrogram(
    x: np.ndarray,
    sfreq: float,
    win_s: float = 1.0,
    overlap: float = 0.5,
    fmax: float = 60.0,
    log: bool = True,
    mode: str = "power",
    edges: str = "reflect",
) -> np.ndarray:
    """Short-time Fourier transform of each channel, Hann window, centred frames.

    Framing: frames of ``win = round(win_s * sfreq)`` samples every ``hop = win * (1 - overlap)``
    samples, centred on samples ``0, hop, 2 hop, ...``; the signal is reflect-padded by half a window
    at both ends (as ``torch.stft(center=True)`` does), giving ``n_times // hop + 1`` frames. Each
    frame has its mean removed before the Hann taper so the electrode offset does not leak into the
    lowest bins.

    Frequencies: bins ``k / win_s`` Hz for ``k = 1 .. floor(fmax * win_s)``; the DC bin is dropped
    (it carries the offset, not brain activity). With the defaults that is 1, 2, ..., 60 Hz: 60 bins.

    Parameters
    ----------
    x
        Raw windows ``(n, n_chans, n_times)`` in µV.
    sfreq
        Sampling rate in Hz.
    win_s, overlap
        Frame length in seconds and fractional overlap between frames.
    fmax
        Highest frequency kept, in Hz (inclusive); must not exceed Nyquist.
    log
        Return ``log10`` of the values (with a small floor) instead of the values.
    mode
        ``"power"``: one-sided power spectral density (µV²/Hz); ``"magnitude"``: its square root.
    edges
        What the frames centred on a window's first and last samples see beyond the window (see
        :data:`FRAME_EDGES`). A window given alone, as here, is all the signal there is: both
        reflect it. The window cache gives ``"signal"`` windows their neighbouring EEG.

    Returns
    -------
    np.ndarray
        float32 array ``(n, n_chans, n_frames, n_freqs)``.
    """
    x = _check_windows(x)
    _check_edges(edges)
    if mode not in ("power", "magnitude"):
        raise ValueError(f"mode must be 'power' or 'magnitude', got {mode!r}")
    n, n_chans, n_times = x.shape
    win, hop, n_frames = _stft_framing(n_times, sfreq, win_s, overlap)
    n_freqs = _n_freqs(sfreq, win_s, fmax)
    pad = win // 2
    if n_times <= win - pad:
        raise DataError(f"windows of {n_times} samples are too short for {win}-sample STFT frames; lower win_s.")
    padded = np.pad(np.asarray(x, dtype=np.float32), ((0, 0), (0, 0), (pad, win - pad)), mode="reflect")
    return _finish_frames(_frames(padded, win, np.arange(n_frames) * hop), sfreq, n_freqs, mode, log)


#: ``edges`` of the spectrogram: ``"reflect"`` (the default) reflects each window at its own ends,
#: as ``torch.stft(center=True)`` of the cut window does, so its first and last frames belong to it
#: alone; ``"signal"`` takes the EEG around the window (reflected only at the recording's ends), so
#: every frame is a frame of the recording's one STFT and overlapping windows share all of theirs:
#: the cache stores each frame once. Different numbers in those two frames; same shape.
FRAME_EDGES = ("reflect", "signal")


def _check_edges(edges: Any) -> str:
    if edges not in FRAME_EDGES:
        raise BenchmarkError(f"spectrogram edges must be one of {list(FRAME_EDGES)}, got {edges!r}.")
    return edges


def _spectrogram_frame_sets(
    n_times: int, win: int, hop: int, n_frames: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split a window's frame numbers into ``(head, interior, tail)``.

    Frame ``k`` covers window samples ``[k hop - pad, k hop - pad + win)`` with ``pad = win // 2``;
    interior frames lie wholly inside the window (no reflected padding), so they are the same
    numbers for every window that contains their samples.
    """
    pad = win // 2
    lo = np.arange(n_frames) * hop - pad
    head = np.flatnonzero(lo < 0)
    tail = np.flatnonzero(lo + win > n_times)
    interior = np.flatnonzero((lo >= 0) & (lo + win <= n_times))
    return head, interior, tail


def spectrogram_span(
    span: np.ndarray,
    offsets: np.ndarray,
    n_times: int,
    sfreq: float,
    win_s: float = 1.0,
    overlap: float = 0.5,
    fmax: float = 60.0,
    log: bool = True,
    mode: str = "power",
    edges: str = "reflect",
) -> np.ndarray:
    """:func:`spectrogram` of the windows ``span[:, o : o + n_times]``, sharing frames between windows.

    Overlapping windows (e.g. 10-s windows every second) hold most of each other's STFT frames:
    a frame that lies wholly inside a window does not depend on which window it belongs to. Each
    distinct interior frame of the span (keyed by its first sample) is therefore transformed once
    and gathered into every window that holds it; only the frames that reach into a window's
    reflected padding (the first and last with the defaults) are computed per window. With 10-s
    windows at a 1-s stride this does about a tenth of the per-window work. The numbers are those
    of ``spectrogram(np.stack([span[:, o:o + n_times] for o in offsets]), ...)``: every frame goes
    through the same arithmetic on the same samples (tested to float32 rounding). When window
    starts are not on a common hop grid few frames are shared and the cost falls back to that of
    the per-window computation, never above it.

    Parameters
    ----------
    span
        Continuous EEG ``(n_chans, n_samples)`` in µV.
    offsets
        First sample of each window in ``span``; every ``o + n_times`` must be ``<= n_samples``.
    n_times
        Samples per window.
    sfreq, win_s, overlap, fmax, log, mode
        As for :func:`spectrogram`.

    Returns
    -------
    np.ndarray
        float32 ``(len(offsets), n_chans, n_frames, n_freqs)``.
    """
    span, offsets = _checked_span(span, offsets, n_times, mode)
    win, hop, n_frames = _stft_framing(n_times, sfreq, win_s, overlap)
    n_freqs = _n_freqs(sfreq, win_s, fmax)
    if _check_edges(edges) == "signal":  # the span stands for the recording: reflected at its ends
        pad = win // 2
        padded = np.pad(span, ((0, 0), (pad, win - pad)), mode="reflect")
        first = (offsets[:, None] + hop * np.arange(n_frames)[None, :]).reshape(-1)
        frames = _finish_frames(_frames(padded, win, first), sfreq, n_freqs, mode, log)
        frames = frames.reshape(span.shape[0], len(offsets), n_frames, n_freqs)
        return np.ascontiguousarray(frames.transpose(1, 0, 2, 3))
    head, interior, tail = _spectrogram_frame_sets(n_times, win, hop, n_frames)
    if n_times <= win or len(np.intersect1d(head, tail)) or len(offsets) == 0:
        # Windows hardly longer than a frame share nothing; the plain definition is simplest.
        x = np.stack([span[:, o : o + n_times] for o in offsets]) if len(offsets) else span[None, :, :0]
        return (
            spectrogram(x, sfreq, win_s, overlap, fmax, log, mode)
            if len(offsets)
            else np.zeros((0, span.shape[0], n_frames, n_freqs), np.float32)
        )
    # Element-wise, so applying it before the gather gives the same numbers at a tenth of the cost.
    finish = functools.partial(_finish_frames, sfreq=sfreq, n_freqs=n_freqs, mode=mode, log=log)
    out = np.empty((len(offsets), span.shape[0], n_frames, n_freqs), dtype=np.float32)
    _fill_interior_frames(out, span, offsets, interior, win, hop, finish)
    _fill_edge_frames(out, span, offsets, (head, tail), n_times, win, hop, finish)
    return out


@dataclass(frozen=True)
class FrameLayout:
    """How the STFT frames of one spectrogram window lie in its signal (see :func:`spectrogram`).

    Frame ``k`` is centred on window sample ``k * hop``; ``interior`` frames lie wholly inside the
    window, so any window holding their samples has the same numbers for them; ``head`` and
    ``tail`` frames reach into the window's own reflected padding.
    """

    win: int
    hop: int
    n_frames: int
    n_freqs: int
    head: np.ndarray
    interior: np.ndarray
    tail: np.ndarray
    signal: bool = False  # edges="signal": every frame is a frame of the recording's STFT

    @property
    def shareable(self) -> bool:
        """Whether interior frames can be shared between windows on one hop grid."""
        if self.signal:
            return len(self.interior) > 0
        parts = (self.head, self.interior, self.tail)
        return all(len(p) for p in parts) and not len(np.intersect1d(self.head, self.tail))

    @property
    def edges(self) -> np.ndarray:
        """Frame numbers of the head and tail frames, in window order."""
        return np.concatenate([self.head, self.tail])


def frame_layout(n_times: int, sfreq: float, params: Mapping[str, Any] | None = None) -> FrameLayout:
    """The :class:`FrameLayout` of spectrogram windows of ``n_times`` samples with ``params``."""
    merged = _function_params("spectrogram", params)
    win, hop, n_frames = _stft_framing(n_times, sfreq, merged["win_s"], merged["overlap"])
    n_freqs = _n_freqs(sfreq, merged["win_s"], merged["fmax"])
    if _check_edges(merged["edges"]) == "signal":
        none = np.zeros(0, dtype=np.int64)
        return FrameLayout(win, hop, n_frames, n_freqs, none, np.arange(n_frames), none, signal=True)
    head, interior, tail = _spectrogram_frame_sets(n_times, win, hop, n_frames)
    if n_times <= win:
        interior = interior[:0]
    return FrameLayout(win, hop, n_frames, n_freqs, head, interior, tail)


def spectrogram_frames(
    signal: np.ndarray, first: np.ndarray, sfreq: float, params: Mapping[str, Any] | None = None
) -> np.ndarray:
    """Spectrogram values ``(n_chans, len(first), n_freqs)`` of the frames of ``signal`` (channels,
    samples) whose first samples are ``first``: the numbers :func:`spectrogram` gives a window's
    interior frames, computed once for every window that holds them."""
    merged = _function_params("spectrogram", params)
    win = int(round(merged["win_s"] * sfreq))
    n_freqs = _n_freqs(sfreq, merged["win_s"], merged["fmax"])
    frames = _frames(np.asarray(signal, dtype=np.float32), win, np.asarray(first, dtype=np.int64))
    return _finish_frames(frames, sfreq, n_freqs, merged["mode"], merged["log"])


def spectrogram_edge_frames(
    span: np.ndarray, offsets: np.ndarray, n_times: int, sfreq: float, params: Mapping[str, Any] | None = None
) -> np.ndarray:
    """The head and tail frames ``(len(offsets), n_chans, n_edges, n_freqs)`` of the spectrogram
    windows ``span[:, o : o + n_times]``, in :attr:`FrameLayout.edges` order."""
    merged = _function_params("spectrogram", params)
    span, offsets = _checked_span(span, offsets, n_times, merged["mode"])
    lay = frame_layout(n_times, sfreq, params)
    finish = functools.partial(_finish_frames, sfreq=sfreq, n_freqs=lay.n_freqs, mode=merged["mode"], log=merged["log"])
    out = np.empty((len(offsets), span.shape[0], lay.n_frames, lay.n_freqs), dtype=np.float32)
    if len(offsets):
        _fill_edge_frames(out, span, offsets, (lay.head, lay.tail), n_times, lay.win, lay.hop, finish)
    return np.ascontiguousarray(out[:, :, lay.edges, :])


def _checked_span(span: np.ndarray, offsets: np.ndarray, n_times: int, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """``span`` as float32 and ``offsets`` as int64, after checking shapes, offsets and ``mode``."""
    span = np.asarray(span, dtype=np.float32)
    offsets = np.asarray(offsets, dtype=np.int64)
    if span.ndim != 2:
        raise ValueError(f"expected a span of shape (n_chans, n_samples), got shape {span.shape}")
    if len(offsets) and (offsets.min() < 0 or offsets.max() + n_times > span.shape[-1]):
        raise ValueError(
            f"window offsets must lie in [0, {span.shape[-1] - n_times}], got {offsets.min()}..{offsets.max()}"
        )
    if mode not in ("power", "magnitude"):
        raise ValueError(f"mode must be 'power' or 'magnitude', got {mode!r}")
    return span, offsets


def _finish_frames(frames: np.ndarray, sfreq: float, n_freqs: int, mode: str, log: bool) -> np.ndarray:
    """Spectrogram values of STFT frames: PSD bins ``1 .. n_freqs``, then the square root and log asked for."""
    out = _psd_frames(frames, sfreq, (1, n_freqs + 1))
    if mode == "magnitude":
        np.sqrt(out, out=out)
    if log:
        np.log10(out + LOG_FLOOR, out=out)
    return out


def _fill_interior_frames(
    out: np.ndarray,
    span: np.ndarray,
    offsets: np.ndarray,
    interior: np.ndarray,
    win: int,
    hop: int,
    finish: Callable[[np.ndarray], np.ndarray],
) -> None:
    """Write every window's interior frames into ``out``, each distinct frame of the span computed once."""
    pad = win // 2
    # Interior frames: absolute first samples of every (window, frame) pair, each distinct one once.
    first = offsets[:, None] + (interior * hop - pad)[None, :]
    base = int(offsets.min())
    step = (offsets - base) // hop
    grid = base + int(interior[0]) * hop - pad + hop * np.arange(int(step.max()) + interior[-1] - interior[0] + 1)
    if np.all(np.diff(interior) == 1) and np.all(offsets == base + step * hop) and len(grid) <= first.size:
        # Every window starts on the hop grid of the first (e.g. 1-s stride, 0.5-s hop): the
        # distinct frames are that grid, found without sorting.
        unique, inverse = grid, step[:, None] + np.arange(len(interior))[None, :]
    else:
        unique, inverse = np.unique(first, return_inverse=True)
    shared = finish(_frames(span, win, unique))  # (n_chans, n_unique, n_freqs)
    inverse = inverse.reshape(first.shape)
    if np.all(np.diff(interior) == 1) and np.all(np.diff(inverse, axis=1) == 1):
        # Windows on the hop grid: each window's interior frames are consecutive shared frames,
        # copied as slices (a fancy-indexed gather plus transpose costs about twice as much).
        lo, hi = int(interior[0]), int(interior[-1]) + 1
        for w, u in enumerate(inverse[:, 0].tolist()):
            out[w, :, lo:hi, :] = shared[:, u : u + hi - lo, :]
    else:
        out[:, :, interior, :] = shared[:, inverse, :].transpose(1, 0, 2, 3)


def _fill_edge_frames(
    out: np.ndarray,
    span: np.ndarray,
    offsets: np.ndarray,
    head_tail: tuple[np.ndarray, np.ndarray],
    n_times: int,
    win: int,
    hop: int,
    finish: Callable[[np.ndarray], np.ndarray],
) -> None:
    """Write the head and tail frames into ``out``: they reach into the reflected padding of their own window."""
    head, tail = head_tail
    pad = win // 2
    # One spare sample each way: numpy's reflect padding needs more samples than it pads with.
    head_len = max(int(head.max()) * hop + win - pad, pad + 1)
    seg = np.stack([span[:, o : o + head_len] for o in offsets])
    padded = np.pad(seg, ((0, 0), (0, 0), (pad, 0)), mode="reflect")
    out[:, :, head, :] = finish(_frames(padded, win, head * hop))
    tail_lo = min(int(tail.min()) * hop - pad, n_times - (win - pad) - 1)
    seg = np.stack([span[:, o + tail_lo : o + n_times] for o in offsets])
    padded = np.pad(seg, ((0, 0), (0, 0), (0, win - pad)), mode="reflect")
    out[:, :, tail, :] = finish(_frames(padded, win, tail * hop - pad - tail_lo))


#: Values of the raw representation's ``zscore``: ``False`` (none), ``True`` or ``"window"`` (each
#: channel of each window on its own) and ``"recording"`` (each channel over its whole recording).
ZSCORE_MODES = (False, True, "none", "window", "recording")


def zscore_mode(value: Any) -> bool | str:
    """Canonical ``zscore`` value: ``False``, ``True`` (per window) or ``"recording"``; else raise."""
    if value is False or value == "none":
        return False
    if value is True or value == "window":
        return True
    if value == "recording":
        return "recording"
    raise BenchmarkError(f"zscore must be one of {list(ZSCORE_MODES)}, got {value!r}.")


def zscore_channels(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """``(x - mean) / std`` per channel of a span ``x`` (channels, samples), as float32; a channel
    with ``std <= 1e-6`` (flat) becomes zeros."""
    mean = np.asarray(mean, dtype=np.float32)[:, None]
    std = np.asarray(std, dtype=np.float32)[:, None]
    out = np.asarray(x, dtype=np.float32) - mean
    return np.divide(out, std, out=np.zeros_like(out), where=std > 1e-6)


def raw(x: np.ndarray, sfreq: float, zscore: bool | str = False) -> np.ndarray:
    """Return the raw windows as float32 (no copy when they already are).

    ``zscore`` (see :data:`ZSCORE_MODES`): ``True``/``"window"`` scales each channel of each window
    to zero mean and unit variance, which discards the window's absolute amplitude and power;
    ``"recording"`` does so with each channel's mean and standard deviation over the whole
    recording, as DistilCLIP-EEG (Wang et al. 2025, Sec. IV-B) z-scores "each channel's signal"
    after band-pass filtering "to reduce inter-subject and inter-session variability", keeping
    amplitude differences between windows of one recording. The window cache computes those
    statistics over the whole band-passed recording (:func:`benchmark.windows.recording_channel_stats`);
    given only a stack of windows, as here, the stack stands for the recording. A flat channel
    becomes zeros.
    """
    out = np.asarray(_check_windows(x), dtype=np.float32)
    mode = zscore_mode(zscore)
    if mode == "recording":
        flat = out.transpose(1, 0, 2).reshape(out.shape[1], -1)
        flat = zscore_channels(flat, flat.mean(axis=1), flat.std(axis=1))
        return np.ascontiguousarray(flat.reshape(out.shape[1], out.shape[0], out.shape[2]).transpose(1, 0, 2))
    if mode:
        out = out - out.mean(axis=-1, keepdims=True)
        std = out.std(axis=-1, keepdims=True)
        out = np.divide(out, std, out=np.zeros_like(out), where=std > 1e-6)
    return out


@dataclass(frozen=True)
class Representation:
    """How to compute one representation and the shape of one of its windows."""

    name: str
    compute: Callable[..., np.ndarray]
    shape: Callable[..., tuple[int, ...]]
    defaults: Mapping[str, Any]
    description: str


def _raw_shape(n_chans: int, n_times: int, sfreq: float, zscore=False, **_) -> tuple[int, ...]:
    zscore_mode(zscore)  # fail before any memmap exists
    return (n_chans, n_times)


def _bandpower_shape(n_chans: int, n_times: int, sfreq: float, bands=BANDS, welch_s=2.0, **_) -> tuple[int, ...]:
    bands = _as_bands(bands)
    _band_masks(bands, sfreq, _welch_nperseg(n_times, sfreq, welch_s))  # fail before any memmap exists
    return (n_chans, len(bands))


def _spectrogram_shape(
    n_chans: int, n_times: int, sfreq: float, win_s=1.0, overlap=0.5, fmax=60.0, **_
) -> tuple[int, ...]:
    _, _, n_frames = _stft_framing(n_times, sfreq, win_s, overlap)
    return (n_chans, n_frames, _n_freqs(sfreq, win_s, fmax))


REPRESENTATIONS: dict[str, Representation] = {
    "raw": Representation("raw", raw, _raw_shape, {"zscore": False}, "raw windows (channels, samples), µV or z-scores"),
    "bandpower": Representation(
        "bandpower",
        band_power,
        _bandpower_shape,
        {"bands": BANDS, "log": True, "welch_s": 2.0},
        "Welch band power (channels, bands), log10 µV²",
    ),
    "spectrogram": Representation(
        "spectrogram",
        spectrogram,
        _spectrogram_shape,
        {"win_s": 1.0, "overlap": 0.5, "fmax": 60.0, "log": True, "mode": "power", "edges": "reflect"},
        "STFT power (channels, frames, frequencies), log10 µV²/Hz",
    ),
}


def get_representation(name: str) -> Representation:
    """Return the :class:`Representation` called ``name``; unknown names raise UnknownNameError."""
    if name not in REPRESENTATIONS:
        raise UnknownNameError(
            f"unknown representation '{name}'.{did_you_mean(name, REPRESENTATIONS)} "
            f"Choose one of {sorted(REPRESENTATIONS)}."
        )
    return REPRESENTATIONS[name]


#: Parameter every representation takes besides its own: the sampling rate (Hz) the window cache
#: resamples each recording to (:func:`scipy.signal.resample_poly`, before the band-pass and the
#: representation), e.g. DistilCLIP-EEG's 256 Hz. Absent or ``None``: the dataset's common rate.
SFREQ_PARAM = "sfreq"


def target_sfreq(params: Mapping[str, Any] | None, native: float) -> float:
    """The sampling rate the window cache prepares ``params``' windows at: their ``sfreq``, else ``native``."""
    value = (params or {}).get(SFREQ_PARAM)
    return float(native) if value is None else _check_sfreq(value)


def _check_sfreq(value: Any) -> float:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = float("nan")
    if isinstance(value, bool) or not rate > 0 or rate == float("inf"):
        raise BenchmarkError(f"{SFREQ_PARAM} must be a positive sampling rate in Hz (or None), got {value!r}.")
    return rate


def resolve_params(representation: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge ``params`` over the representation's defaults, rejecting unknown parameter names.

    A given ``sfreq`` (:data:`SFREQ_PARAM`) is kept, checked; the representation's function never sees it.
    """
    rep = get_representation(representation)
    params = dict(params or {})
    rate = params.pop(SFREQ_PARAM, None)
    unknown = sorted(set(params) - set(rep.defaults))
    if unknown:
        allowed = sorted([*rep.defaults, SFREQ_PARAM])
        raise UnknownNameError(f"representation '{representation}' has no parameter(s) {unknown}; allowed: {allowed}.")
    merged = {**rep.defaults, **params}
    if "bands" in merged:
        merged["bands"] = _as_bands(merged["bands"])
    if rate is not None:
        merged[SFREQ_PARAM] = _check_sfreq(rate)
    return merged


def _function_params(representation: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The keyword arguments of the representation's function (``sfreq`` is the cache's)."""
    merged = resolve_params(representation, params)
    merged.pop(SFREQ_PARAM, None)
    return merged


def compute(representation: str, x: np.ndarray, sfreq: float, params: Mapping[str, Any] | None = None) -> np.ndarray:
    """Compute ``representation`` of raw windows ``x`` ``(n, n_chans, n_times)``; returns float32.

    ``params`` overrides the representation's defaults (see :data:`REPRESENTATIONS`).
    """
    rep = get_representation(representation)
    out = rep.compute(x, sfreq, **_function_params(representation, params))
    return np.asarray(out, dtype=np.float32)


def compute_span(
    representation: str,
    span: np.ndarray,
    offsets: np.ndarray,
    n_times: int,
    sfreq: float,
    params: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """Compute ``representation`` of the windows ``span[:, o : o + n_times]`` for ``o`` in ``offsets``.

    Same numbers as ``compute(representation, np.stack([...windows...]), sfreq, params)``; the
    spectrogram shares the STFT frames of overlapping windows (:func:`spectrogram_span`), the
    other representations are computed window by window.
    """
    merged = _function_params(representation, params)
    offsets = np.asarray(offsets, dtype=np.int64)
    if representation == "spectrogram":
        return spectrogram_span(span, offsets, n_times, sfreq, **merged)
    batch = np.stack([span[:, o : o + n_times] for o in offsets]).astype(np.float32, copy=False)
    return np.asarray(get_representation(representation).compute(batch, sfreq, **merged), dtype=np.float32)


def output_shape(
    representation: str, n_chans: int, n_times: int, sfreq: float, params: Mapping[str, Any] | None = None
) -> tuple[int, ...]:
    """Shape of ONE window of ``representation`` (without the leading window axis).

    ``compute(representation, x, sfreq, params).shape == (len(x), *output_shape(...))``.
    """
    rep = get_representation(representation)
    return tuple(int(d) for d in rep.shape(n_chans, n_times, sfreq, **_function_params(representation, params)))


def representation_key(representation: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """JSON-serialisable description of a representation, with every parameter filled in.

    Two configurations that compute the same numbers give the same key; it includes
    :data:`FEATURES_VERSION` so that a change of the feature code invalidates cached windows.
    """
    merged = resolve_params(representation, params)
    if "bands" in merged:
        merged["bands"] = [[b.name, b.lo, b.hi] for b in merged["bands"]]
    for k, v in merged.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "bands":
            merged[k] = float(v)  # 1 and 1.0 must give the same key
    if representation == "raw":
        merged["zscore"] = zscore_mode(merged["zscore"])  # "window" and True compute the same numbers
    if merged.get("edges") == "reflect":
        del merged["edges"]  # the default, and the only choice before there was one: keys stay as they were
    return {"representation": representation, "params": dict(sorted(merged.items())), "version": FEATURES_VERSION}
