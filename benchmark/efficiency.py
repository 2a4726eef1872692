"""Model size, FLOPs and latency per window: the efficiency figures methods report.

Methods that implement ``efficiency_report`` measure their inference path with these helpers (the
harness calls it once per run and shows the figures in the board's efficiency table; see
:func:`benchmark.fold_worker.clean_report` for what is kept). FLOPs are counted by
``torch.utils.flop_counter``; latency is the median CPU wall time per window over a few batches.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Parameters of ``module`` (all, or only trainable ones); works on the ``meta`` device too."""
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only))


def state_size_mb(module: nn.Module) -> float:
    """Size of ``module``'s serialised ``state_dict`` in MB (10^6 bytes)."""
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in module.state_dict().items()}, buf)
    return buf.tell() / 1e6


def flops_per_window(fn: Callable[[torch.Tensor], torch.Tensor], window_shape: tuple[int, ...]) -> int:
    """Floating-point operations of ``fn`` on one window, counted by ``torch.utils.flop_counter``."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, *window_shape)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        fn(x)
    return int(counter.get_total_flops())


def inference_ms_per_window(
    fn: Callable[[torch.Tensor], torch.Tensor], window_shape: tuple[int, ...], batch_size: int = 32, repeats: int = 5
) -> float:
    """Median CPU wall time per window over ``repeats`` batches (after one warm-up batch)."""
    x = torch.randn(batch_size, *window_shape, generator=torch.Generator().manual_seed(0))
    times = []
    with torch.inference_mode():
        fn(x)
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn(x)
            times.append((time.perf_counter() - t0) / batch_size * 1e3)
    return float(np.median(times))
