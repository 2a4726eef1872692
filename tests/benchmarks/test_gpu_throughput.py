"""Training samples per second on a GPU, with pinned-memory transfers and mixed precision.

Issue 6's GPU requirement. The ``cuda`` case is skipped without CUDA (this project's CI has none);
run it on a GPU machine as DEVELOPERS.md describes. The ``cpu`` case runs the same code with a
small batch and few steps, so the benchmark itself is exercised wherever the suite runs (on CPU no
pinned memory or mixed precision is involved, and its figure says nothing about a GPU). SYNTHETIC
inputs: a memmap-backed window set of the ResNet-LSTM's STFT images (18 x 21 x 60), read batch by
batch as the methods read them, through :func:`benchmark.torch_utils.prefetched` (on CUDA the next
batch is read into pinned host memory on a background thread while the GPU trains on this one, then
copied without blocking) and trained with the ResNet-18 encoder of ``resnet_lstm_supcon`` under
``benchmark.torch_utils._autocast`` (bf16 where supported, else fp16 with a gradient scaler).

Reported in ``extra_info``: samples per second of whole steps (loader + transfer + step), the
loader's share of a step, the precision used and the GPU's name. The loader must stay under 10 % of
a step, as on CPU (``test_loader_overhead.py``).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

#: Batch and timed steps per device: the GPU figure; a short CPU run of the same code.
SETTINGS = {"cuda": (256, 30), "cpu": (16, 3)}
SHAPE = (18, 21, 60)
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (see DEVELOPERS.md)")


@pytest.mark.benchmark(group="gpu")
@pytest.mark.parametrize("device_type", [pytest.param("cuda", marks=needs_cuda), "cpu"])
def test_training_samples_per_second(benchmark, tmp_path, bench_summary, device_type):
    from benchmark import torch_utils
    from benchmark.windowset import WindowSet
    from methods import _resnet_lstm_parts as parts

    batch, steps = SETTINGS[device_type]
    n = batch * 8
    data = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32, shape=(n, *SHAPE))
    data[:] = np.random.default_rng(0).standard_normal((n, *SHAPE), dtype=np.float32)
    data.flush()
    import pandas as pd

    meta = pd.DataFrame(
        {
            "patient": "p",
            "recording": "r",
            "start": np.arange(n, dtype=float),
            "end": np.arange(n, dtype=float) + 10,
            "unit": "u",
        }
    )
    ws = WindowSet(
        [np.load(tmp_path / "X.npy", mmap_mode="r")],
        np.column_stack([np.zeros(n, int), np.arange(n)]),
        meta,
        np.arange(n) % 2,
        ("a", "b"),
    )
    device = torch.device(device_type)
    sync = torch.cuda.synchronize if device_type == "cuda" else (lambda: None)
    model = torch.nn.Sequential(parts.resnet18_encoder(SHAPE[0]), torch.nn.Linear(parts.EMBED_DIM, 2)).to(device)
    optimiser = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    amp, scaler = torch_utils._autocast(device)
    rng = np.random.default_rng(1)
    warmup = 3
    batches = [np.sort(rng.choice(n, batch, replace=False)) for _ in range(warmup + steps)]
    # As the methods read their batches: the next one is read and pinned while the GPU trains on this one.
    stream = torch_utils.prefetched(batches, ws, device)
    loader_s, step_s = [], []

    def step():
        t0 = time.perf_counter()
        idx, x = next(stream)
        y = torch_utils.to_device(ws.y[idx], device)
        t1 = time.perf_counter()
        with amp:
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        torch_utils.optimizer_step(optimiser, loss, scaler)
        sync()
        loader_s.append(t1 - t0)
        step_s.append(time.perf_counter() - t1)

    for _ in range(warmup):  # warm-up: cuDNN autotuning, allocator
        step()
    loader_s.clear(), step_s.clear()
    benchmark.pedantic(step, rounds=steps, iterations=1)
    stream.close()  # every batch was taken: ends the reading thread now, not at garbage collection
    per_step = np.median(np.add(loader_s, step_s))
    share = float(np.median(loader_s) / per_step)
    rate = batch / per_step
    if device_type == "cuda":
        name, precision = torch.cuda.get_device_name(0), "bf16" if scaler is None else "fp16+scaler"
    else:
        name, precision = f"({torch.get_num_threads()} threads)", "fp32"
    benchmark.extra_info.update(
        {
            "samples_per_s": round(rate, 1),
            "loader_share": round(share, 4),
            "precision": precision,
            "device": name,
            "batch": batch,
            "synthetic": True,
        }
    )
    line = (
        f"{'GPU' if device_type == 'cuda' else 'CPU'} {name}: {rate:.0f} training samples/s ({precision}), "
        f"loader {share:.1%} of a step"
    )
    bench_summary.append(line)
    print(line)
    assert share < 0.10, line
