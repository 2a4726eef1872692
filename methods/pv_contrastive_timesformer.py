"""TimeSformer with patient- and video-level contrastive pre-training, TLE vs exTLE (Li et al., EMBC 2024).

Li et al. classify seizure videos by epilepsy type (temporal vs extra-temporal lobe epilepsy). A
TimeSformer (Bertasius et al. 2021) embeds each 10-s clip; it is first pre-trained on unlabelled
clinical videos with two contrastive losses that need no annotation: clips of one video should
embed alike (video level, Eq. 1) and so should clips of one patient (patient level, Eq. 2); the
objective is their sum (Eq. 3). The encoder is then frozen and a head of several linear layers
(768 -> ... -> 2) is trained with cross-entropy (Eq. 4). Videos are classified by a majority vote
of their clips.

Registered methods (video; task ``classification``; default target ``focus``)
------------------------------------------------------------------------------
``pv_contrastive_timesformer``
    The full objective ``L_vc + L_pc`` (paper Table I, "Video+patient").
``pv_contrastive_timesformer_video_only``
    ``L_vc`` only (Table I, "Video").
``pv_contrastive_timesformer_patient_only``
    ``L_pc`` only (Table I, "Patient").
``pv_contrastive_timesformer_nopretrain``
    No contrastive pre-training: the head is trained on the frozen initial encoder (Table I,
    "w/o pretraining"; in the paper that encoder is the Kinetics-400 checkpoint).

Positives are defined from the clips' metadata only: ``meta.recording`` (the video) and
``meta.patient``; labels are never used before the head is trained.

How the paper's vague points are resolved
-----------------------------------------
Clips (``representation="video"``, :data:`REPRESENTATION`)
    ``paper``: the paper's "TimeSformer-L featuring a 96-frame input and a spatial crop of 224×224
    pixels" on "non-overlapping clips, each lasting 10 seconds": 96 frames over 10 s, that is
    9.6 fps, 224 x 224 (the network reads the number of frames from the clips). The harness cuts a
    video run's windows to the method's clip, ``n_frames / fps`` seconds, back to back. Each clip
    is 14.5 MB in the clip cache (uint8); ``seizure-bench plan`` gives the total. The paper's Mask
    R-CNN crop around the hospital bed is the dataset's bounding boxes, when it has them. Frames are
    resized to ``img_size`` and normalised with the reference TimeSformer's statistics (mean 0.45,
    std 0.225).
Encoder
    Divided space-time attention, patch 16, 12 blocks of 12 heads, width 768
    (:class:`methods._video_backbones.TimeSformer`, 121.3 M parameters without a classifier); the
    clip embedding is the 768-d CLS output (the paper drops "the final linear prediction layer").
    The paper starts from a Kinetics-400 checkpoint; nothing is downloaded here, so the ``paper``
    budget needs ``backbone_weights``, a local checkpoint in the reference layout (facebookresearch
    ``TimeSformer_divST_96x4_224_K400.pyth``, TimeSformer-L, keys under ``model_state``) or the Hugging Face one
    (``TimesformerModel`` keys, a ``model.safetensors``/``pytorch_model.bin`` file or its folder);
    its classifier is dropped, a time embedding for another number of frames is interpolated, and
    a file that does not fit is refused in one line. A paper run without it is refused before any
    data is read; ``backbone_weights=random`` (what ``smoke`` holds) keeps a random
    initialisation drawn from ``init_seed`` (the same in every fold), which is not the paper's
    setting and makes the "w/o pretraining" ablation a different model. ``weights_source()`` says which.
Contrastive losses (Eqs. 1-2; :func:`~methods._video_ssl_parts.pair_contrastive_loss`)
    Cosine similarity over temperature ``tau`` = 0.1 (unstated; SimCLR's ImageNet value). Every
    ordered positive pair (anchor, positive) in a batch is one term; its denominator holds the
    positive and the anchor's negatives (the paper's sum from ``k = 0``), not its other positives;
    terms are averaged. No projection head (the paper contrasts the embeddings themselves).
Batches (unstated)
    Batch 8 as in the paper, but built so that positives exist at both levels
    (:func:`~methods._video_ssl_parts.grouped_batches`): patients in random order, up to 2 videos
    per patient and 2 clips per video. One epoch is ``ceil(n_clips / 8)`` such batches.
Pre-training data
    The paper's unlabelled set holds every video of 40 patients, "the labeled dataset ... a subset
    of the unlabeled dataset". Read in this benchmark's terms: ``FitContext.unlabelled`` (clips of
    the contextual videos of the fold's training patients) plus the fold's labelled training clips
    with their labels dropped (``pretrain_on_training_clips``). Test patients' videos are never
    used, although the paper's 5-fold protocol, which pre-trained once on all 40 patients, did
    (so its test videos were seen, without labels, in pre-training). Without contextual clips only
    the training clips are used, and the log and ``weights_source()`` say so.
Pre-training optimiser (unstated)
    AdamW, learning rate 1e-4, weight decay 1e-4, cosine decay over all steps (the usual choice for
    contrastive training of vision Transformers); 5 epochs (paper).
Head and fine-tuning
    Embeddings standardised per dimension with statistics of the fold's training clips (not in the
    paper: a random-init encoder's CLS embeddings differ between clips by about 1 % of their scale),
    then linear layers 768 -> 256 -> 64 -> ``n_classes`` with ReLU between them (the paper:
    "multiple linear layers to progressively reduce dimensions from 768 to 2"). Softmax
    cross-entropy (Eq. 4, unweighted as printed), 10 epochs (paper), batch 8, AdamW at 1e-3
    without weight decay (unstated). Embeddings of the frozen encoder are computed once per fit. With a validation set
    the epoch with the lowest validation loss is kept.
Checkpoint
    The pre-trained encoder is saved to ``work_dir`` and reloaded (``torch.load(...,
    weights_only=True)``) when a fold is resumed with the same settings and clips. Embeddings of
    the never-trained encoder (``_nopretrain``) are cached across folds and runs in
    ``FitContext.cache_dir``.

Budgets
-------
``paper`` holds the settings above. ``smoke`` is a plumbing check on two CPU cores, not a result: a
TimeSformer of width 64, 2 blocks of 4 heads, 8-pixel patches on 32 x 32 frames; 2 pre-training
epochs of at most 16 batches at learning rate 1e-3; a head of 64 -> 32 -> 16 -> classes trained as
in the paper (10 epochs).

References
----------
Li, C.-J., Chou, C.-C., Shih, Y.-C., Kuo, L.-C., Wang, Y.-T., McGonigal, A., Yu, H.-Y., Hou, J.-C., &
Tsao, Y. (2024). Epileptic seizure classification with patient-level and video-level contrastive
pretraining. Proc. 46th Annual International Conference of the IEEE Engineering in Medicine and
Biology Society (EMBC).

Bertasius, G., Wang, H., & Torresani, L. (2021). Is space-time attention all you need for video
understanding? Proc. ICML.

Singh, A., Chakraborty, O., Varshney, A., et al. (2021). Semi-supervised action recognition with
temporal contrastive learning. Proc. CVPR.

Chen, T., Kornblith, S., Norouzi, M., & Hinton, G. (2020). A simple framework for contrastive
learning of visual representations. Proc. ICML.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from benchmark.adapters import FitContext, MethodAdapter, register
from benchmark.errors import BenchmarkError, DataError
from benchmark.windowset import WindowSet
from methods import _pv_contrastive_timesformer_meta

CHECKPOINT = "pv_contrastive_encoder.pt"
_FORMAT = "pv_contrastive_timesformer-encoder-1"
_PRETRAIN_STAGE, _FIT_STAGE = 1, 2


class _PVContrastiveBase(MethodAdapter):
    """Shared encoder, pre-training, head training and inference of the four variants."""

    #: Contrastive levels of the pre-training objective; empty: no pre-training.
    LEVELS: ClassVar[tuple[str, ...]]

    def __init__(self, params: dict[str, Any] | None = None):
        super().__init__(params)
        self.reject_unknown_params()
        p = self.params
        if int(p["embed_dim"]) % int(p["heads"]):
            raise BenchmarkError(f"embed_dim ({p['embed_dim']}) must be a multiple of heads ({p['heads']}).")
        if int(p["img_size"]) % int(p["patch_size"]):
            raise BenchmarkError(f"img_size ({p['img_size']}) must be a multiple of patch_size ({p['patch_size']}).")
        if self.LEVELS and float(p["temperature"]) <= 0:
            raise BenchmarkError(f"temperature must be positive, got {p['temperature']}.")
        self.pretrained_ = False
        self.encoder_origin_ = None
        from benchmark import torch_utils

        # Refused here, when the harness first builds the adapter: before any data is read.
        self.weights_path_ = torch_utils.weights_file(
            p["backbone_weights"],
            method=self.meta.name,
            setting="backbone_weights",
            needs="Kinetics-400 TimeSformer weights",
            example="TimeSformer_divST_96x4_224_K400.pyth (the reference TimeSformer-L file) "
            "or a Hugging Face TimeSformer folder",
        )
        self.pretrain_note_ = "no contrastive pre-training" if not self.LEVELS else "not pre-trained"

    # -- encoder ------------------------------------------------------------------------------------------------------
    def _geometry(self, ws: WindowSet) -> int:
        if len(ws.window_shape) != 4 or ws.window_shape[1] != 3:
            raise DataError(
                f"{self.meta.name} needs video clips (frames, 3, size, size), got windows of shape {ws.window_shape}; "
                "use a video dataset and the classification task."
            )
        return int(ws.window_shape[0])

    def _build_encoder(self, n_frames: int):
        """A TimeSformer with the fixed initial weights (``init_seed`` or the local ``weights`` file)."""
        import torch

        from methods import _video_backbones as vb

        p = self.params
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(p["init_seed"]))
            encoder = vb.TimeSformer(
                img_size=int(p["img_size"]),
                patch_size=int(p["patch_size"]),
                num_frames=n_frames,
                embed_dim=int(p["embed_dim"]),
                depth=int(p["depth"]),
                num_heads=int(p["heads"]),
                num_classes=0,
            )
        if self.weights_path_ is not None:
            self.encoder_origin_ = vb.load_weights(
                encoder, self.weights_path_, ignore=vb.TIMESFORMER_HEAD, convert=vb.timesformer_state
            )
        else:
            self.encoder_origin_ = f"random-init:{int(p['init_seed'])}"
        return encoder

    def _embed(self, clips):
        """Clip embeddings ``(B, D)`` of clips ``(B, T, 3, S, S)`` in ``[0, 1]`` (torch)."""
        from methods import _video_ssl_parts as parts

        x = parts.prepare_frames(clips, int(self.params["img_size"]), parts.TIMESFORMER_MEAN, parts.TIMESFORMER_STD)
        return self.encoder_.forward_features(x)

    def _embeddings(self, ws: WindowSet) -> np.ndarray:
        """Embeddings ``(n, D)`` of the frozen encoder; cached across folds only when it was never trained."""
        import torch

        from benchmark.feature_cache import cached_features

        self._geometry(ws)
        device = torch.device(self.device_)
        encoder = self.encoder_.to(device).eval()
        p = self.params

        def compute(clips: np.ndarray) -> np.ndarray:
            from benchmark import torch_utils

            with torch.inference_mode():
                x = torch_utils.to_device(np.ascontiguousarray(clips, dtype=np.float32), device)
                return self._embed(x).float().cpu().numpy()

        cache_dir = self.cache_dir_ if not self.LEVELS else None  # a fold's pre-trained encoder is its own
        extractor = {
            "name": "timesformer-cls",
            "weights": self.encoder_origin_,
            "img_size": int(p["img_size"]),
            "patch_size": int(p["patch_size"]),
            "embed_dim": int(p["embed_dim"]),
            "depth": int(p["depth"]),
            "heads": int(p["heads"]),
            "normalisation": "kinetics",
            "version": 1,
        }
        out = cached_features(ws, extractor, compute, cache_dir, int(p["feature_batch"]))
        encoder.eval()
        return out

    @classmethod
    def stated_settings(cls, params: dict[str, Any]) -> dict[str, Any]:
        """The paper's stated settings that are not hyper-parameters, as run with ``params`` (read by
        :func:`benchmark.recipes.cell_settings`, names as in the paper's settings table)."""
        out: dict[str, Any] = {
            "frozen_encoder": True,  # requires_grad_(False) before the head is trained
            "video_aggregation": cls.meta.video_aggregation,
        }
        if cls.LEVELS:
            out["pretrain_loss"] = "+".join(cls.LEVELS)  # Eq. 3 sums the levels' losses
            # FitContext.unlabelled (training patients' contextual clips) and, with
            # pretrain_on_training_clips, the fold's training clips; never the test patients'
            out["pretrain_data"] = "training patients' unlabelled clips"
        return out

    # -- stage 1: contrastive pre-training ---------------------------------------------------------------------------
    def pretrain(self, unlabelled: WindowSet, context: FitContext) -> None:
        """Contrastive pre-training of the TimeSformer (Li et al., Eqs. 1-3).

        Pre-trains on ``context.unlabelled`` (contextual clips of the fold's training patients) plus,
        with ``pretrain_on_training_clips``, ``unlabelled`` (the harness passes the fold's training
        clips; their labels are dropped). The ``_nopretrain`` variant only builds the encoder.
        """
        if self.pretrained_:
            return

        from benchmark import torch_utils
        from methods import _video_ssl_parts as parts

        self.device_ = context.device
        self.cache_dir_ = context.cache_dir
        n_frames = self._geometry(unlabelled)
        self.encoder_ = self._build_encoder(n_frames)
        if not self.LEVELS:
            self.pretrained_ = True
            return
        p = self.params
        sets, parts_note = [], []
        contextual = context.unlabelled
        if contextual is not None and len(contextual):
            sets.append(contextual.without_labels())
            parts_note.append(f"{len(contextual)} contextual clips")
        if p["pretrain_on_training_clips"] or not sets:
            sets.append(unlabelled.without_labels())
            parts_note.append(f"{len(unlabelled)} training clips without labels")
        if contextual is None or not len(contextual):
            context.logger.warning(
                "%s: no unlabelled contextual clips in this fold; contrastive pre-training on the %d training clips "
                "without their labels only",
                self.meta.name,
                len(unlabelled),
            )
        data = WindowSet.concat(sets) if len(sets) > 1 else sets[0]
        objective = " + ".join({"video": "L_vc", "patient": "L_pc"}[lv] for lv in self.LEVELS)
        self.pretrain_note_ = f"contrastive pre-training ({objective}) on {' and '.join(parts_note)}"
        config = {
            **{
                k: p[k]
                for k in sorted(p)
                if k not in ("epochs", "lr", "batch_size", "weight_decay", "head_hidden", "feature_batch")
            },
            "levels": list(self.LEVELS),
            "weights": self.encoder_origin_,
            "n_frames": n_frames,
            "clips": parts.windows_fingerprint(data.meta),
            "n_clips": len(data),
        }
        cache = None if context.work_dir is None else Path(context.work_dir) / CHECKPOINT
        if cache is not None and cache.exists():
            saved, why = parts.load_checkpoint(cache, _FORMAT, config)
            if saved is not None and set(saved["state"]) == set(self.encoder_.state_dict()):
                self.encoder_.load_state_dict(saved["state"])
                self.pretrained_ = True
                context.logger.info("%s: loaded the fold's pre-trained encoder from %s", self.meta.name, cache)
                return
            context.logger.warning(
                "%s: cannot use %s (%s); pre-training again",
                self.meta.name,
                cache,
                why or "it does not fit this encoder",
            )
        torch_utils.seed_everything(parts.stage_seed(context.seed, _PRETRAIN_STAGE))
        self._contrast(data, context)
        if cache is not None:
            state = {k: v.detach().cpu() for k, v in self.encoder_.state_dict().items()}
            parts.save_checkpoint(cache, {"format": _FORMAT, "config": config, "state": state})
            context.logger.info("%s: saved the pre-trained encoder to %s", self.meta.name, cache)
        self.pretrained_ = True

    def _contrast(self, data: WindowSet, context: FitContext) -> None:
        import torch

        from benchmark import torch_utils
        from methods import _video_ssl_parts as parts

        p = self.params
        t0 = time.perf_counter()
        device = torch.device(context.device)
        encoder = self.encoder_.to(device)
        patients = parts.group_codes(data.meta["patient"])
        # A video is (patient, recording): two patients' files may share a name.
        videos = parts.group_codes(data.meta["patient"].astype(str) + "\x1f" + data.meta["recording"].astype(str))
        batch = int(p["pretrain_batch_size"])
        n_batches = -(-len(data) // batch)
        if p["max_pretrain_batches_per_epoch"] is not None:
            n_batches = min(n_batches, int(p["max_pretrain_batches_per_epoch"]))
        epochs = int(p["pretrain_epochs"])
        opt = torch.optim.AdamW(
            encoder.parameters(), lr=float(p["pretrain_lr"]), weight_decay=float(p["pretrain_weight_decay"])
        )
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs * n_batches))
        amp, grad_scaler = torch_utils._autocast(device)
        rng = np.random.default_rng([context.seed, _PRETRAIN_STAGE])
        losses = []
        encoder.train()
        for epoch in self._epochs(epochs, context, "pre-training"):
            total, steps = 0.0, 0
            batches = parts.grouped_batches(
                patients, videos, rng, batch, int(p["videos_per_patient"]), int(p["clips_per_video"]), n_batches
            )
            for rows, x in torch_utils.prefetched(batches, data, device):
                with amp:
                    z = self._embed(x)
                loss = parts.pretraining_loss(
                    z,
                    torch.from_numpy(videos[rows]).to(device),
                    torch.from_numpy(patients[rows]).to(device),
                    self.LEVELS,
                    float(p["temperature"]),
                )
                torch_utils.optimizer_step(opt, loss, grad_scaler)
                sched.step()
                total, steps = total + float(loss.detach()), steps + 1
            losses.append(total / max(steps, 1))
            context.logger.debug("%s pre-training epoch %d: loss %.4f", self.meta.name, epoch, losses[-1])
        encoder.eval()
        self.pretrain_history_ = losses
        context.logger.info(
            "%s: %s, %d epochs in %.1f s (loss %s)",
            self.meta.name,
            self.pretrain_note_,
            len(losses),
            time.perf_counter() - t0,
            f"{losses[0]:.3f} -> {losses[-1]:.3f}" if losses else "n/a",
        )

    # -- stage 2: the classification head ------------------------------------------------------------------------------
    def fit(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:
        import torch
        from torch.nn import functional as F

        from benchmark import torch_utils
        from methods import _video_ssl_parts as parts

        if train.y is None:
            raise DataError(f"{self.meta.name} needs a labelled training set.")
        self.pretrain(train, context)  # no-op when the harness already called it
        self.device_ = context.device
        self.cache_dir_ = context.cache_dir
        for prm in self.encoder_.parameters():
            prm.requires_grad_(False)  # frozen after pre-training (paper Sec. III-C)
        p = self.params
        t0 = time.perf_counter()
        emb = self._embeddings(train)
        use_valid = valid is not None and len(valid) > 0 and valid.y is not None
        valid_emb = self._embeddings(valid) if use_valid else None
        device = torch.device(context.device)
        torch_utils.seed_everything(parts.stage_seed(context.seed, _FIT_STAGE))
        dims = [emb.shape[1], *[int(h) for h in p["head_hidden"]], train.n_classes]
        head = parts.ClassificationHead(dims)
        head.scaler.fit(torch.from_numpy(np.asarray(emb, dtype=np.float32)))
        head.to(device)
        opt = torch.optim.AdamW(head.parameters(), lr=float(p["lr"]), weight_decay=float(p["weight_decay"]))
        rng = np.random.default_rng([context.seed, _FIT_STAGE])
        x_all = torch.from_numpy(np.asarray(emb, dtype=np.float32)).to(device)
        y_all = torch.from_numpy(train.y).to(device)
        batch = int(p["batch_size"])
        update, restore = parts.best_state_tracker()
        self.history_: list[dict[str, float]] = []
        for epoch in range(int(p["epochs"])):
            head.train()
            total = 0.0
            order = rng.permutation(len(emb))
            for i in range(0, len(order), batch):
                rows = torch.from_numpy(order[i : i + batch]).to(device)
                loss = F.cross_entropy(head(x_all[rows]), y_all[rows])
                torch_utils.optimizer_step(opt, loss)
                total += float(loss.detach()) * len(rows)
            record = {"epoch": epoch, "train_loss": total / max(len(order), 1)}
            if use_valid:
                head.eval()
                with torch.inference_mode():
                    v = torch.from_numpy(np.asarray(valid_emb, dtype=np.float32)).to(device)
                    record["valid_loss"] = float(F.cross_entropy(head(v), torch.from_numpy(valid.y).to(device)))
                update(head, record["valid_loss"], epoch)
            self.history_.append(record)
            context.logger.debug("%s head epoch %d: %s", self.meta.name, epoch, record)
        kept = restore(head)
        self.head_ = head.eval()
        context.logger.info(
            "%s: head trained %d epochs in %.1f s (kept %s)",
            self.meta.name,
            len(self.history_),
            time.perf_counter() - t0,
            "the last epoch" if kept is None else f"epoch {kept}, lowest validation loss",
        )

    def predict_proba(self, test: WindowSet) -> np.ndarray:
        import torch

        emb = self._embeddings(test)
        device = torch.device(self.device_)
        head = self.head_.to(device).eval()
        with torch.inference_mode():
            logits = head(torch.from_numpy(np.asarray(emb, dtype=np.float32)).to(device)).double()
            return torch.softmax(logits, dim=-1).cpu().numpy()

    def _epochs(self, n: int, context: FitContext, stage: str):
        if not context.progress:
            return range(n)
        from tqdm.auto import tqdm

        return tqdm(range(n), desc=f"{self.meta.name} {stage}", unit="epoch", leave=False)

    # -- reporting -----------------------------------------------------------------------------------------------------
    def n_parameters(self) -> int | None:
        """Parameters of the encoder and the head (the encoder is trained in pre-training, the head after)."""
        enc, head = getattr(self, "encoder_", None), getattr(self, "head_", None)
        if enc is None or head is None:
            return None
        return int(sum(prm.numel() for prm in enc.parameters()) + sum(prm.numel() for prm in head.parameters()))

    def weights_source(self) -> str:
        from benchmark import torch_utils

        if self.weights_path_ is not None:
            start = self.encoder_origin_ or torch_utils.weights_provenance(self.weights_path_)
        else:
            start = torch_utils.random_init_source("backbone_weights")
        return f"TimeSformer: {start}; {self.pretrain_note_}; frozen for the head"

    def efficiency_report(
        self, window_shape: tuple[int, ...], latency_batch: int = 1, latency_repeats: int = 1
    ) -> dict:
        """Size, compute and latency of the per-clip path (TimeSformer and head).

        Uses the fitted networks when there are some, otherwise untrained ones (two classes).

        Parameters
        ----------
        window_shape
            ``(frames, 3, size, size)`` of one clip (the harness's window).
        latency_batch, latency_repeats
            Clips per timed CPU batch and number of timed batches (one by default: on the paper's
            networks a CPU forward pass takes seconds).

        Returns
        -------
        dict
            ``n_params_encoder``, ``n_params_head``, ``n_params_total``, ``flops_per_window``,
            ``model_size_mb`` and ``inference_ms_per_window``.
        """
        import torch

        from benchmark import efficiency as measure
        from methods import _video_ssl_parts as parts

        shape = tuple(int(d) for d in window_shape)
        encoder = getattr(self, "encoder_", None)
        encoder = copy.deepcopy(encoder) if encoder is not None else self._build_encoder(shape[0])
        encoder = encoder.cpu().eval()
        head = getattr(self, "head_", None)
        if head is None:
            dims = [int(self.params["embed_dim"]), *[int(h) for h in self.params["head_hidden"]], 2]
            head = parts.ClassificationHead(dims)
        head = copy.deepcopy(head).cpu().eval()
        size = int(self.params["img_size"])

        def path(x):
            frames = parts.prepare_frames(x, size, parts.TIMESFORMER_MEAN, parts.TIMESFORMER_STD)
            return head(encoder.forward_features(frames))

        return {
            "window_shape": list(shape),
            "n_params_encoder": measure.count_parameters(encoder),
            "n_params_head": measure.count_parameters(head),
            "n_params_total": measure.count_parameters(encoder) + measure.count_parameters(head),
            "flops_per_window": measure.flops_per_window(path, shape),
            "model_size_mb": round(measure.state_size_mb(torch.nn.ModuleList([encoder, head])), 3),
            "inference_ms_per_window": round(
                measure.inference_ms_per_window(path, shape, latency_batch, latency_repeats), 4
            ),
        }


@register
class PVContrastiveTimeSformer(_PVContrastiveBase):
    """TimeSformer pre-trained with video- and patient-level contrastive losses, frozen, with an MLP head."""

    LEVELS = ("video", "patient")
    meta = _pv_contrastive_timesformer_meta.PV_CONTRASTIVE_TIMESFORMER


@register
class PVContrastiveTimeSformerVideoOnly(_PVContrastiveBase):
    """Ablation: video-level contrastive loss only (Li et al., Table I, "Video")."""

    LEVELS = ("video",)
    meta = _pv_contrastive_timesformer_meta.PV_CONTRASTIVE_TIMESFORMER_VIDEO_ONLY


@register
class PVContrastiveTimeSformerPatientOnly(_PVContrastiveBase):
    """Ablation: patient-level contrastive loss only (Li et al., Table I, "Patient")."""

    LEVELS = ("patient",)
    meta = _pv_contrastive_timesformer_meta.PV_CONTRASTIVE_TIMESFORMER_PATIENT_ONLY


@register
class PVContrastiveTimeSformerNoPretrain(_PVContrastiveBase):
    """Ablation: no contrastive pre-training; the head sits on the frozen initial encoder (Table I, "w/o")."""

    LEVELS = ()
    meta = _pv_contrastive_timesformer_meta.PV_CONTRASTIVE_TIMESFORMER_NOPRETRAIN
