"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

# CI checks out shared/ beside the repository clone; locally it is /work/shared.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of small real data files (CHB-MIT summaries, excerpts); skips if absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (expected shared/ beside the repo)")
    return SHARED_DATA
