"""Tests of benchmark.metrics: window metrics, per-fold/per-patient tables and summaries."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from benchmark.metrics import (
    LOWER_IS_BETTER,
    METRICS,
    binary_metrics,
    fold_metrics,
    patient_metrics,
    summarize,
)


def _scores(rows):
    """Build a scores frame from (fold_id, patient, label, score) tuples."""
    df = pd.DataFrame(rows, columns=["fold_id", "patient", "label", "score"])
    df["recording"] = df["patient"] + "_01"
    df["start"] = np.arange(len(df)) * 10.0
    df["end"] = df["start"] + 10.0
    df["pred"] = (df["score"] >= 0.5).astype(int)
    return df


def test_confusion_matrix_metrics():
    # TP=2, FN=1, FP=1, TN=3
    y = [1, 1, 1, 0, 0, 0, 0]
    s = [0.9, 0.6, 0.2, 0.7, 0.1, 0.3, 0.4]
    m = binary_metrics(y, s)
    assert set(m) == set(METRICS)
    assert m["sensitivity"] == pytest.approx(2 / 3)
    assert m["specificity"] == pytest.approx(3 / 4)
    assert m["fpr"] == pytest.approx(1 / 4)
    assert m["accuracy"] == pytest.approx(5 / 7)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 3 / 4) / 2)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, s))
    assert LOWER_IS_BETTER == {"fpr", "fa_per_24h"}


def test_roc_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.random(300) * 0.5 + 0.3 * y, 1)  # coarse rounding creates many ties
    assert binary_metrics(y, s)["roc_auc"] == pytest.approx(roc_auc_score(y, s))


def test_threshold_and_explicit_pred():
    y = [1, 0, 1, 0]
    s = [0.55, 0.45, 0.35, 0.25]
    assert binary_metrics(y, s, threshold=0.5)["sensitivity"] == 0.5
    assert binary_metrics(y, s, threshold=0.3)["sensitivity"] == 1.0
    # Hard predictions win over the threshold; AUC still uses the scores.
    m = binary_metrics(y, s, pred=[0, 0, 0, 0])
    assert m["sensitivity"] == 0.0 and m["specificity"] == 1.0
    assert m["roc_auc"] == pytest.approx(0.75)


def test_undefined_metrics_are_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        only_neg = binary_metrics([0, 0, 0], [0.1, 0.7, 0.2])
        only_pos = binary_metrics([1, 1], [0.1, 0.2])
        empty = binary_metrics([], [])
    assert math.isnan(only_neg["sensitivity"]) and math.isnan(only_neg["roc_auc"])
    assert math.isnan(only_neg["balanced_accuracy"])
    assert only_neg["fpr"] == pytest.approx(1 / 3)
    assert math.isnan(only_pos["specificity"]) and math.isnan(only_pos["fpr"])
    assert math.isnan(only_pos["precision"])  # nothing predicted positive
    assert only_pos["f1"] == 0.0  # positives exist and none was found
    assert all(math.isnan(v) for v in empty.values())


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="NaN"):
        binary_metrics([0, 1], [0.2, float("nan")])
    with pytest.raises(ValueError, match="0 and 1"):
        binary_metrics([0, 2], [0.2, 0.3])
    with pytest.raises(ValueError, match="values"):
        binary_metrics([0, 1, 1], [0.2, 0.3])


def test_fold_and_patient_metrics():
    scores = _scores(
        [
            # fold A (chb01): only positives -> specificity undefined in the fold
            ("A", "chb01", 1, 0.9),
            ("A", "chb01", 1, 0.4),
            # fold B (chb01): only negatives
            ("B", "chb01", 0, 0.2),
            ("B", "chb01", 0, 0.6),
            # fold C (chb02): both classes
            ("C", "chb02", 1, 0.8),
            ("C", "chb02", 0, 0.3),
        ]
    )
    per_fold = fold_metrics(scores)
    assert list(per_fold.columns) == ["fold_id", "patient", *METRICS]
    assert list(per_fold["fold_id"]) == ["A", "B", "C"]
    assert list(per_fold["patient"]) == ["chb01", "chb01", "chb02"]
    a = per_fold.set_index("fold_id").loc["A"]
    assert a["sensitivity"] == 0.5 and math.isnan(a["specificity"])

    per_patient = patient_metrics(scores)
    assert list(per_patient.index) == ["chb01", "chb02"]
    assert per_patient.index.name == "patient"
    # Pooling chb01's folds gives both classes: every metric is defined.
    chb01 = per_patient.loc["chb01"]
    assert chb01["sensitivity"] == 0.5 and chb01["specificity"] == 0.5
    assert chb01["roc_auc"] == pytest.approx(roc_auc_score([1, 1, 0, 0], [0.9, 0.4, 0.2, 0.6]))
    assert per_patient.loc["chb02", "accuracy"] == 1.0


def test_fold_with_several_patients_has_no_single_patient():
    scores = _scores([("X", "p1", 1, 0.9), ("X", "p2", 0, 0.1)])
    assert fold_metrics(scores)["patient"].iloc[0] is None


def test_summarize_nan_aware_and_deterministic():
    per_patient = pd.DataFrame(
        {"sensitivity": [0.9, 0.7, np.nan, 0.5], "accuracy": [0.8, 0.6, 0.7, 0.9]},
        index=pd.Index(["p1", "p2", "p3", "p4"], name="patient"),
    )
    s = summarize(per_patient, n_boot=500, seed=1)
    assert list(s.columns) == ["mean", "std", "ci_low", "ci_high", "n"]
    assert list(s.index) == ["sensitivity", "accuracy"]  # METRICS order
    assert s.loc["sensitivity", "n"] == 3 and s.loc["accuracy", "n"] == 4
    assert s.loc["sensitivity", "mean"] == pytest.approx(0.7)
    assert s.loc["sensitivity", "std"] == pytest.approx(np.std([0.9, 0.7, 0.5], ddof=1))
    for metric in s.index:
        row = s.loc[metric]
        assert row["ci_low"] <= row["mean"] <= row["ci_high"]
    pd.testing.assert_frame_equal(s, summarize(per_patient, n_boot=500, seed=1))
    assert not summarize(per_patient, n_boot=500, seed=2).equals(s)


def test_summarize_single_patient_has_no_spread():
    s = summarize(pd.DataFrame({"accuracy": [0.8]}, index=["p1"]))
    row = s.loc["accuracy"]
    assert row["mean"] == 0.8 and row["n"] == 1
    assert math.isnan(row["std"]) and math.isnan(row["ci_low"]) and math.isnan(row["ci_high"])
