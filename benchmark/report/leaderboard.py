"""Leaderboard model: group result sets and compare them patient by patient.

This module turns store records into plain data for the report templates; it does no HTML. A
leaderboard holds every result set (reproduced runs and results reported in papers) that answers the
same question: same dataset, task, protocol and task parameters. Metrics are computed per patient and
then averaged over patients, so two result sets are compared with a paired test over the patients
they share, as in the patient-wise evaluation of Lee et al. (2024), "A ResNet-LSTM hybrid model for
predicting epileptic seizures using a pretrained model with supervised contrastive learning",
Scientific Reports 14 (Tables 6-7). The p-values of one row (against the best entry and against every
baseline) are Holm-adjusted together (Holm, 1979, Scand. J. Statist. 6:65-70).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from benchmark.metrics import LOWER_IS_BETTER, METRICS, summarize
from benchmark.stats import holm, paired_tests

# Methods shipped as baselines; a run can also declare itself one via provenance["is_baseline"].
BASELINE_METHODS = frozenset({"chance", "bandpower_logreg", "bandpower_rf", "eegnet", "shallow_convnet"})

# Unit suffixes of task-parameter names, as seconds per unit.
_UNIT_SECONDS = {
    "s": 1, "sec": 1, "secs": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hours": 3600,
}
# Task-parameter entries computed from the others; showing them would repeat them.
_DERIVED_PARAMS = frozenset({"label", "slug"})
# Abbreviations readers of the seizure-prediction literature expect, by leading name part.
_PARAM_NAMES = {"sop": "SOP", "sph": "SPH", "gap": "gap", "interictal_gap": "gap"}


@dataclass(frozen=True)
class Stat:
    """Mean and spread of one metric over patients."""

    mean: float
    std: float
    ci_low: float
    ci_high: float
    n: int


@dataclass(frozen=True)
class Comparison:
    """A paired test of one row against one reference entry on one metric."""

    p_raw: float
    p_holm: float
    n: int
    wilcoxon_p: float
    mean_row: float
    mean_ref: float


@dataclass
class Entry:
    """One result set in a leaderboard."""

    run: Any  # benchmark.store.RunRecord
    page: str
    patient_metrics: pd.DataFrame
    stats: dict[str, Stat]
    is_baseline: bool

    @property
    def name(self) -> str:
        """Name shown for the result set (display name, else method)."""
        return self.run.display_name or self.run.method

    @property
    def n_patients(self) -> int:
        return int(len(self.patient_metrics.index))


@dataclass
class Leaderboard:
    """All result sets answering the same question, with their paired comparisons."""

    dataset: str
    task: str
    protocol: str
    task_params: dict
    slug: str
    entries: list[Entry]
    metrics: list[str]
    primary: str
    baselines: list[Entry]
    # metric -> run_id of the best entry on that metric (absent when no entry has the metric)
    best: dict[str, str] = field(default_factory=dict)
    # metric -> row run_id -> reference ("best" or a baseline run_id) -> Comparison
    comparisons: dict[str, dict[str, dict[str, Comparison]]] = field(default_factory=dict)

    @property
    def params_label(self) -> str:
        return task_params_label(self.task_params)

    @property
    def title(self) -> str:
        parts = [self.dataset, self.task]
        if self.params_label:
            parts.append(self.params_label)
        parts.append(self.protocol)
        return " · ".join(parts)

    @property
    def baseline_columns(self) -> list[tuple[str, str]]:
        """``(run_id, header label)`` of each baseline column; the run id tells apart repeats."""
        names = [b.name for b in self.baselines]
        return [
            (b.run.run_id, b.name if names.count(b.name) == 1 else f"{b.name} [{b.run.run_id}]")
            for b in self.baselines
        ]

    @property
    def any_synthetic(self) -> bool:
        return any(e.run.synthetic for e in self.entries)

    @property
    def all_synthetic(self) -> bool:
        return bool(self.entries) and all(e.run.synthetic for e in self.entries)

    @property
    def n_reported(self) -> int:
        return sum(e.run.kind == "reported" for e in self.entries)


def is_baseline(run) -> bool:
    """Whether ``run`` is a baseline that every other entry is tested against."""
    return bool((run.provenance or {}).get("is_baseline")) or run.method in BASELINE_METHODS


def _fmt_number(value: float) -> str:
    return f"{value:g}"


def task_params_label(params: dict | None) -> str:
    """Short human label of task parameters, e.g. ``"SOP 10 min, SPH 0, gap 4 h"``.

    Names ending in a unit (``sop_min``, ``sph_s``, ``gap_hours``) are shown with that value in
    the largest unit that keeps it a whole number; other parameters are shown as ``name value``.
    Derived entries (``label``, ``slug``) are left out.
    """
    parts = []
    for key in sorted((k for k in params or {} if k not in _DERIVED_PARAMS), key=_param_order):
        value = params[key]
        base, seconds_per_unit = _split_unit(key)
        shown = _PARAM_NAMES.get(base, base.replace("_", " "))
        if seconds_per_unit and isinstance(value, (int, float)) and not isinstance(value, bool):
            parts.append(f"{shown} {_human_duration(float(value) * seconds_per_unit)}")
        elif isinstance(value, (dict, list)):
            parts.append(f"{shown} {json.dumps(value, sort_keys=True)}")
        else:
            parts.append(f"{shown} {value}")
    return ", ".join(parts)


def _split_unit(key: str) -> tuple[str, int | None]:
    match = re.fullmatch(r"(.+?)_(s|sec|secs|seconds|m|min|mins|minutes|h|hr|hrs|hours)", key)
    if match:
        return match.group(1), _UNIT_SECONDS[match.group(2)]
    return key, None


def _param_order(key: str) -> tuple[int, str]:
    # SOP before SPH before gap, as in the literature; the rest alphabetically after them.
    base = _split_unit(key)[0]
    order = {"sop": 0, "sph": 1, "gap": 2, "interictal_gap": 2}
    return order.get(base, 3), key


def _human_duration(seconds: float) -> str:
    if seconds == 0:
        return "0"
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{_fmt_number(seconds / size)} {unit}"
    return f"{_fmt_number(seconds)} s"


def safe_name(text: str) -> str:
    """File-name-safe, collision-free version of ``text`` (stable across builds)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "x"
    if cleaned == text:
        return text
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return f"{cleaned[:60]}-{digest}"


def metric_stats(patient_metrics: pd.DataFrame, summary: pd.DataFrame | None) -> dict[str, Stat]:
    """Mean, std and 95% CI over patients for each metric.

    The summary the harness stored wins; metrics it lacks (or a missing summary, as for a
    reported set loaded without one) are summarised here from the per-patient table with the
    same function the harness uses.
    """
    summary = summary if summary is not None else pd.DataFrame()
    missing = [c for c in patient_metrics.columns if c not in summary.index]
    if missing:
        extra = summarize(patient_metrics[missing])
        summary = pd.concat([summary, extra]) if len(summary) else extra
    out: dict[str, Stat] = {}
    for metric, row in summary.iterrows():
        def get(k: str) -> float:
            return float(row[k]) if k in row and pd.notna(row[k]) else math.nan

        n = int(row["n"]) if "n" in row and pd.notna(row["n"]) else 0
        out[str(metric)] = Stat(get("mean"), get("std"), get("ci_low"), get("ci_high"), n)
    return out


def ordered_metrics(present: set[str]) -> list[str]:
    """Known metrics in their canonical order, then any extra metric names alphabetically."""
    known = [m for m in METRICS if m in present]
    return known + sorted(present - set(METRICS))


def choose_primary(entries: list[Entry], metrics: list[str]) -> str:
    """Default ranking metric: balanced accuracy if every entry has it, else accuracy, else the
    metric most entries share (so reported sets with fewer metrics are still ranked and tested)."""
    scored = [e for e in entries if e.stats]
    if not metrics:
        return ""

    def coverage(metric: str) -> int:
        return sum(_finite(e.stats.get(metric, _NO_STAT).mean) for e in scored)

    for preferred in ("balanced_accuracy", "accuracy"):
        if preferred in metrics and coverage(preferred) == len(scored):
            return preferred
    return max(metrics, key=lambda m: (coverage(m), -metrics.index(m)))


_NO_STAT = Stat(math.nan, math.nan, math.nan, math.nan, 0)


def _finite(x: float) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def better(metric: str, a: float, b: float) -> bool:
    """Whether mean ``a`` beats mean ``b`` on ``metric``."""
    return a < b if metric in LOWER_IS_BETTER else a > b


def _series(entry: Entry, metric: str) -> pd.Series:
    if metric not in entry.patient_metrics.columns:
        return pd.Series(dtype=float)
    s = pd.to_numeric(entry.patient_metrics[metric], errors="coerce").dropna()
    s.index = s.index.map(str)
    return s


def compare(board: Leaderboard) -> None:
    """Fill ``board.best`` and ``board.comparisons`` for every metric."""
    for metric in board.metrics:
        ranked = [e for e in board.entries if _finite(e.stats.get(metric, _NO_STAT).mean)]
        if not ranked:
            continue
        best = ranked[0]
        for e in ranked[1:]:
            if better(metric, e.stats[metric].mean, best.stats[metric].mean):
                best = e
        board.best[metric] = best.run.run_id
        per_row: dict[str, dict[str, Comparison]] = {}
        for entry in board.entries:
            refs = [("best", best)] if entry is not best else []
            refs += [(b.run.run_id, b) for b in board.baselines if b is not entry]
            raw = {}
            for ref_id, ref in refs:
                a, b = _series(entry, metric), _series(ref, metric)
                if a.empty or b.empty:
                    continue
                raw[ref_id] = paired_tests(a, b)
            p_values = [float(r["p_value"]) for r in raw.values()]
            # Untestable comparisons (fewer than two shared patients) stay NaN outside the family.
            adjusted = holm(p_values) if p_values else []
            per_row[entry.run.run_id] = {
                ref_id: Comparison(
                    p_raw=p,
                    p_holm=adj,
                    n=int(r["n"]),
                    wilcoxon_p=float(r["wilcoxon_p"]),
                    mean_row=float(r["mean_a"]),
                    mean_ref=float(r["mean_b"]),
                )
                for (ref_id, r), p, adj in zip(raw.items(), p_values, adjusted)
            }
        board.comparisons[metric] = per_row


def group_key(run) -> tuple[str, str, str, str]:
    """Runs sharing this key belong to the same leaderboard."""
    params = json.dumps(run.task_params or {}, sort_keys=True, default=str)
    return (run.dataset, run.task, run.protocol, params)


def _agrees(reported_run, key: tuple[str, str, str, str]) -> bool:
    dataset, task, protocol, params_json = key
    if (reported_run.dataset, reported_run.task, reported_run.protocol) != (dataset, task, protocol):
        return False
    params = json.loads(params_json)
    stated = json.loads(json.dumps(reported_run.task_params or {}, sort_keys=True, default=str))
    return all(k in params and params[k] == v for k, v in stated.items())


def build_leaderboards(entries: list[Entry]) -> list[Leaderboard]:
    """Group ``entries`` into leaderboards, rank them and run the paired comparisons."""
    groups: dict[tuple[str, str, str, str], list[Entry]] = {}
    reported = [e for e in entries if e.run.kind == "reported"]
    for entry in entries:
        if entry.run.kind != "reported":
            groups.setdefault(group_key(entry.run), []).append(entry)
    for entry in reported:
        # A paper rarely states every parameter we record (e.g. the placement seed), so a reported
        # set sits beside every group whose parameters agree with all those it does state.
        homes = [key for key in groups if _agrees(entry.run, key)]
        for key in homes or [group_key(entry.run)]:
            groups.setdefault(key, []).append(entry)
    boards = []
    for key in sorted(groups):
        members = groups[key]
        dataset, task, protocol, params_json = key
        present = {m for e in members for m in e.stats}
        metrics = ordered_metrics(present)
        slug_text = "_".join([dataset, task, protocol])
        digest = hashlib.sha1("\x1f".join(key).encode("utf-8")).hexdigest()[:8]
        board = Leaderboard(
            dataset=dataset,
            task=task,
            protocol=protocol,
            task_params=json.loads(params_json),
            slug=f"{re.sub(r'[^A-Za-z0-9._-]+', '_', slug_text)[:80]}-{digest}",
            entries=members,
            metrics=metrics,
            primary="",
            baselines=sorted(
                (e for e in members if e.is_baseline), key=lambda e: (e.run.method, e.run.run_id)
            ),
        )
        board.primary = choose_primary(members, metrics)
        board.entries = _rank(members, board.primary)
        compare(board)
        boards.append(board)
    return boards


def _rank(entries: list[Entry], metric: str) -> list[Entry]:
    """Initial row order: best first on ``metric``, entries without it last, ties by run id."""

    def key(e: Entry):
        mean = e.stats.get(metric, _NO_STAT).mean
        if not _finite(mean):
            return (1, 0.0, e.run.run_id)
        return (0, mean if metric in LOWER_IS_BETTER else -mean, e.run.run_id)

    return sorted(entries, key=key)
