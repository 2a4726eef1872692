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
    assert LOWER_IS_BETTER == {"fpr", "fa_per_24h", "sample_fp_per_24h"}


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


# -- item 5: the figures DistilCLIP-EEG prints (weighted precision/F1, AUC of hard predictions) ------
def test_item05_weighted_precision_f1_and_hard_auc_equal_a_hand_computed_example():
    from sklearn.metrics import f1_score, precision_score

    from benchmark.metrics import multiclass_metrics

    # 10 windows, 3 classes; supports 6, 3, 1.
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
    pred = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    proba = np.eye(3)[pred] * 0.8 + 0.2 / 3  # argmax = pred
    m = multiclass_metrics(y, proba, ("background", "A", "B"))
    # class 0: TP 4, FN 2, FP 0, TN 4 -> precision 1, recall 4/6, specificity 4/4, F1 8/(8+0+2) = 0.8
    # class 1: TP 3, FN 0, FP 3, TN 4 -> precision 3/6, recall 1, specificity 4/7, F1 6/(6+3+0) = 2/3
    # class 2: TP 0, FN 1, FP 0, TN 9 -> never predicted: precision 0, recall 0, specificity 1, F1 0
    # weighted precision = (6 * 1 + 3 * 0.5 + 1 * 0) / 10 = 0.75
    # weighted F1        = (6 * 0.8 + 3 * 2/3 + 1 * 0) / 10 = 0.68
    assert m["precision_weighted"] == pytest.approx(0.75)
    assert m["f1_weighted"] == pytest.approx(0.68)
    # hard AUC of a class = (recall + specificity) / 2: 5/6, (1 + 4/7) / 2 = 11/14, (0 + 1) / 2 = 1/2
    assert m["roc_auc_hard:background"] == pytest.approx(5 / 6)
    assert m["roc_auc_hard:A"] == pytest.approx(11 / 14)
    assert m["roc_auc_hard:B"] == pytest.approx(0.5)
    assert m["roc_auc_hard_macro"] == pytest.approx((5 / 6 + 11 / 14 + 0.5) / 3)
    # micro: over the 30 (window, class) pairs, TPR = 7/10 (accuracy), TNR = (20 - 3 wrong) / 20,
    # area (0.7 + 0.85) / 2 = 0.775 = (acc + 1 - (1 - acc) / (K - 1)) / 2 as Wang et al.'s Table V
    assert m["roc_auc_hard_micro"] == pytest.approx(0.775)
    # ... and the same as scikit-learn's definitions
    assert m["precision_weighted"] == pytest.approx(precision_score(y, pred, average="weighted", zero_division=0))
    assert m["f1_weighted"] == pytest.approx(f1_score(y, pred, average="weighted", zero_division=0))
    onehot, guess = np.eye(3)[y], np.eye(3)[pred]
    for k, name in enumerate(("background", "A", "B")):
        assert m[f"roc_auc_hard:{name}"] == pytest.approx(roc_auc_score(onehot[:, k], guess[:, k]))
    assert m["roc_auc_hard_micro"] == pytest.approx(roc_auc_score(onehot.ravel(), guess.ravel()))
    # the ranking AUC of the scores is kept beside it, and differs once scores are graded
    assert "roc_auc_macro" in m


def test_item05_binary_hard_auc_is_recall_plus_specificity_over_two():
    # TP 2, FN 1, FP 1, TN 3 at threshold 0.5: hard AUC = (2/3 + 3/4) / 2 = 17/24
    y = [1, 1, 1, 0, 0, 0, 0]
    s = [0.9, 0.6, 0.2, 0.7, 0.1, 0.3, 0.4]
    m = binary_metrics(y, s)
    assert m["roc_auc_hard"] == pytest.approx(17 / 24)
    assert m["roc_auc_hard"] == pytest.approx(roc_auc_score(y, (np.asarray(s) >= 0.5).astype(int)))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, s)) and m["roc_auc"] != m["roc_auc_hard"]


@pytest.mark.parametrize("dataset,task", [("tusz", "seizure-type"), ("chbmit", "detection")])
def test_item05_a_distilclip_runs_columns_line_up_with_the_bundled_wang_sets(tmp_path, dataset, task):
    """A run's board columns hold every column of the paper's bundled Tables I-V sets beside it."""
    from benchmark.metrics import multiclass_patient_metrics
    from benchmark.report.build import _entry
    from benchmark.report.leaderboard import build_leaderboards
    from benchmark.reported import import_bundled
    from benchmark.store import ResultStore, RunRecord

    store = ResultStore(tmp_path / "r.sqlite")
    import_bundled(store, paper="wang2025")
    rng = np.random.default_rng(0)
    rows = []
    if task == "seizure-type":
        classes = ("background", "ABSZ", "CPSZ", "FNSZ", "GNSZ", "SPSZ", "TCSZ", "TNSZ")
        for patient in ("p1", "p2", "p3"):
            y = rng.integers(0, len(classes), 200)
            rows.append(pd.DataFrame({"patient": patient, "label": y}))
        scores = pd.concat(rows, ignore_index=True)
        proba = rng.dirichlet(np.ones(len(classes)), len(scores))
        proba[np.arange(len(scores)), scores["label"]] += 1.0
        per_patient = multiclass_patient_metrics(scores, proba / proba.sum(axis=1, keepdims=True), classes)
        params = {"seed": 0, "types": None, "window_s": 1.0, "stride_s": 1.0, "label": "seizure type"}
    else:
        for patient in ("p1", "p2", "p3"):
            y = rng.integers(0, 2, 200)
            s = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.2, 200), 0, 1)
            rows.append(
                pd.DataFrame(
                    {"fold_id": "fold0", "patient": patient, "label": y, "score": s, "pred": (s >= 0.5).astype(int)}
                )
            )
        per_patient = patient_metrics(pd.concat(rows, ignore_index=True))
        params = {"seed": 0, "window_s": 1.0, "stride_s": 1.0, "label": "ictal vs non-ictal"}
    store.create_run(
        RunRecord(
            "run-teacher",
            "run",
            "distilclip_eeg_teacher",
            dataset,
            task,
            "kfold5-random-balanced",
            task_params=params,
            status="complete",
            budget="paper",
            seed=0,
            created_at="2026-01-01T00:00:00+00:00",
        )
    )
    store.save_patient_metrics("run-teacher", per_patient)
    store.save_summary("run-teacher", summarize(per_patient, n_boot=20))
    entries = [_entry(store, run) for run in store.list_runs()]
    board = next(b for b in build_leaderboards(entries) if any(e.run.run_id == "run-teacher" for e in b.entries))
    assert board.protocol == "kfold5-random-balanced"
    teacher = next(e for e in board.paper_figures if e.name.startswith("Wang2025 DistilCLIP-EEG teacher"))
    assert any(m.startswith("roc_auc_hard") for m in teacher.stats)
    # every overall column of the paper's sets is one of the board's run columns ...
    assert set(board.paper_figure_metrics) <= set(board.metrics), set(board.paper_figure_metrics) - set(board.metrics)
    # ... per-class ones too (run pages), and the shared columns come in the same order
    run = next(e for e in board.entries if e.run.run_id == "run-teacher")
    assert {m for m in teacher.stats if ":" in m} <= set(run.stats)
    shared = [m for m in board.metrics if m in board.paper_figure_metrics]
    assert shared == board.paper_figure_metrics
