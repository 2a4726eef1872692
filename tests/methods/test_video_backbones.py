"""Video backbones have the published shapes and sizes, and local weights load (or fail) cleanly.

Full-size shapes are checked on the ``meta`` device (shape propagation without arithmetic), so
the published 64 x 224 x 224 I3D input and TimeSformer-Base cost nothing; numeric checks use
tiny inputs.
"""

from __future__ import annotations

import hashlib

import pytest
import torch
import torchvision

from benchmark.errors import DataError
from methods import _video_backbones as vb

# Output channels of I3D's Inception modules (Inception-v1's 3a-5b, Szegedy et al. 2015, Table 1).
I3D_CHANNELS = {
    "Mixed_3b": 256,
    "Mixed_3c": 480,
    "Mixed_4b": 512,
    "Mixed_4c": 512,
    "Mixed_4d": 512,
    "Mixed_4e": 528,
    "Mixed_4f": 832,
    "Mixed_5b": 832,
    "Mixed_5c": 1024,
}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny tensors gain nothing from threads, and on a busy runner thread wake-ups dominate."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_timesformer(**kw) -> vb.TimeSformer:
    config = dict(
        img_size=16, patch_size=8, num_frames=3, embed_dim=24, depth=2, num_heads=4, num_classes=5, drop_path_rate=0.0
    )
    config.update(kw)
    return vb.TimeSformer(**config).eval()


def test_i3d_published_shapes_at_full_size():
    with torch.device("meta"):
        net = vb.build_i3d(num_classes=400)
        x = torch.empty(2, 3, 64, 224, 224)
        stages = net.forward_stages(x)
        logits, feats = net(x), net.features(x)
    assert {k: v.shape[1] for k, v in stages.items() if k.startswith("Mixed")} == I3D_CHANNELS
    # Stride-2 stem, two spatial-only pools, then two space-time pools: 64x224x224 -> 8x7x7.
    assert tuple(stages["Conv3d_1a_7x7"].shape) == (2, 64, 32, 112, 112)
    assert tuple(stages["Mixed_3c"].shape[2:]) == (32, 28, 28)
    assert tuple(stages["Mixed_4f"].shape[2:]) == (16, 14, 14)
    assert tuple(stages["Mixed_5c"].shape) == (2, 1024, 8, 7, 7)
    assert tuple(logits.shape) == (2, 400)
    assert tuple(feats.shape) == (2, 1024)


def test_i3d_runs_on_small_clips_with_published_channels():
    torch.manual_seed(0)
    net = vb.build_i3d(num_classes=7).eval()
    x = torch.rand(2, 3, 4, 16, 16)
    with torch.inference_mode():
        stages = net.forward_stages(x)
        logits, feats = net(x), net.features(x)
    assert {k: v.shape[1] for k, v in stages.items() if k.startswith("Mixed")} == I3D_CHANNELS
    assert tuple(logits.shape) == (2, 7) and tuple(feats.shape) == (2, 1024)
    assert torch.isfinite(feats).all() and feats.std() > 0
    # Checkpoint-compatible names and the inflated 7x7x7 stem.
    state = net.state_dict()
    assert tuple(state["Conv3d_1a_7x7.conv3d.weight"].shape) == (64, 3, 7, 7, 7)
    assert tuple(state["Mixed_5c.b1b.conv3d.weight"].shape) == (384, 192, 3, 3, 3)
    assert tuple(state["logits.conv3d.weight"].shape) == (7, 1024, 1, 1, 1)
    # About 12 M parameters per I3D stream (Carreira & Zisserman 2017, Table 1: 25 M for two).
    assert 12.0e6 < vb.count_parameters(vb.build_i3d()) < 13.0e6


def test_r2plus1d_matches_torchvision_and_gives_512_features():
    torch.manual_seed(1)
    reference = torchvision.models.video.r2plus1d_18(weights=None).eval()
    ours = vb.build_r2plus1d_18().eval()
    ref_state = reference.state_dict()
    shapes = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in ref_state.items()}
    ours.load_state_dict(ref_state)
    x = torch.rand(2, 3, 4, 16, 16)
    with torch.inference_mode():
        torch.testing.assert_close(ours(x), reference(x))
        feats = ours.features(x)
        assert tuple(feats.shape) == (2, 512)
        # features() is the input of the classifier.
        torch.testing.assert_close(ours.fc(feats), reference(x))


def test_timesformer_base_has_about_121m_parameters():
    with torch.device("meta"):
        net = vb.TimeSformer(
            img_size=224, patch_size=16, num_frames=8, embed_dim=768, depth=12, num_heads=12, num_classes=400
        )
    # Bertasius et al. (2021), Table 1: 121.4 M parameters for divided space-time attention.
    assert abs(vb.count_parameters(net) - 121.4e6) < 0.5e6
    assert tuple(net.pos_embed.shape) == (1, 197, 768) and tuple(net.time_embed.shape) == (1, 8, 768)


def test_timesformer_token_shapes_and_time_mixing():
    torch.manual_seed(0)
    net = tiny_timesformer()
    x = torch.rand(2, 3, 3, 16, 16)  # (B, T, C, H, W): 3 frames of 2x2 patches
    with torch.inference_mode():
        tokens = net.forward_tokens(x)
        assert tuple(tokens.shape) == (2, 1 + 3 * 4, 24)
        assert tuple(net.forward_features(x).shape) == (2, 24)
        assert tuple(net(x).shape) == (2, 5)
        # Other clip lengths interpolate the time embedding.
        assert tuple(net(torch.rand(2, 5, 3, 16, 16)).shape) == (2, 5)
        # Temporal attention: changing frame 0 changes the tokens of frame 2; spatial attention alone
        # (no temporal mixing) could not.
        x2 = x.clone()
        x2[:, 0] = torch.rand_like(x2[:, 0])
        frame2 = slice(1 + 2 * 4, 1 + 3 * 4)
        assert not torch.allclose(net.forward_tokens(x2)[:, frame2], tokens[:, frame2])
        # Each clip is processed on its own.
        torch.testing.assert_close(net.forward_tokens(x[:1]), tokens[:1])


def test_timesformer_rejects_frames_without_time_axis():
    with pytest.raises(ValueError, match=r"\(B, T, C, H, W\)"):
        tiny_timesformer().forward_features(torch.rand(2, 3, 16, 16))


def test_frame_encoders():
    torch.manual_seed(0)
    small = vb.build_resnet152_frames(model_name="resnet18").eval()
    with torch.inference_mode():
        out = small(torch.rand(2, 3, 3, 32, 32))
    assert tuple(out.shape) == (2, 3, 512) and small.feature_dim == 512
    with torch.device("meta"):
        big = vb.build_resnet152_frames()
    assert big.feature_dim == 2048
    assert 58e6 < vb.count_parameters(big) < 59e6  # ResNet-152 without its classifier


def _outputs(net, x):
    with torch.inference_mode():
        return net(x)


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_weights_round_trip(tmp_path, suffix):
    torch.manual_seed(0)
    source = tiny_timesformer()
    path = tmp_path / f"weights{suffix}"
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    if suffix == ".pt":
        torch.save(state, path)
    else:
        from safetensors.torch import save_file

        save_file(state, str(path))
    torch.manual_seed(1)
    target = tiny_timesformer()
    x = torch.rand(1, 3, 3, 16, 16)
    assert not torch.allclose(_outputs(target, x), _outputs(source, x))
    text = vb.load_weights(target, path)
    torch.testing.assert_close(_outputs(target, x), _outputs(source, x), rtol=0, atol=0)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert text == f"local file {path.name} sha256 {sha[:12]}"


def test_weights_in_a_wrapper_with_prefixed_keys_load(tmp_path):
    torch.manual_seed(0)
    source = tiny_timesformer()
    path = tmp_path / "checkpoint.pth"
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}}, path)
    target = tiny_timesformer()
    vb.load_weights(target, path)
    for k, v in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[k], v)


def test_item07_another_head_is_refused_unless_ignored(tmp_path):
    torch.manual_seed(0)
    source = tiny_timesformer(num_classes=9)
    path = tmp_path / "other_head.pt"
    torch.save(source.state_dict(), path)
    with pytest.raises(
        DataError, match=r"does not fit TimeSformer: other shapes: head.weight \(9, 24\) \(model \(5, 24\)\)"
    ):
        vb.load_weights(tiny_timesformer(num_classes=5), path)
    target = tiny_timesformer(num_classes=0)  # the clip encoder: the Kinetics head is dropped
    vb.load_weights(target, path, ignore=vb.TIMESFORMER_HEAD)
    key = "blocks.1.attn.qkv.weight"
    torch.testing.assert_close(target.state_dict()[key], source.state_dict()[key])
    with pytest.raises(DataError, match="unexpected head.weight, head.bias"):
        vb.load_weights(tiny_timesformer(num_classes=0), path)


def test_weights_of_another_architecture_are_refused(tmp_path):
    path = tmp_path / "unrelated.pt"
    torch.save({"encoder.layer.weight": torch.zeros(3, 3)}, path)
    with pytest.raises(DataError, match="does not fit TimeSformer: missing cls_token, pos_embed, time_embed ... "):
        vb.load_weights(tiny_timesformer(), path)


def test_bad_weights_files_give_one_line_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        vb.load_weights(tiny_timesformer(), tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="cannot read weights file junk.pt"):
        vb.load_weights(tiny_timesformer(), junk)
    model_file = tmp_path / "whole_model.txt"
    model_file.write_text("x")
    with pytest.raises(DataError, match="unknown suffix"):
        vb.load_weights(tiny_timesformer(), model_file)


def test_sequence_classifier_and_standardizer():
    torch.manual_seed(0)
    feats = torch.randn(6, 4, 10) * 50 + 7
    std = vb.FeatureStandardizer(10).fit(feats)
    z = std(feats).reshape(-1, 10)
    torch.testing.assert_close(z.mean(0), torch.zeros(10), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.std(0, unbiased=False), torch.ones(10), atol=1e-4, rtol=0)
    for cell, bidirectional, layers in (("lstm", False, 1), ("gru", True, 2)):
        head = vb.SequenceClassifier(10, 3, hidden_size=8, num_layers=layers, bidirectional=bidirectional, cell=cell)
        assert tuple(head(feats).shape) == (6, 3)
    with pytest.raises(ValueError, match="lstm"):
        vb.SequenceClassifier(10, 3, cell="transformer")


# -- item 7: the key layouts of the published checkpoints ------------------------------------------------------------
def test_item07_torchvision_resnet152_file_fits_the_timm_frame_encoder():
    """torchvision's resnet152-f82ba261.pth (Hou et al.'s ImageNet ResNet-152) has the timm model's names
    and shapes, plus the classifier the frame encoder drops; checked on the meta device (no 230 MB file)."""
    import timm

    with torch.device("meta"):
        theirs = torchvision.models.resnet152().state_dict()
        ours = timm.create_model("resnet152", pretrained=False, num_classes=0).state_dict()
    assert {k: tuple(v.shape) for k, v in theirs.items() if not k.startswith("fc.")} == {
        k: tuple(v.shape) for k, v in ours.items()
    }
    assert vb.RESNET_HEAD == ("fc.",)


def test_item07_pyslowfast_timesformer_checkpoint_loads_with_its_time_embedding_resized(tmp_path):
    torch.manual_seed(0)
    source = tiny_timesformer(num_frames=8)  # the reference K400 files are 8-frame models
    path = tmp_path / "TimeSformer_divST_8x32_224_K400.pyth"
    state = {f"model.{k}": v for k, v in source.state_dict().items()}
    torch.save({"epoch": 15, "model_state": state, "optimizer_state": {}, "cfg": "TRAIN: ..."}, path)
    target = tiny_timesformer(num_frames=4, num_classes=0)
    text = vb.load_weights(target, path, ignore=vb.TIMESFORMER_HEAD, convert=vb.timesformer_state)
    assert text.startswith("local file TimeSformer_divST_8x32_224_K400.pyth sha256 ")
    torch.testing.assert_close(
        target.state_dict()["blocks.0.temporal_fc.weight"], source.state_dict()["blocks.0.temporal_fc.weight"]
    )
    expected = torch.nn.functional.interpolate(
        source.time_embed.detach().transpose(1, 2), size=4, mode="linear", align_corners=False
    ).transpose(1, 2)
    torch.testing.assert_close(target.time_embed.detach(), expected)


def test_item07_hugging_face_timesformer_gives_the_same_clip_embedding(tmp_path):
    from safetensors.torch import save_file
    from transformers import TimesformerConfig, TimesformerModel

    torch.manual_seed(0)
    config = TimesformerConfig(
        image_size=16,
        patch_size=8,
        num_frames=3,
        hidden_size=24,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=96,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    hf = TimesformerModel(config).eval()
    folder = tmp_path / "timesformer-k400"
    folder.mkdir()
    save_file(
        {f"timesformer.{k}": v.contiguous() for k, v in hf.state_dict().items()}, str(folder / "model.safetensors")
    )
    from benchmark.torch_utils import weights_file

    path = weights_file(str(folder), method="m", setting="backbone_weights", needs="n", example="e")
    assert path == folder / "model.safetensors"
    ours = tiny_timesformer(num_classes=0)
    vb.load_weights(ours, path, ignore=vb.TIMESFORMER_HEAD, convert=vb.timesformer_state)
    x = torch.rand(2, 3, 3, 16, 16)
    with torch.inference_mode():
        expected = hf(pixel_values=x).last_hidden_state[:, 0]
        got = ours.forward_features(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


TINY_HOU = {
    "backbone": "resnet10t",
    "frame_size": 32,
    "d_model": 16,
    "heads": 2,
    "layers": 1,
    "ff_dim": 32,
    "max_positions": 8,
    "input_length": None,
}
TINY_LI = {"img_size": 16, "patch_size": 8, "embed_dim": 24, "depth": 2, "heads": 4}


@pytest.mark.parametrize(
    "name, needs, example",
    [
        ("video_ssl_transformer", "ImageNet ResNet-152 weights", "resnet152-f82ba261.pth (torchvision's file)"),
        ("pv_contrastive_timesformer", "Kinetics-400 TimeSformer weights", "TimeSformer_divST_96x4_224_K400.pyth"),
        (
            "pv_contrastive_timesformer_nopretrain",
            "Kinetics-400 TimeSformer weights",
            "TimeSformer_divST_96x4_224_K400.pyth",
        ),
    ],
)
def test_item07_video_methods_paper_budget_without_weights_refuses_in_one_line(name, needs, example):
    from benchmark.adapters import get_method
    from benchmark.weights import MissingWeightsError

    with pytest.raises(MissingWeightsError) as err:
        get_method(name).from_budget("paper")
    line = str(err.value)
    assert "\n" not in line
    assert line.startswith(f"the paper budget of {name} needs {needs}: pass --set backbone_weights=/path/{example}")
    assert line.endswith("or --set backbone_weights=random to run at random init, which is not the paper's setting.")
    assert get_method(name).meta.budgets["smoke"]["backbone_weights"] == "random"
    chosen = get_method(name).from_budget("paper", {"backbone_weights": "random"})
    assert "random init (backbone_weights=random; not the paper's setting)" in chosen.weights_source()


def test_item07_hou_paper_budget_loads_the_resnet_file_and_names_its_sha256(tmp_path):
    import timm

    from benchmark.adapters import get_method

    torch.manual_seed(3)
    state = timm.create_model("resnet10t", pretrained=False, num_classes=1000).state_dict()  # with its classifier
    path = tmp_path / "resnet10t.pth"
    torch.save(state, path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    adapter = get_method("video_ssl_transformer").from_budget("paper", {**TINY_HOU, "backbone_weights": str(path)})
    adapter.device_ = "cpu"
    encoder = adapter._frame_encoder()
    assert torch.equal(encoder.state_dict()["layer2.0.conv1.weight"], state["layer2.0.conv1.weight"])
    source = adapter.weights_source()
    assert source.startswith(f"frame encoder resnet10t (frozen): local file resnet10t.pth sha256 {sha[:12]};")
    assert "not the paper's setting" not in source


def test_item07_li_paper_budget_loads_the_timesformer_file_and_names_its_sha256(tmp_path):
    from benchmark.adapters import get_method

    torch.manual_seed(4)
    source = tiny_timesformer(num_frames=8, num_classes=400, drop_path_rate=0.1)
    path = tmp_path / "TimeSformer_divST_8x32_224_K400.pyth"
    torch.save({"model_state": {f"model.{k}": v for k, v in source.state_dict().items()}}, path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    adapter = get_method("pv_contrastive_timesformer_nopretrain").from_budget(
        "paper", {**TINY_LI, "backbone_weights": str(path)}
    )
    encoder = adapter._build_encoder(8)
    assert torch.equal(encoder.state_dict()["blocks.1.mlp.fc2.weight"], source.state_dict()["blocks.1.mlp.fc2.weight"])
    assert adapter.weights_source().startswith(
        f"TimeSformer: local file TimeSformer_divST_8x32_224_K400.pyth sha256 {sha[:12]}; "
    )
    # A checkpoint of another width is refused in one line naming the file and the first misfits.
    adapter = get_method("pv_contrastive_timesformer").from_budget(
        "paper", {**TINY_LI, "embed_dim": 32, "backbone_weights": str(path)}
    )
    with pytest.raises(
        DataError,
        match=r"^weights file TimeSformer_divST_8x32_224_K400.pyth does not fit "
        r"TimeSformer: other shapes: cls_token \(1, 1, 24\) \(model \(1, 1, 32\)\)",
    ):
        adapter._build_encoder(8)
