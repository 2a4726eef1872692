"""Import per-patient results reported in papers, so they can be compared with benchmark runs.

A reported result set is a CSV with a ``patient`` column and one column per metric (names from
:data:`benchmark.metrics.METRICS`, any case), values as fractions in ``[0, 1]``. Rows such as
``Average`` or ``Mean`` are skipped; ``N/A`` or an empty cell is a missing value. Lines starting
with ``#`` are comments.

The CSVs bundled in ``reports/reported/`` are described by ``reports/reported/index.json``; see
``reports/reported/README.md`` for their provenance.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.errors import DataError, did_you_mean
from benchmark.metrics import METRICS, summarize
from benchmark.store import ResultStore, RunRecord, utc_now

log = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).resolve().parents[1] / "reports" / "reported"
_MISSING = {"", "n/a", "na", "nan", "-", "--", "\u2013", "\u2014"}
_AGGREGATE_ROWS = {"average", "mean", "avg", "avg.", "std", "sd", "total", "overall", "median", "all"}


def reported_run_id(name: str, dataset: str, task: str, protocol: str, task_params: dict | None = None) -> str:
    """Deterministic run id of a reported result set, so re-importing it replaces it.

    Returns
    -------
    str
        ``reported-<slug of name>-<first 8 hex digits of a sha256 of the identifying fields>``.
    """
    key = json.dumps(
        {"name": name, "dataset": dataset, "task": task, "protocol": protocol, "task_params": task_params or {}},
        sort_keys=True,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "set"
    return f"reported-{slug}-{digest}"


def read_reported_csv(csv_path: str | Path) -> pd.DataFrame:
    """Read and validate a reported per-patient table.

    Returns
    -------
    pandas.DataFrame
        Index ``patient`` (file order), one float column per metric present (in
        :data:`~benchmark.metrics.METRICS` order), NaN where the paper gives no value.

    Raises
    ------
    DataError
        Missing/unreadable file, no ``patient`` column, an unknown or repeated column, a repeated
        patient, a value that is not a number, or values outside ``[0, 1]``.
    """
    path = Path(csv_path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#", skip_blank_lines=True)
    except FileNotFoundError:
        raise DataError(f"reported results file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise DataError(f"cannot read reported results file {path}: {e}") from None

    columns = [str(c).strip().lower() for c in raw.columns]
    if "patient" not in columns:
        raise DataError(f"{path.name} has no 'patient' column; its header is {list(raw.columns)}")
    for c in columns:
        if c != "patient" and c not in METRICS:
            raise DataError(
                f"{path.name}: unknown column '{c}'.{did_you_mean(c, METRICS)} "
                f"Allowed columns: patient, {', '.join(METRICS)}"
            )
    dups = sorted({c for c in columns if columns.count(c) > 1})
    if dups:
        raise DataError(f"{path.name}: columns {dups} appear more than once")
    raw.columns = columns
    metric_cols = [m for m in METRICS if m in columns]
    if not metric_cols:
        raise DataError(f"{path.name} has no metric columns; add one or more of: {', '.join(METRICS)}")

    rows: dict[str, list[float]] = {}
    for line_no, rec in enumerate(raw.to_dict("records"), start=2):
        patient = rec["patient"].strip()
        if not patient and all(not rec[m].strip() for m in metric_cols):
            continue
        if patient.lower() in _AGGREGATE_ROWS:
            log.info("%s: ignoring aggregate row '%s' (summaries are recomputed from patients)", path.name, patient)
            continue
        if not patient:
            raise DataError(f"{path.name}, data row {line_no}: the patient cell is empty")
        if patient in rows:
            raise DataError(f"{path.name}: patient '{patient}' appears more than once")
        rows[patient] = [_parse_value(rec[m], path.name, patient, m) for m in metric_cols]

    if not rows:
        raise DataError(f"{path.name} contains no patient rows")
    df = pd.DataFrame.from_dict(rows, orient="index", columns=metric_cols).astype(float)
    df.index.name = "patient"
    too_big = df.gt(1.0)
    if too_big.any().any():
        col = df.columns[too_big.any()][0]
        who = df.index[too_big[col]][0]
        raise DataError(
            f"{path.name}: {col} of {who} is {df.at[who, col]:g}; values must be fractions in [0, 1] "
            f"and these look like percentages, divide them by 100"
        )
    if df.lt(0.0).any().any():
        raise DataError(f"{path.name}: negative values found; metrics must be fractions in [0, 1]")
    return df


def _parse_value(cell: str, fname: str, patient: str, metric: str) -> float:
    text = cell.strip()
    if text.lower() in _MISSING:
        return np.nan
    if text.endswith("%"):
        raise DataError(
            f"{fname}: {metric} of {patient} is '{text}'; give fractions in [0, 1] "
            f"without '%' (these look like percentages, divide them by 100)"
        )
    try:
        return float(text)
    except ValueError:
        raise DataError(f"{fname}: {metric} of {patient} is '{text}', not a number (use N/A for missing)") from None


def import_reported(
    store: ResultStore,
    csv_path: str | Path,
    name: str,
    dataset: str,
    task: str,
    protocol: str,
    task_params: dict | None = None,
    citation: str = "",
    source: str = "",
    method: str | None = None,
    notes: str = "",
) -> str:
    """Store a paper's per-patient table as a reported result set (replacing an earlier import).

    Parameters
    ----------
    store
        The results store.
    csv_path
        CSV as described in :func:`read_reported_csv`.
    name
        Display name, e.g. ``"Lee2024 Table 3 (SOP 10)"``; usable as a reference in ``compare``.
    dataset, task, protocol, task_params
        What the paper evaluated, in this benchmark's terms (e.g. ``"chbmit"``, ``"prediction"``,
        ``"loocv"``, ``{"sop_minutes": 10, "sph_minutes": 0, "interictal_gap_hours": 3}``).
    citation, source
        Reference and where the numbers come from (DOI, table).
    method
        Method label; defaults to ``name``.
    notes
        Free text kept with the result set.

    Returns
    -------
    str
        The run id (see :func:`reported_run_id`).
    """
    per_patient = read_reported_csv(csv_path)
    task_params = dict(task_params or {})
    run_id = reported_run_id(name, dataset, task, protocol, task_params)
    path = Path(csv_path)
    provenance = {
        "csv": path.name,
        "csv_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "imported_at": utc_now(),
        "n_patients": int(len(per_patient)),
    }
    fields: dict[str, Any] = dict(
        kind="reported",
        method=method or name,
        dataset=dataset,
        task=task,
        protocol=protocol,
        task_params=task_params,
        status="reported",
        display_name=name,
        citation=citation,
        source=source,
        notes=notes,
        provenance=provenance,
        finished_at=provenance["imported_at"],
    )
    existing = store.get_run(run_id)
    if existing is None:
        store.create_run(RunRecord(run_id=run_id, **fields))
    else:
        log.info("replacing reported result set %s (%s)", run_id, name)
        store.update_run(run_id, **fields)
    store.save_patient_metrics(run_id, per_patient)
    store.save_summary(run_id, summarize(per_patient))
    log.info("imported %s: %d patients, metrics %s", name, len(per_patient), list(per_patient.columns))
    return run_id


def bundled_reported(directory: str | Path | None = None) -> list[dict[str, Any]]:
    """Describe the reported result sets shipped with seizure-bench.

    Parameters
    ----------
    directory
        Folder holding ``index.json`` and the CSVs; defaults to the source tree's
        ``reports/reported``.

    Returns
    -------
    list of dict
        One dict per CSV with ``path`` (absolute), ``name``, ``dataset``, ``task``, ``protocol``,
        ``task_params``, ``citation``, ``source``, ``method_label``, ``table`` and
        ``paper_average`` (the paper's printed average row).
    """
    folder = Path(directory) if directory is not None else BUNDLED_DIR
    index_path = folder / "index.json"
    try:
        doc = json.loads(index_path.read_text())
    except FileNotFoundError:
        raise DataError(
            f"no bundled reported results at {folder} (index.json missing); they ship with the source checkout"
        ) from None
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"cannot read {index_path}: {e}") from None
    out = []
    for entry in doc.get("sets", []):
        d = {
            "citation": doc.get("citation", ""),
            "source": doc.get("source", ""),
            **entry,
        }
        d["path"] = str((folder / entry["file"]).resolve())
        out.append(d)
    return out


def import_bundled(store: ResultStore, directory: str | Path | None = None) -> list[str]:
    """Import every bundled reported result set; returns their run ids."""
    run_ids = []
    for d in bundled_reported(directory):
        run_ids.append(
            import_reported(
                store,
                d["path"],
                name=d["name"],
                dataset=d["dataset"],
                task=d["task"],
                protocol=d["protocol"],
                task_params=d.get("task_params"),
                citation=d.get("citation", ""),
                source=f"{d.get('source', '')}, Table {d['table']}" if d.get("table") else d.get("source", ""),
                method=d.get("method_label") or d["name"],
            )
        )
    return run_ids
