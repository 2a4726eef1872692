"""The Helsinki neonatal EEG loader on small generated files in the Zenodo layout."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from benchmark.datasets.helsinki import (
    CONSENSUS_RULES,
    HELSINKI_CHANNELS,
    consensus_labels,
    load_helsinki,
    seizure_runs,
)
from benchmark.errors import DataError, UnknownNameError
from benchmark.index import RecordingIndex

edfio = pytest.importorskip("edfio")

SFREQ = 256
# Labels as in the published files: "EEG Fp1-REF", ... plus a non-EEG signal.
EDF_LABELS = [f"EEG {c.capitalize()}-REF" for c in HELSINKI_CHANNELS] + ["ECG EKG-REF"]

# Neonate 1, per second (10 s). Votes per second: 0 1 3 3 1 0 1 1 2 0.
EEG1 = {
    "A": [0, 1, 1, 1, 0, 0, 0, 1, 1, 0],
    "B": [0, 0, 1, 1, 1, 0, 0, 0, 1, 0],
    "C": [0, 0, 1, 1, 0, 0, 1, 0, 0, 0],
}
EEG1_SEIZURES = {
    "majority": [(2, 4), (8, 9)],
    "all": [(2, 4)],
    "any": [(1, 5), (6, 9)],
    "A": [(1, 4), (7, 9)],
    "B": [(2, 5), (8, 9)],
    "C": [(2, 4), (6, 7)],
}
# Neonate 2: the experts agree. Neonate 3: expert C's column is shorter. Neonate 4: only expert A.
EEG2 = [0, 0, 0, 0, 1, 1]
EEG3 = {"A": [1, 1, 0, 0, 0, 0, 0, 0], "B": [1, 1, 0, 0, 0, 0, 0, 0], "C": [1, 0, 0, 0, 0]}
EEG4 = [0, 1, 1, 0]

CLINICAL = (
    "ID,EEG file,Gender,BW (g),GA (weeks),EEG to PMA (weeks),Diagnosis,Neuroimaging Findings,"
    "Number of Reviewers Annotating Seizure,Primary Localisation,Other\n"
    "1,eeg1,m,3000 to 3500g,40,41,HIE,normal,3,n/a,\n"
    "2,eeg2,f,2500 to 3000g,38-39,39,stroke,infarct,2,left,\n"  # 2: the files show 3
    "3,eeg3,f,n/a,41,42,,n/a,3,,\n"
)


def write_edf(path, seconds, labels=EDF_LABELS):
    rng = np.random.default_rng(zlib.crc32(str(path).encode()))  # one signal per file
    edfio.Edf(
        [edfio.EdfSignal(rng.normal(0, 20, seconds * SFREQ), sampling_frequency=SFREQ, label=lab) for lab in labels]
    ).write(path)


def write_annotations(path, columns: dict[int, list[int]]):
    """One expert's file: header row of neonate numbers, one row per second, bottom padding."""
    n = max(len(v) for v in columns.values())
    lines = [",".join(str(k) for k in columns)]
    for i in range(n):
        lines.append(",".join(str(v[i]) if i < len(v) else "" for v in columns.values()))
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def helsinki(tmp_path):
    root = tmp_path / "helsinki"
    root.mkdir()
    for e in "ABC":
        cols = {1: EEG1[e], 2: EEG2, 3: EEG3[e]}
        if e == "A":
            cols[4] = EEG4
        write_annotations(root / f"annotations_2017_{e}.csv", cols)
    (root / "clinical_information.csv").write_text(CLINICAL)
    write_edf(root / "eeg1.edf", 10)
    write_edf(root / "eeg2.edf", 6, [lab for lab in EDF_LABELS if "Cz" not in lab])
    write_edf(root / "eeg5.edf", 3)  # a recording nobody annotated
    return root


def seizures(index, pid):
    return [(s.onset, s.offset) for s in index.recording(pid, pid).seizures]


def test_helpers_on_hand_checked_vectors():
    cols = {e: np.array(v) for e, v in EEG1.items()}
    for rule, expected in EEG1_SEIZURES.items():
        assert seizure_runs(consensus_labels(cols, rule)) == expected, rule
    assert seizure_runs(np.array([1, 1, 0, 1])) == [(0, 2), (3, 4)]
    assert seizure_runs(np.zeros(5)) == []
    # Columns of different length: the rule sees the seconds every expert annotated.
    uneven = {e: np.array(v) for e, v in EEG3.items()}
    assert consensus_labels(uneven, "majority").tolist() == [True, True, False, False, False]


@pytest.mark.parametrize("rule", list(CONSENSUS_RULES))
def test_seizures_follow_the_consensus_rule(helsinki, rule):
    index = load_helsinki(helsinki, consensus=rule)
    assert seizures(index, "eeg1") == [(float(a), float(b)) for a, b in EEG1_SEIZURES[rule]]
    assert index.patient("eeg1").info["consensus"] == rule
    assert any(f"consensus {rule!r}" in n for n in index.notes)
    # Neonate 4 has only expert A's column: usable under "A" alone, excluded otherwise.
    if rule == "A":
        assert "eeg4" in index.patient_ids and seizures(index, "eeg4") == [(1.0, 3.0)]
    else:
        assert "eeg4" not in index.patient_ids
        (ex,) = [e for e in index.exclusions if e.patient == "eeg4"]
        assert ex.scope == "patient" and "annotations_2017_" in ex.reason


def test_index_contents(helsinki):
    index = load_helsinki(helsinki)
    assert index.dataset == "helsinki" and index.channels == HELSINKI_CHANNELS
    assert index.patient_ids == ["eeg1", "eeg2", "eeg3"] and not index.synthetic
    r1 = index.recording("eeg1", "eeg1")
    assert (r1.file, r1.start, r1.duration, r1.sfreq) == ("eeg1.edf", 0.0, 10.0, 256.0)
    assert r1.channels == tuple(EDF_LABELS)
    assert seizures(index, "eeg2") == [(4.0, 6.0)]
    # No EDF for eeg3: duration = the seconds all three experts annotated; channels unknown.
    r3 = index.recording("eeg3", "eeg3")
    assert (r3.duration, r3.sfreq, r3.channels) == (5.0, None, ())
    assert seizures(index, "eeg3") == [(0.0, 2.0)]
    info = index.patient("eeg1").info
    assert info["sex"] == "M" and info["gestational_age_weeks"] == 40 and info["diagnosis"] == "HIE"
    assert info["birth_weight_g"] == "3000 to 3500g" and info["id"] == 1
    assert index.patient("eeg2").info["gestational_age_weeks"] == "38-39"
    assert "birth_weight_g" not in index.patient("eeg3").info  # "n/a"
    # Every exclusion says what and why: eeg2 lacks Cz, eeg4 lacks B and C, eeg5 has none.
    by = {(e.scope, e.patient): e.reason for e in index.exclusions}
    assert set(by) == {("recording", "eeg2"), ("patient", "eeg4"), ("patient", "eeg5")}
    assert "CZ" in by[("recording", "eeg2")]
    assert "annotations_2017_B.csv" in by[("patient", "eeg4")]
    notes = " | ".join(index.notes)
    assert "eeg3: experts' columns differ in length (A 8 s, B 8 s, C 5 s)" in notes
    assert "eeg2: clinical_information.csv says 2 expert(s)" in notes
    assert "2 present, 1 absent" in notes


def test_content_hash_is_deterministic_and_depends_on_consensus(helsinki, tmp_path):
    a, b = load_helsinki(helsinki), load_helsinki(helsinki)
    assert a.content_hash() == b.content_hash()
    path = tmp_path / "index.json"
    a.save(path)
    assert RecordingIndex.load(path).content_hash() == a.content_hash()
    hashes = {rule: load_helsinki(helsinki, consensus=rule).content_hash() for rule in CONSENSUS_RULES}
    assert len(set(hashes.values())) == len(CONSENSUS_RULES)
    assert load_helsinki(helsinki, dataset_name="other").content_hash() != a.content_hash()


def test_rules_that_agree_on_labels_still_differ_in_identity(tmp_path):
    for e in "ABC":
        write_annotations(tmp_path / f"annotations_2017_{e}.csv", {2: EEG2})
    indexes = {r: load_helsinki(tmp_path, consensus=r, check_edf=False) for r in ("majority", "all")}
    assert seizures(indexes["majority"], "eeg2") == seizures(indexes["all"], "eeg2") == [(4.0, 6.0)]
    assert indexes["majority"].content_hash() != indexes["all"].content_hash()


def test_without_edf_headers(helsinki):
    index = load_helsinki(helsinki, check_edf=False)
    r1 = index.recording("eeg1", "eeg1")
    assert (r1.duration, r1.sfreq, r1.channels) == (10.0, None, ())
    assert not [e for e in index.exclusions if e.scope == "recording"]  # channels not checked
    assert any("not read" in n for n in index.notes)


def test_edf_shorter_than_annotations_keeps_the_annotated_and_recorded_span(helsinki):
    write_edf(helsinki / "eeg1.edf", 5)
    index = load_helsinki(helsinki)
    r1 = index.recording("eeg1", "eeg1")
    assert r1.duration == 5.0 and seizures(index, "eeg1") == [(2.0, 4.0)]
    (ex,) = [e for e in index.exclusions if e.scope == "seizure"]
    assert ex.patient == "eeg1" and "8-9 s" in ex.reason
    assert any("eeg1: EDF holds 5 s but the annotations cover 10 s" in n for n in index.notes)


def test_edf_longer_than_annotations_keeps_the_annotated_span(helsinki):
    write_edf(helsinki / "eeg3.edf", 20)
    index = load_helsinki(helsinki)
    assert index.recording("eeg3", "eeg3").duration == 5.0
    assert any("eeg3: EDF holds 20 s" in n for n in index.notes)


def test_small_length_difference_takes_the_edf_duration(helsinki):
    write_edf(helsinki / "eeg1.edf", 9)  # 1 s short: within tolerance, last ictal second cut
    index = load_helsinki(helsinki)
    assert index.recording("eeg1", "eeg1").duration == 9.0
    assert seizures(index, "eeg1") == [(2.0, 4.0), (8.0, 9.0)]
    assert not any("EDF holds" in n for n in index.notes)


def test_single_expert_needs_only_that_file(helsinki):
    (helsinki / "annotations_2017_B.csv").unlink()
    assert load_helsinki(helsinki, consensus="C").patient_ids == ["eeg1", "eeg2", "eeg3"]
    with pytest.raises(DataError, match="annotations_2017_B.csv not found") as err:
        load_helsinki(helsinki)
    assert "\n" not in str(err.value)


def test_unknown_consensus_lists_the_choices(helsinki):
    with pytest.raises(UnknownNameError) as err:
        load_helsinki(helsinki, consensus="majorty")
    msg = str(err.value)
    assert "\n" not in msg and "majority, all, any, A, B, C" in msg and "Did you mean 'majority'" in msg


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist.*zenodo"):
        load_helsinki(tmp_path / "nope")


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,2\n0,0\n2,0\n", "line 3 holds '2'"),
        ("1,2\n0,0\n,1\n1,1\n", "empty cell on line 3"),
        ("1,baby\n0,0\n", "'baby' is not a neonate number"),
    ],
)
def test_malformed_annotations(tmp_path, text, message):
    (tmp_path / "annotations_2017_A.csv").write_text(text)
    with pytest.raises(DataError, match=message) as err:
        load_helsinki(tmp_path, consensus="A")
    assert "\n" not in str(err.value)


def test_synthetic_marker_labels_the_index(helsinki):
    (helsinki / "SYNTHETIC.json").write_text("{}")
    assert load_helsinki(helsinki).synthetic


def test_clinical_id_pairs_columns_with_files(tmp_path):
    # The published files pair ID N with eegN; a table that says otherwise is followed.
    for e in "ABC":
        write_annotations(tmp_path / f"annotations_2017_{e}.csv", {7: EEG2})
    (tmp_path / "clinical_information.csv").write_text("ID,EEG file,Gender\n7,eeg2,f\n")
    index = load_helsinki(tmp_path, check_edf=False)
    assert index.patient_ids == ["eeg2"] and seizures(index, "eeg2") == [(4.0, 6.0)]
    assert index.patient("eeg2").info == {"id": 7, "sex": "F", "consensus": "majority"}


def test_content_hash_of_the_fixture_is_pinned(helsinki):
    """The dataset version that split files and the window cache are keyed by."""
    assert load_helsinki(helsinki).content_hash() == (
        "89d01d0f6db9cf9ee7da3f489530596f07836b7f35228a4edef18027fd0e91e9"
    )
