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
        name="video_spy_test", modality="video", tasks=("classification",), representation="video",
        budgets={"smoke": {}, "paper": {}}, citation="test", is_baseline=True,
        representation_params={"n_frames": 4, "size": 16}, video_aggregation="vote",
        task_defaults={"classification": {"target": "focus"}},
    )

    def fit(self, train, valid, ctx):
        unl = ctx.unlabelled
        SEEN.append({
            "train_patients": set(train.meta["patient"]), "shape": train.window_shape,
            "range": (float(train.get(np.arange(len(train))).min()), float(train.get(np.arange(len(train))).max())),
            "unlabelled_patients": set() if unl is None else set(unl.meta["patient"]),
            "unlabelled_y": None if unl is None else unl.y, "classes": train.classes,
            "cache_dir": ctx.cache_dir,
        })

    def predict_proba(self, test):
        SEEN[-1]["test_patients"] = set(test.meta["patient"])
        # Odd clip index in its video -> class 1: each video's vote is then decided by its clip count.
        k = test.meta.groupby(["patient", "recording"]).cumcount().to_numpy()
        p1 = np.where(k % 2 == 1, 0.9, 0.2)
        return np.column_stack([1 - p1, p1])


@pytest.fixture(scope="module")
def video_folder(tmp_path_factory):
    from benchmark.datasets.video_synthetic import VideoSyntheticConfig, generate_video_synthetic

    out = tmp_path_factory.mktemp("vids") / "ds"
    generate_video_synthetic(out, VideoSyntheticConfig(n_patients=6, videos_per_patient=(2, 3),
                                                       contextual_per_patient=1, video_s=(4, 6),
                                                       contextual_s=(4, 4), size=32, seed=3))
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
    cfg = RunConfig(method="video_spy_test", dataset="video-folder", data_dir=folder, task="classification",
                    store_path=tmp_path / "r.sqlite", cache_dir=tmp_path / "cache",
                    splits_dir=tmp_path / "splits", progress=False, **kw)
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
    votes = scores.assign(k=k).groupby(["patient", "recording"]).agg(
        label=("label", "first"), ones=("k", lambda s: int((s % 2 == 1).sum())), n=("k", "size"))
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
    cfg = RunConfig(method="eegnet", dataset="video-folder", data_dir=video_folder, task="detection",
                    store_path=tmp_path / "r.sqlite", cache_dir=tmp_path / "cache", progress=False)
    with pytest.raises(BenchmarkError, match="method 'eegnet' takes eeg but dataset 'video-folder' is video"):
        Runner(cfg).run()
    assert not (tmp_path / "r.sqlite").exists() or not ResultStore(tmp_path / "r.sqlite").list_runs()
