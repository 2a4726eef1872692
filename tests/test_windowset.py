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


def test_windowset_get_refuses_out_for_a_single_window():
    ws, _ = numbered_windowset()
    with pytest.raises(ValueError, match="batch of windows"):
        ws.get(3, out=np.zeros((2, 3), np.float32))


def test_windowset_get_returns_c_contiguous_windows_from_any_source_order():
    import pandas as pd

    from benchmark.windowset import WindowSet

    source = np.asfortranarray(np.arange(60, dtype=np.float32).reshape(10, 2, 3))
    refs = np.column_stack([np.zeros(10, int), np.arange(10)])
    meta = pd.DataFrame({"patient": "p", "recording": "r", "start": np.arange(10.0), "end": np.arange(10.0) + 1})
    ws = WindowSet([source], refs, meta, None, ("a", "b"))
    for idx in ([2, 5, 7], [5, 5], [7, 2]):
        x = ws.get(np.asarray(idx))
        assert x.flags.c_contiguous and np.array_equal(x, source[idx])


@pytest.mark.parametrize("source", [-1, 1, 2])
def test_windowset_refuses_refs_to_a_source_it_was_not_given(source):
    import pandas as pd

    from benchmark.windowset import WindowSet

    refs = np.array([[0, 0], [source, 1]])
    meta = pd.DataFrame({"patient": "p", "recording": "r", "start": [0.0, 1.0], "end": [1.0, 2.0]})
    with pytest.raises(ValueError, match="refs name a source outside the 1 given"):
        WindowSet([np.zeros((3, 2), np.float32)], refs, meta, None, ("a", "b"))


@pytest.mark.parametrize("sources", [1, 2])
def test_windowset_reads_an_empty_batch_and_an_empty_subset(sources):
    ws, _ = numbered_windowset(sources=sources)
    assert ws.get(np.array([], dtype=int)).shape == (0, 2, 3)
    empty = ws.subset(np.array([], dtype=int))
    assert len(empty) == 0 and empty.load().shape == (0, 2, 3)
