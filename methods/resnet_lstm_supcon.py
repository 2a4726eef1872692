"""ResNet-LSTM with supervised contrastive pre-training (Lee et al. 2024) and its two ablations.

Lee et al. predict seizures patient by patient from 10-s EEG windows turned into STFT images
(electrodes x 21 frames x 60 frequencies). A ResNet-18 is first pre-trained on augmented images
(band-stop, temporal cutout) with the supervised contrastive loss of Khosla et al. (2020); the
pre-trained ResNet then gives a 512-d feature per window, an LSTM runs over the features and a
dropout + ReLU + linear output layer classifies pre-ictal against inter-ictal EEG.

Registered methods (all EEG, task ``prediction``)
-------------------------------------------------
``resnet_lstm_supcon``
    The full method: SupCon pre-training, then ResNet + LSTM trained on the fold's windows
    (paper Tables 3 and 5).
``resnet_lstm``
    The same network without pre-training: a randomly initialised ResNet trained end to end with
    the LSTM (paper Tables 2 and 4).
``resnet_supcon``
    SupCon pre-trained ResNet without the LSTM: the output layer sits on the 512-d feature of the
    window itself (paper Table 8, left).

Only the prediction task is supported: the method is defined on 10-s windows (the 6-s temporal
cutout and the 21-frame image need them); the detection task's 1-s windows give 3 STFT frames.

How the paper's vague points are resolved
-----------------------------------------
Input
    ``spectrogram`` representation (:func:`benchmark.features.spectrogram`): 1-s Hann frames, 50 %
    overlap, frames centred every 0.5 s (21 per 10-s window, at 256 Hz for CHB-MIT and at 200 Hz
    for SNUH alike), bins of 1, 2, ..., 60 Hz (the DC bin is dropped; 60 bins as in the paper).
    Values are log10 power by default. The paper's figures show STFT magnitude; a magnitude
    variant needs another window cache, so it is a subclass with other ``representation_params``
    rather than a hyper-parameter::

        @register
        class ResNetLSTMSupConMagnitude(ResNetLSTMSupCon):
            meta = dataclasses.replace(
                ResNetLSTMSupCon.meta, name="resnet_lstm_supcon_mag",
                representation_params={**SPECTROGRAM_PARAMS, "mode": "magnitude", "log": False},
            )

    (not registered by default). The number of bins per Hz and the frame spacing used by the
    augmentations are read from ``representation_params``.
Input normalisation (not stated)
    Each (electrode, frequency) bin is standardised with the mean and standard deviation of the
    fold's training windows (:class:`~methods._resnet_lstm_parts.SpectrogramScaler`), the first
    layer of the encoder.
Architecture
    torchvision's ``resnet18(weights=None)`` with the electrodes as input channels and the
    classification layer removed (512-d output). ``stem="paper"`` uses a 3 x 3 stride-1 first
    convolution and no max-pooling, the only stem that yields the feature-map sizes the paper
    lists (64 x 21 x 60, ..., 512 x 3 x 8); ``stem="torchvision"`` keeps the ImageNet stem
    (used by the ``smoke`` budget because it is several times cheaper on CPU).
Augmentations (widths partly unstated)
    Applied to the standardised image, where zero is the training mean, so "removed" means
    "set to the average". Band-stop zeroes ``bandstop_hz`` Hz (default 10 Hz = 10 bins) of
    consecutive frequency bins at a uniformly random position, in every electrode and frame.
    Temporal cutout zeroes ``cutout_s`` seconds (default 6 s, the paper's "6 of 10 s") of
    consecutive STFT frames at a uniformly random position: ``round(cutout_s / frame_step)``
    frames, i.e. 12 of the 21 frames, spaced 0.5 s apart (clipped to leave one frame in shorter
    windows). ``augment="either"`` (default) gives each view one of the two augmentations with
    probability 1/2, as the paper's Fig. 3d and 3e show them one at a time; ``"both"`` applies both.
Contrastive pre-training
    Two augmented views of each window, the supervised contrastive loss with the fold's labels
    (:func:`~methods._resnet_lstm_parts.supcon_loss`, averaged over anchors), ``temperature`` 0.1
    (the SupCon recipe of Khosla et al.'s reference code) and Khosla et al.'s projection head,
    Linear(512, 512) + ReLU + Linear(512, 128), discarded after pre-training. SGD, batch 512, 300
    epochs, learning rate 0.05 (paper); momentum 0.9 and weight decay 1e-4 (the reference code's
    defaults; the paper gives none) with cosine learning-rate decay. The runner calls
    :meth:`pretrain` on the fold's training windows (labels included: they are training data);
    :meth:`fit` pre-trains itself when it was not called.
Checkpoint
    The pre-trained ResNet's ``state_dict`` is saved atomically to ``work_dir / "encoder.pt"``;
    a resumed fold loads it with ``torch.load(..., weights_only=True)`` and skips pre-training.
    Because the downstream stage re-seeds itself, a resumed fold gives the same numbers as an
    uninterrupted one. ``encoder_weights`` (a local path to such a file) replaces pre-training
    altogether, e.g. with an encoder pre-trained elsewhere; the input statistics are always
    those of the fold.
Sequence (length not stated)
    The paper states only that the 512-d features go to an "LSTM with one hidden layer" to extract
    "time information" from "time-sequence image data", and gives no sequence length. Here the
    LSTM (one layer, ``lstm_hidden`` 256 units) runs over the consecutive windows of one
    recording that end with the window being classified (causal), and its last output is
    classified. How far back it looks is set in seconds of EEG, ``lstm_context_s``, so that it
    means the same whatever the window stride: ``n`` windows of ``window_s`` every ``stride_s``
    span ``window_s + (n - 1) * stride_s`` seconds, and the fold's window length and stride are
    read from the windows' ``start``/``end`` (:func:`~methods._resnet_lstm_parts.context_windows`).
    ``paper``: 15 s, i.e. 6 windows at the paper's 1-s stride (the 6 windows of earlier versions,
    which spanned 60 s at a 10-s stride); ``smoke``: 30 s, 3 windows at its 10-s stride.
    Consecutive means no gap between the windows in the set; at the start of a segment the first
    window is repeated to fill the sequence (:func:`~methods._resnet_lstm_parts.sequence_index`).
    Sequences are built from the windows' ``recording``, ``start`` and ``end`` only, never from
    labels.
Fine-tuning
    The paper initialises the hybrid model's ResNet with the pre-trained weights and trains the
    whole model ("fine-tuning", Fig. 5), so ``finetune_encoder=True`` in ``paper``. With
    ``False`` the pre-trained encoder is frozen (eval mode) and its features are computed once,
    which is much cheaper. ``resnet_lstm`` always trains its encoder.
Output layer and downstream optimisation
    Dropout (``dropout`` 0.5, unstated), ReLU, linear layer; cross-entropy. SGD, batch 512, 100
    epochs, learning rate 0.01 (paper), momentum 0.9, weight decay 1e-4 and cosine decay as in
    pre-training. With a validation set the epoch with the lowest validation loss is kept.
Class balance
    The paper under-samples inter-ictal EEG to the length of the pre-ictal EEG. Here every epoch
    (of both stages) draws a fresh class-balanced sample: all windows of the rarer class and as
    many random windows of each other class (``balance=True``; with ``False`` every window is
    used and the loss is class-weighted). The paper's 1-s oversampling stride is a window
    setting of the harness (``--stride 1``, which ``seizure-bench reproduce lee2024 --budget
    paper`` uses), not a method parameter.

Budgets
-------
``paper`` holds the paper's settings above. ``smoke`` is a plumbing check on two CPU cores, not a
result: the cheap stem, at most 128 (class-balanced) windows per epoch, batches of 32, 12
pre-training epochs (about the fewest with which the contrastive loss leaves its initial plateau
on the synthetic data), 4 downstream epochs and a 30-s LSTM context; about 15 s per fold of a few hundred
windows.

References
----------
Lee, D., Kim, B., Kim, T., Joe, I., Chong, J., Min, K., & Jung, K. (2024). A ResNet-LSTM hybrid model
for predicting epileptic seizures using a pretrained model with supervised contrastive learning.
Scientific Reports, 14. https://doi.org/10.1038/s41598-023-43328-y

Khosla, P., Teterwak, P., Wang, C., Sarna, A., Tian, Y., Isola, P., Maschinot, A., Liu, C., &
Krishnan, D. (2020). Supervised contrastive learning. Advances in Neural Information Processing
Systems 33, 18661-18673.
"""

from __future__ import annotations

import copy
import os
import pickle
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from benchmark import features
from benchmark.adapters import FitContext, MethodAdapter, register
from benchmark.errors import DataError
from benchmark.windowset import WindowSet
from methods import _resnet_lstm_supcon_meta
from methods._resnet_lstm_supcon_meta import SPECTROGRAM_PARAMS as SPECTROGRAM_PARAMS  # re-exported

CHECKPOINT = "encoder.pt"
PREDICT_BATCH = 256
_PRETRAIN_STAGE, _FIT_STAGE = 1, 2
# What torch.load(weights_only=True) and load_state_dict raise on a damaged or foreign file.
_LOAD_ERRORS = (RuntimeError, OSError, ValueError, EOFError, pickle.UnpicklingError)


def _stage_seed(seed: int, stage: int) -> int:
    """Seed of one training stage, so each stage starts from the same state however it is reached."""
    return int(np.random.SeedSequence([seed, stage]).generate_state(1)[0])


class _ResNetSpectrogramMethod(MethodAdapter):
    """Shared pre-training, training and inference of the three ResNet-18 methods."""

    PRETRAIN: ClassVar[bool]
    USE_LSTM: ClassVar[bool]

    def __init__(self, params: dict[str, Any] | None = None):
        super().__init__(params)
        self.reject_unknown_params()
        self.pretrained_ = False
        self.encoder_origin_ = "random init"

    @classmethod
    def stated_settings(cls, params: dict[str, Any]) -> dict[str, Any]:
        """The paper's stated settings that are not hyper-parameters, as run with ``params`` (read by
        :func:`benchmark.recipes.cell_settings`, names as in the paper's settings table)."""
        from benchmark.datasets.chbmit import CHBMIT_CHANNELS
        from methods import _resnet_lstm_parts as parts

        out: dict[str, Any] = {
            "optimizer": "sgd",  # both stages (torch.optim.SGD)
            "backbone": "resnet18",
            # the CHB-MIT loader hands every method its 18 common bipolar channels
            "chbmit_channels": len(CHBMIT_CHANNELS),
        }
        if cls.USE_LSTM:
            out["lstm_layers"] = parts.LSTM_LAYERS
        if cls.PRETRAIN:
            out["augmentations"] = ("band-stop", "temporal cutout")  # parts.augment
        return out

    # -- shared set-up ----------------------------------------------------------------------------
    def _geometry(self, ws: WindowSet) -> tuple[int, int, int]:
        if len(ws.window_shape) != 3:
            raise DataError(
                f"{self.meta.name} needs spectrogram windows (channels, frames, freqs), got windows of shape "
                f"{ws.window_shape}; build the fold with representation 'spectrogram'."
            )
        return tuple(int(d) for d in ws.window_shape)  # type: ignore[return-value]

    def _build_encoder(self, train: WindowSet):
        from methods import _resnet_lstm_parts as parts

        n_chans, _, n_freqs = self._geometry(train)
        scaler = parts.SpectrogramScaler(n_chans, n_freqs).fit(train)
        return parts.Encoder(scaler, parts.resnet18_encoder(n_chans, self.params["stem"]))

    def _load_backbone(self, encoder, path: Path) -> None:
        """Load the user's ``encoder_weights`` file into ``encoder.backbone``."""
        import torch

        try:
            encoder.backbone.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        except _LOAD_ERRORS as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(
                f"encoder_weights {path} does not fit this ResNet-18 (stem '{self.params['stem']}', "
                f"{encoder.scaler.mean.shape[0]} channels): {first}"
            ) from exc

    def _augmentation_sizes(self, n_frames: int, n_freqs: int) -> tuple[int, int]:
        """Band-stop width in bins and cutout length in frames, from the STFT settings."""
        rep = features.resolve_params(self.meta.representation, self.meta.representation_params)
        frame_step_s = rep["win_s"] * (1.0 - rep["overlap"])
        bins = int(round(self.params["bandstop_hz"] * rep["win_s"]))  # bins are 1 / win_s Hz apart
        frames = int(round(self.params["cutout_s"] / frame_step_s))
        return min(bins, n_freqs - 1), min(frames, n_frames - 1)

    # -- stage 1: supervised contrastive pre-training ----------------------------------------------
    def pretrain(self, unlabelled: WindowSet, context: FitContext) -> None:
        """SupCon pre-training of the ResNet on the fold's training windows (cached in ``work_dir``).

        Does nothing for methods without pre-training. ``unlabelled.y`` must hold the training
        labels: the supervised contrastive loss needs them.
        """
        if not self.PRETRAIN or self.pretrained_:
            return
        from benchmark import torch_utils

        torch_utils.seed_everything(_stage_seed(context.seed, _PRETRAIN_STAGE))
        self.encoder_ = self._build_encoder(unlabelled)
        weights = self.params.get("encoder_weights")
        cache = None if context.work_dir is None else Path(context.work_dir) / CHECKPOINT
        if weights:
            self._load_backbone(self.encoder_, self._weights_path())
            self.encoder_origin_ = str(self._weights_path())
            context.logger.info("%s: encoder weights loaded from %s; pre-training skipped", self.meta.name, weights)
        elif cache is not None and cache.exists() and self._try_load(cache, context):
            self.encoder_origin_ = "random init, SupCon pre-trained on the fold (cached)"
            context.logger.info(
                "%s: loaded the cached pre-trained encoder %s; pre-training skipped", self.meta.name, cache
            )
        else:
            if unlabelled.y is None:
                raise DataError(
                    f"{self.meta.name} pre-trains with the supervised contrastive loss and needs training labels."
                )
            self._train_supcon(unlabelled, context)
            self.encoder_origin_ = "random init, SupCon pre-trained on the fold"
            if cache is not None:
                self._save_backbone(cache)
                context.logger.info("%s: saved the pre-trained encoder to %s", self.meta.name, cache)
        self.pretrained_ = True

    def _try_load(self, cache: Path, context: FitContext) -> bool:
        """Load a cached backbone if it fits this network; leave the network untouched otherwise."""
        import torch

        try:
            state = torch.load(cache, map_location="cpu", weights_only=True)
        except _LOAD_ERRORS as exc:
            problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        else:
            own = self.encoder_.backbone.state_dict()
            same = isinstance(state, dict) and state.keys() == own.keys()
            if same and all(state[k].shape == own[k].shape for k in own):
                self.encoder_.backbone.load_state_dict(state)
                return True
            problem = "it was saved for another network"
        context.logger.warning(
            "%s: cannot use the cached encoder %s (%s); pre-training again", self.meta.name, cache, problem
        )
        return False

    def _save_backbone(self, path: Path) -> None:
        import torch

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        state = {k: v.detach().cpu() for k, v in self.encoder_.backbone.state_dict().items()}
        torch.save(state, tmp)
        os.replace(tmp, path)  # atomic: a killed run never leaves half a checkpoint

    def _train_supcon(self, train: WindowSet, context: FitContext) -> None:
        import torch

        from benchmark import torch_utils
        from methods import _resnet_lstm_parts as parts

        p = self.params
        t0 = time.perf_counter()
        device = torch.device(context.device)
        encoder = self.encoder_.to(device)
        head = parts.projection_head(parts.EMBED_DIM, p["projection_dim"]).to(device)
        trainable = [*encoder.backbone.parameters(), *head.parameters()]
        opt = torch.optim.SGD(trainable, lr=p["pretrain_lr"], momentum=p["momentum"], weight_decay=p["weight_decay"])
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, p["pretrain_epochs"]))
        amp, grad_scaler = torch_utils._autocast(device)
        rng = np.random.default_rng([context.seed, _PRETRAIN_STAGE])
        _, n_frames, n_freqs = self._geometry(train)
        band_bins, cut_frames = self._augmentation_sizes(n_frames, n_freqs)
        encoder.train()
        head.train()
        losses = []
        for epoch in range(p["pretrain_epochs"]):
            idx = parts.balanced_sample(train.y, rng, p["max_windows_per_epoch"], p["balance"])
            total, steps = 0.0, 0
            size = p["pretrain_batch_size"]
            # Batch norm and the contrastive loss need two windows.
            batches = [idx[b : b + size] for b in range(0, len(idx), size) if len(idx[b : b + size]) >= 2]
            for batch, x in torch_utils.prefetched(batches, train, device):
                y = torch.from_numpy(train.y[batch]).to(device)
                with torch.no_grad():
                    xn = encoder.scaler(x)
                views = torch.cat([parts.augment(xn, rng, band_bins, cut_frames, p["augment"]) for _ in range(2)])
                with amp:
                    z = head(encoder.backbone(views))
                loss = parts.supcon_loss(z, y.repeat(2), p["temperature"])
                torch_utils.optimizer_step(opt, loss, grad_scaler)
                total, steps = total + float(loss.detach()), steps + 1
            sched.step()
            losses.append(total / max(steps, 1))
            context.logger.debug("%s pre-training epoch %d: SupCon loss %.4f", self.meta.name, epoch, losses[-1])
        encoder.eval()
        self.pretrain_history_ = losses
        context.logger.info(
            "%s: SupCon pre-training, %d epochs in %.1f s (loss %s)",
            self.meta.name,
            len(losses),
            time.perf_counter() - t0,
            f"{losses[0]:.3f} -> {losses[-1]:.3f}" if losses else "n/a",
        )

    # -- stage 2: downstream classifier ---------------------------------------------------------------
    def fit(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:

        from benchmark import torch_utils
        from methods import _resnet_lstm_parts as parts

        if train.y is None:
            raise DataError(f"{self.meta.name} needs a labelled training set.")
        self._geometry(train)
        if self.PRETRAIN:
            self.pretrain(train, context)  # no-op when the harness already called it
        torch_utils.seed_everything(_stage_seed(context.seed, _FIT_STAGE))
        if self.PRETRAIN:
            encoder = self.encoder_
        else:
            encoder = self._build_encoder(train)
            if self.params.get("encoder_weights"):
                self._load_backbone(encoder, self._weights_path())
                self.encoder_origin_ = str(self._weights_path())
        hidden = self.params.get("lstm_hidden") if self.USE_LSTM else None
        self.seq_len_ = self._sequence_length(train, context)
        self.model_ = parts.SequenceClassifier(encoder, train.n_classes, hidden, self.params["dropout"])
        self.device_ = context.device
        self._train_downstream(train, valid, context)

    def _sequence_length(self, train: WindowSet, context: FitContext) -> int:
        """Windows per LSTM sequence: as many as span ``lstm_context_s`` at the fold's stride."""
        from methods import _resnet_lstm_parts as parts

        if not self.USE_LSTM:
            return 1
        window_s, stride_s = parts.window_geometry(train.meta)
        n = parts.context_windows(float(self.params["lstm_context_s"]), window_s, stride_s)
        context.logger.info(
            "%s: LSTM context %g s = %d windows of %g s every %g s",
            self.meta.name,
            self.params["lstm_context_s"],
            n,
            window_s,
            stride_s,
        )
        return n

    def plan_notes(self, window_s: float, stride_s: float) -> list[str]:
        """What ``seizure-bench plan`` says about this configuration at these windows (declared with
        the metadata, so that ``plan`` reads it without this module)."""
        return _resnet_lstm_supcon_meta.lstm_plan_notes(self.params, window_s, stride_s) if self.USE_LSTM else []

    def _finetune(self) -> bool:
        return bool(self.params.get("finetune_encoder", True)) or not self.PRETRAIN

    def _train_downstream(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:
        import torch
        from torch.nn import functional as F

        from benchmark import torch_utils
        from methods import _resnet_lstm_parts as parts

        p = self.params
        t0 = time.perf_counter()
        device = torch.device(context.device)
        model = self.model_.to(device)
        finetune = self._finetune()
        for prm in model.encoder.parameters():
            prm.requires_grad_(finetune)
        trainable = [prm for prm in model.parameters() if prm.requires_grad]
        opt = torch.optim.SGD(trainable, lr=p["lr"], momentum=p["momentum"], weight_decay=p["weight_decay"])
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, p["epochs"]))
        amp, grad_scaler = torch_utils._autocast(device)
        weights = np.ones(train.n_classes) if p["balance"] else torch_utils.class_weights(train.y, train.n_classes)
        weight = torch.tensor(weights, dtype=torch.float32, device=device)
        rng = np.random.default_rng([context.seed, _FIT_STAGE])
        seqs = parts.sequence_index(train.meta, self.seq_len_)
        # clone(): features computed in inference mode cannot enter autograd graphs otherwise
        frozen_feats = None if finetune else self._encode_all(train).clone()
        use_valid = valid is not None and len(valid) > 0 and valid.y is not None
        best_state, best_loss, history = None, np.inf, []
        for epoch in range(p["epochs"]):
            model.train()
            if not finetune:
                model.encoder.eval()  # frozen: batch-norm statistics stay those of pre-training
            idx = parts.balanced_sample(train.y, rng, p["max_windows_per_epoch"], p["balance"])
            total, norm = 0.0, 0.0
            size = p["batch_size"]
            # Batch norm cannot train on a single window.
            batches = [
                idx[b : b + size] for b in range(0, len(idx), size) if len(idx[b : b + size]) >= 2 or not finetune
            ]
            if frozen_feats is None:
                # Each distinct window is encoded once, however many sequences of the batch hold it.
                stream = torch_utils.prefetched(batches, train, device, rows=lambda batch: np.unique(seqs[batch]))
            else:
                stream = ((batch, None) for batch in batches)
            for batch, x in stream:
                seq = seqs[batch]
                if frozen_feats is not None:
                    feats = frozen_feats[torch.from_numpy(seq).to(device)]
                else:
                    inv = np.unique(seq, return_inverse=True)[1]
                    with amp:
                        enc = model.encoder(x)
                    feats = enc[torch.from_numpy(inv.reshape(seq.shape)).to(device)]
                with _full_precision(device):
                    logits = model.classify(feats.float())
                y = torch.from_numpy(train.y[batch]).to(device)
                loss_sum = F.cross_entropy(logits, y, weight=weight, reduction="sum")
                batch_weight = float(weight[y].sum())
                if batch_weight == 0:
                    continue
                torch_utils.optimizer_step(opt, loss_sum / batch_weight, grad_scaler)
                total, norm = total + float(loss_sum.detach()), norm + batch_weight
            sched.step()
            record = {"epoch": epoch, "train_loss": total / norm if norm else float("nan")}
            if use_valid:
                proba = self._predict(valid)
                record["valid_loss"] = float(
                    -np.average(np.log(proba[np.arange(len(valid)), valid.y] + 1e-12), weights=weights[valid.y])
                )
                if record["valid_loss"] < best_loss:
                    best_loss = record["valid_loss"]
                    best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
            history.append(record)
            context.logger.debug("%s epoch %d: %s", self.meta.name, epoch, record)
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        self.history_ = history
        context.logger.info(
            "%s: %d epochs in %.1f s (encoder %s, %s)",
            self.meta.name,
            len(history),
            time.perf_counter() - t0,
            "fine-tuned" if finetune else "frozen",
            self.encoder_origin_,
        )

    # -- inference ----------------------------------------------------------------------------------------
    def _encode_all(self, ws: WindowSet):
        """512-d features of every window of ``ws``, in order, on the model's device (eval mode)."""
        import torch

        from benchmark import torch_utils

        device = torch.device(self.device_)
        encoder = self.model_.encoder.to(device)
        was_training = encoder.training
        encoder.eval()
        amp, _ = torch_utils._autocast(device)
        out = []
        with torch.inference_mode():
            for _, x in torch_utils.prefetched(ws.batch_indices(PREDICT_BATCH), ws, device):
                with amp:
                    out.append(encoder(x).float())
        encoder.train(was_training)
        if not out:
            return torch.zeros((0, 512), device=device)
        return torch.cat(out)

    def _predict(self, ws: WindowSet) -> np.ndarray:
        import torch

        from methods import _resnet_lstm_parts as parts

        device = torch.device(self.device_)
        was_training = self.model_.training
        self.model_.eval()
        feats = self._encode_all(ws)
        seqs = torch.from_numpy(parts.sequence_index(ws.meta, self.seq_len_)).to(device)
        out = []
        with torch.inference_mode(), _full_precision(device):
            for start in range(0, len(ws), 4 * PREDICT_BATCH):
                logits = self.model_.classify(feats[seqs[start : start + 4 * PREDICT_BATCH]])
                out.append(torch.softmax(logits.double(), dim=-1).cpu().numpy())
        self.model_.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, ws.n_classes))

    def predict_proba(self, test: WindowSet) -> np.ndarray:
        return self._predict(test)

    # -- reporting ------------------------------------------------------------------------------------------
    def _weights_path(self) -> Path:
        path = Path(str(self.params["encoder_weights"])).expanduser()
        if not path.is_file():
            raise DataError(f"encoder_weights file {path} does not exist; give a local encoder state_dict (.pt) path.")
        return path

    def n_parameters(self) -> int | None:
        model = getattr(self, "model_", None)
        return None if model is None else int(sum(prm.numel() for prm in model.parameters()))

    def weights_source(self) -> str:
        weights = self.params.get("encoder_weights")
        return str(Path(str(weights)).expanduser()) if weights else "random init"


def _full_precision(device):
    """Run the LSTM and output layer in float32 even inside mixed-precision training."""
    import torch

    return torch.autocast(device.type, enabled=False) if device.type == "cuda" else nullcontext()


@register
class ResNetLSTMSupCon(_ResNetSpectrogramMethod):
    """SupCon-pre-trained ResNet-18 + LSTM on STFT images (Lee et al. 2024); see the module notes."""

    PRETRAIN = True
    USE_LSTM = True
    meta = _resnet_lstm_supcon_meta.RESNET_LSTM_SUPCON


@register
class ResNetLSTM(_ResNetSpectrogramMethod):
    """Ablation: the ResNet-LSTM trained end to end from random weights (paper Tables 2 and 4)."""

    PRETRAIN = False
    USE_LSTM = True
    meta = _resnet_lstm_supcon_meta.RESNET_LSTM


@register
class ResNetSupCon(_ResNetSpectrogramMethod):
    """Ablation: the SupCon-pre-trained ResNet without the LSTM (paper Table 8, left)."""

    PRETRAIN = True
    USE_LSTM = False
    meta = _resnet_lstm_supcon_meta.RESNET_SUPCON
