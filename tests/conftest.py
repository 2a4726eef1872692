"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Folds run in-process in the test suite (a sandboxed worker per fold costs an interpreter start and
# a torch import); tests/integrity/test_integrity_isolation.py runs them sandboxed. Users' default stays auto.
os.environ.setdefault("SEIZURE_BENCH_ISOLATION", "none")

# The small real data files sit in shared/data beside the repository clone.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of small real data files (CHB-MIT summaries, excerpts); skips if absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (expected shared/ beside the repo)")
    return SHARED_DATA


# A tiny synthetic dataset: seizure recordings of 8 min hold the 50 % of a 10-min pre-ictal block
# that a lead seizure needs; generation takes about a second.
def tiny_config(**changes):
    from benchmark.datasets.synthetic import SyntheticConfig

    base = dict(
        n_patients=2,
        seizures_per_patient=2,
        interictal_recordings=1,
        seizure_recording_minutes=8,
        short_seizure_recording_minutes=8,
        interictal_recording_minutes=3,
    )
    return SyntheticConfig(**{**base, **changes})


@pytest.fixture(scope="session")
def tiny_synthetic(tmp_path_factory) -> Path:
    """Folder of the tiny synthetic CHB-MIT-shaped dataset (real EDFs and summaries)."""
    from benchmark.datasets.synthetic import generate

    return generate(tmp_path_factory.mktemp("tiny-synthetic") / "ds", tiny_config())
