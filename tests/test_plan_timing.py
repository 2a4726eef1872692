"""The time estimate of ``plan --time``: its arithmetic, its probes' inputs and where it is shown.

No test here asserts a speed (targets live in ``tests/benchmarks``); the probes run on the tiny
SYNTHETIC dataset only to check what they measure and how the figures are combined.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmark import plan_timing
from benchmark.edf import read_header
from benchmark.fold_windows import WINDOW_COLUMNS
from benchmark.plan import FoldPlan, format_plan, plan_run
from benchmark.plan_timing import cache_seconds, fold_seconds, probe_index, probe_table, two_point
from benchmark.runner import RunConfig


def _fold(steps: dict[str, int] | None, balanced: int = 500, test: int = 1000) -> FoldPlan:
    return FoldPlan("f", "p", 1, 1, balanced, {}, balanced, {}, 0, test, steps)


RATES = {
    "unit": "step",
    "fit_fixed_s": 2.0,
    "fit_s_per_unit": 0.5,
    "predict_fixed_s": 1.0,
    "predict_s_per_window": 0.01,
    "cache_warmup_s": 3.0,
    "cache_s_per_window": 0.001,
}


def test_two_point_gives_the_fixed_and_per_unit_cost_of_a_line():
    assert two_point((2, 10), (3.0, 7.0)) == pytest.approx((2.0, 0.5))
    # Timing noise that makes the larger probe faster gives no negative cost.
    assert two_point((2, 10), (3.0, 2.0)) == (3.0, 0.0)
    assert two_point((4, 4), (3.0, 5.0)) == (3.0, 0.0)


def test_a_folds_seconds_are_fixed_costs_plus_its_steps_and_test_windows():
    fold = _fold({"pretrain": 10, "fit": 30})
    assert fold_seconds(RATES, fold) == pytest.approx(2.0 + 40 * 0.5 + 1.0 + 1000 * 0.01)
    # Budgets without optimiser steps (scikit-learn baselines) scale with the balanced training windows.
    no_steps = {**RATES, "unit": "train_window", "fit_s_per_unit": 0.002}
    assert fold_seconds(no_steps, _fold(None, balanced=500)) == pytest.approx(2.0 + 1.0 + 1.0 + 10.0)


def test_the_cache_estimate_counts_every_window_and_the_warm_up_once():
    assert cache_seconds(RATES, 0) == pytest.approx(3.0)
    assert cache_seconds(RATES, 24 * 3600) == pytest.approx(3.0 + 86.4)


def test_the_cache_probe_is_a_readable_synthetic_recording_of_the_datasets_channels_and_rate(tmp_path):
    channels = ("FP1-F7", "F7-T7", "T7-P7")
    index = probe_index(tmp_path, channels, 256.0, 30.0)
    assert index.synthetic
    rec = index.patients[0].recordings[0]
    header = read_header(tmp_path / rec.file)
    assert header.channels == channels and header.channel_sfreqs == (256.0,) * 3
    assert header.duration == 30.0
    table = probe_table(index, 2.0, 1.0)
    assert list(table.columns) == WINDOW_COLUMNS
    assert len(table) == 29 and table["start"].iloc[-1] == 28.0 and table["end"].iloc[-1] == 30.0
    assert len(probe_table(index, 2.0, 1.0, limit=8)) == 8


def _config(tmp_path: Path, data: Path, method: str) -> RunConfig:
    return RunConfig(
        method=method,
        dataset="chbmit-synthetic",
        task="detection",
        protocol="loso",
        data_dir=data,
        store_path=tmp_path / "r.sqlite",
        splits_dir=tmp_path / "splits",
        cache_dir=tmp_path / "cache",
        threads=1,
        progress=False,
    )


def test_plan_without_time_runs_no_probe(tmp_path, tiny_synthetic, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("plan probed the machine without --time")

    monkeypatch.setattr(plan_timing, "estimate_time", refuse)
    plan = plan_run(_config(tmp_path, tiny_synthetic, "eegnet"))
    assert plan.timing is None and plan.to_dict()["timing"] is None
    assert "time " not in format_plan(plan)


def test_plan_time_for_a_trained_method_counts_optimiser_steps(tmp_path, tiny_synthetic):
    plan = plan_run(_config(tmp_path, tiny_synthetic, "eegnet"), measure_time=True)
    t = plan.timing
    assert t is not None and t.threads == 1
    assert t.rates["unit"] == "step"
    # eegnet's smoke batch is 64: probes of 2 and 10 batches, one epoch each.
    assert t.rates["fit_probe_units"] == [2.0, 10.0]
    assert t.rates["cache_probe_windows"] >= plan_timing.PROBE_MIN_S - 1
    assert len(t.fold_s) == plan.n_folds and all(s > 0 for s in t.fold_s)
    expected = [fold_seconds(t.rates, f) for f in plan.folds]
    expected[0] += t.rates["fit_warmup_s"]  # the first fold pays the method's imports
    assert t.fold_s == pytest.approx(expected)
    assert t.cache_s == pytest.approx(cache_seconds(t.rates, plan.windows))
    # The probes write only temporary files: nothing in the run's cache folder.
    assert not (tmp_path / "cache" / "windows").exists()


def test_plan_time_is_shown_and_exported_beside_unchanged_counts(tmp_path, tiny_synthetic, capsys):
    from benchmark.cli import main

    plain = plan_run(_config(tmp_path, tiny_synthetic, "chance"))
    timed = plan_run(_config(tmp_path, tiny_synthetic, "chance"), measure_time=True)
    assert timed.timing.rates["unit"] == "train_window"
    d = timed.to_dict()
    assert d["timing"]["total_s"] == pytest.approx(timed.timing.cache_s + sum(timed.timing.fold_s))
    assert {k: v for k, v in d.items() if k not in ("timing", "notes")} == {
        k: v for k, v in plain.to_dict().items() if k not in ("timing", "notes")
    }
    text = format_plan(timed)
    assert "estimate for this machine's CPU, 1 thread)" in text and "cache ~" in text

    args = ["plan", "--method", "chance", "--dataset", "chbmit-synthetic", "--data-dir", str(tiny_synthetic)]
    args += ["--task", "detection", "--protocol", "loso", "--splits-dir", str(tmp_path / "splits")]
    args += ["--cache-dir", str(tmp_path / "cache"), "--time", "--threads", "1", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["timing"]["threads"] == 1 and len(out["timing"]["fold_s"]) == out["n_folds"]
    assert np.isfinite(out["timing"]["total_s"])
