"""Training and inference helpers shared by the PyTorch adapters.

Windows stream from the cache batch by batch (:meth:`WindowSet.batch_indices`, :func:`prefetched`), so
memory stays flat however many hours of EEG a fold holds. Input scaling is a module
(:class:`InputScaler`) fitted on the training windows and placed in front of the network, so it is
saved and restored with the model's state.

Determinism: :func:`seed_everything` plus a seeded shuffling generator make two CPU runs with the
same seed give the same numbers. On CUDA, mixed precision (bf16 where supported, else fp16 with loss
scaling) is used and results may differ in the last digits between runs.
"""

from __future__ import annotations

import logging
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from benchmark.adapters import FitContext
from benchmark.errors import DataError
from benchmark.weights import (  # noqa: F401  (re-exported: one rule for weights, used with the loader)
    NOT_THE_PAPERS_SETTING,
    RANDOM_WEIGHTS,
    WEIGHT_SUFFIXES,
    MissingWeightsError,
    file_sha256,
    random_init_source,
    weights_file,
    weights_provenance,
)
from benchmark.windowset import WindowSet

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's legacy and PyTorch's (CPU and CUDA) random generators.

    Network initialisation and dropout draw from PyTorch's global generator, so it must be seeded
    before a model is built for two runs with the same seed to agree.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    # Some CPU kernels (scatter/index accumulation in backward passes) add in thread-dependent
    # order unless asked not to; same seed must mean same numbers. Warn, never fail, where an op
    # has no deterministic variant.
    _deterministic_algorithms()


def _deterministic_algorithms() -> None:
    """``torch.use_deterministic_algorithms(True, warn_only=True)`` without its import of
    ``torch._inductor.config`` (and ``torch._dynamo``, about 6 s per training process): the kernels'
    flag is set directly; inductor's, which only compiled graphs read, only where inductor is loaded."""
    set_flag = getattr(torch._C, "_set_deterministic_algorithms", None)
    if set_flag is None or "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(True, warn_only=True)
        return
    set_flag(True, warn_only=True)


class InputScaler(nn.Module):
    """Per-window centring and per-channel robust scaling, as the first layer of a network.

    ``forward`` removes each window's per-channel mean over the last axis (the electrode offset),
    divides channel ``c`` by ``scale[c]`` and clips to ``±clip`` so that rare artefacts of hundreds of
    µV do not dominate the gradients. ``scale`` is fitted on training windows only
    (:meth:`fit`) and kept as a buffer, so it travels with the state dict and is never trained.
    """

    def __init__(self, n_chans: int, clip: float = 20.0):
        super().__init__()
        self.clip = float(clip)
        self.register_buffer("scale", torch.ones(n_chans))

    @torch.no_grad()
    def fit(self, train: WindowSet, batch_size: int = 256) -> InputScaler:
        """Set ``scale`` to the median, over training windows, of each channel's standard deviation."""
        stds = []
        for x, _ in train.iter_batches(batch_size):
            stds.append(x.reshape(x.shape[0], x.shape[1], -1).std(axis=-1))
        scale = np.median(np.concatenate(stds), axis=0)
        # Flat channels (std 0) would divide by zero; give them unit scale instead.
        scale = np.where(scale > 1e-6, scale, 1.0).astype(np.float32)
        self.scale.copy_(torch.from_numpy(scale))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x - x.mean(dim=-1, keepdim=True)
        x = x / self.scale.view(1, -1, *([1] * (x.dim() - 2)))
        return x.clamp(-self.clip, self.clip)


def with_input_scaling(net: nn.Module, train: WindowSet, clip: float = 20.0) -> nn.Sequential:
    """Return ``nn.Sequential(InputScaler fitted on train, net)``."""
    return nn.Sequential(InputScaler(train.window_shape[0], clip=clip).fit(train), net)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Balanced class weights ``n / (n_classes_present * count)``; absent classes get weight 0."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(n_classes)
    w[present] = len(y) / (present.sum() * counts[present])
    return w


def to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A host batch as a tensor on ``device``.

    On CUDA the batch goes through pinned (page-locked) host memory and is copied with
    ``non_blocking=True``, so the copy overlaps the GPU's work on the previous batch instead of
    stalling it; on CPU the array is wrapped without a copy.
    """
    tensor = torch.from_numpy(array)
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor


_B = TypeVar("_B")


def prefetched(
    batches: Iterable[_B],
    load: WindowSet | Callable[[_B], np.ndarray],
    device: torch.device,
    rows: Callable[[_B], np.ndarray] | None = None,
) -> Iterator[tuple[_B, torch.Tensor]]:
    """Each of ``batches`` with its windows as a tensor on ``device``: ``load(batch)``, or, when
    ``load`` is a window set, its windows ``rows(batch)`` (``batch`` itself without ``rows``).

    On CUDA, the next batch's windows are read from the cache into pinned host memory on a
    background thread while the GPU trains on this one, so reading does not stall the GPU (issue 6's
    target: the loader under 10 % of a step, ``tests/benchmarks/test_gpu_throughput.py``); a window
    set is read straight into the pinned memory. ``batches`` is advanced in the caller's thread one
    batch ahead, so it must not share a random generator with the loop's body; reads run on one
    thread, one batch at a time, and the caller must not read the same window set while iterating.
    On CPU each batch is read when it is needed, as :func:`to_device` would: the cores belong to the
    training, and CPU numbers stay as they were.
    """

    def positions(batch: _B) -> np.ndarray:
        return np.asarray(batch if rows is None else rows(batch))

    if device.type != "cuda":
        for batch in batches:
            x = load.get(positions(batch)) if isinstance(load, WindowSet) else load(batch)
            yield batch, to_device(x, device)
        return

    def pinned(batch: _B) -> torch.Tensor:
        if not isinstance(load, WindowSet):
            return torch.from_numpy(load(batch)).pin_memory()
        idx = positions(batch)
        if idx.ndim == 0:  # one window, without a batch axis: as on CPU
            return torch.from_numpy(load.get(idx)).pin_memory()
        buf = torch.empty((len(idx), *load.window_shape), dtype=torch.float32, pin_memory=True)
        load.get(idx, out=buf.numpy())
        return buf

    init = (lambda: torch.cuda.set_device(device)) if device.index is not None else None
    for batch, host in read_ahead(batches, pinned, init):
        yield batch, host.to(device, non_blocking=True)


_END = object()


def read_ahead(
    items: Iterable[_B], fn: Callable[[_B], Any], initializer: Callable[[], None] | None = None
) -> Iterator[tuple[_B, Any]]:
    """``(item, fn(item))`` in order, ``fn`` of the next item running on one background thread
    while the caller works on this one. ``items`` is advanced in the caller's thread, one ahead; an
    exception of ``fn`` is raised where its item is yielded; leaving early waits for the read under way."""
    it = iter(items)
    with ThreadPoolExecutor(1, thread_name_prefix="seizure-bench-read-ahead", initializer=initializer) as pool:
        ahead = next(it, _END)
        future = pool.submit(fn, ahead) if ahead is not _END else None
        while future is not None:
            item, result = ahead, future.result()
            ahead = next(it, _END)
            future = pool.submit(fn, ahead) if ahead is not _END else None
            yield item, result


def _autocast(device: torch.device):
    """Mixed-precision context for CUDA (bf16 where supported); plain fp32 elsewhere."""
    if device.type != "cuda":
        return nullcontext(), None
    if torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16), None
    return torch.autocast("cuda", dtype=torch.float16), torch.amp.GradScaler("cuda")


@dataclass
class TrainResult:
    """What :func:`train_classifier` did: per-epoch losses and the epoch whose weights were kept."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_valid_loss: float | None = None
    seconds: float = 0.0

    @property
    def epochs_run(self) -> int:
        return len(self.history)


def _weighted_loss_sum(logits: torch.Tensor, y: torch.Tensor, weight: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Class-weighted cross-entropy summed over the batch, and the summed weight.

    Sums (not per-batch means) are accumulated so that an epoch's loss is the exact weighted mean
    over all its windows, whatever the batch sizes.
    """
    loss = nn.functional.cross_entropy(logits.float(), y, weight=weight, reduction="sum")
    return loss, float(weight[y].sum())


def _mean_loss(model: nn.Module, ws: WindowSet, weight: torch.Tensor, device: torch.device, batch_size: int) -> float:
    model.eval()
    amp, _ = _autocast(device)
    total, norm = 0.0, 0.0
    with torch.inference_mode():
        for idx, x in prefetched(ws.batch_indices(batch_size), ws, device):
            with amp:
                logits = model(x)
            loss, w = _weighted_loss_sum(logits, to_device(ws.y[idx], device), weight)
            total, norm = total + float(loss), norm + w
    return total / norm if norm > 0 else float("nan")


def optimizer_step(opt: torch.optim.Optimizer, loss: torch.Tensor, grad_scaler=None) -> None:
    """One optimiser step, with loss scaling when fp16 mixed precision is on."""
    opt.zero_grad(set_to_none=True)
    if grad_scaler is not None:
        grad_scaler.scale(loss).backward()
        grad_scaler.step(opt)
        grad_scaler.update()
    else:
        loss.backward()
        opt.step()


def train_classifier(
    model: nn.Module,
    train: WindowSet,
    valid: WindowSet | None,
    context: FitContext,
    epochs: int,
    lr: float,
    batch_size: int,
    weight_decay: float = 0.0,
    class_weighted: bool = True,
    patience: int | None = None,
    max_windows_per_epoch: int | None = None,
) -> TrainResult:
    """Train ``model`` (logits out) with AdamW and cross-entropy, in place.

    Parameters
    ----------
    model
        Network mapping a float32 batch ``(b, *train.window_shape)`` to logits ``(b, n_classes)``;
        wrap it with :func:`with_input_scaling` for raw EEG. Moved to ``context.device``.
    train, valid
        Labelled windows; ``valid`` (optional) selects the epoch with the lowest validation loss,
        whose weights are restored at the end.
    context
        Seed, device and progress switch from the harness. Shuffling uses a generator seeded with
        ``context.seed``; seed the model's initialisation yourself (:func:`seed_everything`).
    epochs, lr, batch_size, weight_decay
        Optimisation settings.
    class_weighted
        Weight the loss by balanced class weights from ``train.y`` (seizure windows are rare).
    patience
        Stop after this many epochs without a lower validation loss (``None``: run all epochs).
    max_windows_per_epoch
        Train each epoch on a fresh random subset of at most this many windows (``None``: all).

    Returns
    -------
    TrainResult
        Per-epoch losses, the kept epoch and the wall time.
    """
    if train.y is None:
        raise ValueError("train_classifier needs a labelled training set")
    t0 = time.perf_counter()
    device = torch.device(context.device)
    model.to(device)
    weights = class_weights(train.y, train.n_classes) if class_weighted else np.ones(train.n_classes)
    weight = torch.tensor(weights, dtype=torch.float32, device=device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    amp, grad_scaler = _autocast(device)
    rng = np.random.default_rng(context.seed)
    use_valid = valid is not None and len(valid) > 0
    result, best = TrainResult(), _BestEpoch()
    epoch_iter = _epoch_iter(epochs, context.progress)
    for epoch in epoch_iter:
        model.train()
        subset = _epoch_subset(train, max_windows_per_epoch, rng)
        train_loss = _train_epoch(model, subset, optimiser, weight, device, batch_size, rng, amp, grad_scaler)
        record = {"epoch": epoch, "train_loss": train_loss}
        if use_valid:
            record["valid_loss"] = _mean_loss(model, valid, weight, device, batch_size)
            best.update(model, record["valid_loss"], epoch, result)
        result.history.append(record)
        context.logger.debug("epoch %d: %s", epoch, record)
        if context.progress:
            epoch_iter.set_postfix({k: round(v, 4) for k, v in record.items() if k != "epoch"})
        if use_valid and patience is not None and best.stale >= patience:
            context.logger.info("early stop at epoch %d (best %d)", epoch, result.best_epoch)
            break
    best.restore(model, result)
    model.eval()
    result.seconds = time.perf_counter() - t0
    return result


def _epoch_iter(epochs: int, progress: bool):
    """The epoch numbers, with a progress bar when the harness asks for one."""
    if not progress:
        return range(epochs)
    from tqdm.auto import tqdm

    return tqdm(range(epochs), desc="epochs", unit="epoch", leave=False)


def _epoch_subset(train: WindowSet, max_windows: int | None, rng: np.random.Generator) -> WindowSet:
    """The windows of one epoch: all, or a fresh random subset of at most ``max_windows``."""
    if max_windows is not None and len(train) > max_windows:
        return train.subset(np.sort(rng.choice(len(train), max_windows, replace=False)))
    return train


def _train_epoch(
    model: nn.Module,
    subset: WindowSet,
    optimiser: torch.optim.Optimizer,
    weight: torch.Tensor,
    device: torch.device,
    batch_size: int,
    rng: np.random.Generator,
    amp,
    grad_scaler,
) -> float:
    """One pass over ``subset`` in shuffled batches; the epoch's class-weighted mean training loss."""
    total, norm = 0.0, 0.0
    # Batch norm cannot train on a single window.
    batches = [b for b in subset.batch_indices(batch_size, shuffle=True, rng=rng) if len(b) > 1 or len(subset) == 1]
    for idx, xb in prefetched(batches, subset, device):
        yb = to_device(subset.y[idx], device)
        with amp:
            logits = model(xb)
        loss_sum, batch_weight = _weighted_loss_sum(logits, yb, weight)
        if batch_weight == 0:
            continue  # only classes absent from the weighting: nothing to learn from
        loss = loss_sum / batch_weight
        optimizer_step(optimiser, loss, grad_scaler)
        total, norm = total + float(loss_sum.detach()), norm + batch_weight
    return total / norm if norm > 0 else float("nan")


@dataclass
class _BestEpoch:
    """The epoch with the lowest validation loss so far, its weights, and the epochs since."""

    state: dict[str, torch.Tensor] | None = None
    loss: float = np.inf
    stale: int = 0

    def update(self, model: nn.Module, valid_loss: float, epoch: int, result: TrainResult) -> None:
        if valid_loss < self.loss:
            self.loss, self.stale, result.best_epoch = valid_loss, 0, epoch
            # An explicit copy: .cpu() of a CPU tensor is the same storage, which training would overwrite.
            self.state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        else:
            self.stale += 1

    def restore(self, model: nn.Module, result: TrainResult) -> None:
        """Load the kept weights into ``model`` (without validation: the last epoch is kept)."""
        if self.state is not None:
            model.load_state_dict(self.state)
            result.best_valid_loss = float(self.loss)
        else:
            result.best_epoch = len(result.history) - 1


def predict_proba_torch(
    model: nn.Module, test: WindowSet, device: str | torch.device, batch_size: int = 256
) -> np.ndarray:
    """Softmax class probabilities ``(len(test), n_classes)`` as float64; never reads labels."""
    device = torch.device(device)
    model.to(device).eval()
    amp, _ = _autocast(device)
    out = []
    with torch.inference_mode():
        for _, x in prefetched(test.batch_indices(batch_size), test, device):
            with amp:
                logits = model(x)
            out.append(torch.softmax(logits.double(), dim=-1).cpu().numpy())
    if not out:
        return np.zeros((0, test.n_classes))
    return np.concatenate(out)


# ------------------------------------------------------------------------------------------------------------
# Pretrained weights: the rule (benchmark.weights) and the loader
# ------------------------------------------------------------------------------------------------------------

# Wrappers a checkpoint's keys may carry (DataParallel, Lightning, training scripts, PySlowFast).
_KEY_PREFIXES = ("", "module.", "model.", "backbone.", "encoder.", "model.module.")
# Containers checkpoints keep their state dict in (the first one present is used).
_CONTAINERS = ("state_dict", "model_state_dict", "model_state", "model", "module")
# Buffers some older checkpoints lack; BatchNorm counts them only for momentum=None.
_OPTIONAL_KEYS = ("num_batches_tracked",)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a local ``.pt``/``.pth``/``.pyth``/``.bin``/``.ckpt`` (``torch.load`` with
    ``weights_only=True``, onto the CPU) or ``.safetensors`` file, taken out of a container such as
    ``{"state_dict": ...}``, ``{"model_state": ...}`` (PySlowFast/TimeSformer) or ``{"model": ...}``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"weights file {path} not found; give the path of a local state dict ({', '.join(WEIGHT_SUFFIXES)})."
        )
    suffix = path.suffix.lower()
    if suffix not in WEIGHT_SUFFIXES:
        raise DataError(f"weights file {path.name} has an unknown suffix; use one of {', '.join(WEIGHT_SUFFIXES)}.")
    try:
        if suffix == ".safetensors":
            from safetensors.torch import load_file

            obj: Any = load_file(str(path), device="cpu")
        else:
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load and safetensors raise many types on a damaged or foreign file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"cannot read weights file {path.name} as a state dict ({first}); is it a PyTorch or safetensors file?"
        ) from exc
    for key in _CONTAINERS:
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not any(isinstance(v, torch.Tensor) for v in obj.values()):
        raise DataError(f"weights file {path.name} holds no tensors by name; save model.state_dict(), not the model.")
    return {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}


def _preview(keys: list[str]) -> str:
    return ", ".join(keys[:3]) + (f" ... ({len(keys)} in all)" if len(keys) > 3 else "")


def load_weights(
    module: nn.Module,
    path: str | Path,
    ignore: tuple[str, ...] = (),
    convert: Callable[[dict[str, torch.Tensor], dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None,
) -> str:
    """Load every tensor of ``module`` from a local checkpoint, or refuse the file in one line.

    The file's keys may carry a wrapper prefix (``module.``, ``model.``, ...; the one that matches the
    most names is removed). Every tensor of ``module`` must be in the file with its shape (buffers
    named ``num_batches_tracked`` may be absent), and every tensor of the file must be in ``module``
    unless its name starts with one of ``ignore`` (a classifier the module does not have, such as
    ``fc.`` of an ImageNet ResNet used without its classification layer).

    Parameters
    ----------
    module
        Network to load into, in place.
    path
        Local weights file. Nothing is downloaded.
    ignore
        Name prefixes of file tensors that are dropped (after the wrapper prefix is removed).
    convert
        ``convert(file_state, own_state) -> state`` renames another layout's keys (e.g. a Hugging
        Face checkpoint) to the module's; applied before the prefix is chosen.

    Returns
    -------
    str
        ``"local file <name> sha256 <12 hex>"``.

    Raises
    ------
    DataError
        The file is missing or unreadable, or does not fit ``module``: the message names the file and
        the first missing, unexpected or mis-shaped tensors.
    """
    path = Path(path)
    state = read_state_dict(path)
    own = module.state_dict()
    if convert is not None:
        state = convert(state, own)
    hits = {p: sum(1 for k in state if k.startswith(p) and k[len(p) :] in own) for p in _KEY_PREFIXES}
    prefix = max(_KEY_PREFIXES, key=hits.get)
    renamed = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    missing = [k for k in own if k not in renamed and not k.endswith(_OPTIONAL_KEYS)]
    unexpected = [
        k
        for k in state
        if not k.startswith(prefix) or (k[len(prefix) :] not in own and not k[len(prefix) :].startswith(ignore))
    ]
    shapes = [
        f"{k} {tuple(renamed[k].shape)} (model {tuple(own[k].shape)})"
        for k in own
        if k in renamed and tuple(renamed[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or shapes:
        problems = [
            f"{what} {_preview(keys)}"
            for what, keys in (("missing", missing), ("unexpected", unexpected), ("other shapes:", shapes))
            if keys
        ]
        raise DataError(
            f"weights file {path.name} does not fit {type(module).__name__}: {'; '.join(problems)}; is it a "
            "checkpoint of another architecture or size?"
        )
    module.load_state_dict({k: v for k, v in renamed.items() if k in own}, strict=False)
    return weights_provenance(path)
