"""Video runs end to end: generated videos on disk -> video-folder loader -> clips -> adapter -> store.

The adapter here is a spy: it records what the harness hands it (clip shapes, unlabelled contextual
clips, test patients) and predicts a fixed rule, so the video-level numbers can be checked by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmark.adapters import REGISTRY, MethodAdapter, MethodMeta
from benchmark.errors import BenchmarkError
from benchmark.runner import RunConfig, Runner
from benchmark.store import ResultStore

SEEN: list[dict] = []


class VideoSpy(MethodAdapter):
    meta = MethodMeta(
        name="video_spy_test",
        modality="video",
        tasks=("classification",),
        representation="video",
        budgets={"smoke": {}, "paper": {}},
        citation="test",
        is_baseline=True,
        representation_params={"n_frames": 4, "size": 16},
        video_aggregation="vote",
        task_defaults={"classification": {"target": "focus"}},
    )

    def fit(self, train, valid, ctx):
        unl = ctx.unlabelled
        SEEN.append(
            {
                "train_patients": set(train.meta["patient"]),
                "shape": train.window_shape,
                "range": (float(train.get(np.arange(len(train))).min()), float(train.get(np.arange(len(train))).max())),
                "unlabelled_patients": set() if unl is None else set(unl.meta["patient"]),
                "unlabelled_y": None if unl is None else unl.y,
                "classes": train.classes,
                "cache_dir": ctx.cache_dir,
            }
        )

    def predict_proba(self, test):
        SEEN[-1]["test_patients"] = set(test.meta["patient"])
        # Odd clip index in its video -> class 1: each video's vote is then decided by its clip count.
        k = test.meta.groupby(["patient", "recording"]).cumcount().to_numpy()
        p1 = np.where(k % 2 == 1, 0.9, 0.2)
        return np.column_stack([1 - p1, p1])


@pytest.fixture(scope="module")
def video_folder(tmp_path_factory):
    from benchmark.datasets.synthetic.video import VideoSyntheticConfig, generate_video_synthetic

    out = tmp_path_factory.mktemp("vids") / "ds"
    generate_video_synthetic(
        out,
        VideoSyntheticConfig(
            n_patients=6,
            videos_per_patient=(2, 3),
            contextual_per_patient=1,
            video_s=(4, 6),
            contextual_s=(4, 4),
            size=32,
            seed=3,
        ),
    )
    return out


@pytest.fixture
def spy():
    SEEN.clear()
    REGISTRY.names()
    REGISTRY.add(VideoSpy)
    yield
    REGISTRY._methods.pop(VideoSpy.meta.name, None)
    REGISTRY._origin.pop(VideoSpy.meta.name, None)


def _run(folder, tmp_path, **kw):
    cfg = RunConfig(
        method="video_spy_test",
        dataset="video-folder",
        data_dir=folder,
        task="classification",
        store_path=tmp_path / "r.sqlite",
        cache_dir=tmp_path / "cache",
        splits_dir=tmp_path / "splits",
        progress=False,
        **kw,
    )
    return Runner(cfg).run()


def test_loso_video_run_stores_clip_and_video_level_results(video_folder, tmp_path, spy):
    rec = _run(video_folder, tmp_path, protocol="loso")
    assert rec.status == "complete" and rec.synthetic  # the generated folder's marker
    assert rec.task_params["target"] == "focus"  # the method's default target
    store = ResultStore(tmp_path / "r.sqlite")
    scores = store.scores(rec.run_id)
    assert set(scores["label"]) <= {0, 1}
    for seen in SEEN:
        assert seen["shape"] == (4, 3, 16, 16) and 0.0 <= seen["range"][0] <= seen["range"][1] <= 1.0
        assert seen["classes"] == ("TLE", "exTLE")
        # Contextual footage of the test patient never reaches pre-training.
        assert seen["unlabelled_patients"] and not seen["unlabelled_patients"] & seen["test_patients"]
        assert seen["unlabelled_y"] is None and not seen["train_patients"] & seen["test_patients"]
        assert seen["cache_dir"] is not None
    # Video-level votes recomputed by hand from the stored clips.
    k = scores.sort_values("start").groupby(["patient", "recording"]).cumcount()
    votes = (
        scores.assign(k=k)
        .groupby(["patient", "recording"])
        .agg(label=("label", "first"), ones=("k", lambda s: int((s % 2 == 1).sum())), n=("k", "size"))
    )
    share1 = votes["ones"] / votes["n"]
    # A tie (even clip count) goes to the higher mean probability: p1 mean = 0.55 > 0.5 -> class 1.
    pred = (share1 >= 0.5).astype(int)
    video = rec.provenance["video_level"]
    assert video["aggregation"] == "vote" and video["n_videos"] == len(votes)
    expected = pd.crosstab(votes["label"], pred).reindex(index=[0, 1], columns=[0, 1], fill_value=0)
    assert video["confusion"] == expected.to_numpy().tolist()
    acc = float((pred == votes["label"]).mean())
    assert video["metrics"]["video_accuracy"] == pytest.approx(acc)
    per = store.patient_metrics(rec.run_id)
    assert "video_accuracy" in per.columns and per["video_accuracy"].notna().all()


def test_kfold5_random_keeps_each_video_in_one_fold(video_folder, tmp_path, spy):
    rec = _run(video_folder, tmp_path, protocol="kfold5-random", task_params={"target": "label"})
    assert rec.leakage["protocol_leaky"]
    scores = ResultStore(tmp_path / "r.sqlite").scores(rec.run_id)
    assert (scores.groupby(["patient", "recording"])["fold_id"].nunique() == 1).all()
    assert scores["fold_id"].nunique() > 1


def test_an_eeg_method_on_a_video_dataset_fails_in_one_line(video_folder, tmp_path):
    cfg = RunConfig(
        method="eegnet",
        dataset="video-folder",
        data_dir=video_folder,
        task="detection",
        store_path=tmp_path / "r.sqlite",
        cache_dir=tmp_path / "cache",
        progress=False,
    )
    with pytest.raises(BenchmarkError, match="method 'eegnet' takes eeg but dataset 'video-folder' is video"):
        Runner(cfg).run()
    assert not (tmp_path / "r.sqlite").exists() or not ResultStore(tmp_path / "r.sqlite").list_runs()


# -- item 8: clip geometry; item 9: class order --------------------------------------------------------
def test_item08_a_video_run_cuts_its_windows_to_the_methods_clip(video_folder, tmp_path, spy):
    """The spy asks for 4 frames at the default 4 fps: 1-s clips, whatever the task's default window."""
    from benchmark.windows import WindowParams

    rec = _run(video_folder, tmp_path, protocol="loso")
    assert (rec.task_params["window_s"], rec.task_params["stride_s"]) == (1.0, 1.0)
    scores = ResultStore(tmp_path / "r.sqlite").scores(rec.run_id)
    assert np.allclose(scores["end"] - scores["start"], 1.0)
    cfg = dict(
        method="video_spy_test",
        dataset="video-folder",
        data_dir=video_folder,
        task="classification",
        store_path=tmp_path / "r.sqlite",
        cache_dir=tmp_path / "cache",
        progress=False,
    )
    with pytest.raises(BenchmarkError) as err:
        Runner(RunConfig(**cfg, window=WindowParams(2.0, 2.0)))
    msg = str(err.value)
    assert "--window 2 s does not match the clips of video_spy_test: 4 frames at 4 fps last 1 s" in msg
    assert "\n" not in msg
    # Within a millisecond a requested window is the clip (the same run); a stride is kept.
    assert Runner(RunConfig(**cfg, window=WindowParams(1.0004, 0.5))).window == WindowParams(1.0, 0.5)


@pytest.mark.parametrize(
    "name, seconds, frames, fps",
    [
        ("video_ssl_transformer", 10.0, 250, 25.0),  # Hou et al.: 10-s clips at 25 fps, input length 256
        ("pv_contrastive_timesformer", 10.0, 96, 9.6),  # Li et al.: TimeSformer-L, 96 frames, 10-s clips
        ("pv_contrastive_timesformer_nopretrain", 10.0, 96, 9.6),
        ("perez_garcia", 8 / 15, 8, 15.0),  # GESTURES: 8-frame snippets at 15 fps
        ("i3d_lstm", 2.0, 48, 24.0),  # Karácsony et al.: 2-s samples
        ("r2plus1d_lstm", 2.0, 32, 16.0),
    ],
)
def test_item08_paper_budgets_ask_for_the_papers_clips_in_frames_per_second(name, seconds, frames, fps):
    from benchmark.adapters import get_method
    from benchmark.windows import clip_seconds, video_window

    meta = get_method(name).meta
    paper = meta.representation_params_for("paper")
    assert (paper["n_frames"], paper["fps"]) == (frames, fps)
    window = video_window(paper, None, name)
    assert window.window_s == pytest.approx(seconds) and window.stride_s == window.window_s
    assert clip_seconds(meta.representation_params_for("smoke")) == 2.0  # smoke keeps small 2-s clips


def test_item08_stride_alone_keeps_the_methods_clip_length():
    from argparse import Namespace

    from benchmark.cli import _window

    args = Namespace(
        window=None,
        stride=5.0,
        ictal_stride=None,
        task="classification",
        method="video_ssl_transformer",
        budget="paper",
    )
    w = _window(args)
    assert (w.window_s, w.stride_s) == (10.0, 5.0)


def test_item08_a_video_shorter_than_a_clip_gives_one_clip_not_none():
    """Hou et al.'s shortest seizure lasts 7.5 s, their clips 10 s: it must not be dropped."""
    from benchmark.windows import WindowParams, video_clip_count

    ten = WindowParams(10.0, 10.0)
    assert [video_clip_count(d, ten) for d in (0.0, 7.5, 10.0, 19.9, 20.0, 150.2)] == [0, 1, 1, 1, 2, 15]


def test_item08_plan_shows_frames_fps_clips_and_cache_size(video_folder, tmp_path, spy):
    from benchmark.plan import format_plan, plan_run

    plan = plan_run(
        RunConfig(
            method="video_spy_test",
            dataset="video-folder",
            data_dir=video_folder,
            task="classification",
            protocol="loso",
            splits_dir=tmp_path / "splits",
            cache_dir=tmp_path / "cache",
            progress=False,
        )
    )
    assert plan.clip == {"n_frames": 4, "fps": 4.0, "size": 16} and plan.window_s == 1.0
    assert plan.cache_bytes == (plan.windows + plan.unlabelled_windows) * (4 * 3 * 16 * 16 + 4)  # clip + index
    text = format_plan(plan)
    assert "of 1 s every 1 s" in text and "each clip 4 frames at 4 fps, 16x16 px" in text


def test_item09_a_run_records_the_classes_in_force_es_positive(video_folder, tmp_path, spy):
    from benchmark.reported import bundled_reported

    rec = _run(video_folder, tmp_path, protocol="kfold5", task_params={"target": "label"})
    hou = next(d for d in bundled_reported() if d.get("paper") == "hou2022")
    assert rec.task_params["classes"] == ["PNES", "ES"] == hou["task_params"]["classes"]
    assert SEEN and all(seen["classes"] == ("PNES", "ES") for seen in SEEN)


@pytest.mark.parametrize("paper", ["hou2024", "li2024"])
def test_item08_paper_settings_tables_give_the_clips_the_paper_budgets_ask_for(paper):
    """Every clip-geometry row of reports/paper_settings/<paper>.csv is what the method's paper budget
    asks the harness for, and a clip of n_frames at fps covers the table's window."""
    import csv
    from pathlib import Path

    from benchmark.adapters import get_method

    path = Path(__file__).resolve().parents[1] / "reports" / "paper_settings" / f"{paper}.csv"
    rows = {r["setting"]: r["value"] for r in csv.DictReader(path.open(encoding="utf-8"))}
    clip_rows = [k for k in rows if ".representation." in k]
    assert clip_rows
    for key in clip_rows:
        _, method, _, name = key.split(".")
        assert get_method(method).meta.representation_params_for("paper")[name] == pytest.approx(float(rows[key])), key
    methods = {k.split(".")[1] for k in clip_rows}
    for method in methods:
        n, fps = (
            float(rows[f"method.{method}.representation.n_frames"]),
            float(rows[f"method.{method}.representation.fps"]),
        )
        assert n / fps == pytest.approx(float(rows["window.window_s"]))
