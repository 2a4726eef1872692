"""Paired statistics over patients: t-test, Wilcoxon signed-rank, Holm correction, bootstrap CI.

Two result sets are compared on the patients they share, each patient contributing one paired
difference, in the spirit of the per-subject meta-analysis of MOABB (Jayaram & Barachant, 2018,
"MOABB: trustworthy algorithm benchmarking for BCIs", J. Neural Eng. 15 066011). The paired
t-test is the test Lee et al. (2024, Sci. Rep., Tables 6 and 7) report; the Wilcoxon signed-rank
test is given beside it because per-patient metrics are bounded and often skewed. When several
methods are compared with one reference, :func:`holm` controls the family-wise error rate (Holm,
1979, "A simple sequentially rejective multiple test procedure", Scand. J. Statist. 6:65-70).

Degenerate inputs (fewer than two pairs, all differences zero) give NaN statistics, never an
exception or a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from benchmark.errors import DataError

_NAN = float("nan")


def paired_tests(a: pd.Series, b: pd.Series) -> dict[str, Any]:
    """Paired t-test and Wilcoxon signed-rank test of ``b`` against ``a`` over shared patients.

    Parameters
    ----------
    a, b
        One value per patient (index = patient). Only patients present in both with a non-NaN
        value in both are used.

    Returns
    -------
    dict
        ``n``, ``patients`` (sorted), ``mean_a``, ``mean_b``, ``mean_diff`` (mean of ``b - a``),
        ``t`` (paired t statistic of ``b - a``: positive when ``b`` is larger), ``df`` (``n - 1``),
        ``p_value`` (two-sided), ``wilcoxon_stat`` and ``wilcoxon_p`` (two-sided).
    """
    for name, s in (("a", a), ("b", b)):
        if not s.index.is_unique:
            dup = sorted(map(str, s.index[s.index.duplicated()].unique()))
            raise DataError(f"series {name} lists patients more than once: {', '.join(dup)}")
    pairs = pd.concat(
        [pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")],
        axis=1,
        join="inner",
        keys=["a", "b"],
    ).dropna()
    pairs = pairs.sort_index()
    n = len(pairs)
    va = pairs["a"].to_numpy(dtype=float)
    vb = pairs["b"].to_numpy(dtype=float)
    diff = vb - va
    out: dict[str, Any] = {
        "n": n,
        "patients": [str(p) for p in pairs.index],
        "mean_a": float(va.mean()) if n else _NAN,
        "mean_b": float(vb.mean()) if n else _NAN,
        "mean_diff": float(diff.mean()) if n else _NAN,
        "t": _NAN,
        "df": n - 1 if n else 0,
        "p_value": _NAN,
        "wilcoxon_stat": _NAN,
        "wilcoxon_p": _NAN,
    }
    if n < 2 or not np.any(diff != 0):
        return out
    from scipy import stats as _sps  # imported here: commands that only list results stay instant

    # Constant non-zero differences make the t statistic infinite; scipy warns about it.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = _sps.ttest_rel(vb, va)
        out["t"], out["p_value"] = float(res.statistic), float(res.pvalue)
        try:
            w = _sps.wilcoxon(diff, alternative="two-sided")
            out["wilcoxon_stat"], out["wilcoxon_p"] = float(w.statistic), float(w.pvalue)
        except ValueError:
            pass  # too few non-zero differences for the chosen method
    return out


def _holm_array(p: np.ndarray) -> np.ndarray:
    adj = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    vals = p[ok]
    m = vals.size
    if m == 0:
        return adj
    order = np.argsort(vals, kind="stable")
    stepped = (m - np.arange(m)) * vals[order]
    # Step-down: an adjusted p-value can never be below that of a smaller raw p-value.
    stepped = np.minimum(np.maximum.accumulate(stepped), 1.0)
    res = np.empty(m)
    res[order] = stepped
    adj[ok] = res
    return adj


def holm(pvalues):
    """Holm-Bonferroni step-down adjusted p-values.

    Parameters
    ----------
    pvalues
        A mapping (name -> p), a :class:`pandas.Series`, a numpy array or a sequence. NaN entries
        stay NaN and do not count towards the number of tests.

    Returns
    -------
    Same shape as the input: a dict for a mapping, a Series for a Series, an array for an array,
    a list otherwise.
    """
    if isinstance(pvalues, pd.Series):
        return pd.Series(_holm_array(pvalues.to_numpy(dtype=float)), index=pvalues.index, name=pvalues.name)
    if isinstance(pvalues, Mapping):
        keys = list(pvalues)
        adj = _holm_array(np.array([pvalues[k] for k in keys], dtype=float))
        return {k: float(v) for k, v in zip(keys, adj)}
    if isinstance(pvalues, np.ndarray):
        return _holm_array(pvalues.astype(float).ravel()).reshape(pvalues.shape)
    if isinstance(pvalues, Sequence) and not isinstance(pvalues, str):
        return [float(v) for v in _holm_array(np.array(pvalues, dtype=float))]
    raise TypeError(f"holm() needs a mapping or a sequence of p-values, got {type(pvalues).__name__}")


def bootstrap_ci(values, n_boot: int = 2000, alpha: float = 0.05, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean.

    Parameters
    ----------
    values
        One value per unit (patient); NaN values are dropped.
    n_boot
        Number of resamples with replacement.
    alpha
        The interval covers ``1 - alpha``.
    seed
        Seed of :func:`numpy.random.default_rng`; same seed, same interval.

    Returns
    -------
    (lo, hi)
        ``(nan, nan)`` with fewer than two values, where no interval is meaningful.
    """
    v = np.asarray(values, dtype=float).ravel()
    v = v[~np.isnan(v)]
    if v.size < 2 or n_boot < 1:
        return _NAN, _NAN
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(lo), float(hi)
