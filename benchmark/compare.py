"""Compare result sets (runs or reported papers) patient by patient.

Each result set is reduced to one value per patient for the chosen metric; two sets are compared
on the patients they share with :func:`benchmark.stats.paired_tests`. Comparing one reference with
several others corrects the p-values for multiple comparisons with Holm's method.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd

from benchmark.errors import DataError, StoreError, did_you_mean
from benchmark.metrics import LOWER_IS_BETTER, METRICS
from benchmark.report.leaderboard import differences
from benchmark.stats import holm, paired_tests
from benchmark.store import ResultStore, RunRecord, on_synthetic_data

log = logging.getLogger(__name__)


def _metric_name(metric: str) -> str:
    m = metric.strip().lower()
    if m not in METRICS:
        raise DataError(f"unknown metric '{metric}'.{did_you_mean(m, METRICS)} Choose one of: {', '.join(METRICS)}")
    return m


def _per_patient(store: ResultStore, rec: RunRecord, metric: str) -> pd.Series:
    table = store.patient_metrics(rec.run_id)
    if table.empty:
        raise StoreError(
            f"result set {rec.label} ({rec.run_id}) has no per-patient metrics; "
            f"is the run finished (status {rec.status})?"
        )
    if metric not in table.columns:
        raise DataError(
            f"result set {rec.label} ({rec.run_id}) has no per-patient {metric}; it has: {', '.join(table.columns)}"
        )
    return table[metric]


def compare(store: ResultStore, ref_a: str, ref_b: str, metric: str, *, force: bool = False) -> dict[str, Any]:
    """Paired comparison of two result sets on one per-patient metric.

    Two sets are tested only if the leaderboards would rank them together
    (:func:`benchmark.report.leaderboard.differences`: same data, synthetic or real, dataset, task,
    task settings and protocol); otherwise the comparison is refused, unless ``force``.

    Parameters
    ----------
    store
        The results store.
    ref_a, ref_b
        Result sets as accepted by :meth:`ResultStore.resolve` (run id, unique prefix, or a
        reported set's display name). Differences are ``b - a``.
    metric
        A name from :data:`benchmark.metrics.METRICS` (any case).

    Returns
    -------
    dict
        ``a``, ``b`` (display names), ``a_run_id``, ``b_run_id``, ``metric``, ``lower_is_better``,
        ``synthetic`` (either set is on synthetic data), ``forced`` and ``differences`` (what
        differs; empty unless ``force`` let differing sets be tested),
        then the fields of :func:`benchmark.stats.paired_tests`: ``n``, ``patients``, ``mean_a``,
        ``mean_b``, ``mean_diff``, ``t``, ``df``, ``p_value``, ``wilcoxon_stat``, ``wilcoxon_p``.

    Raises
    ------
    DataError
        Unknown metric, a set without that metric, no shared patient with values in both, or two
        sets that may not be compared (without ``force``).
    StoreError
        A reference matches no result set, or several.
    """
    metric = _metric_name(metric)
    rec_a, rec_b = store.resolve(ref_a), store.resolve(ref_b)
    differ = differences(rec_a, rec_b)
    if differ and not force:
        raise DataError(
            f"{rec_a.label} (A) and {rec_b.label} (B) are not comparable: {'; '.join(differ)}; "
            "the leaderboards never rank or test such sets together; use --force to test anyway"
        )
    sa, sb = _per_patient(store, rec_a, metric), _per_patient(store, rec_b, metric)
    res = paired_tests(sa, sb)
    if res["n"] == 0:
        raise DataError(
            f"{rec_a.label} ({len(sa)} patients, {rec_a.dataset}) and {rec_b.label} ({len(sb)} patients, "
            f"{rec_b.dataset}) share no patient with a {metric} value in both; "
            "compare sets on the same dataset"
        )
    for d in differ:
        log.info("comparing %s with %s although they differ (forced): %s", rec_a.label, rec_b.label, d)
    return {
        "a": rec_a.label,
        "b": rec_b.label,
        "a_run_id": rec_a.run_id,
        "b_run_id": rec_b.run_id,
        "metric": metric,
        "lower_is_better": metric in LOWER_IS_BETTER,
        "synthetic": on_synthetic_data(rec_a) or on_synthetic_data(rec_b),
        "forced": bool(differ),
        "differences": differ,
        **res,
    }


def compare_many(
    store: ResultStore, ref: str, others: Sequence[str], metric: str, *, force: bool = False
) -> list[dict[str, Any]]:
    """Compare one reference with several result sets, Holm-correcting across the comparisons.

    Returns
    -------
    list of dict
        One :func:`compare` result per entry of ``others`` (``a`` is the reference), each with
        ``p_holm`` and ``wilcoxon_p_holm`` added (adjusted over the family of ``others``).
    """
    if not others:
        raise DataError("compare_many needs at least one result set to compare the reference with")
    results = [compare(store, ref, other, metric, force=force) for other in others]
    p_holm = holm([r["p_value"] for r in results])
    w_holm = holm([r["wilcoxon_p"] for r in results])
    for r, p, w in zip(results, p_holm, w_holm):
        r["p_holm"] = p
        r["wilcoxon_p_holm"] = w
    return results
