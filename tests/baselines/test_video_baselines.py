"""Video baselines (i3d_lstm, r2plus1d_lstm, perez_garcia) on tiny SYNTHETIC clips.

The clips are a bright blob on a fixed noisy background; in class 1 ("moving") the blob jerks back
and forth every frame, in class 0 it stays still. Nothing here resembles a real seizure video.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from baselines import video_baselines as vbl
from benchmark.adapters import REGISTRY, FitContext, get_method
from benchmark.conformance import LabelGuardedWindowSet
from benchmark.errors import DataError
from benchmark.fake_data import make_windowset
from benchmark.weights import MissingWeightsError
from benchmark.windows import video_params
from benchmark.windowset import WindowSet
from methods import _video_backbones as vb

NAMES = ("i3d_lstm", "r2plus1d_lstm", "perez_garcia")
TINY = {"input_size": None}  # the test clips are already tiny: no resizing


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny tensors gain nothing from threads, and on a busy runner thread wake-ups dominate."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def motion_clips(
    n_videos: int,
    clips_per_video: int,
    first_video: int = 0,
    seed: int = 0,
    n_frames: int = 8,
    size: int = 16,
    learnable: bool = True,
) -> WindowSet:
    """SYNTHETIC clips; even-numbered videos are class 0 (still blob), odd ones class 1 (jerking)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    data = np.empty((n_videos * clips_per_video, n_frames, 3, size, size), dtype=np.uint8)
    rows, y = [], []
    for v in range(n_videos):
        label = v % 2
        video = first_video + v
        for k in range(clips_per_video):
            background = rng.integers(0, 40, size=(3, size, size))
            cy, cx = rng.uniform(size / 3, 2 * size / 3, size=2)
            angle = rng.uniform(0, np.pi)
            for t in range(n_frames):
                shift = 3.0 * (1 if t % 2 else -1) * (label if learnable else 0)
                blob = (yy - cy - shift * np.sin(angle)) ** 2 + (xx - cx - shift * np.cos(angle)) ** 2 < 9
                frame = background.copy()
                frame[:, blob] = 230
                data[v * clips_per_video + k, t] = frame
            rows.append(
                {
                    "patient": f"p{video // 2:03d}",
                    "recording": f"video{video:03d}",
                    "start": 2.0 * k,
                    "end": 2.0 * k + 2.0,
                    "unit": f"video{video:03d}",
                }
            )
            y.append(label)
    info = {
        "representation": "video",
        "n_frames": n_frames,
        "size": size,
        "fps": 25.0,
        "window_s": 2.0,
        "dataset": "motion-synthetic",
        "task": "classification",
        "synthetic": True,
    }
    refs = np.column_stack([np.zeros(len(y), dtype=np.int64), np.arange(len(y))])
    return WindowSet([data], refs, pd.DataFrame(rows), np.array(y), ("still", "moving"), info)


@pytest.fixture(scope="module")
def fold():
    """Tiny train / valid / test sets of 4-frame, 16-px clips with distinct video ids."""
    kw = dict(n_frames=4, size=16)
    train = motion_clips(6, 2, first_video=0, seed=1, **kw)
    valid = motion_clips(2, 2, first_video=50, seed=2, **kw)
    test = motion_clips(4, 2, first_video=100, seed=3, **kw)
    return train, valid, test


def fit(name: str, train, valid, cache_dir, seed: int = 0, budget: str = "smoke", **overrides):
    adapter = get_method(name).from_budget(budget, {**TINY, **overrides})
    adapter.fit(train, valid, FitContext(seed=seed, budget=budget, cache_dir=cache_dir))
    return adapter


def test_registered_as_video_baselines():
    for name in NAMES:
        assert name in REGISTRY.names()
        meta = get_method(name).meta
        assert (meta.modality, meta.tasks, meta.representation) == ("video", ("classification",), "video")
        assert meta.is_baseline and meta.citation
        video_params(meta.representation_params)  # valid clip parameters
        for params in meta.budgets.values():
            json.dumps(params)
    assert get_method("i3d_lstm").meta.video_aggregation == "vote"
    assert get_method("r2plus1d_lstm").meta.video_aggregation == "vote"
    assert get_method("perez_garcia").meta.video_aggregation == "mean"


@pytest.mark.parametrize("name", NAMES)
def test_fit_and_predict_honour_the_adapter_contract(name, fold, tmp_path):
    train, valid, test = fold
    cache = tmp_path / "features"
    adapter = fit(name, train, valid, cache, epochs=3)
    guarded = LabelGuardedWindowSet.wrap(test)
    proba = adapter.predict_proba(guarded)
    assert proba.shape == (len(test), 2) and np.isfinite(proba).all()
    assert (proba >= 0).all() and (proba <= 1).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert not guarded.label_reads
    one = adapter.predict_proba(guarded.subset([3]))
    assert one.shape == (1, 2) and abs(one.sum() - 1) < 1e-9
    assert any(cache.rglob("*.npy"))  # frozen-backbone features went through the cache
    # Same seed, same numbers (the refit reads the cached features).
    again = fit(name, train, valid, cache, epochs=3)
    np.testing.assert_array_equal(again.predict_proba(test.without_labels()), proba)
    assert isinstance(adapter.n_parameters(), int) and adapter.n_parameters() > 0
    json.dumps(adapter.params)
    assert adapter.weights_source() == vbl.random_init_source()


def test_perez_garcia_gives_every_clip_of_a_video_the_video_prediction(fold, tmp_path):
    train, valid, test = fold
    proba = fit("perez_garcia", train, valid, None, epochs=3).predict_proba(test.without_labels())
    for _, rows in test.meta.groupby("recording").indices.items():
        np.testing.assert_array_equal(proba[rows], np.tile(proba[rows[0]], (len(rows), 1)))
    assert len({tuple(p) for p in proba}) > 1


def test_segment_sampling():
    # Middle of each of 4 segments of 8 clips; short videos repeat clips; draws stay in their segment.
    np.testing.assert_array_equal(vbl.segment_indices(8, 4, None), [1, 3, 5, 7])
    np.testing.assert_array_equal(vbl.segment_indices(2, 4, None), [0, 0, 1, 1])
    draws = np.stack([vbl.segment_indices(40, 4, np.random.default_rng(s)) for s in range(50)])
    assert ((draws // 10) == np.arange(4)).all() and len(np.unique(draws[:, 0])) > 5


def test_weights_path_sets_the_backbone_and_the_weights_source(fold, tmp_path):
    train, _, test = fold
    torch.manual_seed(123)
    state = vb.build_i3d().state_dict()
    path = tmp_path / "i3d_kinetics.pt"
    torch.save(state, path)
    expected = f"local file i3d_kinetics.pt sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
    adapter = get_method("i3d_lstm").from_budget("smoke", {**TINY, "epochs": 1, "backbone_weights": str(path)})
    assert adapter.weights_source() == expected  # before fitting too
    cache = tmp_path / "features"
    adapter.fit(train, None, FitContext(seed=0, cache_dir=cache))
    assert adapter.weights_source() == expected
    loaded = adapter.backbone_.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())
    random_init = fit("i3d_lstm", train, None, cache, epochs=1)
    assert random_init.weights_source() == vbl.random_init_source()
    # Other weights, other features: two cache entries, not one.
    assert len([d for d in cache.iterdir() if d.name.startswith("i3d-")]) == 2
    assert not np.allclose(adapter._clip_features(test), random_init._clip_features(test))


def test_non_video_windows_are_refused(tmp_path):
    eeg = make_windowset(8, representation="raw", seed=0)
    with pytest.raises(DataError, match="video clips"):
        fit("i3d_lstm", eeg, None, None)
    with pytest.raises(DataError, match="sub-clips"):
        fit("i3d_lstm", motion_clips(2, 1, n_frames=2, size=8), None, None, subclips=4)


@pytest.mark.parametrize(
    "name, clips", [("i3d_lstm", (48, 224)), ("r2plus1d_lstm", (32, 112)), ("perez_garcia", (8, 112))]
)
def test_paper_budget_asks_the_harness_for_the_papers_clips(name, clips):
    meta = get_method(name).meta
    smoke, paper = meta.representation_params_for("smoke"), meta.representation_params_for("paper")
    assert (paper["n_frames"], paper["size"]) == clips
    assert smoke == meta.representation_params and smoke["size"] < paper["size"]
    assert meta.task_defaults == {"classification": {"target": "focus"}}  # Li et al.: TLE vs exTLE


def test_random_initialisation_is_logged(fold, caplog):
    with caplog.at_level(logging.WARNING, logger="seizure_bench.method"):
        fit("i3d_lstm", fold[0], None, None, epochs=1)
    assert "random initialisation" in caplog.text


def test_efficiency_report():
    adapter = get_method("i3d_lstm").from_budget("smoke", TINY)
    report = adapter.efficiency_report((4, 3, 16, 16), latency_batch=2, latency_repeats=1)
    assert report["n_params_backbone"] == vb.count_parameters(vb.build_i3d())
    assert report["n_params_head"] > 0 and report["flops_backbone_per_clip"] > 0
    assert report["feature_ms_per_clip"] > 0 and report["weights_source"] == vbl.random_init_source()
    json.dumps(report)


@pytest.mark.parametrize("name", ["i3d_lstm", "perez_garcia"])
def test_learns_to_tell_moving_from_still(name):
    train = motion_clips(8, 3, 0, seed=10)
    test = motion_clips(6, 3, 100, seed=11)
    proba = fit(name, train, None, None).predict_proba(test.without_labels())
    assert roc_auc_score(test.y, proba[:, 1]) > 0.85
    assert (proba.argmax(axis=1) == test.y).mean() > 0.75


# -- item 7: the paper budgets load the papers' Kinetics weights, or refuse ------------------------------------------
PAPER_TINY = {"input_size": None, "subclips": 2, "hidden_size": 8, "epochs": 1, "patience": None}


@pytest.mark.parametrize(
    "name, needs",
    [
        ("i3d_lstm", "Kinetics-400 I3D"),
        ("r2plus1d_lstm", "Kinetics-400 R(2+1)D-18"),
        ("perez_garcia", "Kinetics-400 R(2+1)D-18"),
    ],
)
def test_item07_paper_budget_without_weights_refuses_in_one_line(name, needs):
    with pytest.raises(MissingWeightsError) as err:
        get_method(name).from_budget("paper")
    line = str(err.value)
    assert "\n" not in line and line.startswith(f"the paper budget of {name} needs {needs} weights")
    assert "--set backbone_weights=/path/" in line and "--set backbone_weights=random" in line
    # Random init only by that explicit choice, and then said so.
    chosen = get_method(name).from_budget("paper", {"backbone_weights": "random"})
    assert chosen.weights_source() == "random init (backbone_weights=random; not the paper's setting)"
    assert get_method(name).meta.budgets["smoke"]["backbone_weights"] == "random"  # smoke keeps random init


def test_item07_paper_budget_loads_the_weights_file_and_names_its_sha256(fold, tmp_path):
    train, _, test = fold
    torch.manual_seed(7)
    state = vb.build_i3d().state_dict()
    path = tmp_path / "rgb_imagenet.pt"
    torch.save(state, path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    adapter = get_method("i3d_lstm").from_budget("paper", {**PAPER_TINY, "backbone_weights": str(path)})
    adapter.fit(train, None, FitContext(seed=0, budget="paper", cache_dir=tmp_path / "features"))
    key = "Mixed_4c.b1b.conv3d.weight"
    assert torch.equal(adapter.backbone_.state_dict()[key], state[key])
    assert adapter.weights_source() == f"local file rgb_imagenet.pt sha256 {sha[:12]}"
    assert adapter._extractor()["weights"] == f"sha256:{sha}"  # cached features are keyed by the whole hash
    assert adapter.predict_proba(test.without_labels()).shape == (len(test), 2)


def test_item07_a_file_of_another_architecture_is_refused_in_one_line(fold, tmp_path):
    path = tmp_path / "i3d.pt"
    torch.save(
        {"Conv3d_1a_7x7.conv3d.weight": torch.zeros(64, 3, 7, 7, 7), "logits.conv3d.bias": torch.zeros(400)}, path
    )
    adapter = get_method("r2plus1d_lstm").from_budget("paper", {**PAPER_TINY, "backbone_weights": str(path)})
    with pytest.raises(DataError) as err:
        adapter.fit(fold[0], None, FitContext(seed=0, budget="paper"))
    line = str(err.value)
    assert "\n" not in line and line.startswith("weights file i3d.pt does not fit R2Plus1D18: missing stem.0.weight")
    assert "unexpected Conv3d_1a_7x7.conv3d.weight, logits.conv3d.bias" in line
    with pytest.raises(
        DataError, match="backbone_weights file .*missing.pt does not exist; i3d_lstm needs Kinetics-400"
    ):
        get_method("i3d_lstm").from_budget("paper", {"backbone_weights": str(tmp_path / "missing.pt")})


def test_item07_boards_show_the_weights_file_and_never_call_a_random_init_run_paper(tmp_path):
    from benchmark.metrics import summarize
    from benchmark.report import build_report
    from benchmark.store import ResultStore, RunRecord

    sha = "ab12cd34ef56" + "0" * 52
    sources = {
        "run-pretrained": ("paper", f"local file rgb_imagenet.pt sha256 {sha[:12]}"),
        "run-random": ("paper", vbl.random_init_source()),
        "run-smoke": ("smoke", vbl.random_init_source()),
    }
    store = ResultStore(tmp_path / "r.sqlite")
    patients = pd.Index(["p1", "p2", "p3"], name="patient")
    for i, (run_id, (budget, weights)) in enumerate(sources.items()):
        store.create_run(
            RunRecord(
                run_id,
                "run",
                "i3d_lstm",
                dataset="video-synthetic",
                task="classification",
                protocol="loso",
                task_params={"target": "focus"},
                budget=budget,
                status="complete",
                synthetic=True,
                seed=0,
                created_at=f"2025-01-0{i + 1}T00:00:00+00:00",
                provenance={"weights_source": weights, "is_baseline": True},
            )
        )
        per_patient = pd.DataFrame({"balanced_accuracy": [0.6, 0.7, 0.8]}, index=patients)
        store.save_patient_metrics(run_id, per_patient)
        store.save_summary(run_id, summarize(per_patient, n_boot=50))
    index = build_report(store, tmp_path / "report", title="t")
    board = next(p.read_text() for p in (index.parent / "leaderboards").glob("*.html"))
    rows = {run_id: re.search(rf'<tr data-run="{run_id}".*?</tr>', board, re.S).group(0) for run_id in sources}
    cell = re.compile(r'<div class="facts"><span[^>]*>(.*?)</span> · ', re.S)
    label = {run_id: re.sub(r"<[^>]+>", "", cell.search(row).group(1)) for run_id, row in rows.items()}
    assert label == {
        "run-pretrained": "paper budget",
        "run-smoke": "smoke budget",
        "run-random": "paper budget, random init (not the paper&#39;s setting)",
    }
    assert f"sha256 {sha[:12]}" in rows["run-pretrained"] and "random init" not in rows["run-pretrained"]
    pages = {p.stem: p.read_text() for p in (index.parent / "runs").glob("*.html")}
    assert f"sha256 {sha[:12]}" in pages["run-pretrained"] and "Random init." not in pages["run-pretrained"]
    assert "paper budget, random init" in pages["run-random"] and "Random init." in pages["run-random"]
    store.close()


def test_item07_a_paper_run_without_weights_stops_before_reading_data(tmp_path, monkeypatch, capsys):
    from benchmark import cli, runner

    def no_data(*args, **kwargs):
        raise AssertionError("the dataset was read before the weights setting was checked")

    monkeypatch.setattr(runner, "load_dataset", no_data)
    rc = cli.main(
        [
            "--store",
            str(tmp_path / "r.sqlite"),
            "run",
            "--method",
            "perez_garcia",
            "--dataset",
            "video-synthetic",
            "--task",
            "classification",
            "--protocol",
            "loso",
            "--budget",
            "paper",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and len(err) == 1
    assert (
        "the paper budget of perez_garcia needs Kinetics-400 R(2+1)D-18 weights: pass --set backbone_weights=" in err[0]
    )
    assert not (tmp_path / "r.sqlite").exists() or "perez_garcia" not in (tmp_path / "r.sqlite").read_bytes().decode(
        "latin-1"
    )
