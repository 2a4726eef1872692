"""The Python API: what ``seizure-bench run``, ``results`` and ``compare`` do, as pandas DataFrames.

``import benchmark`` stays light; its top-level ``evaluate``, ``load_results``, ``compare`` and
``load_index`` import this module on first use. :func:`evaluate` builds its run with the command's
own :func:`benchmark.cli.run_config`, so a run has the run id and numbers ``seizure-bench run`` gives it.
Rows on synthetic data carry ``synthetic=True``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark import cli
from benchmark.adapters import REGISTRY, MethodAdapter, MethodMeta, adapter_class
from benchmark.compare import compare as _compare_two
from benchmark.compare import compare_many as _compare_many
from benchmark.errors import BenchmarkError, StoreError, UnknownNameError, did_you_mean
from benchmark.store import ResultStore, RunRecord, effective_status, on_synthetic_data

__all__ = ["compare", "evaluate", "load_index", "load_results"]

log = logging.getLogger(__name__)

# The columns that say which result set, patient and data a row is about; metric columns follow.
RUN_COLUMNS = ("run_id", "kind", "method", "dataset", "task", "protocol", "budget", "seed", "status", "synthetic")
# `run` options an evaluate() call sets by its own arguments, or that make more than one run.
_NOT_OPTIONS = {"method", "dataset", "task", "protocol", "budget", "seed", "set", "no_progress", "with_baselines"}
_PATHS = {"data_dir", "cache_dir", "splits_dir"}
INDEX_COLUMNS = (
    "patient",
    "subject",
    "recording",
    "file",
    "start",
    "duration",
    "sfreq",
    "n_channels",
    "n_seizures",
    "seizure_seconds",
    "seizure_types",
    "synthetic",
)


def _store_path(store: str | Path | None) -> Path:
    return Path(store) if store is not None else cli._default_store()


def _method_name(method: Any, budget: str) -> tuple[str, dict[str, Any]]:
    """The registered name of ``method`` (a name, an adapter class or instance) and, for an instance,
    its hyper-parameters that differ from the budget's (the run's overrides)."""
    if isinstance(method, str):
        return method, {}
    wrapped = isinstance(method, MethodAdapter) and not isinstance(getattr(type(method), "meta", None), MethodMeta)
    if wrapped:  # an instance carrying its own meta (SklearnAdapter, BraindecodeAdapter): a class copying it
        cls = adapter_class(method, f"evaluate({type(method).__name__})")
    else:
        cls = type(method) if isinstance(method, MethodAdapter) else method
    if not (isinstance(cls, type) and issubclass(cls, MethodAdapter)):
        raise BenchmarkError(
            f"method must be a method name, a MethodAdapter subclass or instance, not {type(method).__name__}"
        )
    name = cls.meta.name
    origin = f"registered by benchmark.evaluate ({cls.__module__})"
    try:
        known = REGISTRY.get(name)
    except UnknownNameError:  # a class of the user's own, registered here as @register would
        known = REGISTRY.add(cls, origin=origin)
    if known is not cls and wrapped and REGISTRY.origin(name) == origin and known.meta == cls.meta:
        known = REGISTRY.replace(cls, origin)  # the same wrapped method given again (its estimator may differ)
    if known is not cls:
        raise BenchmarkError(f"another method is registered as '{name}'; give your adapter another meta.name")
    if not isinstance(method, MethodAdapter) or wrapped:
        return name, {}
    base = cls.meta.budgets.get(budget, {})
    return name, {k: v for k, v in method.params.items() if k not in base or base[k] != v}


def _run_args(name: str, dataset: str, options: dict[str, Any]):
    """The parsed ``seizure-bench run`` arguments of an :func:`evaluate` call (the command's defaults
    for every option not given)."""
    run = next(p for p in cli._subparsers(cli.build_parser()) if p.prog.endswith(" run"))
    args = run.parse_args(["--method", name, "--dataset", dataset])
    known = sorted(set(vars(args)) - _NOT_OPTIONS) + ["overrides", "progress", "store"]
    for key, value in options.items():
        if key not in known:
            raise UnknownNameError(
                f"evaluate() got an unknown option '{key}'.{did_you_mean(key, known)} "
                f"Options are those of `seizure-bench run` (--interictal-gap 3 is interictal_gap=3): {', '.join(known)}"
            )
        if key == "overrides":
            args.set = [f"{k}={json.dumps(v)}" for k, v in dict(value).items()]
        elif key == "progress":
            args.no_progress = not value
        elif key in _PATHS or key == "store":
            setattr(args, key, None if value is None else Path(value))
        elif isinstance(value, (list, tuple)):  # a comma-separated option (--types FNSZ,GNSZ)
            setattr(args, key, ",".join(str(v) for v in value))
        else:
            setattr(args, key, value)
    return args


def evaluate(
    method: str | type[MethodAdapter] | MethodAdapter,
    dataset: str,
    task: str | None = None,
    protocol: str | None = None,
    budget: str = "smoke",
    seed: int = 0,
    **options: Any,
) -> pd.DataFrame:
    """Run (or resume) a method as ``seizure-bench run`` does and return its per-patient results.

    Parameters
    ----------
    method
        A registered method's name, or a :class:`~benchmark.adapters.MethodAdapter` subclass (registered
        under its ``meta.name`` if no method has that name) or instance (its hyper-parameters that
        differ from the budget's become the run's overrides).
    dataset, task, protocol, budget, seed
        As ``--dataset``, ``--task``, ``--protocol``, ``--budget``, ``--seed`` (``None``: the command's default).
    **options
        Any other option of ``seizure-bench run`` by its name (``data_dir=``, ``cache_dir=``,
        ``threads=1``, ``interictal_gap=3``, ``types=["FNSZ", "GNSZ"]``), plus ``store=`` (the
        command's default store otherwise), ``overrides={name: value}`` (``--set``) and ``progress=False``.

    Returns
    -------
    DataFrame
        One row per patient: :data:`RUN_COLUMNS`, ``patient``, then one column per metric (see
        :func:`load_results`). Empty when no fold succeeded.
    """
    name, overrides = _method_name(method, budget)
    args = _run_args(name, dataset, options)
    if overrides and "overrides" not in options:
        args.set = [f"{k}={json.dumps(v)}" for k, v in overrides.items()]
    args.task = task or args.task
    args.protocol = protocol or args.protocol
    args.budget, args.seed = budget, int(seed)
    args.store = _store_path(options.get("store"))
    from benchmark.runner import Runner

    rec = Runner(cli.run_config(args)).run()
    with ResultStore(args.store) as store:
        return _rows(store, [store.get_run(rec.run_id) or rec])


def _rows(store: ResultStore, runs: list[RunRecord]) -> pd.DataFrame:
    """One row per result set and patient, the run's columns first, metric columns after."""
    frames = []
    for rec in runs:
        table = store.patient_metrics(rec.run_id)
        if table.empty:
            continue
        table = table.rename_axis("patient").reset_index()
        facts = {c: getattr(rec, c) for c in RUN_COLUMNS if c != "synthetic"}
        facts["status"] = effective_status(rec)  # as the boards show it (a dead "running" run is interrupted)
        facts["method"] = rec.label  # a reported set by the name the boards show
        facts["synthetic"] = on_synthetic_data(rec)
        for i, (column, value) in enumerate(facts.items()):
            table.insert(i, column, value)
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=[*RUN_COLUMNS, "patient"])
    return pd.concat(frames, ignore_index=True)


def _open_existing(store: str | Path | None) -> ResultStore:
    """The results store, refused in one line when there is none (reading never creates one)."""
    path = _store_path(store)
    if not path.is_file():
        raise StoreError(
            f"no results store at {path.resolve()}; pass store=PATH, set $SEIZURE_BENCH_STORE, "
            "or run benchmark.evaluate(...) or `seizure-bench run` first"
        )
    return ResultStore(path)


def load_results(store: str | Path | None = None) -> pd.DataFrame:
    """Every stored result set (runs and the papers' reported tables), one row per set and patient.

    Columns: ``run_id``, ``kind`` (``run`` or ``reported``), ``method`` (a reported set's display
    name), ``dataset``, ``task``, ``protocol``, ``budget``, ``seed``, ``status``, ``synthetic``,
    ``patient``, then one column per metric (NaN where a set has no value). ``store``: the store
    file (default: the command's, ``results/results.sqlite`` or ``$SEIZURE_BENCH_STORE``).
    """
    with _open_existing(store) as st:
        return _rows(st, st.list_runs())


def compare(
    reference: str, *others: str, metric: str, store: str | Path | None = None, force: bool = False
) -> pd.DataFrame:
    """``seizure-bench compare`` as a DataFrame: ``reference`` against each of ``others``, paired over patients.

    Result sets are given as for the command (run id, unique prefix, or a reported set's display
    name). One row per comparison (differences are other - reference); with several ``others`` the
    p-values are also Holm-corrected (``p_holm``, ``wilcoxon_p_holm``). See :func:`benchmark.compare.compare`.
    """
    if not others:
        raise BenchmarkError("compare needs a result set to compare the reference with: compare(A, B, metric=...)")
    with _open_existing(store) as st:
        if len(others) == 1:
            rows = [_compare_two(st, reference, others[0], metric, force=force)]
        else:
            rows = _compare_many(st, reference, list(others), metric, force=force)
    return pd.DataFrame(rows)


def load_index(dataset: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """The dataset index, one row per recording: ``patient``, ``subject``, ``recording``, ``file``,
    ``start`` and ``duration`` (seconds; NaN when unknown), ``sfreq``, ``n_channels``, ``n_seizures``,
    ``seizure_seconds``, ``seizure_types`` (comma-separated) and ``synthetic``."""
    from benchmark.datasets import load_dataset

    index = load_dataset(dataset, None if data_dir is None else Path(data_dir))
    rows = [
        {
            "patient": p.patient_id,
            "subject": p.group,
            "recording": r.recording_id,
            "file": r.file,
            "start": r.start,
            "duration": r.duration,
            "sfreq": r.sfreq,
            "n_channels": len(r.channels),
            "n_seizures": len(r.seizures),
            "seizure_seconds": float(sum(s.duration for s in r.seizures)),
            "seizure_types": ",".join(sorted({s.type for s in r.seizures if s.type})),
            "synthetic": index.synthetic,
        }
        for p, r in index.iter_recordings()
    ]
    if not rows:
        return pd.DataFrame(columns=INDEX_COLUMNS)
    return pd.DataFrame(rows, columns=INDEX_COLUMNS).astype({"start": float, "duration": float, "sfreq": float})
