"""The synthetic CHB-MIT-shaped dataset: layout, format, determinism, signal content, atomicity."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import edfio
import mne
import numpy as np
import pytest
from scipy.signal import welch

from benchmark.datasets.chbmit import load_chbmit
from benchmark.datasets.synthetic import SyntheticConfig, ensure_synthetic, generate
from benchmark.datasets.synthetic import chbmit as synthetic
from benchmark.datasets.synthetic.eeg import CHBMIT_CHANNELS, make_profile, synthesize_recording
from benchmark.errors import BenchmarkError, DataError

SFREQ = 256
# Two patients (one per seizure-line wording), two seizures each (one long, one short recording).
TINY = SyntheticConfig(
    n_patients=2,
    seizures_per_patient=2,
    interictal_recordings=1,
    seizure_recording_minutes=3,
    short_seizure_recording_minutes=2,
    interictal_recording_minutes=1,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return ensure_synthetic(tmp_path_factory.mktemp("synth") / "ds", TINY)


def _band_power(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    f, p = welch(x, fs=SFREQ, nperseg=2 * SFREQ, axis=-1)
    return p[..., (f >= lo) & (f < hi)].mean(axis=-1)


def _clock(text: str) -> int:
    h, m, s = (int(v) for v in text.split(":"))
    return 3600 * h + 60 * m + s


# -- layout and text formats --------------------------------------------------------------------
def test_layout_and_text_files(tiny):
    records = (tiny / "RECORDS").read_text().splitlines()
    assert len(records) == TINY.n_patients * (TINY.seizures_per_patient + TINY.interictal_recordings)
    assert all(re.fullmatch(r"chb0[12]/chb0[12]_\d\d\.edf", r) for r in records)
    assert all((tiny / r).is_file() for r in records)
    with_sz = (tiny / "RECORDS-WITH-SEIZURES").read_text().split()
    assert set(with_sz) < set(records) and len(with_sz) == TINY.n_patients * TINY.seizures_per_patient

    info = (tiny / "SUBJECT-INFO").read_text()
    assert info.startswith("Case\tGender\tAge (years)\n\n")
    assert re.fullmatch(r"(chb0[12]\t[FM]\t[ \d]\d\n){2}", info.split("\n\n", 1)[1])

    marker = json.loads((tiny / "SYNTHETIC.json").read_text())
    assert marker["synthetic"] is True and "SYNTHETIC" in marker["note"]
    assert marker["config"] == dataclasses.asdict(TINY) and marker["key"] == TINY.key()
    assert set(marker["sha256"]) == {p.relative_to(tiny).as_posix() for p in tiny.rglob("*") if p.is_file()} - {
        "SYNTHETIC.json"
    }
    assert [p["difficulty"] for p in marker["patients"].values()] == ["easy", "medium"]


def test_summary_header_matches_real_chbmit(tiny, shared_data):
    ours = (tiny / "chb01" / "chb01-summary.txt").read_text().splitlines()
    real = (shared_data / "chbmit" / "chb01" / "chb01-summary.txt").read_text().splitlines()
    n = real.index("") + 1 + real[real.index("") + 1 :].index("")  # sampling rate + channel sections
    assert ours[:n] == real[:n]


def test_summaries_use_both_wordings_and_cross_midnight(tiny):
    texts = {p: (tiny / p / f"{p}-summary.txt").read_text() for p in ("chb01", "chb02")}
    assert "Seizure Start Time:" in texts["chb01"] and "Seizure 1 Start Time:" not in texts["chb01"]
    assert "Seizure 1 Start Time:" in texts["chb02"] and "Seizure Start Time:" not in texts["chb02"]
    for text in texts.values():
        starts = [_clock(t) for t in re.findall(r"File Start Time: (\S+)", text)]
        ends = [_clock(t) for t in re.findall(r"File End Time: (\S+)", text)]
        assert all(re.fullmatch(r"\d\d:\d\d:\d\d", t) for t in re.findall(r"File Start Time: (\S+)", text))
        # Midnight passes either inside a file (end past 24:00) or between files (clock wraps).
        assert max(ends) >= 86400 or any(b < a for a, b in zip(starts, starts[1:]))


# -- through the loader ----------------------------------------------------------------------------
def test_loader_reads_seizures_recordings_and_timeline(tiny):
    index = load_chbmit(tiny, dataset_name="chbmit-synthetic", synthetic=True)
    assert index.synthetic and index.dataset == "chbmit-synthetic"
    assert index.patient_ids == ["chb01", "chb02"]
    assert index.n_seizures == TINY.n_patients * TINY.seizures_per_patient
    assert index.n_recordings == TINY.n_patients * (TINY.seizures_per_patient + TINY.interictal_recordings)
    assert not index.exclusions
    marker = json.loads((tiny / "SYNTHETIC.json").read_text())
    for p in index.patients:
        assert p.info["sex"] == marker["patients"][p.patient_id]["sex"]
        starts = [r.start for r in p.recordings]
        assert starts == sorted(starts) and starts[0] == 0
        for a, b in zip(p.recordings, p.recordings[1:]):
            assert a.end <= b.start
        lengths = {r.duration for r in p.recordings if r.seizures}
        assert lengths == {60 * TINY.seizure_recording_minutes, 60 * TINY.short_seizure_recording_minutes}
        seizures = p.seizures_on_timeline()
        # Every inter-ictal recording is more than 4 h from every seizure; seizures are 1 h apart.
        for r in (r for r in p.recordings if not r.seizures):
            assert r.duration == 60 * TINY.interictal_recording_minutes
            for on, off, _, _ in seizures:
                assert r.end < on - 4 * 3600 or r.start > off + 4 * 3600
        for (_, off, _, _), (on, _, _, _) in zip(seizures, seizures[1:]):
            assert on - off > 3600
        for r in p.recordings:
            for sz in r.seizures:
                assert 0 < sz.onset < sz.offset < r.duration


def test_edf_readable_by_mne_with_chbmit_header(tiny):
    index = load_chbmit(tiny, dataset_name="chbmit-synthetic", synthetic=True)
    rec = index.recording("chb02", index.patient("chb02").recordings[1].recording_id)
    summary = (tiny / "chb02" / "chb02-summary.txt").read_text()
    clock = re.search(rf"File Name: {rec.recording_id}\.edf\nFile Start Time: (\S+)", summary).group(1)

    raw = mne.io.read_raw_edf(tiny / rec.file, preload=False, verbose="error")
    assert raw.info["sfreq"] == SFREQ and raw.n_times == rec.duration * SFREQ
    expected = list(CHBMIT_CHANNELS)
    expected[14], expected[22] = "T8-P8-0", "T8-P8-1"  # MNE numbers the duplicated label
    assert raw.ch_names == expected
    assert raw.info["meas_date"].strftime("%H:%M:%S") == clock

    edf = edfio.read_edf(tiny / rec.file)
    assert [s.label for s in edf.signals] == list(CHBMIT_CHANNELS)
    sig = edf.signals[0]
    assert (sig.physical_min, sig.physical_max, sig.digital_min, sig.digital_max) == (-3000, 3000, -32767, 32767)
    assert sig.physical_dimension == "uV" and edf.data_record_duration == 1
    assert np.array_equal(edf.signals[14].digital, edf.signals[22].digital)
    data = raw.get_data(picks=[0, 1]) * 1e6  # MNE returns volts
    assert 5 < data.std() < 200  # EEG-like amplitude in µV


# -- determinism ------------------------------------------------------------------------------------
def test_same_config_gives_byte_identical_files(tiny, tmp_path):
    again = generate(tmp_path / "again", TINY)
    files = sorted(p.relative_to(tiny) for p in tiny.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        assert (tiny / rel).read_bytes() == (again / rel).read_bytes(), rel


def test_seed_changes_the_data():
    p = make_profile(0, seed=0)
    a = next(synthesize_recording(p, 20, seed=0, recording_key=1))
    b = next(synthesize_recording(p, 20, seed=1, recording_key=1))
    c = next(synthesize_recording(p, 20, seed=0, recording_key=2))
    assert not np.allclose(a, b) and not np.allclose(a, c)
    assert make_profile(0, seed=0) != make_profile(0, seed=1)


def test_chunking_is_seamless():
    # The overlap-add background must not step at chunk borders: compare the sample-to-sample
    # change across borders with that inside chunks.
    p = make_profile(1, seed=0)
    x = np.concatenate(list(synthesize_recording(p, 64, seed=0, recording_key=3, chunk_s=8)), axis=1)
    assert x.shape == (len(CHBMIT_CHANNELS), 64 * SFREQ)
    step = np.abs(np.diff(x, axis=1))
    borders = np.arange(8, 64, 8) * SFREQ - 1
    assert step[:, borders].mean() < 1.5 * step.mean()


# -- signal content ---------------------------------------------------------------------------------
def test_ictal_discharge_dominates_3_8_hz_in_focus_channels(tiny):
    marker = json.loads((tiny / "SYNTHETIC.json").read_text())
    index = load_chbmit(tiny, dataset_name="chbmit-synthetic", synthetic=True)
    for p in index.patients:
        focus = [CHBMIT_CHANNELS.index(c) for c in marker["patients"][p.patient_id]["focus_channels"]]
        for r in (r for r in p.recordings if r.seizures):
            x = np.stack([s.data for s in edfio.read_edf(tiny / r.file).signals])[focus]
            sz = r.seizures[0]
            ictal = x[:, int(sz.onset * SFREQ) : int(sz.offset * SFREQ)]
            before = x[:, : int(sz.onset * SFREQ)]
            assert np.all(_band_power(ictal, 3, 8) > 4 * _band_power(before, 3, 8))


def _controlled_pair(index: int, lead_s: float = 120.0, onset: float = 240.0):
    """The same recording (same random streams) with and without a seizure at ``onset``."""
    profile = dataclasses.replace(make_profile(index, seed=0), preictal_lead_s=lead_s, preictal_ramp_s=30.0)
    seizure = [(onset, onset + 30.0)]
    with_sz = np.concatenate(list(synthesize_recording(profile, 280, seizure, seed=0, recording_key=1)), 1)
    without = np.concatenate(list(synthesize_recording(profile, 280, (), seed=0, recording_key=1)), 1)
    return profile, with_sz, without


def test_preictal_change_is_subtle_graded_and_confined_to_the_lead_period():
    ratios = {}
    for index in (0, 3):  # easy and near-chance patients
        profile, with_sz, without = _controlled_pair(index)
        # Before the pre-ictal period begins the two recordings are the same numbers: nothing of
        # the coming seizure leaks into earlier EEG.
        assert np.array_equal(with_sz[:, : 120 * SFREQ], without[:, : 120 * SFREQ])
        focus = [CHBMIT_CHANNELS.index(c) for c in profile.focus_channels(2)]
        lo, hi = profile.preictal_band
        pre = slice(150 * SFREQ, 240 * SFREQ)  # after the 30-s ramp, before onset
        ratios[index] = _band_power(with_sz[focus, pre], lo, hi) / _band_power(without[focus, pre], lo, hi)
        ictal = slice(240 * SFREQ, 270 * SFREQ)
        ictal_ratio = _band_power(with_sz[focus, ictal], 3, 8) / _band_power(without[focus, ictal], 3, 8)
        assert np.all(ictal_ratio > 3 * ratios[index])
    assert np.all(ratios[0] > 1.15) and np.all(ratios[0] < 2.5)  # measurable, not glaring
    assert np.all(np.abs(ratios[3] - 1) < 0.08)  # near-chance patient: almost nothing


# -- caching and atomic generation ---------------------------------------------------------------
def test_interrupted_generation_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def failing_write(path, *args):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt  # e.g. Ctrl-C half way
        path.write_bytes(b"partial")

    monkeypatch.setattr(synthetic, "_write_edf", failing_write)
    with pytest.raises(KeyboardInterrupt):
        ensure_synthetic(tmp_path / "ds", TINY)
    assert list(tmp_path.iterdir()) == []


def test_reuses_complete_folder_and_refuses_foreign_ones(tiny, tmp_path, monkeypatch):
    def must_not_generate(*args, **kwargs):
        raise AssertionError("generated again")

    monkeypatch.setattr(synthetic, "generate", must_not_generate)
    assert ensure_synthetic(tiny, TINY) == tiny
    with pytest.raises(DataError, match="synthetic dataset of another config"):
        ensure_synthetic(tiny, dataclasses.replace(TINY, seed=1))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(DataError, match="other files"):
        ensure_synthetic(tmp_path / "mine", TINY)
    broken = tmp_path / "broken"
    shutil.copytree(tiny, broken)
    victim = sorted(broken.glob("chb01/*.edf"))[0]
    victim.unlink()
    with pytest.raises(DataError, match=f"incomplete synthetic dataset \\(missing chb01/{victim.name}"):
        ensure_synthetic(broken, TINY)


def test_default_location_is_keyed_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEIZURE_BENCH_CACHE", str(tmp_path / "cache"))
    assert synthetic.default_cache_dir() == tmp_path / "cache"
    monkeypatch.setattr(synthetic, "generate", lambda out, config, progress=False: out.mkdir(exist_ok=True))
    path = ensure_synthetic(config=TINY)
    assert path == tmp_path / "cache" / "data" / f"chbmit-synthetic-{TINY.key()}"


def test_config_key_and_validation():
    assert SyntheticConfig().key() == SyntheticConfig().key()
    assert len({SyntheticConfig().key(), SyntheticConfig(seed=1).key(), TINY.key()}) == 3
    with pytest.raises(BenchmarkError, match="n_patients"):
        SyntheticConfig(n_patients=0)
    with pytest.raises(BenchmarkError, match="span more than"):
        SyntheticConfig(seizures_per_patient=12)
    assert 6 < SyntheticConfig().hours() < 9


def test_every_generator_shares_one_setup_and_keeps_its_cache_keys():
    from benchmark.datasets.synthetic._setup import GeneratorConfig
    from benchmark.datasets.synthetic.tusz import TuszSyntheticConfig
    from benchmark.datasets.synthetic.video import VideoSyntheticConfig

    configs = (SyntheticConfig(), TuszSyntheticConfig(), VideoSyntheticConfig())
    assert all(isinstance(c, GeneratorConfig) for c in configs)
    # Keys name the cache folders of data generated before: they must not change.
    assert [c.key() for c in configs] == ["fdb66652a2", "affb19aa29", "f64c0d97a6"]
    assert SyntheticConfig(preictal_scale=2.0, seed=4).key() == "e47b53dd0c"
    assert [type(c).DATASET for c in configs] == ["chbmit-synthetic", "tusz-synthetic", "video-synthetic"]
    with pytest.raises(BenchmarkError, match="^invalid video-synthetic config: size must be"):
        VideoSyntheticConfig(size=33)


def test_folder_of_another_generator_is_not_reused(tiny, tmp_path):
    from benchmark.datasets.synthetic._setup import recorded_config
    from benchmark.datasets.synthetic.tusz import TuszSyntheticConfig, ensure_tusz_synthetic

    assert recorded_config(tiny, TuszSyntheticConfig) is None  # a chbmit-synthetic folder
    assert recorded_config(tiny, SyntheticConfig) == TINY
    with pytest.raises(DataError, match="already holds a synthetic dataset of another config"):
        ensure_tusz_synthetic(tiny)
