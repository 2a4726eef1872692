"""Tests of benchmark.stats: paired tests over patients, Holm correction, bootstrap CI."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from benchmark.errors import DataError
from benchmark.stats import bootstrap_ci, holm, paired_tests


def test_paired_tests_align_on_shared_patients():
    a = pd.Series({"p1": 0.50, "p2": 0.60, "p3": 0.70, "p4": 0.80, "p5": np.nan, "only_a": 0.1})
    b = pd.Series({"p4": 0.95, "p3": 0.72, "p2": 0.71, "p1": 0.58, "p5": 0.9, "only_b": 0.2})
    res = paired_tests(a, b)
    assert res["n"] == 4
    assert res["patients"] == ["p1", "p2", "p3", "p4"]
    va, vb = np.array([0.5, 0.6, 0.7, 0.8]), np.array([0.58, 0.71, 0.72, 0.95])
    ref = sps.ttest_rel(vb, va)
    assert res["t"] == pytest.approx(ref.statistic) and res["t"] > 0  # b larger -> positive t
    assert res["p_value"] == pytest.approx(ref.pvalue)
    assert res["df"] == 3
    assert res["mean_a"] == pytest.approx(va.mean())
    assert res["mean_b"] == pytest.approx(vb.mean())
    assert res["mean_diff"] == pytest.approx((vb - va).mean())
    w = sps.wilcoxon(vb - va)
    assert res["wilcoxon_stat"] == pytest.approx(w.statistic)
    assert res["wilcoxon_p"] == pytest.approx(w.pvalue)


@pytest.mark.parametrize(
    "a, b",
    [
        ({"p1": 0.5}, {"p1": 0.7}),  # one pair
        ({"p1": 0.5, "p2": 0.6}, {"p1": 0.5, "p2": 0.6}),  # all differences zero
        ({"p1": 0.5}, {"p2": 0.6}),  # nothing shared
    ],
)
def test_paired_tests_degenerate_inputs_give_nan(a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = paired_tests(pd.Series(a, dtype=float), pd.Series(b, dtype=float))
    for key in ("t", "p_value", "wilcoxon_stat", "wilcoxon_p"):
        assert math.isnan(res[key]), key


def test_paired_tests_constant_difference_warns_nothing():
    a = pd.Series([0.1, 0.2, 0.3], index=["x", "y", "z"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = paired_tests(a, a + 0.1)
    assert res["n"] == 3 and res["mean_diff"] == pytest.approx(0.1)


def test_paired_tests_reject_duplicate_patients():
    a = pd.Series([0.1, 0.2], index=["p1", "p1"])
    with pytest.raises(DataError, match="p1"):
        paired_tests(a, pd.Series([0.3], index=["p1"]))


def test_holm_step_down():
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_holm_keeps_shape_and_nan():
    out = holm({"x": 0.01, "y": float("nan"), "z": 0.02})
    assert set(out) == {"x", "y", "z"}
    assert out["x"] == pytest.approx(0.02) and out["z"] == pytest.approx(0.02)
    assert math.isnan(out["y"])  # not counted: m = 2
    s = holm(pd.Series([0.02, 0.01], index=["a", "b"]))
    assert isinstance(s, pd.Series) and list(s.index) == ["a", "b"]
    assert s["a"] == pytest.approx(0.02) and s["b"] == pytest.approx(0.02)
    arr = holm(np.array([0.001, 0.5]))
    assert isinstance(arr, np.ndarray) and arr == pytest.approx([0.002, 0.5])
    assert holm([]) == []


def test_bootstrap_ci():
    rng = np.random.default_rng(0)
    values = rng.normal(0.8, 0.05, size=30)
    lo, hi = bootstrap_ci(values, n_boot=1000, seed=4)
    assert lo < values.mean() < hi
    assert (lo, hi) == bootstrap_ci(values, n_boot=1000, seed=4)
    # The 95% interval of the mean is about +-1.96 standard errors wide.
    se = values.std(ddof=1) / math.sqrt(values.size)
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.25)
    assert bootstrap_ci(np.append(values, np.nan), n_boot=1000, seed=4) == (lo, hi)
    lo90, hi90 = bootstrap_ci(values, n_boot=1000, alpha=0.1, seed=4)
    assert lo <= lo90 and hi90 <= hi
    assert all(math.isnan(v) for v in bootstrap_ci([0.5]))
