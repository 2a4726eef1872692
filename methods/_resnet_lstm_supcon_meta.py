"""Metadata of the ResNet-LSTM methods (Lee et al. 2024), light to import: listing and planning read it without the
methods' module."""

from __future__ import annotations

import math
from typing import Any

from benchmark.adapters import MethodMeta, declare
from benchmark.bibliography import cite

CITATION = cite("lee2024")
#: The paper's STFT: 1-s Hann frames, 50 % overlap, up to 60 Hz; log10 power (see module notes).
SPECTROGRAM_PARAMS: dict[str, Any] = {"win_s": 1.0, "overlap": 0.5, "fmax": 60.0, "log": True, "mode": "power"}
_NETWORK = {"stem": "paper", "dropout": 0.5, "encoder_weights": None}
_PRETRAIN = {
    "pretrain_epochs": 300,
    "pretrain_lr": 0.05,
    "pretrain_batch_size": 512,
    "temperature": 0.1,
    "projection_dim": 128,
    "bandstop_hz": 10.0,
    "cutout_s": 6.0,
    "augment": "either",
}
_DOWNSTREAM = {
    "epochs": 100,
    "lr": 0.01,
    "batch_size": 512,
    "momentum": 0.9,
    "weight_decay": 1e-4,
    "balance": True,
    "max_windows_per_epoch": None,
}
_SMOKE = {
    "stem": "torchvision",
    "pretrain_epochs": 12,
    "pretrain_batch_size": 32,
    "epochs": 4,
    "batch_size": 32,
    "max_windows_per_epoch": 128,
}


def _budgets(pretrain: bool, lstm: bool) -> dict[str, dict[str, Any]]:
    paper = {**_NETWORK, **_DOWNSTREAM}
    if pretrain:
        paper.update(_PRETRAIN, finetune_encoder=True)
    if lstm:
        # 15 s of EEG: 6 windows of 10 s at the paper's 1-s stride (see "Sequence").
        paper.update(lstm_context_s=15.0, lstm_hidden=256)
    smoke = {**paper, **{k: v for k, v in _SMOKE.items() if k in paper}}
    if lstm:
        smoke["lstm_context_s"] = 30.0  # 3 windows at the smoke budget's 10-s stride
    return {"smoke": smoke, "paper": paper}


def context_windows(context_s: float, window_s: float, stride_s: float) -> int:
    """Number of consecutive windows whose EEG spans ``context_s`` seconds: ``n`` windows of
    ``window_s`` every ``stride_s`` cover ``window_s + (n - 1) * stride_s`` seconds (at least one
    window). E.g. 15 s is 6 windows of 10 s every 1 s, and 30 s is 3 windows of 10 s every 10 s."""
    if context_s <= 0 or window_s <= 0 or stride_s <= 0:
        raise ValueError(f"context, window and stride must be positive, got {context_s}, {window_s}, {stride_s}")
    return max(1, math.floor((context_s - window_s) / stride_s + 1e-6) + 1)


def lstm_plan_notes(params: dict[str, Any], window_s: float, stride_s: float) -> list[str]:
    """What ``seizure-bench plan`` says about an LSTM method's context at these windows."""
    n = context_windows(float(params["lstm_context_s"]), window_s, stride_s)
    return [
        f"LSTM context {params['lstm_context_s']:g} s of EEG = {n} consecutive windows of "
        f"{window_s:g} s every {stride_s:g} s per classified window"
    ]


RESNET_LSTM_SUPCON = declare(
    MethodMeta(
        name="resnet_lstm_supcon",
        modality="eeg",
        tasks=("prediction",),
        representation="spectrogram",
        representation_params=dict(SPECTROGRAM_PARAMS),
        budgets=_budgets(pretrain=True, lstm=True),
        version="1",
        citation=CITATION,
        description="ResNet-18 pre-trained with supervised contrastive loss, then ResNet-LSTM on STFT images.",
    ),
    "methods.resnet_lstm_supcon",
    "ResNetLSTMSupCon",
    lstm_plan_notes,
)
RESNET_LSTM = declare(
    MethodMeta(
        name="resnet_lstm",
        modality="eeg",
        tasks=("prediction",),
        representation="spectrogram",
        representation_params=dict(SPECTROGRAM_PARAMS),
        budgets=_budgets(pretrain=False, lstm=True),
        version="1",
        citation=CITATION,
        description="Ablation of resnet_lstm_supcon without pre-training (random-init ResNet-18 + LSTM).",
    ),
    "methods.resnet_lstm_supcon",
    "ResNetLSTM",
    lstm_plan_notes,
)
RESNET_SUPCON = declare(
    MethodMeta(
        name="resnet_supcon",
        modality="eeg",
        tasks=("prediction",),
        representation="spectrogram",
        representation_params=dict(SPECTROGRAM_PARAMS),
        budgets=_budgets(pretrain=True, lstm=False),
        version="1",
        citation=CITATION,
        description="Ablation of resnet_lstm_supcon without the LSTM (pre-trained ResNet-18 + output layer).",
    ),
    "methods.resnet_lstm_supcon",
    "ResNetSupCon",
)
