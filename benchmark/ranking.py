"""The one ranking rule: which metric a result set of a task is ranked (and listed) by.

The boards (:mod:`benchmark.report.leaderboard`) and ``seizure-bench results list`` both ask here, so
a run's score in the listing is the number its board ranks it by. Light on purpose (no pandas,
scipy or torch): ``results list`` must answer at once.

Each task's boards rank by the first of its metrics (the task's ``ranking_metrics``,
:mod:`benchmark.tasks`) that the board has; every one of them gives a constant (class-prior,
"chance") predictor exactly the no-skill level (0.5 for two classes, 1/K for K), so no baseline that
ignores the input can top a method that has skill. Sensitivity, accuracy and video accuracy are not
on the list: always predicting pre-ictal scores sensitivity 1, and predicting the majority class
scores its share in accuracy, which on a video board (a patient's videos usually show one class) a
weak but honest method often does not reach. Boards of scored SzCORE hypothesis folders have no
window scores: detection ranks them by event F1 (as SzCORE does), on which a hypothesis that is
always or never a seizure scores low, where event sensitivity would put "always" at the top.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from benchmark.tasks import find_task

# Video boards: the mean over patients of video sensitivity (patients with positive videos) and of
# video specificity (patients with negative videos), averaged. Per-patient balanced accuracy is mostly
# undefined there, and this class-balanced mean gives a constant predictor 0.5 whatever the share of
# patients of each class. It is computed from the two per-patient means, so it has no paired test.
VIDEO_CLASS_BALANCED = "video_class_balanced_accuracy"


def ranking_metric(task: str, metrics: Sequence[str]) -> str:
    """The metric a board of ``task`` ranks by (its ``ranking_metrics``); ``""`` if none applies."""
    known = find_task(task)
    return next((m for m in (known.metadata.ranking_metrics if known else ()) if m in metrics), "")


def choose_primary(task: str, metrics: Sequence[str], means: Sequence[Mapping[str, float]]) -> str:
    """Default ranking metric of result sets of ``task`` with ``metrics``: :func:`ranking_metric`.

    ``means`` holds each set's metric means. A task without a ranking rule (or sets lacking every
    metric of it) falls back to balanced accuracy if every scored set has it, else accuracy, else
    the metric most sets share (the earliest of ``metrics`` on a tie)."""
    chosen = ranking_metric(task, metrics)
    if chosen or not metrics:
        return chosen
    scored = [m for m in means if m]

    def coverage(metric: str) -> int:
        return sum(is_finite(m.get(metric)) for m in scored)

    for preferred in ("balanced_accuracy", "accuracy"):
        if preferred in metrics and coverage(preferred) == len(scored):
            return preferred
    metrics = list(metrics)
    return max(metrics, key=lambda m: (coverage(m), -metrics.index(m)))


def video_class_balanced(task: str, means: Mapping[str, float]) -> float | None:
    """:data:`VIDEO_CLASS_BALANCED` from the means of video sensitivity and video specificity, for a
    task that ranks by it; ``None`` when the task does not, or either mean is missing."""
    known = find_task(task)
    if known is None or VIDEO_CLASS_BALANCED not in known.metadata.ranking_metrics:
        return None
    sens, spec = means.get("video_sensitivity"), means.get("video_specificity")
    if not (is_finite(sens) and is_finite(spec)):
        return None
    return (float(sens) + float(spec)) / 2


def primary_score(task: str, means: Mapping[str, float]) -> tuple[str, float]:
    """``(metric, mean)`` one result set is ranked by on its own, from its metric means (per-class
    ``metric:class`` entries are left out, as on the boards); ``("", nan)`` when it has none."""
    overall = {m: v for m, v in means.items() if ":" not in m}
    derived = video_class_balanced(task, overall)
    if derived is not None and VIDEO_CLASS_BALANCED not in overall:
        overall[VIDEO_CLASS_BALANCED] = derived
    metric = choose_primary(task, list(overall), [overall])
    return metric, float(overall[metric]) if metric and overall[metric] is not None else math.nan


def is_finite(x) -> bool:
    """Whether ``x`` is a number that is not NaN."""
    try:
        return x is not None and not math.isnan(float(x))
    except (TypeError, ValueError):
        return False
