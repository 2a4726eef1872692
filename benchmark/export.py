"""Export of stored results (per-patient metrics and summaries) as CSV or JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from benchmark.errors import DataError, did_you_mean
from benchmark.store import RUN_STATUSES, ResultStore, effective_status, run_isolation

ID_COLUMNS = ["run_id", "kind", "method", "dataset", "task", "protocol", "budget", "seed", "synthetic"]


def _shown(r) -> dict:
    """Status and isolation as the board shows them (one rule each: effective_status, run_isolation)."""
    return {"status": effective_status(r), "isolation": run_isolation(r)}


def list_results(
    store_path: Path, *, method: str | None = None, dataset: str | None = None, status: str | None = None
) -> list[tuple]:
    """One row per result set: id, kind, name, dataset, task, protocol, status, isolation, synthetic.

    ``method`` matches the method or a reported set's name; ``status`` the status as shown.
    """
    if status is not None and status not in RUN_STATUSES:
        raise DataError(
            f"unknown --status '{status}';{did_you_mean(status, RUN_STATUSES)} "
            f"choose one of: {', '.join(RUN_STATUSES)}."
        )
    store = ResultStore(store_path)
    rows = []
    for r in store.list_runs(dataset=dataset):
        shown = _shown(r)
        if method is not None and method not in (r.method, r.display_name):
            continue
        if status is not None and shown["status"] != status:
            continue
        rows.append(
            (
                r.run_id,
                r.kind,
                r.display_name or r.method,
                r.dataset,
                r.task,
                r.protocol,
                shown["status"],
                shown["isolation"] or "-",
                "SYNTHETIC" if r.synthetic else "",
            )
        )
    return rows


def _runs(store: ResultStore, run: str | None):
    return [store.resolve(run)] if run else store.list_runs()


def export_results(store_path: Path, run: str | None = None, fmt: str = "csv") -> str:
    """Per-patient metrics (``level=patient``) and summaries (``level=mean|std|ci_low|ci_high``)."""
    store = ResultStore(store_path)
    runs = _runs(store, run)
    if fmt == "json":
        out = []
        for r in runs:
            pm = store.patient_metrics(r.run_id)
            sm = store.summary(r.run_id)
            out.append(
                {
                    **{c: getattr(r, c) for c in ID_COLUMNS},
                    "display_name": r.display_name,
                    "task_params": r.task_params,
                    **_shown(r),
                    "index_hash": r.index_hash,
                    "split_hash": r.split_hash,
                    "leakage": r.leakage,
                    "per_patient": _nan_to_none(pm.to_dict(orient="index")),
                    "summary": _nan_to_none(sm.to_dict(orient="index")),
                    "folds": [
                        {
                            "fold_id": f.fold_id,
                            "patient": f.patient,
                            "status": f.status,
                            "error": f.error,
                            "metrics": _nan_to_none(f.metrics),
                        }
                        for f in store.folds(r.run_id)
                    ],
                }
            )
        return json.dumps(out, indent=1, default=str) + "\n"
    frames = []
    for r in runs:
        ids = {**{c: getattr(r, c) for c in ID_COLUMNS}, **_shown(r)}
        pm = store.patient_metrics(r.run_id)
        if len(pm):
            frames.append(pm.reset_index().rename(columns={"index": "patient"}).assign(level="patient", **ids))
        sm = store.summary(r.run_id)
        if len(sm):
            for stat in ("mean", "std", "ci_low", "ci_high"):
                row = sm[stat].to_frame().T.reset_index(drop=True)
                frames.append(row.assign(level=stat, patient="", **ids))
    if not frames:
        return ""
    import pandas as pd  # here, not at the top: `results list` must answer at once without pandas

    df = pd.concat(frames, ignore_index=True)
    lead = ID_COLUMNS + ["status", "isolation", "level", "patient"]
    df = df[lead + [c for c in df.columns if c not in lead]]
    buf = io.StringIO()
    df.to_csv(buf, index=False, float_format="%.6g")
    return buf.getvalue()


def _nan_to_none(obj):
    if isinstance(obj, dict):
        return {str(k): _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, float) and np.isnan(obj):
        return None
    if isinstance(obj, (np.floating,)):
        return None if np.isnan(obj) else float(obj)
    return obj
