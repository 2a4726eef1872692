"""Metadata of the video SSL Transformer (Hou et al. 2022), light to import: listing and planning read it without
the method's module."""

from __future__ import annotations

from typing import Any

from benchmark.adapters import MethodMeta, declare
from benchmark.bibliography import cite

CITATION = cite("hou2022")
#: Clips of the ``paper`` budget: 10 s of 250 frames at 25 fps, 112 x 112 (see the module notes).
#: ``smoke`` asks the harness for 2-s clips of 16 frames at 8 fps, 64 x 64 (resized to 32 px for its encoder).
REPRESENTATION: dict[str, Any] = {"n_frames": 250, "size": 112, "fps": 25.0}
SMOKE_REPRESENTATION: dict[str, Any] = {"n_frames": 16, "size": 64, "fps": 8.0}
_PAPER: dict[str, Any] = {
    # frozen frame encoder and what it sees / what the Transformer gets (paper: RGB frames, raw features)
    "backbone": "resnet152",
    "backbone_weights": None,
    "backbone_seed": 0,
    "frame_size": 112,
    "feature_batch": 8,
    "frame_input": "frames",
    "difference_gain": 4.0,
    "clip_standardise": False,
    "delta_features": False,
    # Transformer
    "d_model": 1024,
    "heads": 8,
    "layers": 6,
    "ff_dim": 4096,
    "max_positions": 256,
    "input_length": 256,
    "dropout": 0.1,
    "classifier_dropout": 0.5,
    # denoising pre-training
    "span": 30,
    "mask_fraction": 0.15,
    "mask_value": -1.0,
    "pad_value": 0.0,
    "pretrain_epochs": 60,
    "pretrain_lr": 0.01,
    "pretrain_batch_size": 16,
    "max_pretrain_clips_per_epoch": None,
    # fine-tuning
    "epochs": 50,
    "lr": 0.005,
    "batch_size": 16,
    "weight_decay": 1e-4,
    "class_weighted": True,
    "max_clips_per_epoch": None,
}
_SMOKE: dict[str, Any] = {
    "backbone": "resnet10t",
    "backbone_weights": "random",
    "frame_size": 32,
    "frame_input": "differences",
    "clip_standardise": True,
    "delta_features": True,
    "d_model": 64,
    "heads": 4,
    "layers": 2,
    "ff_dim": 128,
    "max_positions": 64,
    "input_length": None,
    "pretrain_epochs": 3,
    "pretrain_lr": 1e-3,
    "max_pretrain_clips_per_epoch": 128,
    "epochs": 15,
    "lr": 1e-3,
    "max_clips_per_epoch": 256,
}

VIDEO_SSL_TRANSFORMER = declare(
    MethodMeta(
        name="video_ssl_transformer",
        modality="video",
        tasks=("classification",),
        representation="video",
        representation_params=dict(SMOKE_REPRESENTATION),
        budget_representation_params={"paper": dict(REPRESENTATION)},
        budgets={"smoke": {**_PAPER, **_SMOKE}, "paper": dict(_PAPER)},
        version="2",
        citation=CITATION,
        description=(
            "ResNet-152 frame features and a Transformer encoder pre-trained by BART-like denoising on unlabelled "
            "contextual videos, fine-tuned to classify seizure videos (ES vs PNES)."
        ),
        video_aggregation="mean",
        task_defaults={"classification": {"target": "label"}},
        pretrained="ResNet-152, ImageNet (frozen frame encoder)",
    ),
    "methods.video_ssl_transformer",
    "VideoSSLTransformer",
)
