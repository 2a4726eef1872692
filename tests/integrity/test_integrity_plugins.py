"""Item 3: an isolated run never imports its plug-in into the harness.

A hostile review installed a plug-in whose import-time code wrapped ``benchmark.runner.adapter_task``
to hand ``job.test_y`` to the method: loaded in the harness (the registry imported every entry point
whenever a method was looked up), its run scored 1.000 on every metric, "complete" and "isolated",
and any installed plug-in could tamper with every other run, baselines included.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from _plugins import _plugin, installed_plugin, needs_sandbox
from fakes import run_config

from benchmark import runner as runner_mod
from benchmark.adapters import REGISTRY
from benchmark.errors import BenchmarkError
from benchmark.runner import HARNESS_IMPORTED, Runner
from benchmark.store import ResultStore

CHEAT = """
import numpy as np

import benchmark.runner as _runner
from benchmark.adapters import MethodAdapter, MethodMeta

_real = _runner.adapter_task


def _leak(job):  # runs wherever this module is imported: it must never be the harness
    task, plugin = _real(job)
    task.info["answers"] = [int(v) for v in job.test_y]
    return task, plugin


_runner.adapter_task = _leak


class Cheat(MethodAdapter):
    meta = MethodMeta(name="{name}", modality="eeg", tasks=("detection",), representation="bandpower",
                      budgets={{"smoke": {{}}, "paper": {{}}}}, citation="test")

    def fit(self, train, valid, context):
        pass

    def predict_proba(self, test):
        answers = test.info.get("answers")
        p1 = np.full(len(test), 0.5) if answers is None else np.asarray(answers, dtype=float)
        return np.column_stack([1 - p1, p1])
"""


def _cheat(tmp_path, module="cheat_plugin_item03", name="cheat_item03", ep_name=None):
    return installed_plugin(tmp_path, module, CHEAT.format(name=name), name, "Cheat", ep_name=ep_name)


def _detection(tmp_path, data, **kw):
    (tmp_path / "store").mkdir(parents=True, exist_ok=True)
    return run_config(
        tmp_path, data, task="detection", protocol="loso", store_path=tmp_path / "store" / "r.sqlite", threads=1, **kw
    )


@needs_sandbox
def test_item03_isolated_run_never_imports_its_entry_point_plugin_into_the_harness(tmp_path, tiny_synthetic):
    for name in _cheat(tmp_path):
        rec = Runner(_detection(tmp_path, tiny_synthetic, method=name, isolation="sandbox")).run()
        # Its import-time wrapper ran only in sandboxed workers, where test labels never are.
        assert "cheat_plugin_item03" not in sys.modules
        assert rec.status == "complete" and rec.provenance["isolation"] == "isolated"
        scores = ResultStore(tmp_path / "store" / "r.sqlite").scores(rec.run_id)
        assert scores["label"].nunique() == 2 and (scores["score"] == 0.5).all()
        assert rec.provenance["pooled_metrics"]["roc_auc"] == 0.5
        # Provenance is the plug-in's own: its distribution and a hash of its file, found without importing it.
        assert rec.provenance["code"]["package"] == "cheat_plugin_item03"
        assert rec.provenance["code"]["distribution"] == "cheat-plugin-item03"


def test_item03_a_baselines_run_does_not_import_installed_plugins(tmp_path, tiny_synthetic, monkeypatch):
    monkeypatch.setattr(runner_mod, "adapter_task", runner_mod.adapter_task)  # undone after the listing below
    for name in _cheat(tmp_path):
        rec = Runner(_detection(tmp_path, tiny_synthetic, method="chance", isolation="none")).run()
        assert rec.status == "complete"
        assert "cheat_plugin_item03" not in sys.modules and name not in REGISTRY._methods
        scores = ResultStore(tmp_path / "store" / "r.sqlite").scores(rec.run_id)
        assert not np.array_equal(scores["score"].to_numpy(), scores["label"].to_numpy().astype(float))
        # Looking up one plug-in loads that one only; listing loads them all.
        assert REGISTRY.has(name) and "cheat_plugin_item03" not in sys.modules
        assert name in REGISTRY.names() and "cheat_plugin_item03" in sys.modules


@needs_sandbox
def test_item03_a_plugin_registered_in_process_is_trusted_even_with_sandbox(tmp_path, tiny_synthetic, monkeypatch):
    monkeypatch.setattr(runner_mod, "adapter_task", runner_mod.adapter_task)  # the plug-in's wrapper is undone after
    for cls in _plugin(tmp_path, "inprocess_plugin_item03", CHEAT.format(name="inprocess_item03")):
        rec = Runner(_detection(tmp_path, tiny_synthetic, method=cls.meta.name, isolation="sandbox")).run()
        assert rec.status == "complete"
        assert rec.provenance["isolation"] == "trusted"
        assert HARNESS_IMPORTED in rec.provenance["isolation_detail"]
        assert set(rec.provenance["fold_isolation"].values()) == {"trusted"}
        assert "register it as an entry point to run it isolated" in HARNESS_IMPORTED


def test_item03_entry_point_name_must_equal_meta_name(tmp_path, caplog):
    for _ in _cheat(tmp_path, module="misnamed_plugin_item03", name="real_name_item03", ep_name="other_name_item03"):
        with pytest.raises(BenchmarkError) as err:
            REGISTRY.get("other_name_item03")
        msg = str(err.value)
        assert "\n" not in msg and "must equal meta.name" in msg and "'real_name_item03'" in msg
        assert "real_name_item03" not in REGISTRY._methods and "other_name_item03" not in REGISTRY._methods
        REGISTRY._loaded_entry_points = False
        with caplog.at_level("WARNING", logger="benchmark.adapters"):
            names = REGISTRY.names()
        assert "real_name_item03" not in names and "other_name_item03" not in names
        assert any("must equal meta.name" in r.getMessage() for r in caplog.records)


BROKEN = """
import os

os._exit(0)  # dies while it is imported: no description comes back
"""


@needs_sandbox
def test_item03_sandboxed_probe_refuses_a_misnamed_or_broken_plugin_in_one_line(tmp_path, tiny_synthetic):
    for _ in _cheat(tmp_path, module="misnamed_probe_item03", name="real_probe_item03", ep_name="other_probe_item03"):
        with pytest.raises(BenchmarkError, match="must equal meta.name") as err:
            Runner(_detection(tmp_path, tiny_synthetic, method="other_probe_item03", isolation="sandbox"))
        assert "\n" not in str(err.value) and "misnamed_probe_item03" not in sys.modules
    for name in installed_plugin(tmp_path, "broken_probe_item03", BROKEN, "broken_item03", "Nothing"):
        with pytest.raises(BenchmarkError, match="plug-in 'broken_item03'.*no readable description") as err:
            Runner(_detection(tmp_path, tiny_synthetic, method=name, isolation="sandbox"))
        assert "\n" not in str(err.value) and "broken_probe_item03" not in sys.modules
