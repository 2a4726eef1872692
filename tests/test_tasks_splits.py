"""Task labelling, protocols, split files and the leakage guard, on hand-built indexes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from benchmark.errors import BenchmarkError, SplitError, UnknownNameError
from benchmark.index import Exclusion, Patient, Recording, RecordingIndex, Seizure
from benchmark.seizures import lead_seizures
from benchmark.splits import (
    RandomChunkKFold,
    check_against_index,
    check_leakage,
    load_split,
    make_split,
    save_split,
    split_path,
)
from benchmark.tasks import make_labels, make_params

H = 3600.0


def rec(rid, start_h, dur_h, seizures=(), channels=("A-B", "B-C")):
    return Recording(
        rid, f"p/{rid}.edf", start_h * H, dur_h * H, 256.0, channels, tuple(Seizure(a, b) for a, b in seizures)
    )


def patient(pid, recordings, group=""):
    return Patient(pid, tuple(recordings), group)


@pytest.fixture
def index():
    # p1: three seizures spread over a day, plus far-away inter-ictal recordings.
    p1 = patient(
        "p1",
        [
            rec("p1_01", 0, 1),  # inter-ictal (far from seizures)
            rec("p1_02", 6, 1, [(1800, 1860)]),  # seizure at 6.5 h
            rec("p1_03", 7, 0.2, [(600, 640)]),  # 7:10, 39 min after the previous one: lead for SOP 30
            rec("p1_04", 7.4, 0.5, [(60, 90)]),  # 7:25, 14 min after the previous one: lead for SOP 10 only
            rec("p1_05", 14, 1, [(3000, 3030)]),  # lead
            rec("p1_06", 20, 2),  # inter-ictal
        ],
    )
    p2 = patient("p2", [rec("p2_01", 0, 1, [(300, 320)]), rec("p2_02", 10, 1)])
    p3 = patient("p3", [rec("p3_01", 0, 2)])  # no seizures
    return RecordingIndex("toy", (p1, p2, p3), channels=("A-B", "B-C"))


def test_lead_seizures_respect_horizon(index):
    p1 = index.patient("p1")
    onsets = [round(on / H, 3) for on, _, _, _ in lead_seizures(p1, 10 * 60)]
    assert len(onsets) == 4
    assert len(lead_seizures(p1, 30 * 60)) == 3


def test_prediction_units_balanced_and_far_from_seizures(index):
    labels = make_labels(index, "prediction", make_params("prediction", sop_minutes=10))
    units = labels.units_of("p1")
    assert units, "p1 has lead seizures"
    seizures = index.patient("p1").seizures_on_timeline()
    for u in units:
        pre = [s for s in u.segments if s.label == 1]
        inter = [s for s in u.segments if s.label == 0]
        assert pre and inter
        assert sum(s.duration for s in inter) == pytest.approx(sum(s.duration for s in pre), abs=1e-3)
        for s in inter:
            r = index.recording("p1", s.recording)
            for on, off, _, _ in seizures:
                # farther than the 4-h gap from every seizure
                assert r.start + s.start >= off + 4 * H or r.start + s.end <= on - 4 * H
        for s in pre:
            r = index.recording("p1", s.recording)
            assert s.end - s.start <= 600 + 1e-6


def test_prediction_excludes_patients_without_interictal_and_reports_why(index):
    labels = make_labels(index, "prediction", make_params("prediction", sop_minutes=10))
    assert "p3" not in labels.patients  # no seizures at all
    reasons = " ".join(e.reason for e in labels.exclusions if e.patient == "p3")
    assert "lead seizure" in reasons
    # p2's only seizure is 300 s into the recording: 5 of 10 min pre-ictal recorded -> usable at 50 %
    assert "p2" in labels.patients
    labels30 = make_labels(index, "prediction", make_params("prediction", sop_minutes=30))
    assert "p2" not in labels30.patients
    assert any(e.patient == "p2" and "pre-ictal" in e.reason for e in labels30.exclusions)


def test_loocv_has_one_fold_per_unit_and_excludes_single_unit_patients(index):
    labels = make_labels(index, "prediction", make_params("prediction", sop_minutes=10))
    spec = make_split(labels, "loocv", dataset="toy", index_hash=index.content_hash())
    n_p1 = len(labels.units_of("p1"))
    assert len([f for f in spec.folds if f.patient == "p1"]) == n_p1
    assert all(len(f.test) == 1 and f.test[0] not in f.train for f in spec.folds)
    assert any(e.patient == "p2" and "at least 2" in e.reason for e in spec.exclusions)


def test_loso_never_splits_a_subject():
    def recs(pid):
        return [
            rec(f"{pid}_01", 0, 1, [(1800, 1830)]),
            rec(f"{pid}_02", 6, 1, [(1800, 1830)]),
            rec(f"{pid}_03", 12, 1),
        ]

    idx = RecordingIndex(
        "toy", (patient("a", recs("a"), "s1"), patient("b", recs("b"), "s1"), patient("c", recs("c"), "s2"))
    )
    labels = make_labels(idx, "prediction")
    spec = make_split(labels, "loso", dataset="toy", index_hash=idx.content_hash())
    assert sorted(f.fold_id for f in spec.folds) == ["s1", "s2"]
    for f in spec.folds:
        train_groups = {spec.units[u].group for u in f.train}
        test_groups = {spec.units[u].group for u in f.test}
        assert not train_groups & test_groups


def test_kfold5_needs_five_subjects(index):
    labels = make_labels(index, "prediction")
    with pytest.raises(SplitError, match="at least 5 subjects"):
        make_split(labels, "kfold5", dataset="toy", index_hash=index.content_hash())


def test_unknown_protocol_and_task_names():
    with pytest.raises(UnknownNameError, match="Did you mean 'loocv'"):
        from benchmark.splits import get_splitter

        get_splitter("locv")
    with pytest.raises(UnknownNameError):
        make_params("predicton")
    with pytest.raises(BenchmarkError, match="no parameter"):
        make_params("prediction", sop=10)


def test_split_file_roundtrip_and_tamper_detection(index, tmp_path):
    labels = make_labels(index, "prediction")
    spec = make_split(labels, "loocv", dataset="toy", index_hash=index.content_hash())
    path = save_split(spec, split_path(tmp_path, "toy", "prediction", labels.params, "loocv"))
    assert path.name == "prediction-sop10-sph0-gap4h-loocv.json"
    again = load_split(path)
    assert again.sha256() == spec.sha256()
    assert again.folds[0].train == spec.folds[0].train
    check_against_index(again, index.content_hash())
    with pytest.raises(SplitError, match="dataset version"):
        check_against_index(again, "0" * 64)
    d = json.loads(path.read_text())
    first = next(iter(d["units"]))
    d["units"][first]["segments"][0][1] += 5.0  # move a unit by 5 s
    path.write_text(json.dumps(d))
    with pytest.raises(SplitError, match="sha256"):
        load_split(path)


def test_split_is_deterministic(index):
    a = make_split(make_labels(index, "prediction"), "loocv", dataset="toy", index_hash=index.content_hash())
    b = make_split(make_labels(index, "prediction"), "loocv", dataset="toy", index_hash=index.content_hash())
    assert a.sha256() == b.sha256()
    c = make_split(
        make_labels(index, "prediction", make_params("prediction", seed=1)),
        "loocv",
        dataset="toy",
        index_hash=index.content_hash(),
    )
    assert c.sha256() != a.sha256()  # the seed places inter-ictal blocks


def test_detection_units_are_recordings_and_random_kfold_is_leaky(index):
    labels = make_labels(index, "detection")
    assert {u.unit_id for u in labels.units} >= {"p1/p1_02", "p3/p3_01"}
    spec = make_split(labels, "kfold5-random", dataset="toy", index_hash=index.content_hash())
    assert spec.leaky and len(spec.folds) == 5


def test_random_chunk_assignment_is_stable_and_balanced():
    cv = RandomChunkKFold(5, seed=0, chunk_s=10)
    starts = np.arange(0, 36000, 1.0)
    folds = cv.chunk_folds("r1", starts)
    assert np.array_equal(folds, cv.chunk_folds("r1", starts[::-1])[::-1])  # order-independent
    assert np.all(folds[:10] == folds[0])  # one chunk, one fold
    counts = np.bincount(folds, minlength=5)
    assert counts.min() > 0.15 * len(starts)


def test_leakage_guard_finds_overlaps_only_within_a_recording():
    train = pd.DataFrame({"recording": ["r1", "r1", "r2"], "start": [0.0, 20.0, 0.0], "end": [10.0, 30.0, 10.0]})
    test = pd.DataFrame({"recording": ["r1", "r3"], "start": [10.0, 0.0], "end": [20.0, 10.0]})
    assert check_leakage(train, test)["ok"]  # touching is not overlapping
    test2 = pd.DataFrame({"recording": ["r1"], "start": [25.0], "end": [35.0]})
    res = check_leakage(train, test2)
    assert not res["ok"] and res["n_overlaps"] == 1
    assert res["examples"][0]["train_start"] == 20.0
    # a long test window spanning several train windows
    test3 = pd.DataFrame({"recording": ["r1"], "start": [-5.0], "end": [100.0]})
    assert check_leakage(train, test3)["n_overlaps"] == 2


def test_excluded_recordings_are_not_used(index):
    idx = RecordingIndex(
        index.dataset, index.patients, index.channels, (Exclusion("recording", "p1", "missing channel X", "p1_01"),)
    )
    labels = make_labels(idx, "prediction")
    used = {s.recording for u in labels.units for s in u.segments}
    assert "p1_01" not in used


def test_sph_moves_the_preictal_block_away_from_onset(index):
    sop, sph = 600, 300
    labels = make_labels(index, "prediction", make_params("prediction", sop_minutes=10, sph_minutes=5))
    p1 = index.patient("p1")
    lead = lead_seizures(p1, sop, sph)
    exact = 0
    for u in labels.units_of("p1"):
        onset = lead[int(u.unit_id.split("-sz")[1])][0]
        pre = [
            (index.recording("p1", s.recording).start + s.start, index.recording("p1", s.recording).start + s.end)
            for s in u.segments
            if s.label == 1
        ]
        assert min(a for a, _ in pre) >= onset - sph - sop - 1e-6
        assert max(b for _, b in pre) <= onset - sph + 1e-6
        exact += abs(max(b for _, b in pre) - (onset - sph)) < 1e-3
    assert exact >= 1  # where the EEG is recorded, the block ends exactly SPH before the onset


def test_recording_names_may_repeat_across_patients():
    def recs():
        return [rec("r1", 0, 1, [(1800, 1830)]), rec("r2", 8, 1)]

    idx = RecordingIndex("toy", (patient("a", recs()), patient("b", recs()), patient("c", recs())))
    labels = make_labels(idx, "detection")
    assert len({u.unit_id for u in labels.units}) == 6
    spec = make_split(labels, "loso", dataset="toy", index_hash=idx.content_hash())
    for f in spec.folds:
        assert not set(f.train) & set(f.test)
        assert {spec.units[u].patient for u in f.test} == {f.fold_id}
    # the leakage guard tells recordings of different patients apart
    train = pd.DataFrame({"patient": ["a"], "recording": ["r1"], "start": [0.0], "end": [10.0]})
    test = pd.DataFrame({"patient": ["b"], "recording": ["r1"], "start": [0.0], "end": [10.0]})
    assert check_leakage(train, test)["ok"]
    assert not check_leakage(train, test.assign(patient="a"))["ok"]
