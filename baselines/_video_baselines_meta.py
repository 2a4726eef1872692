"""Metadata of the video baselines, light to import: listing and planning read it without their module."""

from __future__ import annotations

from typing import Any

from benchmark.adapters import MethodMeta, declare
from benchmark.bibliography import cite

TASKS = ("classification",)
#: Clips the harness builds for these baselines: its defaults, so the clip cache is shared with
#: other video methods. Paper-scale clips need per-budget representation parameters (see above).
CLIP_PARAMS: dict[str, Any] = {"n_frames": 8, "size": 64, "fps": 4.0}  # 2-s clips
WEIGHTS = "backbone_weights"
KARACSONY_CITATION = cite("karacsony2020", "karacsony2022")


def _clip_budgets(input_size_paper: int) -> dict[str, dict[str, Any]]:
    common = {
        "backbone_seed": 0,
        "cell": "lstm",
        "bidirectional": False,
        "num_layers": 1,
        "max_windows_per_epoch": None,
        "feature_batch_size": 8,
    }
    return {
        "smoke": {
            **common,
            WEIGHTS: "random",
            "input_size": 32,
            "subclips": 2,
            "hidden_size": 64,
            "dropout": 0.5,
            "epochs": 20,
            "lr": 1e-3,
            "batch_size": 16,
            "weight_decay": 1e-4,
            "patience": None,
        },
        "paper": {
            **common,
            WEIGHTS: None,
            "input_size": input_size_paper,
            "subclips": 4,
            "hidden_size": 256,
            "dropout": 0.5,
            "epochs": 100,
            "lr": 1e-4,
            "batch_size": 32,
            "weight_decay": 1e-4,
            "patience": 20,
        },
    }


# Li et al. (2024) compare these baselines on TLE vs exTLE: the manifest's ``focus`` column.
LI_TARGET = {"classification": {"target": "focus"}}

I3D_LSTM = declare(
    MethodMeta(
        name="i3d_lstm",
        modality="video",
        tasks=TASKS,
        representation="video",
        representation_params=dict(CLIP_PARAMS),
        budgets=_clip_budgets(224),
        budget_representation_params={"paper": {"n_frames": 48, "size": 224, "fps": 24.0}},
        task_defaults=LI_TARGET,
        version="1",
        citation=KARACSONY_CITATION,
        description="Frozen I3D features of sub-clips -> LSTM -> linear; majority vote per video.",
        is_baseline=True,
        pretrained="I3D, Kinetics-400",
        video_aggregation="vote",
    ),
    "baselines.video_baselines",
    "I3DLSTM",
)
R2PLUS1D_LSTM = declare(
    MethodMeta(
        name="r2plus1d_lstm",
        modality="video",
        tasks=TASKS,
        representation="video",
        representation_params=dict(CLIP_PARAMS),
        budgets=_clip_budgets(112),
        budget_representation_params={"paper": {"n_frames": 32, "size": 112, "fps": 16.0}},
        task_defaults=LI_TARGET,
        version="1",
        citation=f"{KARACSONY_CITATION} Backbone: {cite('tran2018')}",
        description="Frozen R(2+1)D-18 features of sub-clips -> LSTM -> linear; majority vote per video.",
        is_baseline=True,
        pretrained="R(2+1)D-18, Kinetics-400",
        video_aggregation="vote",
    ),
    "baselines.video_baselines",
    "R2Plus1DLSTM",
)
PEREZ_GARCIA = declare(
    MethodMeta(
        name="perez_garcia",
        modality="video",
        tasks=TASKS,
        representation="video",
        representation_params=dict(CLIP_PARAMS),
        budgets={
            "smoke": {
                WEIGHTS: "random",
                "backbone_seed": 0,
                "input_size": 32,
                "n_segments": 4,
                "jitter_concentration": 1.0,
                "cell": "lstm",
                "bidirectional": True,
                "num_layers": 1,
                "hidden_size": 32,
                "dropout": 0.0,
                "epochs": 30,
                "lr": 1e-2,
                "batch_size": 16,
                "weight_decay": 1e-2,
                "patience": None,
                "feature_batch_size": 8,
            },
            "paper": {
                WEIGHTS: None,
                "backbone_seed": 0,
                "input_size": 112,
                "n_segments": 16,
                "jitter_concentration": 1.0,
                "cell": "lstm",
                "bidirectional": True,
                "num_layers": 1,
                "hidden_size": 64,
                "dropout": 0.0,
                "epochs": 400,
                "lr": 1e-2,
                "batch_size": 64,
                "weight_decay": 1e-2,
                "patience": 100,
                "feature_batch_size": 8,
            },
        },
        budget_representation_params={"paper": {"n_frames": 8, "size": 112, "fps": 15.0}},
        task_defaults=LI_TARGET,
        version="1",
        citation=cite("perezgarcia2021"),
        description="GESTURES: frozen R(2+1)D features of one snippet per segment -> BLSTM; one output per video.",
        is_baseline=True,
        pretrained="R(2+1)D-18, Kinetics-400",
        video_aggregation="mean",
    ),
    "baselines.video_baselines",
    "PerezGarcia",
)
