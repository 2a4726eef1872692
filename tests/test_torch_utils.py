"""benchmark.torch_utils: reading batches ahead of the training loop."""

from __future__ import annotations

import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fakes import numbered_windowset  # noqa: E402

from benchmark.torch_utils import prefetched, read_ahead  # noqa: E402


def test_read_ahead_keeps_order_and_reads_the_next_item_on_another_thread_while_the_caller_works():
    drawn, threads = [], []

    def items():
        for i in range(5):
            drawn.append(i)
            yield i

    def fn(i):
        threads.append(threading.current_thread().name)
        return i * 10

    seen = []
    for item, value in read_ahead(items(), fn):
        # The caller's item came out; the next one has already been drawn (one ahead, not more).
        assert drawn == list(range(min(item + 2, 5)))
        seen.append((item, value))
    assert seen == [(i, i * 10) for i in range(5)]
    assert threads and all(name != threading.current_thread().name for name in threads)


def test_read_ahead_raises_a_failed_read_where_its_item_comes_out():
    def fn(i):
        if i == 2:
            raise ValueError("unreadable window 2")
        return i

    got = []
    with pytest.raises(ValueError, match="unreadable window 2"):
        for item, _ in read_ahead(range(4), fn):
            got.append(item)
    assert got == [0, 1]


def test_read_ahead_of_nothing_yields_nothing():
    assert list(read_ahead([], lambda i: i)) == []


def test_prefetched_on_cpu_reads_each_batch_when_it_is_needed_without_a_copy():
    data = np.arange(24, dtype=np.float32).reshape(6, 4)
    batches = [np.array([0, 1]), np.array([5, 2])]
    calls = []

    def load(idx):
        calls.append(idx)
        return data[idx]

    stream = prefetched(batches, load, torch.device("cpu"))
    idx, x = next(stream)
    assert len(calls) == 1  # nothing read ahead on CPU: the cores are the training's
    assert np.array_equal(x.numpy(), data[[0, 1]]) and np.array_equal(idx, [0, 1])
    rest = list(stream)
    assert [i.tolist() for i, _ in rest] == [[5, 2]] and np.array_equal(rest[0][1].numpy(), data[[5, 2]])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_prefetched_on_cuda_gives_the_same_batches_on_the_device():
    ws, every = numbered_windowset(n=64, sources=2)
    batches = [np.arange(i, i + 8) for i in range(0, 128, 8)][::-1]
    for load in (ws, every.__getitem__):  # straight into pinned memory, and through a copy into it
        out = [(idx, x.cpu().numpy()) for idx, x in prefetched(batches, load, torch.device("cuda"))]
        assert [idx.tolist() for idx, _ in out] == [b.tolist() for b in batches]
        assert all(np.array_equal(x, every[idx]) for idx, x in out)


def test_prefetched_reads_a_window_sets_rows_of_each_batch():
    ws, every = numbered_windowset()
    batches = [np.array([3, 1]), np.array([7, 7, 2])]
    got = list(prefetched(batches, ws, torch.device("cpu"), rows=lambda b: np.unique(b)))
    assert [b.tolist() for b, _ in got] == [[3, 1], [7, 7, 2]]
    assert np.array_equal(got[0][1].numpy(), every[[1, 3]]) and np.array_equal(got[1][1].numpy(), every[[2, 7]])
