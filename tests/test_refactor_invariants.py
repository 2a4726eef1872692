"""Stored runs stay valid: run ids, splits, dataset versions, window-cache keys and metrics unchanged.

``tests/data/reference_runs.json`` records a handful of fast runs on SYNTHETIC data (every task,
several protocols, one EEG and one video baseline; :data:`RUNS` in ``tests/data/reference_runs.py``)
as an earlier version of the code produced them. These tests re-run them with the code of the
working tree and require every recorded value to be identical: metrics to a relative 1e-9 (they
are stored to 12 significant digits), everything else exactly. A failure names the run and the
value that changed; a changed run id, split hash, index hash or cache key means results, split
files or caches made by the earlier code would no longer be found.

The method's source hash (``provenance.method_code``) is part of a run id by design: any edit of
``baselines/`` gives new run ids. So the runs here use the recorded hash, and the test checks the
harness's rule for run ids rather than the method package's current bytes.

Regenerating the fixture is for an INTENDED change of behaviour only (never to make this test
pass after a refactor), with the reason in the commit message::

    uv run python tests/data/reference_runs.py --write
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("reference_runs", HERE / "data" / "reference_runs.py")
reference_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference_runs)

REFERENCE = json.loads(reference_runs.FIXTURE.read_text())
METRIC_FIELDS = ("patient_metrics", "summary", "pooled_metrics")
REL_TOL = 1e-9

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def current(tmp_path_factory):
    """The reference runs recorded with the working tree's code (the method source hash pinned)."""
    from benchmark import provenance

    pinned = {run["code"]["package"]: run["code"] for run in REFERENCE["runs"].values()}

    def package_code(top: str):
        if top not in pinned:
            return real(top)
        return tuple((k, v) for k, v in pinned[top].items() if k != "package")

    real = provenance._package_code
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(provenance, "_package_code", package_code)
        return reference_runs.record_all(tmp_path_factory.mktemp("reference"))


def _differences(expected, got, path: str, tolerant: bool) -> list[str]:
    """Where ``got`` differs from ``expected``, one line each (``path: expected X, got Y``)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        out = [f"{path}.{k}: missing (expected {expected[k]!r})" for k in expected if k not in got]
        out += [f"{path}.{k}: unexpected (got {got[k]!r})" for k in got if k not in expected]
        for k in expected:
            if k in got:
                out += _differences(expected[k], got[k], f"{path}.{k}", tolerant or k in METRIC_FIELDS)
        return out
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        return [d for i, (e, g) in enumerate(zip(expected, got)) for d in _differences(e, g, f"{path}[{i}]", tolerant)]
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (expected, got))
    if tolerant and numbers and math.isclose(expected, got, rel_tol=REL_TOL, abs_tol=1e-300):
        return []
    return [] if expected == got else [f"{path}: expected {expected!r}, got {got!r}"]


def test_differences_names_the_changed_value():
    # The comparison itself: exact outside metrics, 1e-9 relative inside them.
    old = {"run_id": "a", "task_params": {"sop_minutes": 10}, "summary": {"auc": {"mean": 0.75}}}
    assert _differences(old, json.loads(json.dumps(old)), "r", False) == []
    near = {**old, "summary": {"auc": {"mean": 0.75 * (1 + 1e-12)}}}
    assert _differences(old, near, "r", False) == []
    far = {**old, "summary": {"auc": {"mean": 0.7500001}}, "task_params": {"sop_minutes": 10.0000001}}
    assert _differences(old, far, "r", False) == [
        "r.task_params.sop_minutes: expected 10, got 10.0000001",
        "r.summary.auc.mean: expected 0.75, got 0.7500001",
    ]


def test_reference_covers_every_task_and_several_protocols():
    runs = REFERENCE["runs"].values()
    assert {r["settings"]["task"] for r in runs} == {"prediction", "detection", "seizure-type", "classification"}
    assert len({r["settings"]["protocol"] for r in runs}) >= 4
    assert set(REFERENCE["runs"]) == set(reference_runs.RUNS)
    assert all(r["status"] == "complete" and r["synthetic"] for r in runs)


def test_synthetic_dataset_versions_unchanged(current):
    """Each generated dataset's ``RecordingIndex.content_hash()``: the version split files name."""
    assert current["datasets"] == REFERENCE["datasets"]


@pytest.mark.parametrize("name", sorted(REFERENCE["runs"]))
def test_reference_run_unchanged(current, name):
    """Run id, split and index hashes, window-cache keys, task parameters and metrics of one run."""
    diffs = _differences(REFERENCE["runs"][name], current["runs"][name], name, False)
    assert not diffs, "behaviour changed:\n" + "\n".join(diffs)
