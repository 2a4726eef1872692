"""The SYNTHETIC TUSZ-layout seizure-type dataset: layout, loader round trip, determinism, caching,
distinct per-type morphologies and learnability of the types across patients."""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import welch

from benchmark.datasets.synthetic import tusz as tusz_synthetic
from benchmark.datasets.synthetic.tusz import (
    EDF_CHANNELS,
    SEIZURE_TYPES,
    TuszSyntheticConfig,
    ensure_tusz_synthetic,
    generate_tusz_synthetic,
    load_tusz_synthetic,
)
from benchmark.datasets.tusz import TUSZ_CHANNELS, load_tusz
from benchmark.edf import EdfReader, read_header
from benchmark.errors import BenchmarkError, DataError
from benchmark.features import band_power

# Seven patients (the fewest that give all seven types two patients each), two 3-min recordings
# each: about 2 s to generate.
TINY = TuszSyntheticConfig(n_patients=7, sessions_per_patient=2, recording_minutes=3)
# Smaller still, for tests that generate several times.
SMALL = TuszSyntheticConfig(
    n_patients=2, seizure_types=("ABSZ", "TCSZ"), sessions_per_patient=1, recording_minutes=2, seizures_per_recording=1
)
TEMPORAL = ("F7", "F8", "T3", "T4", "T5", "T6")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return ensure_tusz_synthetic(tmp_path_factory.mktemp("tusz-synth") / "ds", TINY)


@pytest.fixture(scope="module")
def tiny_index(tiny):
    return load_tusz_synthetic(tiny, config=TINY)


@pytest.fixture(scope="module")
def marker(tiny) -> dict:
    return json.loads((tiny / "SYNTHETIC.json").read_text())


@pytest.fixture(scope="module")
def signals(tiny, tiny_index) -> list[tuple[str, object, np.ndarray, float]]:
    """``(patient_id, recording, x (19, n) µV, sfreq)`` of every recording, read once."""
    out = []
    for p, r in tiny_index.iter_recordings():
        with EdfReader(tiny / r.file, TUSZ_CHANNELS) as edf:
            out.append((p.patient_id, r, edf.read(0, edf.duration).astype(np.float64), edf.sfreq))
    return out


def _read(path: Path) -> np.ndarray:
    with EdfReader(path, TUSZ_CHANNELS) as edf:
        return edf.read(0, edf.duration)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- layout, files, marker --------------------------------------------------------------------------
def test_layout_edf_headers_and_marker(tiny, marker):
    edfs = sorted(tiny.glob("edf/*/*/*/01_tcp_ar/*.edf"))
    assert len(edfs) == TINY.n_patients * TINY.n_recordings
    for path in edfs:
        split, subject, session = path.parts[-5:-2]
        assert split in ("train", "dev", "eval") and subject.startswith("synth") and len(subject) == 8
        assert path.stem.startswith(f"{subject}_{session[:4]}_t") and session[5:].isdigit()
        assert path.with_suffix(".csv").is_file() and path.with_suffix(".csv_bi").is_file()
    header = read_header(edfs[0])
    assert header.channels == tuple(f"EEG {c}-REF" for c in EDF_CHANNELS)
    assert set(header.channel_sfreqs) == {float(TINY.sfreq)}
    assert header.duration == pytest.approx(60 * TINY.recording_minutes)

    assert "SYNTHETIC" in (tiny / "README.txt").read_text()
    assert marker["synthetic"] is True and "SYNTHETIC" in marker["note"]
    assert marker["dataset"] == "tusz-synthetic" and marker["key"] == TINY.key()
    assert marker["config"] == json.loads(json.dumps(dataclasses.asdict(TINY)))
    files = {p.relative_to(tiny).as_posix() for p in tiny.rglob("*") if p.is_file()} - {"SYNTHETIC.json"}
    assert set(marker["sha256"]) == files
    assert {m["split"] for m in marker["patients"].values()} == {"train", "dev", "eval"}


def test_every_type_occurs_in_at_least_two_patients(tiny_index, marker):
    per_patient = {p.patient_id: {s.type for r in p.recordings for s in r.seizures} for p in tiny_index.patients}
    assert all(1 <= len(types) <= 2 for types in per_patient.values())
    counts = Counter(t for types in per_patient.values() for t in types)
    assert set(counts) == set(SEIZURE_TYPES) and min(counts.values()) >= 2
    assert {pid: set(m["seizure_types"]) for pid, m in marker["patients"].items()} == per_patient


@pytest.mark.parametrize("n_patients", [7, 8, 10, 13, 14, 15, 30])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_type_assignment_covers_every_type_twice(n_patients, seed):
    config = TuszSyntheticConfig(n_patients=n_patients, seed=seed)
    assigned = tusz_synthetic._assign_types(config)
    assert len(assigned) == n_patients
    assert all(1 <= len(t) <= 2 and len(set(t)) == len(t) for t in assigned)
    counts = Counter(t for types in assigned for t in types)
    assert set(counts) == set(SEIZURE_TYPES) and min(counts.values()) >= 2


def test_default_config_is_small():
    config = TuszSyntheticConfig()
    assert config.n_patients == 10 and config.seizure_types == SEIZURE_TYPES and config.sfreq == 256
    n_bytes = config.hours() * 3600 * config.sfreq * len(EDF_CHANNELS) * 2  # 16-bit samples
    assert n_bytes < 64e6


def test_config_validation():
    with pytest.raises(BenchmarkError, match="n_patients must be at least 7"):
        TuszSyntheticConfig(n_patients=6)
    with pytest.raises(BenchmarkError, match="unknown seizure type.*MYSZ"):
        TuszSyntheticConfig(seizure_types=("FNSZ", "MYSZ"))
    with pytest.raises(BenchmarkError, match="too short"):
        TuszSyntheticConfig(recording_minutes=1, seizures_per_recording=4)
    # JSON gives lists and any case: the config normalises them, so a recorded config compares equal.
    assert TuszSyntheticConfig(seizure_types=["absz", "tcsz"], n_patients=2) == TuszSyntheticConfig(
        seizure_types=("ABSZ", "TCSZ"), n_patients=2
    )


# -- loader round trip ------------------------------------------------------------------------------
def test_loader_reads_back_the_planned_seizures(tiny, tiny_index, marker):
    assert tiny_index.dataset == "tusz-synthetic" and tiny_index.synthetic is True
    assert not tiny_index.exclusions
    assert tiny_index.patient_ids == sorted(marker["patients"])
    for p in tiny_index.patients:
        truth = marker["patients"][p.patient_id]
        assert p.info["sets"] == [truth["split"]]
        assert {r.recording_id for r in p.recordings} == set(truth["seizures"])
        for r in p.recordings:
            assert r.duration == pytest.approx(60 * TINY.recording_minutes)
            assert r.sfreq == TINY.sfreq
            got = [(s.onset, s.offset, s.type) for s in r.seizures]
            assert got == [tuple(x) for x in truth["seizures"][r.recording_id]]
            assert len(got) == TINY.seizures_per_recording


def test_marker_makes_the_plain_loader_label_it_synthetic(tiny, tiny_index):
    index = load_tusz(tiny)  # synthetic=False by default: SYNTHETIC.json must override it
    assert index.synthetic is True
    assert index.n_seizures == tiny_index.n_seizures


# -- determinism and caching --------------------------------------------------------------------------
def test_generation_is_deterministic(tmp_path):
    a = generate_tusz_synthetic(tmp_path / "a", SMALL)
    b = generate_tusz_synthetic(tmp_path / "b", SMALL, progress=True)
    assert _tree(a) == _tree(b)
    index_a = load_tusz(a, dataset_name="tusz-synthetic", synthetic=True)
    index_b = load_tusz(b, dataset_name="tusz-synthetic", synthetic=True)
    assert index_a.content_hash() == index_b.content_hash()

    other = generate_tusz_synthetic(tmp_path / "c", dataclasses.replace(SMALL, seed=1))
    signals_a = [_read(p) for p in sorted(a.rglob("*.edf"))]
    signals_c = [_read(p) for p in sorted(other.rglob("*.edf"))]
    assert len(signals_a) == len(signals_c) == SMALL.n_patients
    assert all(not np.allclose(x, y) for x, y in zip(signals_a, signals_c))  # the seed matters


def test_ensure_reuses_refuses_and_uses_the_cache(tmp_path, monkeypatch):
    folder = ensure_tusz_synthetic(tmp_path / "ds", SMALL)
    stamp = (folder / "SYNTHETIC.json").stat().st_mtime_ns
    assert ensure_tusz_synthetic(folder, SMALL) == folder
    assert ensure_tusz_synthetic(folder) == folder  # the recorded config is reused
    assert (folder / "SYNTHETIC.json").stat().st_mtime_ns == stamp
    with pytest.raises(DataError, match="another config"):
        ensure_tusz_synthetic(folder, dataclasses.replace(SMALL, seed=3))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("not a dataset")
    with pytest.raises(DataError, match="other files"):
        ensure_tusz_synthetic(tmp_path / "busy", SMALL)

    monkeypatch.setenv("SEIZURE_BENCH_CACHE", str(tmp_path / "cache"))
    index = load_tusz_synthetic(config=SMALL, check_edf=False)
    expected = tmp_path / "cache" / "data" / f"tusz-synthetic-{SMALL.key()}"
    assert Path(index.root) == expected and index.synthetic and index.dataset == "tusz-synthetic"
    assert os.listdir(expected.parent) == [expected.name]  # no partial folder left behind


# -- morphologies ---------------------------------------------------------------------------------------
def _band(f: np.ndarray, p: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return p[..., (f >= lo) & (f < hi)].sum(axis=-1)


def _signature(x: np.ndarray, fs: float, onset: float, offset: float, background: np.ndarray) -> dict:
    """Spectral and spatial description of one seizure relative to its recording's background."""
    f, pb = welch(background, fs=fs, nperseg=int(fs), axis=-1)
    a, b = int((onset + 1) * fs), int((offset - 1) * fs)  # skip the onset and offset ramps
    _, pi = welch(x[:, a:b], fs=fs, nperseg=int(fs), axis=-1)
    ratio = pi / pb
    smooth = np.log((ratio[:, :-2] + ratio[:, 1:-1] + ratio[:, 2:]) / 3)  # over 3 Hz
    fc, keep = f[1:-1], (f[1:-1] >= 1) & (f[1:-1] <= 30)
    ch, k = np.unravel_index(np.argmax(smooth[:, keep]), smooth[:, keep].shape)
    peak_hz = float(fc[keep][k])
    n = b - a
    return {
        "peak_hz": peak_hz,
        "spread": int((np.exp(smooth[:, keep][:, k]) > 4).sum()),  # channels with 4x power at the peak
        "channel": TUSZ_CHANNELS[ch],
        "broadband": float(_band(f, pi, 1, 45)[ch] / _band(f, pb, 1, 45)[ch]),
        "gamma": float(np.median(_band(f, pi, 30, 45) / _band(f, pb, 30, 45))),
        "low": float(np.median(_band(f, pi, 1, 8) / _band(f, pb, 1, 8))),
        "early_hz": _centroid(x[ch, a : a + n // 4], fs, pb[ch]),  # first quarter
        "late_hz": _centroid(x[ch, b - 2 * n // 5 : b], fs, pb[ch]),  # last 40 %
    }


def _centroid(seg: np.ndarray, fs: float, p_bg: np.ndarray) -> float:
    """Mean frequency (1-12 Hz) of the power ``seg`` adds to the background spectrum ``p_bg``."""
    if seg.size < fs:  # too short for 1-Hz resolution (only CPSZ's, >= 30 s, are used)
        return float("nan")
    f, p = welch(seg, fs=fs, nperseg=int(fs))
    m = (f >= 1) & (f < 12)
    extra = np.clip(p[m] - p_bg[m], 0, None)
    return float((f[m] * extra).sum() / extra.sum()) if extra.any() else float("nan")


def _category(sig: dict) -> tuple:
    band = "delta" if sig["peak_hz"] < 4.5 else "theta" if sig["peak_hz"] < 8 else "fast"
    extent = "generalized" if sig["spread"] >= 15 else "focal"
    return extent, band, sig["gamma"] > 5, sig["low"] < 0.3  # ..., muscle, attenuation


# What the module docstring promises for each type: (extent, dominant band, muscle, attenuation).
EXPECTED = {
    "ABSZ": ("generalized", "delta", False, False),
    "GNSZ": ("generalized", "theta", False, False),
    "TCSZ": ("generalized", "fast", True, False),
    "TNSZ": ("generalized", "fast", False, True),
    "FNSZ": ("focal", "theta", False, False),
    "CPSZ": ("focal", "delta", False, False),
    "SPSZ": ("focal", "fast", False, False),
}


def test_each_type_has_its_own_measurable_morphology(signals, marker):
    sigs: dict[str, list[dict]] = {}
    for _, r, x, fs in signals:
        t = np.arange(x.shape[1]) / fs
        quiet = np.ones(t.size, bool)  # away from seizures and post-ictal suppression
        for s in r.seizures:
            quiet &= ~((t >= s.onset - 2) & (t < s.offset + 60))
        for s in r.seizures:
            sigs.setdefault(s.type, []).append(_signature(x, fs, s.onset, s.offset, x[:, quiet]))
    assert set(sigs) == set(SEIZURE_TYPES)
    for code, found in sigs.items():
        categories = Counter(_category(s) for s in found)
        assert categories.most_common(1)[0][0] == EXPECTED[code], (code, categories)
        assert categories[EXPECTED[code]] >= 0.75 * len(found), (code, categories)
    assert len(set(EXPECTED.values())) == len(EXPECTED)

    median = {
        code: {k: np.median([s[k] for s in found]) for k in ("peak_hz", "broadband")} for code, found in sigs.items()
    }
    assert 2.3 <= median["ABSZ"]["peak_hz"] <= 4.5  # the 3-Hz spike-and-wave
    assert 13 <= median["TNSZ"]["peak_hz"] <= 27  # low-voltage fast activity
    assert median["SPSZ"]["broadband"] < median["FNSZ"]["broadband"] / 2  # low amplitude
    assert all(s["channel"] in TEMPORAL for s in sigs["CPSZ"])
    assert all(s["early_hz"] > s["late_hz"] + 0.8 for s in sigs["CPSZ"])  # evolves to delta
    assert all(s["channel"] not in TEMPORAL for s in sigs["FNSZ"])
    # Patient-specific versions of each type, on patient-specific backgrounds.
    for code in SEIZURE_TYPES:
        styles = [m["types"][code] for m in marker["patients"].values() if code in m["types"]]
        assert len({s["freq_hz"] for s in styles}) == len(styles) and len({s["rms_uv"] for s in styles}) == len(styles)
    backgrounds = {tuple(m["background"].values()) for m in marker["patients"].values()}
    assert len(backgrounds) == TINY.n_patients


# -- learnability ---------------------------------------------------------------------------------------
def test_types_are_learnable_from_1s_windows_across_patients(signals):
    """Leave-one-patient-out logistic regression on channel summaries of 1-s log band powers.

    Summaries (mean, std, max over channels; max over temporal and over other channels) do not
    depend on where a patient's focus lies, so a type learnt on one patient carries over.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import recall_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    windows, labels, groups = [], [], []
    for pid, r, x, fs in signals:
        n = int(fs)
        for s in r.seizures:
            starts = np.arange(np.ceil(s.onset), np.floor(s.offset) - 1 + 1e-9).astype(int) * n
            windows += [x[:, i : i + n] for i in starts]
            labels += [s.type] * len(starts)
            groups += [pid] * len(starts)
    bp = band_power(np.stack(windows), fs)  # (n_windows, 19, 5) log10 µV²
    temporal = [TUSZ_CHANNELS.index(c) for c in TEMPORAL]
    other = [i for i in range(len(TUSZ_CHANNELS)) if i not in temporal]
    features = np.concatenate([bp.mean(1), bp.std(1), bp.max(1), bp[:, temporal].max(1), bp[:, other].max(1)], axis=1)
    y, groups = np.array(labels), np.array(groups)
    predicted = np.empty_like(y)
    for pid in np.unique(groups):
        test = groups == pid
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced"))
        model.fit(features[~test], y[~test])
        predicted[test] = model.predict(features[test])
    recalls = recall_score(y, predicted, labels=list(SEIZURE_TYPES), average=None)
    assert recalls.mean() > 0.7, dict(zip(SEIZURE_TYPES, recalls.round(2)))  # chance: 1/7
    assert recalls.min() > 0.25, dict(zip(SEIZURE_TYPES, recalls.round(2)))
