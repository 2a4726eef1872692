"""Import results reported in papers, so they can be compared with benchmark runs.

A reported result set is one of two levels:

``patient``
    A CSV with a ``patient`` column and one column per metric (names from
    :data:`benchmark.metrics.METRICS`, any case). Rows such as ``Average`` or ``Mean`` are skipped:
    the summary is recomputed from the patients, and patient-wise comparisons are possible.
``dataset``
    Figures a paper gives only for a whole data set (e.g. a random k-fold over segments). The CSV
    has a ``row`` column naming the paper's table row (a method, a model variant) and one column per
    metric: the binary names, the multi-class ones (:data:`benchmark.metrics.MULTICLASS_METRICS`,
    which include the support-weighted and hard-prediction figures some papers print), the video-level
    ones of video classification (:data:`benchmark.metrics.VIDEO_METRICS`, e.g. ``video_f1``) and
    per-class ones ``"<metric>:<CLASS>"`` with ``<metric>`` in
    :data:`benchmark.metrics.PER_CLASS_METRICS`. One
    CSV may hold several rows (result sets); one result set may merge one row from several CSVs
    (e.g. a paper's overall table and its per-class table), whose shared metrics must agree. Such a
    set is stored as a summary only (``n = 0``, no spread, no interval) and no per-patient metrics,
    so it can be shown beside runs but never paired with them patient by patient.

In both, values are fractions in ``[0, 1]``; ``N/A`` or an empty cell is a missing value; lines
starting with ``#`` are comments.

The CSVs bundled in ``reports/reported/`` are described by ``reports/reported/index.json``; see
``reports/reported/README.md`` for their provenance.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.errors import DataError, UnknownNameError, did_you_mean
from benchmark.metrics import (
    METRICS,
    MULTICLASS_METRICS,
    PER_CLASS_METRICS,
    SUMMARY_COLUMNS,
    VIDEO_METRICS,
    WEIGHTED_METRICS,
    summarize,
)
from benchmark.store import ResultStore, RunRecord, utc_now

log = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).resolve().parents[1] / "reports" / "reported"
LEVELS = ("patient", "dataset")
DATASET_METRICS = tuple(dict.fromkeys((*METRICS, *MULTICLASS_METRICS, *WEIGHTED_METRICS, *VIDEO_METRICS)))
_KEY_COLUMN = {"patient": "patient", "dataset": "row"}
_CLASS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
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


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise UnknownNameError(
            f"unknown reported-set level '{level}'.{did_you_mean(level, LEVELS)} Choose one of {list(LEVELS)}."
        )


def _dataset_metric(column: str, fname: str) -> str:
    """Canonical name of a dataset-level metric column (class part kept as written), or raise."""
    name = column.strip()
    if ":" not in name:
        low = name.lower()
        if low in DATASET_METRICS:
            return low
        hint = did_you_mean(low, DATASET_METRICS)
    else:
        prefix, cls = (part.strip() for part in name.split(":", 1))
        prefix = prefix.lower()
        if prefix in PER_CLASS_METRICS:
            if _CLASS_NAME.fullmatch(cls):
                return f"{prefix}:{cls}"
            raise DataError(
                f"{fname}: column '{column}' has no usable class name after ':'; "
                f"use letters, digits, '_' or '-', e.g. '{prefix}:FNSZ'"
            )
        hint = did_you_mean(f"{prefix}:{cls}", [f"{m}:{cls}" for m in PER_CLASS_METRICS])
    raise DataError(
        f"{fname}: unknown column '{column}'.{hint} Allowed columns: row, {', '.join(DATASET_METRICS)}, "
        f"and per class '<metric>:<CLASS>' with <metric> one of {', '.join(PER_CLASS_METRICS)}"
    )


def read_reported_csv(csv_path: str | Path, *, level: str = "patient") -> pd.DataFrame:
    """Read and validate a reported table.

    Parameters
    ----------
    csv_path
        The CSV (see the module docstring for both formats).
    level
        ``"patient"`` (a ``patient`` column) or ``"dataset"`` (a ``row`` column).

    Returns
    -------
    pandas.DataFrame
        Index ``patient`` or ``row`` (file order), one float column per metric present, NaN where
        the paper gives no value. Per-patient columns are in :data:`~benchmark.metrics.METRICS`
        order; dataset-level ones in :data:`DATASET_METRICS` order, then per-class ones in file order.

    Raises
    ------
    DataError
        Missing/unreadable file, no key column, an unknown or repeated column, a repeated row, a
        value that is not a number, or values outside ``[0, 1]``.
    """
    _check_level(level)
    key = _KEY_COLUMN[level]
    path = Path(csv_path)
    raw = _read_raw(path)
    columns, allowed = (_patient_columns if level == "patient" else _dataset_columns)(raw, path)
    dups = sorted({c for c in columns if columns.count(c) > 1})
    if dups:
        raise DataError(f"{path.name}: columns {dups} appear more than once")
    raw.columns = columns
    metric_cols = [m for m in allowed if m in columns]
    if not metric_cols:
        raise DataError(f"{path.name} has no metric columns; add one or more of: {', '.join(allowed)}")
    rows = _value_rows(raw, path, level, metric_cols)
    df = pd.DataFrame.from_dict(rows, orient="index", columns=metric_cols).astype(float)
    df.index.name = key
    _check_fractions(df, path)
    return df


def _read_raw(path: Path) -> pd.DataFrame:
    """The CSV as strings, comments and blank lines skipped; one-line errors for a missing or bad file."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, comment="#", skip_blank_lines=True)
    except FileNotFoundError:
        raise DataError(f"reported results file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise DataError(f"cannot read reported results file {path}: {e}") from None


def _patient_columns(raw: pd.DataFrame, path: Path) -> tuple[list[str], list[str]]:
    """Normalised header of a per-patient table, and its allowed metric columns in order."""
    columns = [str(c).strip().lower() for c in raw.columns]
    if "patient" not in columns:
        other = " (for a dataset-level table, pass level='dataset')" if "row" in columns else ""
        raise DataError(f"{path.name} has no 'patient' column{other}; its header is {list(raw.columns)}")
    for c in columns:
        if c != "patient" and c not in METRICS:
            raise DataError(
                f"{path.name}: unknown column '{c}'.{did_you_mean(c, METRICS)} "
                f"Allowed columns: patient, {', '.join(METRICS)}"
            )
    return columns, list(METRICS)


def _dataset_columns(raw: pd.DataFrame, path: Path) -> tuple[list[str], list[str]]:
    """Normalised header of a dataset-level table, and its allowed metric columns in order (canonical
    metrics, then per-class ones in file order)."""
    lowered = [str(c).strip().lower() for c in raw.columns]
    if "row" not in lowered:
        other = " (for a per-patient table, use level='patient')" if "patient" in lowered else ""
        raise DataError(
            f"{path.name} has no 'row' column naming each result set{other}; its header is {list(raw.columns)}"
        )
    columns = ["row" if low == "row" else _dataset_metric(str(c), path.name) for c, low in zip(raw.columns, lowered)]
    per_class = [c for c in columns if ":" in c]
    return columns, [*DATASET_METRICS, *dict.fromkeys(per_class)]


def _value_rows(raw: pd.DataFrame, path: Path, level: str, metric_cols: list[str]) -> dict[str, list[float]]:
    """Label -> parsed values of each data row; empty rows and per-patient aggregate rows skipped."""
    key = _KEY_COLUMN[level]
    rows: dict[str, list[float]] = {}
    for line_no, rec in enumerate(raw.to_dict("records"), start=2):
        label = rec[key].strip()
        if not label and all(not rec[m].strip() for m in metric_cols):
            continue
        if level == "patient" and label.lower() in _AGGREGATE_ROWS:
            log.info("%s: ignoring aggregate row '%s' (summaries are recomputed from patients)", path.name, label)
            continue
        if not label:
            raise DataError(f"{path.name}, data row {line_no}: the {key} cell is empty")
        if label in rows:
            raise DataError(f"{path.name}: {key} '{label}' appears more than once")
        rows[label] = [_parse_value(rec[m], path.name, label, m) for m in metric_cols]
    if not rows:
        raise DataError(f"{path.name} contains no {key} rows")
    return rows


def _check_fractions(df: pd.DataFrame, path: Path) -> None:
    """Every value lies in ``[0, 1]`` (percentages are the usual transcription slip)."""
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


def _parse_value(cell: str, fname: str, who: str, metric: str) -> float:
    text = cell.strip()
    if text.lower() in _MISSING:
        return np.nan
    if text.endswith("%"):
        raise DataError(
            f"{fname}: {metric} of {who} is '{text}'; give fractions in [0, 1] "
            f"without '%' (these look like percentages, divide them by 100)"
        )
    try:
        return float(text)
    except ValueError:
        raise DataError(f"{fname}: {metric} of {who} is '{text}', not a number (use N/A for missing)") from None


def _paths(csv_path: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(csv_path, (str, Path)):
        return [Path(csv_path)]
    paths = [Path(p) for p in csv_path]
    if not paths:
        raise DataError("no CSV given for the reported result set")
    return paths


def dataset_level_values(csv_path: str | Path | Sequence[str | Path], row: str | None = None) -> pd.Series:
    """The figures of one dataset-level result set, merged from one or more CSVs.

    Parameters
    ----------
    csv_path
        One dataset-level CSV, or several (e.g. a paper's overall, per-class and AUC tables).
    row
        Label of the set's row, the same in every CSV. May be omitted when each CSV has one row.

    Returns
    -------
    pandas.Series
        Metric -> value (missing values left out), in the order of :func:`read_reported_csv`
        (canonical metrics first, per-class ones after them).

    Raises
    ------
    DataError
        A CSV without that row, an ambiguous row, or two CSVs that give a metric different values.
    """
    merged: dict[str, float] = {}
    origin: dict[str, str] = {}
    label = row
    for path in _paths(csv_path):
        table = read_reported_csv(path, level="dataset")
        if row is None:
            if len(table) != 1:
                shown = ", ".join(f"'{r}'" for r in list(table.index)[:5]) + (", ..." if len(table) > 5 else "")
                raise DataError(f"{path.name} holds {len(table)} rows ({shown}); pick one with row=<label>")
            label = table.index[0]
        elif row not in table.index:
            raise DataError(
                f"{path.name} has no row '{row}'.{did_you_mean(row, table.index)} "
                f"Rows: {', '.join(map(str, table.index))}"
            )
        else:
            label = row
        for metric, value in table.loc[label].dropna().items():
            if metric in merged and merged[metric] != value:
                raise DataError(
                    f"{path.name}: {metric} of '{label}' is {value:g} but {origin[metric]} gives "
                    f"{merged[metric]:g}; the tables disagree, fix the transcription"
                )
            merged.setdefault(metric, float(value))
            origin.setdefault(metric, path.name)
    if not merged:
        files = ", ".join(p.name for p in _paths(csv_path))
        raise DataError(f"row '{label}' has no values in {files}; fill in its figures")
    known = [m for m in DATASET_METRICS if m in merged]
    return pd.Series({m: merged[m] for m in known + [m for m in merged if m not in known]}, dtype=float)


def dataset_summary(values: pd.Series | Mapping[str, float]) -> pd.DataFrame:
    """Summary frame of a dataset-level set, shaped like :func:`benchmark.metrics.summarize`'s.

    ``mean`` is the paper's figure; ``std``, ``ci_low`` and ``ci_high`` are NaN and ``n`` is 0,
    since the figure is not an average over patients.
    """
    values = pd.Series(values, dtype=float)
    out = pd.DataFrame(
        {"mean": values, "std": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": 0},
        index=values.index,
        columns=list(SUMMARY_COLUMNS),
    )
    out.index.name = "metric"
    return out.astype({"n": int})


def import_reported(
    store: ResultStore,
    csv_path: str | Path | Sequence[str | Path],
    name: str,
    dataset: str,
    task: str,
    protocol: str,
    task_params: dict | None = None,
    citation: str = "",
    source: str = "",
    method: str | None = None,
    notes: str = "",
    *,
    level: str = "patient",
    row: str | None = None,
    role: str = "",
    metric_notes: Mapping[str, str] | None = None,
    video_level: Mapping[str, Any] | None = None,
) -> str:
    """Store a paper's table as a reported result set (replacing an earlier import).

    Parameters
    ----------
    store
        The results store.
    csv_path
        CSV as described in :func:`read_reported_csv`; for ``level="dataset"`` also a list of
        CSVs merged by :func:`dataset_level_values`.
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
    level
        ``"patient"`` (per-patient table: patient metrics plus a summary over patients) or
        ``"dataset"`` (whole-data-set figures: a summary only, ``n = 0``).
    row
        Dataset level only: the row of the CSV(s) holding the set (see :func:`dataset_level_values`).
    role
        Optional tag kept as ``provenance["role"]``, e.g. ``"proposed"``, ``"comparison"``,
        ``"ablation"``.
    metric_notes
        Optional metric (or per-class prefix) -> caveat; the entries for metrics of this set are
        kept as ``provenance["metric_notes"]``.
    video_level
        Dataset level only: a paper's video-level confusion matrix, ``{"aggregation", "classes",
        "confusion", "n_videos"}`` with rows the true and columns the predicted classes in
        ``classes`` order (the layout runs store in ``provenance["video_level"]``); kept as
        ``provenance["video_level"]``.

    Returns
    -------
    str
        The run id (see :func:`reported_run_id`). ``provenance["level"]`` records the level.
    """
    _check_level(level)
    paths = _paths(csv_path)
    table = _read_set(paths, level, row)
    task_params = dict(task_params or {})
    run_id = reported_run_id(name, dataset, task, protocol, task_params)
    provenance = _provenance(
        paths, level, table, row=row, role=role, name=name, video_level=video_level, metric_notes=metric_notes
    )
    identity = dict(method=method or name, dataset=dataset, task=task, protocol=protocol, task_params=task_params)
    about = dict(citation=citation, source=source, notes=notes)
    _store_set(store, run_id, name, level, table, _run_fields(name, identity, about, provenance))
    return run_id


def _metric_names(table: pd.DataFrame | pd.Series) -> list[str]:
    """Metrics of a per-patient table (its columns) or of a dataset-level set (its index)."""
    return list(table.columns if isinstance(table, pd.DataFrame) else table.index)


def _read_set(paths: list[Path], level: str, row: str | None) -> pd.DataFrame | pd.Series:
    """The per-patient table of one CSV, or the dataset-level values merged from ``paths``."""
    if level == "patient":
        if len(paths) != 1:
            raise DataError(
                f"a per-patient result set is read from one CSV, got {len(paths)}; pass level='dataset' to merge tables"
            )
        if row is not None:
            raise DataError("row= picks a result set from a dataset-level CSV; pass level='dataset' or leave row out")
        return read_reported_csv(paths[0])
    return dataset_level_values(paths, row)


def _provenance(
    paths: list[Path],
    level: str,
    table: pd.DataFrame | pd.Series,
    *,
    row: str | None,
    role: str,
    name: str,
    video_level: Mapping[str, Any] | None,
    metric_notes: Mapping[str, str] | None,
) -> dict[str, Any]:
    """Provenance of a reported set: level, import time, the CSVs and their hashes, and the optional
    role, video-level record and the metric notes that concern its metrics."""
    provenance: dict[str, Any] = {"level": level, "imported_at": utc_now()}
    if level == "patient":
        provenance |= {
            "csv": paths[0].name,
            "csv_sha256": hashlib.sha256(paths[0].read_bytes()).hexdigest(),
            "n_patients": int(len(table)),
        }
    else:
        provenance |= {
            "csv": [p.name for p in paths],
            "csv_sha256": [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths],
            "row": row,
        }
    if role:
        provenance["role"] = role
    if video_level is not None:
        if level != "dataset":
            raise DataError("video_level= holds a paper's pooled confusion matrix; pass level='dataset'")
        provenance["video_level"] = _checked_video_level(video_level, name)
    metrics = _metric_names(table)
    kept = {k: v for k, v in (metric_notes or {}).items() if any(m == k or m.startswith(f"{k}:") for m in metrics)}
    if kept:
        provenance["metric_notes"] = kept
    return provenance


def _run_fields(name: str, identity: dict[str, Any], about: dict[str, Any], provenance: dict[str, Any]) -> dict:
    """The run record's fields of a reported set: what was evaluated (``identity``), where the
    figures come from (``about``) and the provenance."""
    return dict(
        kind="reported",
        **identity,
        status="reported",
        display_name=name,
        **about,
        provenance=provenance,
        finished_at=provenance["imported_at"],
    )


def _store_set(
    store: ResultStore, run_id: str, name: str, level: str, table: pd.DataFrame | pd.Series, fields: dict
) -> None:
    """Create or replace the run, then its per-patient metrics and summary."""
    existing = store.get_run(run_id)
    if existing is None:
        store.create_run(RunRecord(run_id=run_id, **fields))
    else:
        log.info("replacing reported result set %s (%s)", run_id, name)
        store.update_run(run_id, **fields)
    metrics = _metric_names(table)
    if level == "patient":
        store.save_patient_metrics(run_id, table)
        store.save_summary(run_id, summarize(table))
        log.info("imported %s: %d patients, metrics %s", name, len(table), metrics)
    else:
        # No patients: clears any rows left by an earlier per-patient import under this id.
        store.save_patient_metrics(run_id, pd.DataFrame(index=pd.Index([], name="patient"), dtype=float))
        store.save_summary(run_id, dataset_summary(table))
        log.info("imported %s (dataset level): metrics %s", name, metrics)


def _checked_video_level(video_level: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A copy of a reported video-level record, after checking the matrix fits its classes and count."""
    classes = [str(c) for c in video_level.get("classes") or []]
    matrix = video_level.get("confusion")
    square = (
        isinstance(matrix, (list, tuple))
        and len(matrix) == len(classes) >= 2
        and all(isinstance(r, (list, tuple)) and len(r) == len(classes) for r in matrix)
    )
    if not square or not all(isinstance(c, int) and c >= 0 for r in matrix for c in r):
        raise DataError(
            f"video_level of '{name}': 'confusion' must be a {len(classes)} x {len(classes)} list of counts, one row "
            f"per true class of 'classes' {classes}"
        )
    n_videos = video_level.get("n_videos")
    total = sum(sum(r) for r in matrix)
    if n_videos is not None and n_videos != total:
        raise DataError(
            f"video_level of '{name}': the confusion matrix counts {total} videos but n_videos is {n_videos}"
        )
    out = {
        "aggregation": str(video_level.get("aggregation") or ""),
        "classes": classes,
        "confusion": [[int(c) for c in r] for r in matrix],
        "n_videos": total,
    }
    return out


def bundled_reported(directory: str | Path | None = None) -> list[dict[str, Any]]:
    """Describe the reported result sets shipped with seizure-bench.

    ``index.json`` holds ``papers`` (key -> ``citation``, ``source``, ``notes``, ``metric_notes``)
    and ``sets``, each naming its ``paper``; a folder whose ``index.json`` has a top-level
    ``citation`` and ``source`` instead (one paper) is read as well.

    Parameters
    ----------
    directory
        Folder holding ``index.json`` and the CSVs; defaults to the source tree's
        ``reports/reported``.

    Returns
    -------
    list of dict
        One dict per result set with ``path`` (absolute path of its first CSV), ``paths`` (all its
        CSVs), ``level`` (``"patient"`` unless given), ``row`` (``None`` unless given), ``name``,
        ``dataset``, ``task``, ``protocol``, ``task_params``, ``citation``, ``source``,
        ``paper_notes``, ``metric_notes``, ``method_label``, ``table`` and the set's other
        entries (e.g. ``paper_average``, ``role``, ``notes``, ``table_label``, ``video_level``).
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
    papers = doc.get("papers", {})
    out = []
    for entry in doc.get("sets", []):
        paper_key = entry.get("paper")
        if paper_key is not None and paper_key not in papers:
            raise DataError(f"{index_path}: set '{entry.get('name')}' names paper '{paper_key}', which 'papers' lacks")
        paper = papers.get(paper_key, doc)
        files = entry["file"] if isinstance(entry["file"], list) else [entry["file"]]
        d = {
            "citation": paper.get("citation", ""),
            "source": paper.get("source", ""),
            "paper_notes": paper.get("notes", ""),
            "metric_notes": dict(paper.get("metric_notes", {})),
            "level": "patient",
            "row": None,
            **entry,
        }
        d["paths"] = [str((folder / f).resolve()) for f in files]
        d["path"] = d["paths"][0]
        out.append(d)
    return out


def import_bundled(
    store: ResultStore, directory: str | Path | None = None, *, replace: bool = True, paper: str | None = None
) -> list[str]:
    """Import every bundled reported result set; returns the run ids imported.

    With ``replace=False`` a set already in the store is left as it is (and its id not returned),
    so calling this before every report build neither rewrites nor re-dates stored sets. ``paper``
    (e.g. ``"lee2024"``) imports only that paper's sets.
    """
    run_ids = []
    for d in bundled_reported(directory):
        if paper is not None and d.get("paper") != paper:
            continue
        params = dict(d.get("task_params") or {})
        if not replace and store.get_run(reported_run_id(d["name"], d["dataset"], d["task"], d["protocol"], params)):
            continue
        label = d.get("table_label") or (str(d["table"]) if d.get("table") else "")
        tables = f"Tables {label}" if "," in label else f"Table {label}"
        run_ids.append(
            import_reported(
                store,
                d["paths"],
                name=d["name"],
                dataset=d["dataset"],
                task=d["task"],
                protocol=d["protocol"],
                task_params=params,
                citation=d.get("citation", ""),
                source=f"{d.get('source', '')}, {tables}" if label else d.get("source", ""),
                method=d.get("method_label") or d["name"],
                notes=" ".join(n for n in (d.get("notes", ""), d.get("paper_notes", "")) if n),
                level=d["level"],
                row=d["row"],
                role=d.get("role", ""),
                metric_notes=d["metric_notes"],
                video_level=d.get("video_level"),
            )
        )
    return run_ids
