"""The runner: one method on one dataset, task and protocol, fold by fold, into the results store.

It owns everything but the model: data, frozen splits, windows, seeds, device, timing, logging and
the store. Each fold is stored in one transaction as soon as it ends, so killing a run loses at most
the fold in flight; running the same command again skips the folds already stored and ends with the
same results as an uninterrupted run (every fold is seeded from the run seed and its own id).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from benchmark import metrics as M
from benchmark.adapters import FitContext, MethodAdapter, get_method
from benchmark.datasets import load_dataset
from benchmark.errors import BenchmarkError
from benchmark.index import RecordingIndex
from benchmark.provenance import command_line, git_commit, hardware, package_versions, resolve_device
from benchmark.splits import (
    SplitSpec,
    check_against_index,
    check_leakage,
    get_splitter,
    load_split,
    make_split,
    save_split,
    split_path,
)
from benchmark.store import FoldResult, ResultStore, RunRecord
from benchmark.tasks import make_labels, make_params
from benchmark.windows import DEFAULT_WINDOWS, Preprocessing, WindowCache, WindowParams, window_table
from benchmark.windowset import WindowSet

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_splits_dir() -> Path:
    return REPO_ROOT / "splits"


def default_store_path() -> Path:
    return REPO_ROOT / "results" / "results.sqlite"


@dataclass
class RunConfig:
    """Everything that defines a run (and so its id), plus how to execute it."""

    method: str
    dataset: str
    task: str = "prediction"
    protocol: str = "loocv"
    budget: str = "smoke"
    seed: int = 0
    data_dir: Path | None = None
    task_params: dict[str, Any] = field(default_factory=dict)
    window: WindowParams | None = None
    method_overrides: dict[str, Any] = field(default_factory=dict)
    valid_fraction: float = 0.0  # share of a fold's training units held out as `valid` (0: none)
    # execution only (not part of the run id)
    store_path: Path = field(default_factory=default_store_path)
    splits_dir: Path = field(default_factory=default_splits_dir)
    cache_dir: Path | None = None
    jobs: int = 1
    device: str = "auto"
    progress: bool = True


@dataclass
class FoldJob:
    """A picklable description of one fold, so folds can run in worker processes."""

    fold_id: str
    patient: str | None
    method: str
    budget: str
    overrides: dict[str, Any]
    seed: int
    device: str
    work_dir: str
    sources: list[str]  # memmap paths
    train_refs: np.ndarray
    train_meta: pd.DataFrame
    train_y: np.ndarray
    test_refs: np.ndarray
    test_meta: pd.DataFrame
    test_y: np.ndarray
    classes: tuple[str, ...]
    valid_refs: np.ndarray | None
    valid_meta: pd.DataFrame | None
    valid_y: np.ndarray | None
    info: dict[str, Any]
    leakage: dict[str, Any]
    n_threads: int | None = None


def fold_seed(seed: int, fold_id: str) -> int:
    """Seed of one fold: independent of fold order, so resumed and parallel runs match."""
    return int(hashlib.sha256(f"{seed}:{fold_id}".encode()).hexdigest()[:8], 16)


def run_fold(job: FoldJob) -> tuple[FoldResult, pd.DataFrame | None, dict[str, Any]]:
    """Train and test one fold; never raises for adapter errors (they become a failed fold)."""
    import torch

    if job.n_threads:
        torch.set_num_threads(job.n_threads)
    sources = [np.load(p, mmap_mode="r") for p in job.sources]
    train = WindowSet(sources, job.train_refs, job.train_meta, job.train_y, job.classes, dict(job.info))
    test = WindowSet(sources, job.test_refs, job.test_meta, None, job.classes, dict(job.info))
    valid = None
    if job.valid_refs is not None and len(job.valid_refs):
        valid = WindowSet(sources, job.valid_refs, job.valid_meta, job.valid_y, job.classes, dict(job.info))
    cls = get_method(job.method)
    extra: dict[str, Any] = {}
    t0 = time.perf_counter()
    fit_s = pred_s = 0.0
    try:
        from benchmark.torch_utils import seed_everything

        seed_everything(job.seed)
        adapter: MethodAdapter = cls.from_budget(job.budget, job.overrides)
        Path(job.work_dir).mkdir(parents=True, exist_ok=True)
        ctx = FitContext(seed=job.seed, device=job.device, budget=job.budget, work_dir=Path(job.work_dir))
        adapter.pretrain(train, ctx)
        adapter.fit(train, valid, ctx)
        fit_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        proba = np.asarray(adapter.predict_proba(test))
        pred_s = time.perf_counter() - t1
        if proba.shape != (len(test), len(job.classes)) or not np.all(np.isfinite(proba)):
            raise ValueError(
                f"predict_proba returned shape {proba.shape} (finite={np.all(np.isfinite(proba))}); "
                f"expected ({len(test)}, {len(job.classes)}) finite probabilities"
            )
        extra = {"n_params": adapter.n_parameters(), "weights_source": adapter.weights_source()}
    except Exception as exc:  # the run goes on; the failure is stored with its traceback
        fold = FoldResult(
            fold_id=job.fold_id, patient=job.patient, status="failed",
            error=f"{type(exc).__name__}: {exc}".splitlines()[0], traceback=traceback.format_exc(),
            n_train=len(train), n_test=len(test), fit_seconds=time.perf_counter() - t0,
            leakage_ok=bool(job.leakage["ok"]),
        )
        return fold, None, extra
    scores = job.test_meta[["patient", "recording", "start", "end"]].copy()
    scores.insert(0, "fold_id", job.fold_id)
    scores["label"] = job.test_y.astype(int)
    scores["score"] = proba[:, 1] if proba.shape[1] == 2 else proba.max(axis=1)
    scores["pred"] = proba.argmax(axis=1).astype(int)
    fold = FoldResult(
        fold_id=job.fold_id, patient=job.patient, status="ok",
        metrics=M.binary_metrics(scores["label"].to_numpy(), scores["score"].to_numpy(), pred=scores["pred"].to_numpy()),
        n_train=len(train), n_test=len(test), fit_seconds=fit_s, predict_seconds=pred_s,
        leakage_ok=bool(job.leakage["ok"]),
    )
    return fold, scores, extra


class Runner:
    """Executes a :class:`RunConfig`; see the module docstring for the guarantees."""

    def __init__(self, cfg: RunConfig):
        self.cfg = cfg
        self.method_cls = get_method(cfg.method)
        meta = self.method_cls.meta
        self.params = make_params(cfg.task, **cfg.task_params)  # an unknown task name fails here first
        if cfg.task not in meta.tasks:
            raise BenchmarkError(
                f"method '{meta.name}' does not support task '{cfg.task}' (it supports {list(meta.tasks)})."
            )
        if cfg.budget not in meta.budgets:
            raise BenchmarkError(f"method '{meta.name}' has no budget '{cfg.budget}'; choose {sorted(meta.budgets)}.")
        get_splitter(cfg.protocol)  # validates the protocol name before any data is touched
        if not 0 <= cfg.valid_fraction < 1:
            raise BenchmarkError(f"--valid-fraction must be in [0, 1), got {cfg.valid_fraction}.")
        if cfg.seed < 0:
            raise BenchmarkError(f"--seed must be a non-negative integer, got {cfg.seed}.")
        if cfg.jobs < 1:
            raise BenchmarkError(f"--jobs must be at least 1, got {cfg.jobs}.")
        _check_overrides(self.method_cls, cfg.budget, cfg.method_overrides)
        self.window = cfg.window or DEFAULT_WINDOWS[cfg.task]
        self.device = resolve_device(cfg.device)

    # -- stages -------------------------------------------------------------------------------
    def load_split(self, index: RecordingIndex) -> tuple[SplitSpec, Path]:
        """The committed split for these settings, or an ad-hoc one frozen into the cache.

        Ad-hoc splits never go into the committed ``splits/`` folder: only ``splits freeze`` writes
        there, so a mistyped option cannot add files to the repository.
        """
        cfg = self.cfg
        # Keyed on the index's name: two private edf-folder datasets must not share split files.
        path = split_path(cfg.splits_dir, index.dataset, cfg.task, self.params, cfg.protocol)
        if not path.exists():
            path = split_path(WindowCache(cfg.cache_dir).root / "splits", index.dataset, cfg.task, self.params,
                              cfg.protocol)
        if path.exists():
            spec = load_split(path)
            check_against_index(spec, index.content_hash(), path)
            if spec.task_params != asdict(self.params) or spec.protocol != cfg.protocol:
                raise BenchmarkError(f"split file {path} was frozen for other task parameters; re-freeze it.")
            return spec, path
        labels = make_labels(index, cfg.task, self.params)
        spec = make_split(labels, cfg.protocol, dataset=cfg.dataset, index_hash=index.content_hash(),
                          seed=self.params.seed, synthetic=index.synthetic)
        save_split(spec, path)
        log.warning("no committed split for these settings in %s; froze an ad-hoc one at %s "
                    "('seizure-bench splits freeze' writes one you can commit)", cfg.splits_dir, path)
        return spec, path

    def run_id(self, index: RecordingIndex, spec: SplitSpec) -> str:
        cfg = self.cfg
        key = {
            "method": cfg.method, "version": self.method_cls.meta.version, "budget": cfg.budget,
            "overrides": cfg.method_overrides, "dataset": cfg.dataset, "index": index.content_hash(),
            "task": cfg.task, "params": asdict(self.params), "window": asdict(self.window),
            "protocol": cfg.protocol, "split": spec.sha256(), "seed": cfg.seed,
            # CPU and GPU numbers differ in the last digits: never mix them in one run
            "device": self.device.split(":")[0],
        }
        if cfg.valid_fraction:
            key["valid_fraction"] = cfg.valid_fraction
        h = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
        return f"{cfg.method}-{index.dataset}-{cfg.task}-{cfg.protocol}-{h}"

    def run(self) -> RunRecord:
        cfg = self.cfg
        t_start = time.perf_counter()
        index = load_dataset(cfg.dataset, cfg.data_dir)
        spec, spath = self.load_split(index)
        if not spec.folds:
            raise BenchmarkError(
                f"the split {spath.name} has no folds (every patient was excluded); see "
                f"'seizure-bench data describe {cfg.dataset}' for the exclusions."
            )
        run_id = self.run_id(index, spec)
        meta = self.method_cls.meta
        store = ResultStore(cfg.store_path)
        existing = store.get_run(run_id)
        done = store.fold_ids(run_id, status="ok")
        todo = [f for f in spec.folds if f.fold_id not in done]
        if existing is not None and not todo and existing.status in ("complete", "partial"):
            log.info("run %s is already complete in %s; nothing to do", run_id, cfg.store_path)
            return existing
        if done:
            log.info("resuming run %s: %d of %d folds already stored", run_id, len(done), len(spec.folds))

        t_cache = time.perf_counter()
        table = window_table(spec, index, self.window)
        empty = sorted({spec.units[u].patient for f in todo for u in f.test} - set(table["patient"]))
        if empty:
            raise BenchmarkError(
                f"no {self.window.window_s:g}-s window fits in the units of {', '.join(empty)}; "
                "use a shorter --window (segments end at seizure onsets and recording ends)."
            )
        sfreq = _common_sfreq(index)
        prep = Preprocessing(tuple(index.channels), sfreq, meta.representation, dict(meta.representation_params))
        self.prep = prep
        cache = WindowCache(cfg.cache_dir)
        need = sorted({p for f in todo for uid in f.train + f.test for p in [spec.units[uid].patient]})
        sources: dict[str, str] = {}
        rows_of: dict[str, pd.DataFrame] = {}
        with tqdm(total=int(table["patient"].isin(need).sum()), desc="windows", unit="win",
                  disable=not cfg.progress) as bar:
            for pid in need:
                ptab = table[table["patient"] == pid].reset_index(drop=True)
                arr, reused = cache.get(index, pid, ptab, prep, progress=bar)
                if reused:
                    bar.update(len(ptab))
                sources[pid] = str(Path(arr.filename))
                rows_of[pid] = ptab
                del arr
        cache_s = time.perf_counter() - t_cache
        # The run is recorded only once its windows exist: an unreadable or missing EDF file fails
        # above, before anything is written, so a failed command leaves the store untouched.
        if existing is None:
            store.create_run(
                RunRecord(
                    run_id=run_id, kind="run", method=cfg.method, dataset=index.dataset, task=cfg.task,
                    protocol=cfg.protocol, method_version=meta.version,
                    method_config=self.method_cls.from_budget(cfg.budget, cfg.method_overrides).params,
                    index_hash=index.content_hash(), synthetic=index.synthetic,
                    task_params={**asdict(self.params), "window_s": self.window.window_s,
                                 "stride_s": self.window.stride_s, "label": self.params.label()},
                    split_hash=spec.sha256(), seed=cfg.seed, budget=cfg.budget, status="running",
                    created_at=_now(), display_name=cfg.method,
                    exclusions=[vars(e) for e in spec.exclusions],
                    provenance={"is_baseline": meta.is_baseline, "citation": meta.citation},
                    citation=meta.citation, source=str(spath.relative_to(cfg.splits_dir.parent))
                    if spath.is_relative_to(cfg.splits_dir.parent) else str(spath),
                )
            )

        jobs = [self._job(spec, f, rows_of, sources, run_id) for f in todo]
        extra: dict[str, Any] = {}
        with tqdm(total=len(spec.folds), initial=len(done), desc=f"{cfg.method} folds", unit="fold",
                  disable=not cfg.progress) as bar:
            for fold, scores, ex in self._execute(jobs):
                store.save_fold(run_id, fold, scores)
                extra = extra or {k: v for k, v in ex.items() if v is not None}
                if fold.status == "failed":
                    log.error("fold %s failed: %s", fold.fold_id, fold.error)
                bar.update(1)
        return self._finish(store, run_id, spec, extra, cache_s, time.perf_counter() - t_start)

    def _execute(self, jobs: list[FoldJob]):
        if self.cfg.jobs <= 1 or len(jobs) <= 1:
            for job in jobs:
                yield run_fold(job)
            return
        import os

        threads = max(1, (os.cpu_count() or 1) // self.cfg.jobs)
        for job in jobs:
            job.n_threads = threads
        # spawn: forked workers may inherit a torch thread pool in a broken state.
        with ProcessPoolExecutor(self.cfg.jobs, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(run_fold, job) for job in jobs]
            for fut in as_completed(futures):
                yield fut.result()

    def _job(self, spec: SplitSpec, fold, rows_of, sources, run_id) -> FoldJob:
        pids = list(sources)
        src_index = {p: i for i, p in enumerate(pids)}

        def select(unit_ids: list[str]) -> pd.DataFrame:
            parts = []
            for pid, rows in rows_of.items():
                sel = rows[rows["unit"].isin(set(unit_ids))]
                if len(sel):
                    sel = sel.assign(_src=src_index[pid], _row=sel.index.to_numpy())
                    parts.append(sel)
            if not parts:
                return pd.DataFrame(columns=["patient", "recording", "start", "end", "label", "unit", "_src", "_row"])
            return pd.concat(parts, ignore_index=True)

        if fold.chunk_fold is not None:
            allw = select(fold.train)
            splitter = spec.splitter()
            which = np.empty(len(allw), dtype=np.int64)
            for (pid, rec), g in allw.groupby(["patient", "recording"], sort=False):
                which[g.index.to_numpy()] = splitter.chunk_folds(f"{pid}/{rec}", g["start"].to_numpy())
            test = allw[which == fold.chunk_fold].reset_index(drop=True)
            train = allw[which != fold.chunk_fold].reset_index(drop=True)
        else:
            train, test = select(fold.train), select(fold.test)
        valid = _hold_out_units(train, self.cfg.valid_fraction, fold_seed(self.cfg.seed, fold.fold_id))
        if valid is not None:
            train = train[~train["unit"].isin(set(valid["unit"]))].reset_index(drop=True)
        if self.cfg.task == "detection" and len(train):
            train = _balance(train, fold_seed(self.cfg.seed, fold.fold_id))
        leakage = check_leakage(train, test)
        if spec.leaky:
            leakage["protocol_leaky"] = True
        cols = ["patient", "recording", "start", "end", "unit"]
        return FoldJob(
            fold_id=fold.fold_id, patient=fold.patient, method=self.cfg.method, budget=self.cfg.budget,
            overrides=dict(self.cfg.method_overrides), seed=fold_seed(self.cfg.seed, fold.fold_id),
            device=self.device,
            work_dir=str(WindowCache(self.cfg.cache_dir).root / "work" / run_id / fold.fold_id),
            sources=[sources[p] for p in pids],
            train_refs=train[["_src", "_row"]].to_numpy(np.int64), train_meta=train[cols].reset_index(drop=True),
            train_y=train["label"].to_numpy(np.int64),
            test_refs=test[["_src", "_row"]].to_numpy(np.int64), test_meta=test[cols].reset_index(drop=True),
            test_y=test["label"].to_numpy(np.int64),
            classes=tuple(_classes(self.cfg.task)),
            valid_refs=None if valid is None else valid[["_src", "_row"]].to_numpy(np.int64),
            valid_meta=None if valid is None else valid[cols].reset_index(drop=True),
            valid_y=None if valid is None else valid["label"].to_numpy(np.int64),
            info={"representation": self.prep.representation, "window_s": self.window.window_s,
                  "sfreq": self.prep.sfreq, "ch_names": list(self.prep.channels), "task": self.cfg.task},
            leakage=leakage,
        )

    def _finish(self, store: ResultStore, run_id: str, spec: SplitSpec, extra, cache_s: float, total_s: float):
        folds = store.folds(run_id)
        scores = store.scores(run_id)
        per_patient = M.patient_metrics(scores) if len(scores) else pd.DataFrame(columns=list(M.METRICS))
        store.save_patient_metrics(run_id, per_patient)
        store.save_summary(run_id, M.summarize(per_patient, seed=self.cfg.seed))
        failed = [f.fold_id for f in folds if f.status != "ok"]
        leaky_folds = [f.fold_id for f in folds if not f.leakage_ok]
        rec = store.get_run(run_id)
        prov = dict(rec.provenance)
        before = prov.get("timings", {})  # a resumed run adds its time to the earlier sessions'
        prov.update(
            versions=package_versions(), git_commit=git_commit(), hardware=hardware(self.device),
            device=self.device, command=command_line(),
            timings={"total_s": round(before.get("total_s", 0.0) + total_s, 2),
                     "windows_s": round(before.get("windows_s", 0.0) + cache_s, 2),
                     "sessions": int(before.get("sessions", 0)) + 1,
                     "fit_s": round(sum(f.fit_seconds for f in folds), 2),
                     "predict_s": round(sum(f.predict_seconds for f in folds), 2)},
            window={"window_s": self.window.window_s, "stride_s": self.window.stride_s},
            valid_fraction=self.cfg.valid_fraction,
        )
        if extra:
            prov.update(n_params=extra.get("n_params"), weights_source=extra.get("weights_source"))
        store.update_run(
            run_id,
            status="partial" if failed else "complete",
            finished_at=_now(),
            provenance=prov,
            leakage={"ok": not leaky_folds and not spec.leaky, "checked_folds": len(folds),
                     "overlapping_folds": leaky_folds, "protocol_leaky": spec.leaky},
        )
        if "random init" in str(prov.get("weights_source", "")).lower() and not self.method_cls.meta.is_baseline:
            log.warning("run %s used randomly initialised weights (no local weights path given)", run_id)
        return store.get_run(run_id)


def _check_overrides(cls, budget: str, overrides: dict[str, Any]) -> None:
    """Refuse hyper-parameters the method does not have: a typo must not be ignored silently."""
    known = set(cls.meta.budgets.get(budget, {}))
    bad = sorted(k for k in overrides if k not in known)
    if bad:
        raise BenchmarkError(
            f"method '{cls.meta.name}' has no hyper-parameter(s) {bad} in budget '{budget}'; "
            f"it takes {sorted(known) or 'none'}."
        )


def _classes(task: str) -> tuple[str, ...]:
    from benchmark.tasks import CLASSES

    return CLASSES[task]


def _hold_out_units(train: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame | None:
    """Whole training units held out for validation (whole units, so valid never overlaps train)."""
    units = sorted(train["unit"].unique())
    if fraction <= 0 or len(units) < 2:
        return None
    k = min(len(units) - 1, max(1, int(round(fraction * len(units)))))
    chosen = set(np.random.default_rng(seed).choice(units, k, replace=False))
    return train[train["unit"].isin(chosen)].reset_index(drop=True)


def _balance(train: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Class-balanced training sample: every minority window, as many majority windows at random."""
    counts = train["label"].value_counts()
    if len(counts) < 2:
        return train
    n = int(counts.min())
    rng = np.random.default_rng(seed)
    keep = []
    for label, g in train.groupby("label"):
        idx = g.index.to_numpy()
        keep.append(idx if len(idx) == n else np.sort(rng.choice(idx, n, replace=False)))
    return train.loc[np.sort(np.concatenate(keep))].reset_index(drop=True)


def _common_sfreq(index: RecordingIndex) -> float:
    rates = [r.sfreq for _, r in index.iter_recordings() if r.sfreq]
    if not rates:
        raise BenchmarkError(f"dataset '{index.dataset}' gives no sampling rate; check its summary or EDF headers.")
    return float(pd.Series(rates).mode().iloc[0])


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
