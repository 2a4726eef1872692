"""Metadata of the patient/video-level contrastive TimeSformer methods (Li et al. 2024), light to import: listing
and planning read it without the methods' module."""

from __future__ import annotations

import copy
from typing import Any

from benchmark.adapters import MethodMeta, declare
from benchmark.bibliography import cite

CITATION = cite("li2024")
#: Clips of the ``paper`` budget: TimeSformer-L's 96 frames of 224 x 224 over 10 s (9.6 fps); see the
#: module notes. ``smoke`` asks for 2-s clips of 8 frames at 4 fps, 64 x 64 (its TimeSformer sees 32 px).
REPRESENTATION: dict[str, Any] = {"n_frames": 96, "size": 224, "fps": 9.6}
SMOKE_REPRESENTATION: dict[str, Any] = {"n_frames": 8, "size": 64, "fps": 4.0}
TASK_DEFAULTS = {"classification": {"target": "focus"}}
_PAPER: dict[str, Any] = {
    # TimeSformer encoder
    "img_size": 224,
    "patch_size": 16,
    "embed_dim": 768,
    "depth": 12,
    "heads": 12,
    "backbone_weights": None,
    "init_seed": 0,
    "feature_batch": 8,
    # contrastive pre-training
    "temperature": 0.1,
    "pretrain_epochs": 5,
    "pretrain_batch_size": 8,
    "pretrain_lr": 1e-4,
    "pretrain_weight_decay": 1e-4,
    "videos_per_patient": 2,
    "clips_per_video": 2,
    "max_pretrain_batches_per_epoch": None,
    "pretrain_on_training_clips": True,
    # head
    "head_hidden": [256, 64],
    "epochs": 10,
    "lr": 1e-3,
    "batch_size": 8,
    "weight_decay": 0.0,
}
_SMOKE: dict[str, Any] = {
    "img_size": 32,
    "patch_size": 8,
    "embed_dim": 64,
    "depth": 2,
    "heads": 4,
    "backbone_weights": "random",
    "pretrain_epochs": 2,
    "pretrain_lr": 1e-3,
    "max_pretrain_batches_per_epoch": 16,
    "head_hidden": [32, 16],
}
_NO_PRETRAIN_KEYS = {
    "temperature",
    "pretrain_epochs",
    "pretrain_batch_size",
    "pretrain_lr",
    "pretrain_weight_decay",
    "videos_per_patient",
    "clips_per_video",
    "max_pretrain_batches_per_epoch",
    "pretrain_on_training_clips",
}


def _budgets(pretrain: bool) -> dict[str, dict[str, Any]]:
    paper = {k: v for k, v in _PAPER.items() if pretrain or k not in _NO_PRETRAIN_KEYS}
    smoke = {**paper, **{k: v for k, v in _SMOKE.items() if k in paper}}
    return {"smoke": smoke, "paper": paper}


def _meta(name: str, pretrain: bool, description: str) -> MethodMeta:
    return MethodMeta(
        name=name,
        modality="video",
        tasks=("classification",),
        representation="video",
        representation_params=dict(SMOKE_REPRESENTATION),
        budget_representation_params={"paper": dict(REPRESENTATION)},
        budgets=_budgets(pretrain),
        version="1",
        citation=CITATION,
        description=description,
        video_aggregation="vote",
        task_defaults=copy.deepcopy(TASK_DEFAULTS),
        pretrained="TimeSformer, Kinetics-400",
    )


PV_CONTRASTIVE_TIMESFORMER = declare(
    _meta(
        "pv_contrastive_timesformer",
        True,
        "TimeSformer clip encoder pre-trained with video- and patient-level contrastive losses on unlabelled "
        "videos, frozen, with a linear-layer head (TLE vs exTLE by default); videos by majority vote.",
    ),
    "methods.pv_contrastive_timesformer",
    "PVContrastiveTimeSformer",
)
PV_CONTRASTIVE_TIMESFORMER_VIDEO_ONLY = declare(
    _meta(
        "pv_contrastive_timesformer_video_only",
        True,
        "Ablation of pv_contrastive_timesformer: pre-training with the video-level contrastive loss only.",
    ),
    "methods.pv_contrastive_timesformer",
    "PVContrastiveTimeSformerVideoOnly",
)
PV_CONTRASTIVE_TIMESFORMER_PATIENT_ONLY = declare(
    _meta(
        "pv_contrastive_timesformer_patient_only",
        True,
        "Ablation of pv_contrastive_timesformer: pre-training with the patient-level contrastive loss only.",
    ),
    "methods.pv_contrastive_timesformer",
    "PVContrastiveTimeSformerPatientOnly",
)
PV_CONTRASTIVE_TIMESFORMER_NOPRETRAIN = declare(
    _meta(
        "pv_contrastive_timesformer_nopretrain",
        False,
        "Ablation of pv_contrastive_timesformer: no contrastive pre-training, head on the frozen initial "
        "TimeSformer (Kinetics-400 weights, as in the paper, from --set backbone_weights=PATH).",
    ),
    "methods.pv_contrastive_timesformer",
    "PVContrastiveTimeSformerNoPretrain",
)
