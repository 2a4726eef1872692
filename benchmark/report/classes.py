"""Class-level views of one result set for its run page: per-class table and confusion matrices.

A multi-class run (``seizure-type``, or a video ``classification`` with more than two classes)
stores one ``"<metric>:<CLASS>"`` column per class and metric; laid out as columns of the
per-patient table they make it unreadable. This module regroups them as one row per class, beside
the figures pooled over every test window (``provenance["pooled_metrics"]``), and counts the
confusion matrix (true class by predicted class) from the stored window scores. A video run's
video-level matrix (``provenance["video_level"]``) is read as the harness stored it. The module
does no HTML.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from benchmark.metrics import PER_CLASS_METRICS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of test units by true class (rows) and predicted class (columns)."""

    classes: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]

    @property
    def row_totals(self) -> list[int]:
        return [sum(row) for row in self.counts]

    @property
    def column_totals(self) -> list[int]:
        return [sum(col) for col in zip(*self.counts)] if self.counts else []

    @property
    def total(self) -> int:
        return sum(self.row_totals)

    @property
    def correct(self) -> int:
        return sum(self.counts[k][k] for k in range(len(self.classes)))

    def share(self, true: int, predicted: int) -> float:
        """Fraction of the units of class ``true`` predicted as ``predicted`` (NaN for an empty row)."""
        total = self.row_totals[true]
        return self.counts[true][predicted] / total if total else math.nan

    @property
    def cells(self) -> list[list[tuple[int, float]]]:
        """``(count, row share)`` of every cell, row by row (the template's view)."""
        return [[(c, self.share(i, j)) for j, c in enumerate(row)] for i, row in enumerate(self.counts)]


@dataclass(frozen=True)
class ValueSource:
    """One way a per-class figure was obtained (a column group of the per-class table)."""

    key: str
    label: str
    note: str


# The sources in column order: pooled over test windows, as a paper printed it, mean over patients.
POOLED = ValueSource("pooled", "all windows", "computed once over the test windows of every patient pooled")
PRINTED = ValueSource("printed", "as printed", "the paper's figure over its whole dataset (not re-computed)")
PATIENT_MEAN = ValueSource("mean", "patient mean", "mean over the patients whose test data hold the class")


@dataclass(frozen=True)
class ClassRow:
    """One class of the per-class table."""

    name: str
    support: int | None  # test units of the class (the confusion matrix's row total), if known
    # source key -> metric -> value (NaN when undefined or not given)
    values: Mapping[str, Mapping[str, float]]
    # metric -> Stat of the patient mean (std, CI, n), for cell tooltips
    stats: Mapping[str, Any]


@dataclass(frozen=True)
class PerClassTable:
    """Per-class metrics of one result set: one row per class, one column per metric and source."""

    classes: tuple[str, ...]
    metrics: tuple[str, ...]
    sources: tuple[ValueSource, ...]
    rows: tuple[ClassRow, ...]

    @property
    def columns(self) -> list[tuple[str, ValueSource]]:
        """``(metric, source)`` of each value column, sources side by side under each metric."""
        return [(m, s) for m in self.metrics for s in self.sources]


@dataclass(frozen=True)
class VideoLevel:
    """A video run's predictions aggregated to one per video (``provenance["video_level"]``)."""

    aggregation: str
    n_videos: int | None
    metrics: Mapping[str, float]
    confusion: ConfusionMatrix | None


def split_class_metric(name: str) -> tuple[str, str] | None:
    """``("recall", "FNSZ")`` for ``"recall:FNSZ"``; ``None`` for an overall metric."""
    metric, sep, cls = name.partition(":")
    if not sep or metric not in PER_CLASS_METRICS or not cls:
        return None
    return metric, cls


def class_names(provenance: Mapping[str, Any], metric_names, fallback: tuple[str, ...] = ()) -> list[str]:
    """Classes of a result set, in label-index order.

    The harness records them as ``provenance["classes"]``; a reported set (or an older run) only
    names them in its per-class metric columns, in the order they first appear. ``fallback`` (the
    task's fixed classes) serves a binary run that recorded neither.
    """
    stored = [str(c) for c in provenance.get("classes") or []]
    named = [p[1] for m in metric_names if (p := split_class_metric(str(m)))]
    out = list(dict.fromkeys(stored + named))
    return out or list(fallback)


def confusion_from_counts(counts: pd.DataFrame, classes) -> ConfusionMatrix | None:
    """Confusion matrix from window counts per class pair (columns ``label``, ``pred``, ``n``, as
    :meth:`benchmark.store.ResultStore.label_pred_counts` gives them).

    An index beyond ``classes`` (a run that recorded no class names) gets the name ``class <k>``
    rather than being dropped, so the counts always add up to the number of scored windows.
    """
    if counts is None or not len(counts):
        return None
    y = counts["label"].to_numpy(dtype=np.int64)
    p = counts["pred"].to_numpy(dtype=np.int64)
    if (y < 0).any() or (p < 0).any():
        log.warning("negative class index in the stored scores; no confusion matrix drawn")
        return None
    names = [str(c) for c in classes]
    k = max(len(names), int(y.max()) + 1, int(p.max()) + 1)
    names += [f"class {i}" for i in range(len(names), k)]
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (y, p), counts["n"].to_numpy(dtype=np.int64))
    return ConfusionMatrix(tuple(names), tuple(tuple(int(v) for v in row) for row in matrix))


def per_class_table(
    provenance: Mapping[str, Any],
    stats: Mapping[str, Any],
    *,
    level: str = "patient",
    confusion: ConfusionMatrix | None = None,
) -> PerClassTable | None:
    """Per-class table of a result set, or ``None`` when it has no per-class metrics.

    Parameters
    ----------
    provenance
        The run's provenance; ``"classes"`` orders the rows and ``"pooled_metrics"`` gives the
        all-windows column.
    stats
        ``{metric: Stat}`` over patients (:func:`benchmark.report.leaderboard.metric_stats`); for a
        dataset-level reported set its means are the paper's printed figures.
    level
        ``"dataset"`` for a paper's pooled figures: the stats are then shown as printed, not as a
        mean over patients.
    confusion
        The window confusion matrix, whose row totals give each class's number of test windows.
    """
    pooled = {str(k): _float(v) for k, v in (provenance.get("pooled_metrics") or {}).items()}
    per_class = [m for m in [*stats, *pooled] if split_class_metric(m)]
    if not per_class:
        return None
    classes = class_names(provenance, per_class)
    metrics = tuple(m for m in PER_CLASS_METRICS if any(split_class_metric(x)[0] == m for x in per_class))
    stats_source = PRINTED if level == "dataset" else PATIENT_MEAN
    sources = []
    if any(split_class_metric(m) for m in pooled):
        sources.append(POOLED)
    if any(split_class_metric(m) for m in stats):
        sources.append(stats_source)
    support = dict(zip(confusion.classes, confusion.row_totals)) if confusion else {}
    rows = []
    for cls in classes:
        values = {
            POOLED.key: {m: pooled.get(f"{m}:{cls}", math.nan) for m in metrics},
            stats_source.key: {m: _mean(stats.get(f"{m}:{cls}")) for m in metrics},
        }
        row_stats = {m: stats[f"{m}:{cls}"] for m in metrics if f"{m}:{cls}" in stats}
        rows.append(ClassRow(cls, support.get(cls), values, row_stats))
    return PerClassTable(tuple(classes), metrics, tuple(sources), tuple(rows))


def video_level(provenance: Mapping[str, Any]) -> VideoLevel | None:
    """The video-level results a video run stored, or ``None`` when it has none.

    A confusion matrix whose shape does not match its class list is left out (with a warning)
    rather than drawn wrongly; the metrics are still shown.
    """
    raw = provenance.get("video_level")
    if not isinstance(raw, Mapping):
        return None
    classes = [str(c) for c in raw.get("classes") or []]
    matrix = raw.get("confusion")
    drawn = None
    if matrix is not None:
        ok = (
            isinstance(matrix, (list, tuple))
            and len(matrix) == len(classes) > 0
            and all(isinstance(r, (list, tuple)) and len(r) == len(classes) for r in matrix)
        )
        if ok:
            drawn = ConfusionMatrix(tuple(classes), tuple(tuple(int(c) for c in r) for r in matrix))
        else:
            log.warning("video-level confusion matrix does not match its %d classes; not drawn", len(classes))
    metrics = {str(k): _float(v) for k, v in (raw.get("metrics") or {}).items()}
    n_videos = raw.get("n_videos")
    return VideoLevel(
        aggregation=str(raw.get("aggregation") or ""),
        n_videos=int(n_videos) if isinstance(n_videos, (int, float)) else None,
        metrics=metrics,
        confusion=drawn,
    )


def _float(value) -> float:
    try:
        return math.nan if value is None else float(value)
    except (TypeError, ValueError):
        return math.nan


def _mean(stat) -> float:
    return math.nan if stat is None else float(stat.mean)
