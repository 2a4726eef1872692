"""The method's part of a fold: fit and predict, given only what a method may see.

An :class:`AdapterTask` holds the fold's window arrays (paths), the pseudonymous window sets
(:mod:`benchmark.pseudonyms`) with training and validation labels, and never the test labels or the
real test metadata. :func:`fit_predict` runs it in this process; ``python -m benchmark.fold_worker
DIR`` runs it from ``DIR/job.pkl`` (written by the harness) and writes ``DIR/out/``: ``proba.npy``
and ``result.json``. That output is read back by the harness as data only (no pickle), so a
method cannot run code in the harness through it. :mod:`benchmark.sandbox` starts the worker.
``python -m benchmark.fold_worker --describe module:qualname`` prints a plug-in class's
``MethodMeta`` as JSON (run sandboxed: the harness never imports a plug-in of an isolated run).
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import pickle
import stat
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


@dataclass
class AdapterTask:
    """What the method of one fold is given (test labels and real test metadata are not in it)."""

    method: str
    method_module: str
    method_qualname: str
    budget: str
    overrides: dict[str, Any]
    seed: int
    device: str
    classes: tuple[str, ...]
    sources: list[str]
    train: tuple[np.ndarray, pd.DataFrame, np.ndarray]  # refs, meta, y
    test: tuple[np.ndarray, pd.DataFrame]  # refs, meta
    info: dict[str, Any]
    work_dir: str
    cache_dir: str | None = None
    valid: tuple[np.ndarray, pd.DataFrame, np.ndarray] | None = None
    unlabelled: tuple[np.ndarray, pd.DataFrame] | None = None
    n_threads: int | None = None
    measure_efficiency: bool = False
    progress: bool = False  # show the method's epoch bars (FitContext.progress)
    label: str = "fold"  # for log lines only; never the fold id (it can name the test patient)


@dataclass
class AdapterOutput:
    """What came back: probabilities, or the error the method raised."""

    proba: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    traceback: str = ""
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0


def method_class(task: AdapterTask):
    """The adapter class: imported from its module (a plug-in registers itself there), else by name.
    What the plug-in names there (a class, an adapter instance or a factory) becomes a class by the
    registry's own rule (:func:`benchmark.adapters.adapter_class`)."""
    from benchmark.adapters import adapter_class, get_method

    try:
        obj: Any = importlib.import_module(task.method_module)
        for part in task.method_qualname.split("."):
            obj = getattr(obj, part)
        target = f"{task.method_module}:{task.method_qualname}"
        return adapter_class(obj, target, task.method_module, task.method_qualname)
    except (ImportError, AttributeError) as exc:
        try:
            return get_method(task.method)
        except Exception:
            raise ImportError(
                f"the fold worker cannot import method '{task.method}' from {task.method_module} ({exc}); "
                "a sandboxed fold sees only the method's own package (or module file) and installed packages"
            ) from exc


def fit_predict(task: AdapterTask) -> AdapterOutput:
    """Fit and predict one fold; never raises for method errors (they are returned)."""
    import torch

    from benchmark.adapters import FitContext
    from benchmark.windowset import WindowSet

    if task.n_threads:
        torch.set_num_threads(task.n_threads)
    t0 = time.perf_counter()
    out = AdapterOutput()
    try:
        from benchmark.torch_utils import seed_everything
        from benchmark.window_store import open_windows

        sources = [open_windows(p) for p in task.sources]
        info = task.info
        train = WindowSet(sources, task.train[0], task.train[1], task.train[2], task.classes, dict(info))
        test = WindowSet(sources, task.test[0], task.test[1], None, task.classes, dict(info))
        valid = None
        if task.valid is not None and len(task.valid[0]):
            valid = WindowSet(sources, task.valid[0], task.valid[1], task.valid[2], task.classes, dict(info))
        unlabelled = None
        if task.unlabelled is not None and len(task.unlabelled[0]):
            unlabelled = WindowSet(sources, task.unlabelled[0], task.unlabelled[1], None, task.classes, dict(info))
        cls = method_class(task)
        seed_everything(task.seed)
        adapter = cls.from_budget(task.budget, task.overrides)
        Path(task.work_dir).mkdir(parents=True, exist_ok=True)
        ctx = FitContext(
            seed=task.seed,
            device=task.device,
            budget=task.budget,
            work_dir=Path(task.work_dir),
            unlabelled=unlabelled,
            cache_dir=Path(task.cache_dir) if task.cache_dir else None,
            progress=task.progress,
        )
        adapter.pretrain(train, ctx)
        adapter.fit(train, valid, ctx)
        out.fit_seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        out.proba = adapter.predict_proba(test)
        out.predict_seconds = time.perf_counter() - t1
        out.extra = {"n_params": adapter.n_parameters(), "weights_source": adapter.weights_source()}
        if task.measure_efficiency and hasattr(adapter, "efficiency_report"):  # size, FLOPs, latency per window
            try:
                out.extra["efficiency"] = adapter.efficiency_report(tuple(test.window_shape))
            except Exception as exc:  # a measurement must never cost the fold its results
                log.warning("%s: efficiency measurement failed: %s", task.label, exc)
    except Exception as exc:  # the run goes on; the failure is stored with its traceback
        out.error = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
        out.traceback = traceback.format_exc()
        out.fit_seconds = out.fit_seconds or time.perf_counter() - t0
    return out


def write_output(out: AdapterOutput, folder: Path) -> None:
    """``proba.npy`` (when it is a numeric array) and ``result.json``, read by :func:`read_output`."""
    folder.mkdir(parents=True, exist_ok=True)
    result = {
        "error": out.error,
        "traceback": out.traceback,
        "fit_seconds": out.fit_seconds,
        "predict_seconds": out.predict_seconds,
        "extra": out.extra,
        "proba_type": None,
    }
    if out.proba is not None:
        if isinstance(out.proba, np.ndarray) and np.issubdtype(out.proba.dtype, np.number):
            np.save(folder / "proba.npy", np.asarray(out.proba), allow_pickle=False)
        else:
            result["proba_type"] = type(out.proba).__name__
    (folder / "result.json").write_text(json.dumps(result, default=str))


#: Largest output files read back from a worker (a fold's probabilities are far smaller).
MAX_RESULT_BYTES = 1 << 20
MAX_PROBA_BYTES = 4 << 30


def _read_regular(path: Path, limit: int) -> bytes | None:
    """The bytes of ``path`` if it is a regular file (not a link, pipe or device) under ``limit``
    bytes, ``None`` if absent; a worker cannot make the harness read a host file or block on a pipe."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        if st.st_size > limit:
            raise ValueError(f"{path.name} is {st.st_size} bytes, more than {limit}")
        return fh.read(limit + 1)


def clean_report(extra: dict[str, Any]) -> dict[str, Any]:
    """What a method reports about itself, kept to what a board can show: a non-negative whole
    parameter count, one line of weights source, and efficiency figures that are finite
    non-negative numbers (and a short window shape); anything else is dropped."""
    out = dict(extra)
    n = out.get("n_params")
    if n is not None and not (isinstance(n, int) and not isinstance(n, bool) and n >= 0):
        out["n_params"] = None
    if "weights_source" in out:
        out["weights_source"] = " ".join(str(out["weights_source"]).split())[:200]
    eff = out.get("efficiency")
    if eff is not None:
        kept: dict[str, Any] = {}
        if isinstance(eff, dict):
            for key, value in list(eff.items())[:32]:
                if not isinstance(key, str) or len(key) > 64:
                    continue
                if (
                    key == "window_shape"
                    and isinstance(value, (list, tuple))
                    and len(value) <= 8
                    and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
                ):
                    kept[key] = list(value)
                elif (
                    isinstance(value, (int, float))
                    and not isinstance(value, bool)
                    and np.isfinite(value)
                    and value >= 0
                ):
                    kept[key] = value
        out["efficiency"] = kept
    return out


def read_output(folder: Path) -> AdapterOutput:
    """The worker's output, parsed as data only; a missing or malformed one is an error."""
    try:
        text = _read_regular(folder / "result.json", MAX_RESULT_BYTES)
        if text is None:
            raise FileNotFoundError("result.json")
        result = json.loads(text)
        proba = None
        raw = _read_regular(folder / "proba.npy", MAX_PROBA_BYTES)
        if raw is not None:
            proba = np.load(io.BytesIO(raw), allow_pickle=False)
        elif result.get("proba_type"):
            # Not a numeric array: a stand-in of the same type name, judged (and refused) by the output rule.
            proba = type(str(result["proba_type"]), (), {})()
        return AdapterOutput(
            proba=proba,
            extra=dict(result.get("extra") or {}),
            error=result.get("error"),
            traceback=str(result.get("traceback") or ""),
            fit_seconds=float(result.get("fit_seconds") or 0.0),
            predict_seconds=float(result.get("predict_seconds") or 0.0),
        )
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        return AdapterOutput(error=f"the fold worker left no readable output ({type(exc).__name__}: {exc})")


def describe(target: str) -> dict[str, Any]:
    """``module:qualname``'s class as the harness may learn it without importing it: its
    :class:`~benchmark.adapters.MethodMeta` as a dict (run in a sandbox, see
    :func:`benchmark.sandbox.describe_plugin`)."""
    from benchmark.adapters import MethodMeta, adapter_class

    module, _, qualname = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    obj = adapter_class(obj, target, module, qualname)
    if not isinstance(getattr(obj, "meta", None), MethodMeta):
        raise TypeError(f"{target} has no MethodMeta 'meta'")
    return {"meta": obj.meta.to_dict()}


def main(argv: list[str] | None = None) -> int:
    args = argv or sys.argv[1:]
    if args[0] == "--describe":
        # One JSON line last on stdout; what the plug-in prints while it is imported comes before it.
        try:
            result = describe(args[1])
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
        sys.stdout.write("\n" + json.dumps(result, default=str) + "\n")
        sys.stdout.flush()
        return 0
    folder = Path(args[0])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with open(folder / "job.pkl", "rb") as fh:
        task: AdapterTask = pickle.load(fh)
    out = fit_predict(task)
    write_output(out, folder / "out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
