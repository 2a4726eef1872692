"""The BIDS-EEG (SzCORE) loader on a tiny dataset written by hand with the exact BIDS names."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

from benchmark.datasets.bids_eeg import BIDS_CHANNELS, SZCORE_EVENT_COLUMNS, load_bids
from benchmark.errors import DataError
from benchmark.index import RecordingIndex

edfio = pytest.importorskip("edfio")
pytest.importorskip("mne_bids")

SFREQ = 256
# SzCORE files: the 19 10-20 electrodes against the common average, "Fp1-Avg", ...
LABELS = [f"{c.capitalize()}-Avg" for c in BIDS_CHANNELS]
TASK = "szMonitoring"


def write_edf(path, seconds, labels=LABELS):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(str(path).encode()))  # one signal per file
    edfio.Edf(
        [edfio.EdfSignal(rng.normal(0, 20, seconds * SFREQ), sampling_frequency=SFREQ, label=lab) for lab in labels]
    ).write(path)


def write_tsv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(header)] + ["\t".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def event(onset, duration, kind, date_time, rec_duration):
    """One SzCORE events.tsv row."""
    return (onset, duration, kind, "n/a", "n/a", "n/a", "n/a", "n/a", date_time, rec_duration)


def add_recording(
    root, sub, seconds, *, ses=None, run="00", events=None, labels=LABELS, channels_tsv=True, status=None
):
    """EDF + channels.tsv + events.tsv of one recording; returns the basename without suffix."""
    folder = root / f"sub-{sub}" / (f"ses-{ses}" if ses else "") / "eeg"
    base = f"sub-{sub}" + (f"_ses-{ses}" if ses else "") + f"_task-{TASK}_run-{run}"
    write_edf(folder / f"{base}_eeg.edf", seconds, labels)
    if channels_tsv:
        rows = [(lab, "EEG", "uV", (status or {}).get(lab, "good")) for lab in labels]
        write_tsv(folder / f"{base}_channels.tsv", ["name", "type", "units", "status"], rows)
    if events is not None:
        write_tsv(folder / f"{base}_events.tsv", SZCORE_EVENT_COLUMNS, events)
    return base


@pytest.fixture
def bids(tmp_path):
    root = tmp_path / "bids"
    root.mkdir()
    description = {"Name": "Tiny SzCORE", "BIDSVersion": "1.9.0"}
    (root / "dataset_description.json").write_text(json.dumps(description))
    (root / f"task-{TASK}_eeg.json").write_text(json.dumps({"SamplingFrequency": SFREQ}))  # inherited
    write_tsv(
        root / "participants.tsv", ["participant_id", "age", "sex"], [("sub-01", 34, "f"), ("sub-02", "n/a", "M")]
    )
    day1 = "2020-01-01 10:00:00"
    add_recording(
        root,
        "01",
        8,
        ses="01",
        run="00",
        events=[
            event(0, 8, "bckg", day1, 8),
            event(2.0, 3.0, "sz_foc_ia", day1, 8),
            event(6.0, 0.5, "artifact", day1, 8),
        ],
    )
    later = "2020-01-01 10:00:20"
    add_recording(
        root,
        "01",
        6,
        ses="01",
        run="01",
        events=[
            event(1.5, 10.0, "sz", later, 6),
            event(0.5, 0.5, "sz_gen_m_tonicClonic", later, 6),
        ],
    )
    next_day = "2020-01-02 09:00:00"
    add_recording(root, "01", 4, ses="02", run="00", events=[event(0, 4, "bckg", next_day, 4)])
    # sub-02: no dateTime; one recording lacks Cz, the other has no events.tsv.
    add_recording(
        root, "02", 5, run="00", labels=[x for x in LABELS if x != "Cz-Avg"], events=[event(0, 5, "bckg", "n/a", 5)]
    )
    add_recording(root, "02", 3, run="01")
    vhdr = root / "sub-02" / "eeg" / "sub-02_task-rest_eeg.vhdr"
    vhdr.write_text("Brain Vision Data Exchange Header File\n")
    # sub-03: dateTime values make the two recordings overlap.
    add_recording(root, "03", 4, run="00", events=[event(0, 4, "bckg", "2021-05-05 08:00:00", 4)])
    add_recording(root, "03", 4, run="01", events=[event(1, 1, "sz", "2021-05-05 08:00:02", 4)])
    # sub-04 has no EEG; derivatives are not recordings.
    (root / "sub-04" / "anat").mkdir(parents=True)
    (root / "sub-04" / "anat" / "sub-04_T1w.json").write_text("{}")
    write_edf(root / "derivatives" / "x" / "sub-01" / "eeg" / f"sub-01_task-{TASK}_eeg.edf", 2)
    return root


def test_index_from_bids(bids):
    index = load_bids(bids)
    assert index.dataset == "bids" and index.channels == BIDS_CHANNELS and not index.synthetic
    assert index.patient_ids == ["sub-01", "sub-02", "sub-03"]
    p1 = index.patient("sub-01")
    assert p1.info == {"age_years": 34.0, "sex": "F"} and index.patient("sub-02").info == {"sex": "M"}
    ids = [r.recording_id for r in p1.recordings]
    assert ids == [
        f"sub-01_ses-01_task-{TASK}_run-00",
        f"sub-01_ses-01_task-{TASK}_run-01",
        f"sub-01_ses-02_task-{TASK}_run-00",
    ]
    r0, r1, r2 = p1.recordings
    assert [r.start for r in p1.recordings] == [0.0, 20.0, 23 * 3600.0]
    assert [r.duration for r in p1.recordings] == [8.0, 6.0, 4.0]
    assert {r.sfreq for r in p1.recordings} == {256.0}  # from the inherited _eeg.json
    assert r0.file == f"sub-01/ses-01/eeg/sub-01_ses-01_task-{TASK}_run-00_eeg.edf"
    assert r0.channels == tuple(LABELS)
    assert [(s.onset, s.offset, s.type) for s in r0.seizures] == [(2.0, 5.0, "sz_foc_ia")]
    # Sorted by onset; the "sz" event running past the end is cut at 6 s.
    assert [(s.onset, s.offset, s.type) for s in r1.seizures] == [(0.5, 1.0, "sz_gen_m_tonicClonic"), (1.5, 6.0, "sz")]
    assert r2.seizures == () and index.n_seizures == 4
    # sub-02: no dateTime -> off the timeline; the recording without events.tsv keeps the EDF duration.
    sub02 = index.patient("sub-02").recordings
    assert [(r.start, r.duration) for r in sub02] == [(None, 5.0), (None, 3.0)]
    # sub-03: overlapping dateTime values -> off the timeline, seizure kept.
    assert [r.start for r in index.patient("sub-03").recordings] == [None, None]
    assert index.patient("sub-03").n_seizures == 1


def test_every_exclusion_says_why(bids):
    index = load_bids(bids)
    got = {(e.scope, e.patient, e.recording): e.reason for e in index.exclusions}
    assert set(got) == {
        ("recording", "sub-02", f"sub-02_task-{TASK}_run-00"),
        ("recording", "sub-02", f"sub-02_task-{TASK}_run-01"),
        ("recording", "sub-02", "sub-02_task-rest"),
        ("patient", "sub-03", None),
    }
    assert "lacks channel(s) CZ" in got[("recording", "sub-02", f"sub-02_task-{TASK}_run-00")]
    no_events = got[("recording", "sub-02", f"sub-02_task-{TASK}_run-01")]
    assert f"no sub-02_task-{TASK}_run-01_events.tsv" in no_events
    assert ".vhdr files are not read" in got[("recording", "sub-02", "sub-02_task-rest")]
    assert "overlap" in got[("patient", "sub-03", None)]
    notes = " | ".join(index.notes)
    assert "BIDS dataset 'Tiny SzCORE'" in notes
    assert "events other than bckg/sz* ignored: artifact" in notes
    assert "1 seizure(s) ending after their recording were cut" in notes
    assert f"without dateTime are off the timeline: sub-02_task-{TASK}_run-00" in notes
    assert "subjects without EEG recordings: sub-04" in notes
    assert "EDF headers checked: 7 present, 0 absent" in notes


def test_content_hash_is_deterministic(bids, tmp_path):
    a, b = load_bids(bids), load_bids(bids)
    assert a.content_hash() == b.content_hash()
    path = tmp_path / "index.json"
    a.save(path)
    assert RecordingIndex.load(path).content_hash() == a.content_hash()
    assert load_bids(bids, dataset_name="siena").content_hash() != a.content_hash()


def test_sidecars_alone_give_the_same_recordings(bids):
    with_edf, without = load_bids(bids), load_bids(bids, check_edf=False)
    assert with_edf.patient("sub-01") == without.patient("sub-01")
    # Without events.tsv and without the EDF header the duration is unknown.
    r = without.recording("sub-02", f"sub-02_task-{TASK}_run-01")
    assert r.duration is None
    assert "EDF headers not read" in without.notes


def test_task_filter(bids):
    index = load_bids(bids, task=TASK)
    assert not [e for e in index.exclusions if e.recording == "sub-02_task-rest"]
    with pytest.raises(DataError, match="no EEG recordings .*of task 'rest'"):
        load_bids(bids, task="rest")  # only a BrainVision file
    wrong_case = r"task 'szmonitoring' is not in .*Did you mean 'szMonitoring'"
    with pytest.raises(DataError, match=wrong_case) as err:
        load_bids(bids, task="szmonitoring")
    assert "\n" not in str(err.value)


def test_channel_list(bids):
    index = load_bids(bids, channels=["Fp1", "F3"])
    assert index.channels == ("Fp1", "F3")
    assert not [e for e in index.exclusions if "lacks channel" in e.reason]
    with pytest.raises(DataError, match="T7 are in none of the recordings"):
        load_bids(bids, channels=["Fp1", "T7"])
    with pytest.raises(DataError, match="names a channel twice"):
        load_bids(bids, channels=["Fp1", "FP1"])


def test_bad_channel_is_an_exclusion(bids):
    add_recording(bids, "05", 3, events=[event(0, 3, "bckg", "n/a", 3)], status={"O2-Avg": "bad"})
    (ex,) = [e for e in load_bids(bids).exclusions if e.patient == "sub-05"]
    assert "marks O2-Avg bad" in ex.reason


def test_not_a_bids_folder(tmp_path):
    with pytest.raises(DataError, match=r"is not a BIDS dataset \(no dataset_description.json\)") as err:
        load_bids(tmp_path)
    assert "\n" not in str(err.value)
    with pytest.raises(DataError, match="does not exist"):
        load_bids(tmp_path / "nope")
    (tmp_path / "dataset_description.json").write_text("{}")
    with pytest.raises(DataError, match="no EEG recordings"):
        load_bids(tmp_path)


def test_edf_disagreeing_with_recording_duration(bids):
    add_recording(bids, "05", 3, events=[event(0, 3, "bckg", "n/a", 60)])
    with pytest.raises(DataError, match="EDF holds 3 s but .* says 60 s"):
        load_bids(bids)
    unchecked = load_bids(bids, check_edf=False)
    assert unchecked.recording("sub-05", f"sub-05_task-{TASK}_run-00").duration == 60.0


def test_sampling_rate_disagreeing_with_sidecar(bids):
    (bids / f"task-{TASK}_eeg.json").write_text(json.dumps({"SamplingFrequency": 512}))
    with pytest.raises(DataError, match="EDF sampling rate 256 Hz, the _eeg.json sidecar says 512 Hz"):
        load_bids(bids)


@pytest.mark.parametrize(
    "rows, message",
    [
        ([event(9, 1, "sz", "n/a", 3)], "starts after the end of the recording"),
        ([event("soon", 1, "sz", "n/a", 3)], "onset 'soon' is not a number"),
        ([event(1, 0, "sz", "n/a", 3)], "durations must be positive"),
        (
            [event(0, 3, "bckg", "2020-01-01 10:00:00", 3), event(1, 1, "sz", "2020-01-01 11:00:00", 3)],
            "dateTime holds different values",
        ),
        ([event(0, 3, "bckg", "yesterday", 3)], "dateTime 'yesterday' is not a date-time"),
    ],
)
def test_malformed_events(bids, rows, message):
    add_recording(bids, "05", 3, events=rows)
    with pytest.raises(DataError, match=message) as err:
        load_bids(bids)
    assert "\n" not in str(err.value)


def test_events_without_required_columns(bids):
    base = add_recording(bids, "05", 3)
    write_tsv(bids / "sub-05" / "eeg" / f"{base}_events.tsv", ["onset", "duration"], [(0, 3)])
    with pytest.raises(DataError, match="lacks column\\(s\\) eventType"):
        load_bids(bids)


def test_synthetic_marker_labels_the_index(bids):
    (bids / "SYNTHETIC.json").write_text("{}")
    assert load_bids(bids).synthetic


def test_content_hash_of_the_fixture_is_pinned(bids):
    """The dataset version that split files and the window cache are keyed by."""
    assert load_bids(bids).content_hash() == ("89301a8d18525437373ecb51576a9c3c3947b77d0c054215f3a28260005c5291")
