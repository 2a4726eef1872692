"""Signal-side harness changes: band-pass before windowing, z-scored raw windows, the v1 -> v2 store
migration, SzCORE event metrics of detection runs, the metadata adapters get, and CLI option
errors. Runs use the tiny SYNTHETIC CHB-MIT-shaped dataset of ``conftest.tiny_synthetic``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fakes import read_only_for_the_store

from benchmark import cli, features
from benchmark import metrics as M
from benchmark import runner as runner_mod
from benchmark.datasets import load_dataset
from benchmark.edf import EdfReader
from benchmark.events import PostProcessing
from benchmark.index import RecordingIndex
from benchmark.runner import RunConfig, Runner
from benchmark.store import _SCHEMA, SCHEMA_VERSION, FoldResult, ResultStore, RunRecord
from benchmark.windows import Preprocessing, WindowCache, bandpass_filter

SFREQ = 256.0


# -- band-pass ------------------------------------------------------------------------------------
def _amplitude(x: np.ndarray, freq: float) -> float:
    """Amplitude of the ``freq`` sinusoid in ``x`` (least squares on sine and cosine)."""
    t = np.arange(x.size) / SFREQ
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    coef = np.linalg.lstsq(basis, x, rcond=None)[0]
    return float(np.hypot(*coef))


def _three_tones(seconds: float = 120.0) -> np.ndarray:
    t = np.arange(int(seconds * SFREQ)) / SFREQ
    tones = 50 * np.sin(2 * np.pi * 0.05 * t) + 10 * np.sin(2 * np.pi * 10 * t) + 10 * np.sin(2 * np.pi * 100 * t)
    return np.stack([tones, 0.5 * tones])


def test_bandpass_keeps_only_the_passband():
    x = _three_tones()
    y = bandpass_filter(x, SFREQ, (0.1, 70.0))
    assert y.shape == x.shape and y.dtype == np.float32
    mid = y[0, int(30 * SFREQ) : int(90 * SFREQ)]  # away from the edges
    assert _amplitude(mid, 10.0) == pytest.approx(10.0, rel=0.02)
    assert _amplitude(mid, 100.0) < 0.01 * 10.0
    assert _amplitude(mid, 0.05) < 0.02 * 50.0
    # unfiltered, the same measurements see every tone
    raw = x[0, int(30 * SFREQ) : int(90 * SFREQ)]
    assert _amplitude(raw, 100.0) == pytest.approx(10.0, rel=0.02)
    assert np.allclose(y[1], 0.5 * y[0], atol=1e-3)  # channels are filtered independently


def test_high_edge_at_nyquist_means_high_pass_only():
    y = bandpass_filter(_three_tones(), SFREQ, (0.5, SFREQ / 2))
    mid = y[0, int(30 * SFREQ) : int(90 * SFREQ)]
    assert _amplitude(mid, 100.0) == pytest.approx(10.0, rel=0.02)
    assert _amplitude(mid, 0.05) < 0.02 * 50.0


@pytest.fixture(scope="module")
def tiny_index(tiny_synthetic) -> RecordingIndex:
    return load_dataset("chbmit-synthetic", tiny_synthetic)


def test_window_cache_with_bandpass_filters_the_continuous_signal(tmp_path, tiny_index):
    index = tiny_index
    rec = index.recording("chb01", "chb01_01")  # 180 s, no seizure
    starts = [0.0, 80.0, rec.duration - 2.0]  # the recording's first and last windows, one inside
    table = pd.DataFrame(
        {"patient": "chb01", "recording": rec.recording_id, "start": starts, "end": [s + 2.0 for s in starts]}
    )
    plain = Preprocessing(tuple(index.channels), SFREQ, "raw", {})
    band = (0.5, 40.0)
    filtered = Preprocessing(tuple(index.channels), SFREQ, "raw", {}, bandpass=band)
    assert plain.key() != filtered.key() and filtered.key()["bandpass"] == [0.5, 40.0]
    cache = WindowCache(tmp_path)
    assert cache.entry_dir(index, "chb01", table, plain) != cache.entry_dir(index, "chb01", table, filtered)
    a, _ = cache.get(index, "chb01", table, plain)
    b, reused = cache.get(index, "chb01", table, filtered)
    assert not reused and a.shape == b.shape == (3, len(index.channels), 512)
    assert np.isfinite(b).all() and not np.allclose(a, b)
    with EdfReader(Path(index.root) / rec.file, index.channels) as reader:
        whole = reader.read(0.0, rec.duration)
    assert np.allclose(a, np.stack([whole[:, int(s * SFREQ) : int(s * SFREQ) + 512] for s in starts]), atol=1e-4)
    # every window, even at the recording's edges, is the matching slice of the filtered recording:
    # FILTER_PAD_S of signal on each side puts the filter's edge transients outside the windows
    # (80-82 s ends its read span, 0-2 s starts the recording)
    reference = bandpass_filter(whole, SFREQ, band)
    scale = float(reference.std())
    for k, s in enumerate(starts):
        expect = reference[:, int(s * SFREQ) : int(s * SFREQ) + 512]
        assert np.abs(b[k] - expect).max() < 0.02 * scale, f"window at {s} s"
    # filtering the lone window instead (no padding) would not match
    naive = bandpass_filter(whole[:, int(80 * SFREQ) : int(82 * SFREQ)], SFREQ, band)
    assert np.abs(naive - reference[:, int(80 * SFREQ) : int(82 * SFREQ)]).max() > 0.05 * scale


def test_raw_zscore_per_window_and_channel():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (3, 4, 200)) * np.array([1.0, 10.0, 100.0, 1.0])[None, :, None] + 40.0
    x[:, 3, :] = 5.0  # a flat channel
    z = features.compute("raw", x, SFREQ, {"zscore": True})
    assert z.shape == x.shape and z.dtype == np.float32
    assert np.allclose(z[:, :3].mean(axis=-1), 0.0, atol=1e-5)
    assert np.allclose(z[:, :3].std(axis=-1), 1.0, atol=1e-4)
    assert (z[:, 3] == 0).all()
    assert np.allclose(features.compute("raw", x, SFREQ), x)  # off by default
    assert features.output_shape("raw", 4, 200, SFREQ, {"zscore": True}) == (4, 200)
    # the default must key the cache as before an explicit False, and zscore as something else
    assert features.representation_key("raw", {}) == features.representation_key("raw", {"zscore": False})
    assert features.representation_key("raw", {"zscore": True}) != features.representation_key("raw", {})


# -- store migration ------------------------------------------------------------------------------
def _v1_store(path) -> None:
    """A schema-1 store (no scores.probs, no folds.resumed) holding one run, fold and window score."""
    v1 = _SCHEMA.replace("    probs TEXT,\n", "").replace("    resumed INTEGER NOT NULL DEFAULT 0,\n", "")
    assert v1 != _SCHEMA and "probs" not in v1 and "resumed" not in v1
    conn = sqlite3.connect(path)
    conn.executescript(v1)
    conn.execute(
        "INSERT INTO runs (run_id, kind, method, dataset, task, protocol, status) "
        "VALUES ('old', 'run', 'chance', 'chbmit', 'detection', 'loso', 'complete')"
    )
    conn.execute("INSERT INTO folds (run_id, fold_id, status, n_test) VALUES ('old', 'chb01', 'ok', 1)")
    conn.execute(
        'INSERT INTO scores (run_id, fold_id, patient, recording, start, "end", label, score, pred) '
        "VALUES ('old', 'chb01', 'chb01', 'chb01_03', 10.0, 11.0, 1, 0.25, 0)"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def test_v1_store_is_upgraded_in_place_and_keeps_its_rows(tmp_path):
    path = tmp_path / "v1.sqlite"
    _v1_store(path)

    store = ResultStore(path)
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert "probs" in {row[1] for row in conn.execute("PRAGMA table_info(scores)")}
    assert "resumed" in {row[1] for row in conn.execute("PRAGMA table_info(folds)")}
    conn.close()
    store = ResultStore(path)  # opening an upgraded store again is a no-op
    assert store.get_run("old").status == "complete"
    scores = store.scores("old")
    assert scores.to_dict("records") == [
        {
            "fold_id": "chb01",
            "patient": "chb01",
            "recording": "chb01_03",
            "start": 10.0,
            "end": 11.0,
            "label": 1,
            "score": 0.25,
            "pred": 0,
        }
    ]
    assert store.scores("old", probs=True)["probs"].tolist() == [None]
    assert [(f.fold_id, f.resumed) for f in store.folds("old")] == [("chb01", False)]


def test_v2_store_gains_the_resumed_flag_and_keeps_its_folds(tmp_path):
    path = tmp_path / "v2.sqlite"
    v2 = _SCHEMA.replace("    resumed INTEGER NOT NULL DEFAULT 0,\n", "")
    assert v2 != _SCHEMA
    conn = sqlite3.connect(path)
    conn.executescript(v2)
    conn.execute(
        "INSERT INTO runs (run_id, kind, method, dataset, task, protocol, status) "
        "VALUES ('old', 'run', 'chance', 'chbmit', 'detection', 'loso', 'complete')"
    )
    conn.execute(
        "INSERT INTO folds (run_id, fold_id, status, n_test, fit_seconds) VALUES ('old', 'chb01', 'ok', 1, 2.5)"
    )
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    store = ResultStore(path)
    assert [(f.fold_id, f.fit_seconds, f.resumed) for f in store.folds("old")] == [("chb01", 2.5, False)]
    store.save_fold("old", FoldResult("chb02", "chb02", "ok", n_test=1, resumed=True), None)
    assert {f.fold_id: f.resumed for f in ResultStore(path).folds("old")} == {"chb01": False, "chb02": True}


def test_a_read_only_store_of_an_older_schema_is_read_as_it_is(tmp_path, monkeypatch):
    path = tmp_path / "ro" / "v1.sqlite"
    path.parent.mkdir()
    _v1_store(path)
    before = path.read_bytes()
    read_only_for_the_store(monkeypatch, path.parent)
    store = ResultStore(path)
    assert store.read_only
    assert [(f.fold_id, f.resumed) for f in store.folds("old")] == [("chb01", False)]
    assert store.scores("old", probs=True)["probs"].tolist() == [None]
    store.close()
    assert path.read_bytes() == before


def test_probs_round_trip_in_a_v2_store(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    store.create_run(RunRecord("mc", "run", "chance", "tusz", "seizure-type", "kfold5"))
    scores = pd.DataFrame(
        {
            "fold_id": "fold0",
            "patient": ["p", "p"],
            "recording": "r",
            "start": [0.0, 1.0],
            "end": [1.0, 2.0],
            "label": [0, 2],
            "score": [0.6, 0.5],
            "pred": [0, 2],
            "probs": [np.array([0.6, 0.1, 0.3]), np.array([1 / 3, 1 / 6, 0.5])],
        }
    )
    store.save_fold("mc", FoldResult("fold0", None, "ok"), scores)
    got = store.scores("mc", probs=True)["probs"].tolist()
    assert got[0] == [0.6, 0.1, 0.3]
    assert got[1] == pytest.approx([1 / 3, 1 / 6, 0.5], abs=1e-7)


# -- detection runs: event metrics ----------------------------------------------------------------
def _cfg(root: Path, data: Path, **kw) -> RunConfig:
    base = dict(
        method="bandpower_logreg",
        dataset="chbmit-synthetic",
        task="detection",
        protocol="loso",
        data_dir=data,
        store_path=root / "r.sqlite",
        splits_dir=root / "splits",
        cache_dir=root.parent / "cache",
        progress=False,
    )
    base.update(kw)
    return RunConfig(**base)


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory) -> Path:
    """Folder of this module's detection runs; ``<root>/cache`` is their shared window cache."""
    return tmp_path_factory.mktemp("detection-runs")


@pytest.fixture(scope="module")
def detection_runs(runs_root, tiny_synthetic):
    recs = {
        "logreg": Runner(_cfg(runs_root / "a", tiny_synthetic)).run(),
        "chance": Runner(_cfg(runs_root / "a", tiny_synthetic, method="chance")).run(),
        # another store, so the same run is scored again with other post-processing
        "strict": Runner(_cfg(runs_root / "b", tiny_synthetic, events=PostProcessing(threshold=0.95))).run(),
    }
    return recs, ResultStore(runs_root / "a" / "r.sqlite"), ResultStore(runs_root / "b" / "r.sqlite")


def test_detection_runs_add_szcore_event_metrics(detection_runs):
    recs, store, _ = detection_runs
    for name in ("logreg", "chance"):
        rec = recs[name]
        per_patient = store.patient_metrics(rec.run_id)
        assert set(per_patient.index) == {"chb01", "chb02"}
        assert set(M.METRICS) | set(M.EVENT_METRICS) <= set(per_patient.columns)
        assert per_patient[list(M.EVENT_METRICS)].notna().all().all()
        assert ((per_patient["event_sensitivity"] >= 0) & (per_patient["event_sensitivity"] <= 1)).all()
        assert (per_patient["fa_per_24h"] >= 0).all()
        assert {"event_sensitivity", "fa_per_24h"} <= set(store.summary(rec.run_id).index)
        scoring = rec.provenance["event_scoring"]
        assert scoring["post_processing"] == {
            "threshold": 0.5,
            "smooth_windows": 1,
            "min_duration_s": 0.0,
            "merge_gap_s": 0.0,
        }
        totals = scoring["totals"]
        assert set(totals) == {"event_tp", "event_fp", "event_n_ref", "hours"}
        assert totals["event_n_ref"] == 4  # two lead seizures x two patients, each in its own recording
        assert totals["hours"] == pytest.approx(2 * (3 + 8 + 8) / 60)  # every test recording, whole


def test_event_post_processing_changes_event_but_not_window_metrics(detection_runs):
    recs, store_a, store_b = detection_runs
    default, strict = recs["logreg"], recs["strict"]
    assert strict.run_id == default.run_id  # scoring settings do not make another run
    assert strict.provenance["event_scoring"]["post_processing"]["threshold"] == 0.95
    a, b = store_a.patient_metrics(default.run_id), store_b.patient_metrics(strict.run_id)
    pd.testing.assert_frame_equal(a[list(M.METRICS)], b[list(M.METRICS)])
    assert not a[list(M.EVENT_METRICS)].equals(b[list(M.EVENT_METRICS)])
    assert strict.provenance["event_scoring"]["totals"] != default.provenance["event_scoring"]["totals"]


def test_other_post_processing_on_a_complete_run_is_not_silently_ignored(runs_root, detection_runs, tiny_synthetic):
    from benchmark.errors import BenchmarkError

    recs, _, _ = detection_runs
    try:
        again = Runner(_cfg(runs_root / "a", tiny_synthetic, events=PostProcessing(threshold=0.95))).run()
    except BenchmarkError:
        return  # refusing with a one-line error is an acceptable fix too
    assert again.run_id == recs["logreg"].run_id
    assert again.provenance["event_scoring"]["post_processing"]["threshold"] == 0.95


def test_event_scoring_counts_as_positive_the_windows_predicted_ictal(detection_runs):
    recs, store, _ = detection_runs
    for rec in recs.values():
        scores = store.scores(rec.run_id)
        # One rule for both: a window is ictal at p >= 0.5 (chance's balanced prior is exactly 0.5).
        assert (scores["pred"] == (scores["score"] >= 0.5)).all()
        totals = rec.provenance["event_scoring"]["totals"]
        assert (totals["event_tp"] + totals["event_fp"] > 0) == bool(scores["pred"].any())


def test_adapters_get_the_metadata_in_window_set_info(runs_root, tiny_synthetic, tiny_index, monkeypatch):
    seen = []
    real = runner_mod.run_fold
    monkeypatch.setattr(runner_mod, "run_fold", lambda job: (seen.append(job.info), real(job))[1])
    Runner(_cfg(runs_root / "meta", tiny_synthetic, method="chance")).run()
    assert len(seen) == 2
    info = seen[0]
    assert info["dataset"] == "chbmit-synthetic" and info["task"] == "detection"
    assert info["patients"] == {
        p.patient_id: {"age": p.info.get("age_years"), "sex": p.info.get("sex")} for p in tiny_index.patients
    }
    assert info["patients"]["chb01"]["sex"] in ("M", "F")
    assert set(info["montages"]) == {f"{p.patient_id}/{r.recording_id}" for p, r in tiny_index.iter_recordings()}


# -- CLI option errors ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra, fragment",
    [
        (("--task", "detection", "--types", "FNSZ"), "--types applies to the seizure-type task only"),
        (("--task", "prediction", "--ictal-stride", "0.5"), "--ictal-stride applies to the detection"),
        (("--task", "detection", "--ictal-stride", "2"), "--ictal-stride must be in (0, window length 1 s]"),
        (("--task", "seizure-type", "--types", " , "), "--types needs at least one seizure type"),
        (("--threads", "0"), "--threads must be at least 1, got 0"),
    ],
    ids=["types-detection", "ictal-prediction", "ictal-too-long", "types-empty", "threads-0"],
)
def test_cli_option_errors_are_one_line(tmp_path, tiny_synthetic, capsys, extra, fragment):
    store = tmp_path / "r.sqlite"
    rc = cli.main(
        [
            "--store",
            str(store),
            "run",
            "--method",
            "chance",
            "--dataset",
            "chbmit-synthetic",
            "--data-dir",
            str(tiny_synthetic),
            "--splits-dir",
            str(tmp_path / "splits"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-progress",
            *extra,
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("seizure-bench: error: ") and fragment in lines[0], lines[0]
    assert not store.exists() and not (tmp_path / "cache").exists()  # refused before any work
