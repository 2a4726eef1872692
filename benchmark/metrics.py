"""Window-level classification metrics, per fold and per patient, and their summary over patients.

All functions are pure. A metric whose denominator is empty (sensitivity of a fold without positive
windows, ROC AUC with a single class, ...) is ``NaN`` rather than 0 or an exception, and no numpy or
scikit-learn warnings escape: the summary then leaves that patient out of that metric only.

The false positive rate is the window-level ratio ``FP / (FP + TN)`` used by Lee et al. (2024),
"A ResNet-LSTM hybrid model for predicting epileptic seizures using a pretrained model with
supervised contrastive learning", Scientific Reports 14, doi:10.1038/s41598-023-43328-y (Table 1),
not a rate per hour.

Besides the macro averages, two figures some papers print are computed, so that a run sits in the
same columns as their reported sets (Wang et al. 2025, DistilCLIP-EEG, Tables I-V):

* support-weighted precision and F1 (scikit-learn's ``average="weighted"``): each class's value
  weighted by its number of true windows (multi-class only; for two classes papers print the
  positive class's ``precision`` and ``f1``);
* the ROC AUC of hard (0/1) predictions, ``roc_auc_hard``: one operating point joined to (0, 0) and
  (1, 1), whose area is ``(recall + specificity) / 2`` of the class. For two classes it equals the
  balanced accuracy; ``roc_auc_hard_macro`` is the mean over the classes present and
  ``roc_auc_hard_micro`` the same area over every (window, class) pair of the one-hot predictions,
  ``(accuracy + 1 - (1 - accuracy) / (K - 1)) / 2`` for ``K`` classes. ``roc_auc`` stays the
  ranking AUC of the scores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas (and scipy, via stats) are imported where used: `results list` must answer at once
    import pandas as pd

METRICS = (
    "sensitivity",
    "specificity",
    "fpr",
    "accuracy",
    "precision",
    "f1",
    "balanced_accuracy",
    "roc_auc",
    "roc_auc_hard",
)
# Multi-class (seizure type) metrics; per-class ones are named "<metric>:<class>", e.g. "recall:FNSZ".
MULTICLASS_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "recall_macro",
    "specificity_macro",
    "f1_macro",
    "f1_micro",
    "roc_auc_macro",
    "roc_auc_micro",
    "precision_weighted",
    "f1_weighted",
    "roc_auc_hard_macro",
    "roc_auc_hard_micro",
)
# Support-weighted averages (scikit-learn's average="weighted"), part of MULTICLASS_METRICS.
WEIGHTED_METRICS = ("precision_weighted", "f1_weighted")
PER_CLASS_METRICS = ("recall", "precision", "specificity", "f1", "roc_auc", "roc_auc_hard")
# Event-based (SzCORE) detection metrics, added to detection runs by benchmark.events.
EVENT_METRICS = ("event_sensitivity", "event_precision", "event_f1", "fa_per_24h")
# Sample-based (SzCORE, 1-s masks) detection metrics, beside the event ones; fp per 24 h counts samples.
SAMPLE_METRICS = ("sample_sensitivity", "sample_precision", "sample_f1", "sample_fp_per_24h")
LOWER_IS_BETTER = frozenset({"fpr", "fa_per_24h", "sample_fp_per_24h"})
SUMMARY_COLUMNS = ("mean", "std", "ci_low", "ci_high", "n")
SCORE_COLUMNS = ("fold_id", "patient", "recording", "start", "end", "label", "score", "pred")


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else float("nan")


def _roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney U statistic over ranks (ties count one half)."""
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    from scipy.stats import rankdata  # imported here: commands that only list results stay instant

    ranks = rankdata(score)
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def binary_metrics(y_true, score, threshold: float = 0.5, pred=None) -> dict[str, float]:
    """Compute every metric in :data:`METRICS` for one set of windows.

    Parameters
    ----------
    y_true
        True labels, 0 (negative, e.g. inter-ictal) or 1 (positive, e.g. pre-ictal).
    score
        Predicted probability of the positive class, used for ROC AUC and, when ``pred`` is not
        given, thresholded into predictions.
    threshold
        A window is predicted positive when ``score >= threshold``.
    pred
        Hard predictions (0/1) to use instead of thresholding ``score``.

    Returns
    -------
    dict
        ``{metric: value}`` for every name in :data:`METRICS`; undefined metrics are ``NaN``.
    """
    y = np.asarray(y_true).astype(float).ravel()
    s = np.asarray(score, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"y_true has {y.size} values but score has {s.size}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y_true must contain only 0 and 1")
    if np.isnan(s).any():
        raise ValueError("score contains NaN; a method must return a probability for every window")
    y = y.astype(int)
    if pred is None:
        p = (s >= threshold).astype(int)
    else:
        p = np.asarray(pred).astype(int).ravel()
        if p.shape != y.shape:
            raise ValueError(f"y_true has {y.size} values but pred has {p.size}")

    tp = int(np.sum((p == 1) & (y == 1)))
    tn = int(np.sum((p == 0) & (y == 0)))
    fp = int(np.sum((p == 1) & (y == 0)))
    fn = int(np.sum((p == 0) & (y == 1)))
    sens = _ratio(tp, tp + fn)
    spec = _ratio(tn, tn + fp)
    return {
        "sensitivity": sens,
        "specificity": spec,
        "fpr": _ratio(fp, fp + tn),
        "accuracy": _ratio(tp + tn, y.size),
        "precision": _ratio(tp, tp + fp),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        # NaN propagates on purpose: balanced accuracy needs both classes.
        "balanced_accuracy": (sens + spec) / 2.0,
        "roc_auc": _roc_auc(y, s),
        "roc_auc_hard": _hard_auc(sens, spec),
    }


def _hard_auc(recall: float, specificity: float) -> float:
    """Area under the ROC "curve" of hard predictions: the point (1 - specificity, recall) joined
    to (0, 0) and (1, 1), i.e. ``(recall + specificity) / 2`` (NaN when either is undefined)."""
    return (recall + specificity) / 2.0


def _metrics_of(group: pd.DataFrame) -> dict[str, float]:
    pred = group["pred"].to_numpy() if "pred" in group else None
    return binary_metrics(group["label"].to_numpy(), group["score"].to_numpy(), pred=pred)


def fold_metrics(scores: pd.DataFrame) -> pd.DataFrame:
    """Metrics of each fold's test windows.

    Parameters
    ----------
    scores
        One row per test window with the columns of :data:`SCORE_COLUMNS` (``pred`` optional:
        without it ``score >= 0.5`` is used).

    Returns
    -------
    pandas.DataFrame
        Columns ``fold_id``, ``patient`` and the metrics, one row per fold in ``fold_id`` order.
        ``patient`` is the fold's test patient, or ``None`` when a fold tests several patients.
    """
    import pandas as pd

    rows = []
    for fold_id, group in scores.groupby("fold_id", sort=True):
        patients = group["patient"].unique()
        patient = patients[0] if len(patients) == 1 else None
        rows.append({"fold_id": fold_id, "patient": patient, **_metrics_of(group)})
    return pd.DataFrame(rows, columns=["fold_id", "patient", *METRICS])


def patient_metrics(scores: pd.DataFrame) -> pd.DataFrame:
    """Metrics per patient, pooling that patient's test windows over all folds.

    Pooling (rather than averaging fold metrics) keeps folds with a single class, e.g. a
    leave-one-seizure-out fold whose test part holds only pre-ictal windows, from yielding NaN.

    Returns
    -------
    pandas.DataFrame
        Index ``patient`` (sorted), one column per metric of :data:`METRICS`.
    """
    import pandas as pd

    rows = {patient: _metrics_of(group) for patient, group in scores.groupby("patient", sort=True)}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=list(METRICS))
    out.index.name = "patient"
    return out.astype(float)


def summarize(per_patient: pd.DataFrame, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Mean, spread and bootstrap confidence interval of each metric over patients.

    Patients are the unit of analysis (each counts once, whatever its number of windows). For each
    metric, patients whose value is NaN are left out of that metric only.

    Parameters
    ----------
    per_patient
        Index patient, one numeric column per metric (as from :func:`patient_metrics`).
    n_boot
        Bootstrap resamples of the patients for the 95% percentile interval.
    seed
        Seed of the resampling; each metric uses its own generator seeded with ``seed`` so a
        metric's interval does not depend on which other metrics are present.

    Returns
    -------
    pandas.DataFrame
        Index ``metric`` (known metrics in :data:`METRICS` order, then any others), columns
        ``mean``, ``std`` (ddof=1), ``ci_low``, ``ci_high``, ``n`` (patients used).
    """
    import pandas as pd

    from benchmark.stats import bootstrap_ci

    cols = [m for m in METRICS if m in per_patient.columns]
    cols += [c for c in per_patient.columns if c not in METRICS]
    rows = {}
    for metric in cols:
        values = pd.to_numeric(per_patient[metric], errors="coerce").dropna().to_numpy(dtype=float)
        n = values.size
        lo, hi = bootstrap_ci(values, n_boot=n_boot, seed=seed)
        rows[metric] = {
            "mean": float(values.mean()) if n else float("nan"),
            "std": float(values.std(ddof=1)) if n > 1 else float("nan"),
            "ci_low": lo,
            "ci_high": hi,
            "n": n,
        }
    out = pd.DataFrame.from_dict(rows, orient="index", columns=list(SUMMARY_COLUMNS))
    out.index.name = "metric"
    return out.astype({"n": int})


# -- multi-class ----------------------------------------------------------------------------------
def multiclass_metrics(y_true, proba, classes) -> dict[str, float]:
    """Metrics of a multi-class prediction (seizure types).

    Each class is scored one-vs-rest (recall, precision, specificity, F1, ROC AUC of the scores and
    of the hard predictions, named ``"<metric>:<class>"``). Macro averages are over the classes
    present in ``y_true`` (a class a patient never has cannot be recalled; averaging over all classes
    would punish every patient for the types they do not have). Micro F1 equals accuracy for
    single-label data; micro ROC AUC pools every (window, class) pair. Balanced accuracy is the
    macro recall. Weighted precision and F1 weight each class by its support (true windows), so
    classes absent from ``y_true`` weigh nothing (see the module docstring for the hard AUCs).

    Parameters
    ----------
    y_true
        Class indices.
    proba
        ``(n, len(classes))`` class probabilities; the prediction is their argmax.
    classes
        Class names, in column order.
    """
    y = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(proba, dtype=float)
    pred = p.argmax(axis=1) if len(p) else np.zeros(0, dtype=np.int64)
    out: dict[str, float] = {"accuracy": _ratio(np.sum(pred == y), y.size)}
    present = [k for k in range(len(classes)) if np.any(y == k)]
    per: dict[str, list[float]] = {m: [] for m in PER_CLASS_METRICS}
    for k, name in enumerate(classes):
        truth, guess = y == k, pred == k
        tp = float(np.sum(truth & guess))
        fp = float(np.sum(~truth & guess))
        fn = float(np.sum(truth & ~guess))
        tn = float(np.sum(~truth & ~guess))
        recall, precision = _ratio(tp, tp + fn), _ratio(tp, tp + fp)
        values = {
            "recall": recall,
            "precision": precision,
            "specificity": _ratio(tn, tn + fp),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
            "roc_auc": _roc_auc(truth.astype(np.int64), p[:, k]) if len(p) else float("nan"),
            "roc_auc_hard": _hard_auc(recall, _ratio(tn, tn + fp)),
        }
        for m, v in values.items():
            out[f"{m}:{name}"] = v
            if k in present:
                per[m].append(v)
    out["balanced_accuracy"] = _nanmean(per["recall"])
    out["recall_macro"] = out["balanced_accuracy"]
    out["precision_macro"] = _nanmean(per["precision"])
    out["specificity_macro"] = _nanmean(per["specificity"])
    out["f1_macro"] = _nanmean(per["f1"])
    out["f1_micro"] = out["accuracy"]
    out["roc_auc_macro"] = _nanmean(per["roc_auc"])
    onehot = (y[:, None] == np.arange(len(classes))[None, :]).astype(np.int64)
    out["roc_auc_micro"] = _roc_auc(onehot.ravel(), p.ravel()) if len(p) else float("nan")
    support = np.array([np.sum(y == k) for k in present], dtype=float)
    for name in ("precision", "f1"):
        # A present class that is never predicted has no precision; counted as 0, as scikit-learn does.
        values = np.nan_to_num(np.array(per[name], dtype=float), nan=0.0)
        out[f"{name}_weighted"] = float(values @ support / support.sum()) if support.sum() else float("nan")
    out["roc_auc_hard_macro"] = _nanmean(per["roc_auc_hard"])
    guess = (pred[:, None] == np.arange(len(classes))[None, :]).astype(np.int64)
    tpr = _ratio(np.sum(onehot & guess), np.sum(onehot))
    tnr = _ratio(np.sum((1 - onehot) & (1 - guess)), np.sum(1 - onehot))
    out["roc_auc_hard_micro"] = _hard_auc(tpr, tnr)
    return out


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not np.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")


def multiclass_metric_names(classes) -> list[str]:
    """Column order of :func:`multiclass_metrics`: the summary metrics, then per class."""
    return list(MULTICLASS_METRICS) + [f"{m}:{c}" for m in PER_CLASS_METRICS for c in classes]


def multiclass_patient_metrics(scores: pd.DataFrame, proba: np.ndarray, classes) -> pd.DataFrame:
    """Multi-class metrics per patient, pooling the patient's test windows over folds.

    ``proba`` has one row per row of ``scores`` (same order).
    """
    import pandas as pd

    names = multiclass_metric_names(classes)
    rows = {}
    for patient, idx in scores.groupby("patient", sort=True).indices.items():
        rows[patient] = multiclass_metrics(scores["label"].to_numpy()[idx], proba[idx], classes)
    out = pd.DataFrame.from_dict(rows, orient="index", columns=names)
    out.index.name = "patient"
    return out.astype(float)


# -- video level ----------------------------------------------------------------------------------
# Video classification: clip predictions become one prediction per video, then these metrics. For
# more than two classes, sensitivity and specificity are macro averages and F1 / ROC AUC are macro.
VIDEO_METRICS = (
    "video_accuracy",
    "video_balanced_accuracy",
    "video_f1",
    "video_sensitivity",
    "video_specificity",
    "video_roc_auc",
)


def aggregate_videos(scores: pd.DataFrame, proba: np.ndarray, aggregation: str) -> pd.DataFrame:
    """One row per video from the clip scores of its videos.

    Parameters
    ----------
    scores
        One row per test clip with ``patient``, ``recording`` (the video), ``label``.
    proba
        ``(n_clips, n_classes)`` clip probabilities, rows in ``scores`` order.
    aggregation
        ``"mean"``: the video's probabilities are the mean of its clips' (Hou et al., 2022, average
        over time). ``"vote"``: each clip votes for its most probable class; the video's
        "probabilities" are the vote shares and its class the majority, ties broken by the higher
        mean probability (Li et al., 2024, voting over clips).

    Returns
    -------
    pandas.DataFrame
        Columns ``patient``, ``recording``, ``label``, ``n_clips``, ``pred`` and ``probs`` (a list per
        row), sorted by patient and video.
    """
    import pandas as pd

    if aggregation not in ("mean", "vote"):
        raise ValueError(f"aggregation must be 'mean' or 'vote', got {aggregation!r}")
    proba = np.asarray(proba, dtype=float)
    n_classes = proba.shape[1] if proba.ndim == 2 else 0
    rows = []
    for (patient, video), idx in scores.groupby(["patient", "recording"], sort=True).indices.items():
        p = proba[idx]
        mean = p.mean(axis=0)
        if aggregation == "mean":
            share, pred = mean, int(np.argmax(mean))
        else:
            share = np.bincount(p.argmax(axis=1), minlength=n_classes) / len(idx)
            top = np.flatnonzero(share == share.max())
            pred = int(top[np.argmax(mean[top])])
        labels = scores["label"].to_numpy()[idx]
        rows.append(
            {
                "patient": patient,
                "recording": video,
                "label": int(labels[0]),
                "n_clips": len(idx),
                "pred": pred,
                "probs": [float(v) for v in share],
            }
        )
    return pd.DataFrame(rows, columns=["patient", "recording", "label", "n_clips", "pred", "probs"])


def video_metrics(videos: pd.DataFrame, classes) -> dict[str, float]:
    """:data:`VIDEO_METRICS` of video-level predictions (output of :func:`aggregate_videos`)."""
    y = videos["label"].to_numpy(np.int64)
    probs = np.asarray(videos["probs"].tolist(), dtype=float).reshape(len(videos), len(classes))
    if len(classes) == 2:
        m = binary_metrics(y, probs[:, 1] if len(probs) else np.zeros(0), pred=videos["pred"].to_numpy())
        keys = {
            "accuracy": "accuracy",
            "balanced_accuracy": "balanced_accuracy",
            "f1": "f1",
            "sensitivity": "sensitivity",
            "specificity": "specificity",
            "roc_auc": "roc_auc",
        }
    else:
        onehot_pred = np.eye(len(classes))[videos["pred"].to_numpy(np.int64)] if len(videos) else probs
        m = multiclass_metrics(y, onehot_pred, classes)
        # AUC from the aggregated probabilities, not from the hard prediction.
        m["roc_auc_macro"] = multiclass_metrics(y, probs, classes)["roc_auc_macro"] if len(videos) else float("nan")
        keys = {
            "accuracy": "accuracy",
            "balanced_accuracy": "balanced_accuracy",
            "f1": "f1_macro",
            "sensitivity": "recall_macro",
            "specificity": "specificity_macro",
            "roc_auc": "roc_auc_macro",
        }
    return {f"video_{k}": float(m[v]) for k, v in keys.items()}


def video_patient_metrics(videos: pd.DataFrame, classes) -> pd.DataFrame:
    """:data:`VIDEO_METRICS` per patient over that patient's videos (index ``patient``)."""
    import pandas as pd

    rows = {patient: video_metrics(g, classes) for patient, g in videos.groupby("patient", sort=True)}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=list(VIDEO_METRICS))
    out.index.name = "patient"
    return out.astype(float)


def confusion(y_true, pred, n_classes: int) -> list[list[int]]:
    """Confusion matrix as nested lists: rows are true classes, columns predicted classes."""
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1)
    return m.tolist()
