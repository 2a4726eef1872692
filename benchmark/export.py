"""Export of stored results (per-patient metrics and summaries) as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmark.errors import BenchmarkError, DataError, did_you_mean
from benchmark.metrics import SUMMARY_COLUMNS
from benchmark.store import RUN_STATUSES, ResultStore, effective_status, on_synthetic_data, run_isolation

ID_COLUMNS = ["run_id", "kind", "method", "dataset", "task", "protocol", "budget", "seed", "synthetic"]
# The first columns of every CSV row: who ran what, on what, and how it is shown.
LEAD_COLUMNS = [*ID_COLUMNS[:3], "display_name", *ID_COLUMNS[3:], "status", "isolation"]


def _shown(r) -> dict:
    """Status and isolation as the board shows them (one rule each: effective_status, run_isolation)."""
    return {"status": effective_status(r), "isolation": run_isolation(r)}


def _ids(r, columns) -> dict:
    """``columns`` of a run, ``synthetic`` as the boards say it (:func:`on_synthetic_data`)."""
    out = {c: getattr(r, c) for c in columns}
    if "synthetic" in out:
        out["synthetic"] = on_synthetic_data(r)
    return out


def _provenance(r) -> dict:
    # The process that ran it (host, pid, start) serves resuming on this machine; it is no
    # result's provenance and would name the machine in a shared file.
    return {k: v for k, v in (r.provenance or {}).items() if k != "process"}


# `results list --kind`: the user's runs (the default), the papers' reported sets, or both (runs first).
LIST_KINDS = ("run", "reported", "all")
RUN_HEADERS = ("run", "score", "status", "isolation", "data")
REPORTED_HEADERS = ("reported set", "dataset", "task", "protocol", "score", "data")


@dataclass
class Listing:
    """What ``results list`` shows: rows of runs and of reported sets (``RUN_HEADERS`` and
    ``REPORTED_HEADERS``), and how many reported sets matched the filters but were not asked for."""

    runs: list[tuple] = field(default_factory=list)
    reported: list[tuple] = field(default_factory=list)
    reported_not_listed: int = 0


def list_results(
    store_path: Path,
    *,
    method: str | None = None,
    dataset: str | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> Listing:
    """The stored result sets matching every filter, the user's runs first, each with its score: the
    metric its board ranks it by (:func:`benchmark.ranking.primary_score`) and its mean over patients.

    ``method`` matches the method or a reported set's name and ``dataset`` the dataset, ignoring case
    as the command line does; ``status`` the status as shown; ``kind`` one of :data:`LIST_KINDS`
    (default ``run``: reported sets are only counted; ``reported`` with ``status="reported"``).
    """
    from benchmark.ranking import primary_score

    for name, value, choices in (("status", status, RUN_STATUSES), ("kind", kind, LIST_KINDS)):
        if value is not None and value not in choices:
            raise DataError(
                f"unknown --{name} '{value}';{did_you_mean(value, choices)} choose one of: {', '.join(choices)}."
            )
    kind = kind or ("reported" if status == "reported" else "run")  # only reported sets have that status
    store = ResultStore(store_path)
    means = store.summary_means()
    out = Listing()
    for r in store.list_runs():
        shown = _shown(r)
        if method is not None and method.casefold() not in (r.method.casefold(), r.display_name.casefold()):
            continue
        if (dataset is not None and dataset.casefold() != r.dataset.casefold()) or (
            status is not None and shown["status"] != status
        ):
            continue
        metric, value = primary_score(r.task, means.get(r.run_id, {}))
        score = f"{metric}={value:.3f}" if metric else "-"
        data = "synthetic" if on_synthetic_data(r) else "real"
        if r.kind in ("run", "scored"):  # a scored hypothesis folder is listed like a run
            out.runs.append((r.run_id, score, shown["status"], shown["isolation"] or "-", data))
        elif kind == "run":
            out.reported_not_listed += 1
        else:
            out.reported.append((r.run_id, r.dataset, r.task, r.protocol, score, data))
    if kind == "reported":
        out.runs = []
    return out


def _runs(store: ResultStore, run: str | None):
    return [store.resolve(run)] if run else store.list_runs()


# What `results export --what` chooses in CSV: two tidy tables, one observation each (a row per
# patient's metric value, or a row per run's metric summary); mixing them would leave cells empty.
EXPORT_TABLES = ("patients", "summary")
# The run's settings and provenance, after the identifying columns and before the flattened groups.
RUN_FIELDS = [
    "method_version",
    "index_hash",
    "split_hash",
    "created_at",
    "finished_at",
    "citation",
    "source",
    "notes",
    "exclusions",
]
# Flattened into dotted columns (``task_params.sop_minutes``, ``provenance.versions.torch``).
FLATTENED = ("leakage", "task_params", "method_config", "provenance")
# Left out of CSV columns only (JSON and szcore-json keep them): keyed by fold, metric or patient, so
# their columns would differ from run to run and repeat per-patient numbers on every row; the run's
# isolation column and the metric rows say the same per run.
CSV_SKIPPED = {
    "provenance.fold_isolation",
    "provenance.pooled_metrics",
    "provenance.event_scoring.per_patient",
    "provenance.sample_scoring.per_patient",
}


def export_results(store_path: Path, run: str | None = None, fmt: str = "csv", what: str | None = None) -> str:
    """Stored results as JSON (one complete record per run) or as a tidy CSV table.

    JSON: a list with, per run, its identity, settings, ``provenance`` (versions, parameter count,
    weights source, efficiency, hardware, timings, ...), ``per_patient`` metrics, ``summary`` and folds.
    CSV (``what``): ``patients`` (default), one row per run, patient and metric with its ``value``;
    or ``summary``, one row per run and metric with ``mean``, ``std``, ``ci_low``, ``ci_high``, ``n``.
    Each row carries the run's settings, with task parameters and provenance flattened into columns.
    """
    if fmt == "json" and what is not None:
        raise BenchmarkError(
            "--what chooses a CSV table; JSON holds each run's per-patient values and summary together: "
            "drop --what or add --format csv."
        )
    what = what or "patients"
    if what not in EXPORT_TABLES:
        raise BenchmarkError(
            f"unknown --what '{what}';{did_you_mean(what, EXPORT_TABLES)} choose {' or '.join(EXPORT_TABLES)}."
        )
    store = ResultStore(store_path)
    runs = _runs(store, run)
    if fmt == "json":
        return json.dumps([_json_record(store, r) for r in runs], indent=1, default=str) + "\n"
    return _csv_table(store, runs, what)


def _json_record(store: ResultStore, r) -> dict:
    """One run as JSON: the keys of earlier exports first (unchanged), then the rest of its record."""
    pm = store.patient_metrics(r.run_id)
    sm = store.summary(r.run_id)
    return _nan_to_none(
        {
            **_ids(r, ID_COLUMNS),
            "display_name": r.display_name,
            "task_params": r.task_params,
            **_shown(r),
            "index_hash": r.index_hash,
            "split_hash": r.split_hash,
            "leakage": r.leakage,
            "per_patient": pm.to_dict(orient="index"),
            "summary": sm.to_dict(orient="index"),
            "folds": [
                {
                    "fold_id": f.fold_id,
                    "patient": f.patient,
                    "status": f.status,
                    "error": f.error,
                    "metrics": f.metrics,
                }
                for f in store.folds(r.run_id)
            ],
            **{c: getattr(r, c) for c in RUN_FIELDS},
            "method_config": r.method_config,
            "provenance": _provenance(r),
        }
    )


def _run_columns(r) -> tuple[dict, dict]:
    """A run's lead columns (identity, status, isolation) and its flattened settings and provenance."""
    lead = {**_ids(r, LEAD_COLUMNS[:-2]), **_shown(r)}
    rest = {c: getattr(r, c) for c in RUN_FIELDS}
    for group in FLATTENED:
        rest.update(_flatten(group, _provenance(r) if group == "provenance" else getattr(r, group) or {}))
    return lead, rest


def _flatten(prefix: str, obj) -> dict:
    """Nested dicts as dotted keys; lists as JSON text (unambiguous in one cell); CSV_SKIPPED left out."""
    if prefix in CSV_SKIPPED:
        return {}
    if not isinstance(obj, dict):
        return {prefix: json.dumps(obj, default=str) if isinstance(obj, (list, tuple)) else obj}
    out: dict = {}
    for key, value in obj.items():
        out.update(_flatten(f"{prefix}.{key}", value))
    return out


def _metric_rows(store: ResultStore, run_id: str, what: str) -> list[dict]:
    if what == "summary":
        sm = store.summary(run_id)
        return [{"metric": str(m), **row} for m, row in sm.to_dict(orient="index").items()]
    pm = store.patient_metrics(run_id)
    return [
        {"patient": str(patient), "metric": str(metric), "value": value}
        for patient, row in pm.to_dict(orient="index").items()
        for metric, value in row.items()
    ]


def _csv_table(store: ResultStore, runs, what: str) -> str:
    """Tidy long CSV: the value columns after the run's lead columns, then its settings, sorted per group."""
    value_columns = ["patient", "metric", "value"] if what == "patients" else ["metric", *SUMMARY_COLUMNS]
    rows, settings = [], {}
    for r in runs:
        lead, rest = _run_columns(r)
        for k in rest:
            settings.setdefault(k, None)
        rows += [{**lead, **values, **rest} for values in _metric_rows(store, r.run_id, what)]
    grouped = list(RUN_FIELDS)
    for group in FLATTENED:
        grouped += sorted(k for k in settings if k.startswith(group + ".") or k == group)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=LEAD_COLUMNS + value_columns + grouped, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()


def _cell(value):
    """Empty for a missing value (pandas and R read NA); numbers in full (shortest round-trip) precision."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, np.generic):
        return _cell(value.item())
    return value


def _nan_to_none(obj):
    if isinstance(obj, dict):
        return {str(k): _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and np.isnan(obj):
        return None
    return obj
