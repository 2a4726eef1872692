"""Tiny synthetic window sets for tests and the adapter conformance suite.

Windows are SYNTHETIC: coloured noise in µV, where windows of class 1 carry an extra 5-7 Hz rhythm
(a crude stand-in for rhythmic ictal activity) when ``learnable`` is set. A reasonable model separates
the classes; nothing here resembles real EEG closely enough to report numbers on, and every set made
here says so in ``info["synthetic"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.signal

from benchmark import features
from benchmark.windowset import WindowSet

DEFAULT_CLASSES = ("negative", "positive")


def make_labels(n: int, positive_fraction: float, rng: np.random.Generator, n_classes: int = 2) -> np.ndarray:
    """Labels with ``round(n * positive_fraction)`` positives, at least one of each class when n >= 2.

    With more than two classes every class gets an equal share (in a random order) and
    ``positive_fraction`` is not used.
    """
    if n_classes > 2:
        return rng.permutation(np.arange(n, dtype=np.int64) % n_classes)
    n_pos = int(round(n * positive_fraction))
    if n >= 2:
        n_pos = min(max(n_pos, 1), n - 1)
    y = np.zeros(n, dtype=np.int64)
    y[rng.choice(n, size=n_pos, replace=False)] = 1
    return y


def make_raw_windows(
    y: np.ndarray,
    n_chans: int,
    n_times: int,
    sfreq: float,
    rng: np.random.Generator,
    learnable: bool = True,
) -> np.ndarray:
    """Synthetic raw windows ``(len(y), n_chans, n_times)`` float32 in µV.

    Background: AR(1) noise (a 1/f²-like spectrum, ~20 µV) plus a little white noise, with a random
    gain per window so that overall amplitude alone does not give the class away. With ``learnable``,
    windows with ``y == 1`` add a sinusoid of 5-7 Hz with random phase and per-channel gain, and
    windows of class ``k > 1`` one 4 Hz higher per class (9-11 Hz for class 2, ...).
    """
    n = len(y)
    white = rng.standard_normal((n, n_chans, n_times))
    background = scipy.signal.lfilter([1.0], [1.0, -0.95], white, axis=-1)
    background *= 20.0 / background.std(axis=-1, keepdims=True).clip(min=1e-9)
    x = background + 2.0 * rng.standard_normal((n, n_chans, n_times))
    x *= rng.uniform(0.7, 1.4, size=(n, 1, 1))
    if learnable:
        t = np.arange(n_times) / sfreq
        for i in np.flatnonzero(y >= 1):
            freq = rng.uniform(5.0, 7.0) + 4.0 * (y[i] - 1)
            phase = rng.uniform(0, 2 * np.pi)
            gain = rng.uniform(0.5, 1.0, size=(n_chans, 1))
            x[i] += 20.0 * gain * np.sin(2 * np.pi * freq * t + phase)
    return x.astype(np.float32)


def make_meta(n: int, window_s: float, n_patients: int = 2) -> pd.DataFrame:
    """Per-window metadata in the harness's layout: consecutive windows of one recording per patient."""
    patient_idx = np.arange(n) * n_patients // max(n, 1)
    rows = []
    for i, p in enumerate(patient_idx):
        k = i - int(np.searchsorted(patient_idx, p))  # position within the patient
        patient = f"fake{p + 1:02d}"
        rows.append(
            {
                "patient": patient,
                "recording": f"{patient}_01",
                "start": k * window_s,
                "end": (k + 1) * window_s,
                "unit": f"{patient}_01",
            }
        )
    return pd.DataFrame(rows, columns=["patient", "recording", "start", "end", "unit"])


def _store(array: np.ndarray, directory: Path | None, name: str, writeable: bool) -> np.ndarray:
    if directory is None:
        array.setflags(write=writeable)
        return array
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.npy"
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=array.dtype, shape=array.shape)
    mm[:] = array
    mm.flush()
    del mm
    return np.load(path, mmap_mode="r+" if writeable else "r")


def make_windowset(
    n: int = 64,
    n_chans: int = 4,
    n_times: int = 256,
    sfreq: float = 128,
    representation: str = "raw",
    seed: int = 0,
    learnable: bool = True,
    labels: bool = True,
    *,
    params: Mapping[str, Any] | None = None,
    positive_fraction: float = 0.25,
    classes: tuple[str, ...] = DEFAULT_CLASSES,
    writeable: bool = False,
    directory: Path | None = None,
) -> WindowSet:
    """A small SYNTHETIC :class:`WindowSet` of one representation.

    Parameters
    ----------
    n, n_chans, n_times, sfreq
        Number of windows, channels, samples per raw window, and sampling rate (Hz).
    representation, params
        Representation to compute from the raw windows (see :mod:`benchmark.features`).
    seed
        Seeds everything; the same arguments give the same set.
    learnable
        Give class-1 windows an extra 5-7 Hz rhythm; otherwise labels are independent of the data.
    labels
        Keep labels in ``y``; ``False`` gives a test-style set with ``y = None``.
    positive_fraction
        Share of class-1 windows (at least one window of each class when ``n >= 2``).
    classes
        Class names; with more than two, labels cover every class in equal shares.
    writeable
        Whether the source array may be written to; cached memmaps are read-only, so the default
        mimics them.
    directory
        Store the source as a ``.npy`` memmap there (as the window cache does) instead of in memory.
    """
    rng = np.random.default_rng(seed)
    y = make_labels(n, positive_fraction, rng, len(classes))
    if representation == "video":
        return _video_windowset(n, y, rng, params, learnable, labels, classes, writeable, directory, seed)
    x = make_raw_windows(y, n_chans, n_times, sfreq, rng, learnable=learnable)
    data = features.compute(representation, x, sfreq, params)
    key = features.representation_key(representation, params)
    folder = Path(directory) if directory is not None else None
    source = _store(data, folder, f"fake_{representation}_{seed}", writeable)
    return WindowSet(
        sources=[source],
        refs=np.column_stack([np.zeros(n, dtype=np.int64), np.arange(n)]),
        meta=make_meta(n, n_times / sfreq),
        y=y if labels else None,
        classes=tuple(classes),
        info={
            "representation": representation,
            "representation_params": key["params"],
            "sfreq": float(sfreq),
            "n_times": int(n_times),
            "ch_names": [f"CH{i + 1}" for i in range(n_chans)],
            "synthetic": True,
        },
    )


def make_video_clips(
    y: np.ndarray, n_frames: int, size: int, rng: np.random.Generator, learnable: bool = True
) -> np.ndarray:
    """Synthetic uint8 clips ``(len(y), n_frames, 3, size, size)``: a bright blob on a noisy grey
    background. With ``learnable``, the blob of class-1 clips jumps back and forth (a crude stand-in
    for clonic jerking); class 0 drifts slowly."""
    n = len(y)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    clips = rng.normal(90.0, 12.0, size=(n, n_frames, 3, size, size))
    for i in range(n):
        cy, cx = rng.uniform(0.3, 0.7, size=2) * size
        step = rng.uniform(-0.5, 0.5, size=2)
        jerk = learnable and y[i] == 1
        for t in range(n_frames):
            dy, dx = (step * t) if not jerk else ((0.18 * size) * (1 if t % 2 else -1), 0.0)
            blob = np.exp(-(((yy - cy - dy) ** 2 + (xx - cx - dx) ** 2) / (2 * (0.08 * size) ** 2)))
            clips[i, t] += 120.0 * blob
    return np.clip(clips, 0, 255).astype(np.uint8)


def _video_windowset(n, y, rng, params, learnable, labels, classes, writeable, directory, seed) -> WindowSet:
    from benchmark.windows import video_params

    vp = video_params(params)
    data = make_video_clips(y, vp["n_frames"], vp["size"], rng, learnable=learnable)
    window_s = 2.0
    source = _store(data, Path(directory) if directory is not None else None, f"fake_video_{seed}", writeable)
    meta = make_meta(n, window_s)
    # Two clips per video, so video-level code paths see several clips of one video; the seed is in
    # the video id so sets made with other seeds never share a video (as train and test never do).
    meta["recording"] = [f"{p}_s{seed}_v{k // 2:02d}" for p, k in zip(meta["patient"], range(n))]
    meta["unit"] = meta["patient"] + "/" + meta["recording"]
    return WindowSet(
        sources=[source],
        refs=np.column_stack([np.zeros(n, dtype=np.int64), np.arange(n)]),
        meta=meta,
        y=y if labels else None,
        classes=tuple(classes),
        info={"representation": "video", **vp, "window_s": window_s, "task": "classification", "synthetic": True},
    )
