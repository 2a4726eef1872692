"""Conformance suite: does a method adapter honour the contract of :mod:`benchmark.adapters`?

:func:`check_adapter` fits a method on a tiny SYNTHETIC data set (:mod:`benchmark.fake_data`) in the
method's own representation and checks what the harness relies on:

``meta``               the :class:`MethodMeta` is complete and names a known representation
``config_json``        metadata and every budget's parameters serialise to strict JSON
``fit``                ``fit`` runs on labelled training and validation windows
``predict_proba``      ``predict_proba`` runs on unlabelled test windows and returns an ndarray
``output_shape``       probabilities have shape ``(n_windows, n_classes)``
``finite``             no NaN or infinity
``unit_interval``      every probability lies in ``[0, 1]``
``rows_sum_to_one``    every row sums to 1
``no_label_access``    the adapter never read ``test.y`` and the test metadata holds no label column
``single_window``      a test set of one window works
``data_not_mutated``   training, validation and test windows, labels and metadata are unchanged
``deterministic``      a fresh instance fitted with the same seed predicts the same numbers
``params_json``        ``adapter.params`` is still JSON after fitting (it is stored with the run)
``n_parameters``       ``n_parameters()`` returns ``None`` or a non-negative int
``no_file_access``     ``fit`` and ``predict_proba`` opened no file outside the Python installation, the
                       method's own package and the work and cache folders (a method that reads
                       files could read the dataset's annotations; see :func:`watch_opens`)

Test windows are handed over as a :class:`LabelGuardedWindowSet`: any read of its ``y`` from outside
:mod:`benchmark.windowset` is recorded and raises :class:`LabelAccessError`. The output checks are
the rule the runner applies to every fold (:mod:`benchmark.probabilities`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import site
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from benchmark import adapters, features
from benchmark import windowset as windowset_module
from benchmark.adapters import BUDGETS, MODALITIES, FitContext, MethodAdapter, MethodMeta
from benchmark.fake_data import make_windowset
from benchmark.probabilities import RANGE_TOL, output_checks
from benchmark.windowset import WindowSet

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_\-]*$")
# Metadata columns whose names suggest they carry the answer (labels, seizure timing).
LABEL_LIKE = re.compile(r"(^y$|label|target|class|ictal|seizure|onset)", re.IGNORECASE)
# Code allowed to read ``y`` of a guarded set: WindowSet's own methods (e.g. iter_batches yields
# ``None`` for labels) and dataclass-generated __repr__/__eq__, which are compiled from "<string>".
_TRUSTED_FILES = frozenset({windowset_module.__file__, "<string>"})

# Tiny data set: small enough that the deep baselines fit in seconds, big enough for both classes.
N_TRAIN, N_VALID, N_TEST = 64, 16, 24
ATOL = RANGE_TOL
_AFTER_FIT = (
    "predict_proba", "no_label_access", "single_window", "data_not_mutated", "deterministic", "params_json",
    "n_parameters", "no_file_access",
)
_AFTER_META = ("config_json", "fit", *_AFTER_FIT)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one conformance check."""

    name: str
    ok: bool
    detail: str = ""


class LabelAccessError(RuntimeError):
    """Raised when an adapter reads the labels of a test window set."""


class LabelGuardedWindowSet(WindowSet):
    """A label-free :class:`WindowSet` that records and refuses every read of ``y`` by adapter code.

    ``subset`` and ``without_labels`` return guarded sets sharing the same access log.
    """

    def __init__(self, *args, label_reads: list[str] | None = None, **kwargs):
        self.label_reads: list[str] = [] if label_reads is None else label_reads
        super().__init__(*args, **kwargs)

    @classmethod
    def wrap(cls, ws: WindowSet, label_reads: list[str] | None = None) -> "LabelGuardedWindowSet":
        """Guarded, label-free copy of ``ws`` (sources are shared, not copied)."""
        return cls(ws.sources, ws.refs, ws.meta, None, ws.classes, dict(ws.info), label_reads=label_reads)

    @property
    def y(self) -> None:
        caller = sys._getframe(1)
        if caller.f_code.co_filename in _TRUSTED_FILES:
            return None
        where = f"{caller.f_code.co_filename}:{caller.f_lineno} in {caller.f_code.co_name}()"
        self.label_reads.append(where)
        raise LabelAccessError(f"test labels are hidden from methods; .y was read at {where}")

    @y.setter
    def y(self, value) -> None:
        if value is not None:
            raise ValueError("a label-guarded window set cannot hold labels")

    def subset(self, idx) -> "LabelGuardedWindowSet":
        return self.wrap(WindowSet.subset(self, idx), self.label_reads)

    def without_labels(self) -> "LabelGuardedWindowSet":
        return self.wrap(self, self.label_reads)


def label_like_columns(meta: pd.DataFrame) -> list[str]:
    """Columns of window metadata whose names suggest labels or seizure timing."""
    return [str(c) for c in meta.columns if LABEL_LIKE.search(str(c))]


def _digest(ws: WindowSet) -> str:
    """Fingerprint of everything in a window set an adapter could modify."""
    h = hashlib.sha256()
    for src in ws.sources:
        h.update(np.ascontiguousarray(src).tobytes())
    h.update(ws.refs.tobytes())
    y = None if isinstance(ws, LabelGuardedWindowSet) else ws.y
    h.update(b"none" if y is None else np.asarray(y).tobytes())
    h.update(pd.util.hash_pandas_object(ws.meta, index=True).to_numpy().tobytes())
    h.update(json.dumps(ws.info, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _meta_problems(cls: type[MethodAdapter]) -> list[str]:
    meta = getattr(cls, "meta", None)
    if not isinstance(meta, MethodMeta):
        return ["class attribute 'meta' is not a MethodMeta"]
    problems = []
    if not NAME_PATTERN.match(meta.name or ""):
        problems.append(f"name {meta.name!r} must be lower-case letters, digits, '_' or '-'")
    if meta.modality not in MODALITIES:
        problems.append(f"modality {meta.modality!r} not in {MODALITIES}")
    if not meta.tasks or not all(isinstance(t, str) and t for t in meta.tasks):
        problems.append("tasks must be a non-empty tuple of task names")
    if meta.representation == "video":
        from benchmark.windows import video_params

        try:
            video_params(meta.representation_params)
        except Exception as exc:
            problems.append(f"representation_params invalid: {exc}")
    elif meta.representation not in adapters.REPRESENTATIONS or meta.representation not in features.REPRESENTATIONS:
        problems.append(f"representation {meta.representation!r} not in {adapters.REPRESENTATIONS}")
    else:
        try:
            features.representation_key(meta.representation, meta.representation_params)
        except Exception as exc:
            problems.append(f"representation_params invalid: {exc}")
    for budget in BUDGETS:
        if not isinstance(meta.budgets.get(budget), dict):
            problems.append(f"budget {budget!r} missing or not a dict")
    if not (isinstance(meta.version, str) and meta.version):
        problems.append("version must be a non-empty string")
    if not meta.citation.strip():
        problems.append("citation is empty")
    return problems


def _json_problem(obj: Any) -> str | None:
    try:
        json.dumps(obj, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return str(exc)
    return None


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _proba_checks(proba: Any, n: int, n_classes: int) -> list[CheckResult]:
    """Shape and value checks of one ``predict_proba`` output: the runner's own output rule."""
    return [CheckResult(c.name, c.ok, c.detail) for c in output_checks(proba, n, n_classes)]


# -- files opened by the adapter ------------------------------------------------------------------
_WATCH_LOCK = threading.Lock()
_WATCHED: list[list[str]] = []  # the lists of the watches in progress (all threads' opens go in)
_HOOKED = False


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _WATCHED:
        path = args[0] if args else None
        if isinstance(path, (str, bytes, os.PathLike)):
            path = os.fsdecode(path)
            for opened in _WATCHED:
                opened.append(path)


@contextlib.contextmanager
def watch_opens():
    """Collect the paths of every file opened (Python's ``open`` audit event) while inside.

    The hook is installed once per process (audit hooks cannot be removed) and costs nothing
    outside a watch. It sees what Python code opens (``open``, ``os.open``, ``io``, ``np.load``);
    C extensions that call the C library directly are not seen.
    """
    global _HOOKED
    with _WATCH_LOCK:
        if not _HOOKED:
            sys.addaudithook(_audit)
            _HOOKED = True
    opened: list[str] = []
    _WATCHED.append(opened)
    try:
        yield opened
    finally:
        _WATCHED.remove(opened)


def allowed_roots(cls: type, extra: list[Path] | tuple[Path, ...] = ()) -> list[Path]:
    """Where an adapter may open files: Python and its packages (imports), the harness's packages,
    the method's own package, ``extra`` (work and cache folders), and kernel and device files."""
    from benchmark.sandbox import code_dirs, method_source

    plugin = method_source(cls)[2]
    # The same code a sandboxed fold can read: the harness, the in-tree methods and baselines, the plug-in.
    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), *map(Path, site.getsitepackages()),
             *code_dirs([plugin] if plugin else []), *extra}
    # Kernel and device information (paths through /proc/<pid>/root or fd links are resolved first).
    roots.update(Path(p) for p in ("/dev/null", "/dev/urandom", "/dev/shm", "/proc", "/sys", "/etc/localtime",
                                   "/usr/share/zoneinfo"))
    return sorted({Path(os.path.realpath(r)) for r in roots})


def outside(paths: list[str], roots: list[Path]) -> list[str]:
    """The distinct ``paths`` that lie under none of ``roots``, in order of first opening."""
    # The source of loaded modules is read to show warnings and tracebacks (linecache), wherever it is.
    sources = {os.path.realpath(f) for m in list(sys.modules.values())
               if isinstance(f := getattr(m, "__file__", None), str)}
    bad: dict[str, None] = {}
    for p in paths:
        real = Path(os.path.realpath(os.path.abspath(p)))
        if str(real) not in sources and not any(real == r or real.is_relative_to(r) for r in roots):
            bad.setdefault(str(real))
    return list(bad)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, BaseException | None]:
    t0 = time.perf_counter()
    try:
        return fn(), time.perf_counter() - t0, None
    except Exception as exc:  # the suite reports adapter failures instead of crashing on them
        return None, time.perf_counter() - t0, exc


def _resolve(name_or_cls: str | type[MethodAdapter]) -> type[MethodAdapter]:
    if isinstance(name_or_cls, str):
        return adapters.get_method(name_or_cls)
    if isinstance(name_or_cls, type) and issubclass(name_or_cls, MethodAdapter):
        return name_or_cls
    raise TypeError(f"expected a method name or MethodAdapter subclass, got {name_or_cls!r}")


def check_adapter(
    name_or_cls: str | type[MethodAdapter],
    *,
    budget: str = "smoke",
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
    n_chans: int = 4,
    n_times: int = 256,
    sfreq: float = 128.0,
) -> list[CheckResult]:
    """Run the conformance suite on one method; see the module docstring for the checks.

    Parameters
    ----------
    name_or_cls
        Registered method name, or a :class:`MethodAdapter` subclass (registered or not).
    budget, overrides
        Budget whose parameters are used, and overrides merged over them (e.g. fewer epochs).
    seed
        Seed of the fits and of the synthetic data.
    n_chans, n_times, sfreq
        Size of the synthetic raw windows (converted to the method's representation).

    Returns
    -------
    list[CheckResult]
        One result per check, in a fixed order; checks that could not run because an earlier
        step failed are reported as failed with a "not run" detail.
    """
    cls = _resolve(name_or_cls)
    problems = _meta_problems(cls)
    results = [CheckResult("meta", not problems, "; ".join(problems))]
    meta = getattr(cls, "meta", None)
    usable = (
        isinstance(meta, MethodMeta)
        and budget in meta.budgets
        and not any(p.startswith(("representation", "budget")) for p in problems)
    )
    if not usable:
        return results + [CheckResult(c, False, "not run: unusable meta") for c in _AFTER_META]

    config_problems = []
    for label, obj in [(f"budget {b!r}", meta.budgets[b]) for b in BUDGETS] + [
        ("meta", meta.to_dict()),
        ("overrides", overrides or {}),
    ]:
        problem = _json_problem(obj)
        if problem:
            config_problems.append(f"{label}: {problem}")
    results.append(CheckResult("config_json", not config_problems, "; ".join(config_problems)))

    def data(n: int, offset: int) -> WindowSet:
        return make_windowset(
            n, n_chans, n_times, sfreq, representation=meta.representation,
            params=meta.representation_params, seed=seed + offset, writeable=True,
        )

    try:
        train, valid, test_labelled = data(N_TRAIN, 1), data(N_VALID, 2), data(N_TEST, 3)
    except Exception as exc:
        detail = f"not run: could not build synthetic {meta.representation} windows: {_error(exc)}"
        return results + [CheckResult(c, False, detail) for c in _AFTER_META[1:]]
    test = LabelGuardedWindowSet.wrap(test_labelled)
    before = {k: _digest(ws) for k, ws in (("train", train), ("valid", valid), ("test", test))}
    n_classes = train.n_classes

    # Every file the adapter opens while it fits and predicts is collected (no_file_access).
    with tempfile.TemporaryDirectory(prefix="seizure-bench-conformance-") as tmp, watch_opens() as opened:

        def fit(work: str) -> MethodAdapter:
            adapter = cls.from_budget(budget, overrides)
            # One feature cache for both fits, as runs share one: the determinism check then also
            # covers features read back from the cache.
            context = FitContext(seed=seed, device="cpu", budget=budget, work_dir=Path(tmp) / work,
                                 cache_dir=Path(tmp) / "features")
            context.work_dir.mkdir()
            adapter.fit(train, valid, context)
            return adapter

        adapter, seconds, exc = _timed(lambda: fit("fit1"))
        results.append(CheckResult("fit", exc is None, _error(exc) if exc else f"{seconds:.2f} s"))
        if exc is not None:
            return results + [CheckResult(c, False, "not run: fit failed") for c in _AFTER_FIT]

        proba, seconds, exc = _timed(lambda: adapter.predict_proba(test))
        results.append(CheckResult("predict_proba", exc is None, _error(exc) if exc else f"{seconds:.2f} s"))
        if exc is None:
            results.extend(_proba_checks(proba, len(test), n_classes))

        leaked = label_like_columns(test.meta)
        label_detail = []
        if test.label_reads:
            label_detail.append(f"read test labels at {test.label_reads[0]}")
        if leaked:
            label_detail.append(f"test metadata has label-like columns {leaked}")
        results.append(CheckResult("no_label_access", not label_detail, "; ".join(label_detail)))

        one, _, exc = _timed(lambda: adapter.predict_proba(test.subset([0])))
        if exc is not None:
            results.append(CheckResult("single_window", False, _error(exc)))
        else:
            bad = [r.detail for r in _proba_checks(one, 1, n_classes) if not r.ok]
            results.append(CheckResult("single_window", not bad, "; ".join(bad)))

        changed = [k for k, ws in (("train", train), ("valid", valid), ("test", test)) if _digest(ws) != before[k]]
        results.append(
            CheckResult("data_not_mutated", not changed, f"modified: {', '.join(changed)}" if changed else "")
        )

        again, _, exc = _timed(lambda: fit("fit2").predict_proba(test))
        if exc is not None:
            results.append(CheckResult("deterministic", False, f"second fit failed: {_error(exc)}"))
        elif (
            not isinstance(proba, np.ndarray)
            or not isinstance(again, np.ndarray)
            or again.shape != proba.shape
            or not (np.issubdtype(again.dtype, np.number) and np.issubdtype(proba.dtype, np.number))
        ):
            results.append(CheckResult("deterministic", False, "not comparable: predict_proba failed or changed shape"))
        else:
            a, b = again.astype(float), proba.astype(float)
            same_nan = bool((np.isnan(a) == np.isnan(b)).all())
            diff = float(np.abs(a - b)[~np.isnan(a) & ~np.isnan(b)].max(initial=0.0))
            same = same_nan and np.isfinite(diff) and diff <= ATOL
            detail = f"max |difference| between two fits = {diff:.2e}" + ("" if same_nan else "; NaNs differ")
            results.append(CheckResult("deterministic", bool(same), detail))

    problem = _json_problem(adapter.params)
    results.append(CheckResult("params_json", problem is None, problem or ""))
    n_params, _, exc = _timed(adapter.n_parameters)
    ok = exc is None and (n_params is None or (isinstance(n_params, (int, np.integer)) and n_params >= 0))
    results.append(CheckResult("n_parameters", ok, _error(exc) if exc else f"{n_params}"))
    foreign = outside(opened, allowed_roots(cls, [Path(tmp)]))
    results.append(CheckResult(
        "no_file_access", not foreign,
        f"opened {len(foreign)} file(s) outside Python, its own package and the work/cache folders "
        f"(a run shows a method only its window arrays): {', '.join(foreign[:3])}" + (" ..." if len(foreign) > 3 else "")
        if foreign else "",
    ))
    return results


def passed(results: list[CheckResult]) -> bool:
    """True when every check passed."""
    return all(r.ok for r in results)


def format_results(results: list[CheckResult]) -> str:
    """Human-readable report, one check per line."""
    width = max((len(r.name) for r in results), default=0)
    lines = [f"{'PASS' if r.ok else 'FAIL'}  {r.name:<{width}}  {r.detail}".rstrip() for r in results]
    lines.append(f"{sum(r.ok for r in results)}/{len(results)} checks passed (synthetic data)")
    return "\n".join(lines)
