"""Test adapters for the executor tests, importable by Dask worker processes.

Workers load this file as a preload module (``LocalCluster(preload=[HELPERS])``); its
``dask_setup`` hook registers the adapters in each worker, including a worker the nanny restarts.
Importing the module registers nothing, so the main test process registers them only for the
tests that need them (:func:`registered`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from fakes import harness_fold_id

from benchmark.adapters import REGISTRY, MethodAdapter, MethodMeta

HELPERS = str(Path(__file__).resolve())


def _in_dask_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


class CentroidAdapter(MethodAdapter):
    """Nearest class centroid on band powers: cheap, deterministic, and its scores depend on the data."""

    meta = MethodMeta(
        name="centroid_exec_test",
        modality="eeg",
        tasks=("prediction", "detection"),
        representation="bandpower",
        budgets={"smoke": {"marker_dir": ""}, "paper": {"marker_dir": ""}},
    )

    def fit(self, train, valid, context):
        x = train.load().reshape(len(train), -1).astype(np.float64)
        self.centroids_ = np.stack([x[train.y == k].mean(axis=0) for k in range(train.n_classes)])

    def predict_proba(self, test):
        x = test.load().reshape(len(test), -1).astype(np.float64)
        d = ((x[:, None, :] - self.centroids_[None]) ** 2).mean(axis=2)
        e = np.exp(-(d - d.min(axis=1, keepdims=True)))
        return e / e.sum(axis=1, keepdims=True)


class KillsItsWorkerOnce(CentroidAdapter):
    """Kills its Dask worker's process on the first attempt at fold ``params["kill_fold"]``.

    A marker file in ``params["marker_dir"]`` (holding the dead worker's pid) tells the re-run from
    the first attempt; out of a Dask worker (a sequential reference run) it never kills anything.
    """

    meta = MethodMeta(
        name="kills_worker_once_test",
        modality="eeg",
        tasks=("prediction", "detection"),
        representation="bandpower",
        budgets={"smoke": {"marker_dir": "", "kill_fold": ""}, "paper": {"marker_dir": "", "kill_fold": ""}},
    )

    def fit(self, train, valid, context):
        if _in_dask_worker() and harness_fold_id() == self.params["kill_fold"]:
            marker = Path(self.params["marker_dir"]) / f"{self.params['kill_fold']}.killed"
            if not marker.exists():
                marker.write_text(str(os.getpid()))
                os._exit(17)  # the worker dies mid-fold, as on a crashed or pre-empted node
        super().fit(train, valid, context)


class SleepsPerFold(MethodAdapter):
    """Fold-bound work for the speed-up benchmark: fit takes ``sleep_s`` seconds, whatever the data."""

    meta = MethodMeta(
        name="sleeps_per_fold_test",
        modality="eeg",
        tasks=("prediction", "detection"),
        representation="bandpower",
        budgets={"smoke": {"sleep_s": 1.0}, "paper": {"sleep_s": 1.0}},
    )

    def fit(self, train, valid, context):
        time.sleep(float(self.params["sleep_s"]))
        self.p_ = float(np.mean(train.y))

    def predict_proba(self, test):
        return np.tile([1 - self.p_, self.p_], (len(test), 1))


ADAPTERS = (CentroidAdapter, KillsItsWorkerOnce, SleepsPerFold)


def register_all() -> None:
    REGISTRY.names()  # load the built-in methods first, as a fresh process would
    for cls in ADAPTERS:
        REGISTRY.add(cls, origin="test")


def unregister_all() -> None:
    for cls in ADAPTERS:
        REGISTRY._methods.pop(cls.meta.name, None)
        REGISTRY._origin.pop(cls.meta.name, None)


@contextlib.contextmanager
def registered() -> Iterator[None]:
    """The test adapters, registered in this process for the duration of the block."""
    register_all()
    try:
        yield
    finally:
        unregister_all()


def dask_setup(worker) -> None:
    """Dask preload hook: run in every worker process as it starts."""
    register_all()
