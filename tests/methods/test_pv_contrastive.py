"""Patient- and video-level contrastive TimeSformer (Li et al. 2024) and its three ablations.

Hand-computed values of the two contrastive losses on four embeddings, the positive/negative masks
of each level, the batches that give every clip positives, the adapters' contract on tiny
SYNTHETIC clips (shapes, determinism, labels never used in pre-training, checkpoint reuse) and a
learning test on a SYNTHETIC motion task.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest
import torch

from benchmark.adapters import FitContext, get_method
from benchmark.conformance import LabelGuardedWindowSet
from benchmark.errors import BenchmarkError, DataError
from benchmark.windowset import WindowSet
from methods import _video_ssl_parts as parts
from methods.pv_contrastive_timesformer import (
    CHECKPOINT,
    PVContrastiveTimeSformer,
    PVContrastiveTimeSformerNoPretrain,
)

METHODS = {
    "pv_contrastive_timesformer": ("video", "patient"),
    "pv_contrastive_timesformer_video_only": ("video",),
    "pv_contrastive_timesformer_patient_only": ("patient",),
    "pv_contrastive_timesformer_nopretrain": (),
}
TINY = {"img_size": 32, "patch_size": 8, "embed_dim": 32, "depth": 1, "heads": 4, "head_hidden": [16], "epochs": 5}
TINY_PRETRAIN = {"pretrain_epochs": 2, "max_pretrain_batches_per_epoch": 4}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """These networks are tiny: one torch thread is the fastest, and immune to a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def overrides(name: str, **extra) -> dict:
    allowed = get_method(name).meta.budgets["smoke"]
    return {k: v for k, v in {**TINY, **TINY_PRETRAIN, **extra}.items() if k in allowed}


def motion_clips(
    n_patients: int = 4,
    videos_per_patient: int = 2,
    clips_per_video: int = 3,
    n_frames: int = 8,
    size: int = 32,
    seed: int = 0,
    labels: bool = True,
    tag: str = "v",
) -> WindowSet:
    """SYNTHETIC clips of a bright 10-px square on a flat grey background: static for the patients
    of class 0 (even patients), moving 5 px per frame and bouncing for class 1 (odd), as epilepsy
    type is a property of the patient in Li et al. Recording ids carry ``tag`` to keep sets apart."""
    rng = np.random.default_rng(seed)
    clips, rows, ys = [], [], []
    for p in range(n_patients):
        cls, patient = p % 2, f"p{p:02d}"
        for v in range(videos_per_patient):
            video = f"{patient}_{tag}{v}"
            for c in range(clips_per_video):
                clip = np.full((n_frames, 3, size, size), 40, dtype=np.uint8)
                x, y = (int(k) for k in rng.integers(0, size - 10, 2))
                dx, dy = (int(rng.choice([-5, 5])), int(rng.choice([-5, 5]))) if cls else (0, 0)
                for t in range(n_frames):
                    clip[t, :, y : y + 10, x : x + 10] = 220
                    dx = -dx if not 0 <= x + dx <= size - 10 else dx
                    dy = -dy if not 0 <= y + dy <= size - 10 else dy
                    x, y = x + dx, y + dy
                clips.append(clip)
                ys.append(cls)
                rows.append(
                    {
                        "patient": patient,
                        "recording": video,
                        "start": 2.0 * c,
                        "end": 2.0 * c + 2.0,
                        "unit": f"{patient}/{video}",
                    }
                )
    src = np.stack(clips)
    info = {
        "representation": "video",
        "n_frames": n_frames,
        "size": size,
        "fps": 25.0,
        "window_s": 2.0,
        "task": "classification",
        "dataset": "fake-video",
        "synthetic": True,
    }
    refs = np.column_stack([np.zeros(len(src), dtype=np.int64), np.arange(len(src))])
    return WindowSet([src], refs, pd.DataFrame(rows), np.array(ys) if labels else None, ("TLE", "exTLE"), info)


# -- losses ------------------------------------------------------------------------------------------------------
# Four clips: c0, c1 of video A (patient P), c2 of video B (patient P), c3 of video C (patient Q).
# Unit embeddings 90 degrees apart: cosine similarities are 1, 0 or -1.
Z4 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
VIDEOS4 = torch.tensor([0, 0, 1, 2])
PATIENTS4 = torch.tensor([0, 0, 0, 1])


def test_positive_and_negative_masks_of_each_level():
    vpos, vneg = parts.pair_masks(VIDEOS4)
    assert vpos.int().tolist() == [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert vneg.int().tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 0, 1], [1, 1, 1, 0]]
    ppos, pneg = parts.pair_masks(PATIENTS4)
    assert ppos.int().tolist() == [[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 0]]
    assert pneg.int().tolist() == [[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1], [1, 1, 1, 0]]


def test_video_level_loss_by_hand():
    # Pairs (0,1): s=0, negatives s02=-1, s03=0; (1,0): s=0, negatives s12=0, s13=-1.
    # Each term is -log(e^0 / (e^0 + e^-1 + e^0)) = log(2 + 1/e).
    pos, neg = parts.pair_masks(VIDEOS4)
    loss = parts.pair_contrastive_loss(Z4, pos, neg, temperature=1.0)
    assert float(loss) == pytest.approx(math.log(2 + 1 / math.e), abs=1e-6)


def test_patient_level_loss_by_hand():
    # The only negative of clips 0-2 is c3 (s03 = 0, s13 = -1, s23 = 0). Ordered pairs:
    # (0,1): log 2; (0,2): log(1+e); (1,0): log(1+1/e); (1,2): log(1+1/e); (2,0): log(1+e); (2,1): log 2.
    pos, neg = parts.pair_masks(PATIENTS4)
    loss = parts.pair_contrastive_loss(Z4, pos, neg, temperature=1.0)
    expected = (2 * math.log(2) + 2 * math.log(1 + math.e) + 2 * math.log(1 + 1 / math.e)) / 6
    assert float(loss) == pytest.approx(expected, abs=1e-6)
    # Temperature divides the similarities: tau = 0.5 doubles them.
    half = parts.pair_contrastive_loss(Z4, pos, neg, temperature=0.5)
    expected = (2 * math.log(2) + 2 * math.log(1 + math.e**2) + 2 * math.log(1 + math.e**-2)) / 6
    assert float(half) == pytest.approx(expected, abs=1e-6)


def test_full_objective_is_the_sum_and_embeddings_are_normalised():
    both = parts.pretraining_loss(3.0 * Z4, VIDEOS4, PATIENTS4, ("video", "patient"), 1.0)
    video = parts.pretraining_loss(Z4, VIDEOS4, PATIENTS4, ("video",), 1.0)
    patient = parts.pretraining_loss(Z4, VIDEOS4, PATIENTS4, ("patient",), 1.0)
    assert float(both) == pytest.approx(float(video) + float(patient), abs=1e-6)
    with pytest.raises(ValueError, match="levels"):
        parts.pretraining_loss(Z4, VIDEOS4, PATIENTS4, ("label",), 1.0)


def test_batches_without_pairs_give_zero_and_finite_gradients():
    z = Z4.clone().requires_grad_(True)
    one_patient = torch.zeros(4, dtype=torch.long)  # no patient-level negatives anywhere
    loss = parts.pretraining_loss(z, VIDEOS4, one_patient, ("patient",), 0.1)
    loss.backward()
    assert float(loss.detach()) == 0.0 and bool(torch.isfinite(z.grad).all())
    z.grad = None
    parts.pretraining_loss(z, VIDEOS4, PATIENTS4, ("video", "patient"), 0.1).backward()
    assert bool(torch.isfinite(z.grad).all()) and float(z.grad.abs().sum()) > 0


def test_grouped_batches_give_every_clip_positives_at_both_levels():
    meta = motion_clips(n_patients=5, videos_per_patient=3, clips_per_video=4).meta
    patients = parts.group_codes(meta["patient"])
    videos = parts.group_codes(meta["recording"])
    batches = list(parts.grouped_batches(patients, videos, np.random.default_rng(0), 8, 2, 2, 20))
    again = list(parts.grouped_batches(patients, videos, np.random.default_rng(0), 8, 2, 2, 20))
    assert len(batches) == 20 and all(np.array_equal(a, b) for a, b in zip(batches, again))
    for rows in batches:
        assert len(rows) == 8 and len(set(rows.tolist())) == 8
        assert len(set(patients[rows])) == 2  # two patients, two videos each, two clips per video
        for level in (videos, patients):
            pos, neg = parts.pair_masks(torch.from_numpy(level[rows]))
            assert bool(pos.any(dim=1).all()) and bool(neg.any(dim=1).all())


# -- registration and settings -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(METHODS))
def test_four_registered_variants_share_the_papers_settings(name):
    cls = get_method(name)
    meta = cls.meta
    assert cls.LEVELS == METHODS[name]
    assert (meta.modality, meta.tasks, meta.representation) == ("video", ("classification",), "video")
    assert meta.video_aggregation == "vote" and meta.task_defaults == {"classification": {"target": "focus"}}
    p = meta.budgets["paper"]
    assert (p["embed_dim"], p["depth"], p["heads"], p["img_size"], p["patch_size"]) == (768, 12, 12, 224, 16)
    assert p["epochs"] == 10 and p["head_hidden"] == [256, 64]
    assert ("pretrain_epochs" in p) == bool(METHODS[name])
    if METHODS[name]:
        assert (p["pretrain_epochs"], p["pretrain_batch_size"]) == (5, 8)


def test_item08_paper_clips_are_timesformer_l_96_frames_over_10_s():
    """Li et al.: "TimeSformer-L featuring a 96-frame input and a spatial crop of 224×224 pixels" on
    "non-overlapping clips, each lasting 10 seconds": 96 frames at 9.6 fps, windows of 10 s back to back."""
    from benchmark.windows import video_window

    for name in METHODS:
        meta = get_method(name).meta
        paper = meta.representation_params_for("paper")
        assert (paper["n_frames"], paper["fps"], paper["size"]) == (96, 9.6, 224)
        window = video_window(paper, None, name)
        assert window.window_s == pytest.approx(10.0) and window.stride_s == window.window_s
        smoke = meta.representation_params_for("smoke")
        assert smoke["n_frames"] / smoke["fps"] == 2.0 and smoke["size"] < paper["size"]


def test_bad_settings_fail_in_one_line():
    with pytest.raises(BenchmarkError, match="multiple of patch_size"):
        PVContrastiveTimeSformer.from_budget("smoke", {"img_size": 30})
    with pytest.raises(BenchmarkError, match="temperature must be positive"):
        PVContrastiveTimeSformer.from_budget("smoke", {"temperature": 0})
    adapter = PVContrastiveTimeSformerNoPretrain.from_budget("smoke", TINY)
    flat = WindowSet(
        [np.zeros((4, 3, 8), np.float32)],
        np.column_stack([np.zeros(4, int), np.arange(4)]),
        motion_clips().meta.iloc[:4].reset_index(drop=True),
        np.array([0, 1, 0, 1]),
        ("a", "b"),
    )
    with pytest.raises(DataError, match="needs video clips"):
        adapter.fit(flat, None, FitContext(seed=0))


# -- adapters --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(METHODS))
def test_fit_predict_shapes_determinism_and_hidden_test_labels(name, tmp_path):
    train, unl = motion_clips(seed=0, tag="t"), motion_clips(seed=1, labels=False, tag="c")
    test = LabelGuardedWindowSet.wrap(motion_clips(seed=2, tag="x"))
    probs = []
    for run in range(2):
        adapter = get_method(name).from_budget("smoke", overrides(name))
        adapter.fit(train, None, FitContext(seed=1, work_dir=tmp_path / f"w{run}", unlabelled=unl))
        probs.append(adapter.predict_proba(test))
    assert probs[0].shape == (len(test), 2) and np.allclose(probs[0].sum(axis=1), 1.0)
    assert np.array_equal(probs[0], probs[1]) and not test.label_reads
    source = adapter.weights_source()
    assert "random init (backbone_weights=random; not the paper's setting)" in source
    if METHODS[name]:
        assert "24 contextual clips and 24 training clips without labels" in source
    else:
        assert "no contrastive pre-training" in source


def test_positives_come_from_metadata_never_from_labels():
    train, unl = motion_clips(seed=0, tag="t"), motion_clips(seed=1, labels=False, tag="c")
    shuffled = WindowSet(train.sources, train.refs, train.meta, 1 - train.y, train.classes, train.info)
    states = []
    for data in (train, shuffled):
        adapter = PVContrastiveTimeSformer.from_budget("smoke", overrides("pv_contrastive_timesformer"))
        adapter.pretrain(data, FitContext(seed=0, unlabelled=unl))
        states.append(adapter.encoder_.state_dict())
    before = PVContrastiveTimeSformer.from_budget("smoke", overrides("pv_contrastive_timesformer"))._build_encoder(8)
    for key, value in states[0].items():
        assert torch.equal(value, states[1][key]), key
    assert any(not torch.equal(v, before.state_dict()[k]) for k, v in states[0].items())  # it did train


def test_a_resumed_fold_reloads_the_pretrained_encoder(tmp_path, caplog):
    train, unl = motion_clips(seed=0, tag="t"), motion_clips(seed=1, labels=False, tag="c")
    test = motion_clips(seed=2, tag="x").without_labels()
    kw = overrides("pv_contrastive_timesformer")
    first = PVContrastiveTimeSformer.from_budget("smoke", kw)
    first.fit(train, None, FitContext(seed=0, work_dir=tmp_path, unlabelled=unl))
    assert (tmp_path / CHECKPOINT).exists()
    again = PVContrastiveTimeSformer.from_budget("smoke", kw)
    with caplog.at_level(logging.INFO):
        again.fit(train, None, FitContext(seed=0, work_dir=tmp_path, unlabelled=unl))
    assert "loaded the fold's pre-trained encoder" in caplog.text
    assert np.array_equal(first.predict_proba(test), again.predict_proba(test))
    caplog.clear()
    other = PVContrastiveTimeSformer.from_budget("smoke", {**kw, "temperature": 0.5})
    with caplog.at_level(logging.WARNING):
        other.fit(train, None, FitContext(seed=0, work_dir=tmp_path, unlabelled=unl))
    assert "pre-training again" in caplog.text


def test_efficiency_report():
    adapter = PVContrastiveTimeSformer.from_budget("smoke", TINY)
    rep = adapter.efficiency_report((8, 3, 32, 32), latency_repeats=1)
    assert rep["n_params_total"] == rep["n_params_encoder"] + rep["n_params_head"] > 0
    assert rep["flops_per_window"] > 0 and rep["inference_ms_per_window"] > 0


def test_learns_a_synthetic_motion_task():
    """SYNTHETIC: moving (class 1 patients) vs static squares; chance is 0.5 (balanced test clips)."""
    train = motion_clips(n_patients=8, videos_per_patient=2, clips_per_video=4, seed=0, tag="t")
    unl = motion_clips(n_patients=8, videos_per_patient=2, clips_per_video=4, seed=1, labels=False, tag="c")
    test = motion_clips(n_patients=4, videos_per_patient=2, clips_per_video=6, seed=2, tag="x")
    adapter = PVContrastiveTimeSformer.from_budget("smoke", {"img_size": 32, "patch_size": 8, "epochs": 20})
    adapter.fit(train, None, FitContext(seed=0, unlabelled=unl))
    accuracy = float((adapter.predict_proba(test.without_labels()).argmax(axis=1) == test.y).mean())
    assert accuracy >= 0.8, accuracy
