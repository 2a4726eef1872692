"""The video classification task, its splits and the video-level metrics (no video files needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmark import metrics as M
from benchmark.errors import BenchmarkError
from benchmark.index import Patient, Recording, RecordingIndex
from benchmark.splits import make_split
from benchmark.tasks import make_labels, make_params


def _video_index(n_patients: int = 6) -> RecordingIndex:
    patients = []
    for i in range(n_patients):
        pid = f"p{i:02d}"
        recs, labels = [], {}
        for k in range(3):
            vid = f"{pid}_v{k}"
            recs.append(Recording(vid, f"{vid}.mp4", None, 8.0 + k, 25.0, ()))
            es = (i + k) % 2 == 0
            labels[vid] = {"label": "ES" if es else "PNES", **({"focus": "TLE" if i % 2 else "exTLE"} if es else {})}
        patients.append(Patient(pid, tuple(recs), info={"labels": labels, "age": 30, "sex": "F"}))
    return RecordingIndex("video-test", tuple(patients), modality="video", synthetic=True)


def test_one_unit_per_video_labelled_by_the_target_column():
    index = _video_index()
    labels = make_labels(index, "classification", make_params("classification"))
    assert labels.classes == ("PNES", "ES")  # ES positive by default (item 9)
    assert len(labels.units) == 18
    for u in labels.units:
        (seg,) = u.segments
        rec = index.recording(u.patient, seg.recording)
        assert (seg.start, seg.end) == (0.0, rec.duration)
        expected = index.patient(u.patient).info["labels"][seg.recording]["label"]
        assert labels.classes[seg.label] == expected and u.stratum == seg.label


def test_focus_target_leaves_out_videos_without_a_focus_and_keeps_class_order():
    index = _video_index()
    p = make_params("classification", target="focus", classes=["TLE", "exTLE"])
    labels = make_labels(index, "classification", p)
    assert labels.classes == ("TLE", "exTLE")  # the user's order: exTLE is the positive class
    n_pnes = sum(v["label"] == "PNES" for pt in index.patients for v in pt.info["labels"].values())
    assert len(labels.units) == 18 - n_pnes
    assert sum("no value in label column 'focus'" in e.reason for e in labels.exclusions) == n_pnes


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"target": "side"}, "choose --target from ['focus', 'label']"),
        ({"classes": ["ES", "XX"]}, "must name at least two of the labels"),
        ({"classes": ["ES"]}, "must name at least two of the labels"),
    ],
)
def test_bad_targets_and_classes_fail_in_one_line(kwargs, message):
    with pytest.raises(BenchmarkError) as err:
        make_labels(_video_index(), "classification", make_params("classification", **kwargs))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_item09_es_is_the_positive_class_of_label_without_classes_as_in_hou():
    """Hou et al.'s F1 follows from their confusion matrix only with ES positive: the default order of
    the ``label`` column is (PNES, ES), the bundled Hou set's order, so a run needs no --classes."""
    from benchmark.reported import bundled_reported

    index = _video_index()
    labels = make_labels(index, "classification", make_params("classification"))
    assert labels.classes == ("PNES", "ES") and labels.classes[-1] == "ES"
    es = [u for u in labels.units if index.patient(u.patient).info["labels"][u.segments[0].recording]["label"] == "ES"]
    assert es and all(u.segments[0].label == 1 == u.stratum for u in es)
    hou = next(d for d in bundled_reported() if d.get("paper") == "hou2022")
    assert list(labels.classes) == hou["task_params"]["classes"] == hou["video_level"]["classes"]
    # --classes still decides; other label sets and other columns keep the sorted order.
    given = make_labels(index, "classification", make_params("classification", classes=["ES", "PNES"]))
    assert given.classes == ("ES", "PNES")
    focus = make_labels(index, "classification", make_params("classification", target="focus"))
    assert focus.classes == ("TLE", "exTLE")


def test_item09_default_order_applies_only_to_exactly_es_and_pnes():
    from benchmark.tasks import default_classes

    assert default_classes("label", ["ES", "PNES", "ES"]) == ("PNES", "ES")
    assert default_classes("label", ["ES", "PNES", "mixed"]) == ("ES", "PNES", "mixed")
    assert default_classes("label", ["seizure", "normal"]) == ("normal", "seizure")
    assert default_classes("focus", ["exTLE", "TLE"]) == ("TLE", "exTLE")


def test_classification_refuses_an_eeg_dataset():
    eeg = RecordingIndex("eeg", (Patient("a", (Recording("r", "r.edf", 0.0, 10.0, 256.0, ("C3",)),)),))
    with pytest.raises(BenchmarkError, match="is an eeg dataset"):
        make_labels(eeg, "classification", make_params("classification"))


def test_patient_wise_splits_keep_patients_and_videos_whole():
    index = _video_index(10)
    labels = make_labels(index, "classification", make_params("classification"))
    for protocol in ("loso", "kfold5"):
        spec = make_split(labels, protocol, dataset="video-test", index_hash=index.content_hash())
        assert spec.classes == ("PNES", "ES")
        for fold in spec.folds:
            train = {spec.units[u].patient for u in fold.train}
            test = {spec.units[u].patient for u in fold.test}
            assert not train & test
    random = make_split(labels, "kfold5-random", dataset="video-test", index_hash=index.content_hash())
    assert random.leaky and random.random_chunk_s is None  # whole videos are the random unit


def test_video_modality_changes_the_hash_but_eeg_indexes_keep_theirs():
    index = _video_index(2)
    assert index.content()["modality"] == "video"
    eeg = RecordingIndex("x", index.patients)
    assert "modality" not in eeg.content()
    assert RecordingIndex.from_dict(index.to_dict()).modality == "video"


# -- video-level aggregation --------------------------------------------------------------------
def _clips(rows):
    scores = pd.DataFrame(rows, columns=["patient", "recording", "label", "p1"])
    proba = np.column_stack([1 - scores["p1"], scores["p1"]])
    return scores, proba


def test_mean_aggregation_averages_clip_probabilities():
    scores, proba = _clips(
        [("a", "v1", 1, 0.9), ("a", "v1", 1, 0.2), ("a", "v1", 1, 0.4), ("a", "v2", 0, 0.1), ("b", "v3", 0, 0.6)]
    )
    videos = M.aggregate_videos(scores, proba, "mean")
    v1 = videos.set_index("recording").loc["v1"]
    assert v1["n_clips"] == 3 and v1["probs"][1] == pytest.approx(0.5) and v1["pred"] == 0  # 0.5 ties to class 0
    assert list(videos["pred"]) == [0, 0, 1]


def test_vote_aggregation_counts_clips_and_breaks_ties_by_mean_probability():
    scores, proba = _clips(
        [("a", "v1", 1, 0.9), ("a", "v1", 1, 0.2), ("a", "v1", 1, 0.4), ("a", "v2", 0, 0.95), ("a", "v2", 0, 0.45)]
    )
    videos = M.aggregate_videos(scores, proba, "vote").set_index("recording")
    assert videos.loc["v1", "probs"] == pytest.approx([2 / 3, 1 / 3]) and videos.loc["v1", "pred"] == 0
    # v2: one vote each; mean p1 = 0.7 > 0.5 decides class 1.
    assert videos.loc["v2", "probs"] == pytest.approx([0.5, 0.5]) and videos.loc["v2", "pred"] == 1


def test_video_metrics_and_confusion_match_a_hand_count():
    # 4 videos: true 1,1,0,0; predicted 1,0,0,1 -> TP 1, FN 1, TN 1, FP 1.
    videos = pd.DataFrame(
        {
            "patient": ["a", "a", "b", "b"],
            "recording": ["1", "2", "3", "4"],
            "label": [1, 1, 0, 0],
            "n_clips": 1,
            "pred": [1, 0, 0, 1],
            "probs": [[0.2, 0.8], [0.6, 0.4], [0.9, 0.1], [0.3, 0.7]],
        }
    )
    m = M.video_metrics(videos, ("PNES", "ES"))
    assert m["video_accuracy"] == 0.5 and m["video_sensitivity"] == 0.5 and m["video_specificity"] == 0.5
    assert m["video_f1"] == 0.5
    assert m["video_roc_auc"] == pytest.approx(0.75)  # positives 0.8, 0.4 vs negatives 0.1, 0.7: 3 of 4 pairs
    assert M.confusion(videos["label"], videos["pred"], 2) == [[1, 1], [1, 1]]
    per = M.video_patient_metrics(videos, ("PNES", "ES"))
    assert per.loc["a", "video_sensitivity"] == 0.5 and np.isnan(per.loc["a", "video_specificity"])


def test_multiclass_video_metrics_use_macro_averages():
    videos = pd.DataFrame(
        {
            "patient": "a",
            "recording": list("123"),
            "label": [0, 1, 2],
            "n_clips": 1,
            "pred": [0, 1, 1],
            "probs": [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.5, 0.4]],
        }
    )
    m = M.video_metrics(videos, ("A", "B", "C"))
    assert m["video_accuracy"] == pytest.approx(2 / 3)
    assert m["video_sensitivity"] == pytest.approx(2 / 3)  # recalls 1, 1, 0
    assert m["video_roc_auc"] == pytest.approx(1.0)  # each class' own video ranks first in its column
