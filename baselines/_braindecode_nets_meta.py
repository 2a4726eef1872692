"""Metadata of the braindecode baselines, light to import: listing and planning read it without their module."""

from __future__ import annotations

from benchmark.adapters import MethodMeta, declare
from benchmark.bibliography import cite

TASKS = ("prediction", "detection", "seizure-type")

EEGNET = declare(
    MethodMeta(
        name="eegnet",
        modality="eeg",
        tasks=TASKS,
        representation="raw",
        budgets={
            "smoke": {
                "epochs": 4,
                "lr": 1e-3,
                "batch_size": 64,
                "weight_decay": 0.0,
                "patience": None,
                "max_windows_per_epoch": 2048,
                "kernel_length": 64,
                "F1": 8,
                "D": 2,
                "drop_prob": 0.25,
                "batch_norm_momentum": 0.1,
                "final_layer_with_constraint": True,
            },
            "paper": {
                "epochs": 500,
                "lr": 1e-3,
                "batch_size": 64,
                "weight_decay": 0.0,
                "patience": None,
                "max_windows_per_epoch": None,
                "kernel_length": "auto",
                "F1": 8,
                "D": 2,
                "drop_prob": 0.25,
                "batch_norm_momentum": 0.01,
                "final_layer_with_constraint": True,
            },
        },
        version="1",
        citation=cite("lawhern2018"),
        description="braindecode EEGNet on raw windows, trained from scratch.",
        is_baseline=True,
    ),
    "baselines.braindecode_nets",
    "EEGNetAdapter",
)
SHALLOW_CONVNET = declare(
    MethodMeta(
        name="shallow_convnet",
        modality="eeg",
        tasks=TASKS,
        representation="raw",
        budgets={
            "smoke": {
                "epochs": 4,
                "lr": 1e-3,
                "batch_size": 64,
                "weight_decay": 0.0,
                "patience": None,
                "max_windows_per_epoch": 2048,
                "drop_prob": 0.5,
            },
            "paper": {
                "epochs": 300,
                "lr": 6.25e-4,
                "batch_size": 60,
                "weight_decay": 0.0,
                "patience": None,
                "max_windows_per_epoch": None,
                "drop_prob": 0.5,
            },
        },
        version="1",
        citation=cite("schirrmeister2017"),
        description="braindecode ShallowFBCSPNet (Shallow ConvNet) on raw windows, trained from scratch.",
        is_baseline=True,
    ),
    "baselines.braindecode_nets",
    "ShallowConvNetAdapter",
)
