"""Denoising-pretrained video Transformer (Hou et al. 2022): corruption, loss, network, adapter.

Hand-checkable tests of the BART-like corruption (span relocation, MASK -1.0 / PAD 0.0, mask
fraction) and of Eq. (1); the adapter's contract on tiny SYNTHETIC clips (shapes, determinism,
hidden test labels, checkpoint and feature cache reuse, fallback without contextual videos); the
smoke budget's motion features (temporal differences, per-clip standardisation, delta features) on
hand-checkable values; and two learning tests on SYNTHETIC motion tasks (moving vs static square;
jerking vs drifting square on patients whose look differs, tested on unseen patients).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import torch

from benchmark.adapters import FitContext
from benchmark.conformance import LabelGuardedWindowSet
from benchmark.errors import BenchmarkError, DataError, UnknownNameError
from benchmark.metrics import binary_metrics
from benchmark.windowset import WindowSet
from methods import _video_ssl_parts as parts
from methods.video_ssl_transformer import CHECKPOINT, VideoSSLTransformer, clip_descriptors, difference_frames

# Small enough for about a second per fit on two CPU cores.
TINY = {
    "backbone": "resnet10t",
    "frame_size": 32,
    "d_model": 32,
    "heads": 4,
    "layers": 1,
    "ff_dim": 64,
    "max_positions": 16,
    "span": 3,
    "pretrain_epochs": 2,
    "epochs": 3,
}
# The paper's way of describing frames (RGB frames, raw features), on the smoke budget's small networks.
PAPER_FEATURES = {"frame_input": "frames", "clip_standardise": False, "delta_features": False}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """These networks are tiny: one torch thread is the fastest, and immune to a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def motion_clips(
    n_videos: int = 4,
    clips_per_video: int = 3,
    n_frames: int = 8,
    size: int = 32,
    seed: int = 0,
    labels: bool = True,
    tag: str = "v",
    background: int | None = 40,
) -> WindowSet:
    """SYNTHETIC clips: a bright 10-px square on a flat background, static (class 0) or moving
    5 px per frame and bouncing (class 1). Half the videos are of each class; one patient per class
    pair of videos; recording ids carry ``tag`` so different sets never share a clip identity."""
    rng = np.random.default_rng(seed)
    clips, rows, ys = [], [], []
    for v in range(n_videos):
        cls = v % 2
        patient = f"p{v // 2:02d}"
        for c in range(clips_per_video):
            level = background if background is not None else int(rng.integers(10, 80))
            clip = np.full((n_frames, 3, size, size), level, dtype=np.uint8)
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
                    "recording": f"{patient}_{tag}{v}",
                    "start": 2.0 * c,
                    "end": 2.0 * c + 2.0,
                    "unit": f"{patient}/{patient}_{tag}{v}",
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
    return WindowSet([src], refs, pd.DataFrame(rows), np.array(ys) if labels else None, ("static", "moving"), info)


def patient_clips(
    n_patients: int,
    seed: int,
    tag: str,
    labels: bool = True,
    videos: int = 2,
    clips_per_video: int = 3,
    n_frames: int = 8,
    size: int = 32,
) -> WindowSet:
    """SYNTHETIC clips of patients who each have one class and their own look (background and square
    colours, square size), as in video-synthetic: a square jerking back and forth 4 px each frame
    (class 1, a crude clonic jerk) or drifting 0.5 px per frame (class 0), plus sensor noise.
    Patient ids carry ``tag``, so sets made with other tags share no patient."""
    rng = np.random.default_rng(seed)
    clips, rows, ys = [], [], []
    for k in range(n_patients):
        cls, pid = k % 2, f"{tag}p{k:02d}"
        background, colour, side = rng.integers(20, 200, 3), rng.integers(0, 256, 3), int(rng.integers(6, 12))
        for v in range(videos):
            for c in range(clips_per_video):
                clip = np.empty((n_frames, 3, size, size), dtype=np.float32)
                clip[:] = background[None, :, None, None]
                x, y = rng.uniform(4, size - side - 4, 2)
                direction = rng.normal(size=2)
                direction /= np.linalg.norm(direction)
                for t in range(n_frames):
                    dx, dy = 4.0 * direction * (1 if t % 2 else -1) if cls else 0.5 * direction * t
                    xi, yi = (int(round(np.clip(q, 0, size - side))) for q in (x + dx, y + dy))
                    clip[t, :, yi : yi + side, xi : xi + side] = colour[:, None, None]
                clip += rng.normal(0.0, 3.0, clip.shape)
                clips.append(np.clip(clip, 0, 255).astype(np.uint8))
                ys.append(cls)
                rows.append(
                    {
                        "patient": pid,
                        "recording": f"{pid}_v{v}",
                        "start": 2.0 * c,
                        "end": 2.0 * c + 2.0,
                        "unit": f"{pid}/{pid}_v{v}",
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
    return WindowSet([src], refs, pd.DataFrame(rows), np.array(ys) if labels else None, ("drift", "jerk"), info)


def fitted(train, context, **overrides) -> VideoSSLTransformer:
    adapter = VideoSSLTransformer.from_budget("smoke", {**TINY, **overrides})
    adapter.fit(train, None, context)
    return adapter


# -- corruption ---------------------------------------------------------------------------------------------------
def test_relocate_span_moves_the_block_and_keeps_the_rest_in_order():
    assert parts.relocate_span(8, 1, 3, 4).tolist() == [0, 4, 5, 6, 1, 2, 3, 7]
    assert parts.relocate_span(6, 0, 2, 4).tolist() == [2, 3, 4, 5, 0, 1]
    assert parts.relocate_span(6, 4, 2, 0).tolist() == [4, 5, 0, 1, 2, 3]
    with pytest.raises(ValueError):
        parts.relocate_span(5, 3, 3, 0)  # the span does not fit


def test_seeded_corruption_relocates_30_frames_and_masks_15_percent():
    plan = parts.draw_corruption(250, np.random.default_rng(7), span=30, mask_fraction=0.15)
    s, i = plan.span_start, plan.insert_at
    assert 0 <= s <= 220 and 0 <= i <= 220 and s != i  # a real move
    order = plan.order.tolist()
    rest = [k for k in range(250) if not s <= k < s + 30]
    assert order == rest[:i] + list(range(s, s + 30)) + rest[i:]
    assert sorted(order) == list(range(250))
    assert plan.masked.sum() == round(0.15 * 250) == 38
    # Same seed, same corruption; another seed, another one.
    again = parts.draw_corruption(250, np.random.default_rng(7), span=30, mask_fraction=0.15)
    assert np.array_equal(again.order, plan.order) and np.array_equal(again.masked, plan.masked)
    other = parts.draw_corruption(250, np.random.default_rng(8), span=30, mask_fraction=0.15)
    assert not (np.array_equal(other.order, plan.order) and np.array_equal(other.masked, plan.masked))


def test_short_sequences_are_masked_but_not_permuted():
    plan = parts.draw_corruption(20, np.random.default_rng(0), span=30, mask_fraction=0.15)
    assert plan.order.tolist() == list(range(20)) and plan.span_start == -1
    assert plan.masked.sum() == 3


def test_mask_images_are_minus_one_and_padding_images_are_zero():
    # Six 3x2x2 "images" whose pixels all equal their frame number + 1.
    seq = torch.arange(1, 7, dtype=torch.float32).view(6, 1, 1, 1).expand(6, 3, 2, 2).contiguous()
    plan = parts.Corruption(parts.relocate_span(6, 1, 2, 3), np.array([0, 1, 0, 0, 0, 1], dtype=bool), 1, 3)
    out, pad = parts.apply_corruption(seq, plan, torch.full((3, 2, 2), -1.0), torch.zeros(3, 2, 2), length=8)
    # order [0, 3, 4, 1, 2, 5] -> frames 1, 4, 5, 2, 3, 6; positions 1 and 5 masked; two PAD images.
    assert out[:, 0, 0, 0].tolist() == [1.0, -1.0, 5.0, 2.0, 3.0, -1.0, 0.0, 0.0]
    assert bool((out[1] == -1.0).all()) and bool((out[6:] == 0.0).all())
    assert pad.tolist() == [False] * 6 + [True] * 2


def test_denoising_loss_is_squared_l2_over_valid_frames_averaged_over_clips():
    target = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    valid = torch.tensor([[True, True, False]])
    assert float(parts.denoising_loss(torch.zeros_like(target), target, valid)) == 1 + 4 + 9 + 16
    two = torch.cat([target, target])
    assert float(parts.denoising_loss(torch.zeros_like(two), two, valid.repeat(2, 1))) == 30.0


def test_mask_and_pad_tokens_are_the_frozen_encoders_features_of_constant_images():
    adapter = VideoSSLTransformer.from_budget("smoke", {**TINY, **PAPER_FEATURES})
    mask_tok, pad_tok = adapter._tokens()
    encoder = adapter._frame_encoder()
    with torch.inference_mode():
        expect = encoder(torch.stack([torch.full((3, 32, 32), -1.0), torch.zeros(3, 32, 32)]))
    assert torch.allclose(mask_tok, expect[0]) and torch.allclose(pad_tok, expect[1])
    assert not torch.allclose(mask_tok, pad_tok)
    # A constant image does not change: with delta features its tokens get a zero delta part.
    with_delta = {**TINY, **PAPER_FEATURES, "delta_features": True}
    mask_d, pad_d = VideoSSLTransformer.from_budget("smoke", with_delta)._tokens()
    assert torch.allclose(mask_d, torch.cat([expect[0], torch.zeros(512)]))
    assert torch.allclose(pad_d, torch.cat([expect[1], torch.zeros(512)]))


def test_with_clip_standardisation_mask_and_pad_are_feature_vectors_of_minus_one_and_zero():
    mask_tok, pad_tok = VideoSSLTransformer.from_budget("smoke", TINY)._tokens()  # smoke: standardised + delta
    assert mask_tok.shape == pad_tok.shape == (2 * 512,)
    assert bool((mask_tok == -1.0).all()) and bool((pad_tok == 0.0).all())


# -- smoke budget's motion features -----------------------------------------------------------------------------
def test_difference_frames_are_absolute_changes_times_the_gain_clipped_to_one():
    clips = torch.zeros(1, 3, 3, 2, 2)
    clips[0, 1] = 0.1  # frame 0 -> 1: +0.1; frame 1 -> 2: -0.1 everywhere
    clips[0, 2, 0, 0, 0] = 0.5  # one pixel of frame 2 jumps by +0.4 from frame 1
    out = difference_frames(clips, gain=4.0)
    assert out.shape == (1, 2, 3, 2, 2)
    assert torch.allclose(out[0, 0], torch.full((3, 2, 2), 0.4))
    assert torch.allclose(out[0, 1, 1:], torch.full((2, 2, 2), 0.4))
    assert float(out[0, 1, 0, 0, 0]) == 1.0  # |0.4| * 4 = 1.6, clipped to the image range
    assert float(out[0, 1, 0, 1, 1]) == pytest.approx(0.4)


def test_clip_descriptors_standardise_each_feature_over_the_clip_and_append_its_delta():
    # One clip of four frames, two features: a ramp 1, 2, 3, 4 and a constant 5.
    feats = torch.tensor([[[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [4.0, 5.0]]])
    z = (torch.tensor([1.0, 2.0, 3.0, 4.0]) - 2.5) / np.sqrt(1.25)  # population std of the ramp
    out = clip_descriptors(feats, standardise=True, delta=True)
    assert out.shape == (1, 4, 4)
    assert torch.allclose(out[0, :, 0], z, atol=1e-5)
    assert torch.equal(out[0, :, 1], torch.zeros(4))  # constant over the clip: 0, not NaN
    assert torch.allclose(out[0, :, 2], torch.tensor([0.0, 1.0, 1.0, 1.0]) / np.sqrt(1.25), atol=1e-5)
    assert torch.equal(out[0, :, 3], torch.zeros(4))
    # What is the same in every frame (a patient's look) leaves no trace; off, nothing changes.
    assert torch.allclose(clip_descriptors(feats + 7.0, True, False), out[..., :2], atol=1e-5)
    assert torch.equal(clip_descriptors(feats, False, False), feats)


def test_smoke_clip_features_are_differences_standardised_with_deltas():
    adapter = VideoSSLTransformer.from_budget("smoke", TINY)
    adapter.device_, adapter.cache_dir_ = "cpu", None
    clips = motion_clips(n_videos=2, clips_per_video=1, n_frames=8)
    feats = adapter._features(clips)
    assert feats.shape == (2, 7, 2 * 512)  # 7 frame differences of 8 frames; features and their deltas
    base = feats[..., :512]
    std = base.std(axis=1)
    assert np.allclose(base.mean(axis=1), 0.0, atol=1e-4)
    # Unit standard deviation, a little less for features that barely vary (the 1e-6 guard).
    assert (std <= 1.0 + 1e-5).all() and np.median(std[std > 0]) > 0.99
    assert (std[1] > 0.5).sum() > (std[0] > 0.5).sum()  # the moving square changes more features
    assert np.allclose(feats[:, 1:, 512:], np.diff(base, axis=1), atol=1e-5)


# -- network and settings ----------------------------------------------------------------------------------------
def test_paper_transformer_has_the_papers_78M_parameters():
    p = VideoSSLTransformer.meta.budgets["paper"]
    with torch.device("meta"):
        net = parts.DenoisingTransformer(
            2048,
            2,
            d_model=p["d_model"],
            heads=p["heads"],
            layers=p["layers"],
            ff_dim=p["ff_dim"],
            max_positions=p["max_positions"],
        )
    assert 77.0e6 < net.trunk_parameters() < 79.0e6  # "about 78M"


def test_meta_and_paper_budget_follow_the_paper():
    meta = VideoSSLTransformer.meta
    assert (meta.name, meta.modality, meta.tasks, meta.representation) == (
        "video_ssl_transformer",
        "video",
        ("classification",),
        "video",
    )
    assert meta.video_aggregation == "mean" and meta.task_defaults == {"classification": {"target": "label"}}
    p = meta.budgets["paper"]
    assert (p["backbone"], p["heads"], p["d_model"], p["layers"], p["max_positions"]) == ("resnet152", 8, 1024, 6, 256)
    assert (p["span"], p["mask_fraction"], p["mask_value"], p["pad_value"]) == (30, 0.15, -1.0, 0.0)
    assert (p["pretrain_epochs"], p["pretrain_lr"], p["epochs"], p["lr"]) == (60, 0.01, 50, 0.005)
    assert (p["batch_size"], p["weight_decay"], p["classifier_dropout"]) == (16, 1e-4, 0.5)
    assert (p["frame_input"], p["clip_standardise"], p["delta_features"]) == ("frames", False, False)
    assert meta.representation_params_for("paper")["fps"] == 25.0


def test_item08_paper_clips_are_10_s_of_250_frames_at_25_fps_padded_to_256():
    """Hou et al.: "10-second clips", "25 fps", "The input length of the model is set as 256"; the
    harness cuts the run's windows to the clip (n_frames / fps) and the 30-frame span relocation runs
    on 250-frame clips. Smoke keeps small 2-s clips of 16 frames at 8 fps."""
    from benchmark.windows import video_window

    meta = VideoSSLTransformer.meta
    paper = meta.representation_params_for("paper")
    assert (paper["n_frames"], paper["fps"], paper["size"]) == (250, 25.0, 112)
    window = video_window(paper, None, meta.name)
    assert (window.window_s, window.stride_s) == (10.0, 10.0)
    p = meta.budgets["paper"]
    assert paper["n_frames"] <= p["input_length"] == p["max_positions"] == 256 and p["span"] == 30
    rng = np.random.default_rng(0)
    plan = parts.draw_corruption(paper["n_frames"], rng, p["span"], p["mask_fraction"])
    order = np.asarray(plan.order)
    assert len(order) == 250 and sorted(order.tolist()) == list(range(250))
    assert not np.array_equal(order, np.arange(250))  # a 30-frame span was relocated
    smoke = meta.representation_params_for("smoke")
    assert (smoke["n_frames"], smoke["fps"]) == (16, 8.0)
    assert video_window(smoke, None, meta.name).window_s == 2.0


def test_bad_settings_fail_in_one_line():
    with pytest.raises(UnknownNameError, match="no hyper-parameter 'epoch'"):
        VideoSSLTransformer.from_budget("smoke", {"epoch": 3})
    with pytest.raises(BenchmarkError, match="multiple of heads"):
        VideoSSLTransformer.from_budget("smoke", {"d_model": 30, "heads": 4})
    with pytest.raises(BenchmarkError, match="frame_input must be one of"):
        VideoSSLTransformer.from_budget("smoke", {"frame_input": "flow"})
    with pytest.raises(BenchmarkError, match="difference_gain must be positive, got 0"):
        VideoSSLTransformer.from_budget("smoke", {"difference_gain": 0})
    adapter = VideoSSLTransformer.from_budget("smoke", {**TINY, "max_positions": 4})
    with pytest.raises(DataError, match="exceed the Transformer's 4 positions"):
        adapter.fit(motion_clips(), None, FitContext(seed=0))


def test_class_weight_is_the_reciprocal_of_the_clip_count():
    assert parts.class_weight_reciprocal(np.array([0, 0, 0, 1]), 3).tolist() == [1 / 3, 1.0, 0.0]


# -- adapter -----------------------------------------------------------------------------------------------------
def test_fit_predict_shapes_determinism_and_hidden_test_labels(tmp_path):
    train, unl = motion_clips(seed=0, tag="t"), motion_clips(seed=1, labels=False, tag="c")
    test = LabelGuardedWindowSet.wrap(motion_clips(seed=2, tag="x"))
    probs = []
    for run in range(2):
        ctx = FitContext(seed=3, work_dir=tmp_path / f"w{run}", unlabelled=unl)
        adapter = fitted(train, ctx)
        probs.append(adapter.predict_proba(test))
    assert probs[0].shape == (len(test), 2) and np.allclose(probs[0].sum(axis=1), 1.0)
    assert np.array_equal(probs[0], probs[1])
    assert not test.label_reads
    assert "12 contextual clips" in adapter.weights_source() and "random init" in adapter.weights_source()
    assert adapter.n_parameters() == sum(p.numel() for p in adapter.model_.parameters())
    other = fitted(train, FitContext(seed=4, unlabelled=unl))
    assert not np.array_equal(other.predict_proba(test), probs[0])


def test_without_contextual_clips_it_pretrains_on_unlabelled_training_clips_and_says_so(caplog):
    train = motion_clips(seed=0, tag="t")
    with caplog.at_level(logging.WARNING):
        adapter = fitted(train, FitContext(seed=0, unlabelled=None))
    assert "no unlabelled contextual clips" in caplog.text
    assert "12 labelled training clips with labels dropped" in adapter.weights_source()
    # Labels are not used in pre-training: shuffled labels give the same pre-trained Transformer.
    shuffled = WindowSet(train.sources, train.refs, train.meta, train.y[::-1].copy(), train.classes, train.info)
    a = VideoSSLTransformer.from_budget("smoke", TINY)
    b = VideoSSLTransformer.from_budget("smoke", TINY)
    a.pretrain(train, FitContext(seed=0))
    b.pretrain(shuffled, FitContext(seed=0))
    for (k, v), w in zip(a.model_.state_dict().items(), b.model_.state_dict().values()):
        assert torch.equal(v, w), k


def test_a_resumed_fold_reloads_the_pretrained_transformer(tmp_path, caplog):
    train, unl = motion_clips(seed=0, tag="t"), motion_clips(seed=1, labels=False, tag="c")
    test = motion_clips(seed=2, tag="x").without_labels()
    first = fitted(train, FitContext(seed=0, work_dir=tmp_path, unlabelled=unl))
    assert (tmp_path / CHECKPOINT).exists()
    with caplog.at_level(logging.INFO):
        again = fitted(train, FitContext(seed=0, work_dir=tmp_path, unlabelled=unl))
    assert "loaded the fold's pre-trained Transformer" in caplog.text
    assert np.array_equal(first.predict_proba(test), again.predict_proba(test))
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # other pre-training clips: the checkpoint is refused
        fitted(train, FitContext(seed=0, work_dir=tmp_path, unlabelled=motion_clips(seed=5, labels=False, tag="d")))
    assert "pre-training again" in caplog.text


def test_frame_features_are_cached_and_give_the_same_predictions(tmp_path):
    train, unl = motion_clips(seed=0, tag="t"), motion_clips(seed=1, labels=False, tag="c")
    test = motion_clips(seed=2, tag="x").without_labels()
    plain = fitted(train, FitContext(seed=0, unlabelled=unl)).predict_proba(test)
    cached = fitted(train, FitContext(seed=0, unlabelled=unl, cache_dir=tmp_path)).predict_proba(test)
    files = sorted(tmp_path.rglob("*.npy"))
    assert len(files) == 4 + 4 + 4  # one per (patient, video) of train, contextual and test clips
    stamps = [f.stat().st_mtime_ns for f in files]
    again = fitted(train, FitContext(seed=0, unlabelled=unl, cache_dir=tmp_path)).predict_proba(test)
    assert [f.stat().st_mtime_ns for f in files] == stamps  # read, not rewritten
    assert np.allclose(plain, cached, atol=1e-6) and np.array_equal(cached, again)


def test_efficiency_report_counts_the_frozen_encoder_and_the_transformer():
    adapter = VideoSSLTransformer.from_budget("smoke", TINY)
    rep = adapter.efficiency_report((8, 3, 32, 32), latency_repeats=1)
    assert rep["n_params_total"] > rep["n_params_frame_encoder"] > rep["n_params_transformer"] > 0
    assert rep["flops_per_window"] > 0 and rep["inference_ms_per_window"] > 0 and rep["model_size_mb"] > 0


def test_learns_a_synthetic_motion_task():
    """SYNTHETIC: moving vs static square; chance is 0.5 (balanced test clips)."""
    train = motion_clips(n_videos=16, clips_per_video=6, seed=0, tag="t")
    unl = motion_clips(n_videos=8, clips_per_video=4, seed=1, labels=False, tag="c", background=None)
    test = motion_clips(n_videos=8, clips_per_video=6, seed=2, tag="x")
    adapter = fitted(train, FitContext(seed=0, unlabelled=unl), d_model=64, layers=2, ff_dim=128, epochs=30)
    accuracy = float((adapter.predict_proba(test.without_labels()).argmax(axis=1) == test.y).mean())
    assert accuracy >= 0.8, accuracy


def test_learns_motion_rhythm_on_unseen_patients_whatever_their_look():
    """SYNTHETIC: jerking vs drifting square; one class and one look per patient, tested on patients
    never seen in training (as leave-one-subject-out does). Chance is 0.5. With the paper's frame
    path on a random-init encoder (PAPER_FEATURES) the AUC here stays near chance; with lr 0 too."""
    train, test = patient_clips(8, seed=0, tag="t"), patient_clips(6, seed=1, tag="x")
    unl = patient_clips(4, seed=2, tag="c", labels=False)
    adapter = fitted(train, FitContext(seed=0, unlabelled=unl), epochs=10)
    score = adapter.predict_proba(test.without_labels())[:, 1]
    m = binary_metrics(test.y, score)
    assert m["roc_auc"] >= 0.9 and m["balanced_accuracy"] >= 0.8, m
