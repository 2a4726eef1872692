"""ResNet-LSTM with supervised contrastive pre-training (Lee et al. 2024) and its ablations.

Unit tests of the pieces (STFT input size, augmentations, SupCon loss, sequences, sampling), the
conformance suite for the three registered methods, the per-fold encoder checkpoint, and one
learning test on a SYNTHETIC dataset with a strong pre-ictal signature.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd
import pytest
import torch

from benchmark import features
from benchmark.adapters import FitContext, get_method
from benchmark.conformance import check_adapter, format_results
from benchmark.errors import DataError, UnknownNameError
from benchmark.fake_data import make_windowset
from methods import _resnet_lstm_parts as parts
from methods.resnet_lstm_supcon import CHECKPOINT, SPECTROGRAM_PARAMS, ResNetLSTMSupCon

METHODS = ("resnet_lstm_supcon", "resnet_lstm", "resnet_supcon")
# Enough to exercise every code path in a second or two per fit.
TINY = {"pretrain_epochs": 2, "epochs": 1, "max_windows_per_epoch": 16, "pretrain_batch_size": 8, "batch_size": 8}
TINY_DOWNSTREAM = {k: v for k, v in TINY.items() if not k.startswith("pretrain")}


def tiny_overrides(name: str) -> dict:
    allowed = get_method(name).meta.budgets["smoke"]
    return {k: v for k, v in TINY.items() if k in allowed}


def ten_second_windows(n: int = 40, seed: int = 0, **kw):
    """SYNTHETIC 10-s spectrogram windows, 4 channels at 128 Hz: (4, 21, 60) each."""
    return make_windowset(
        n,
        n_chans=4,
        n_times=1280,
        sfreq=128,
        representation="spectrogram",
        params=SPECTROGRAM_PARAMS,
        seed=seed,
        positive_fraction=0.5,
        **kw,
    )


# -- input ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sfreq, n_chans", [(256, 18), (200, 21)])  # CHB-MIT, SNUH
def test_stft_of_a_ten_second_window_is_21_frames_by_60_frequencies(sfreq, n_chans):
    params = ResNetLSTMSupCon.meta.representation_params
    n_times = 10 * sfreq
    assert features.output_shape("spectrogram", n_chans, n_times, sfreq, params) == (n_chans, 21, 60)
    x = np.random.default_rng(0).normal(0, 20, (2, n_chans, n_times)).astype(np.float32)
    assert features.compute("spectrogram", x, sfreq, params).shape == (2, n_chans, 21, 60)


def test_all_three_methods_share_the_papers_stft_and_support_prediction_only():
    for name in METHODS:
        meta = get_method(name).meta
        assert meta.representation == "spectrogram" and meta.representation_params == SPECTROGRAM_PARAMS
        assert meta.tasks == ("prediction",) and meta.modality == "eeg" and not meta.is_baseline
        assert meta.budgets["paper"]["epochs"] == 100 and meta.budgets["paper"]["lr"] == 0.01
        assert meta.budgets["paper"]["batch_size"] == 512
    for name in ("resnet_lstm_supcon", "resnet_supcon"):
        paper = get_method(name).meta.budgets["paper"]
        assert (paper["pretrain_epochs"], paper["pretrain_lr"], paper["pretrain_batch_size"]) == (300, 0.05, 512)
    assert "pretrain_epochs" not in get_method("resnet_lstm").meta.budgets["paper"]
    assert "lstm_context_s" not in get_method("resnet_supcon").meta.budgets["paper"]


# -- augmentations ------------------------------------------------------------------------------------
def positive_batch(b: int = 3, c: int = 2, t: int = 21, f: int = 60) -> torch.Tensor:
    return torch.rand(b, c, t, f, generator=torch.Generator().manual_seed(0)) + 1.0  # no zeros anywhere


def test_band_stop_zeroes_exactly_the_chosen_band():
    x = positive_batch()
    starts = np.array([0, 23, 50])
    out = parts.band_stop(x, starts, width=10)
    for i, s in enumerate(starts):
        removed = np.zeros(60, bool)
        removed[s : s + 10] = True
        assert (out[i][..., removed] == 0).all()
        assert torch.equal(out[i][..., ~removed], x[i][..., ~removed])
    assert (x > 0).all(), "the input must not be modified"


def test_temporal_cutout_zeroes_exactly_the_chosen_frames():
    x = positive_batch()
    starts = np.array([0, 4, 9])
    out = parts.temporal_cutout(x, starts, n_frames=12)
    for i, s in enumerate(starts):
        removed = np.zeros(21, bool)
        removed[s : s + 12] = True
        assert (out[i][:, removed] == 0).all()
        assert torch.equal(out[i][:, ~removed], x[i][:, ~removed])


@pytest.mark.parametrize("sfreq", [256, 200])
def test_cutout_removes_exactly_six_seconds(sfreq):
    adapter = ResNetLSTMSupCon.from_budget("paper")
    n_frames = features.output_shape("spectrogram", 18, 10 * sfreq, sfreq, SPECTROGRAM_PARAMS)[1]
    band_bins, cut_frames = adapter._augmentation_sizes(n_frames, 60)
    frame_step_s = 10.0 / (n_frames - 1)  # centred frames span the 10-s window end to end
    assert cut_frames * frame_step_s == pytest.approx(6.0)
    assert band_bins == 10  # 10 Hz of 1-Hz bins


@pytest.mark.parametrize("mode", ["either", "both"])
def test_augment_removes_one_band_and_or_one_stretch_per_view(mode):
    x = positive_batch(b=64)
    out = parts.augment(x, np.random.default_rng(0), bandstop_bins=10, cutout_frames=12, mode=mode)
    zero = (out == 0).all(dim=1)  # (batch, frames, freqs): zero in every channel
    band = zero.all(dim=1)  # frequency bins zero in every frame
    cut = zero.all(dim=2)  # frames zero at every frequency
    n_band, n_cut = band.sum(dim=1).tolist(), cut.sum(dim=1).tolist()
    for i in range(len(x)):
        kept = ~(band[i][None, :] | cut[i][:, None])
        assert torch.equal(out[i][:, kept], x[i][:, kept]), "only the removed band and frames change"
        if mode == "both":
            assert (n_band[i], n_cut[i]) == (10, 12)
        else:
            assert (n_band[i], n_cut[i]) in {(10, 0), (0, 12)}
        for mask in (band[i], cut[i]):  # each removed part is one contiguous block
            idx = torch.nonzero(mask).flatten()
            assert len(idx) == 0 or idx[-1] - idx[0] + 1 == len(idx)
    if mode == "either":
        assert 0 < sum(n > 0 for n in n_band) < len(x), "both augmentations occur"
    again = parts.augment(x, np.random.default_rng(0), bandstop_bins=10, cutout_frames=12, mode=mode)
    assert torch.equal(out, again), "the same generator state gives the same views"


# -- supervised contrastive loss -------------------------------------------------------------------------------
def supcon_by_hand(z: np.ndarray, labels: np.ndarray, tau: float) -> float:
    """Khosla et al. (2020) Eq. 2 written out with loops, averaged over anchors."""
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    per_anchor = []
    for i in range(len(z)):
        others = [a for a in range(len(z)) if a != i]
        denom = sum(np.exp(z[i] @ z[a] / tau) for a in others)
        positives = [p for p in others if labels[p] == labels[i]]
        per_anchor.append(-np.mean([np.log(np.exp(z[i] @ z[p] / tau) / denom) for p in positives]))
    return float(np.mean(per_anchor))


def test_supcon_loss_equals_the_hand_computed_value():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 3))
    labels = np.array([0, 1, 0, 1])
    got = parts.supcon_loss(torch.tensor(z), torch.tensor(labels), temperature=0.5)
    assert float(got) == pytest.approx(supcon_by_hand(z, labels, 0.5), rel=1e-6)
    # Closed form: classes at two opposite points; each anchor has 1 positive (cosine 1) and 2
    # negatives (cosine -1), so the loss is -log(e^(1/t) / (e^(1/t) + 2 e^(-1/t))) = log(1 + 2 e^(-2/t)).
    e = np.array([[1.0, 0.0, 0.0]])
    z2 = np.vstack([e, e, -e, -e])
    got2 = parts.supcon_loss(torch.tensor(z2), torch.tensor([0, 0, 1, 1]), temperature=0.5)
    assert float(got2) == pytest.approx(np.log1p(2 * np.exp(-4.0)), rel=1e-6)


def test_supcon_loss_is_lowest_when_same_class_embeddings_coincide():
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    centre = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64)  # float64: the margins are tiny at tau 0.1
    collapsed = torch.cat([centre.repeat(3, 1), -centre.repeat(3, 1)])
    best = float(parts.supcon_loss(collapsed, labels, 0.1))
    gen = torch.Generator().manual_seed(0)
    for scale in (0.01, 0.1, 0.5):
        for _ in range(5):
            perturbed = collapsed + scale * torch.randn(collapsed.shape, generator=gen, dtype=torch.float64)
            assert float(parts.supcon_loss(perturbed, labels, 0.1)) > best
    # Coinciding but not opposite (orthogonal class centres) is worse too.
    ortho = torch.cat([centre.repeat(3, 1), torch.tensor([[0.0, 1.0, 0.0, 0.0]], dtype=torch.float64).repeat(3, 1)])
    assert float(parts.supcon_loss(ortho, labels, 0.1)) > best


# -- sequences and sampling ----------------------------------------------------------------------------------------
def test_sequences_are_causal_within_a_recording_and_padded_at_segment_starts():
    meta = pd.DataFrame(
        {
            "patient": ["p1"] * 6 + ["p2"] * 2,
            "recording": ["r1", "r1", "r1", "r1", "r1", "r2", "q1", "q1"],
            # r1: 0, 10, 20 contiguous; a gap; 100, 110 contiguous. Rows are not in time order.
            "start": [20.0, 0.0, 10.0, 110.0, 100.0, 0.0, 0.0, 10.0],
        }
    )
    meta["end"] = meta["start"] + 10.0
    seqs = parts.sequence_index(meta, seq_len=3)
    expected = {
        0: [1, 2, 0],
        1: [1, 1, 1],
        2: [1, 1, 2],
        3: [4, 4, 3],
        4: [4, 4, 4],
        5: [5, 5, 5],
        6: [6, 6, 6],
        7: [6, 6, 7],
    }
    assert {i: list(s) for i, s in enumerate(seqs)} == expected
    shuffled = np.random.default_rng(0).permutation(len(meta))
    again = parts.sequence_index(meta.iloc[shuffled].reset_index(drop=True), seq_len=3)
    np.testing.assert_array_equal(shuffled[again], seqs[shuffled], "row order must not matter")
    np.testing.assert_array_equal(parts.sequence_index(meta, 1)[:, 0], np.arange(len(meta)))


def test_balanced_sample_draws_equal_classes_and_respects_the_cap():
    y = np.array([0] * 30 + [1] * 6)
    rng = np.random.default_rng(0)
    idx = parts.balanced_sample(y, rng)
    assert np.bincount(y[idx]).tolist() == [6, 6] and len(set(idx)) == 12
    assert np.bincount(y[parts.balanced_sample(y, rng, max_windows=8)]).tolist() == [4, 4]
    assert sorted(parts.balanced_sample(y, rng, balance=False)) == list(range(36))


def test_resnet_paper_stem_gives_the_feature_maps_the_paper_lists():
    net = parts.resnet18_encoder(18, "paper").eval()
    shapes = []
    hooks = [
        getattr(net, n).register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
        for n in ("relu", "layer1", "layer2", "layer3", "layer4")
    ]
    with torch.no_grad():
        out = net(torch.zeros(1, 18, 21, 60))
    for h in hooks:
        h.remove()
    assert shapes == [(64, 21, 60), (64, 21, 60), (128, 11, 30), (256, 6, 15), (512, 3, 8)]
    assert out.shape == (1, 512)


# -- adapters --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", METHODS)
def test_method_passes_conformance(name):
    results = check_adapter(name, overrides=tiny_overrides(name))
    assert all(r.ok for r in results), format_results(results)


def test_unknown_hyper_parameter_is_refused_with_a_suggestion():
    with pytest.raises(UnknownNameError, match="Did you mean 'lstm_context_s'"):
        get_method("resnet_lstm_supcon").from_budget("smoke", {"lstm_context": 4})


def test_non_spectrogram_windows_are_refused():
    raw = make_windowset(16, n_chans=4, n_times=256, sfreq=128)
    with pytest.raises(DataError, match="spectrogram"):
        get_method("resnet_lstm").from_budget("smoke", TINY_DOWNSTREAM).fit(raw, None, FitContext(seed=0))


def test_encoder_checkpoint_is_written_once_and_reused(tmp_path, caplog, monkeypatch):
    train, test = ten_second_windows(40, seed=1), ten_second_windows(16, seed=2, labels=False)
    name = "resnet_lstm_supcon"
    loads = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **kw: loads.append(kw) or real_load(*a, **kw))

    first = get_method(name).from_budget("smoke", tiny_overrides(name))
    ctx = FitContext(seed=5, work_dir=tmp_path)
    first.pretrain(train, ctx)
    first.fit(train, None, ctx)
    assert (tmp_path / CHECKPOINT).is_file() and len(first.pretrain_history_) == 2
    assert not loads

    second = get_method(name).from_budget("smoke", tiny_overrides(name))
    with caplog.at_level(logging.INFO, logger=ctx.logger.name):
        second.pretrain(train, ctx)
        second.fit(train, None, ctx)
    assert not hasattr(second, "pretrain_history_"), "pre-training must be skipped"
    assert any("cached pre-trained encoder" in r.getMessage() for r in caplog.records)
    assert loads and all(kw.get("weights_only") is True for kw in loads)
    # The downstream stage re-seeds itself: a resumed fold predicts exactly as an uninterrupted one.
    np.testing.assert_array_equal(first.predict_proba(test), second.predict_proba(test))

    # A local encoder file replaces pre-training and is reported as the weights' source.
    overrides = {**tiny_overrides(name), "encoder_weights": str(tmp_path / CHECKPOINT)}
    given = get_method(name).from_budget("smoke", overrides)
    given.fit(train, None, FitContext(seed=5, work_dir=tmp_path / "other"))
    assert given.weights_source() == str(tmp_path / CHECKPOINT) and not (tmp_path / "other" / CHECKPOINT).exists()
    assert first.weights_source() == "random init"
    missing = get_method(name).from_budget("smoke", {**overrides, "encoder_weights": str(tmp_path / "nope.pt")})
    with pytest.raises(DataError, match="does not exist"):
        missing.fit(train, None, FitContext(seed=5))


def test_a_damaged_or_foreign_checkpoint_is_replaced_and_bad_encoder_weights_are_refused(tmp_path, caplog):
    train = ten_second_windows(24, seed=1)
    (tmp_path / CHECKPOINT).write_bytes(b"not a checkpoint")
    adapter = get_method("resnet_supcon").from_budget("smoke", tiny_overrides("resnet_supcon"))
    with caplog.at_level(logging.WARNING):
        adapter.fit(train, None, FitContext(seed=0, work_dir=tmp_path))
    assert any("cannot use the cached encoder" in r.getMessage() for r in caplog.records)
    assert hasattr(adapter, "pretrain_history_")
    torch.load(tmp_path / CHECKPOINT, weights_only=True)  # rewritten, readable
    other = {**tiny_overrides("resnet_supcon"), "stem": "paper", "encoder_weights": str(tmp_path / CHECKPOINT)}
    with pytest.raises(DataError, match="does not fit this ResNet-18"):
        get_method("resnet_supcon").from_budget("smoke", other).fit(train, None, FitContext(seed=0))


def test_frozen_encoder_keeps_the_pretrained_weights():
    train = ten_second_windows(40, seed=1)
    overrides = {**tiny_overrides("resnet_lstm_supcon"), "finetune_encoder": False}
    adapter = get_method("resnet_lstm_supcon").from_budget("smoke", overrides)
    ctx = FitContext(seed=0)
    adapter.pretrain(train, ctx)
    before = {k: v.clone() for k, v in adapter.encoder_.state_dict().items()}
    adapter.fit(train, None, ctx)
    after = adapter.model_.encoder.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before), "weights and batch-norm statistics unchanged"
    assert adapter.predict_proba(ten_second_windows(8, seed=3, labels=False)).shape == (8, 2)


def test_magnitude_variant_recipe_from_the_docstring_works():
    class Magnitude(ResNetLSTMSupCon):  # not registered: the recipe, as documented
        meta = dataclasses.replace(
            ResNetLSTMSupCon.meta,
            name="resnet_lstm_supcon_mag",
            representation_params={**SPECTROGRAM_PARAMS, "mode": "magnitude", "log": False},
        )

    results = check_adapter(Magnitude, overrides={**tiny_overrides("resnet_lstm_supcon"), "pretrain_epochs": 1})
    assert all(r.ok for r in results), format_results(results)


# -- learning ---------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_resnet_lstm_supcon_beats_chance_on_a_strong_synthetic_preictal_signature(tmp_path):
    """SYNTHETIC data: two patients, pre-ictal strength x4 (easy 4.0, medium 2.0), two seizures each."""
    from benchmark.datasets.synthetic import SyntheticConfig, generate
    from benchmark.runner import RunConfig, Runner
    from benchmark.store import ResultStore

    config = SyntheticConfig(
        n_patients=2,
        seizures_per_patient=2,
        interictal_recordings=2,
        seizure_recording_minutes=12,
        short_seizure_recording_minutes=12,
        interictal_recording_minutes=10,
        preictal_scale=4.0,
    )
    data = generate(tmp_path / "ds", config)
    # The smoke budget with smaller batches (more steps for the same compute): about 7 s per fold.
    smoke_like = {
        "pretrain_epochs": 8,
        "epochs": 3,
        "max_windows_per_epoch": 64,
        "pretrain_batch_size": 16,
        "batch_size": 16,
    }
    auc = {}
    for method, overrides in (("chance", {}), ("resnet_lstm_supcon", smoke_like)):
        cfg = RunConfig(
            method=method,
            dataset="chbmit-synthetic",
            data_dir=data,
            method_overrides=overrides,
            seed=0,
            store_path=tmp_path / "r.sqlite",
            splits_dir=tmp_path / "splits",
            cache_dir=tmp_path / "cache",
            progress=False,
        )
        rec = Runner(cfg).run()
        assert rec.status == "complete" and rec.synthetic
        per_patient = ResultStore(cfg.store_path).patient_metrics(rec.run_id)
        assert len(per_patient) == 2
        auc[method] = float(per_patient["roc_auc"].mean())
    assert auc["chance"] == pytest.approx(0.5)
    assert auc["resnet_lstm_supcon"] > auc["chance"] + 0.15, auc


def test_headline_command_on_a_chbmit_folder(tiny_synthetic, tmp_path):
    """`run --method resnet_lstm_supcon --dataset chbmit --data-dir D` on a CHB-MIT-layout folder.

    The folder is the tiny generated one with its SYNTHETIC.json removed, standing in for a real
    download: the command must take the real dataset's path (loader, committed-split lookup, window
    cache) and label the run as chbmit, not synthetic.
    """
    import json
    import shutil

    from benchmark import cli
    from benchmark.store import ResultStore

    data = tmp_path / "chbmit"
    shutil.copytree(tiny_synthetic, data)
    (data / "SYNTHETIC.json").unlink()
    store = tmp_path / "r.sqlite"
    base = [
        "--store",
        str(store),
        "run",
        "--method",
        "resnet_lstm_supcon",
        "--dataset",
        "chbmit",
        "--data-dir",
        str(data),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--splits-dir",
        str(tmp_path / "splits"),
        "--no-progress",
    ]
    sets = [a for k, v in tiny_overrides("resnet_lstm_supcon").items() for a in ("--set", f"{k}={json.dumps(v)}")]
    assert cli.main(base + sets) == 0
    (run,) = ResultStore(store).list_runs()
    assert (run.dataset, run.method, run.status, run.synthetic) == ("chbmit", "resnet_lstm_supcon", "complete", False)
    assert len(ResultStore(store).patient_metrics(run.run_id)) == 2


# -- issue 13 ----------------------------------------------------------------------------------------------------
def _grid_meta(stride_s: float, n: int = 30) -> pd.DataFrame:
    start = np.arange(n) * stride_s
    return pd.DataFrame({"patient": "p1", "recording": "r1", "start": start, "end": start + 10.0})


def test_item01_lstm_context_is_seconds_of_eeg_whatever_the_stride():
    assert [get_method(m).meta.budgets["paper"]["lstm_context_s"] for m in ("resnet_lstm_supcon", "resnet_lstm")] == [
        15.0
    ] * 2
    assert get_method("resnet_lstm_supcon").meta.budgets["smoke"]["lstm_context_s"] == 30.0
    assert parts.window_geometry(_grid_meta(1.0)) == (10.0, 1.0)
    assert parts.window_geometry(_grid_meta(10.0).iloc[::-1]) == (10.0, 10.0)
    assert (parts.context_windows(15, 10, 1), parts.context_windows(15, 10, 10), parts.context_windows(30, 10, 10)) == (
        6,
        1,
        3,
    )
    ctx = FitContext(seed=0)
    method = get_method("resnet_lstm_supcon").from_budget("paper")
    # The paper's 1-s stride: 6 windows span 15 s; at a 10-s stride the same 15 s is one window.
    assert method._sequence_length(type("WS", (), {"meta": _grid_meta(1.0)})(), ctx) == 6
    assert method._sequence_length(type("WS", (), {"meta": _grid_meta(10.0)})(), ctx) == 1
    assert get_method("resnet_supcon").from_budget("paper")._sequence_length(None, ctx) == 1


def test_item01_plan_of_the_paper_cell_shows_the_1s_windows_cache_and_lstm_context(tiny_synthetic, tmp_path):
    from benchmark.plan import format_plan, plan_run
    from benchmark.recipes import get_recipe

    lee = get_recipe("lee2024")
    where = dict(data_dir=tiny_synthetic, splits_dir=tmp_path / "splits", cache_dir=tmp_path / "cache")
    (paper,) = lee.cells("chbmit-synthetic", methods=["resnet_lstm_supcon"], rows=["sop10"], budget="paper")
    (smoke,) = lee.cells("chbmit-synthetic", methods=["resnet_lstm_supcon"], rows=["sop10"], budget="smoke")
    plan_paper, plan_smoke = plan_run(paper.run_config(**where)), plan_run(smoke.run_config(**where))
    assert (plan_paper.stride_s, plan_smoke.stride_s) == (1.0, 10.0)
    assert 9 * plan_smoke.windows < plan_paper.windows <= 10 * plan_smoke.windows
    # Each interior STFT frame is cached once, each window's first and last frame per window: about
    # 4 frames per second of EEG against 21 per window at the 1-s stride.
    assert plan_paper.cache_bytes < 0.25 * plan_paper.windows * plan_paper.bytes_per_window
    assert plan_paper.cache_bytes > plan_smoke.windows * plan_smoke.bytes_per_window
    text = format_plan(plan_paper)
    assert "of 10 s every 1 s" in text and "LSTM context 15 s of EEG = 6 consecutive windows of 10 s every 1 s" in text
    assert "LSTM context 30 s of EEG = 3 consecutive windows of 10 s every 10 s" in format_plan(plan_smoke)


def test_item02_the_18x21x60_input_is_credited_to_lee_et_al_2024():
    from benchmark.recipes import get_recipe, paper_text, quote_in_text

    doc = features.__doc__
    assert "Lee et al. (2022)" not in doc and "Real-time seizure detection" not in doc
    assert "Lee et al. (2024)" in doc and "10.1038/s41598-023-43328-y" in doc
    quoted = "The input dimensions for CHB-MIT and SNUH datasets are (18 x 21 x 60) and (21 x 21 x 60), respectively"
    assert quoted in " ".join(doc.split())
    text = paper_text(get_recipe("lee2024"))
    if text is not None:  # the paper writes the multiplication sign
        assert quote_in_text(quoted.replace(" x ", " × "), text)
