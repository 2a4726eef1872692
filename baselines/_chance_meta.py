"""Metadata of the chance baseline, light to import: listing and planning read it without its module."""

from __future__ import annotations

from benchmark.adapters import MethodMeta, declare

CHANCE = declare(
    MethodMeta(
        name="chance",
        modality="eeg",
        tasks=("prediction", "detection", "seizure-type"),
        representation="bandpower",
        budgets={"smoke": {}, "paper": {}},
        version="1",
        citation="Class-prior (no-information) baseline.",
        description="Training class prior for every window; the floor every method must beat.",
        is_baseline=True,
    ),
    "baselines.chance",
    "ChanceAdapter",
)
