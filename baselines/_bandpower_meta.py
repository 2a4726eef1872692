"""Metadata of the band-power baselines, light to import: listing and planning read it without their module."""

from __future__ import annotations

from benchmark.adapters import MethodMeta, declare
from benchmark.bibliography import short

TASKS = ("prediction", "detection", "seizure-type")

BANDPOWER_LOGREG = declare(
    MethodMeta(
        name="bandpower_logreg",
        modality="eeg",
        tasks=TASKS,
        representation="bandpower",
        budgets={
            "smoke": {"C": 1.0, "max_iter": 1000},
            "paper": {"C": 1.0, "max_iter": 5000},
        },
        version="1",
        citation=(
            f"Log spectral band power ({short('mormann2007')}; {short('shoeb2010')}) with "
            f"logistic regression (scikit-learn, {short('pedregosa2011')})."
        ),
        description="Log band power (5 bands x channels), standardised, balanced logistic regression.",
        is_baseline=True,
    ),
    "baselines.bandpower",
    "BandPowerLogReg",
)
BANDPOWER_RF = declare(
    MethodMeta(
        name="bandpower_rf",
        modality="eeg",
        tasks=TASKS,
        representation="bandpower",
        budgets={
            "smoke": {"n_estimators": 100, "min_samples_leaf": 1, "max_features": "sqrt"},
            "paper": {"n_estimators": 500, "min_samples_leaf": 1, "max_features": "sqrt"},
        },
        version="1",
        citation=(
            f"Log spectral band power ({short('mormann2007')}) with a random forest "
            f"({short('breiman2001')}; scikit-learn, {short('pedregosa2011')})."
        ),
        description="Log band power (5 bands x channels), balanced random forest.",
        is_baseline=True,
    ),
    "baselines.bandpower",
    "BandPowerRF",
)
