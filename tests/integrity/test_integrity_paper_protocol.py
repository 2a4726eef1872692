"""DistilCLIP-EEG's own evaluation (balanced before a random split) and its recording-level z-score.

Item numbers are those of the project's issue on faithful paper budgets.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from fakes import run_config

from benchmark import features
from benchmark.datasets import load_dataset
from benchmark.errors import SplitError
from benchmark.runner import Runner
from benchmark.splits import leakage_checks, make_split, verify_split
from benchmark.store import ResultStore
from benchmark.tasks import make_labels
from benchmark.windows import WindowParams


# -- item 4: kfold5-random-balanced -------------------------------------------------------------------
def _run(tmp_path, data, protocol, **kw):
    cfg = run_config(tmp_path / protocol, data, method="chance", task="detection", protocol=protocol, **kw)
    rec = Runner(cfg).run()
    return rec, ResultStore(cfg.store_path).scores(rec.run_id)


def test_item04_balanced_protocol_balances_the_pool_once_before_the_random_split(tmp_path, tiny_synthetic):
    rec, scores = _run(tmp_path, tiny_synthetic, "kfold5-random-balanced")
    assert rec.status == "complete" and rec.protocol == "kfold5-random-balanced"
    # flagged leaky, never refused, and the verdict names what is checked
    assert rec.leakage["protocol_leaky"] and not rec.leakage["ok"]
    assert rec.leakage["checks"] == ["overlapping windows"]
    key = ["patient", "recording", "start"]
    assert not scores.duplicated(key).any(), "the folds partition one pool: every window is tested once"
    n_pos, n_neg = int((scores["label"] == 1).sum()), int((scores["label"] == 0).sum())
    assert n_pos > 0 and n_pos == n_neg, "the pool is balanced before the split"
    for _, fold in scores.groupby("fold_id"):  # so every test fold is (nearly) balanced as well
        assert abs(fold["label"].mean() - 0.5) < 0.25
    # Wang et al.'s Table II: on balanced test data accuracy equals (recall + specificity) / 2
    pooled = rec.provenance["pooled_metrics"]
    assert pooled["accuracy"] == pytest.approx(pooled["balanced_accuracy"], abs=0.02)
    # the random protocol of the same data keeps every window, so its test folds are mostly background
    rnd, rnd_scores = _run(tmp_path, tiny_synthetic, "kfold5-random")
    assert int((rnd_scores["label"] == 1).sum()) == n_pos  # every seizure window in both
    assert int((rnd_scores["label"] == 0).sum()) > 3 * n_neg
    rnd_pooled = rnd.provenance["pooled_metrics"]
    assert abs(rnd_pooled["accuracy"] - rnd_pooled["balanced_accuracy"]) > 0.2


def test_item04_balanced_protocol_tests_the_overlapping_seizure_windows_of_its_pool(tmp_path, tiny_synthetic):
    """With --ictal-stride the paper's pool holds the overlapping seizure segments, in training and test."""
    rec, scores = _run(tmp_path, tiny_synthetic, "kfold5-random-balanced", window=WindowParams(1.0, 1.0, 0.5))
    off_grid = scores["start"] % 1.0 != 0
    assert off_grid.any() and (scores.loc[off_grid, "label"] == 1).all()
    assert int((scores["label"] == 1).sum()) == int((scores["label"] == 0).sum())
    _, plain = _run(tmp_path, tiny_synthetic, "kfold5-random", window=WindowParams(1.0, 1.0, 0.5))
    assert not (plain["start"] % 1.0 != 0).any(), "kfold5-random still scores the regular grid only"


def test_item04_balanced_split_is_re_derived_and_a_doctored_one_refused(tiny_synthetic):
    index = load_dataset("chbmit-synthetic", tiny_synthetic)
    labels = make_labels(index, "detection")
    spec = make_split(
        labels,
        "kfold5-random-balanced",
        dataset="chbmit-synthetic",
        index_hash=index.content_hash(),
        synthetic=index.synthetic,
    )
    assert spec.leaky and spec.random_chunk_s == 1.0 and [f.chunk_fold for f in spec.folds] == [0, 1, 2, 3, 4]
    assert leakage_checks("kfold5-random-balanced") == ["overlapping windows"]
    verify_split(spec, index, committed=False)  # the data give exactly this split
    for edit in ({"random_chunk_s": 10.0}, {"leaky": False}, {"protocol": "kfold5-random"}):
        with pytest.raises(SplitError, match="does not match the split derived from the data"):
            verify_split(dataclasses.replace(spec, **edit), index, committed=False)


def test_item04_video_classification_refuses_the_balanced_protocol_in_one_line():
    from benchmark.tasks import TaskLabels

    labels = TaskLabels("classification", None, ("ES", "PNES"), [])
    with pytest.raises(SplitError, match="a video's clips must stay together"):
        make_split(labels, "kfold5-random-balanced", dataset="video-synthetic", index_hash="x")


# -- item 3: each channel z-scored over its whole recording ---------------------------------------
def test_item03_recording_zscore_keeps_amplitude_differences_that_window_zscore_discards():
    rng = np.random.default_rng(0)
    quiet = rng.normal(0, 1, (1, 2, 256))
    loud = rng.normal(0, 5, (1, 2, 256))  # a high-amplitude (seizure-like) window of the same recording
    x = np.concatenate([quiet, quiet, quiet, loud]).astype(np.float32)
    per_window = features.compute("raw", x, 256, {"zscore": "window"})
    per_recording = features.compute("raw", x, 256, {"zscore": "recording"})
    assert per_window[3].std() == pytest.approx(per_window[0].std(), rel=1e-3)  # amplitude gone
    assert per_recording[3].std() > 3 * per_recording[0].std()  # amplitude kept
    flat = per_recording.transpose(1, 0, 2).reshape(2, -1)
    assert np.allclose(flat.mean(axis=1), 0, atol=1e-5) and np.allclose(flat.std(axis=1), 1, atol=1e-4)
    # "window" and True are one cache entry; "recording" another; a bad value is one line
    key = features.representation_key
    assert key("raw", {"zscore": "window"}) == key("raw", {"zscore": True})
    assert key("raw", {"zscore": "recording"}) != key("raw", {"zscore": True})
    with pytest.raises(Exception, match="zscore must be one of"):
        features.output_shape("raw", 2, 256, 256, {"zscore": "train"})


def test_item03_the_window_cache_zscores_with_the_whole_recordings_statistics(tmp_path, tiny_synthetic):
    """Windows of one recording get the same numbers whichever of its windows a table asks for (a
    balanced training sample or a test fold): those of z-scoring the whole recording."""
    import pandas as pd

    from benchmark.edf import EdfReader
    from benchmark.windows import Preprocessing, WindowCache, bandpass_filter, recording_channel_stats

    index = load_dataset("chbmit-synthetic", tiny_synthetic)
    patient = index.patients[0]
    rec = max(patient.recordings, key=lambda r: r.duration or 0)
    sfreq = float(rec.sfreq)
    # Unfiltered, so that the comparison is exact (a band-pass depends a little on the span read).
    prep = Preprocessing(tuple(index.channels), sfreq, "raw", {"zscore": "recording"})
    starts = np.arange(30.0, float(rec.duration) - 30.0, 1.0)
    full = pd.DataFrame(
        {"patient": patient.patient_id, "recording": rec.recording_id, "start": starts, "end": starts + 1}
    )
    pick = [3, 40, 41, len(full) - 5]
    few = full.iloc[pick].reset_index(drop=True)
    cache = WindowCache(tmp_path / "cache")
    a = np.asarray(cache.get(index, patient.patient_id, full, prep)[0])
    b = np.asarray(cache.get(index, patient.patient_id, few, prep)[0])
    np.testing.assert_allclose(b, a[pick], atol=1e-5)
    with EdfReader(Path(index.root) / rec.file, prep.channels) as reader:
        signal = reader.read(0.0, reader.n_samples / reader.sfreq).astype(np.float64)
        z = (signal - signal.mean(axis=1, keepdims=True)) / signal.std(axis=1, keepdims=True)
        n = int(round(sfreq))
        ref = np.stack([z[:, int(round(s * sfreq)) : int(round(s * sfreq)) + n] for s in few["start"]])
        np.testing.assert_allclose(b, ref, atol=1e-4)
        # with the band-pass, the statistics are those of the whole filtered recording
        filtered = Preprocessing(prep.channels, sfreq, "raw", {"zscore": "recording"}, bandpass=(0.1, 70.0))
        mean, std = recording_channel_stats(reader, filtered)
        whole = bandpass_filter(signal.astype(np.float32), sfreq, (0.1, 70.0))
        np.testing.assert_allclose(std, whole.std(axis=1), rtol=0.02)
        assert np.all(np.abs(mean - whole.mean(axis=1)) < 0.02 * whole.std(axis=1))
    # unlike z-scoring each window, which equals what DistilCLIP's normalisation="window" computes
    per_window = features.compute("raw", b, sfreq, {"zscore": "window"})
    assert not np.allclose(per_window, b, atol=0.1)


def test_item04_protocol_gap_tables_compare_each_random_protocol_with_the_patient_wise_ones(tmp_path):
    import pandas as pd

    from benchmark.metrics import summarize
    from benchmark.report.build import _entry
    from benchmark.report.leaderboard import build_leaderboards, protocol_gaps
    from benchmark.store import RunRecord

    store = ResultStore(tmp_path / "r.sqlite")
    params = {"seed": 0, "window_s": 1.0, "stride_s": 1.0, "label": "ictal vs non-ictal"}
    for i, (protocol, bacc) in enumerate((("loso", 0.6), ("kfold5-random", 0.8), ("kfold5-random-balanced", 0.9))):
        run_id = f"run-{protocol}"
        store.create_run(
            RunRecord(
                run_id,
                "run",
                "distilclip_eeg_teacher",
                "chbmit",
                "detection",
                protocol,
                task_params=params,
                status="complete",
                budget="smoke",
                seed=0,
                created_at=f"2026-01-01T00:00:0{i}+00:00",
            )
        )
        pm = pd.DataFrame({"balanced_accuracy": [bacc, bacc]}, index=pd.Index(["p1", "p2"], name="patient"))
        store.save_patient_metrics(run_id, pm)
        store.save_summary(run_id, summarize(pm, n_boot=10))
    gaps = protocol_gaps(build_leaderboards([_entry(store, r) for r in store.list_runs()]))
    by_random = {g.random_protocol: g for g in gaps}
    assert set(by_random) == {"kfold5-random", "kfold5-random-balanced"}
    balanced = by_random["kfold5-random-balanced"]
    assert balanced.protocols == ["kfold5-random-balanced", "loso"]
    ((method, cells, gap),) = balanced.rows
    assert method == "distilclip_eeg_teacher" and gap == pytest.approx(0.9 - 0.6)
    assert by_random["kfold5-random"].rows[0][2] == pytest.approx(0.8 - 0.6)
