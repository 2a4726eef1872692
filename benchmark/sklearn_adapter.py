"""Any scikit-learn classifier or ``Pipeline`` as a method: :class:`SklearnAdapter`.

The estimator sees each window flattened to one row (``channels x features`` columns) of the
representation it asks for (``"bandpower"``, ``"raw"`` or ``"spectrogram"``, see
:mod:`benchmark.features`); the validation windows are used for training too, since a plain
estimator has nothing to stop early on. The harness's seed becomes every ``random_state`` of the
estimator (a Pipeline's steps included) and its thread count every ``n_jobs`` that is set, so the same seed gives
the same numbers. The estimator's own scalar parameters are the method's hyper-parameters
(``--set logisticregression__C=0.5`` for a Pipeline, as ``set_params`` names them).

An entry point of the group ``seizure_bench.methods`` may name a function returning a
:class:`SklearnAdapter` (see :func:`benchmark.adapters.adapter_class`); the in-tree band-power
baselines share the fit and predict steps here (:class:`SklearnMethod`).

scikit-learn itself is imported only when an estimator is cloned or fitted: listing methods must not
pay for it.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from abc import abstractmethod
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmark.adapters import MethodAdapter, MethodMeta, budget_params
from benchmark.bibliography import short
from benchmark.errors import BenchmarkError, DataError
from benchmark.windowset import WindowSet

if TYPE_CHECKING:
    from sklearn.base import ClassifierMixin

BATCH = 4096  # windows per read; band-power windows are a few hundred bytes each
EEG_REPRESENTATIONS = ("raw", "bandpower", "spectrogram")
DEFAULT_TASKS = ("prediction", "detection", "seizure-type")
#: Parameter values kept as hyper-parameters: what ``--set`` can give and a run's record can hold.
_SCALARS = (str, int, float, bool, type(None))


def flat_features(ws: WindowSet) -> np.ndarray:
    """All windows of ``ws`` as a ``(n, n_features)`` float32 matrix, read batch by batch."""
    n_features = int(np.prod(ws.window_shape)) if len(ws) else 0
    out = np.empty((len(ws), n_features), dtype=np.float32)
    for start in range(0, len(ws), BATCH):
        stop = min(start + BATCH, len(ws))
        out[start:stop] = ws.get(np.arange(start, stop)).reshape(stop - start, -1)
    return out


def full_proba(proba: np.ndarray, seen: np.ndarray, n_classes: int) -> np.ndarray:
    """Expand probabilities over the classes a model saw to all ``n_classes`` columns (zeros elsewhere)."""
    out = np.zeros((proba.shape[0], n_classes))
    out[:, seen] = proba
    return out


class SklearnMethod(MethodAdapter):
    """Fit and predict of a scikit-learn classifier on flattened windows; subclasses build the estimator."""

    @abstractmethod
    def _make_estimator(self, context) -> ClassifierMixin:
        """Build the (unfitted) estimator from ``self.params`` and the context's seed."""

    def fit(self, train: WindowSet, valid: WindowSet | None, context) -> None:
        # No early stopping to tune, so the validation windows are used for training too.
        data = train if valid is None or len(valid) == 0 else WindowSet.concat([train, valid])
        present = np.unique(data.y)
        if len(present) < 2:
            only = data.classes[int(present[0])] if len(present) else "none"
            raise DataError(
                f"{self.meta.name}: the training windows of this fold hold one class only ('{only}'); "
                "check the split or the task's labelling."
            )
        self.n_classes_ = data.n_classes
        self.model_ = self._make_estimator(context)
        self.model_.fit(flat_features(data), data.y)

    def predict_proba(self, test: WindowSet) -> np.ndarray:
        proba = self.model_.predict_proba(flat_features(test))
        return full_proba(proba, self.model_.classes_, self.n_classes_)


def estimator_name(estimator: Any) -> str:
    """A method name from an estimator: a Pipeline's step names joined by ``_``, else its class name."""
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and steps:
        return "_".join(str(name) for name, _ in steps).lower()
    return type(estimator).__name__.lower()


def scalar_params(estimator: Any) -> dict[str, Any]:
    """The estimator's parameters (deep, as ``set_params`` names them) whose values are plain scalars."""
    return {k: v for k, v in sorted(estimator.get_params(deep=True).items()) if isinstance(v, _SCALARS)}


def estimator_digest(estimator: Any) -> str:
    """A short hash of every parameter of the estimator (objects by their repr, addresses removed), so
    two estimators that differ in any setting never share a run id."""
    params = {k: re.sub(r" at 0x[0-9a-fA-F]+", "", repr(v)) for k, v in estimator.get_params(deep=True).items()}
    text = json.dumps({"class": f"{type(estimator).__module__}.{type(estimator).__qualname__}", "params": params})
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def caller_module(depth: int = 2) -> str:
    """The module that built an adapter instance: where a sandboxed fold imports it from, and whose
    package a run's code hash covers (``benchmark.provenance.method_code``)."""
    frame = sys._getframe(depth)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("benchmark."):
        frame = frame.f_back  # an adapter built by the suite's own code: take its caller's module
    return frame.f_globals.get("__name__", "__main__") if frame is not None else "__main__"


class SklearnAdapter(SklearnMethod):
    """A scikit-learn classifier or ``Pipeline`` as a method.

    Parameters
    ----------
    estimator
        Any unfitted classifier with ``predict_proba`` (a ``Pipeline`` ending in one included); it is
        cloned for every fold.
    representation
        What each window is before it is flattened: ``"bandpower"`` (log band power, channels x 5
        bands), ``"raw"`` (channels x samples) or ``"spectrogram"`` (channels x time x frequency).
    name
        The method's name (``--method NAME``); by default the Pipeline's step names joined by ``_``
        (``standardscaler_logisticregression``), else the estimator's class name in lower case. An
        entry point must carry this very name.
    tasks
        Tasks it takes part in (default: prediction, detection and seizure-type).
    smoke
        Parameters (``set_params`` names) replaced in the ``smoke`` budget, e.g. fewer trees.
    version
        Stored with every run and part of its id; by default a hash of the estimator's parameters.
    description, citation, representation_params, bandpass
        As in :class:`~benchmark.adapters.MethodMeta`; ``citation`` names scikit-learn unless you give one.

    Notes
    -----
    Not a published method: its ``paper`` budget is the estimator exactly as given and its ``smoke``
    budget the same with ``smoke`` applied; no pretrained weights are involved.
    """

    def __init__(
        self,
        estimator: Any,
        *,
        representation: str,
        name: str | None = None,
        tasks: tuple[str, ...] = DEFAULT_TASKS,
        smoke: dict[str, Any] | None = None,
        version: str | None = None,
        description: str = "",
        citation: str = "",
        representation_params: dict[str, Any] | None = None,
        bandpass: tuple[float, float] | None = None,
    ):
        what = f"SklearnAdapter({type(estimator).__name__})"
        if not (hasattr(estimator, "fit") and hasattr(estimator, "get_params")):
            raise BenchmarkError(f"{what}: not a scikit-learn estimator (it needs fit and get_params).")
        if not hasattr(estimator, "predict_proba"):
            raise BenchmarkError(
                f"{what}: the estimator has no predict_proba; use a classifier that gives probabilities "
                "(e.g. SVC(probability=True), or wrap it in CalibratedClassifierCV)."
            )
        if representation not in EEG_REPRESENTATIONS:
            raise BenchmarkError(
                f"{what}: representation must be one of {EEG_REPRESENTATIONS}, not {representation!r}."
            )
        paper = scalar_params(estimator)
        unknown = sorted(set(smoke or {}) - set(paper))
        if unknown:
            raise BenchmarkError(f"{what}: smoke sets '{unknown[0]}', which is not a parameter of the estimator.")
        self.estimator = estimator
        self.caller_module = caller_module()
        self.meta = MethodMeta(
            name=name or estimator_name(estimator),
            modality="eeg",
            tasks=tuple(tasks),
            representation=representation,
            budgets={"smoke": {**paper, **(smoke or {})}, "paper": paper},
            version=version or f"sklearn-{estimator_digest(estimator)}",
            citation=citation
            or f"scikit-learn {type(estimator).__name__} ({short('pedregosa2011')}); not a published method",
            description=description
            or f"scikit-learn {type(estimator).__name__} on flattened {representation} windows "
            "(not a published method).",
            representation_params=dict(representation_params or {}),
            bandpass=None if bandpass is None else (float(bandpass[0]), float(bandpass[1])),
        )
        super().__init__(budget_params(self.meta, "paper"))

    def _make_estimator(self, context) -> ClassifierMixin:
        from sklearn.base import clone

        model = clone(self.estimator)
        model.set_params(**self.params)
        names = model.get_params(deep=True)
        # The harness owns seeds and threads: every random_state, the Pipeline's steps' too, and every
        # n_jobs that is set (None is one job; setting it would warn where scikit-learn ignores it).
        model.set_params(**{k: context.seed for k in names if k == "random_state" or k.endswith("__random_state")})
        jobs = [k for k, v in names.items() if (k == "n_jobs" or k.endswith("__n_jobs")) and v is not None]
        model.set_params(**{k: context.n_jobs for k in jobs})
        return model
