"""What a run would cost, from the dataset index alone: hours, windows, cache size, folds, steps.

:func:`plan_run` takes the same :class:`~benchmark.runner.RunConfig` as a run and answers, before
anything is computed, how much EEG (or video) the task uses, how many windows the harness would cut
and cache, how big that cache is on disk, how many folds the protocol gives and how many optimiser
steps each fold's training would take at the chosen budget. No EDF or video file is opened, no split
file and no cache entry is written: the split is the committed (or previously cached) frozen one
when it exists, else built in memory the way a run would build it.

Every figure comes from the harness's own functions (task labels, split, :func:`window_table`, the
feature shapes), so a plan cannot drift from what a run does. A method may add lines of its own
with an optional ``plan_notes(window_s, stride_s) -> list[str]`` method (the ResNet-LSTM methods say
how many windows their LSTM context of ``lstm_context_s`` seconds holds at the run's stride).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from benchmark import features
from benchmark.datasets import DATASETS, load_dataset
from benchmark.errors import BenchmarkError
from benchmark.fold_windows import (
    balance,
    balance_quota,
    chunk_assignment,
    common_sfreq,
    hold_out_units,
    rows_by_patient,
    select_units,
)
from benchmark.index import RecordingIndex
from benchmark.runner import RunConfig, Runner, contextual_table, fold_seed, method_for_metadata
from benchmark.splits import SplitSpec
from benchmark.windows import entry_bytes, stored_dtype, video_params, window_table

if TYPE_CHECKING:
    from benchmark.plan_timing import TimeEstimate


@dataclass(frozen=True)
class _Stage:
    """Budget keys of one training stage: epochs, batch size and per-epoch caps, first key present wins."""

    name: str
    epochs: str
    batch: tuple[str, ...]
    window_cap: tuple[str, ...] = ()
    batch_cap: str | None = None


# Training stages the in-tree methods declare in their budgets. A stage is counted only when its
# epochs key and one of its batch-size keys are in the budget.
STAGES = (
    _Stage(
        "pretrain",
        "pretrain_epochs",
        ("pretrain_batch_size", "batch_size"),
        ("max_pretrain_clips_per_epoch", "max_windows_per_epoch"),
        "max_pretrain_batches_per_epoch",
    ),
    _Stage("fit", "epochs", ("batch_size",), ("max_windows_per_epoch",)),
    _Stage("student", "student_epochs", ("batch_size",), ("max_windows_per_epoch",)),
)


@dataclass
class FoldPlan:
    """Figures of one fold.

    Attributes
    ----------
    train_windows
        Training windows handed to the harness's balancing (extra ictal windows included,
        validation units removed).
    train_per_class
        Those windows per class name, and ``balanced_train_per_class`` after class balancing
        (equal to ``train_per_class`` for tasks the harness does not balance).
    steps
        Optimiser steps per stage (``{"fit": n, ...}``); ``None`` when the budget has no
        epochs/batch-size keys (e.g. scikit-learn baselines).
    """

    fold_id: str
    patient: str | None
    train_units: int
    test_units: int
    train_windows: int
    train_per_class: dict[str, int]
    balanced_train_windows: int
    balanced_train_per_class: dict[str, int]
    valid_windows: int
    test_windows: int
    steps: dict[str, int] | None

    @property
    def total_steps(self) -> int | None:
        return None if self.steps is None else int(sum(self.steps.values()))


@dataclass
class Plan:
    """Estimated size of one run; see :func:`plan_run`. Byte and hour figures are exact for the
    index; steps are upper bounds (early stopping and methods' own resampling can only cut them)."""

    method: str
    dataset: str
    synthetic: bool
    modality: str
    task: str
    task_label: str
    protocol: str
    budget: str
    classes: tuple[str, ...]
    window_s: float
    stride_s: float
    ictal_stride_s: float | None
    dataset_hours: float
    task_hours: float
    # Recordings whose duration the index does not know, per patient (not in dataset_hours): e.g.
    # CHB-MIT's chb24, whose summary gives no file times.
    unknown_duration: dict[str, int]
    patients: int
    units: int
    windows: int
    windows_per_class: dict[str, int]
    extra_windows_per_class: dict[str, int]
    unlabelled_windows: int
    window_shape: tuple[int, ...]
    window_dtype: str
    bytes_per_window: int
    cache_bytes: int
    split_source: str
    folds: list[FoldPlan]
    step_keys: dict[str, dict[str, Any]] | None
    notes: list[str] = field(default_factory=list)
    # Video: the method's clip, {"n_frames", "fps", "size"} (a clip lasts n_frames / fps seconds).
    clip: dict[str, Any] | None = None
    # How the cache stores the windows (each sample or STFT frame once; int16 EDF samples where
    # lossless) and the bytes of the EDF files they are cut from (None when not all are on disk).
    cache_layout: str = ""
    source_bytes: int | None = None
    # Seconds measured by probes on this machine (`plan --time`); None when not asked for.
    timing: TimeEstimate | None = None

    @property
    def n_folds(self) -> int:
        return len(self.folds)

    @property
    def extra_windows(self) -> int:
        return int(sum(self.extra_windows_per_class.values()))

    @property
    def total_steps(self) -> int | None:
        if self.step_keys is None:
            return None
        return int(sum(f.total_steps or 0 for f in self.folds))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures, per-fold rows included."""
        d = asdict(self)
        d.update(
            classes=list(self.classes),
            window_shape=list(self.window_shape),
            n_folds=self.n_folds,
            extra_windows=self.extra_windows,
            total_steps=self.total_steps,
        )
        for row, fold in zip(d["folds"], self.folds):
            row["total_steps"] = fold.total_steps
        if self.timing is not None:
            d["timing"].update(folds_s=self.timing.folds_s, total_s=self.timing.total_s)
        return json.loads(json.dumps(d, default=str))


# -- planning ---------------------------------------------------------------------------------
def plan_run(cfg: RunConfig, measure_time: bool = False) -> Plan:
    """Estimate the size of the run ``cfg`` describes, reading the dataset index only.

    Parameters
    ----------
    cfg
        The run's configuration, as for :class:`~benchmark.runner.Runner` (method, dataset, task,
        protocol, budget, task parameters, window, overrides, ``valid_fraction``, ``seed``;
        ``splits_dir`` and ``cache_dir`` are where frozen splits are looked up). The execution
        settings (device, jobs, store) play no part, except ``threads`` with ``measure_time``.
    measure_time
        Also measure the run's seconds here (:func:`benchmark.plan_timing.estimate_time`; imports torch).

    Returns
    -------
    Plan
        Hours of the dataset and of the task's units; windows per class (and extra ictal windows);
        the cache's bytes (windows x bytes of one window of the method's representation: float32
        EEG features, uint8 video clips); folds with their training windows before and after the
        harness's class balancing; and optimiser steps per fold and stage:
        ``epochs x ceil(windows per epoch / batch size)``, where windows per epoch are the
        balanced training windows capped by the budget's per-epoch cap when it has one.

    Raises
    ------
    BenchmarkError
        Unknown names, a method that does not take the task or the dataset's modality, or a
        frozen split that does not match the dataset (as a run would).

    Notes
    -----
    CHB-MIT's index is built from its summary files, so its EDF headers are not read; other
    datasets are loaded as a run loads them, which may read EDF headers but never signals.
    """
    runner = _runner(cfg, measure_time)  # validates names, budget and overrides
    meta = runner.method_cls.meta
    index, notes = _load_index(runner)
    spec, source = find_split(runner, index)
    window = runner.window
    table = window_table(spec, index, window)
    classes = tuple(spec.class_names())
    shape, dtype, unlabelled = _window_layout(runner, index)
    per_window = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    params = {**meta.budgets[cfg.budget], **cfg.method_overrides}
    stage_keys = _stage_keys(params)
    notes += _step_notes(runner, stage_keys, params, window, spec)
    if unlabelled:
        notes.append(f"{unlabelled} unlabelled contextual clips are cached too (video pre-training)")
    plan = Plan(
        method=meta.name,
        synthetic=index.synthetic,
        modality=index.modality,
        task=cfg.task,
        task_label=runner.params.label(),
        protocol=cfg.protocol,
        budget=cfg.budget,
        classes=classes,
        window_s=window.window_s,
        stride_s=window.stride_s,
        ictal_stride_s=window.ictal_stride_s,
        **_data_figures(index, spec, table, classes),
        unlabelled_windows=unlabelled,
        window_shape=tuple(int(d) for d in shape),
        window_dtype=str(np.dtype(dtype)),
        bytes_per_window=per_window,
        **_cache_figures(runner, index, table, unlabelled, per_window),
        split_source=source,
        folds=_fold_plans(runner, spec, table, classes, stage_keys),
        step_keys=stage_keys,
        notes=notes,
        clip=(
            {k: video_params(meta.representation_params_for(cfg.budget))[k] for k in ("n_frames", "fps", "size")}
            if index.modality == "video"
            else None
        ),
    )
    return _with_timing(plan, runner, index) if measure_time else plan


def _with_timing(plan: Plan, runner: Runner, index: RecordingIndex) -> Plan:
    """``plan`` with the seconds probes measure on this machine, and what they leave out."""
    from benchmark.plan_timing import NOT_MODELLED, estimate_time  # imports torch

    plan.timing = estimate_time(runner, index, plan, runner.cfg.threads)
    plan.notes.append(NOT_MODELLED)
    return plan


def _runner(cfg: RunConfig, measure_time: bool) -> Runner:
    """The run's :class:`Runner` on the CPU. For the smoke budget its method class is the declared
    metadata's stand-in (:func:`~benchmark.runner.method_for_metadata`), so the method's module (torch)
    is not imported; other budgets and ``--time`` import the method, whose own checks (e.g. a paper
    budget's pretrained weights) then refuse a plan as they would refuse the run."""
    light = not measure_time and cfg.budget == "smoke"
    return Runner(replace(cfg, device="cpu"), method_for_metadata(cfg.method, cfg.isolation) if light else None)


def _load_index(runner: Runner) -> tuple[RecordingIndex, list[str]]:
    """The dataset index as a run would load it (without EDF headers where the index comes from text
    alone), refused for another modality than the method's; and the note saying what was read."""
    cfg, meta = runner.cfg, runner.method_cls.meta
    spec = DATASETS.get(cfg.dataset)
    options = {"check_edf": False} if spec is not None and spec.index_from_text else {}
    index = load_dataset(cfg.dataset, cfg.data_dir, **options)
    if index.modality != meta.modality:
        raise BenchmarkError(
            f"method '{meta.name}' takes {meta.modality} but dataset '{cfg.dataset}' is {index.modality}; "
            f"'seizure-bench list methods' shows the {index.modality} methods."
        )
    if options:
        return index, []
    return index, [
        f"the {cfg.dataset} index is loaded as a run loads it: its loader may read "
        "file headers (EDF headers, video metadata), never signals or frames"
    ]


def _data_figures(index: RecordingIndex, spec: SplitSpec, table: pd.DataFrame, classes) -> dict[str, Any]:
    """Hours, patients, units and windows per class of the dataset and of the task's split."""
    extra = table["extra"].astype(bool).to_numpy()
    labels = table["label"].to_numpy(np.int64)
    return dict(
        dataset=index.dataset,
        dataset_hours=float(index.hours),
        unknown_duration={
            p.patient_id: n for p in index.patients if (n := sum(r.duration is None for r in p.recordings))
        },
        task_hours=sum(s.end - s.start for u in spec.units.values() for s in u.segments) / 3600.0,
        patients=len({spec.units[u].patient for f in spec.folds for u in f.train + f.test}),
        units=len(spec.units),
        windows=len(table),
        windows_per_class=_per_class(labels[~extra], classes),
        extra_windows_per_class=_per_class(labels[extra], classes),
    )


def _step_notes(runner: Runner, stage_keys, params: dict[str, Any], window, spec: SplitSpec) -> list[str]:
    """What the step counts model and leave out, the method's own notes, and a leaky protocol."""
    cfg, meta = runner.cfg, runner.method_cls.meta
    if stage_keys is None:
        notes = [
            f"steps n/a: budget '{cfg.budget}' of {meta.name} has no epochs/batch-size keys "
            f"({', '.join(sorted(params)) or 'no hyper-parameters'})"
        ]
    else:
        notes = [
            "steps are upper bounds: early stopping (patience) and a method's own class resampling are "
            "not modelled"
            + ("; pre-training is counted over the fold's training windows" if "pretrain" in stage_keys else "")
        ]
    # What the method itself makes of these windows (e.g. how many windows an LSTM context holds).
    hook = getattr(runner.method_cls.from_budget(cfg.budget, cfg.method_overrides), "plan_notes", None)
    if callable(hook):
        notes += list(hook(window.window_s, window.stride_s))
    if spec.leaky:
        notes.append(f"protocol {cfg.protocol} is leaky by design (segment-level folds)")
    return notes


def find_split(runner: Runner, index: RecordingIndex) -> tuple[SplitSpec, str]:
    """The split a run of ``runner`` would use, and where it comes from; never writes a file.

    Looks where :meth:`Runner.load_split` looks (the splits folder, then the cache's ad-hoc splits)
    with the same checks; when neither holds one, the split is built in memory from
    :meth:`Runner.build_split` (the run would freeze the same split).
    """
    spec, path = runner.find_split(index)
    if spec is not None:
        return spec, str(path)
    spec = runner.build_split(index)
    return spec, "built in memory (no frozen split for these settings; nothing written)"


def _cache_figures(
    runner: Runner, index: RecordingIndex, table: pd.DataFrame, unlabelled: int, per_window: int
) -> dict[str, Any]:
    """``cache_bytes``, ``cache_layout`` and ``source_bytes`` of the run's window cache: what
    :func:`benchmark.windows.entry_bytes` says each patient's entry holds."""
    if index.modality == "video":  # one uint8 clip per window
        return {"cache_bytes": (len(table) + unlabelled) * (per_window + 4), "cache_layout": "one clip per window"}
    prep = runner.preprocessing(index)
    native = common_sfreq(index)
    root = Path(index.root or ".")
    total, sizes, kinds = 0, [], set()
    for pid, rows in table.groupby("patient", sort=False):
        files = [index.recording(pid, r).file for r in rows["recording"].unique()]
        bdf = any(str(f).lower().endswith(".bdf") for f in files)
        nbytes, kind = entry_bytes(rows, prep, native, bdf)
        total += nbytes
        kinds.add((kind, str(stored_dtype(prep, native, bdf))))
        sizes += [(root / f).stat().st_size if (root / f).is_file() else None for f in files]
    kind, dtype = sorted(kinds)[0] if kinds else ("rows", "float32")
    layout = {
        "samples": f"{dtype} samples, each stored once"
        + (" (float32 for a patient whose recordings' EDF scalings differ)" if dtype == "int16" else ""),
        "frames": "float32 STFT frames, each interior frame stored once",
    }.get(kind, "one row per window")
    source = None if not sizes or None in sizes else int(sum(sizes))
    return {"cache_bytes": int(total), "cache_layout": layout, "source_bytes": source}


def _window_layout(runner: Runner, index: RecordingIndex) -> tuple[tuple[int, ...], str, int]:
    """Shape and dtype of one cached window, and the number of unlabelled clips cached beside them."""
    window = runner.window
    prep = runner.preprocessing(index)  # as the run reads its windows
    if index.modality == "video":
        vp = video_params(prep.representation_params)
        unlabelled = sum(len(t) for t in contextual_table(index, window).values())
        return (vp["n_frames"], 3, vp["size"], vp["size"]), "uint8", unlabelled
    n_times = int(round(window.window_s * prep.sfreq))  # as the window cache computes it
    shape = features.output_shape(
        prep.representation, len(index.channels), n_times, prep.sfreq, prep.representation_params
    )
    return tuple(shape), "float32", 0


def _per_class(labels: np.ndarray, classes: tuple[str, ...]) -> dict[str, int]:
    counts = np.bincount(labels, minlength=len(classes)) if len(labels) else np.zeros(len(classes), int)
    return {c: int(counts[i]) for i, c in enumerate(classes)}


def _stage_keys(params: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """Per stage, the budget keys (and values) its step count reads; ``None`` without any stage."""
    out: dict[str, dict[str, Any]] = {}
    for stage in STAGES:
        batch = next((k for k in stage.batch if k in params), None)
        if stage.epochs not in params or batch is None:
            continue
        keys = {stage.epochs: params[stage.epochs], batch: params[batch]}
        cap = next((k for k in stage.window_cap if k in params), None)
        if cap is not None and params[cap] is not None:
            keys[cap] = params[cap]
        if stage.batch_cap and params.get(stage.batch_cap) is not None:
            keys[stage.batch_cap] = params[stage.batch_cap]
        out[stage.name] = keys
    return out or None


def _stage_steps(keys: dict[str, dict[str, Any]] | None, n_windows: int) -> dict[str, int] | None:
    if keys is None:
        return None
    steps = {}
    for stage in STAGES:
        k = keys.get(stage.name)
        if k is None:
            continue
        epochs = int(k[stage.epochs])
        batch = int(next(k[b] for b in stage.batch if b in k))
        per_epoch = n_windows
        for cap in stage.window_cap:
            if cap in k:
                per_epoch = min(per_epoch, int(k[cap]))
                break
        batches = math.ceil(per_epoch / batch) if batch > 0 else 0
        if stage.batch_cap and stage.batch_cap in k:
            batches = min(batches, int(k[stage.batch_cap]))
        steps[stage.name] = epochs * batches
    return steps


def _fold_plans(
    runner: Runner, spec: SplitSpec, table: pd.DataFrame, classes: tuple[str, ...], stage_keys
) -> list[FoldPlan]:
    """Per-fold window counts, selected as :meth:`Runner._job` selects them, from grouped counts."""
    cfg = runner.cfg
    n_classes = len(classes)
    multiclass = runner.task.balance_multiclass(tuple(classes))
    pooled = runner.protocol.balanced_pool
    if pooled:
        # The run balances the windows of every unit once, before the random split: the same rows,
        # in the same order, balanced with the same seed, so the plan counts what the run trains on.
        pids = sorted({spec.units[u].patient for f in spec.folds for u in f.train + f.test})
        everything = [u for f in spec.folds for u in f.train]
        table = balance(
            select_units(rows_by_patient(table, pids), everything, {p: i for i, p in enumerate(pids)}),
            fold_seed(cfg.seed, "balanced-pool"),
            multiclass=multiclass,
        )
    work = table[["patient", "recording", "start", "unit", "label", "extra"]].copy()
    work["extra"] = work["extra"].astype(bool)
    chunked = any(f.chunk_fold is not None for f in spec.folds)
    work["chunk"] = (
        chunk_assignment(work, spec.splitter(), runner.task.metadata.whole_recording_chunks) if chunked else -1
    )
    # Counting per (unit, chunk, label, extra) keeps hours of 1-s windows cheap to re-select per fold.
    counts = work.groupby(["unit", "chunk", "label", "extra"], sort=False).size().rename("n").reset_index()
    # Extra ictal windows are trained on, never tested, except in a balanced pool (as in the run).
    scored = counts["extra"] == counts["extra"] if pooled else ~counts["extra"]
    out = []
    for fold in spec.folds:
        in_train = counts["unit"].isin(set(fold.train))
        if fold.chunk_fold is not None:
            train = counts[in_train & (counts["chunk"] != fold.chunk_fold)]
            test = counts[in_train & (counts["chunk"] == fold.chunk_fold) & scored]
        else:
            train = counts[in_train]
            test = counts[counts["unit"].isin(set(fold.test)) & scored]
        valid_n = 0
        if cfg.valid_fraction and len(train):
            units = pd.DataFrame({"unit": sorted(train["unit"].unique())})
            held = hold_out_units(units, cfg.valid_fraction, fold_seed(cfg.seed, fold.fold_id))
            if held is not None:
                chosen = set(held["unit"])
                valid_n = int(train.loc[train["unit"].isin(chosen) & ~train["extra"], "n"].sum())
                train = train[~train["unit"].isin(chosen)]
        by_label = train.groupby("label")["n"].sum()
        raw = {i: int(by_label.get(i, 0)) for i in range(n_classes)}
        balanced = runner.task.metadata.balance_training and sum(raw.values())
        bal = balance_quota(raw, multiclass) if balanced else raw
        n_bal = int(sum(bal.values()))
        out.append(
            FoldPlan(
                fold_id=fold.fold_id,
                patient=fold.patient,
                train_units=int(train["unit"].nunique()),
                test_units=int(test["unit"].nunique()),
                train_windows=int(sum(raw.values())),
                train_per_class={classes[i]: n for i, n in raw.items()},
                balanced_train_windows=n_bal,
                balanced_train_per_class={classes[i]: n for i, n in bal.items()},
                valid_windows=valid_n,
                test_windows=int(test["n"].sum()),
                steps=_stage_steps(stage_keys, n_bal),
            )
        )
    return out


# -- terminal output --------------------------------------------------------------------------
def human_bytes(n: float) -> str:
    """``1.5 GB``, ``320.0 MB``, ``12.0 kB`` (decimal units, as disk sizes are sold)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def human_count(n: float | None) -> str:
    """``3.45M``, ``15.5k``, ``950``; ``n/a`` for ``None``."""
    if n is None:
        return "n/a"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            value = n / size
            return f"{value:.{2 if abs(value) < 10 else 1 if abs(value) < 100 else 0}f}{unit}"
    return f"{n:.0f}"


_MAX_ROWS = 30  # above this many folds the table groups them by patient


def format_plan(plan: Plan) -> str:
    """A short human-readable report of ``plan``: totals, then one row per fold (or per patient)."""
    syn = "  [SYNTHETIC DATA]" if plan.synthetic else ""
    per_class = ", ".join(f"{c} {human_count(n)}" for c, n in plan.windows_per_class.items())
    lines = [
        f"plan: {plan.method} on {plan.dataset}, {plan.task} ({plan.task_label}), {plan.protocol}, "
        f"budget {plan.budget}{syn}",
        f"  {'EEG' if plan.modality == 'eeg' else 'video':<12} {plan.dataset_hours:.1f} h in the dataset"
        + (
            f" (+ {sum(plan.unknown_duration.values())} recordings of unknown duration: "
            f"{', '.join(sorted(plan.unknown_duration))})"
            if plan.unknown_duration
            else ""
        )
        + f", {plan.task_hours:.1f} h in the task's {plan.units} units ({plan.patients} patients)",
        f"  windows      {human_count(plan.windows)} of {plan.window_s:g} s every {plan.stride_s:g} s "
        f"({per_class}"
        + (
            f"; + {human_count(plan.extra_windows)} extra ictal for training at stride {plan.ictal_stride_s:g} s"
            if plan.ictal_stride_s is not None
            else ""
        )
        + ")"
        + (f"; + {human_count(plan.unlabelled_windows)} unlabelled clips" if plan.unlabelled_windows else "")
        + (
            f"; each clip {plan.clip['n_frames']} frames at {plan.clip['fps']:g} fps, "
            f"{plan.clip['size']}x{plan.clip['size']} px"
            if plan.clip
            else ""
        ),
        f"  cache        {human_bytes(plan.cache_bytes)} ({human_bytes(plan.bytes_per_window)} per window: "
        f"{plan.window_dtype} {'x'.join(map(str, plan.window_shape))}; stored as {plan.cache_layout})"
        + (
            f"; {plan.cache_bytes / plan.source_bytes:.2f}x the {human_bytes(plan.source_bytes)} "
            "of the EDF files they come from"
            if plan.source_bytes
            else ""
        ),
        f"  split        {plan.split_source}",
        f"  folds        {plan.n_folds}",
    ]
    if plan.step_keys is None:
        lines.append("  steps        n/a (budget has no epochs/batch-size keys)")
    else:
        used = "; ".join(
            f"{s}: " + ", ".join(f"{k}={v}" for k, v in keys.items()) for s, keys in plan.step_keys.items()
        )
        lines.append(f"  steps        {human_count(plan.total_steps)} in all ({used})")
    if plan.timing is not None:
        lines.append(_timing_line(plan.timing))
    lines.append("")
    lines += _fold_table(plan)
    lines += [f"note: {n}" for n in plan.notes]
    return "\n".join(lines)


def human_seconds(s: float) -> str:
    """``42 s``, ``3.5 min``, ``2.1 h``."""
    if s < 60:
        return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"
    return f"{s / 60:.1f} min" if s < 3600 else f"{s / 3600:.1f} h"


def _timing_line(t: TimeEstimate) -> str:
    per = f"{human_seconds(t.folds_s / len(t.fold_s))} per fold" if t.fold_s else "no folds"
    return (
        f"  time         ~{human_seconds(t.total_s)} (estimate for this machine's CPU, {t.threads} thread"
        f"{'s' if t.threads != 1 else ''}): cache ~{human_seconds(t.cache_s)}, folds ~{human_seconds(t.folds_s)} "
        f"({per}; probes took {human_seconds(t.rates.get('probe_s', 0.0))})"
    )


def _fold_table(plan: Plan) -> list[str]:
    """One row per fold, or per patient (folds averaged, steps summed) when there are many folds."""
    stages = list(plan.step_keys or {})

    def steps(folds: list[FoldPlan]) -> list[str]:
        return [human_count(sum((f.steps or {}).get(s, 0) for f in folds)) for s in stages]

    if plan.n_folds > _MAX_ROWS and all(f.patient for f in plan.folds):
        by: dict[str, list[FoldPlan]] = {}
        for f in plan.folds:
            by.setdefault(f.patient, []).append(f)
        head = ["patient", "folds", "train/fold", "balanced/fold", "test/fold"]
        rows = [
            [
                pid,
                str(len(fs)),
                *(
                    human_count(np.mean([getattr(f, a) for f in fs]))
                    for a in ("train_windows", "balanced_train_windows", "test_windows")
                ),
                *steps(fs),
            ]
            for pid, fs in by.items()
        ]
        rows.append(["total", str(plan.n_folds), "", "", "", *steps(plan.folds)])
    else:
        head = ["fold", "train", "balanced", "test"]
        rows = [
            [
                f.fold_id,
                human_count(f.train_windows),
                human_count(f.balanced_train_windows),
                human_count(f.test_windows),
                *steps([f]),
            ]
            for f in plan.folds
        ]
        rows.append(
            [
                "total",
                *(
                    human_count(sum(getattr(f, a) for f in plan.folds))
                    for a in ("train_windows", "balanced_train_windows", "test_windows")
                ),
                *steps(plan.folds),
            ]
        )
    head += [f"{s} steps" for s in stages]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
    out += [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows
    ]
    return out
