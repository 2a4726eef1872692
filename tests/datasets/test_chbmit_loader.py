"""CHB-MIT index: real summaries, timeline rules, EDF cross-checks, registry and describe()."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from benchmark.datasets import (
    DATASETS,
    describe,
    excluded_recordings,
    lead_seizures,
    load_dataset,
)
from benchmark.datasets.chbmit import CHBMIT_CHANNELS, load_chbmit, place_on_timeline
from benchmark.errors import DataError, UnknownNameError
from benchmark.index import Patient, Recording, RecordingIndex, Seizure

FULL_MONTAGE = CHBMIT_CHANNELS + ("P7-T7", "T7-FT9", "FT9-FT10", "FT10-T8", "T8-P8")


# -- a tiny CHB-MIT-shaped folder -------------------------------------------------------------
def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def write_case(root, pid, files, channels=FULL_MONTAGE):
    """files: (name, start_clock_s, duration_s, [(onset, offset), ...])."""
    lines = ["Data Sampling Rate: 256 Hz", "*" * 25, "", "Channels in EDF Files:", "*" * 22]
    lines += [f"Channel {i}: {c}" for i, c in enumerate(channels, 1)] + [""]
    for name, start, duration, seizures in files:
        lines += [f"File Name: {name}", f"File Start Time: {_clock(start)}"]
        lines += [f"File End Time: {_clock(start + duration)}"]
        lines += [f"Number of Seizures in File: {len(seizures)}"]
        for k, (on, off) in enumerate(seizures, 1):
            lines += [f"Seizure {k} Start Time: {on} seconds", f"Seizure {k} End Time: {off} seconds"]
        lines.append("")
    (root / pid).mkdir(parents=True, exist_ok=True)
    (root / pid / f"{pid}-summary.txt").write_text("\n".join(lines))


def write_edf(path, seconds, channels=FULL_MONTAGE):
    edfio = pytest.importorskip("edfio")
    rng = np.random.default_rng(zlib.crc32(str(path).encode()))  # one signal per file
    signals = [edfio.EdfSignal(rng.normal(0, 30, seconds * 256), sampling_frequency=256, label=c) for c in channels]
    edfio.Edf(signals).write(path)


@pytest.fixture
def mini(tmp_path):
    root = tmp_path / "chbmit"
    write_case(root, "chb01", [("chb01_01.edf", 23 * 3600 + 59 * 60 + 50, 20, [(3, 9)]), ("chb01_02.edf", 15, 20, [])])
    write_case(root, "chb02", [("chb02_01.edf", 8 * 3600, 20, [])])
    (root / "SUBJECT-INFO").write_text("Case\tGender\tAge (years)\n\nchb01\tF\t11\nchb02\tM\t 1.5\n")
    return root


# -- the real summaries ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real(shared_data):
    return load_chbmit(shared_data / "chbmit")


def test_real_index_totals_and_identity(real):
    assert real.n_seizures == 198
    assert real.n_recordings == 686  # every file in RECORDS
    assert real.patient_ids == [f"chb{i:02d}" for i in range(1, 25)]
    assert real.channels == CHBMIT_CHANNELS and len(CHBMIT_CHANNELS) == 18
    assert real.patient("chb21").subject_id == "chb01"
    assert real.patient("chb01").subject_id == "chb01"
    assert {p.subject_id for p in real.patients} == set(real.patient_ids) - {"chb21"}
    assert real.patient("chb05").info == {"sex": "F", "age_years": 7.0}
    r = real.recording("chb01", "chb01_03")
    assert r.file == "chb01/chb01_03.edf" and r.sfreq == 256.0 and r.duration == 3600.0
    assert r.seizures == (Seizure(2996.0, 3036.0),)
    assert real.recording("chb02", "chb02_16+").file == "chb02/chb02_16+.edf"
    assert not real.synthetic and real.dataset == "chbmit"


def test_real_timeline_handles_wraps_and_out_of_order_files(real):
    def start(pid, rid):
        return real.recording(pid, rid).start

    for p in real.patients:
        placed = [r for r in p.recordings if r.on_timeline]
        assert [r.start for r in placed] == sorted(r.start for r in placed)
        assert not placed or placed[0].start == 0.0
        for a, b in zip(placed, placed[1:]):
            assert b.start >= a.end, (a.recording_id, b.recording_id)
    # 23:44:29 -> 24:44:29, next file 00:44:37: 8 s later, on the next day.
    assert start("chb01", "chb01_14") - start("chb01", "chb01_13") == 3600 + 8
    assert real.recording("chb04", "chb04_02").duration == 4 * 3600  # 22:02:15 -> 26:02:15
    # chb03_25 fills the gap between chb03_23 and chb03_24 (listed after chb03_24).
    assert start("chb03", "chb03_23") < start("chb03", "chb03_25") < start("chb03", "chb03_24")
    assert start("chb03", "chb03_24") - real.recording("chb03", "chb03_25").end == 8
    # chb18_36 (08:45:57) cannot overlap chb18_35 (08:42:06-09:42:06): it is a day later.
    assert start("chb18", "chb18_36") - start("chb18", "chb18_35") == 86400 + 231


def test_real_exclusions(real):
    chb24 = real.patient("chb24")
    assert chb24.n_seizures == 16 and len(chb24.recordings) == 22
    assert all(r.start is None and r.duration is None for r in chb24.recordings)
    [patient_excl] = [e for e in real.exclusions if e.scope == "patient"]
    assert patient_excl.patient == "chb24" and "timeline" in patient_excl.reason
    assert excluded_recordings(real) == {("chb12", f"chb12_{n}") for n in (27, 28, 29)}
    assert "FP1-F7" in real.exclusions[0].reason
    with_timeline = excluded_recordings(real, needs_timeline=True)
    assert len(with_timeline) == 3 + 22
    # Excluded recordings stay in the index with their seizures.
    assert real.recording("chb12", "chb12_27").seizures
    assert any("0 present, 686 absent" in n for n in real.notes)


def test_index_is_deterministic_and_round_trips(real, shared_data, tmp_path):
    again = load_chbmit(shared_data / "chbmit", check_edf=False)
    assert again.content_hash() == real.content_hash()
    real.save(tmp_path / "index.json")
    assert RecordingIndex.load(tmp_path / "index.json").content_hash() == real.content_hash()


def test_describe_counts_lead_seizures(real):
    d = describe(real, sop_minutes=(10, 30), sph_minutes=0)
    assert d["totals"]["seizures"] == 198 and d["totals"]["recordings_excluded"] == 3
    assert d["totals"]["patients"] == 24 and d["totals"]["subjects"] == 23
    by_id = {p["patient_id"]: p for p in d["patients"]}
    assert by_id["chb24"]["lead_seizures"] == {10: None, 30: None}
    chb01 = real.patient("chb01")
    assert by_id["chb01"]["lead_seizures"][30] == len(lead_seizures(chb01, 1800, 0))
    for p in d["patients"]:
        if p["lead_seizures"][10] is not None:  # a longer SOP can only merge seizures
            assert p["seizures"] >= p["lead_seizures"][10] >= p["lead_seizures"][30] >= 1
    assert {e["patient"] for e in d["exclusions"]} == {"chb12", "chb24"}


# -- lead seizures, timeline placement ----------------------------------------------------------
def test_lead_seizures_rule():
    rec = Recording(
        "r1", "r1.edf", 0.0, 10_000.0, 256.0, (), (Seizure(1000, 1060), Seizure(1500, 1530), Seizure(4000, 4050))
    )
    later = Recording("r2", "r2.edf", 20_000.0, 100.0, 256.0, (), (Seizure(10, 20),))
    off = Recording("r3", "r3.edf", None, None, 256.0, (), (Seizure(5, 6),))
    p = Patient("p", (rec, later, off))
    # 1500 is 440 s after the first seizure ends; 4000 is 2470 s after; r2's 16000 s after.
    assert [s[0] for s in lead_seizures(p, 600)] == [1000, 4000, 20_010]
    assert [s[0] for s in lead_seizures(p, 300)] == [1000, 1500, 4000, 20_010]
    assert [s[0] for s in lead_seizures(p, 1800, 900)] == [1000, 20_010]
    assert lead_seizures(Patient("q", (off,)), 600) == []


def test_place_on_timeline_rules():
    h = 3600
    # Midnight wrap: 23:00 for 1 h, then 00:00:10.
    assert place_on_timeline([(23 * h, h), (10, h)]) == [0.0, h + 10.0]
    # Clock past 24:00 in a start is reduced modulo a day.
    assert place_on_timeline([(23 * h, h), (24 * h + 10, h)]) == [0.0, h + 10.0]
    # Out-of-order file that fills a gap to the second goes back into it.
    assert place_on_timeline([(10 * h, h), (12 * h, h), (11 * h + 5, h - 10)]) == [0, 2 * h, h + 5]
    # Same clock order but overlapping the previous file: next day.
    assert place_on_timeline([(8 * h, h), (8 * h + 300, h)]) == [0.0, 86400 + 300.0]
    # Earlier clock and no snug gap: next day, even if it would fit a large gap.
    assert place_on_timeline([(10 * h, h), (20 * h, h), (12 * h, h)]) == [0, 10 * h, 86400 + 2 * h]


# -- EDF cross-check and folder handling --------------------------------------------------------
def test_hash_does_not_depend_on_edfs_and_headers_are_checked(mini):
    without = load_chbmit(mini)
    assert without.n_seizures == 1 and without.patient("chb01").info["age_years"] == 11.0
    # chb01_02 at 00:00:15 follows chb01_01 (23:59:50 + 20 s) across midnight.
    assert without.recording("chb01", "chb01_02").start == 25.0
    write_edf(mini / "chb01" / "chb01_01.edf", 20)
    write_edf(mini / "chb01" / "chb01_02.edf", 21)  # within the 2-s tolerance
    with_edf = load_chbmit(mini)
    assert with_edf.content_hash() == without.content_hash()
    assert any("2 present, 1 absent" in n for n in with_edf.notes)


def test_edf_duration_mismatch_is_an_error(mini):
    write_edf(mini / "chb01" / "chb01_01.edf", 25)
    with pytest.raises(DataError, match=r"chb01_01\.edf: EDF holds 25 s .* says 20 s"):
        load_chbmit(mini)
    assert load_chbmit(mini, check_edf=False).n_recordings == 3


def test_edf_missing_benchmark_channel_is_an_error(mini):
    write_edf(mini / "chb02" / "chb02_01.edf", 20, [c for c in FULL_MONTAGE if c != "FZ-CZ"])
    with pytest.raises(DataError, match=r"chb02_01\.edf: EDF lacks channel\(s\) FZ-CZ"):
        load_chbmit(mini)


def test_records_file_adds_files_missing_from_the_summary(mini):
    (mini / "RECORDS").write_text("chb01/chb01_01.edf\nchb01/chb01_02.edf\nchb01/chb01_03.edf\nchb02/chb02_01.edf\n")
    index = load_chbmit(mini)
    extra = index.recording("chb01", "chb01_03")
    assert extra.start is None and extra.seizures == () and extra.channels == FULL_MONTAGE
    assert ("chb01", "chb01_03") in excluded_recordings(index)
    (mini / "RECORDS-WITH-SEIZURES").write_text("chb01/chb01_03.edf\n")
    with pytest.raises(DataError, match="RECORDS-WITH-SEIZURES but not in chb01-summary.txt"):
        load_chbmit(mini)


def test_missing_or_empty_folder_errors_say_how_to_get_data(tmp_path):
    with pytest.raises(DataError, match="does not exist.*physionet.org/content/chbmit/1.0.0.*synthetic"):
        load_chbmit(tmp_path / "nowhere")
    (tmp_path / "empty" / "chb01").mkdir(parents=True)
    with pytest.raises(DataError, match="no chbNN/chbNN-summary.txt found"):
        load_chbmit(tmp_path / "empty")


def test_registry(mini, monkeypatch):
    assert {
        "chbmit",
        "chbmit-synthetic",
        "edf-folder",
        "tusz",
        "tusz-synthetic",
        "siena",
        "helsinki",
        "bids",
        "video-folder",
        "video-synthetic",
    } == set(DATASETS)
    assert DATASETS["chbmit-synthetic"].synthetic and not DATASETS["chbmit"].synthetic
    assert load_dataset("chbmit", mini).content_hash() == load_chbmit(mini).content_hash()
    with pytest.raises(UnknownNameError, match="Did you mean 'chbmit'"):
        load_dataset("chb-mit")
    with pytest.raises(DataError, match="needs its data folder"):
        load_dataset("chbmit")
    with pytest.raises(TypeError):
        DATASETS["x"] = DATASETS["chbmit"]  # the registry is read-only


def test_synthetic_dataset_is_loaded_lazily_and_labelled(mini, monkeypatch):
    import sys
    import types

    calls = []
    fake = types.ModuleType("benchmark.datasets.synthetic")

    def ensure_synthetic(data_dir=None, config=None, progress=False):
        calls.append((data_dir, config, progress))
        return mini

    fake.ensure_synthetic = ensure_synthetic
    monkeypatch.setitem(sys.modules, "benchmark.datasets.synthetic", fake)
    index = load_dataset("chbmit-synthetic", config="cfg")
    assert calls == [(None, "cfg", False)]
    assert index.synthetic and index.dataset == "chbmit-synthetic"
    assert index.content_hash() != load_chbmit(mini).content_hash()  # the name is hashed


def test_generated_folder_loaded_as_chbmit_is_still_labelled_synthetic(tiny_synthetic):
    index = load_chbmit(tiny_synthetic)
    assert index.dataset == "chbmit" and index.synthetic
    assert any("SYNTHETIC.json" in note for note in index.notes)
