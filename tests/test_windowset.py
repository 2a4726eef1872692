"""benchmark.windowset: reading windows."""

from __future__ import annotations

import numpy as np
import pytest
from fakes import numbered_windowset


@pytest.mark.parametrize("sources", [1, 2])
@pytest.mark.parametrize("idx", [[0, 2, 5, 9], [9, 0, 5, 2], [4, 4, 1]])
def test_windowset_get_into_out_equals_a_fresh_read_whatever_the_order(sources, idx):
    ws, every = numbered_windowset(sources=sources)
    idx = np.asarray(idx) * sources  # with two sources the rows span both
    out = np.full((len(idx), 2, 3), np.nan, dtype=np.float32)
    assert ws.get(idx, out=out) is out
    assert np.array_equal(out, every[idx]) and np.array_equal(ws.get(idx), every[idx])


def test_windowset_get_refuses_an_out_of_the_wrong_shape_or_type():
    ws, _ = numbered_windowset()
    with pytest.raises(ValueError, match="float32 array of shape"):
        ws.get(np.array([0, 1]), out=np.zeros((3, 2, 3), np.float32))
    with pytest.raises(ValueError, match="float32 array of shape"):
        ws.get(np.array([0, 1]), out=np.zeros((2, 2, 3), np.float64))
