"""Building blocks of the ResNet-LSTM with supervised contrastive pre-training (Lee et al. 2024).

Everything here is independent of the harness's adapter contract, so each piece can be tested on
its own: the spectrogram augmentations (band-stop and temporal cutout), the supervised contrastive
loss, input standardisation, the ResNet-18 encoder, the projection head, the LSTM classifier, the
causal window sequences and class-balanced epoch sampling. :mod:`methods.resnet_lstm_supcon` wires
them into the registered methods and documents the choices.

Spectrogram batches are ``(batch, channels, frames, freqs)`` tensors throughout: electrodes are the
image channels, time runs along the height and frequency along the width, as in the paper.

References
----------
Lee, D., Kim, B., Kim, T., Joe, I., Chong, J., Min, K., & Jung, K. (2024). A ResNet-LSTM hybrid model
for predicting epileptic seizures using a pretrained model with supervised contrastive learning.
Scientific Reports, 14. https://doi.org/10.1038/s41598-023-43328-y

Khosla, P., Teterwak, P., Wang, C., Sarna, A., Tian, Y., Isola, P., Maschinot, A., Liu, C., &
Krishnan, D. (2020). Supervised contrastive learning. Advances in Neural Information Processing
Systems 33, 18661-18673.

He, K., Zhang, X., Ren, S., & Sun, J. (2016). Deep residual learning for image recognition. CVPR,
770-778.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from benchmark.windowset import WindowSet
from methods._resnet_lstm_supcon_meta import context_windows as context_windows  # re-exported: plan reads it light

EMBED_DIM = 512  # width of ResNet-18's pooled features
STEMS = ("paper", "torchvision")
LSTM_LAYERS = 1  # "LSTM with one hidden layer"
AUGMENTS = ("either", "both")


# -- augmentations ----------------------------------------------------------------------------------
def band_stop(x: torch.Tensor, start: np.ndarray, width: int) -> torch.Tensor:
    """Zero ``width`` consecutive frequency bins of each spectrogram, from bin ``start[i]`` on.

    Parameters
    ----------
    x
        ``(batch, channels, frames, freqs)``; not modified.
    start
        First removed bin of each window, ``0 <= start[i] <= freqs - width``.
    width
        Number of removed bins (the same band for every channel and frame of a window).

    Returns
    -------
    torch.Tensor
        A copy of ``x`` with bins ``start[i] .. start[i] + width - 1`` of window ``i`` set to 0.
    """
    n_freqs = x.shape[-1]
    s = torch.as_tensor(np.asarray(start), device=x.device).view(-1, 1)
    f = torch.arange(n_freqs, device=x.device).view(1, -1)
    keep = ~((f >= s) & (f < s + width))  # (batch, freqs)
    return x * keep[:, None, None, :].to(x.dtype)


def temporal_cutout(x: torch.Tensor, start: np.ndarray, n_frames: int) -> torch.Tensor:
    """Zero ``n_frames`` consecutive STFT frames of each spectrogram, from frame ``start[i]`` on.

    Parameters
    ----------
    x
        ``(batch, channels, frames, freqs)``; not modified.
    start
        First removed frame of each window, ``0 <= start[i] <= frames - n_frames``.
    n_frames
        Number of removed frames (all channels and frequencies of those frames).

    Returns
    -------
    torch.Tensor
        A copy of ``x`` with frames ``start[i] .. start[i] + n_frames - 1`` of window ``i`` set to 0.
    """
    n_t = x.shape[-2]
    s = torch.as_tensor(np.asarray(start), device=x.device).view(-1, 1)
    t = torch.arange(n_t, device=x.device).view(1, -1)
    keep = ~((t >= s) & (t < s + n_frames))  # (batch, frames)
    return x * keep[:, None, :, None].to(x.dtype)


def augment(
    x: torch.Tensor,
    rng: np.random.Generator,
    bandstop_bins: int,
    cutout_frames: int,
    mode: str = "either",
) -> torch.Tensor:
    """One random view of each spectrogram: band-stop and/or temporal cutout at random positions.

    Parameters
    ----------
    x
        Standardised spectrograms ``(batch, channels, frames, freqs)``; zero is the training mean,
        so a removed band or stretch of time reads as "no information".
    rng
        Source of every random draw (which augmentation, band position, cutout position).
    bandstop_bins, cutout_frames
        Width of the removed band (bins) and length of the removed stretch (frames); each is
        clipped so that at least one bin / frame is left.
    mode
        ``"either"``: each window gets one of the two augmentations, with probability 1/2 each;
        ``"both"``: each window gets both.
    """
    if mode not in AUGMENTS:
        raise ValueError(f"augment mode must be one of {AUGMENTS}, got {mode!r}")
    b, _, n_t, n_f = x.shape
    width = int(min(bandstop_bins, n_f - 1))
    cut = int(min(cutout_frames, n_t - 1))
    use_band = np.ones(b, bool) if mode == "both" else rng.random(b) < 0.5
    use_cut = np.ones(b, bool) if mode == "both" else ~use_band
    band_start = rng.integers(0, n_f - width + 1, size=b)
    cut_start = rng.integers(0, n_t - cut + 1, size=b)
    # A start past the end removes nothing: that is how a window skips an augmentation.
    out = band_stop(x, np.where(use_band, band_start, n_f), width) if width > 0 else x
    return temporal_cutout(out, np.where(use_cut, cut_start, n_t), cut) if cut > 0 else out


# -- loss -----------------------------------------------------------------------------------------------
def supcon_loss(z: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al. 2020, Eq. 2 "L_out"; Lee et al. 2024, Eq. 3).

    For anchors ``i`` over all views in the batch, with ``A(i)`` every other view and ``P(i)`` the
    other views of the same class::

        L = mean_i  -1/|P(i)| * sum_{p in P(i)} log( exp(z_i.z_p / tau) / sum_{a in A(i)} exp(z_i.z_a / tau) )

    Embeddings are L2-normalised here. Anchors without any positive are left out of the mean. The
    mean over anchors (rather than the sum of the papers' equations) keeps the loss scale, and so
    the learning rate, independent of the batch size, as in the reference implementation.

    Parameters
    ----------
    z
        ``(n_views_total, dim)`` embeddings (both views of every window, stacked).
    labels
        ``(n_views_total,)`` class of each view.
    temperature
        ``tau`` > 0.
    """
    z = F.normalize(z.to(torch.promote_types(z.dtype, torch.float32)), dim=1)  # at least float32, even under AMP
    n = z.shape[0]
    logits = z @ z.T / temperature
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))  # a view is never its own contrast
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    pos = (labels.view(-1, 1) == labels.view(1, -1)) & ~self_mask
    n_pos = pos.sum(dim=1)
    has_pos = n_pos > 0
    mean_log_prob_pos = torch.where(pos, log_prob, torch.zeros_like(log_prob)).sum(dim=1)
    mean_log_prob_pos = mean_log_prob_pos[has_pos] / n_pos[has_pos]
    return -mean_log_prob_pos.mean()


# -- networks ---------------------------------------------------------------------------------------------
class SpectrogramScaler(nn.Module):
    """Standardise each (channel, frequency) bin with the training mean and standard deviation.

    Statistics are pooled over training windows and frames, computed in float64 batch by batch
    (:meth:`fit`), and kept as buffers so they travel with the model's state.
    """

    def __init__(self, n_chans: int, n_freqs: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_chans, 1, n_freqs))
        self.register_buffer("std", torch.ones(n_chans, 1, n_freqs))

    @torch.no_grad()
    def fit(self, train: WindowSet, batch_size: int = 512) -> SpectrogramScaler:
        total = sq = None
        count = 0
        for x, _ in train.iter_batches(batch_size):
            x = x.astype(np.float64)
            s, s2 = x.sum(axis=(0, 2)), (x**2).sum(axis=(0, 2))  # (channels, freqs)
            total, sq = (s, s2) if total is None else (total + s, sq + s2)
            count += x.shape[0] * x.shape[2]
        if count == 0:
            raise ValueError("cannot fit input statistics on an empty training set")
        mean = total / count
        std = np.sqrt(np.maximum(sq / count - mean**2, 0.0))
        std = np.where(std > 1e-6, std, 1.0)  # constant bins (e.g. flat channels) stay finite
        self.mean.copy_(torch.from_numpy(mean[:, None, :].astype(np.float32)))
        self.std.copy_(torch.from_numpy(std[:, None, :].astype(np.float32)))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def resnet18_encoder(n_chans: int, stem: str = "paper") -> nn.Module:
    """torchvision's ResNet-18 (random weights) taking ``n_chans`` electrodes as image channels.

    The classification layer is replaced by the identity, so the output is the 512-d pooled feature.

    Parameters
    ----------
    n_chans
        Input channels (electrodes).
    stem
        ``"paper"``: a 3 x 3, stride-1 first convolution and no max-pooling, which gives the feature
        maps the paper lists for an 18 x 21 x 60 input (64 x 21 x 60 after the stem, then
        128 x 11 x 30, 256 x 6 x 15, 512 x 3 x 8). ``"torchvision"``: the ImageNet stem (7 x 7,
        stride-2 convolution and max-pooling) with ``n_chans`` inputs: 16 times fewer positions,
        several times faster on CPU.
    """
    import torchvision  # imported on first use: listing methods should not pay for it

    if stem not in STEMS:
        raise ValueError(f"stem must be one of {STEMS}, got {stem!r}")
    net = torchvision.models.resnet18(weights=None)
    if stem == "paper":
        net.conv1 = nn.Conv2d(n_chans, 64, kernel_size=3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
    else:
        net.conv1 = nn.Conv2d(n_chans, 64, kernel_size=7, stride=2, padding=3, bias=False)
    nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")  # as torchvision does
    net.fc = nn.Identity()
    return net


def projection_head(dim_in: int = EMBED_DIM, dim_out: int = 128) -> nn.Module:
    """Khosla et al.'s projection network: Linear(d, d), ReLU, Linear(d, 128); discarded after pre-training."""
    return nn.Sequential(nn.Linear(dim_in, dim_in), nn.ReLU(inplace=True), nn.Linear(dim_in, dim_out))


class Encoder(nn.Module):
    """Input standardisation followed by the ResNet-18 backbone: spectrogram -> 512-d feature."""

    def __init__(self, scaler: SpectrogramScaler, backbone: nn.Module):
        super().__init__()
        self.scaler = scaler
        self.backbone = backbone

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.scaler(x))


class SequenceClassifier(nn.Module):
    """Encoder per window, then an LSTM over the sequence (or nothing), then the output layer.

    The output layer is dropout, ReLU and a linear classifier, in the paper's order. With
    ``lstm_hidden=None`` the head sits directly on the 512-d feature of the last window (the
    "Pre-train + ResNet" model of the paper's Table 8).
    """

    def __init__(self, encoder: Encoder, n_classes: int, lstm_hidden: int | None, dropout: float):
        super().__init__()
        self.encoder = encoder
        self.lstm = (
            None if lstm_hidden is None else nn.LSTM(EMBED_DIM, lstm_hidden, num_layers=LSTM_LAYERS, batch_first=True)
        )
        width = EMBED_DIM if lstm_hidden is None else lstm_hidden
        self.head = nn.Sequential(nn.Dropout(dropout), nn.ReLU(), nn.Linear(width, n_classes))

    def classify(self, feats: torch.Tensor) -> torch.Tensor:
        """Logits from features ``(batch, seq_len, 512)``; the last step is the classified window."""
        if self.lstm is None:
            return self.head(feats[:, -1])
        out, _ = self.lstm(feats)
        return self.head(out[:, -1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits from spectrogram sequences ``(batch, seq_len, channels, frames, freqs)``."""
        b, L = x.shape[:2]
        feats = self.encoder(x.flatten(0, 1)).view(b, L, -1)
        return self.classify(feats)


# -- sequences and sampling ---------------------------------------------------------------------------------
def sequence_index(meta: pd.DataFrame, seq_len: int) -> np.ndarray:
    """For each window, the positions of the ``seq_len`` windows of the set that end with it.

    Windows are grouped by ``(patient, recording)`` and ordered by ``start``. A window's
    predecessor is the window just before it in that order if it starts at most one window length
    earlier (no gap in the EEG between them); otherwise a new segment begins. Sequences are causal
    (they never look ahead) and do not cross segment borders: near the start of a segment the first
    window of the segment is repeated to fill the sequence. Only metadata is read, never labels.

    Returns
    -------
    np.ndarray
        ``(len(meta), seq_len)`` int64 positions into the set; the last column is ``arange(n)``.
    """
    if seq_len < 1:
        raise ValueError(f"seq_len must be >= 1, got {seq_len}")
    n = len(meta)
    out = np.empty((n, seq_len), dtype=np.int64)
    if n == 0:
        return out
    keys = meta["patient"].astype(str) + "\x00" + meta["recording"].astype(str)
    start = meta["start"].to_numpy(np.float64)
    length = (meta["end"].to_numpy(np.float64) - start).clip(min=0)
    keys = keys.to_numpy()
    order = np.lexsort((start, keys))
    ks, st, ln = keys[order], start[order], length[order]
    gap = st[1:] - st[:-1]
    new_segment = np.ones(n, dtype=bool)
    new_segment[1:] = (ks[1:] != ks[:-1]) | (gap > ln[:-1] + 1e-6)
    # rank (in `order`) of the first window of each window's segment
    seg_first = np.maximum.accumulate(np.where(new_segment, np.arange(n), 0))
    ranks = np.arange(n)
    for k in range(seq_len):
        back = seq_len - 1 - k  # windows before the classified one
        out[order, k] = order[np.maximum(ranks - back, seg_first)]
    return out


def window_geometry(meta: pd.DataFrame) -> tuple[float, float]:
    """Window length and stride (seconds) of a window set, from its ``start`` and ``end`` only.

    The stride is the smallest positive step between the starts of windows of one recording (the
    harness's grid); a set with one window per recording is taken as non-overlapping.
    """
    if len(meta) == 0:
        raise ValueError("an empty window set has no window geometry")
    start = meta["start"].to_numpy(np.float64)
    length = float(np.median(meta["end"].to_numpy(np.float64) - start))
    keys = (meta["patient"].astype(str) + "\x00" + meta["recording"].astype(str)).to_numpy()
    order = np.lexsort((start, keys))
    same = keys[order][1:] == keys[order][:-1]
    steps = np.diff(start[order])[same]
    steps = steps[steps > 1e-6]
    return length, float(np.round(steps.min(), 6)) if steps.size else length


def balanced_sample(
    y: np.ndarray, rng: np.random.Generator, max_windows: int | None = None, balance: bool = True
) -> np.ndarray:
    """Positions of one epoch's training windows, in random order.

    With ``balance``, every class present contributes as many windows as the rarest one (random
    under-sampling of the others, drawn afresh every epoch, as the paper under-samples inter-ictal
    EEG). ``max_windows`` caps the epoch, split evenly between classes when balancing.
    """
    n = len(y)
    if not balance:
        idx = np.arange(n)
        if max_windows is not None and n > max_windows:
            idx = rng.choice(n, max_windows, replace=False)
        return rng.permutation(idx)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)]
    per_class = min(len(g) for g in groups)
    if max_windows is not None:
        per_class = max(1, min(per_class, max_windows // len(groups)))
    chosen = [g if len(g) == per_class else rng.choice(g, per_class, replace=False) for g in groups]
    return rng.permutation(np.concatenate(chosen))
