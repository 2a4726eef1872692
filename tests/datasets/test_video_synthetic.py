"""video-synthetic: determinism, cohort balance, class-specific motion, learnability across patients."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmark.datasets.synthetic.video import (
    CONTEXT_KINDS,
    DATASET_NAME,
    VideoSyntheticConfig,
    ensure_video_synthetic,
    generate_video_synthetic,
    load_video_synthetic,
)
from benchmark.errors import BenchmarkError, DataError
from benchmark.video_io import probe, read_clips

# Big enough for leave-one-patient-out to mean something, small enough to generate in a few seconds.
LEARN = VideoSyntheticConfig(
    n_patients=10, videos_per_patient=(4, 4), video_s=(4.0, 6.0), contextual_per_patient=1, contextual_s=(2.0, 2.0)
)
TINY = VideoSyntheticConfig(
    n_patients=4,
    videos_per_patient=(1, 1),
    video_s=(2.0, 2.0),
    contextual_per_patient=1,
    contextual_s=(2.0, 2.0),
    size=32,
    fps=10,
)


@pytest.fixture(scope="module")
def learn_dir(tmp_path_factory):
    return generate_video_synthetic(tmp_path_factory.mktemp("vsyn") / "learn", LEARN)


@pytest.fixture(scope="module")
def learn_index(learn_dir):
    return load_video_synthetic(learn_dir)


def _motion_energy(path) -> np.ndarray:
    """Per-frame motion energy: 95th percentile over 4x4-pixel blocks of the absolute grey-level change.

    Blocks average the sensor noise away; the percentile follows the moving body parts."""
    info = probe(path)
    clip = read_clips(path, np.array([0.0]), n_frames=int(round(info.duration * 25)), size=64, fps=25.0)[0]
    grey = clip.astype(np.float32).transpose(0, 2, 3, 1) @ np.array([0.299, 0.587, 0.114], np.float32)
    blocks = grey.reshape(len(grey), 16, 4, 16, 4).mean(axis=(2, 4))
    return np.percentile(np.abs(np.diff(blocks, axis=0)).reshape(len(grey) - 1, -1), 95, axis=1)


def _features(energy: np.ndarray, fps: float = 25.0) -> list[float]:
    """log mean motion energy, its coefficient of variation, and its share of power at 0.8-4 Hz."""
    e = energy[int(1.5 * fps) :]  # skip the quiet lying before most events start
    e = e - e.min()
    spec = np.abs(np.fft.rfft(e - e.mean())) ** 2
    f = np.fft.rfftfreq(len(e), 1 / fps)
    rhythmic = spec[(f >= 0.8) & (f <= 4)].sum() / spec[(f > 0) & (f <= 8)].sum()
    return [float(np.log(e.mean() + 1e-3)), float(e.std() / (e.mean() + 1e-3)), float(rhythmic)]


@pytest.fixture(scope="module")
def motion(learn_index, learn_dir):
    rows = []
    for p, r in learn_index.iter_recordings():
        labels = p.info["labels"][r.recording_id]
        rows.append(
            {
                "patient": p.patient_id,
                "label": labels["label"],
                "focus": labels.get("focus", ""),
                **dict(zip(("log_energy", "cv", "rhythmic"), _features(_motion_energy(learn_dir / r.file)))),
            }
        )
    return pd.DataFrame(rows)


def test_index_is_a_synthetic_video_dataset_with_consistent_labels(learn_index, learn_dir):
    assert (learn_index.dataset, learn_index.modality, learn_index.synthetic) == (DATASET_NAME, "video", True)
    marker = json.loads((learn_dir / "SYNTHETIC.json").read_text())
    assert marker["synthetic"] is True and "SYNTHETIC" in marker["note"]
    assert "SYNTHETIC" in (learn_dir / "README.txt").read_text()
    for p in learn_index.patients:
        truth = marker["patients"][p.patient_id]["videos"]
        assert len(p.recordings) == 4 and len(p.info["contextual"]) == 1 and p.info["boxes"] == "boxes.csv"
        for r in p.recordings:
            labels = p.info["labels"][r.recording_id]
            assert labels["label"] == truth[r.recording_id]["label"]
            assert labels.get("focus") == truth[r.recording_id].get("focus")
            assert r.sfreq == 25 and 4.0 <= r.duration <= 6.0
        assert all(2.0 <= c["duration"] <= 12.0 and c["fps"] == 25 for c in p.info["contextual"])
    for p, r in learn_index.iter_recordings():
        info = probe(learn_dir / r.file)
        assert (info.width, info.height) == (64, 64)


def test_boxes_hold_the_patient(learn_dir):
    boxes = pd.read_csv(learn_dir / "boxes.csv")
    assert (boxes["frame"] % 5 == 0).all()
    assert ((boxes[["x0", "y0"]].to_numpy() >= 0) & (boxes[["x1", "y1"]].to_numpy() <= 64)).all()
    assert (boxes["x1"] > boxes["x0"]).all() and (boxes["y1"] > boxes["y0"]).all()
    # The body moves inside its box: motion outside the boxes is only sensor noise.
    vid = boxes["video_id"].iloc[0]
    path = next(learn_dir.glob(f"*/*/{vid}.mp4"))
    frames = read_clips(path, np.array([0.0]), n_frames=50, size=64, fps=50 / probe(path).duration)[0].astype(float)
    change = np.abs(np.diff(frames, axis=0)).mean(axis=(0, 1))
    box = boxes[boxes["video_id"] == vid]
    inside = np.zeros((64, 64), bool)
    for x0, y0, x1, y1 in box[["x0", "y0", "x1", "y1"]].to_numpy():
        inside[int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))] = True
    assert change[inside].mean() > 1.5 * change[~inside].mean()


def test_default_cohort_is_balanced(tmp_path):
    # Durations and frame size do not change the plan; tiny ones keep this fast.
    config = VideoSyntheticConfig(video_s=(2.0, 2.0), contextual_s=(2.0, 2.0), size=32, fps=10, boxes=False)
    index = load_video_synthetic(tmp_path / "ds", config=config)
    marker = json.loads((tmp_path / "ds" / "SYNTHETIC.json").read_text())
    labels = [(p.patient_id, v) for p in index.patients for v in p.info["labels"].values()]

    def patients_with(key, value):
        return {pid for pid, v in labels if v.get(key) == value}

    assert len(index.patients) == 12
    assert len(patients_with("label", "ES")) >= 4 and len(patients_with("label", "PNES")) >= 4
    assert len(patients_with("focus", "TLE")) >= 3 and len(patients_with("focus", "exTLE")) >= 3
    assert patients_with("label", "ES") & patients_with("label", "PNES")  # one patient has both
    assert all(3 <= len(p.recordings) <= 6 for p in index.patients)
    assert all(v["focus"] in ("TLE", "exTLE") for _, v in labels if v["label"] == "ES")
    assert all("focus" not in v for _, v in labels if v["label"] == "PNES")
    for p in index.patients:  # two contextual videos of different kinds each
        kinds = {marker["patients"][p.patient_id]["videos"][c["video_id"]]["context"] for c in p.info["contextual"]}
        assert len(kinds) == 2 and kinds <= set(CONTEXT_KINDS)
    assert not (tmp_path / "ds" / "boxes.csv").exists() and all("boxes" not in p.info for p in index.patients)


def test_same_config_gives_identical_files_and_another_seed_does_not(tmp_path):
    a = generate_video_synthetic(tmp_path / "a", TINY)
    b = generate_video_synthetic(tmp_path / "b", TINY)
    c = generate_video_synthetic(tmp_path / "c", replace(TINY, seed=1))
    sums = [json.loads((d / "SYNTHETIC.json").read_text())["sha256"] for d in (a, b, c)]
    assert sums[0] == sums[1]
    for rel in (r for r in sums[0] if r.endswith(".mp4")):
        clip = lambda d: read_clips(d / rel, np.array([0.0]), n_frames=20, size=32, fps=10)  # noqa: E731
        np.testing.assert_array_equal(clip(a), clip(b))
    video = "videos/vsyn01/vsyn01_ev01.mp4"
    first = read_clips(a / video, np.array([0.0]), n_frames=10, size=32, fps=5)
    assert not np.array_equal(first, read_clips(c / video, np.array([0.0]), n_frames=10, size=32, fps=5))


def test_cache_folder_is_generated_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("SEIZURE_BENCH_CACHE", str(tmp_path / "cache"))
    index = load_video_synthetic(config=TINY)
    folder = tmp_path / "cache" / "data" / f"{DATASET_NAME}-{TINY.key()}"
    assert index.root == str(folder) and (folder / "SYNTHETIC.json").is_file()
    stamp = (folder / "manifest.csv").stat().st_mtime_ns
    again = load_video_synthetic(config=asdict(TINY))  # a dict works too (CLI options)
    assert again.content_hash() == index.content_hash() and (folder / "manifest.csv").stat().st_mtime_ns == stamp
    assert load_video_synthetic(folder).content_hash() == index.content_hash()  # config read back from the folder
    (folder / "extra.txt").write_text("x")
    with pytest.raises(DataError, match="another config"):
        ensure_video_synthetic(folder, replace(TINY, seed=5))


def test_invalid_configs_are_rejected():
    with pytest.raises(BenchmarkError, match="n_patients"):
        VideoSyntheticConfig(n_patients=3)
    with pytest.raises(BenchmarkError, match="size"):
        VideoSyntheticConfig(size=63)
    with pytest.raises(BenchmarkError, match="invalid video-synthetic config"):
        load_video_synthetic(config={"n_patient": 4})


def test_classes_differ_in_motion(motion):
    es, pnes = motion[motion["label"] == "ES"], motion[motion["label"] == "PNES"]
    tle, extle = motion[motion["focus"] == "TLE"], motion[motion["focus"] == "exTLE"]
    assert len(es) >= 12 and len(pnes) >= 12 and len(tle) >= 6 and len(extle) >= 6
    # ES: clonic jerks, a rhythm at 1-3 Hz; PNES: irregular, waxing-waning movements.
    assert es["rhythmic"].mean() > pnes["rhythmic"].mean() + 0.1
    # exTLE: sustained hyperkinetic whole-body movements; TLE: small automatisms, then clonic bursts.
    assert extle["log_energy"].mean() > tle["log_energy"].mean() + 0.2
    assert tle["cv"].mean() > extle["cv"].mean() + 0.1


@pytest.mark.parametrize("target, rows", [("label", None), ("focus", "ES")])
def test_motion_energy_classifier_beats_chance_on_unseen_patients(motion, target, rows):
    data = motion if rows is None else motion[motion["label"] == rows]
    x, y = data[["log_energy", "cv", "rhythmic"]].to_numpy(), data[target].to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression())
    predicted = cross_val_predict(model, x, y, groups=data["patient"], cv=LeaveOneGroupOut())
    assert balanced_accuracy_score(y, predicted) >= 0.65
