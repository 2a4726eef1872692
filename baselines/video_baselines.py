"""Video seizure-classification baselines: frozen spatiotemporal CNN features and a recurrent head.

Three baselines share one pattern, a pretrained action-recognition CNN used as a frozen feature
extractor and a small recurrent network trained on its features:

``i3d_lstm``
    Karácsony et al. (2020, 2022): I3D features of consecutive sub-clips of a clip, an LSTM over
    them, a linear layer; one prediction per clip, videos decided by majority vote.
``r2plus1d_lstm``
    The same pipeline with torchvision's R(2+1)D-18 (Tran et al. 2018) in place of I3D.
``perez_garcia``
    GESTURES (Pérez-García et al. 2021): R(2+1)D features of short snippets spread over a whole
    seizure video (one snippet per segment, as in temporal segment networks) and a bidirectional
    LSTM that turns the sequence into one prediction per video.

Our reading of the papers
-------------------------
Both papers freeze the Kinetics-pretrained CNN and train only what follows it (Pérez-García et
al., Fig. 1: "we train only the models with thick red borders"; Karácsony et al. transfer I3D
features); so do we, in every budget. The CNN's features of each clip are computed once and kept
in a :class:`~benchmark.feature_cache.ClipFeatureCache` under ``FitContext.cache_dir``, shared by
folds and runs. For ``i3d_lstm``/``r2plus1d_lstm`` a harness clip (``T`` frames) is cut into
``subclips`` consecutive sub-clips whose features form the LSTM's sequence; for ``perez_garcia``
each harness clip is one snippet and the sequence runs over the clips of a video: in training
``n_segments`` equal segments of the video each contribute one clip drawn at a random position
(Beta(c, c) over the segment, c = ``jitter_concentration``; 1 = uniform), in validation and test
the middle clip of each segment, and every clip of a video receives the video's probabilities.

Weights
-------
Nothing is downloaded. The ``paper`` budgets need the Kinetics-400 checkpoint the papers start
from, ``backbone_weights=PATH``: a local state dict (I3D in the TF-derived key names of the PyTorch
port, e.g. ``rgb_imagenet.pt``; torchvision's ``r2plus1d_18-91a641e6.pth``), loaded with
:func:`benchmark.torch_utils.load_weights`, which refuses a file that does not fit the network in
one line; ``weights_source()`` then names the file and its SHA-256. Without it a ``paper`` run is
refused before any data is read. ``backbone_weights=random`` (what ``smoke`` holds) leaves the CNN
at a fixed random initialisation (seeded by ``backbone_seed``, not by the fold seed, so its
features are shared by folds): the pipeline runs, but random features are not the papers' transfer
learning; the log, ``weights_source()`` and the boards say so.

Budgets
-------
``smoke`` is a plumbing check on two CPU cores, not a result: the harness's default 2-s clips of
8 frames at 4 fps, 64 px, are resized to 32 px for the CNN, and the heads train for a few epochs. ``paper``
holds the papers' settings where they give them (GESTURES: 16 segments, snippets of 8 frames at
15 fps, 112-px R(2+1)D input, BLSTM with 64 units, AdamW at learning rate 1e-2, batch 64, up to
400 epochs with patience 100; Karácsony et al.: I3D at 224 px, 2-s samples) and our choices
otherwise (marked on each class). The harness prepares the clips of ``MethodMeta.representation_params``,
replaced for the ``paper`` budget by the clips its paper used (``budget_representation_params``):
``n_frames`` consecutive frames at ``fps`` frames per second, so a clip (the run's window) lasts
``n_frames / fps`` seconds; a GESTURES snippet is 8 / 15 = 0.53 s, cut back to back.
All three default to the TLE-vs-exTLE target (``focus``) of Li et al.'s Table I, where they are
the comparison methods.

References
----------
Karácsony, T., Loesch-Biffar, A. M., Vollmar, C., Noachtar, S., & Cunha, J. P. S. (2020). A deep
learning architecture for epileptic seizure classification based on object and action
recognition. Proc. IEEE ICASSP, 4117-4121.

Karácsony, T., Loesch-Biffar, A. M., Vollmar, C., Rémi, J., Noachtar, S., & Cunha, J. P. S. (2022).
Novel 3D video action recognition deep learning approach for near real time epileptic seizure
classification. Scientific Reports, 12, 19571.

Pérez-García, F., Scott, C., Sparks, R., Diehl, B., & Ourselin, S. (2021). Transfer learning of
deep spatiotemporal networks to model arbitrarily long videos of seizures. Proc. MICCAI, LNCS
12905, 334-344.

Carreira, J., & Zisserman, A. (2017). Quo vadis, action recognition? A new model and the Kinetics
dataset. Proc. CVPR.

Tran, D., Wang, H., Torresani, L., Ray, J., LeCun, Y., & Paluri, M. (2018). A closer look at
spatiotemporal convolutions for action recognition. Proc. CVPR.

Wang, L., Xiong, Y., Wang, Z., Qiao, Y., Lin, D., Tang, X., & Van Gool, L. (2016). Temporal segment
networks: towards good practices for deep action recognition. Proc. ECCV.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from baselines import _video_baselines_meta
from baselines._video_baselines_meta import WEIGHTS
from benchmark.adapters import FitContext, MethodAdapter, register
from benchmark.errors import DataError
from benchmark.windowset import WindowSet

#: Budget keys of the training loop (``benchmark.torch_utils.train_classifier``).
TRAIN_KEYS = ("epochs", "lr", "batch_size", "weight_decay", "patience", "max_windows_per_epoch")
PREDICT_BATCH = 256
#: What the papers load, and a typical file, per backbone (for the refusal of a paper run without it).
NEEDS = {
    "i3d": ("Kinetics-400 I3D weights", "rgb_imagenet.pt (the PyTorch I3D port's Kinetics-400 file)"),
    "r2plus1d_18": ("Kinetics-400 R(2+1)D-18 weights", "r2plus1d_18-91a641e6.pth (torchvision's file)"),
}


def _torch():
    # Imported on first use: ``import baselines`` (e.g. for listing methods) must stay cheap.
    import torch

    return torch


def _parts():
    from methods import _video_backbones

    return _video_backbones


class _FrozenBackboneBaseline(MethodAdapter):
    """Frozen video CNN feature extraction (cached) shared by the video baselines."""

    BACKBONE: ClassVar[str]  # "i3d" or "r2plus1d_18"
    _NORMALISATION = {"i3d": "scale-to-[-1,1]", "r2plus1d_18": "kinetics-mean-std"}

    def __init__(self, params: dict[str, Any] | None = None):
        super().__init__(params)
        from benchmark import torch_utils

        needs, example = NEEDS[self.BACKBONE]
        # Refused here, when the harness first builds the adapter: before any data is read.
        self.weights_path_ = torch_utils.weights_file(
            self.params.get(WEIGHTS), method=self.meta.name, setting=WEIGHTS, needs=needs, example=example
        )

    # -- checks -----------------------------------------------------------------------------

    def _check_clips(self, ws: WindowSet) -> tuple[int, int]:
        shape = ws.window_shape
        if len(shape) != 4 or shape[1] != 3:
            raise DataError(
                f"{self.meta.name} needs video clips (frames, 3, size, size), got windows of shape {shape}; "
                "run it on a video dataset (e.g. --dataset video-synthetic)."
            )
        n_frames, size = int(shape[0]), int(shape[2])
        if n_frames < self._subclips():
            raise DataError(
                f"{self.meta.name}: clips of {n_frames} frames cannot be cut into {self._subclips()} sub-clips; "
                "lower it with --set subclips=N."
            )
        return n_frames, size

    def _subclips(self) -> int:
        return int(self.params.get("subclips", 1))

    # -- backbone ---------------------------------------------------------------------------

    def _build_backbone(self):
        """The frozen CNN in eval mode; sets ``provenance_`` and ``weights_id_``."""
        torch = _torch()
        vb = _parts()
        # Its own seed, restored afterwards: a random-init backbone is the same in every fold
        # (so cached features are shared) and the head's initialisation does not depend on it.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.params.get("backbone_seed", 0)))
            net = vb.build_i3d() if self.BACKBONE == "i3d" else vb.build_r2plus1d_18()
        path = self.weights_path_
        if path is not None:
            sha = vb.file_sha256(path)
            self.provenance_ = vb.load_weights(net, path)  # every tensor, the Kinetics logits included
            self.weights_id_ = "sha256:" + sha
        else:
            self.provenance_ = random_init_source()
            self.weights_id_ = f"random-init:{int(self.params.get('backbone_seed', 0))}"
        net.eval()
        for p in net.parameters():
            p.requires_grad_(False)
        return net

    def _extractor(self) -> dict[str, Any]:
        torch = _torch()
        return {
            "name": self.BACKBONE,
            "arch_version": 1,
            "weights": self.weights_id_,
            "subclips": self._subclips(),
            "input_size": self.params.get("input_size"),
            "normalisation": self._NORMALISATION[self.BACKBONE],
            "precision": "float32",
            "torch": torch.__version__.split("+")[0],
        }

    def _compute_fn(self, backbone, device) -> Callable[[np.ndarray], np.ndarray]:
        """Batch of clips ``(b, T, 3, S, S)`` in [0, 1] -> features ``(b, subclips, feature_dim)``."""
        torch = _torch()
        import torch.nn.functional as F

        vb = _parts()
        n_sub = self._subclips()
        size = self.params.get("input_size")
        mean = torch.tensor(vb.KINETICS_MEAN, device=device).view(1, 3, 1, 1, 1)
        std = torch.tensor(vb.KINETICS_STD, device=device).view(1, 3, 1, 1, 1)

        def compute(batch: np.ndarray) -> np.ndarray:
            x = torch.from_numpy(np.ascontiguousarray(batch)).to(device)
            b, t, c, h, w = x.shape
            if size and (h, w) != (size, size):
                x = F.interpolate(
                    x.reshape(b * t, c, h, w), size=(size, size), mode="bilinear", align_corners=False, antialias=True
                ).reshape(b, t, c, size, size)
            length = t // n_sub  # frames left over at the end of a clip are not used
            x = x[:, : n_sub * length].reshape(b * n_sub, length, c, *x.shape[-2:]).transpose(1, 2)
            if self.BACKBONE == "i3d":
                x = x * 2.0 - 1.0  # I3D's Kinetics checkpoints expect [-1, 1]
            else:
                x = (x - mean) / std
            with torch.inference_mode():
                feats = backbone.features(x.contiguous())
            return feats.reshape(b, n_sub, -1).float().cpu().numpy()

        return compute

    def _clip_features(self, ws: WindowSet) -> np.ndarray:
        """``(len(ws), subclips, feature_dim)`` features of the frozen CNN, through the cache."""
        from benchmark.feature_cache import cached_features

        compute = self._compute_fn(self.backbone_, self.device_)
        batch = int(self.params.get("feature_batch_size", 8))
        return cached_features(ws, self._extractor(), compute, self.cache_dir_, batch)

    def _prepare(self, train: WindowSet, context: FitContext) -> None:
        from benchmark import torch_utils

        self._check_clips(train)
        torch_utils.seed_everything(context.seed)
        self.device_ = context.device
        self.cache_dir_ = context.cache_dir
        self.backbone_ = self._build_backbone().to(context.device)
        if self.weights_path_ is None:
            context.logger.warning(
                "%s: frozen %s at random initialisation; pass --set %s=PATH (a local Kinetics "
                "checkpoint) for the papers' transfer learning",
                self.meta.name,
                self.BACKBONE,
                WEIGHTS,
            )

    # -- reporting --------------------------------------------------------------------------

    def weights_source(self) -> str:
        provenance = getattr(self, "provenance_", None)
        if provenance is not None:
            return provenance
        if self.weights_path_ is None:
            return random_init_source()
        return _parts().weights_provenance(self.weights_path_)

    def n_parameters(self) -> int | None:
        head = getattr(self, "head_", None)
        return None if head is None else _parts().count_parameters(head, trainable_only=True)

    def _build_head(self, dim: int, n_classes: int):
        torch = _torch()
        vb = _parts()
        head = vb.SequenceClassifier(
            dim,
            n_classes,
            hidden_size=int(self.params["hidden_size"]),
            num_layers=int(self.params.get("num_layers", 1)),
            bidirectional=bool(self.params.get("bidirectional", False)),
            cell=str(self.params.get("cell", "lstm")),
            dropout=float(self.params.get("dropout", 0.0)),
        )
        return torch.nn.Sequential(vb.FeatureStandardizer(dim), head)

    def efficiency_report(
        self, window_shape: tuple[int, ...], n_classes: int = 2, latency_batch: int = 4, latency_repeats: int = 3
    ) -> dict[str, Any]:
        """Size, FLOPs and CPU latency of the per-clip inference path (frozen CNN + head).

        Parameters
        ----------
        window_shape
            ``(frames, 3, size, size)`` of one clip.
        n_classes
            Classes of the head when the adapter is not fitted.
        latency_batch, latency_repeats
            Clips per timed batch and number of timed batches (median reported).

        Returns
        -------
        dict
            ``n_params_backbone``, ``n_params_head``, ``flops_backbone_per_clip`` and
            ``flops_head_per_unit`` (``torch.utils.flop_counter``; recurrent layers are not
            counted by it, so the head's figure covers its linear layers; the unit is a clip, or
            a video of ``n_segments`` snippets for ``perez_garcia``), ``model_size_mb`` (state
            dicts of both), ``feature_ms_per_clip`` (median CPU time of the frozen CNN per clip,
            at the torch thread count in use) and ``weights_source``.
        """
        torch = _torch()
        from torch.utils.flop_counter import FlopCounterMode

        vb = _parts()
        shape = tuple(int(d) for d in window_shape)
        backbone = getattr(self, "backbone_", None)
        if backbone is None:
            saved = getattr(self, "provenance_", None), getattr(self, "weights_id_", None)
            backbone = self._build_backbone()
            self.provenance_, self.weights_id_ = saved
        backbone = copy.deepcopy(backbone).cpu().eval()
        compute = self._compute_fn(backbone, "cpu")
        clip = np.random.default_rng(0).random((1, *shape), dtype=np.float32)
        with FlopCounterMode(display=False) as counter:
            feats = compute(clip)
        flops_backbone = int(counter.get_total_flops())
        head = getattr(self, "head_", None)
        if head is None:
            head = self._build_head(feats.shape[-1], n_classes)
        head = copy.deepcopy(head).cpu().eval()
        seq = torch.zeros(1, self._head_sequence_length(feats.shape[1]), feats.shape[-1])
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            head(seq)
        batch = np.random.default_rng(1).random((latency_batch, *shape), dtype=np.float32)
        compute(batch)  # warm-up
        times = []
        for _ in range(latency_repeats):
            t0 = time.perf_counter()
            compute(batch)
            times.append((time.perf_counter() - t0) / latency_batch * 1e3)
        size_mb = sum(t.numel() * t.element_size() for m in (backbone, head) for t in m.state_dict().values()) / 1e6
        return {
            "method": self.meta.name,
            "window_shape": list(shape),
            "n_params_backbone": vb.count_parameters(backbone),
            "n_params_head": vb.count_parameters(head),
            "flops_backbone_per_clip": flops_backbone,
            "flops_head_per_unit": int(counter.get_total_flops()),
            "model_size_mb": round(size_mb, 3),
            "feature_ms_per_clip": round(float(np.median(times)), 3),
            "torch_threads": torch.get_num_threads(),
            "weights_source": self.weights_source(),
        }

    def _head_sequence_length(self, subclips: int) -> int:
        return subclips


def random_init_source() -> str:
    """``weights_source`` of a frozen CNN left at random initialisation (``backbone_weights=random``)."""
    from benchmark.torch_utils import random_init_source as text

    return text(WEIGHTS)


def _feature_windows(features: np.ndarray, like: WindowSet, y: np.ndarray | None) -> WindowSet:
    """A WindowSet over in-memory features, one row per clip of ``like``."""
    refs = np.stack([np.zeros(len(features), dtype=np.int64), np.arange(len(features))], axis=1)
    return WindowSet([features], refs, like.meta.copy(), y, like.classes, dict(like.info))


class _ClipSequenceBaseline(_FrozenBackboneBaseline):
    """Per-clip classifier: frozen CNN on ``subclips`` sub-clips -> (B)LSTM/GRU -> linear."""

    def fit(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:
        from benchmark import torch_utils

        self._prepare(train, context)
        feats = self._clip_features(train)
        self.head_ = self._build_head(feats.shape[-1], train.n_classes)
        self.head_[0].fit(_torch().from_numpy(feats))
        valid_ws = None
        if valid is not None and len(valid) and valid.y is not None:
            valid_ws = _feature_windows(self._clip_features(valid), valid, valid.y)
        self.train_result_ = torch_utils.train_classifier(
            self.head_,
            _feature_windows(feats, train, train.y),
            valid_ws,
            context,
            **{k: self.params[k] for k in TRAIN_KEYS},
        )
        context.logger.info(
            "%s: %d epochs in %.1f s, kept epoch %d",
            self.meta.name,
            self.train_result_.epochs_run,
            self.train_result_.seconds,
            self.train_result_.best_epoch,
        )

    def predict_proba(self, test: WindowSet) -> np.ndarray:
        from benchmark import torch_utils

        feats = self._clip_features(test)
        windows = _feature_windows(feats, test, None)
        return torch_utils.predict_proba_torch(self.head_, windows, self.device_, PREDICT_BATCH)


@register
class I3DLSTM(_ClipSequenceBaseline):
    """Frozen I3D features of sub-clips, an LSTM over them and a linear classifier (Karácsony et al.).

    Notes
    -----
    Karácsony et al. classify 2-s samples from Kinetics-400 I3D features with an LSTM and report
    per-sample and per-seizure results; we predict per clip and decide each video by majority vote
    of its clips. ``paper``: I3D at 224 px (as trained on Kinetics) on 2-s clips of 48 frames at
    24 fps (close to the 25 fps of clinical cameras; our choice) cut into 4 sub-clips of 12
    frames; LSTM width 256, dropout 0.5, AdamW at 1e-4 with weight decay
    1e-4, batch 32, up to 100 epochs with patience 20 on validation loss: our choices where the
    papers state none.
    """

    BACKBONE = "i3d"
    meta = _video_baselines_meta.I3D_LSTM


@register
class R2Plus1DLSTM(_ClipSequenceBaseline):
    """Frozen R(2+1)D-18 features of sub-clips, an LSTM and a linear classifier.

    Notes
    -----
    The I3D-LSTM pipeline of Karácsony et al. with torchvision's R(2+1)D-18 (Tran et al. 2018) as
    the frozen extractor. ``paper``: 112-px input (the Kinetics training size of R(2+1)D-18) on
    2-s clips of 32 frames at 16 fps cut into 4 sub-clips of 8 frames; head and training as ``i3d_lstm``.
    """

    BACKBONE = "r2plus1d_18"
    meta = _video_baselines_meta.R2PLUS1D_LSTM


def _videos(ws: WindowSet) -> list[np.ndarray]:
    """Positions of each video's clips in ``ws``, ordered by start time; videos in order of appearance."""
    meta = ws.meta
    order = np.lexsort((meta["end"].to_numpy(), meta["start"].to_numpy()))
    groups: dict[tuple[str, str], list[int]] = {}
    for pos in order:
        groups.setdefault((str(meta["patient"].iat[pos]), str(meta["recording"].iat[pos])), []).append(int(pos))
    first = {key: min(pos) for key, pos in groups.items()}
    return [np.asarray(groups[k]) for k in sorted(groups, key=first.get)]


def segment_indices(
    n_clips: int, n_segments: int, rng: np.random.Generator | None, concentration: float = 1.0
) -> np.ndarray:
    """One clip index per equal segment of a video of ``n_clips`` clips.

    With ``rng`` the position within each segment is drawn from Beta(c, c) (``c = concentration``;
    1 = uniform, as in temporal segment networks); without, the segment's middle is taken. Videos
    shorter than ``n_segments`` clips repeat clips.
    """
    u = np.full(n_segments, 0.5) if rng is None else rng.beta(concentration, concentration, size=n_segments)
    pos = (np.arange(n_segments) + u) / n_segments
    return np.minimum((pos * n_clips).astype(np.int64), n_clips - 1)


@register
class PerezGarcia(_FrozenBackboneBaseline):
    """GESTURES (Pérez-García et al. 2021): frozen spatiotemporal CNN on snippets, BLSTM per video.

    Notes
    -----
    The paper's extractor is R(2+1)D-34 pretrained on IG-65M and fine-tuned on Kinetics (512
    features, 8-frame snippets at 15 fps, 112 px); torchvision has R(2+1)D-18 only, so we use it
    (512 features; its ``paper`` budget loads torchvision's Kinetics-400 file with
    ``backbone_weights=PATH``). Training follows the paper's code release: 16 segments, BLSTM with
    64 units whose final states of both directions feed a linear layer, AdamW at learning rate 1e-2,
    batch 64, class-weighted loss, up to 400 epochs with patience 100; we select the epoch by
    validation loss (the release uses validation F-score). Each video's clips all receive its
    probabilities, so ``video_aggregation`` is ``"mean"``, which returns them unchanged.
    """

    BACKBONE = "r2plus1d_18"
    meta = _video_baselines_meta.PEREZ_GARCIA

    def _subclips(self) -> int:
        return 1  # a harness clip is one snippet

    def _head_sequence_length(self, subclips: int) -> int:
        return int(self.params["n_segments"])

    def _sequences(self, feats: np.ndarray, videos: list[np.ndarray], rng: np.random.Generator | None):
        n_seg = int(self.params["n_segments"])
        c = float(self.params.get("jitter_concentration", 1.0))
        idx = np.stack([v[segment_indices(len(v), n_seg, rng, c)] for v in videos])
        return _torch().from_numpy(feats[idx])  # (videos, n_segments, dim)

    @staticmethod
    def _video_labels(ws: WindowSet, videos: list[np.ndarray], logger) -> np.ndarray:
        """One label per video: its clips' label (the most frequent one if they disagree)."""
        counts = np.stack([np.bincount(ws.y[v], minlength=ws.n_classes) for v in videos])
        mixed = int((np.count_nonzero(counts, axis=1) > 1).sum())
        if mixed:
            logger.warning(
                "perez_garcia: %d of %d videos have clips with different labels; each takes its most frequent label",
                mixed,
                len(videos),
            )
        return counts.argmax(axis=1).astype(np.int64)

    def fit(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:
        torch = _torch()
        from benchmark import torch_utils

        t0 = time.perf_counter()
        self._prepare(train, context)
        device = torch.device(context.device)
        feats = self._clip_features(train)[:, 0]
        videos = _videos(train)
        y = self._video_labels(train, videos, context.logger)
        self.head_ = self._build_head(feats.shape[-1], train.n_classes)
        self.head_[0].fit(torch.from_numpy(feats))
        self.head_.to(device)
        weight = torch.tensor(torch_utils.class_weights(y, train.n_classes), dtype=torch.float32, device=device)

        def mean_loss(x, yb):
            # Class-weighted mean cross-entropy (weights from the training videos).
            loss = torch.nn.functional.cross_entropy(self.head_(x), yb, weight=weight, reduction="sum")
            return loss / weight[yb].sum().clamp_min(1e-12)

        val = None
        if valid is not None and len(valid) and valid.y is not None:
            v_videos = _videos(valid)
            v_x = self._sequences(self._clip_features(valid)[:, 0], v_videos, None).to(device)
            val = (v_x, torch.from_numpy(self._video_labels(valid, v_videos, context.logger)).to(device))

        rng = np.random.default_rng(context.seed)
        opt = torch.optim.AdamW(
            self.head_.parameters(), lr=float(self.params["lr"]), weight_decay=float(self.params["weight_decay"])
        )
        batch, patience = int(self.params["batch_size"]), self.params.get("patience")
        best = {"loss": np.inf, "epoch": -1, "state": None}
        stale, epochs_run = 0, 0
        for epoch in range(int(self.params["epochs"])):
            self.head_.train()
            order = rng.permutation(len(videos))
            for i in range(0, len(order), batch):
                sel = order[i : i + batch]
                yb = torch.from_numpy(y[sel]).to(device)
                if float(weight[yb].sum()) == 0:
                    continue  # only classes absent from the weighting: nothing to learn from
                x = self._sequences(feats, [videos[j] for j in sel], rng).to(device)  # fresh snippet draws
                torch_utils.optimizer_step(opt, mean_loss(x, yb))
            epochs_run = epoch + 1
            if val is None:
                continue
            self.head_.eval()
            with torch.inference_mode():
                v_loss = float(mean_loss(*val))
            if v_loss < best["loss"]:
                state = {k: v.detach().to("cpu", copy=True) for k, v in self.head_.state_dict().items()}
                best, stale = {"loss": v_loss, "epoch": epoch, "state": state}, 0
            else:
                stale += 1
                if patience is not None and stale >= int(patience):
                    break
        if best["state"] is not None:
            self.head_.load_state_dict(best["state"])
        self.head_.eval()
        self.best_epoch_ = best["epoch"] if best["state"] is not None else epochs_run - 1
        context.logger.info(
            "%s: %d videos, %d epochs in %.1f s, kept epoch %d",
            self.meta.name,
            len(videos),
            epochs_run,
            time.perf_counter() - t0,
            self.best_epoch_,
        )

    def predict_proba(self, test: WindowSet) -> np.ndarray:
        torch = _torch()
        feats = self._clip_features(test)[:, 0]
        videos = _videos(test)
        device = torch.device(self.device_)
        self.head_.to(device).eval()
        with torch.inference_mode():
            logits = self.head_(self._sequences(feats, videos, None).to(device))
            probs = torch.softmax(logits.double(), dim=-1).cpu().numpy()
        out = np.empty((len(test), test.n_classes), dtype=np.float64)
        for v, p in zip(videos, probs):
            out[v] = p
        return out
