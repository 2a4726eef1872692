"""How long a planned run would take on this machine: measured by short probes, never a constant.

``seizure-bench plan --time`` adds an estimate of the run's time to the plan's counts:

* **Window cache.** A SYNTHETIC EDF recording with the dataset's channels and sampling rate is
  written to a temporary folder and cut into windows of the run's length and stride by the window
  cache itself (:class:`~benchmark.windows.WindowCache`, the run's own preprocessing): read, filter,
  resample, compute the representation, write. Seconds per window of that probe times the windows
  the plan counts, plus the probe's first (warm-up) build, which carries the one-time imports a run
  pays too.
* **Folds.** The method is trained and asked to predict as a fold does it (budget, overrides, seed,
  torch threads) on SYNTHETIC windows of the run's shape, one epoch per stage, at two sizes. The
  difference gives seconds per optimiser step (per training window for budgets without steps) and
  per predicted window; the smaller size gives the fixed cost. A fold's estimate is fixed cost +
  its planned steps x seconds per step + its test windows x seconds per window.

The figures hold for this machine, its current load and the thread count given; what the probes
leave out (a sandboxed fold's worker start-up, validation passes, early stopping, scoring) is said
in :data:`NOT_MODELLED`. Torch is imported only here, only when an estimate is asked for.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from benchmark.errors import BenchmarkError
from benchmark.fold_windows import WINDOW_COLUMNS, common_sfreq
from benchmark.index import Patient, Recording, RecordingIndex

if TYPE_CHECKING:
    from benchmark.plan import FoldPlan, Plan
    from benchmark.runner import Runner

log = logging.getLogger(__name__)

#: What the estimate does not include.
NOT_MODELLED = (
    "the estimate leaves out the start-up of each sandboxed fold's worker, validation passes, early "
    "stopping (steps are upper bounds) and scoring; it holds for this machine at its current load"
)
PROBE_MIN_WINDOWS = 2000  # windows cut by the cache probe (its recording lasts 30 to 60 min)
PROBE_MIN_S, PROBE_MAX_S = 1800.0, 3600.0
TRAIN_BATCHES = (2, 10)  # probe training sets, in batches of the budget's batch size
PREDICT_WINDOWS = (64, 512)  # probe test sets


@dataclass
class TimeEstimate:
    """Seconds a run would take here, from probes measured just now (see the module docstring).

    Attributes
    ----------
    cache_s
        Building the window cache of every window the plan counts (none reused).
    fold_s
        Per fold, in the plan's fold order: training (all stages) and prediction of its test windows;
        the first fold also pays the method's one-time imports and first calls (``fit_warmup_s``).
    threads
        Torch threads per fold the fold probes ran with (the run's ``--threads`` rule).
    rates
        The probes' figures: ``cache_s_per_window``, ``cache_warmup_s``, ``fit_fixed_s``,
        ``fit_s_per_unit`` (``unit`` says whether per optimiser step or per training window),
        ``fit_warmup_s``,
        ``predict_fixed_s``, ``predict_s_per_window``, and ``probe_s`` (time the probes took).
    """

    cache_s: float
    fold_s: list[float]
    threads: int
    rates: dict[str, Any] = field(default_factory=dict)

    @property
    def folds_s(self) -> float:
        return float(sum(self.fold_s))

    @property
    def total_s(self) -> float:
        return self.cache_s + self.folds_s


def estimate_time(runner: Runner, index: RecordingIndex, plan: Plan, threads: int | None = None) -> TimeEstimate:
    """Probe this machine and estimate the time of the run ``plan`` describes (see the module docstring).

    ``threads`` is the run's ``--threads`` (``None``: the run's default rule for one job).
    Raises :class:`BenchmarkError` for video runs, whose cache probe would need a video file.
    """
    from benchmark.threads import threads_per_fold

    if index.modality != "eeg":
        raise BenchmarkError("plan --time estimates EEG runs only; drop --time for a video run.")
    t0 = time.perf_counter()
    n_threads = threads_per_fold(1, threads)
    rates = probe_cache(runner, index)
    rates.update(probe_method(runner, index, plan, n_threads))
    rates["probe_s"] = round(time.perf_counter() - t0, 3)
    return TimeEstimate(
        cache_s=cache_seconds(rates, plan.windows + plan.unlabelled_windows),
        fold_s=[fold_seconds(rates, f) + (rates["fit_warmup_s"] if i == 0 else 0.0) for i, f in enumerate(plan.folds)],
        threads=n_threads,
        rates=rates,
    )


def cache_seconds(rates: dict[str, Any], n_windows: int) -> float:
    """Seconds to cache ``n_windows`` windows at the probe's rate, the one-time warm-up included."""
    return float(rates["cache_warmup_s"] + n_windows * rates["cache_s_per_window"])


def fold_seconds(rates: dict[str, Any], fold: FoldPlan) -> float:
    """Seconds of one fold: fixed costs, its steps (or balanced training windows) and its test windows."""
    units = fold.total_steps if rates["unit"] == "step" else fold.balanced_train_windows
    fit = rates["fit_fixed_s"] + (units or 0) * rates["fit_s_per_unit"]
    predict = rates["predict_fixed_s"] + fold.test_windows * rates["predict_s_per_window"]
    return float(fit + predict)


def two_point(n: tuple[float, float], seconds: tuple[float, float]) -> tuple[float, float]:
    """``(fixed, per_unit)`` of a line through two timings; never negative (timing noise can cross)."""
    per = max((seconds[1] - seconds[0]) / (n[1] - n[0]), 0.0) if n[1] != n[0] else 0.0
    return max(seconds[0] - per * n[0], 0.0), per


# -- window cache probe ------------------------------------------------------------------------
def probe_cache(runner: Runner, index: RecordingIndex) -> dict[str, Any]:
    """Seconds per window of the window cache on a SYNTHETIC recording of the dataset's channels and rate."""
    from benchmark.windows import WindowCache

    window = runner.window
    prep = runner.preprocessing(index)
    sfreq = common_sfreq(index)
    duration = float(np.clip(PROBE_MIN_WINDOWS * window.stride_s + window.window_s, PROBE_MIN_S, PROBE_MAX_S))
    with tempfile.TemporaryDirectory(prefix="seizure-bench-plan-") as tmp:
        root = Path(tmp)
        probe = probe_index(root, index.channels, sfreq, duration)
        cache = WindowCache(root / "cache")
        warm = probe_table(probe, window.window_s, window.stride_s, limit=8)
        t0 = time.perf_counter()
        cache.get(probe, "probe", warm, prep)  # first build: imports of the EDF reader and the features
        warmup = time.perf_counter() - t0
        table = probe_table(probe, window.window_s, window.stride_s)
        t0 = time.perf_counter()
        cache.get(probe, "probe", table, prep)
        seconds = time.perf_counter() - t0
    return {
        "cache_probe_windows": len(table),
        "cache_probe_s": round(seconds, 4),
        "cache_s_per_window": seconds / max(len(table), 1),
        "cache_warmup_s": round(warmup, 4),
    }


def probe_index(root: Path, channels, sfreq: float, duration_s: float, seed: int = 0) -> RecordingIndex:
    """A one-recording SYNTHETIC index under ``root``: seeded noise with an alpha rhythm as 16-bit EDF."""
    import edfio

    from benchmark.datasets.synthetic._setup import DIG, GAIN, write_edf

    rate = int(round(sfreq))
    n = int(round(duration_s)) * rate
    rng = np.random.default_rng(seed)
    alpha = 40.0 * np.sin(2 * np.pi * 10.0 * np.arange(n) / rate)
    uv = rng.standard_normal((len(channels), n)) * 30.0 + alpha
    digital = np.clip(np.rint(uv / GAIN), -DIG, DIG).astype(np.int16)
    (root / "probe").mkdir(parents=True, exist_ok=True)
    start = dt.datetime(2000, 1, 1)
    write_edf(root / "probe" / "probe_01.edf", digital, rate, list(channels), edfio.Patient(), start)
    rec = Recording("probe_01", "probe/probe_01.edf", 0.0, n / rate, float(rate), tuple(channels))
    return RecordingIndex(
        "plan-probe", (Patient("probe", (rec,)),), channels=tuple(channels), synthetic=True, root=str(root)
    )


def probe_table(index: RecordingIndex, window_s: float, stride_s: float, limit: int | None = None) -> pd.DataFrame:
    """Regular windows over the probe recording, in the window table's layout."""
    rec = index.patients[0].recordings[0]
    n = int(np.floor((rec.duration - window_s) / stride_s + 1e-6)) + 1
    starts = np.round(stride_s * np.arange(n if limit is None else min(n, limit)), 6)
    table = pd.DataFrame(
        {
            "patient": "probe",
            "recording": rec.recording_id,
            "start": starts,
            "end": np.round(starts + window_s, 6),
            "label": 0,
            "unit": "probe",
            "extra": False,
        }
    )
    return table[WINDOW_COLUMNS]


# -- method probe ------------------------------------------------------------------------------
def probe_method(runner: Runner, index: RecordingIndex, plan: Plan, n_threads: int) -> dict[str, Any]:
    """Fixed and per-unit seconds of the method's training and prediction on SYNTHETIC windows."""
    import torch

    from benchmark.plan import _stage_keys, _stage_steps

    cfg, meta = runner.cfg, runner.method_cls.meta
    params = {**meta.budgets[cfg.budget], **cfg.method_overrides}
    one_epoch = {key: 1 for key in _epoch_keys(plan.step_keys)}
    batch = _probe_batch(plan.step_keys)
    sizes = tuple(batch * k for k in TRAIN_BATCHES)
    before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        with tempfile.TemporaryDirectory(prefix="seizure-bench-plan-") as tmp:
            windows = _probe_windows(runner, index, plan, max(sizes[-1], PREDICT_WINDOWS[-1]), Path(tmp))
            # The first fit pays the method's imports and first calls, as a run's first fold does.
            warmup = _time_fit(runner, windows.subset(np.arange(batch)), one_epoch, Path(tmp) / "warmup")[0]
            fits = [_time_fit(runner, windows.subset(np.arange(n)), one_epoch, Path(tmp) / f"fit{n}") for n in sizes]
            fit_t, adapter, predict_t = [t for t, _ in fits], fits[0][1], []
            for n in PREDICT_WINDOWS:
                test = windows.subset(np.arange(n)).without_labels()
                t0 = time.perf_counter()
                adapter.predict_proba(test)
                predict_t.append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(before)
    probe_keys = _stage_keys({**params, **one_epoch})
    warm_units, *units = (
        float(sum((_stage_steps(probe_keys, n) or {}).values())) if probe_keys else float(n) for n in (batch, *sizes)
    )
    fit_fixed, fit_per = two_point(tuple(units), tuple(fit_t))
    predict_fixed, predict_per = two_point(PREDICT_WINDOWS, tuple(predict_t))
    return {
        "unit": "step" if plan.step_keys else "train_window",
        # What the first fit took beyond the line through the later ones.
        "fit_warmup_s": round(max(warmup - fit_fixed - warm_units * fit_per, 0.0), 4),
        "fit_probe_units": list(units),
        "fit_probe_s": [round(t, 4) for t in fit_t],
        "fit_fixed_s": fit_fixed,
        "fit_s_per_unit": fit_per,
        "predict_probe_windows": list(PREDICT_WINDOWS),
        "predict_probe_s": [round(t, 4) for t in predict_t],
        "predict_fixed_s": predict_fixed,
        "predict_s_per_window": predict_per,
    }


def _epoch_keys(step_keys: dict[str, dict[str, Any]] | None) -> list[str]:
    """The budget's epochs keys (one per stage), set to 1 for the probe."""
    from benchmark.plan import STAGES

    return [st.epochs for st in STAGES if step_keys and st.name in step_keys]


def _probe_batch(step_keys: dict[str, dict[str, Any]] | None) -> int:
    """Windows per probe batch: the largest batch size of the budget's stages (64 without steps)."""
    from benchmark.plan import STAGES

    sizes = [int(keys[b]) for st in STAGES if (keys := (step_keys or {}).get(st.name)) for b in st.batch if b in keys]
    return max(sizes, default=64)


def _probe_windows(runner: Runner, index: RecordingIndex, plan: Plan, n: int, folder: Path):
    """``n`` SYNTHETIC labelled windows of the run's representation and shape, as a memmap-backed set."""
    from benchmark.fake_data import make_windowset

    prep = runner.preprocessing(index)
    n_times = int(round(runner.window.window_s * prep.sfreq))
    ws = make_windowset(
        n,
        n_chans=len(prep.channels),
        n_times=n_times,
        sfreq=prep.sfreq,
        representation=prep.representation,
        params=prep.representation_params,
        positive_fraction=0.5,
        classes=plan.classes,
        directory=folder,
    )
    if tuple(ws.window_shape) != tuple(plan.window_shape):
        raise BenchmarkError(f"plan --time: probe windows {ws.window_shape} differ from the plan's {plan.window_shape}")
    return ws


def _time_fit(runner: Runner, train, one_epoch: dict[str, int], work_dir: Path):
    """Seconds to pretrain and fit a fresh adapter on ``train`` as a fold does, and the fitted adapter."""
    from benchmark.adapters import FitContext
    from benchmark.torch_utils import seed_everything

    cfg = runner.cfg
    seed_everything(cfg.seed)
    adapter = runner.method_cls.from_budget(cfg.budget, {**cfg.method_overrides, **one_epoch})
    work_dir.mkdir(parents=True, exist_ok=True)
    ctx = FitContext(seed=cfg.seed, device="cpu", budget=cfg.budget, work_dir=work_dir)
    t0 = time.perf_counter()
    adapter.pretrain(train, ctx)
    adapter.fit(train, None, ctx)
    return time.perf_counter() - t0, adapter
