"""Render the results store as a static HTML report.

The report is a folder of plain HTML pages with relative links, one stylesheet and one small script,
so it opens from ``file://`` and needs no network. Layout::

    index.html                  leaderboards and all result sets
    leaderboards/<slug>.html    one per (dataset, task, task parameters, protocol)
    runs/<run id>.html          one per result set (reproduced run or reported table)
    papers/<recipe>.html        one per reproduction recipe with results (see benchmark.recipes)
    static/report.css, static/report.js

Templates are Jinja2 with autoescaping on, so names coming from users (methods, patients, errors)
are always shown as text. The output depends only on the store's content: no build time is written.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from benchmark.adapters import pretrained_of, warns_random_init
from benchmark.errors import BenchmarkError
from benchmark.metrics import LOWER_IS_BETTER
from benchmark.report.classes import class_names, confusion_from_counts, per_class_table, video_level
from benchmark.report.figures import ROC_BINS, board_figures, index_figures, paper_figures, run_figures
from benchmark.report.leaderboard import (
    Entry,
    Leaderboard,
    build_leaderboards,
    is_baseline,
    metric_stats,
    ordered_metrics,
    protocol_gaps,
    safe_name,
    task_params_label,
    task_phrase,
)
from benchmark.report.papers import build_paper_pages
from benchmark.store import effective_status

log = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent
_STATIC_FILES = ("report.css", "report.js")
# Written into the output folder so a rebuild may clear stale pages it made, and nothing else.
_MARKER = ".seizure-bench-report"

METRIC_LABELS = {
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "fpr": "FPR",
    "accuracy": "Accuracy",
    "precision": "Precision",
    "f1": "F1",
    "balanced_accuracy": "Balanced acc.",
    "roc_auc": "ROC AUC",
    "recall": "Recall",
    "precision_macro": "Precision (macro)",
    "recall_macro": "Recall (macro)",
    "specificity_macro": "Specificity (macro)",
    "f1_macro": "F1 (macro)",
    "f1_micro": "F1 (micro)",
    "roc_auc_macro": "ROC AUC (macro)",
    "roc_auc_micro": "ROC AUC (micro)",
    "precision_weighted": "Precision (weighted)",
    "f1_weighted": "F1 (weighted)",
    "roc_auc_hard": "AUC of hard predictions",
    "roc_auc_hard_macro": "AUC of hard pred. (macro)",
    "roc_auc_hard_micro": "AUC of hard pred. (micro)",
    "video_accuracy": "Video accuracy",
    "video_balanced_accuracy": "Video balanced acc.",
    "video_f1": "Video F1",
    "video_sensitivity": "Video sensitivity",
    "video_specificity": "Video specificity",
    "video_roc_auc": "Video ROC AUC",
    "event_sensitivity": "Event sensitivity",
    "event_precision": "Event precision",
    "event_f1": "Event F1",
    "fa_per_24h": "False alarms / 24 h",
    "sample_sensitivity": "Sample sensitivity",
    "sample_precision": "Sample precision",
    "sample_f1": "Sample F1",
    "sample_fp_per_24h": "Sample FP / 24 h",
}


def _stand_ins() -> dict[str, str | tuple[str, ...]]:
    from benchmark.datasets import DATASETS

    return {name: spec.stands_in_for for name, spec in DATASETS.items() if spec.stands_in_for}


def build_report(store, out_dir: Path, *, title: str = "seizure-bench", recipes=None) -> Path:
    """Write the static HTML report of every result set in ``store``.

    Parameters
    ----------
    store
        An open :class:`benchmark.store.ResultStore`.
    out_dir
        Folder to write into (created if missing). Pages this function wrote on an earlier build
        are replaced; other files in the folder are left alone.
    title
        Title shown on every page.
    recipes
        Reproduction recipes to lay out as paper-grid pages; default every recipe in
        :data:`benchmark.recipes.RECIPES`. A recipe gets a page only if the store holds a run or a
        reported set of its grid.

    Returns
    -------
    Path
        Path of ``index.html``.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise BenchmarkError(f"report output {out_dir} is a file; pass --out a folder path.")
    _prepare(out_dir)

    # A "running" run whose process is gone is shown as interrupted (one rule: store.effective_status).
    runs = sorted(
        (dataclasses.replace(r, status=effective_status(r)) for r in store.list_runs()),
        key=lambda r: (r.created_at or "", r.run_id),
    )
    entries = [_entry(store, run) for run in runs]
    boards = build_leaderboards(entries, stand_ins=_stand_ins())
    boards_of: dict[str, list[Leaderboard]] = {}
    for board in boards:
        for entry in board.entries:
            boards_of.setdefault(entry.run.run_id, []).append(board)

    if recipes is None:
        from benchmark.recipes import RECIPES

        recipes = list(RECIPES.values())
    papers = build_paper_pages(entries, recipes, boards_of)

    env = _environment()
    common = {"site_title": title}
    gaps = protocol_gaps(boards)
    _write(
        out_dir / "index.html",
        env.get_template("index.html").render(
            **common, root="", boards=boards, entries=entries, papers=papers, gaps=gaps, figures=index_figures(gaps)
        ),
    )
    for paper in papers:
        (out_dir / "papers").mkdir(exist_ok=True)
        _write(
            out_dir / paper.page,
            env.get_template("paper.html").render(
                **common, root="../", paper=paper, columns=paper.columns, figures=paper_figures(paper)
            ),
        )
    for board in boards:
        _write(
            out_dir / "leaderboards" / f"{board.slug}.html",
            env.get_template("leaderboard.html").render(
                **common, root="../", board=board, figures=board_figures(board)
            ),
        )
    for entry in entries:
        ctx, run_boards = _run_context(store, entry), boards_of.get(entry.run.run_id, [])
        figures = _run_figures(store, ctx, run_boards)
        _write(
            out_dir / entry.page,
            env.get_template("run.html").render(**common, root="../", **ctx, boards=run_boards, figures=figures),
        )
    for name in _STATIC_FILES:
        shutil.copyfile(_HERE / "static" / name, out_dir / "static" / name)
    log.info("wrote report with %d leaderboard(s) and %d result set(s) to %s", len(boards), len(entries), out_dir)
    return out_dir / "index.html"


def _prepare(out_dir: Path) -> None:
    marker = out_dir / _MARKER
    if marker.exists():
        for sub in ("leaderboards", "runs", "papers"):
            for page in (out_dir / sub).glob("*.html"):
                page.unlink()
    for sub in ("leaderboards", "runs", "static"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    marker.write_text("This folder is generated by `seizure-bench report`.\n", encoding="utf-8")


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _entry(store, run) -> Entry:
    patient_metrics = store.patient_metrics(run.run_id).copy()
    patient_metrics.index = patient_metrics.index.map(str)
    summary = store.summary(run.run_id)
    return Entry(
        run=run,
        page=f"runs/{safe_name(run.run_id)}.html",
        patient_metrics=patient_metrics,
        stats=metric_stats(patient_metrics, summary),
        is_baseline=is_baseline(run),
    )


def _run_context(store, entry: Entry) -> dict[str, Any]:
    run = entry.run
    folds = store.folds(run.run_id)
    # Per-class metrics ("recall:FNSZ") get their own table; as columns they would swamp the rest.
    metrics = _overall(entry.patient_metrics.columns)
    fold_metrics = _overall({m for f in folds for m in (f.metrics or {})})
    provenance = dict(run.provenance or {})
    weights = provenance.get("weights_source")
    confusion = histogram = None
    if run.kind == "run":
        from benchmark.tasks import find_task

        known = find_task(run.task)
        fixed = known.metadata.classes if known and known.metadata.classes else ()
        classes = class_names(provenance, entry.stats, fallback=fixed)
        # One scan of the window scores gives both the confusion matrix and the ROC curve's counts.
        histogram = store.score_histogram(run.run_id, ROC_BINS)
        confusion = confusion_from_counts(histogram.groupby(["label", "pred"], as_index=False)["n"].sum(), classes)
    pooled = {str(k): v for k, v in (provenance.get("pooled_metrics") or {}).items()}
    return {
        "entry": entry,
        "run": run,
        "metrics": metrics,
        "patients": sorted(entry.patient_metrics.index, key=_natural_key),
        "pooled": pooled if any(m in pooled for m in metrics) else {},
        "printed_metrics": _overall(entry.stats) if entry.level == "dataset" else [],
        "per_class": per_class_table(provenance, entry.stats, level=entry.level, confusion=confusion),
        "confusion": confusion,
        "score_histogram": histogram,
        # A video run's windows are clips of its videos.
        "window_unit": "clips" if _is_video(run.task) else "windows",
        "video_level": video_level(provenance),
        "folds": folds,
        "fold_metrics": fold_metrics,
        "n_failed": sum(f.status != "ok" for f in folds),
        # Shown in their own sections above; listing them again would only repeat them.
        "provenance_shown": {
            k: v for k, v in provenance.items() if k not in ("pooled_metrics", "video_level", "source_conflicts")
        },
        "provenance": provenance,
        # Only a method whose paper starts from pretrained weights is flagged for running without them.
        "random_init": warns_random_init(pretrained_of(run.method, provenance), weights),
        "leakage": run.leakage or {},
        "exclusions": list(run.exclusions or []),
        "conflicts": list(provenance.get("source_conflicts") or []),
    }


def _run_figures(store, ctx: dict[str, Any], boards: list[Leaderboard]):
    """A run page's figures; the worst and best patients are those of its board's ranking metric."""
    confusion = ctx["confusion"]
    return run_figures(
        store,
        ctx["entry"],
        histogram=ctx["score_histogram"],
        confusion=confusion,
        folds=ctx["folds"],
        classes=tuple(confusion.classes) if confusion is not None else (),
        window_unit=ctx["window_unit"],
        metric=boards[0].primary if boards else next(iter(ctx["metrics"]), ""),
    )


def _overall(names) -> list[str]:
    return ordered_metrics({str(m) for m in names if ":" not in str(m)})


def _natural_key(text: str) -> list:
    # chb2 before chb10
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(text))]


# ---------------------------------------------------------------- template helpers


def _parsed_time(stamp: str | None) -> datetime | None:
    """A stored date and time (ISO, with a ``T``), in UTC when it carries a zone; ``None`` otherwise."""
    if not stamp or "T" not in stamp:
        return None
    try:
        t = datetime.fromisoformat(stamp)
        return t.astimezone(UTC) if t.tzinfo is not None else t
    except (ValueError, OverflowError):
        return None


def _when(stamp: str | None) -> str:
    """A stored time as a page shows it, to the minute and in UTC (``2026-12-04 17:10 UTC``; without
    a zone, none is claimed); the stored text as it is when it is not an ISO date and time."""
    t = _parsed_time(stamp)
    if t is None:
        return stamp or "—"
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}" + (" UTC" if t.tzinfo else "")


def _when_key(stamp: str | None) -> str:
    """The sort key of a stored time: ISO in UTC, so that times stored with other offsets sort in order."""
    t = _parsed_time(stamp)
    return (stamp or "") if t is None else t.isoformat()


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(_HERE / "templates")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=fmt_num,
        pval=fmt_p,
        pexact=lambda p: "—" if _missing(p) or _is_nan(p) else f"{float(p):.3g}",
        seconds=fmt_seconds,
        sortval=sort_value,
        params_label=task_params_label,
        first_line=first_line,
        metric_label=lambda m: METRIC_LABELS.get(m, m.replace("_", " ")),
        scaled=fmt_scaled,
        percent=fmt_percent,
        task_phrase=task_phrase,
        when=_when,
        when_key=_when_key,
    )
    env.globals.update(lower_is_better=LOWER_IS_BETTER)
    return env


def _missing(value) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def _is_nan(value) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def fmt_num(value, digits: int = 3) -> str:
    """Fixed-point number; ``"—"`` when missing, ``"NaN"`` when undefined."""
    if _missing(value):
        return "—"
    if _is_nan(value):
        return "NaN"
    try:
        return f"{float(value):.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def fmt_scaled(value, scale: float = 1.0, digits: int = 3, signed: bool = False) -> str:
    """``value * scale`` with ``digits`` decimals (e.g. a fraction as a percentage), as papers print.

    ``signed`` writes a difference with its sign (``+5.17``, ``−0.016``); missing is ``"—"``.
    """
    if _missing(value) or _is_nan(value):
        return "—"
    x = float(value) * scale
    text = f"{abs(x):.{digits}f}" if signed else f"{x:.{digits}f}"
    if not signed:
        return text
    return ("−" if x < 0 and float(text) != 0 else "+") + text


def fmt_percent(value, digits: int = 1) -> str:
    """A fraction as a percentage (``0.5`` -> ``"50.0%"``); ``"—"`` when missing or undefined."""
    if _missing(value) or _is_nan(value):
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


def fmt_p(value) -> str:
    """p-value with three significant digits, ``"<0.001"`` below that."""
    if _missing(value):
        return "—"
    if _is_nan(value):
        return "NaN"
    p = float(value)
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_seconds(value) -> str:
    if _missing(value) or _is_nan(value):
        return "—"
    s = float(value)
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    if s >= 60:
        return f"{s / 60:.1f} min"
    return f"{s:.1f} s"


def sort_value(value) -> str:
    """Value for the ``data-sort`` attribute: numbers as text, ``""`` for missing or NaN."""
    if _missing(value) or _is_nan(value):
        return ""
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return str(value)


def first_line(text: str) -> str:
    """First non-blank line of ``text`` (an error message may carry detail on later lines)."""
    return next((line.strip() for line in str(text or "").splitlines() if line.strip()), "")


def _is_video(task: str) -> bool:
    """Whether ``task`` windows are video clips (its metadata; unknown stored tasks are EEG)."""
    from benchmark.tasks import find_task

    known = find_task(task)
    return known is not None and known.metadata.modality == "video"
