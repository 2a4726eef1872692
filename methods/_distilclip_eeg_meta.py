"""Metadata of the DistilCLIP-EEG methods (Wang et al. 2025), light to import: listing and planning read it without
the methods' module."""

from __future__ import annotations

from typing import Any

from benchmark.adapters import MethodMeta, declare
from benchmark.bibliography import cite

CITATION = cite("wang2025")
TASKS = ("detection", "seizure-type")
# Each channel z-scored over its whole band-passed recording by the window cache (the paper's
# normalisation, Sec. IV-B); ``normalisation="window"`` re-scores each window on its own (_windows).
RAW_PARAMS: dict[str, Any] = {"zscore": "recording"}
# "resampled all signals to 256 Hz" (Sec. IV-B): the paper budget's windows are cut from recordings
# resampled by the window cache (representation parameter ``sfreq``); smoke keeps the dataset's rate.
PAPER_SFREQ = 256.0
BUDGET_RAW_PARAMS: dict[str, dict[str, Any]] = {"paper": {"sfreq": PAPER_SFREQ}}
BANDPASS = (0.1, 70.0)
#: Description of a recording used unless ``text_template`` says otherwise (fields: see
#: :data:`methods._distilclip_parts.ALLOWED_TEXT_FIELDS`).
DEFAULT_TEMPLATE = (
    "Scalp EEG from the {dataset} dataset, recorded in the {montage} montage with {n_channels} channels "
    "sampled at {sfreq}, from a patient aged {age}, {sex}."
)

_TEACHER_PAPER: dict[str, Any] = {
    # EEG encoder (Conformer)
    "embed_dim": 540,
    "depth": 8,
    "heads": 10,
    "ff_expansion": 4,
    "dropout": 0.3,
    "eeg_prompts": 8,
    "n_filters": 40,
    "filter_time_length": 25,
    "pool_time_length": 75,
    "pool_time_stride": 15,
    "conv_dropout": 0.3,
    "normalisation": "recording",
    # text encoder (BERT-LP) and descriptions
    "text_encoder": "minilm",
    "text_layers": None,
    "text_prompts": 8,
    "text_dropout": 0.2,
    "text_finetune": "all",
    "text_max_tokens": 128,
    "text_template": DEFAULT_TEMPLATE,
    # CLIP objective
    "fusion": "concat",
    "alpha": 0.5,
    "logit_scale_init": 1 / 0.07,
    "logit_scale_max": 100.0,
    # optimisation
    "epochs": 400,
    "lr": 1e-5,
    "batch_size": 32,
    "weight_decay": 1e-4,
    "betas": [0.9, 0.999],
    "balance": True,
    "lr_schedule": "constant",
    "max_windows_per_epoch": None,
}
_STUDENT_PAPER: dict[str, Any] = {
    "student_embed_dim": 540,
    "student_depth": 4,
    "student_epochs": 100,
    "student_lr": 1e-5,
    "kd_alpha": 0.5,
    "temperature": 1.0,
}
_SMOKE: dict[str, Any] = {
    "embed_dim": 40,
    "depth": 2,
    "n_filters": 10,
    "dropout": 0.0,
    "conv_dropout": 0.0,
    "eeg_prompts": 4,
    "text_prompts": 0,
    "text_finetune": "none",
    "text_max_tokens": 64,
    "epochs": 18,
    "lr": 3e-3,
    "lr_schedule": "cosine",
    "max_windows_per_epoch": 512,
    "student_embed_dim": 40,
    "student_depth": 1,
    "student_epochs": 12,
    "student_lr": 3e-3,
    "normalisation": "window",
}


#: The paper's text encoder starts from a pre-trained 12-layer BERT; its EEG encoders from random initialisation.
PRETRAINED = "BERT (12-layer, 768-wide) text encoder"


def _budgets(student: bool) -> dict[str, dict[str, Any]]:
    paper = {**_TEACHER_PAPER, **(_STUDENT_PAPER if student else {})}
    smoke = {**paper, **{k: v for k, v in _SMOKE.items() if k in paper}}
    return {"smoke": smoke, "paper": paper}


DISTILCLIP_EEG_TEACHER = declare(
    MethodMeta(
        name="distilclip_eeg_teacher",
        modality="eeg",
        tasks=TASKS,
        representation="raw",
        representation_params=dict(RAW_PARAMS),
        budget_representation_params=BUDGET_RAW_PARAMS,
        bandpass=BANDPASS,
        budgets=_budgets(student=False),
        version="3",
        citation=CITATION,
        description="CLIP-style EEG-text teacher: prompted Conformer EEG encoder and BERT-LP text encoder.",
        pretrained=PRETRAINED,
    ),
    "methods.distilclip_eeg",
    "DistilClipEEGTeacher",
)
DISTILCLIP_EEG_STUDENT = declare(
    MethodMeta(
        name="distilclip_eeg_student",
        modality="eeg",
        tasks=TASKS,
        representation="raw",
        representation_params=dict(RAW_PARAMS),
        budget_representation_params=BUDGET_RAW_PARAMS,
        bandpass=BANDPASS,
        budgets=_budgets(student=True),
        version="3",
        citation=CITATION,
        description="Compact Conformer distilled from the DistilCLIP-EEG teacher, reusing its text features.",
        pretrained=PRETRAINED,
    ),
    "methods.distilclip_eeg",
    "DistilClipEEGStudent",
)
