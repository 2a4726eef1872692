"""Windowing and the window cache's reading path (resampling, bounded spans)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmark.windows import MAX_READ_S, Preprocessing, _fill, _read_pad


class SineReader:
    """Stands in for an EDF reader: a 5-Hz sine on every channel at ``sfreq``; records each read."""

    def __init__(self, sfreq: float, n_chans: int = 2, duration_s: float = 400.0):
        self.sfreq, self.n_chans, self.reads = sfreq, n_chans, []
        self.n_samples = int(round(duration_s * sfreq))  # as benchmark.edf.EDFReader has it

    def read(self, start: float, stop: float) -> np.ndarray:
        self.reads.append((start, stop))
        t = np.arange(int(round(start * self.sfreq)), int(round(stop * self.sfreq))) / self.sfreq
        return np.tile(np.sin(2 * np.pi * 5 * t), (self.n_chans, 1)).astype(np.float32)


@pytest.mark.parametrize("native", [512.0, 200.0, 256.0])
def test_windows_are_resampled_to_the_target_rate(native):
    rows = pd.DataFrame({"start": np.arange(0, 300, 10.0), "end": np.arange(10, 310, 10.0)})
    prep = Preprocessing(("a", "b"), 256.0, "raw", {})
    out = np.zeros((len(rows), 2, 2560), dtype=np.float32)
    reader = SineReader(native)
    _fill(reader, rows, out, prep, 2560)
    t = rows["start"].to_numpy()[:, None] + np.arange(2560)[None, :] / 256.0
    expected = np.sin(2 * np.pi * 5 * t)
    inner = slice(64, -64)  # resampling filters ring at the edges of each read span
    assert np.abs(out[:, 0, inner] - expected[:, inner]).max() < 0.02
    # reads are bounded (a span plus the resampling filter's padding on each side): memory does not
    # grow with the length of the recording
    assert max(b - a for a, b in reader.reads) <= MAX_READ_S + 2 * _read_pad(native, prep)
    assert len(reader.reads) >= 3
