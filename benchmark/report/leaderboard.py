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

import dataclasses
import functools
import hashlib
import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from benchmark.metrics import (
    EVENT_METRICS,
    LOWER_IS_BETTER,
    METRICS,
    MULTICLASS_METRICS,
    SAMPLE_METRICS,
    VIDEO_METRICS,
    summarize,
)
from benchmark.protocols import all_protocols
from benchmark.ranking import VIDEO_CLASS_BALANCED, video_class_balanced
from benchmark.ranking import choose_primary as _choose_primary
from benchmark.ranking import ranking_metric as ranking_metric  # where the boards' callers look for it
from benchmark.stats import holm, paired_tests
from benchmark.store import on_synthetic_data, run_isolation
from benchmark.tasks import find_task
from benchmark.weights import budget_label

log = logging.getLogger(__name__)

# Methods shipped as baselines; a run of another of the suite's methods declaring itself one carries
# provenance["is_baseline"] (the runner sets it only for the suite's own methods).
BASELINE_METHODS = frozenset({"chance", "bandpower_logreg", "bandpower_rf", "eegnet", "shallow_convnet"})

# Unit suffixes of task-parameter names, as seconds per unit.
_UNIT_SECONDS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hours": 3600,
}
# Task-parameter entries computed from the others; showing them would repeat them.
_DERIVED_PARAMS = frozenset({"label", "slug"})
# Abbreviations readers of the seizure-prediction literature expect, by leading name part.
_PARAM_NAMES = {"sop": "SOP", "sph": "SPH", "gap": "gap", "interictal_gap": "gap"}
# Parameters that define what is being predicted; a reference from other data must agree on them
# (other settings, such as the inter-ictal gap, may differ and are shown beside the reference).
# "classes": the class order fixes the positive class, so F1 and sensitivity change meaning with it.
_DEFINING_PARAMS = frozenset({"sop", "sph", "target", "classes"})


@dataclass(frozen=True)
class Stat:
    """Mean and spread of one metric over patients."""

    mean: float
    std: float
    ci_low: float
    ci_high: float
    n: int


def task_phrase(task: str) -> str:
    """What results of ``task`` claim to measure, in the words synthetic-data banners deny."""
    known = find_task(task)
    return known.metadata.claim if known and known.metadata.claim else f"{task} on real recordings"


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
    # metric -> how it was derived from the stored metrics (see with_derived_metrics)
    derived: dict[str, str] = field(default_factory=dict)

    @property
    def ranked(self) -> bool:
        """Whether the set takes part in ranking and tests: a run in which no fold succeeded does not."""
        return self.run.status != "failed"

    @property
    def isolation(self) -> str:
        return run_isolation(self.run)

    @property
    def budget_label(self) -> str:
        """The budget as shown: never ``paper`` for a paper run whose backbone was left at random init."""
        return budget_label(self.run.budget, (self.run.provenance or {}).get("weights_source"))

    @property
    def weights_source(self) -> str:
        """Where the run's initial weights came from (a file and its SHA-256, or random init); "" if unknown."""
        value = (self.run.provenance or {}).get("weights_source")
        return value if isinstance(value, str) else ""

    @property
    def name(self) -> str:
        """Name shown for the result set (display name, else method)."""
        return self.run.display_name or self.run.method

    @property
    def n_patients(self) -> int:
        return int(len(self.patient_metrics.index))

    @property
    def level(self) -> str:
        """``"patient"`` (per-patient results), or ``"dataset"`` for a paper's pooled figures."""
        return str((self.run.provenance or {}).get("level", "patient"))

    @property
    def role(self) -> str:
        """For a reported set: ``"proposed"``, ``"comparison"``, ``"ablation"`` or ``""``."""
        return str((self.run.provenance or {}).get("role", ""))

    @property
    def label(self) -> str:
        """Name of the row on a board: the method a reported set evaluated ("Pre-train + ResNet-LSTM"),
        its set name (:attr:`name`, "Lee2024 Table 3 (SOP 10)") going with the citation; a run's name."""
        if self.run.kind == "reported" and self.run.method and self.run.method != "reported":
            return self.run.method
        return self.name

    @property
    def doi(self) -> str:
        """The DOI the set's citation (``doi:...``, as :mod:`benchmark.bibliography` writes it) or
        source (a ``doi.org`` address) names; ``""`` when neither does."""
        for pattern, text in ((_DOI_IN_CITATION, self.run.citation), (_DOI_IN_URL, self.run.source)):
            found = pattern.search(text or "")
            if found:
                return found.group(1).rstrip(".,;)")
        return ""

    @property
    def citation_text(self) -> str:
        """The citation without its ``doi:`` mention, which the report writes as a link instead."""
        return " ".join(_DOI_MENTION.sub(" ", self.run.citation or "").split()).strip(" ;,")

    @property
    def source_text(self) -> str:
        """Where in the paper (``"Table 3"``), without a ``doi.org`` address the DOI link gives."""
        return _DOI_ADDRESS.sub(" ", self.run.source or "").strip(" ;,")


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
    # Results reported in papers on the real dataset this (synthetic) dataset stands in for: shown
    # for orientation only, never ranked or tested, since their patients are not ours.
    references: list[Entry] = field(default_factory=list)
    reference_dataset: str = ""
    # Reported sets a paper gives only as dataset-level figures (no patients): shown as printed,
    # never ranked or tested.
    paper_figures: list[Entry] = field(default_factory=list)
    # run_id -> rank on the primary metric (1 = best; equal means share a rank); unranked sets absent
    ranks: dict[str, int] = field(default_factory=dict)

    @property
    def shown_metrics(self) -> list[str]:
        """Metric columns in the order shown: the primary metric first (it and its p-values must be
        visible without scrolling), then the others in canonical order."""
        return [m for m in self.metrics if m == self.primary] + [m for m in self.metrics if m != self.primary]

    @property
    def best_entry(self) -> Entry | None:
        """The best entry on the primary metric (never a baseline), or ``None``."""
        best = self.best.get(self.primary)
        return next((e for e in self.entries if e.run.run_id == best), None)

    @property
    def baselines_above_best(self) -> list[Entry]:
        """Baselines whose mean on the primary metric beats the best method's: no method shows
        skill beyond them here, whatever "best" says."""
        best = self.best_entry
        if best is None:
            return []
        m = self.primary
        top = best.stats[m].mean
        return [b for b in self.baselines if _finite(b.stats.get(m, _NO_STAT).mean) and better(m, b.stats[m].mean, top)]

    @property
    def leaky(self) -> str:
        """The protocol's one-line description when it is leaky (folds share recordings), else ``""``."""
        protocol = next((p for p in all_protocols() if p.name == self.protocol), None)  # else a paper's own
        return protocol.description if protocol is not None and protocol.leaky else ""

    @property
    def n_runs(self) -> int:
        """Runs on the board; with :attr:`n_reported`, every result set it lists."""
        return sum(e.run.kind != "reported" for e in self.entries)

    @property
    def cited(self) -> list[Entry]:
        """Reported rows of the ranked table, in row order: their footnotes are numbered so."""
        return [e for e in self.entries if e.run.kind == "reported"]

    @property
    def cite_numbers(self) -> dict[str, int]:
        """``{run_id: footnote number}`` of :attr:`cited`."""
        return {e.run.run_id: i for i, e in enumerate(self.cited, start=1)}

    @property
    def paper_figure_groups(self) -> list[tuple[str, list[Entry]]]:
        """``(role, entries)`` with the papers' own methods first, then comparisons, ablations."""
        order = {"proposed": 0, "": 1, "comparison": 2, "ablation": 3}
        roles = sorted({e.role for e in self.paper_figures}, key=lambda r: (order.get(r, 4), r))
        return [(r, [e for e in self.paper_figures if e.role == r]) for r in roles]

    @property
    def efficiency(self) -> list[tuple[Entry, dict]]:
        """Entries whose runs measured model size, FLOPs and latency per window."""
        keys = (
            "window_shape",
            "n_params_total",
            "n_params_eeg_encoder",
            "flops_per_window",
            "model_size_mb",
            "inference_ms_per_window",
        )
        out = []
        for e in self.entries:
            eff = (e.run.provenance or {}).get("efficiency")
            if isinstance(eff, dict):
                out.append((e, {k: eff.get(k) for k in keys} | {"window_shape": eff.get("window_shape") or []}))
        return out

    @property
    def paper_figure_metrics(self) -> list[str]:
        return ordered_metrics({m for e in self.paper_figures for m in e.stats if ":" not in m})

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
            (b.run.run_id, b.name if names.count(b.name) == 1 else f"{b.name} [{b.run.run_id}]") for b in self.baselines
        ]

    @property
    def any_synthetic(self) -> bool:
        return any(e.run.synthetic for e in self.entries)

    @property
    def all_synthetic(self) -> bool:
        return bool(self.entries) and all(e.run.synthetic for e in self.entries)

    @property
    def reference_metrics(self) -> list[str]:
        """Metrics of the reference sets, in canonical order (per-class ones left to run pages)."""
        return ordered_metrics({m for e in self.references for m in e.stats if ":" not in m})

    @property
    def missing_baselines(self) -> list[str]:
        """Registered baselines for this board's task that have no usable run on it (none for a
        dataset this suite cannot load, such as a paper's private corpus, or a protocol ``run`` does
        not have, such as the ``external`` one of scored hypothesis folders)."""
        from benchmark.datasets import DATASETS

        if self.dataset not in DATASETS or self.protocol not in {p.name for p in all_protocols()}:
            return []
        done = {e.run.method for e in self.entries if e.run.kind == "run" and e.is_baseline and e.ranked}
        return [name for name in compatible_baselines(self.task) if name not in done]

    @property
    def baselines_command(self) -> str:
        """The command that adds the missing baselines: a run's own command with ``--with-baselines``
        (same data, task settings, protocol and seed), else one built from the board's settings."""
        runs = sorted(
            (e.run for e in self.entries if e.run.kind == "run"),
            key=lambda r: (r.created_at or "", r.run_id),
            reverse=True,
        )
        for run in runs:
            command = str((run.provenance or {}).get("command") or "")
            words = command.split()
            if len(words) > 1 and words[1] == "run":
                return " ".join(["seizure-bench", *_without_baselines_flag(words[1:]), "--with-baselines"])
        missing = self.missing_baselines
        words = [
            "seizure-bench",
            "run",
            "--method",
            missing[0] if missing else "chance",
            "--dataset",
            self.dataset,
            "--task",
            self.task,
            "--protocol",
            self.protocol,
        ]
        if not self.all_synthetic and "synthetic" not in self.dataset:
            words += ["--data-dir", "DIR"]
        flags = _run_flags()
        for key, value in sorted(self.task_params.items()):
            flag = flags.get(key)
            if flag and value is not None:
                words += [
                    flag,
                    ",".join(map(str, value))
                    if isinstance(value, (list, tuple))
                    else f"{value:g}"
                    if isinstance(value, float)
                    else str(value),
                ]
        return " ".join([*words, "--with-baselines"])

    @property
    def n_reported(self) -> int:
        return sum(e.run.kind == "reported" for e in self.entries) + len(self.paper_figures)


_DOI_IN_CITATION = re.compile(r"\bdoi:\s*(10\.\d{4,9}/\S+)", re.IGNORECASE)
_DOI_IN_URL = re.compile(r"doi\.org/(10\.\d{4,9}/[^\s,;]+)", re.IGNORECASE)
_DOI_MENTION = re.compile(r"\s*\bdoi:\s*10\.\d{4,9}/\S+?(?:[.;,]?(?=\s|$))", re.IGNORECASE)
_DOI_ADDRESS = re.compile(r"\s*https?://(?:dx\.)?doi\.org/10\.\d{4,9}/[^\s,;]+[,;]?", re.IGNORECASE)


# Task parameter -> the `seizure-bench run` option that sets it.
# Flags of a run's recorded parameters that are not task options (those come from the tasks).
_HARNESS_FLAGS = {"seed": "--seed", "window_s": "--window", "stride_s": "--stride", "ictal_stride_s": "--ictal-stride"}


def _run_flags() -> dict[str, str]:
    """``{recorded parameter: run flag}``: the harness's, and every registered task's options."""
    from benchmark.tasks import all_tasks

    return {**_HARNESS_FLAGS, **{o.param: o.flag for t in all_tasks() for o in t.options}}


def _without_baselines_flag(words: list[str]) -> list[str]:
    """A ``run`` command's words without ``--with-baselines`` and its value (``--with-baselines
    NAMES``, ``--with-baselines=NAMES``; a following option is not its value)."""
    out: list[str] = []
    skip = False
    for w in words:
        if skip:
            skip = False
            if not w.startswith("-"):
                continue
        if w == "--with-baselines":
            skip = True
            continue
        if w.startswith("--with-baselines="):
            continue
        out.append(w)
    return out


@functools.cache
def compatible_baselines(task: str) -> tuple[str, ...]:
    """Registered baseline methods (``MethodMeta.is_baseline``) that support ``task``, by name: the
    suite's own and any registered by code, never an installed plug-in (listing them would import
    every plug-in's code)."""
    from benchmark.adapters import REGISTRY

    try:
        names = REGISTRY.in_tree_names()
    except Exception as exc:  # a broken install must not stop the report; the hint is then omitted
        log.warning("could not list the registered baselines: %s", exc)
        return ()
    return tuple(
        n for n in names if REGISTRY.shipped(n) and REGISTRY.meta(n).is_baseline and task in REGISTRY.meta(n).tasks
    )


def is_baseline(run) -> bool:
    """Whether ``run`` is a baseline that every other entry is tested against: only a run made here
    (a scored hypothesis folder or a paper's table named like a baseline is not one)."""
    if run.kind != "run":
        return False
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
    shown_keys = (k for k, v in (params or {}).items() if k not in _DERIVED_PARAMS and v is not None)
    for key in sorted(shown_keys, key=_param_order):
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


_CANONICAL = tuple(dict.fromkeys([*VIDEO_METRICS, *METRICS, *MULTICLASS_METRICS, *EVENT_METRICS, *SAMPLE_METRICS]))


def ordered_metrics(present: set[str]) -> list[str]:
    """Known metrics in their canonical order, then any extra metric names alphabetically."""
    known = [m for m in _CANONICAL if m in present]
    return known + sorted(present - set(_CANONICAL))


def choose_primary(entries: list[Entry], metrics: list[str], task: str = "") -> str:
    """Default ranking metric of a board: the one ranking rule (:func:`benchmark.ranking.choose_primary`)
    over its entries' means."""
    return _choose_primary(task, metrics, [{m: s.mean for m, s in e.stats.items()} for e in entries])


def with_derived_metrics(entry: Entry, task: str) -> Entry:
    """``entry`` with the ranking metrics its stored metrics determine exactly, for boards.

    A two-class EEG set without balanced accuracy (a paper's table of sensitivity and specificity)
    gets it per patient as (sensitivity + specificity) / 2, its definition; a video set gets
    :data:`VIDEO_CLASS_BALANCED`. The stored entry is left as it is (run pages show what was stored).
    """
    pm, stats = entry.patient_metrics, dict(entry.stats)
    derived: dict[str, str] = {}
    known = find_task(task)
    meta = known.metadata if known else None
    two_fixed = meta is not None and meta.classes is not None and len(meta.classes) == 2
    if (
        two_fixed
        and "balanced_accuracy" in meta.ranking_metrics
        and "balanced_accuracy" not in pm.columns
        and {"sensitivity", "specificity"} <= set(pm.columns)
    ):
        pm = pm.copy()
        pm["balanced_accuracy"] = (
            pd.to_numeric(pm["sensitivity"], errors="coerce") + pd.to_numeric(pm["specificity"], errors="coerce")
        ) / 2
        stats.update(metric_stats(pm[["balanced_accuracy"]], None))
        derived["balanced_accuracy"] = "(sensitivity + specificity) / 2 per patient, from the stored values"
    if meta is not None and VIDEO_CLASS_BALANCED in meta.ranking_metrics and VIDEO_CLASS_BALANCED not in stats:
        value = video_class_balanced(task, {m: s.mean for m, s in stats.items()})
        if value is not None:
            sens, spec = stats["video_sensitivity"], stats["video_specificity"]
            stats[VIDEO_CLASS_BALANCED] = Stat(value, math.nan, math.nan, math.nan, max(sens.n, spec.n))
            derived[VIDEO_CLASS_BALANCED] = (
                "mean over patients of video sensitivity and of video specificity, "
                "averaged (no per-patient value, so no paired test)"
            )
    if not derived:
        return entry
    return dataclasses.replace(entry, patient_metrics=pm, stats=stats, derived={**entry.derived, **derived})


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
        # A failed run (no fold succeeded) is listed with its status but never ranked or tested;
        # a baseline (chance, ...) is a reference the rows are tested against, never the "best".
        ranked = [e for e in board.entries if e.ranked and _finite(e.stats.get(metric, _NO_STAT).mean)]
        if not ranked:
            continue
        contenders = [e for e in ranked if not e.is_baseline]
        best = None
        for e in contenders:
            if best is None or better(metric, e.stats[metric].mean, best.stats[metric].mean):
                best = e
        if best is not None:
            board.best[metric] = best.run.run_id
        per_row: dict[str, dict[str, Comparison]] = {}
        for entry in (e for e in board.entries if e.ranked):
            refs = [("best", best)] if best is not None and entry is not best else []
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


def group_key(run) -> tuple[str, str, str, str, str]:
    """Runs sharing this key belong to the same leaderboard (see :func:`differences`)."""
    params = json.dumps(run.task_params or {}, sort_keys=True, default=str)
    return (run.dataset, run.task, run.protocol, params, "synthetic" if on_synthetic_data(run) else "real")


_NOT_STATED = object()
# Result sets made elsewhere, which state few of a run's settings: a paper's reported table, and
# hypothesis files scored here (benchmark.szcore). Each joins every board of runs it may be compared with.
_JOINING_KINDS = ("reported", "scored")


def differences(a, b) -> list[str]:
    """What keeps two result sets from being ranked or tested together; ``[]`` when they may be.

    The one rule for both the leaderboards and ``seizure-bench compare``: the same data (synthetic
    and real recordings never meet, even under one dataset name), dataset, task, protocol, task
    settings (SOP, SPH, gap, window, types, target, ...) and per-patient results. A paper rarely
    states every setting a run records, so a reported set's unstated settings are not differences.
    Each item names what differs and how, with ``A`` for ``a`` and ``B`` for ``b``.
    """

    def kind(run) -> str:
        return "synthetic" if on_synthetic_data(run) else "real"

    out = []
    if on_synthetic_data(a) != on_synthetic_data(b):
        out.append(f"data: A is on {kind(a)} {a.dataset}, B on {kind(b)} {b.dataset}")
    elif a.dataset != b.dataset:
        out.append(f"dataset: A is on {a.dataset}, B on {b.dataset}")
    for name in ("task", "protocol"):
        va, vb = getattr(a, name), getattr(b, name)
        if va != vb:
            out.append(f"{name}: A is {va}, B is {vb}")
    pa, pb = dict(a.task_params or {}), dict(b.task_params or {})
    for key in sorted((set(pa) | set(pb)) - _DERIVED_PARAMS, key=_param_order):
        va, vb = pa.get(key, _NOT_STATED), pb.get(key, _NOT_STATED)
        stated_a = not (va is _NOT_STATED or (va is None and a.kind == "reported"))
        stated_b = not (vb is _NOT_STATED or (vb is None and b.kind == "reported"))
        if not stated_a and not stated_b:
            continue
        if not stated_a or not stated_b:
            missing, side = ("A", a) if not stated_a else ("B", b)
            if side.kind in _JOINING_KINDS:
                continue  # the paper (or the tool that wrote scored hypotheses) does not say
            other = "B" if missing == "A" else "A"
            value = vb if missing == "A" else va
            out.append(
                f"task setting {key}: {other} has {task_params_label({key: value}) or value}, {missing} does not set it"
            )
        elif not _same_value(va, vb):
            out.append(
                f"task setting {key}: A has {task_params_label({key: va})}, B has {task_params_label({key: vb})}"
            )
    la, lb = (str((r.provenance or {}).get("level", "patient")) for r in (a, b))
    if la != lb:
        out.append(f"level: A has {la}-level results, B {lb}-level ones (only per-patient results are paired)")
    return out


def _defining(params: dict) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if _split_unit(k)[0] in _DEFINING_PARAMS}


def _is_reference_for(reported_run, dataset: str, task: str, protocol: str, params: dict) -> bool:
    """Whether a reported set on ``dataset`` (the real data) may be shown beside a board of its
    stand-in: same task and protocol, and equal values for the defining parameters both state."""
    if (reported_run.dataset, reported_run.task, reported_run.protocol) != (dataset, task, protocol):
        return False
    mine, theirs = _defining(params), _defining(reported_run.task_params or {})
    return all(_same_value(mine[k], v) for k, v in theirs.items() if k in mine)


def _same_value(a, b) -> bool:
    try:
        return math.isclose(float(a), float(b))
    except (TypeError, ValueError):
        return a == b


def _as_patient_level(run, synthetic: bool | None = None):
    prov = {**(run.provenance or {}), "level": "patient"}
    return dataclasses.replace(run, provenance=prov, synthetic=run.synthetic if synthetic is None else synthetic)


def build_leaderboards(
    entries: list[Entry], stand_ins: Mapping[str, str | tuple[str, ...]] | None = None
) -> list[Leaderboard]:
    """Group ``entries`` into leaderboards, rank them and run the paired comparisons.

    Parameters
    ----------
    entries
        Every result set (runs and reported sets).
    stand_ins
        ``{synthetic dataset: real dataset(s) it imitates}``. A board on a synthetic dataset lists, as
        :attr:`Leaderboard.references`, the reported sets on its real counterparts with the same
        task, protocol and defining parameters (SOP, SPH, video label column). They are not ranked
        or tested.
    """
    stand_ins = dict(stand_ins or {})
    reported = [e for e in entries if e.run.kind == "reported"]
    groups = _group_entries(entries, reported)
    boards = []
    for key in sorted(groups):
        dataset, task, protocol, params_json, data_kind = key
        everything = [with_derived_metrics(e, task) for e in groups[key]]
        members = [e for e in everything if e.level != "dataset"]
        figures = [e for e in everything if e.level == "dataset"]
        # Per-class metrics ("recall:FNSZ") belong on run pages; a board of every class is unreadable.
        present = {m for e in members for m in e.stats if ":" not in m}
        metrics = ordered_metrics(present)
        slug_text = "_".join([dataset, task, protocol])
        # Real boards keep their historical slug; a synthetic one differs from a real one of the same name.
        digest = hashlib.sha1("\x1f".join(key if data_kind == "synthetic" else key[:4]).encode("utf-8")).hexdigest()[:8]
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
                (e for e in members if e.is_baseline and e.ranked), key=lambda e: (e.run.method, e.run.run_id)
            ),
        )
        board.paper_figures = sorted(figures, key=lambda e: (e.name, e.run.run_id))
        board.primary = choose_primary(members, metrics, task)
        board.entries = _rank(members, board.primary)
        board.ranks = rank_numbers(board.entries, board.primary)
        compare(board)
        reals = stand_ins.get(dataset) or ()
        reals = (reals,) if isinstance(reals, str) else tuple(reals)
        # Only each paper's own method(s): its comparison and ablation rows stay on the real board.
        board.references = sorted(
            (
                e
                for e in reported
                if e.role in ("", "proposed")
                and any(_is_reference_for(e.run, real, task, protocol, board.task_params) for real in reals)
            ),
            key=lambda e: (e.name, e.run.run_id),
        )
        if reals:
            shown = [r for r in reals if any(e.run.dataset == r for e in board.references)]
            board.reference_dataset = " / ".join(shown or reals)
        boards.append(board)
    return boards


def _group_entries(entries: list[Entry], reported: list[Entry]) -> dict[tuple[str, str, str, str, str], list[Entry]]:
    """Entries by board key; a reported set joins every group of runs it may be compared with."""
    groups: dict[tuple[str, str, str, str, str], list[Entry]] = {}
    for entry in entries:
        if entry.run.kind not in _JOINING_KINDS:
            groups.setdefault(group_key(entry.run), []).append(entry)
    run_keys = list(groups)
    for entry in [*reported, *(e for e in entries if e.run.kind == "scored")]:
        # A paper rarely states every parameter we record (e.g. the placement seed), so a reported
        # set sits beside every group of runs it may be compared with (one rule: differences()).
        # Dataset-level figures are shown beside boards as printed and never tested, so neither their
        # level nor their source's data (real or synthetic) keeps them off a board: they are never
        # paired with our patients.
        figures_only = entry.level == "dataset"
        homes = [
            key
            for key in run_keys
            if not differences(
                _as_patient_level(entry.run, synthetic=on_synthetic_data(groups[key][0].run) if figures_only else None),
                groups[key][0].run,
            )
        ]
        for key in homes or [group_key(entry.run)]:
            groups.setdefault(key, []).append(entry)
    return groups


def rank_numbers(entries: list[Entry], metric: str) -> dict[str, int]:
    """``{run_id: rank}`` of ``entries`` already in :func:`_rank` order: 1 for the best mean on
    ``metric``, equal means sharing the better rank (1, 2, 2, 4); failed sets and sets without the
    metric have none."""
    ranks: dict[str, int] = {}
    previous, rank = None, 0
    for position, e in enumerate(e for e in entries if e.ranked and _finite(e.stats.get(metric, _NO_STAT).mean)):
        mean = e.stats[metric].mean
        if previous is None or mean != previous:
            rank = position + 1
        ranks[e.run.run_id], previous = rank, mean
    return ranks


def _rank(entries: list[Entry], metric: str) -> list[Entry]:
    """Initial row order: best first on ``metric``, entries without it last, ties by run id."""

    def key(e: Entry):
        mean = e.stats.get(metric, _NO_STAT).mean
        if not _finite(mean) or not e.ranked:
            return (1, 0.0, e.run.run_id)
        return (0, mean if metric in LOWER_IS_BETTER else -mean, e.run.run_id)

    return sorted(entries, key=key)


# -- random vs patient-wise protocols --------------------------------------------------------------
def _patient_wise() -> tuple[str, ...]:
    """Protocols whose folds keep each unit's windows on one side (not window-level), registered now."""
    return tuple(p.name for p in all_protocols() if not p.window_level)


@dataclass
class ProtocolGap:
    """One method's primary metric under each protocol of the same dataset, task and parameters.

    ``gap`` is the score under ``random_protocol`` (``kfold5-random``, or DistilCLIP-EEG's own
    evaluation ``kfold5-random-balanced``: windows of one recording on both sides) minus the mean
    over the patient-wise protocols present: how much a leaky split flatters the method.
    """

    dataset: str
    task: str
    params_label: str
    metric: str
    protocols: list[str]
    # (method, {protocol: (Stat, board slug)}, gap or NaN)
    rows: list[tuple[str, dict[str, tuple[Stat, str]], float]]
    synthetic: bool
    random_protocol: str = "kfold5-random"


def protocol_gaps(boards: list[Leaderboard]) -> list[ProtocolGap]:
    """For each dataset/task/parameters and each window-level (random) protocol with runs
    beside a patient-wise protocol, the per-method scores side by side: one table per random
    protocol, so each gap compares like with like (the DistilCLIP-EEG paper's own evaluation is
    ``kfold5-random-balanced``; its authors name the missing subject-independent test as a
    limitation)."""
    groups: dict[tuple[str, str, str], list[Leaderboard]] = {}
    for board in boards:
        params = {k: v for k, v in board.task_params.items() if k not in _DERIVED_PARAMS}
        key = (board.dataset, board.task, json.dumps(params, sort_keys=True, default=str))
        groups.setdefault(key, []).append(board)
    out = []
    for (dataset, task, _), members in sorted(groups.items()):
        runs = {b.protocol: [e for e in b.entries if e.run.kind == "run"] for b in members}
        for random_protocol in (p.name for p in all_protocols() if p.window_level):
            gap = _protocol_gap(dataset, task, members, runs, random_protocol)
            if gap is not None:
                out.append(gap)
    return out


def _protocol_gap(dataset: str, task: str, members: list[Leaderboard], runs: dict, random_protocol: str):
    """The :class:`ProtocolGap` of one random protocol against the patient-wise ones, or ``None``."""
    protocols = [p for p in (random_protocol, *_patient_wise()) if runs.get(p)]
    if random_protocol not in protocols or len(protocols) < 2:
        return None
    metric = next(
        (
            m
            for m in ("balanced_accuracy", "accuracy", "roc_auc")
            if all(any(m in e.stats for e in runs[p]) for p in protocols)
        ),
        "",
    )
    if not metric:
        return None
    slug = {b.protocol: b.slug for b in members}
    methods = sorted({e.run.method for p in protocols for e in runs[p]})
    rows = []
    for method in methods:
        cells: dict[str, tuple[Stat, str]] = {}
        for p in protocols:
            latest = [e for e in runs[p] if e.run.method == method and metric in e.stats]
            if latest:
                e = max(latest, key=lambda e: (e.run.created_at or "", e.run.run_id))
                cells[p] = (e.stats[metric], slug[p])
        wise = [cells[p][0].mean for p in _patient_wise() if p in cells and _finite(cells[p][0].mean)]
        random_ = cells.get(random_protocol)
        gap = random_[0].mean - float(sum(wise) / len(wise)) if random_ and wise else math.nan
        rows.append((method, cells, gap))
    return ProtocolGap(
        dataset,
        task,
        members[0].params_label,
        metric,
        protocols,
        rows,
        any(b.any_synthetic for b in members),
        random_protocol,
    )
