"""Any braindecode model class as a method: :class:`BraindecodeAdapter`.

The network sees raw windows ``(n_chans, n_times)`` after a per-window centring and per-channel
robust scaling fitted on the training windows (:func:`benchmark.torch_utils.with_input_scaling`), and
is trained with :func:`benchmark.torch_utils.train_classifier` (AdamW, class-weighted cross-entropy,
weights of the epoch with the lowest validation loss kept). The in-tree EEGNet and Shallow ConvNet
baselines share these steps (:class:`BraindecodeNet`).

An entry point of the group ``seizure_bench.methods`` may name a ``BraindecodeAdapter`` instance or a
function returning one (see :func:`benchmark.adapters.adapter_class`). braindecode and torch are
imported only when a network is built.
"""

from __future__ import annotations

import warnings
from abc import abstractmethod
from typing import Any

import numpy as np

from benchmark.adapters import FitContext, MethodAdapter, MethodMeta, budget_params
from benchmark.bibliography import short
from benchmark.errors import BenchmarkError, DataError
from benchmark.sklearn_adapter import DEFAULT_TASKS, caller_module
from benchmark.windowset import WindowSet

# Budget keys consumed by the training loop; every other key parameterises the network.
TRAIN_KEYS = ("epochs", "lr", "batch_size", "weight_decay", "patience", "max_windows_per_epoch")
PREDICT_BATCH = 256
#: Training of a :class:`BraindecodeAdapter` unless its arguments say otherwise. ``smoke`` is a
#: plumbing check that trains in seconds on two CPU cores, not a result.
TRAINING = {
    "paper": {"epochs": 100, "lr": 1e-3, "batch_size": 64, "weight_decay": 0.0, "patience": 10},
    "smoke": {"epochs": 4, "lr": 1e-3, "batch_size": 64, "weight_decay": 0.0, "patience": None},
}
MAX_WINDOWS = {"paper": None, "smoke": 2048}


def braindecode_models():
    """``braindecode.models``, imported on first use: braindecode pulls in skorch, scikit-learn and
    torch (~10 s), which commands such as listing methods should not pay. Its import-time MNE
    deprecation warnings are noise here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import braindecode.models as models
    return models


class BraindecodeNet(MethodAdapter):
    """Shared training and inference of a network on raw windows; subclasses build the network."""

    @abstractmethod
    def _build_net(self, n_chans: int, n_outputs: int, n_times: int, sfreq: float | None):
        """Return the untrained ``torch.nn.Module`` mapping ``(b, n_chans, n_times)`` to logits."""

    def _net_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.params.items() if k not in TRAIN_KEYS}

    def fit(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:
        from benchmark import torch_utils  # lazy: keeps listing free of torch

        if len(train.window_shape) != 2:
            raise DataError(
                f"{self.meta.name} needs raw windows (channels, samples), got windows of shape "
                f"{train.window_shape}; build the fold with representation 'raw'."
            )
        n_chans, n_times = train.window_shape
        torch_utils.seed_everything(context.seed)
        net = self._build_net(n_chans, train.n_classes, n_times, train.info.get("sfreq"))
        self.model_ = torch_utils.with_input_scaling(net, train)
        self.device_ = context.device
        self.train_result_ = torch_utils.train_classifier(
            self.model_, train, valid, context, **{k: self.params[k] for k in TRAIN_KEYS}
        )
        context.logger.info(
            "%s: %d epochs in %.1f s, kept epoch %d",
            self.meta.name,
            self.train_result_.epochs_run,
            self.train_result_.seconds,
            self.train_result_.best_epoch,
        )

    def predict_proba(self, test: WindowSet) -> np.ndarray:
        from benchmark import torch_utils

        return torch_utils.predict_proba_torch(self.model_, test, self.device_, PREDICT_BATCH)

    def n_parameters(self) -> int | None:
        from benchmark import torch_utils

        model = getattr(self, "model_", None)
        return None if model is None else torch_utils.count_parameters(model)


class BraindecodeAdapter(BraindecodeNet):
    """A braindecode model class (``braindecode.models.ShallowFBCSPNet``, ``EEGNet``, ...) as a method.

    The class is built per fold as ``model_cls(n_chans=..., n_outputs=..., n_times=..., sfreq=...,
    **kwargs)``, from random initialisation: the fold's shape and sampling rate come from the data.

    Parameters
    ----------
    model_cls
        A braindecode model class (any ``torch.nn.Module`` class taking those four arguments works).
    name
        The method's name (``--method NAME``); by default the class name in lower case. An entry
        point must carry this very name.
    tasks
        Tasks it takes part in (default: prediction, detection and seizure-type).
    smoke
        Settings replaced in the ``smoke`` budget (training or network keyword arguments).
    version, description, citation
        As in :class:`~benchmark.adapters.MethodMeta`; ``citation`` names braindecode unless you give
        one (give the model's own paper).
    **kwargs
        Keyword arguments of the network, and training settings (:data:`TRAIN_KEYS`: ``epochs``,
        ``lr``, ``batch_size``, ``weight_decay``, ``patience``, ``max_windows_per_epoch``) that replace
        :data:`TRAINING`'s in both budgets. Values must be JSON scalars or lists: they are the run's
        hyper-parameters (``--set NAME=VALUE``).

    Notes
    -----
    Not a published method: its ``paper`` budget is the settings given here (100 epochs with early
    stopping after 10 without a better validation loss, unless changed), its ``smoke`` budget 4 epochs
    on at most 2048 windows per epoch. No pretrained weights are loaded.
    """

    def __init__(
        self,
        model_cls: type,
        *,
        name: str | None = None,
        tasks: tuple[str, ...] = DEFAULT_TASKS,
        smoke: dict[str, Any] | None = None,
        version: str = "1",
        description: str = "",
        citation: str = "",
        **kwargs: Any,
    ):
        if not isinstance(model_cls, type):
            raise BenchmarkError(
                f"BraindecodeAdapter takes a model class (e.g. braindecode.models.ShallowFBCSPNet), "
                f"not a {type(model_cls).__name__}; pass the class and its keyword arguments."
            )
        budgets = {b: {**TRAINING[b], "max_windows_per_epoch": MAX_WINDOWS[b], **kwargs} for b in ("smoke", "paper")}
        budgets["smoke"].update(smoke or {})
        unknown = sorted(set(smoke or {}) - set(budgets["paper"]))
        if unknown:
            raise BenchmarkError(
                f"BraindecodeAdapter({model_cls.__name__}): smoke sets '{unknown[0]}', which is neither a "
                "training setting nor one of its keyword arguments; give it as a keyword argument too."
            )
        self.model_cls = model_cls
        self.caller_module = caller_module()
        self.meta = MethodMeta(
            name=name or model_cls.__name__.lower(),
            modality="eeg",
            tasks=tuple(tasks),
            representation="raw",
            budgets=budgets,
            version=version,
            citation=citation
            or f"{model_cls.__name__} from braindecode ({short('schirrmeister2017')}); not a published method",
            description=description
            or f"{model_cls.__module__}.{model_cls.__qualname__} on raw windows, trained from scratch "
            "(not a published method).",
        )
        super().__init__(budget_params(self.meta, "paper"))

    def _build_net(self, n_chans: int, n_outputs: int, n_times: int, sfreq: float | None):
        return self.model_cls(n_chans=n_chans, n_outputs=n_outputs, n_times=n_times, sfreq=sfreq, **self._net_params())
