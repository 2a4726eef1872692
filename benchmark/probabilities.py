"""The one rule for what a method's ``predict_proba`` must return.

Used by the runner (a fold whose output breaks the rule fails with the rule's one-line reason and
is never scored) and by ``check-adapter`` (each part of the rule is a named check), so a method
that passes the conformance suite is scored, and one that returns decision scores is not.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

#: Largest distance of a probability outside [0, 1] that is put down to rounding.
RANGE_TOL = 1e-6
#: Largest |row sum - 1| accepted (float32 softmax outputs of many classes reach ~1e-6).
ROW_SUM_TOL = 1e-4


class OutputCheck(NamedTuple):
    """One part of the rule: its name (as ``check-adapter`` prints it), outcome and detail."""

    name: str
    ok: bool
    detail: str


def output_checks(proba: Any, n_rows: int, n_classes: int) -> list[OutputCheck]:
    """Every part of the rule, in order: ``output_shape``, ``finite``, ``unit_interval``, ``rows_sum_to_one``.

    Parts that cannot be judged (wrong type, shape or dtype) are failed with a "not run" detail.
    """
    if not isinstance(proba, np.ndarray):
        return [OutputCheck("output_shape", False, f"returned {type(proba).__name__}, not numpy.ndarray")] + [
            OutputCheck(c, False, "not run: wrong output type") for c in ("finite", "unit_interval", "rows_sum_to_one")
        ]
    expected = (n_rows, n_classes)
    out = [OutputCheck("output_shape", proba.shape == expected, f"shape {proba.shape}, expected {expected}")]
    if proba.shape != expected or not np.issubdtype(proba.dtype, np.number):
        why = "not run: wrong output shape or dtype"
        return out + [OutputCheck(c, False, why) for c in ("finite", "unit_interval", "rows_sum_to_one")]
    p = proba.astype(np.float64)
    ok = np.isfinite(p)
    out.append(OutputCheck("finite", bool(ok.all()), "" if ok.all() else f"{int((~ok).sum())} non-finite values"))
    # Range and row sums are judged on finite values only, so one NaN fails one check, not three.
    vals = p[ok]
    in_range = bool(((vals >= -RANGE_TOL) & (vals <= 1 + RANGE_TOL)).all())
    span = f"range [{vals.min():.4g}, {vals.max():.4g}]" if vals.size else "no finite values"
    out.append(OutputCheck("unit_interval", in_range, span))
    rows = ok.all(axis=1)
    err = float(np.abs(p[rows].sum(axis=1) - 1).max(initial=0.0))
    out.append(OutputCheck("rows_sum_to_one", bool(err <= ROW_SUM_TOL), f"max |row sum - 1| = {err:.2e}"))
    return out


def probability_problem(proba: Any, n_rows: int, n_classes: int) -> str | None:
    """One line saying how ``proba`` breaks the rule, or ``None`` when it is a valid probability matrix."""
    bad = [c for c in output_checks(proba, n_rows, n_classes) if not c.ok]
    if not bad:
        return None
    first = bad[0]
    what = {
        "output_shape": "predict_proba must return a numpy array of shape (windows, classes)",
        "finite": "predict_proba returned values that are not finite",
        "unit_interval": f"predict_proba returned values outside [0, 1] (tolerance {RANGE_TOL:g})",
        "rows_sum_to_one": f"predict_proba rows do not sum to 1 (tolerance {ROW_SUM_TOL:g})",
    }[first.name]
    return (
        f"{what}: {first.detail}; return class probabilities "
        "(e.g. a softmax of decision scores), as 'seizure-bench check-adapter' checks"
    )


def check_probabilities(proba: Any, n_rows: int, n_classes: int) -> np.ndarray:
    """``proba`` as a float64 array when it follows the rule; else :class:`ValueError` with the one-line reason."""
    problem = probability_problem(proba, n_rows, n_classes)
    if problem:
        raise ValueError(problem)
    return np.asarray(proba, dtype=np.float64)
