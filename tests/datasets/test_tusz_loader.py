"""TUSZ v2.0.x index: the real .csv_bi samples, generated folders in its layout, the writer."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from benchmark.datasets.tusz import (
    TUSZ_CHANNELS,
    load_tusz,
    read_tusz_csv,
    write_tusz_annotations,
)
from benchmark.errors import DataError
from benchmark.index import Seizure

edfio = pytest.importorskip("edfio")

TCP = ("FP1-F7", "F7-T3", "T3-T5", "T5-O1", "FP2-F8", "F8-T4", "T4-T6", "T6-O2")
# Sessions by hand from the six real files: number of TERM,seiz rows and '# duration'.
REAL = {
    "aaaaapks_s012_t001": (52, 2348.0),
    "aaaaapks_s012_t002": (6, 349.0),
    "aaaaapks_s014_t001": (5, 164.0),
    "aaaaapks_s017_t000": (7, 300.0),
    "aaaaapks_s017_t002": (7, 771.0),
    "aaaaapks_s017_t003": (5, 601.0),
}


def write_edf(path, seconds, reference="REF", drop=(), sfreq=256):
    """An EDF with TUSZ-style labels ('EEG FP1-REF') for the 19 electrodes plus A1/A2."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    labels = [f"EEG {c}-{reference}" for c in TUSZ_CHANNELS + ("A1", "A2") if c not in drop]
    edfio.Edf(
        [edfio.EdfSignal(rng.normal(0, 20, seconds * sfreq), sampling_frequency=sfreq, label=lab) for lab in labels]
    ).write(path)
    return path


def recording_dir(root, part, subject, session, montage):
    return root / "edf" / part / subject / session / montage


@pytest.fixture
def tree(tmp_path):
    """Two subjects in the v2.0.x layout, EDFs included (4-6 s at 256 Hz)."""
    root = tmp_path / "tusz"
    d1 = recording_dir(root, "train", "aaaaaaac", "s001_2002", "02_tcp_le")
    e1 = write_edf(d1 / "aaaaaaac_s001_t000.edf", 4, reference="LE")
    write_tusz_annotations(e1, 4.0, [(1.0, 2.5, "fnsz")], TCP)
    d2 = recording_dir(root, "train", "aaaaaaac", "s002_2003", "01_tcp_ar")
    e2 = write_edf(d2 / "aaaaaaac_s002_t001.edf", 6)
    write_tusz_annotations(e2, 6.0, [(0.5, 1.0, "gnsz"), (2.0, 3.0, "mysz")], TCP)
    d3 = recording_dir(root, "eval", "aaaaaaad", "s001_2010", "03_tcp_ar_a")
    e3 = write_edf(d3 / "aaaaaaad_s001_t000.edf", 4, drop=("O2",))
    write_tusz_annotations(e3, 4.0, [], TCP)
    return root


# -- the real annotation samples ------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_dir(shared_data):
    return shared_data / "format-samples" / "tuh"


def test_real_csv_bi_samples(real_dir):
    index = load_tusz(real_dir)
    assert index.dataset == "tusz" and not index.synthetic and index.channels == TUSZ_CHANNELS
    assert index.patient_ids == ["aaaaapks"]
    p = index.patient("aaaaapks")
    assert [r.recording_id for r in p.recordings] == list(REAL)
    for r in p.recordings:
        n, duration = REAL[r.recording_id]
        assert (len(r.seizures), r.duration) == (n, duration)
        assert r.file == f"{r.recording_id}.edf" and r.start is None and r.sfreq is None
        assert all(s.type is None for s in r.seizures)  # .csv_bi only: no types
        assert all(0 <= s.onset < s.offset <= duration for s in r.seizures)
    assert index.n_seizures == 82
    first = index.recording("aaaaapks", "aaaaapks_s012_t001").seizures
    assert first[0] == Seizure(4.9724, 36.3315) and first[-1] == Seizure(2294.9724, 2346.5856)
    assert index.recording("aaaaapks", "aaaaapks_s017_t002").seizures[0] == Seizure(1.0, 13.1515)
    assert p.info == {"montages": dict.fromkeys(REAL), "sets": []}
    assert index.exclusions == ()
    assert any("6 absent" in n for n in index.notes)


def test_real_samples_hash_is_stable_and_independent_of_location(real_dir, tmp_path):
    a = load_tusz(real_dir)
    copy = tmp_path / "deep" / "copy"
    shutil.copytree(real_dir, copy)
    b = load_tusz(tmp_path)  # found at any depth
    assert a.content_hash() == load_tusz(real_dir).content_hash()
    assert b.recording("aaaaapks", "aaaaapks_s012_t001").file == "deep/copy/aaaaapks_s012_t001.edf"
    assert [len(r.seizures) for _, r in b.iter_recordings()] == [n for n, _ in REAL.values()]


def test_real_terms_typed_by_the_channel_events_that_overlap_most(real_dir, tmp_path):
    d = recording_dir(tmp_path, "dev", "aaaaapks", "s017_2010", "01_tcp_ar")
    d.mkdir(parents=True)
    shutil.copy(real_dir / "aaaaapks_s017_t003.csv_bi", d)
    # First real seizure is 45.9697-70.5152 s: FNSZ overlaps it for 24.5 s on one channel, CPSZ
    # for 20.5 + 14.0 s on two, so CPSZ wins; the other four terms overlap only GNSZ.
    rows = [
        "FP1-F7,0.0000,45.9697,bckg,1.0000",
        "FP1-F7,45.9697,70.5152,fnsz,1.0000",
        "FP1-F7,70.5152,601.0000,bckg,1.0000",
        "F7-T3,0.0000,50.0000,bckg,1.0000",
        "F7-T3,50.0000,70.5152,cpsz,1.0000",
        "F7-T3,70.5152,194.0000,bckg,1.0000",
        "F7-T3,194.0000,560.0000,gnsz,1.0000",
        "F7-T3,560.0000,601.0000,bckg,1.0000",
        "T3-T5,45.9697,60.0000,cpsz,1.0000",
    ]
    head = "# version = csv_v1.0.0\n# bname = aaaaapks_s017_t003\n# duration = 601.00 secs\n#\n"
    (d / "aaaaapks_s017_t003.csv").write_text(
        head + "channel,start_time,stop_time,label,confidence\n" + "\n".join(rows) + "\n"
    )
    r = load_tusz(tmp_path).recording("aaaaapks", "aaaaapks_s017_t003")
    assert [s.type for s in r.seizures] == ["CPSZ"] + ["GNSZ"] * 4
    assert (r.seizures[0].onset, r.seizures[-1].offset) == (45.9697, 551.2424)  # .csv_bi bounds
    assert load_tusz(tmp_path).patient("aaaaapks").info == {
        "montages": {"aaaaapks_s017_t003": "tcp_ar"},
        "sets": ["dev"],
    }


# -- generated folders ----------------------------------------------------------------------------
def test_generated_tree(tree):
    index = load_tusz(tree)
    assert index.patient_ids == ["aaaaaaac", "aaaaaaad"]
    c = index.patient("aaaaaaac")
    r1, r2 = c.recordings
    assert r1.file == "edf/train/aaaaaaac/s001_2002/02_tcp_le/aaaaaaac_s001_t000.edf"
    assert r1.seizures == (Seizure(1.0, 2.5, "FNSZ"),)
    assert (r1.duration, r1.sfreq, r1.start) == (4.0, 256.0, None)
    assert r1.channels[0] == "EEG FP1-LE" and len(r1.channels) == 21
    # MYSZ is dropped, with a seizure and a recording exclusion; GNSZ stays.
    assert r2.seizures == (Seizure(0.5, 1.0, "GNSZ"),)
    scopes = {(e.scope, e.recording) for e in index.exclusions}
    assert {("seizure", "aaaaaaac_s002_t001"), ("recording", "aaaaaaac_s002_t001")} <= scopes
    mysz = next(e for e in index.exclusions if e.scope == "seizure")
    assert "MYSZ" in mysz.reason and "2-3 s" in mysz.reason
    assert c.info == {
        "montages": {"aaaaaaac_s001_t000": "tcp_le", "aaaaaaac_s002_t001": "tcp_ar"},
        "sets": ["train"],
    }
    d = index.patient("aaaaaaad")
    assert d.info["sets"] == ["eval"] and d.info["montages"] == {"aaaaaaad_s001_t000": "tcp_ar_a"}
    lacking = [e for e in index.exclusions if e.recording == "aaaaaaad_s001_t000"]
    assert len(lacking) == 1 and "lacks channel(s) O2" in lacking[0].reason
    assert index.n_seizures == 2 and len(index.exclusions) == 3


def test_drop_types_can_be_empty_and_checks_can_be_skipped(tree):
    kept = load_tusz(tree, drop_types=())
    assert kept.recording("aaaaaaac", "aaaaaaac_s002_t001").seizures == (
        Seizure(0.5, 1.0, "GNSZ"),
        Seizure(2.0, 3.0, "MYSZ"),
    )
    assert not any(e.scope == "seizure" for e in kept.exclusions)
    lazy = load_tusz(tree, check_edf=False)
    assert all(r.sfreq is None and r.channels == () for _, r in lazy.iter_recordings())
    assert not any("lacks channel" in e.reason for e in lazy.exclusions)
    assert lazy.n_seizures == 2


def test_content_hash_is_deterministic_and_follows_the_annotations(tree):
    h = load_tusz(tree).content_hash()
    assert load_tusz(tree).content_hash() == h
    assert load_tusz(tree, dataset_name="other").content_hash() != h
    edf = next(tree.rglob("aaaaaaac_s001_t000.edf"))
    write_tusz_annotations(edf, 4.0, [(1.0, 2.0, "fnsz")], TCP)
    assert load_tusz(tree).content_hash() != h


def test_csv_only_seizures_are_the_union_over_channels(tree):
    edf = next(tree.rglob("aaaaaaac_s001_t000.edf"))
    edf.with_suffix(".csv_bi").unlink()
    csv = edf.with_suffix(".csv")
    lines = csv.read_text().splitlines()[:6] + [
        "FP1-F7,0.0000,1.0000,bckg,1.0000",
        "FP1-F7,1.0000,2.0000,fnsz,1.0000",
        "FP1-F7,2.0000,4.0000,bckg,1.0000",
        "F7-T3,0.0000,1.5000,bckg,1.0000",
        "F7-T3,1.5000,3.0000,fnsz,1.0000",
        "F7-T3,3.0000,3.2000,bckg,1.0000",
        "F7-T3,3.2000,3.5000,spsz,1.0000",
    ]
    csv.write_text("\n".join(lines) + "\n")
    r = load_tusz(tree).recording("aaaaaaac", "aaaaaaac_s001_t000")
    assert r.seizures == (Seizure(1.0, 3.0, "FNSZ"), Seizure(3.2, 3.5, "SPSZ"))


def test_csv_bi_only_gives_untyped_seizures(tree):
    edf = next(tree.rglob("aaaaaaac_s001_t000.edf"))
    edf.with_suffix(".csv").unlink()
    r = load_tusz(tree).recording("aaaaaaac", "aaaaaaac_s001_t000")
    assert r.seizures == (Seizure(1.0, 2.5, None),)


def test_edf_without_annotations_is_an_exclusion(tree):
    d = recording_dir(tree, "dev", "aaaaaaae", "s001_2005", "01_tcp_ar")
    write_edf(d / "aaaaaaae_s001_t000.edf", 2)
    index = load_tusz(tree)
    assert "aaaaaaae" not in index.patient_ids
    (e,) = [e for e in index.exclusions if e.patient == "aaaaaaae"]
    assert e.scope == "recording" and "no .csv or .csv_bi" in e.reason


def test_synthetic_marker(tree):
    (tree / "SYNTHETIC.json").write_text("{}")
    index = load_tusz(tree)
    assert index.synthetic and any("SYNTHETIC" in n for n in index.notes)


# -- the writer -----------------------------------------------------------------------------------
def test_writer_round_trip(tmp_path):
    edf = tmp_path / "aaaaaaaf_s003_t002.edf"
    events = [(12.25, 40.5, "tcsz"), (0.0, 3.125, "absz"), (90.0, 100.0, "cpsz")]
    csv, bi = write_tusz_annotations(edf, 100.0, events, TCP)
    assert (csv.name, bi.name) == ("aaaaaaaf_s003_t002.csv", "aaaaaaaf_s003_t002.csv_bi")
    head = bi.read_text().splitlines()[:6]
    assert head == [
        "# version = csv_v1.0.0",
        "# bname = aaaaaaaf_s003_t002",
        "# duration = 100.00 secs",
        "# montage_file = $NEDC_NFC/lib/nedc_eas_default_montage.txt",
        "#",
        "channel,start_time,stop_time,label,confidence",
    ]
    terms = read_tusz_csv(bi).events
    assert [(e.start, e.stop, e.label) for e in terms] == [
        (0.0, 3.125, "seiz"),
        (3.125, 12.25, "bckg"),
        (12.25, 40.5, "seiz"),
        (40.5, 90.0, "bckg"),
        (90.0, 100.0, "seiz"),
    ]
    assert bi.read_text().splitlines()[6] == "TERM,0.0000,3.1250,seiz,1.0000"
    chan = read_tusz_csv(csv).events
    assert len(chan) == len(TCP) * 5 and {e.channel for e in chan} == set(TCP)
    r = load_tusz(tmp_path).recording("aaaaaaaf", "aaaaaaaf_s003_t002")
    assert [(s.onset, s.offset, s.type) for s in r.seizures] == [
        (0.0, 3.125, "ABSZ"),
        (12.25, 40.5, "TCSZ"),
        (90.0, 100.0, "CPSZ"),
    ]
    assert r.duration == 100.0


def test_writer_rejects_overlapping_or_outside_events(tmp_path):
    edf = tmp_path / "aaaaaaaf_s001_t000.edf"
    with pytest.raises(ValueError, match="overlaps"):
        write_tusz_annotations(edf, 10.0, [(1, 5, "fnsz"), (4, 6, "fnsz")], TCP)
    with pytest.raises(ValueError, match="outside"):
        write_tusz_annotations(edf, 10.0, [(8, 11, "fnsz")], TCP)
    with pytest.raises(ValueError, match="lower-case"):
        write_tusz_annotations(edf, 10.0, [(1, 2, "FNSZ")], TCP)


# -- errors ---------------------------------------------------------------------------------------
def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_tusz(tmp_path / "nope")
    (tmp_path / "notes.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="no TUSZ annotation file"):
        load_tusz(tmp_path)


@pytest.mark.parametrize(
    "row, message",
    [
        ("TERM,12.0,abc,seiz,1.0000", "stop_time 'abc' is not a number"),
        ("TERM,12.0,20.0,seiz", "4 comma-separated fields"),
        ("TERM,20.0,12.0,seiz,1.0000", "end after it starts"),
        ("TERM,12.0,20.0,fnsz,1.0000", "channel TERM with label seiz or bckg"),
        ("TERM,12.0,20.0,seiz,7", "confidence 7 is outside"),
        ("TERM,12.0,900.0,seiz,1.0000", "after the recording's 601 s"),
    ],
)
def test_malformed_line_names_file_and_line(real_dir, tmp_path, row, message):
    path = tmp_path / "aaaaapks_s017_t003.csv_bi"
    lines = (real_dir / path.name).read_text().splitlines()
    lines.insert(8, row)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=message) as err:
        load_tusz(tmp_path)
    assert f"{path}, line 9" in str(err.value)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_header_errors(tree):
    bi = next(tree.rglob("aaaaaaac_s001_t000.csv_bi"))
    text = bi.read_text()
    bi.write_text(text.replace("# duration = 4.00 secs\n", ""))
    with pytest.raises(DataError, match="lacks the '# duration = N secs' header"):
        load_tusz(tree)
    bi.write_text(text.replace("channel,start_time", "chan,start"))
    with pytest.raises(DataError, match="expected the column line"):
        load_tusz(tree)
    bi.write_text(text.replace("csv_v1.0.0", "csv_v9"))
    with pytest.raises(DataError, match="only TUSZ csv_v1.0.0"):
        load_tusz(tree)
    bi.write_text(text.replace("# bname = aaaaaaac_s001_t000", "# bname = aaaaaaac_s009_t000"))
    with pytest.raises(DataError, match="names recording 'aaaaaaac_s009_t000'"):
        load_tusz(tree)


def test_edf_disagreeing_with_annotation_duration(tree):
    edf = next(tree.rglob("aaaaaaac_s001_t000.edf"))
    write_edf(edf, 8, reference="LE")
    with pytest.raises(DataError, match="EDF holds 8 s but .* says 4 s"):
        load_tusz(tree)
    assert load_tusz(tree, check_edf=False).n_recordings == 3  # not checked when asked not to


def test_recording_stored_twice(tree):
    src = next(tree.rglob("aaaaaaac_s001_t000.csv_bi"))
    (tree / "extra").mkdir()
    shutil.copy(src, tree / "extra")
    with pytest.raises(DataError, match="appears twice"):
        load_tusz(tree)


def test_content_hash_of_the_fixture_is_pinned(tree):
    """The dataset version that split files and the window cache are keyed by."""
    assert load_tusz(tree).content_hash() == ("13a6b147582f298e20685c1619500edc2a4d8d18e93a56f4f03a5733e3e5ad3e")
