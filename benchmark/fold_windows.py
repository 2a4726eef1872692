"""Which windows a fold trains, validates and tests on: the rules ``run`` and ``plan`` share.

A run applies them to its window table (:meth:`benchmark.runner.Runner._job`); a plan applies the
same functions to window counts (:func:`benchmark.plan.plan_run`), so a plan cannot drift from the
run it describes. Rules: random-protocol chunks (:func:`chunk_assignment`), validation hold-out of
whole units (:func:`hold_out_units`), class balancing (:func:`balance_quota`, :func:`balance`) and
the sampling rate windows are cut at (:func:`common_sfreq`), and which windows a fold selects
(:func:`select_units`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.errors import BenchmarkError
from benchmark.index import RecordingIndex


def common_sfreq(index: RecordingIndex) -> float:
    """The most common sampling rate of the dataset's recordings (windows are resampled to it)."""
    rates = [r.sfreq for _, r in index.iter_recordings() if r.sfreq]
    if not rates:
        raise BenchmarkError(f"dataset '{index.dataset}' gives no sampling rate; check its summary or EDF headers.")
    return float(pd.Series(rates).mode().iloc[0])


WINDOW_COLUMNS = ["patient", "recording", "start", "end", "label", "unit", "extra"]


def rows_by_patient(table: pd.DataFrame, patients) -> dict[str, pd.DataFrame]:
    """Each patient's rows of the window table, in the order its window cache holds them."""
    return {pid: table[table["patient"] == pid].reset_index(drop=True) for pid in patients}


def select_units(rows_of: dict[str, pd.DataFrame], unit_ids, src_index: dict[str, int]) -> pd.DataFrame:
    """The windows of ``unit_ids``, patient by patient, each with its source array (``_src``) and
    row in it (``_row``)."""
    wanted = set(unit_ids)
    parts = []
    for pid, rows in rows_of.items():
        sel = rows[rows["unit"].isin(wanted)]
        if len(sel):
            parts.append(sel.assign(_src=src_index[pid], _row=sel.index.to_numpy()))
    if not parts:
        return pd.DataFrame(columns=[*WINDOW_COLUMNS, "_src", "_row"])
    return pd.concat(parts, ignore_index=True)


def chunk_assignment(windows: pd.DataFrame, splitter, whole_recordings: bool) -> np.ndarray:
    """The random-protocol fold of each window (columns ``patient``, ``recording``, ``start``).

    ``whole_recordings``: a recording (a video) is one chunk, so its windows all go to one fold.
    """
    which = np.empty(len(windows), dtype=np.int64)
    for (pid, rec), g in windows.groupby(["patient", "recording"], sort=False):
        starts = np.zeros(len(g)) if whole_recordings else g["start"].to_numpy()
        which[windows.index.get_indexer(g.index)] = splitter.chunk_folds(f"{pid}/{rec}", starts)
    return which


def hold_out_units(train: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame | None:
    """Whole training units held out for validation (whole units, so valid never overlaps train)."""
    units = sorted(train["unit"].unique())
    if fraction <= 0 or len(units) < 2:
        return None
    k = min(len(units) - 1, max(1, int(round(fraction * len(units)))))
    chosen = set(np.random.default_rng(seed).choice(units, k, replace=False))
    return train[train["unit"].isin(chosen)].reset_index(drop=True)


def balance_quota(counts: dict[int, int], multiclass: bool) -> dict[int, int]:
    """Windows kept per label by class balancing, from the windows per label.

    Binary: every minority window, as many majority windows. Multi-class (seizure type): every seizure
    window, and as many background (class 0) windows as there are seizure windows in all, as
    DistilCLIP-EEG builds its training sets (Wang et al., Sec. IV-A); rare types are not cut down to
    the rarest one. Fewer than two labels present: nothing is cut.
    """
    present = {label: n for label, n in counts.items() if n > 0}
    if len(present) < 2:
        return dict(counts)
    if not multiclass:
        low = min(present.values())
        return {label: (low if n > 0 else 0) for label, n in counts.items()}
    seizures = sum(n for label, n in present.items() if label != 0)
    return {label: (min(seizures, n) if label == 0 else n) for label, n in counts.items()}


def balance(train: pd.DataFrame, seed: int, multiclass: bool = False) -> pd.DataFrame:
    """Class-balanced training sample: :func:`balance_quota` windows of each label, drawn at random."""
    counts = train["label"].value_counts()
    if len(counts) < 2:
        return train
    rng = np.random.default_rng(seed)
    quota = balance_quota({label: int(n) for label, n in counts.items()}, multiclass)
    keep = []
    for label, g in train.groupby("label"):
        idx = g.index.to_numpy()
        n = quota[label]
        keep.append(idx if len(idx) == n else np.sort(rng.choice(idx, n, replace=False)))
    return train.loc[np.sort(np.concatenate(keep))].reset_index(drop=True)
