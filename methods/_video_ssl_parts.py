"""Pieces of the two self-supervised video methods: corruption, losses, networks, batching.

Shared by :mod:`methods.video_ssl_transformer` (Hou et al. 2022: a Transformer over per-frame
ResNet features, pre-trained by BART-like denoising) and :mod:`methods.pv_contrastive_timesformer`
(Li et al. 2024: a TimeSformer pre-trained with video- and patient-level contrastive losses), and
the checkpoint and schedule helpers both adapters use. The pieces hold no harness state, so each is
unit-tested on hand-checkable values.

References
----------
Hou, J.-C., McGonigal, A., Bartolomei, F., & Thonnat, M. (2022). A self-supervised pre-training
framework for vision-based seizure classification. Proc. IEEE ICASSP, 1151-1155.
doi:10.1109/ICASSP43922.2022.9746325

Li, C.-J., Chou, C.-C., Shih, Y.-C., Kuo, L.-C., Wang, Y.-T., McGonigal, A., Yu, H.-Y., Hou, J.-C., &
Tsao, Y. (2024). Epileptic seizure classification with patient-level and video-level contrastive
pretraining. Proc. 46th Annual International Conference of the IEEE EMBC.

Lewis, M., Liu, Y., Goyal, N., et al. (2020). BART: Denoising sequence-to-sequence pre-training for
natural language generation, translation, and comprehension. Proc. ACL.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from methods._video_backbones import IMAGENET_MEAN, IMAGENET_STD  # noqa: F401  (the ResNet's statistics)

#: Input statistics of the reference TimeSformer's Kinetics-400 models (Bertasius et al. 2021).
TIMESFORMER_MEAN, TIMESFORMER_STD = (0.45, 0.45, 0.45), (0.225, 0.225, 0.225)


# -- frames ------------------------------------------------------------------------------------------------------
def prepare_frames(x: torch.Tensor, size: int, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Resize frames ``(..., 3, H, W)`` in ``[0, 1]`` to ``size x size`` (bilinear) and normalise per channel."""
    lead = x.shape[:-3]
    x = x.reshape(-1, *x.shape[-3:])
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return ((x - m) / s).reshape(*lead, 3, size, size)


def windows_fingerprint(meta: pd.DataFrame) -> str:
    """Short digest of which clips a stage saw (patient, recording, start, end), for checkpoint checks."""
    cols = [c for c in ("patient", "recording", "start", "end") if c in meta.columns]
    payload = json.dumps(meta[cols].astype(str).values.tolist(), separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


# -- Hou et al.: BART-like corruption ------------------------------------------------------------------------------
def relocate_span(n: int, span_start: int, span: int, insert_at: int) -> np.ndarray:
    """Order of ``n`` frames after moving the ``span`` frames from ``span_start`` elsewhere.

    The span is cut out, and re-inserted before position ``insert_at`` of the ``n - span`` frames
    left (``0`` = at the front, ``n - span`` = at the end). Example: ``n=8, span_start=1, span=3,
    insert_at=4`` gives ``[0, 4, 5, 6, 1, 2, 3, 7]``.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` source index of each output position.
    """
    if not (0 < span < n and 0 <= span_start <= n - span and 0 <= insert_at <= n - span):
        raise ValueError(f"cannot move {span} of {n} frames from {span_start} to {insert_at}")
    moved = np.arange(span_start, span_start + span)
    rest = np.concatenate([np.arange(span_start), np.arange(span_start + span, n)])
    return np.concatenate([rest[:insert_at], moved, rest[insert_at:]])


@dataclass(frozen=True)
class Corruption:
    """How one sequence of ``n_valid`` frames is corrupted (Hou et al., Sec. 4, "Corrupt the input").

    Attributes
    ----------
    order
        ``(n_valid,)`` source frame at each position of the corrupted sequence (a span relocated).
    masked
        ``(n_valid,)`` bool, positions (of the corrupted sequence) whose frame is replaced by MASK.
    span_start, insert_at
        The relocation drawn (``-1`` when the sequence is too short to move a span).
    """

    order: np.ndarray
    masked: np.ndarray
    span_start: int = -1
    insert_at: int = -1


def draw_corruption(n_valid: int, rng: np.random.Generator, span: int = 30, mask_fraction: float = 0.15) -> Corruption:
    """Draw a span relocation, then the frames to mask.

    A span of ``span`` consecutive frames starts uniformly at random and is re-inserted at a
    uniformly drawn *different* place among the other frames (a no-op move is not a corruption);
    sequences of ``span`` frames or fewer are not permuted. Then ``round(mask_fraction * n_valid)``
    positions, drawn without replacement, are masked (the paper: "replace 15% of frames with visual
    MASK tokens"; BERT's 80/10/10 replacement rule is not mentioned, so every chosen frame is masked).
    """
    order = np.arange(n_valid)
    start = insert = -1
    if 0 < span < n_valid:
        start = int(rng.integers(0, n_valid - span + 1))
        places = [p for p in range(n_valid - span + 1) if p != start]  # p == start leaves the order unchanged
        insert = int(rng.choice(places))
        order = relocate_span(n_valid, start, span, insert)
    masked = np.zeros(n_valid, dtype=bool)
    n_mask = int(round(mask_fraction * n_valid))
    if n_mask:
        masked[rng.choice(n_valid, size=min(n_mask, n_valid), replace=False)] = True
    return Corruption(order, masked, start, insert)


def apply_corruption(
    seq: torch.Tensor, plan: Corruption, mask_token: torch.Tensor, pad_token: torch.Tensor, length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupted copy of ``seq`` ``(n_valid, *shape)``, padded to ``length`` positions.

    Frames are reordered by ``plan.order``, masked positions take ``mask_token`` and positions
    ``n_valid .. length - 1`` take ``pad_token`` (both of shape ``shape``). In Hou et al. the tokens
    are images filled with -1.0 (MASK) and 0.0 (PAD); with a frozen frame encoder ``r`` the same
    corruption is applied to frame features with the tokens ``r(MASK)`` and ``r(PAD)``.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        ``(length, *shape)`` corrupted sequence and ``(length,)`` bool, True at padding.
    """
    n_valid = seq.shape[0]
    if length < n_valid:
        raise ValueError(f"input length {length} is shorter than the sequence ({n_valid} frames)")
    out = seq.new_empty((length, *seq.shape[1:]))
    out[:n_valid] = seq[torch.as_tensor(plan.order, device=seq.device)]
    out[:n_valid][torch.as_tensor(plan.masked, device=seq.device)] = mask_token.to(seq.dtype)
    out[n_valid:] = pad_token.to(seq.dtype)
    pad = torch.zeros(length, dtype=torch.bool, device=seq.device)
    pad[n_valid:] = True
    return out, pad


def denoising_loss(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Hou et al.'s Eq. (1): squared L2 error summed over the valid frames, averaged over clips.

    ``pred`` and ``target`` are ``(B, L, D)``; ``valid`` is ``(B, L)`` bool (False at padding).
    """
    err = ((pred.float() - target.float()) ** 2).sum(dim=-1)
    return (err * valid).sum() / max(pred.shape[0], 1)


class DenoisingTransformer(nn.Module):
    """Transformer encoder over a sequence of frame features (Hou et al., Figs. 2-3).

    Frame features ``(B, L, in_dim)`` are standardised per dimension (``scaler``, fitted on the
    pre-training features with :meth:`fit_scaler`; a frozen random-init ResNet's features can be
    orders of magnitude off unit scale), mapped linearly to ``d_model``, get learned position
    embeddings (``max_positions``), a LayerNorm and dropout (the BERT embedding block of the
    Hugging Face implementation the paper used), then ``layers`` post-norm encoder layers with
    ``heads`` heads, GELU feed-forward of ``ff_dim`` and ``dropout``. Two heads sit on top: the
    pre-training regressor back to ``in_dim`` (per frame) and the classifier (mean of the
    non-padding outputs, dropout ``classifier_dropout``, one linear layer).
    """

    def __init__(
        self,
        in_dim: int,
        n_classes: int,
        d_model: int = 1024,
        heads: int = 8,
        layers: int = 6,
        ff_dim: int = 4096,
        max_positions: int = 256,
        dropout: float = 0.1,
        classifier_dropout: float = 0.5,
    ):
        super().__init__()
        from methods._video_backbones import FeatureStandardizer

        self.max_positions = int(max_positions)
        self.scaler = FeatureStandardizer(in_dim)
        self.proj = nn.Linear(in_dim, d_model)
        self.pos = nn.Embedding(max_positions, d_model)
        self.norm = nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            d_model, heads, ff_dim, dropout, activation="gelu", batch_first=True, norm_first=False
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.regressor = nn.Linear(d_model, in_dim)
        self.classifier = nn.Sequential(nn.Dropout(classifier_dropout), nn.Linear(d_model, n_classes))

    def fit_scaler(self, feats: torch.Tensor) -> None:
        """Fit the input standardisation on raw frame features ``(..., in_dim)``."""
        self.scaler.fit(feats)

    def encode(self, feats: torch.Tensor, pad: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, L, d_model)`` outputs of raw frame features; ``pad`` ``(B, L)`` bool marks positions
        no one attends to."""
        length = feats.shape[1]
        if length > self.max_positions:
            raise ValueError(f"{length} frames exceed the {self.max_positions} positions of the Transformer")
        pos = self.pos(torch.arange(length, device=feats.device)).unsqueeze(0)
        h = self.drop(self.norm(self.proj(self.scaler(feats)) + pos))
        return self.encoder(h, src_key_padding_mask=pad)

    def reconstruct(self, feats: torch.Tensor, pad: torch.Tensor | None = None) -> torch.Tensor:
        """Pre-training output: the clean frame feature predicted at every position, standardised
        (compare it with ``scaler(clean)``)."""
        return self.regressor(self.encode(feats, pad))

    def forward(self, feats: torch.Tensor, pad: torch.Tensor | None = None) -> torch.Tensor:
        """Class logits of uncorrupted sequences."""
        h = self.encode(feats, pad)
        if pad is None:
            pooled = h.mean(dim=1)
        else:
            keep = (~pad).unsqueeze(-1).to(h.dtype)
            pooled = (h * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1.0)
        return self.classifier(pooled)

    def trunk_parameters(self) -> int:
        """Parameters of the encoder without its two heads (the paper's "about 78M"); buffers excluded."""
        heads = {id(p) for m in (self.regressor, self.classifier) for p in m.parameters()}
        return int(sum(p.numel() for p in self.parameters() if id(p) not in heads))


# -- Li et al.: video- and patient-level contrastive losses ----------------------------------------------------------
def group_codes(values: Sequence) -> np.ndarray:
    """Integer code per item, equal for equal values (order of first appearance)."""
    return pd.factorize(pd.Series(list(values), dtype=str))[0].astype(np.int64)


def pair_masks(groups: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Positive and negative pair masks ``(n, n)`` of items labelled ``groups`` ``(n,)``.

    Positive: same group, not the item itself. Negative: another group.
    """
    same = groups.view(-1, 1) == groups.view(1, -1)
    eye = torch.eye(len(groups), dtype=torch.bool, device=groups.device)
    return same & ~eye, ~same


def pair_contrastive_loss(
    z: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, temperature: float
) -> torch.Tensor:
    """Li et al.'s Eqs. (1)-(2): InfoNCE over every positive pair, against the anchor's negatives.

    For each ordered positive pair ``(i, +)`` (each selected once; ``i`` is the anchor)::

        l(i, +) = -log( exp(s_i+ / tau) / (exp(s_i+ / tau) + sum_{k negative of i} exp(s_ik / tau)) )

    with ``s`` the cosine similarity. The denominator holds the pair's own positive (the ``k = 0``
    term of the paper's sum) and the anchor's negatives, not its other positives. Pairs whose
    anchor has no negative in the batch carry no signal and are left out; the loss is the mean
    over the remaining pairs (0 when none remain).

    Parameters
    ----------
    z
        ``(n, d)`` clip embeddings (normalised here).
    positive, negative
        ``(n, n)`` bool masks, e.g. from :func:`pair_masks`.
    temperature
        ``tau`` > 0.
    """
    z = F.normalize(z.to(torch.promote_types(z.dtype, torch.float32)), dim=1)
    logits = z @ z.T / temperature
    has_neg = negative.any(dim=1, keepdim=True)
    # Rows without negatives are filled with zeros: an all -inf logsumexp has a NaN gradient.
    neg_logits = logits.masked_fill(~negative, float("-inf")).masked_fill(~has_neg, 0.0)
    neg_lse = torch.logsumexp(neg_logits, dim=1, keepdim=True)  # (n, 1)
    pairs = positive & has_neg
    if not bool(pairs.any()):
        return z.sum() * 0.0  # keeps the graph (and the device) for a batch without usable pairs
    pos = logits[pairs]
    neg = neg_lse.expand_as(logits)[pairs]
    # -log(e^p / (e^p + e^N)) = log(1 + e^(N - p)) = softplus(N - p), stable for any magnitude.
    return F.softplus(neg - pos).mean()


LEVELS = ("video", "patient")


def pretraining_loss(
    z: torch.Tensor, videos: torch.Tensor, patients: torch.Tensor, levels: Sequence[str], temperature: float
) -> torch.Tensor:
    """``L_prtn = L_vc + L_pc`` (Li et al., Eq. 3), or one of the two for the ablations.

    ``videos`` and ``patients`` are ``(n,)`` integer codes of each clip's video and patient
    (:func:`group_codes`); never labels.
    """
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad or not levels:
        raise ValueError(f"levels must be a non-empty subset of {LEVELS}, got {list(levels)}")
    total = z.sum() * 0.0
    for level in levels:
        pos, neg = pair_masks(videos if level == "video" else patients)
        total = total + pair_contrastive_loss(z, pos, neg, temperature)
    return total


def grouped_batches(
    patients: np.ndarray,
    videos: np.ndarray,
    rng: np.random.Generator,
    batch_size: int,
    videos_per_patient: int,
    clips_per_video: int,
    n_batches: int,
) -> Iterator[np.ndarray]:
    """Batches built so that every clip has positives at both levels.

    Uniformly random batches of 8 clips out of thousands rarely hold two clips of one video, which
    would leave the video-level loss without pairs. Each batch instead takes patients in random
    order, from each up to ``videos_per_patient`` random videos and from each video up to
    ``clips_per_video`` random clips, until ``batch_size`` clips are taken; so clips of other
    patients are the patient-level negatives and clips of other videos the video-level ones.

    Parameters
    ----------
    patients, videos
        ``(n,)`` codes of each clip's patient and video.
    rng
        Generator for every draw.
    batch_size, videos_per_patient, clips_per_video, n_batches
        Sizes; batches may come out smaller when the data are small.

    Yields
    ------
    numpy.ndarray
        Indices of the clips of one batch (at least two).
    """
    by_patient: dict[int, dict[int, np.ndarray]] = {}
    for p in np.unique(patients):
        sel = np.flatnonzero(patients == p)
        by_patient[int(p)] = {int(v): sel[videos[sel] == v] for v in np.unique(videos[sel])}
    keys = np.array(sorted(by_patient))
    for _ in range(n_batches):
        batch: list[int] = []
        for p in rng.permutation(keys):
            vids = by_patient[int(p)]
            chosen = rng.permutation(np.array(sorted(vids)))[:videos_per_patient]
            for v in chosen:
                clips = vids[int(v)]
                take = rng.choice(clips, size=min(clips_per_video, len(clips)), replace=False)
                batch.extend(int(c) for c in take)
            if len(batch) >= batch_size:
                break
        batch = batch[:batch_size]
        if len(batch) >= 2:
            yield np.asarray(batch, dtype=np.int64)


class ClassificationHead(nn.Module):
    """Linear layers shrinking the embedding to the classes (Li et al.: "from 768 to 2").

    ``dims`` = ``(embed_dim, hidden..., n_classes)``; ReLU between layers (the paper names only
    "multiple linear layers"; without a non-linearity they would collapse into one). Embeddings
    are first standardised per dimension (``scaler``, fitted on the training embeddings with
    ``head.scaler.fit``): a frozen encoder's embeddings may vary across clips by a tiny fraction of
    their scale (a random-init TimeSformer's by about 1 %).
    """

    def __init__(self, dims: Sequence[int]):
        from methods._video_backbones import FeatureStandardizer

        super().__init__()
        self.scaler = FeatureStandardizer(int(dims[0]))
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            layers.append(nn.Linear(int(a), int(b)))
            if i < len(dims) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.scaler(x))


# -- adapter plumbing shared by both methods -------------------------------------------------------------------------
def stage_seed(seed: int, stage: int) -> int:
    """Seed of one training stage, so a stage starts from the same state however it is reached."""
    return int(np.random.SeedSequence([seed, stage]).generate_state(1)[0])


def save_checkpoint(path, payload: dict) -> None:
    """Write ``payload`` (tensors, str, numbers, lists, dicts) atomically with ``torch.save``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)  # a killed run never leaves half a checkpoint


def load_checkpoint(path, fmt: str, config: dict) -> tuple[dict | None, str]:
    """Read a checkpoint written by :func:`save_checkpoint` with ``weights_only=True``.

    Returns ``(payload, "")`` when its ``format`` is ``fmt`` and its ``config`` equals ``config``
    (same network, objective and pre-training data), else ``(None, why)``.
    """
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        text = str(exc).strip()
        return None, text.splitlines()[0] if text else type(exc).__name__
    if not isinstance(saved, dict) or saved.get("format") != fmt:
        return None, "it was written by another method or version"
    if saved.get("config") != config:
        return None, "it was pre-trained with other settings or on other clips"
    return saved, ""


def linear_decay(opt: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Learning rate falling linearly from its initial value to 0 over ``total_steps`` steps."""
    total = max(int(total_steps), 1)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: max(0.0, 1.0 - step / total))


def epoch_indices(n: int, rng: np.random.Generator, cap: int | None) -> np.ndarray:
    """Shuffled indices of one epoch; a random subset of ``cap`` when there are more."""
    if cap is not None and n > int(cap):
        return rng.choice(n, int(cap), replace=False)
    return rng.permutation(n)


def class_weight_reciprocal(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Hou et al.'s class weight: the reciprocal of the number of clips per class (0 if absent)."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    return np.where(counts > 0, 1.0 / np.maximum(counts, 1.0), 0.0)


def best_state_tracker():
    """``(update, restore)`` closures keeping the state with the lowest validation loss."""
    best = {"loss": np.inf, "epoch": None, "state": None}

    def update(net: nn.Module, loss: float, epoch: int) -> None:
        if loss < best["loss"]:
            best.update(
                loss=loss, epoch=epoch, state={k: v.detach().to("cpu", copy=True) for k, v in net.state_dict().items()}
            )

    def restore(net: nn.Module) -> int | None:
        if best["state"] is not None:
            net.load_state_dict(best["state"])
        return best["epoch"]

    return update, restore
