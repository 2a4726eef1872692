"""Siena Scalp EEG index: the real seizure lists and EDF headers, generated folders, errors."""

from __future__ import annotations

import datetime as dt
import shutil
import zlib

import numpy as np
import pytest

from benchmark.datasets.siena import SIENA_CHANNELS, load_siena, parse_seizure_list
from benchmark.edf import read_header
from benchmark.errors import DataError
from benchmark.index import Seizure

edfio = pytest.importorskip("edfio")

# Siena's 10-20 labels as the EDF files write them.
EEG = (
    "Fp1",
    "F3",
    "C3",
    "P3",
    "O1",
    "F7",
    "T3",
    "T5",
    "Fz",
    "Cz",
    "Pz",
    "Fp2",
    "F4",
    "C4",
    "P4",
    "O2",
    "F8",
    "T4",
    "T6",
)
SUBJECT_INFO = (
    "patient_id, age_years, gender, seizure, localization, lateralization, eeg_channel, "
    "number_seizures, rec_time_minutes\n"
    "PN01,30,Female,WIAS,T,L,19,1,1\n"
    "PN02,64,Male,FBTC,F,Bilateral,18,0,1\n"
)


def write_edf(path, seconds, start, labels=EEG, sfreq=256):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(str(path).encode()))  # one signal per file
    # Labels as in the corpus: 'EEG Fp1', ... and a bare '1' (an EKG lead in the real files).
    signals = [
        edfio.EdfSignal(rng.normal(0, 20, seconds * sfreq), sampling_frequency=sfreq, label=lab)
        for lab in [f"EEG {c}" for c in labels] + ["1"]
    ]
    edfio.Edf(
        signals,
        recording=edfio.Recording(startdate=dt.date(2016, 1, 1)),
        starttime=dt.time(*start),
        data_record_duration=1,
    ).write(path)


def list_text(pid, blocks, labels=EEG, rate=256):
    """A seizure list in the corpus's layout; the O1 line written '1' as in the real lists."""
    lines = [f" {pid} ", "", f"Data Sampling Rate: {rate} Hz", "", "Channels in EDF files:"]
    lines += [f"Channel {i}: {'1' if c == 'O1' else c}      \r" for i, c in enumerate(labels, 1)]
    lines += [f"Channel {len(labels) + 1}: EKG 1", "", ""]
    for k, block in enumerate(blocks, 1):
        lines += [f"Seizure n {k}"] + list(block) + [""]
    return "\n".join(lines)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "siena"
    # PN01-1 crosses midnight, 8 s; its seizure is after midnight: onset 3 s, offset 6 s.
    write_edf(root / "PN01" / "PN01-1.edf", 8, (23, 59, 58))
    # PN01-2 is in no list: a seizure-free recording placed from its EDF header.
    write_edf(root / "PN01" / "PN01-2.edf", 6, (0, 10, 0))
    (root / "PN01" / "Seizures-list-PN01.txt").write_text(
        list_text(
            "PN01",
            [
                [
                    "File name: PN01-1.edf ",
                    "Registration start time:23.59.58",
                    "Registration end time:  00.00.06",
                    "Start time: 00.00.01 ",
                    "End time: 00.00.04",
                ]
            ],
        )
    )
    # PN02 has no O1, in its list and in its EDF: a recording-level exclusion.
    no_o1 = tuple(c for c in EEG if c != "O1")
    write_edf(root / "PN02" / "PN02-1.edf", 5, (10, 0, 0), labels=no_o1)
    (root / "PN02" / "Seizures-list-PN02.txt").write_text(
        list_text(
            "PN02",
            [
                [
                    "File name: PN02-1.edf",
                    "Registration start time: 10.00.00",
                    "Registration end time: 10.00.05",
                    "Seizure start time: 10.00.01",
                    "Seizure end time: 10.00.02",
                ]
            ],
            labels=no_o1,
        )
    )
    (root / "subject_info.csv").write_text(SUBJECT_INFO)
    return root


# -- the real files -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_dir(shared_data):
    return shared_data / "format-samples" / "siena"


def test_real_lists_times_by_hand(real_dir):
    index = load_siena(real_dir)
    assert index.dataset == "siena" and index.channels == SIENA_CHANNELS
    assert index.patient_ids == ["PN00", "PN16"] and index.n_seizures == 7
    pn00 = index.patient("PN00")
    # (recording, start on the timeline, duration, onset, offset), from the clock times:
    # PN00-1 19.39.33-20.22.58, seizure 19.58.36-19.59.46; PN00-2 the next night 02.18.17-02.56.19,
    # seizure 02.38.37-02.39.31; PN00-3 18.15.44-18.57.13, seizure 18.28.29-"19.29.29" (clipped);
    # PN00-4 20.51.43-21.26.25, 21.08.29-21.09.43; PN00-5 22.22.04-22.57.27, 22.37.08-22.38.15.
    assert [
        (r.recording_id, r.start, r.duration, r.seizures[0].onset, r.seizures[0].offset) for r in pn00.recordings
    ] == [
        ("PN00-1", 0.0, 2605.0, 1143.0, 1213.0),
        ("PN00-2", 23924.0, 2282.0, 1220.0, 1274.0),
        ("PN00-3", 81371.0, 2489.0, 765.0, 2489.0),
        ("PN00-4", 90730.0, 2082.0, 1006.0, 1080.0),
        ("PN00-5", 96151.0, 2123.0, 904.0, 971.0),
    ]
    pn16 = index.patient("PN16")
    # PN16-1 20.45.21-23.03.11, seizure 22.45.05-22.47.08; PN16-2 00.53.55-03.28.52 (next day),
    # seizure 03.16.49-03.18.36.
    assert [(r.start, r.duration, r.seizures) for r in pn16.recordings] == [
        (0.0, 8270.0, (Seizure(7184.0, 7307.0, "IAS"),)),
        (14914.0, 9297.0, (Seizure(8574.0, 8681.0, "IAS"),)),
    ]
    assert pn16.recordings[0].file == "PN16/PN16-1.edf"  # its list lies at the top level
    assert all(r.sfreq == 512.0 for _, r in index.iter_recordings())
    assert {s.type for p in index.patients for r in p.recordings for s in r.seizures} == {"IAS"}
    assert pn00.info == {
        "age_years": 55,
        "sex": "M",
        "seizure_class": "IAS",
        "localization": "T",
        "lateralization": "R",
        "n_seizures_reported": 5,
        "rec_minutes_reported": 198,
    }
    assert pn16.info["sex"] == "F" and pn16.info["age_years"] == 41


def test_real_exclusions(real_dir):
    index = load_siena(real_dir)
    by_rec = {e.recording: e.reason for e in index.exclusions}
    assert set(by_rec) == {"PN00-1", "PN00-2", "PN00-3"} and len(index.exclusions) == 3
    assert "EDF holds 2 s of the 2605 s" in by_rec["PN00-1"]  # the real EDFs are cut to 2 s
    assert "EDF holds 2 s of the 2282 s" in by_rec["PN00-2"]
    assert "18.28.29-19.29.29" in by_rec["PN00-3"] and "line 57" in by_rec["PN00-3"]
    # No EDF to compare: only the annotation error remains; the index itself is the same.
    unchecked = load_siena(real_dir, check_edf=False)
    assert [e.recording for e in unchecked.exclusions] == ["PN00-3"]
    assert unchecked.content_hash() == index.content_hash() == load_siena(real_dir).content_hash()
    assert any("2 present, 5 absent" in n for n in index.notes)


def test_real_list_channel_1_is_o1(real_dir):
    """The lists write channel 5 as '1'; the real PN00 EDF headers hold 'EEG O1' there."""
    text = (real_dir / "PN00" / "Seizures-list-PN00.txt").read_text()
    assert "Channel 5: 1 " in text
    assert read_header(real_dir / "PN00" / "PN00-1.edf").channels[4] == "EEG O1"
    pn16 = parse_seizure_list((real_dir / "Seizures-list-PN16.txt").read_text(), "PN16")
    assert pn16.o1_typo and pn16.channels[4] == "O1" and pn16.channels[-2:] == ("T3", "Cz")
    assert pn16.sfreq == 512.0 and list(pn16.registrations) == ["PN16-1.edf", "PN16-2.edf"]
    # With '1' read as O1, PN16 has all 19 electrodes (T3 and Cz at the end of its list).
    assert not any(e.patient == "PN16" for e in load_siena(real_dir).exclusions)


def test_real_hash_does_not_depend_on_location(real_dir, tmp_path):
    shutil.copytree(real_dir, tmp_path / "copy")
    assert load_siena(tmp_path / "copy").content_hash() == load_siena(real_dir).content_hash()


# -- generated folders ----------------------------------------------------------------------------
def test_generated_tree(tree):
    index = load_siena(tree)
    assert index.patient_ids == ["PN01", "PN02"]
    r1, r2 = index.patient("PN01").recordings
    assert (r1.recording_id, r1.start, r1.duration, r1.sfreq) == ("PN01-1", 0.0, 8.0, 256.0)
    assert r1.seizures == (Seizure(3.0, 6.0, "WIAS"),)
    # Unlisted: start from its EDF clock (00.10.00, the day after 23.59.58), no seizures.
    assert (r2.recording_id, r2.start, r2.duration, r2.seizures) == ("PN01-2", 602.0, 6.0, ())
    assert r2.channels[0] == "EEG Fp1" and r2.sfreq == 256.0
    assert index.patient("PN01").info["sex"] == "F"
    assert index.patient("PN02").info["seizure_class"] == "FBTC"
    assert index.recording("PN02", "PN02-1").seizures == (Seizure(1.0, 2.0, "FBTC"),)
    (e,) = index.exclusions
    assert (e.scope, e.patient, e.recording) == ("recording", "PN02", "PN02-1")
    assert "lacks channel(s) O1" in e.reason
    assert any("1 EDF file(s) not in any seizure list" in n for n in index.notes)


def test_unlisted_file_without_header_check_is_excluded(tree):
    index = load_siena(tree, check_edf=False)
    r = index.recording("PN01", "PN01-2")
    assert (r.start, r.duration, r.seizures) == (None, None, ())
    assert any(e.recording == "PN01-2" and "check_edf=False" in e.reason for e in index.exclusions)


def test_unlisted_file_overlapping_a_listed_one_is_excluded(tree):
    write_edf(tree / "PN01" / "PN01-1b.edf", 4, (0, 0, 0))
    index = load_siena(tree)
    r = index.recording("PN01", "PN01-1b")
    assert r.start is None and r.seizures == ()
    assert any(e.recording == "PN01-1b" and "PN01-1.edf" in e.reason for e in index.exclusions)


def test_content_hash_is_deterministic(tree):
    h = load_siena(tree).content_hash()
    assert load_siena(tree).content_hash() == h
    path = tree / "PN01" / "Seizures-list-PN01.txt"
    path.write_text(path.read_text().replace("End time: 00.00.04", "End time: 00.00.05"))
    assert load_siena(tree).recording("PN01", "PN01-1").seizures[0].offset == 7.0
    assert load_siena(tree).content_hash() != h


def test_edf_start_clock_off_excludes(tree):
    write_edf(tree / "PN01" / "PN01-1.edf", 8, (23, 59, 0))
    reasons = [e.reason for e in load_siena(tree).exclusions if e.recording == "PN01-1"]
    assert len(reasons) == 1
    assert "EDF starts at 23.59.00 but the registration at 23.59.58" in reasons[0]


def test_seizure_after_registration_end(tree):
    path = tree / "PN02" / "Seizures-list-PN02.txt"
    text = path.read_text().replace("start time: 10.00.01", "start time: 10.30.00")
    path.write_text(text.replace("end time: 10.00.02", "end time: 10.31.00"))
    index = load_siena(tree)
    assert index.recording("PN02", "PN02-1").seizures == ()
    assert any(e.scope == "seizure" and e.recording == "PN02-1" for e in index.exclusions)


def test_without_subject_info_types_are_unknown(tree):
    (tree / "subject_info.csv").unlink()
    index = load_siena(tree)
    assert index.recording("PN01", "PN01-1").seizures == (Seizure(3.0, 6.0, None),)
    assert index.patient("PN01").info == {}


def test_synthetic_marker(tree):
    (tree / "SYNTHETIC.json").write_text("{}")
    assert load_siena(tree).synthetic


# -- errors ---------------------------------------------------------------------------------------
def test_missing_folder_and_lists(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_siena(tmp_path / "nope")
    with pytest.raises(DataError, match="no Seizures-list-PNxx.txt"):
        load_siena(tmp_path)
    write_edf(tmp_path / "PN05" / "PN05-1.edf", 2, (1, 0, 0))
    with pytest.raises(DataError, match="holds EDF files but no Seizures-list-PN05.txt"):
        load_siena(tmp_path)


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("Start time: 00.00.01 ", "Onset: 00.00.01", "unexpected line 'Onset: 00.00.01'"),
        ("Start time: 00.00.01 ", "Start time: 24.00.01", "'24.00.01' is not a clock time"),
        ("End time: 00.00.04", "", "lacks 'Seizure end time'"),
        ("Registration end time:  00.00.06", "", "lacks 'Registration end time'"),
        ("End time: 00.00.04", "End time: 00.00.04\nEnd time: 0.00.05", "a second 'Seizure end"),
        ("End time: 00.00.04", "End time: 00.00.00", "ends before it starts"),
        ("Data Sampling Rate: 256 Hz", "Sampling: 256", "unexpected line 'Sampling: 256'"),
        (" PN01 ", " PN07 ", "first line says PN07"),
    ],
)
def test_malformed_seizure_list(tree, old, new, message):
    path = tree / "PN01" / "Seizures-list-PN01.txt"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(DataError, match=message) as err:
        load_siena(tree)
    assert str(path) in str(err.value)
    if "first line" not in message:
        assert ", line " in str(err.value)


def test_edf_disagreeing_with_list(tree):
    write_edf(tree / "PN01" / "PN01-1.edf", 8, (23, 59, 58), sfreq=128)
    with pytest.raises(DataError, match="sampling rate 128 Hz, the seizure list says 256 Hz"):
        load_siena(tree)
    write_edf(tree / "PN01" / "PN01-1.edf", 8, (23, 59, 58), labels=EEG[:-1])
    with pytest.raises(DataError, match="lacks channel\\(s\\) T6 that the seizure list names"):
        load_siena(tree)


def test_malformed_subject_info(tree):
    path = tree / "subject_info.csv"
    path.write_text(SUBJECT_INFO.replace("Female", "unknown"))
    with pytest.raises(DataError, match="line 2: gender 'unknown'"):
        load_siena(tree)
    path.write_text(SUBJECT_INFO.replace("WIAS", "GTC"))
    with pytest.raises(DataError, match="seizure class 'GTC'"):
        load_siena(tree)


def test_content_hash_of_the_fixture_is_pinned(tree):
    """The dataset version that split files and the window cache are keyed by."""
    assert load_siena(tree).content_hash() == ("ab690754bc7b13cb0d32cdeede1b73a2358c16334b4a66e42635b4cf30007fcd")
