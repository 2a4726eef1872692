"""The README's "Add your method" example works as printed.

The python block under that heading is executed as a fresh module; its ``@register`` adds
``line_length_demo`` to the global registry for the duration of this module only. The adapter must
pass the conformance suite, benchmark end to end on a tiny SYNTHETIC dataset, and be listed by
``seizure-bench list methods``.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_config

from benchmark import cli
from benchmark.adapters import REGISTRY
from benchmark.conformance import check_adapter, format_results
from benchmark.runner import RunConfig, Runner
from benchmark.store import ResultStore

README = Path(__file__).resolve().parents[1] / "README.md"
NAME = "line_length_demo"
TINY = tiny_config()


def readme_example() -> str:
    """The first ```python block of the README section "## Add your method"."""
    text = README.read_text()
    section = re.search(r"^## Add your method\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '## Add your method' section"
    block = re.search(r"^```python\n(.*?)^```", section.group(1), re.MULTILINE | re.DOTALL)
    assert block, "the 'Add your method' section has no ```python block"
    return block.group(1)


@pytest.fixture(scope="module")
def example():
    """Execute the README example; afterwards the registry is exactly as it was before."""
    REGISTRY.names()  # load in-tree methods and plug-ins first, so the snapshot is complete
    saved = dict(REGISTRY._methods), dict(REGISTRY._origin)
    # Robust to a method of that name already present (e.g. the example copied into methods/).
    REGISTRY._methods.pop(NAME, None)
    REGISTRY._origin.pop(NAME, None)
    module = types.ModuleType("readme_add_your_method")
    try:
        exec(compile(readme_example(), f"{README}:Add your method", "exec"), module.__dict__)
        yield module
    finally:
        for live, old in zip((REGISTRY._methods, REGISTRY._origin), saved):
            live.clear()
            live.update(old)


@pytest.fixture(scope="module")
def tiny(tiny_synthetic) -> Path:
    """The tiny synthetic dataset (seed 0), shared by the session: tests copy it before changing it."""
    return tiny_synthetic


def test_example_registers_its_adapter(example):
    cls = REGISTRY.get(NAME)
    assert cls is example.LineLength
    assert REGISTRY.origin(NAME) == "in-tree"
    assert cls.meta.representation == "raw"


def test_example_passes_the_conformance_suite(example):
    results = check_adapter(NAME)
    assert results and all(r.ok for r in results), format_results(results)


def test_seizure_bench_lists_it(example, capsys):
    assert cli.main(["list", "methods"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows[NAME][1:3] == ["method", "eeg"]
    assert rows[NAME][-1] == "in-tree"
    assert "chance" in rows  # the baselines are still there


def test_example_runs_end_to_end(example, tiny, tmp_path):
    cfg = RunConfig(
        method=NAME,
        dataset="chbmit-synthetic",
        data_dir=tiny,
        store_path=tmp_path / "r.sqlite",
        splits_dir=tmp_path / "splits",
        cache_dir=tmp_path / "cache",
        progress=False,
    )
    rec = Runner(cfg).run()
    assert rec.status == "complete"
    assert rec.synthetic and rec.method == NAME
    assert rec.method_config == {"scale_quantile": 0.5}
    store = ResultStore(cfg.store_path)
    folds = store.folds(rec.run_id)
    assert folds and all(f.status == "ok" for f in folds), [f.error for f in folds]
    per_patient = store.patient_metrics(rec.run_id)
    assert sorted(per_patient.index) == sorted({f.patient for f in folds}) == ["chb01", "chb02"]
    auc = per_patient["roc_auc"].to_numpy(float)
    assert np.all((auc >= 0) & (auc <= 1))
    scores = store.scores(rec.run_id)
    assert len(scores) == sum(f.n_test for f in folds)
    assert scores["score"].between(0, 1).all()
    # The sigmoid of the line length is a real score, not a constant like the chance baseline's.
    assert scores["score"].nunique() > 1


def test_check_adapter_command(example, capsys):
    assert cli.main(["check-adapter", NAME]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and out.strip().endswith("0 failed")
