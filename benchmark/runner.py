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
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from benchmark import features, work_folders
from benchmark import metrics as M
from benchmark.adapters import (
    REGISTRY,
    check_entry_point_name,
    get_method,
    meta_from_dict,
    plugin_proxy,
    warns_random_init,
)
from benchmark.datasets import load_dataset
from benchmark.errors import BenchmarkError, DataError, SplitError
from benchmark.events import PostProcessing
from benchmark.executors import check_options as check_executor
from benchmark.executors import make_executor
from benchmark.fold_windows import (
    balance,
    chunk_assignment,
    common_sfreq,
    hold_out_units,
    rows_by_patient,
    select_units,
)
from benchmark.fold_worker import AdapterTask, clean_report
from benchmark.index import RecordingIndex
from benchmark.probabilities import probability_problem
from benchmark.protocols import DEFAULT_PROTOCOL, get_protocol
from benchmark.provenance import (
    IN_TREE_PACKAGES,
    command_line,
    git_commit,
    hardware,
    method_code,
    package_versions,
    process_info,
    resolve_device,
)
from benchmark.pseudonyms import Pseudonyms, cache_secret, fold_salt
from benchmark.sandbox import (
    ISOLATED,
    TRUSTED,
    describe_plugin,
    method_source,
    plugin_path,
    requested_isolation,
    resolve_isolation,
    run_task,
    sandbox_problem,
)
from benchmark.splits import (
    SplitSpec,
    adhoc_split_path,
    check_leakage,
    leakage_checks,
    load_split,
    make_split,
    save_split,
    split_path,
    verify_split,
)
from benchmark.store import FoldResult, ResultStore, RunRecord, utc_now
from benchmark.tasks import DEFAULT_TASK, ScoringContext, get_task
from benchmark.windows import (
    Preprocessing,
    WindowCache,
    WindowParams,
    default_window,
    video_clip_count,
    video_params,
    video_window,
    window_table,
)

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
    task: str = DEFAULT_TASK
    protocol: str = DEFAULT_PROTOCOL
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
    # Where folds run: "local" (this machine; `jobs` processes) or "dask" (the cluster whose
    # scheduler is at `scheduler`, e.g. "tcp://10.0.0.5:8786"); see benchmark.executors.
    executor: str = "local"
    scheduler: str | None = None
    # How detection window scores become events for SzCORE event scoring (scoring only).
    events: PostProcessing = field(default_factory=PostProcessing)
    # torch CPU threads per fold (None: torch's default, or cores // jobs with --jobs > 1). On a
    # busy small machine one thread can be much faster for the small ops of the smoke budgets.
    threads: int | None = None
    device: str = "auto"
    progress: bool = True
    # Stop at the first failed fold (the run is then "failed" or "partial"; resuming continues it).
    fail_fast: bool = False
    # Where a fold's method runs: "sandbox" (a bubblewrap worker that sees only the fold's window
    # arrays), "none" (in this process: trusted), "auto" (sandbox when bwrap works); None: from
    # $SEIZURE_BENCH_ISOLATION, else auto. See benchmark.sandbox.
    isolation: str | None = None
    # Seconds a fold's method may run before it is stopped and the fold stored as failed (None: no limit).
    fold_timeout: float | None = None


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
    sources: list[str]  # window-cache entry folders (benchmark.window_store)
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
    # Video: clips of unlabelled contextual videos for self-supervised pre-training (training
    # patients only), and the folder of the cross-run feature cache.
    unlabelled_refs: np.ndarray | None = None
    unlabelled_meta: pd.DataFrame | None = None
    cache_dir: str | None = None
    # Measure model size, FLOPs and latency (slow for big video models): once per run is enough.
    measure_efficiency: bool = False
    # Secret per-fold salt of the pseudonyms the method sees (benchmark.pseudonyms); never sent to it.
    salt: bytes = b""
    isolation: str = "auto"  # as requested: auto, sandbox or none (resolved where the fold runs)
    # Epoch bars inside the fold: only when folds run one at a time here (parallel bars would mix).
    progress: bool = False
    fold_timeout: float | None = None
    # Where an isolated fold's folder (its arrays, job and output) is made: in the window cache, so
    # the arrays can be hard-linked.
    scratch_dir: str | None = None
    # Isolated folds that run at the same time as others get copies of every array, no shared file.
    private_arrays: bool = False
    # (module, qualname, plug-in path) the fold worker imports the method from (method_source); set
    # by the runner, so a fold never imports a plug-in into the harness to find it.
    method_source: tuple[str, str, Path | None] | None = None


def fold_seed(seed: int, fold_id: str) -> int:
    """Seed of one fold: independent of fold order, so resumed and parallel runs match."""
    return int(hashlib.sha256(f"{seed}:{fold_id}".encode()).hexdigest()[:8], 16)


def worker_problem(
    method: str, paths: list[str], versions: dict[str, str], source_sha256: str | None = None
) -> str | None:
    """Why the process this runs in cannot run a run's folds, or ``None`` when it can.

    Run on every Dask worker before a run is recorded, so a cluster that cannot run it fails at
    once with one line, not fold by fold. A worker must find the method (a plug-in installed there
    too), read the run's window memmaps at the paths this process wrote them (a shared file
    system), and run the package versions and the method source (``source_sha256``, see
    :func:`benchmark.provenance.method_code`) this process records in the run's provenance: other
    code could give other numbers under the same record.
    """
    ep = REGISTRY.unloaded_entry_point(method)
    try:
        # An installed plug-in is hashed, not imported: this process runs folds of isolated runs.
        cls = type("Unloaded", (), {"__module__": ep.module}) if ep is not None else get_method(method)
    except BenchmarkError:
        return f"method '{method}' is not registered there; install the package that provides it on every worker"
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        return (
            f"it cannot read {missing[0]}; --cache-dir must be on a file system the workers share, "
            "mounted at the same path"
        )
    mine = package_versions()
    differ = [f"{name} {mine.get(name)} (here {v})" for name, v in versions.items() if mine.get(name) != v]
    if differ:
        return f"it runs {', '.join(differ)}; install the same versions there (uv sync --locked)"
    if source_sha256 is not None:
        theirs = method_code(cls)
        if theirs["source_sha256"] != source_sha256:
            return (
                f"its source of package '{theirs['package']}' (method '{method}') differs from this "
                f"machine's (sha256 {theirs['source_sha256'][:12]} there, {source_sha256[:12]} here); "
                "install the same code on every worker"
            )
    return None


#: Why a run cannot be isolated when its method's class was imported into the harness.
HARNESS_IMPORTED = (
    "the method's code was imported into the harness process (register it as an entry point to run it isolated)"
)


def resolve_method(name: str, isolation: str | None) -> tuple[type, str | None]:
    """The method class of a run, and why the run cannot be isolated (``None`` when it can).

    An isolated run never imports a plug-in into the harness: an entry point whose code has not run
    in this process is described by a sandboxed probe (:func:`benchmark.sandbox.describe_plugin`)
    and stood in for by a proxy (:func:`benchmark.adapters.plugin_proxy`) that carries its meta and
    where the fold worker imports it. A class imported here from outside the suite's own packages
    (registered by user code, or a plug-in loaded earlier in this process) may have changed the
    harness while it was imported, so its run is trusted.
    """
    ep = REGISTRY.unloaded_entry_point(name)
    if ep is not None and ep.attr and requested_isolation(isolation) != "none" and sandbox_problem() is None:
        what = f"plug-in '{name}' ({ep.value})"
        try:
            meta = meta_from_dict(describe_plugin(name, ep.module, ep.attr), what)
        except (TypeError, ValueError) as exc:
            raise BenchmarkError(f"{exc}; fix its MethodMeta") from None
        check_entry_point_name(ep, meta.name)
        return plugin_proxy(meta, ep.module, ep.attr, plugin_path(ep.module), f"entry point {ep.value}"), None
    cls = get_method(name)
    if getattr(cls, "plugin_source", None) is not None or cls.__module__.split(".")[0] in IN_TREE_PACKAGES:
        return cls, None
    return cls, HARNESS_IMPORTED


def method_for_metadata(name: str, isolation: str | None) -> type:
    """The method class for what reads only its metadata and ``plan_notes`` (``plan``, a video run's
    default window): a declared in-tree method's stand-in, so that its module (torch) is not imported;
    else as :func:`resolve_method` (plug-ins, unknown names)."""
    return REGISTRY.stand_in(name) or resolve_method(name, isolation)[0]


def adapter_task(job: FoldJob) -> tuple[AdapterTask, Path | None]:
    """The method's part of a fold: pseudonymous window sets, training labels, no test labels.

    Returns the task and the method's plug-in package path (``None`` for in-tree or installed code).
    """
    module, qualname, plugin = job.method_source or method_source(get_method(job.method))
    names = Pseudonyms(job.salt or os.urandom(32), [job.train_meta, job.valid_meta, job.test_meta, job.unlabelled_meta])
    has_valid = job.valid_refs is not None and len(job.valid_refs)
    has_unl = job.unlabelled_refs is not None and len(job.unlabelled_refs)
    task = AdapterTask(
        method=job.method,
        method_module=module,
        method_qualname=qualname,
        budget=job.budget,
        overrides=dict(job.overrides),
        seed=job.seed,
        device=job.device,
        classes=tuple(job.classes),
        sources=list(job.sources),
        train=(job.train_refs, names.meta(job.train_meta), job.train_y),
        test=(job.test_refs, names.meta(job.test_meta)),
        valid=(job.valid_refs, names.meta(job.valid_meta), job.valid_y) if has_valid else None,
        unlabelled=(job.unlabelled_refs, names.meta(job.unlabelled_meta)) if has_unl else None,
        info=names.info(dict(job.info)),
        work_dir=job.work_dir,
        cache_dir=job.cache_dir,
        n_threads=job.n_threads,
        measure_efficiency=job.measure_efficiency,
        progress=job.progress,
    )
    return task, plugin


def run_fold(job: FoldJob) -> tuple[FoldResult, pd.DataFrame | None, dict[str, Any]]:
    """Train and test one fold; never raises for adapter errors (they become a failed fold).

    The method part (fit, predict) runs on an :func:`adapter_task` (in a sandboxed worker when the
    fold's isolation allows, see :mod:`benchmark.sandbox`); the harness part here checks its output
    with the one output rule (:mod:`benchmark.probabilities`) and scores it against the real test
    labels and metadata, which the method never receives. ``extra`` carries ``isolation`` and
    ``isolation_detail`` (how this fold ran) besides the method's ``n_params``, ``weights_source``
    and ``efficiency``.
    """
    try:
        with work_folders.holding(Path(job.work_dir)):
            return _run_fold(job)
    except work_folders.WorkFolderError as exc:  # the same fold running elsewhere, or no lock file
        return lost_fold(job, exc), None, {}


def _run_fold(job: FoldJob) -> tuple[FoldResult, pd.DataFrame | None, dict[str, Any]]:
    mode, detail = resolve_isolation(job.isolation)
    resumed = work_folders.earlier_work(Path(job.work_dir))
    t0 = time.perf_counter()
    task, plugin = adapter_task(job)
    out = run_task(
        task,
        mode,
        job.fold_timeout,
        plugin,
        Path(job.scratch_dir) if job.scratch_dir else None,
        private_arrays=job.private_arrays,
    )
    n_train, n_test = len(job.train_refs), len(job.test_refs)
    extra: dict[str, Any] = {**clean_report(out.extra), "isolation": mode, "isolation_detail": detail}
    if out.error is None:
        problem = probability_problem(out.proba, n_test, len(job.classes))
        if problem is not None:
            out.error, out.traceback = problem, ""
    if out.error is not None:  # the run goes on; the failure is stored (with the method's traceback)
        fold = FoldResult(
            fold_id=job.fold_id,
            patient=job.patient,
            status="failed",
            error=out.error,
            traceback=out.traceback,
            n_train=n_train,
            n_test=n_test,
            fit_seconds=out.fit_seconds or time.perf_counter() - t0,
            leakage_ok=bool(job.leakage["ok"]),
            resumed=resumed,
        )
        return fold, None, {"isolation": mode, "isolation_detail": detail}
    proba = np.asarray(out.proba, dtype=np.float64)
    fit_s, pred_s = out.fit_seconds, out.predict_seconds
    scores = job.test_meta[["patient", "recording", "start", "end"]].copy()
    scores.insert(0, "fold_id", job.fold_id)
    scores["label"] = job.test_y.astype(int)
    scores["pred"] = proba.argmax(axis=1).astype(int)
    if len(job.classes) == 2:
        # Positive at p >= 0.5, as binary_metrics and the event scoring threshold read it (argmax
        # would call a 0.5/0.5 tie negative).
        scores["pred"] = (proba[:, 1] >= 0.5).astype(int)
    if len(job.classes) > 2:
        scores["score"] = proba.max(axis=1)  # confidence of the predicted class
        scores["probs"] = list(proba)
        metrics = M.multiclass_metrics(job.test_y, proba, job.classes)
    else:
        scores["score"] = proba[:, 1]
        metrics = M.binary_metrics(
            scores["label"].to_numpy(), scores["score"].to_numpy(), pred=scores["pred"].to_numpy()
        )
    fold = FoldResult(
        fold_id=job.fold_id,
        patient=job.patient,
        status="ok",
        metrics=metrics,
        n_train=n_train,
        n_test=n_test,
        fit_seconds=fit_s,
        predict_seconds=pred_s,
        leakage_ok=bool(job.leakage["ok"]),
        resumed=resumed,
    )
    return fold, scores, extra


def lost_fold(job: FoldJob, error: BaseException, trace: str = "") -> FoldResult:
    """A fold whose task itself failed (e.g. its Dask workers kept dying), stored as failed."""
    return FoldResult(
        fold_id=job.fold_id,
        patient=job.patient,
        status="failed",
        error=f"{type(error).__name__}: {error}".splitlines()[0],
        traceback=trace,
        n_train=len(job.train_refs),
        n_test=len(job.test_refs),
        leakage_ok=bool(job.leakage["ok"]),
    )


class Runner:
    """Executes a :class:`RunConfig`; see the module docstring for the guarantees."""

    def __init__(self, cfg: RunConfig, method_cls: type | None = None):
        """``method_cls``: the method's class as the caller resolved it (``plan`` passes
        :func:`method_for_metadata`'s, which cannot run); by default :func:`resolve_method`'s."""
        self.cfg = cfg
        # Why the run cannot be isolated, if so (an isolated run never imports a plug-in here).
        self.method_cls, self.not_isolable = (
            (method_cls, None) if method_cls is not None else resolve_method(cfg.method, cfg.isolation)
        )
        meta = self.method_cls.meta
        # The method's defaults for this task (e.g. the label column a video method classifies),
        # then what the user gave.
        given = {k: v for k, v in cfg.task_params.items() if v is not None}
        self.task = get_task(cfg.task)
        self.params = self.task.make_params(**{**meta.task_defaults.get(cfg.task, {}), **given})
        if cfg.task not in meta.tasks:
            raise BenchmarkError(
                f"method '{meta.name}' does not support task '{cfg.task}' (it supports {list(meta.tasks)})."
            )
        if cfg.budget not in meta.budgets:
            raise BenchmarkError(f"method '{meta.name}' has no budget '{cfg.budget}'; choose {sorted(meta.budgets)}.")
        self.protocol = get_protocol(cfg.protocol)  # validates the name before any data is touched
        if not 0 <= cfg.valid_fraction < 1:
            raise BenchmarkError(f"--valid-fraction must be in [0, 1), got {cfg.valid_fraction}.")
        if cfg.seed < 0:
            raise BenchmarkError(f"--seed must be a non-negative integer, got {cfg.seed}.")
        if cfg.jobs < 1:
            raise BenchmarkError(f"--jobs must be at least 1, got {cfg.jobs}.")
        if cfg.threads is not None and cfg.threads < 1:
            raise BenchmarkError(f"--threads must be at least 1, got {cfg.threads}.")
        check_executor(cfg.executor, cfg.jobs, cfg.scheduler)
        _check_overrides(self.method_cls, cfg.budget, cfg.method_overrides)
        self.window = (
            video_window(meta.representation_params_for(cfg.budget), cfg.window, meta.name)
            if meta.representation == "video"
            else cfg.window or default_window(cfg.task)
        )
        self.device = resolve_device(cfg.device)

    # -- stages -------------------------------------------------------------------------------
    def find_split(self, index: RecordingIndex) -> tuple[SplitSpec | None, Path]:
        """The frozen split for these settings and its path: the committed one, else an ad-hoc one
        frozen into the cache earlier for this dataset version; ``(None, path an ad-hoc split would
        take)`` when neither exists. Never writes.

        Either is refused unless it is exactly the split the index gives
        (:func:`benchmark.splits.verify_split`); a committed one frozen on another dataset version is
        refused too, while ad-hoc ones are kept per version (keyed by the index's content hash).
        """
        cfg = self.cfg
        path = split_path(cfg.splits_dir, index.dataset, cfg.task, self.params, cfg.protocol)
        committed = path.exists()
        if not committed:
            path = adhoc_split_path(
                WindowCache(cfg.cache_dir).root / "splits",
                index.dataset,
                index.content_hash(),
                cfg.task,
                self.params,
                cfg.protocol,
            )
        if not path.exists():
            return None, path
        spec = load_split(path)
        # Compare as JSON: a split file gives lists where the parameter record holds tuples.
        same = json.loads(json.dumps(asdict(self.params), default=str)) == spec.task_params
        if not same or spec.protocol != cfg.protocol:
            raise BenchmarkError(f"split file {path} was frozen for other task parameters; re-freeze it.")
        verify_split(spec, index, path, committed=committed)
        return spec, path

    def load_split(self, index: RecordingIndex) -> tuple[SplitSpec, Path]:
        """The committed split for these settings, or an ad-hoc one frozen into the cache.

        Ad-hoc splits never go into the committed ``splits/`` folder: only ``splits freeze`` writes
        there, so a mistyped option cannot add files to the repository.
        """
        cfg = self.cfg
        spec, path = self.find_split(index)
        self.split_file = path
        if spec is not None:
            return spec, path
        spec = self.build_split(index)
        save_split(spec, path)
        log.warning(
            "no committed split for these settings in %s; froze an ad-hoc one at %s "
            "('seizure-bench splits freeze' writes one you can commit)",
            cfg.splits_dir,
            path,
        )
        earlier = sorted(p.parent.name for p in path.parent.parent.glob(f"*/{path.name}") if p != path)
        if earlier:
            log.warning(
                "dataset '%s' differs from the version(s) %s earlier ad-hoc splits of these settings "
                "were frozen on; this version %s has its own split",
                index.dataset,
                ", ".join(earlier),
                path.parent.name,
            )
        return spec, path

    def build_split(self, index: RecordingIndex) -> SplitSpec:
        """The split these settings give on ``index`` (the task's labels, then the protocol), in memory."""
        labels = self.task.make_labels(index, self.params)
        return make_split(
            labels,
            self.cfg.protocol,
            dataset=self.cfg.dataset,
            index_hash=index.content_hash(),
            seed=self.params.seed,
            synthetic=index.synthetic,
        )

    def run_id(self, index: RecordingIndex, spec: SplitSpec) -> str:
        cfg = self.cfg
        key = {
            "method": cfg.method,
            "version": self.method_cls.meta.version,
            "budget": cfg.budget,
            "overrides": cfg.method_overrides,
            "dataset": cfg.dataset,
            "index": index.content_hash(),
            "task": cfg.task,
            "params": asdict(self.params),
            "window": {k: v for k, v in asdict(self.window).items() if v is not None},
            "protocol": cfg.protocol,
            "split": spec.sha256(),
            "seed": cfg.seed,
            # CPU and GPU numbers differ in the last digits: never mix them in one run
            "device": self.device.split(":")[0],
            # Folds trained by other method code must never be mixed into one run.
            "code": method_code(self.method_cls),
        }
        if cfg.valid_fraction:
            key["valid_fraction"] = cfg.valid_fraction
        h = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
        return f"{cfg.method}-{index.dataset}-{cfg.task}-{cfg.protocol}-{h}"

    def run(self) -> RunRecord:
        """Run (or resume, or re-score) the configured run; see the module docstring."""
        cfg = self.cfg
        t_start = time.perf_counter()
        index, spec, spath = self._prepare()
        run_id = self.run_id(index, spec)
        store = ResultStore(cfg.store_path)
        store.require_writable()
        existing = store.get_run(run_id)
        self._check_same_code(existing, run_id)
        done = store.fold_ids(run_id, status="ok")
        todo = [f for f in spec.folds if f.fold_id not in done]
        if existing is not None and not todo and existing.status in ("complete", "partial"):
            if self.task.rescore_needed(existing.provenance, self._scoring_context()):
                log.info("run %s is complete; re-scoring its events with %s", run_id, cfg.events)
                return self._finish(store, run_id, spec, {}, 0.0, time.perf_counter() - t_start)
            log.info("run %s is already complete in %s; nothing to do", run_id, cfg.store_path)
            return existing
        if done:
            log.info("resuming run %s: %d of %d folds already stored", run_id, len(done), len(spec.folds))
        t_cache = time.perf_counter()
        rows_of, sources = self._cache_windows(index, spec, todo)
        cache_s = time.perf_counter() - t_cache
        if cfg.executor == "dask":
            self._check_workers(sorted(set(sources.values())))
        # Built before the run is recorded: a fold that fails the leakage guard refuses the run here.
        jobs = [self._job(spec, f, rows_of, sources, run_id) for f in todo]
        if existing is None:
            # Before the run is recorded: a run new to its store resumes nothing an earlier run of the
            # same command (a deleted store, another store) left, whichever session reaches the fold.
            work_folders.clear_all([Path(job.work_dir) for job in jobs])
        # The run is recorded only once its windows exist: an unreadable or missing EDF file fails
        # above, before anything is written, so a failed command leaves the store untouched.
        if existing is None:
            store.create_run(self._record(index, spec, spath, run_id))
        if jobs and not (existing and (existing.provenance or {}).get("efficiency")):
            jobs[0].measure_efficiency = True
        return self._run_folds(store, run_id, spec, jobs, existing, len(done), cache_s, t_start)

    def _prepare(self) -> tuple[RecordingIndex, SplitSpec, Path]:
        """The dataset index and the frozen split; refuses before any window is cut."""
        cfg = self.cfg
        # Settings the method itself refuses (e.g. a paper budget without its pretrained weights)
        # stop the run here, before any data is read or windows are cut.
        self.method_cls.from_budget(cfg.budget, cfg.method_overrides)
        index = load_dataset(cfg.dataset, cfg.data_dir, progress=cfg.progress)
        self.index = index
        meta = self.method_cls.meta
        if index.modality != meta.modality:
            raise BenchmarkError(
                f"method '{meta.name}' takes {meta.modality} but dataset '{cfg.dataset}' is {index.modality}; "
                f"'seizure-bench list methods' shows the {index.modality} methods."
            )
        self.metadata = window_metadata(index)
        spec, spath = self.load_split(index)
        if not spec.folds:
            raise BenchmarkError(
                f"the split {spath.name} has no folds (every patient was excluded); see "
                f"'seizure-bench data describe {cfg.dataset}' for the exclusions."
            )
        return index, spec, spath

    def _check_same_code(self, existing: RunRecord | None, run_id: str) -> None:
        """Refuse to resume folds trained by other code of the method's package."""
        code = method_code(self.method_cls)
        stored_code = (existing.provenance or {}).get("code") if existing is not None else None
        if stored_code and stored_code.get("source_sha256") != code["source_sha256"]:
            raise BenchmarkError(
                f"run {run_id} in {self.cfg.store_path} was trained by other code of '{code['package']}' (source "
                f"sha256 {str(stored_code.get('source_sha256'))[:12]}, now {code['source_sha256'][:12]}); "
                "its folds cannot be resumed with this code: restore that code, or use another --store"
            )

    def preprocessing(self, index: RecordingIndex) -> Preprocessing:
        """How windows of ``index`` are read for this method (one rule for ``run`` and ``plan``)."""
        meta = self.method_cls.meta
        rep_params = meta.representation_params_for(self.cfg.budget)
        if index.modality == "video":
            vp = video_params(rep_params)
            return Preprocessing((), vp["fps"], "video", vp)
        return Preprocessing(
            tuple(index.channels),
            features.target_sfreq(rep_params, common_sfreq(index)),
            meta.representation,
            rep_params,
            bandpass=tuple(meta.bandpass) if meta.bandpass else None,
        )

    def _cache_windows(self, index: RecordingIndex, spec: SplitSpec, todo) -> tuple[dict, dict[str, str]]:
        """Cut (or reuse) the windows of every patient the remaining folds need; returns each
        patient's window rows and the memmap each is cached in."""
        cfg = self.cfg
        table = window_table(spec, index, self.window)
        empty = sorted({spec.units[u].patient for f in todo for u in f.test} - set(table["patient"]))
        if empty:
            where = ("videos" if index.modality == "video" else "units") + f" of {', '.join(empty)}"
            raise BenchmarkError(
                f"no {self.window.window_s:g}-s window fits in the {where}; "
                "use a shorter --window (segments end at seizure onsets and recording ends; clips at video ends)."
            )
        need = sorted({p for f in todo for uid in f.train + f.test for p in [spec.units[uid].patient]})
        _check_files_present(index, table[table["patient"].isin(need)], cfg.dataset)
        self.prep = prep = self.preprocessing(index)
        cache = WindowCache(cfg.cache_dir)
        sources: dict[str, str] = {}
        rows_of: dict[str, pd.DataFrame] = {}
        with tqdm(
            total=int(table["patient"].isin(need).sum()), desc="windows", unit="win", disable=not cfg.progress
        ) as bar:
            for pid in need:
                ptab = rows_by_patient(table, [pid])[pid]
                arr, reused = cache.get(index, pid, ptab, prep, progress=bar)
                if reused:
                    bar.update(len(ptab))
                sources[pid] = arr.filename
                rows_of[pid] = ptab
                del arr
        self.unlabelled_of: dict[str, pd.DataFrame] = {}
        if index.modality == "video":
            for pid, ctab in contextual_table(index, self.window).items():
                arr, _ = cache.get(index, pid, ctab, prep)
                sources[f"{pid}#contextual"] = arr.filename
                self.unlabelled_of[pid] = ctab
                del arr
        return rows_of, sources

    def _record(self, index: RecordingIndex, spec: SplitSpec, spath: Path, run_id: str) -> RunRecord:
        """The run's record as created before its first fold."""
        cfg, meta = self.cfg, self.method_cls.meta
        code = method_code(self.method_cls)
        # The task's extra records (e.g. the classes in force, in order) sit after the window length.
        task_params = {
            **asdict(self.params),
            "window_s": self.window.window_s,
            **self.task.record_params(tuple(spec.class_names())),
            "stride_s": self.window.stride_s,
            "label": self.params.label(),
            **({"ictal_stride_s": self.window.ictal_stride_s} if self.window.ictal_stride_s is not None else {}),
        }
        return RunRecord(
            run_id=run_id,
            kind="run",
            method=cfg.method,
            dataset=index.dataset,
            task=cfg.task,
            protocol=cfg.protocol,
            method_version=meta.version,
            method_config=self.method_cls.from_budget(cfg.budget, cfg.method_overrides).params,
            index_hash=index.content_hash(),
            synthetic=index.synthetic,
            task_params=task_params,
            split_hash=spec.sha256(),
            seed=cfg.seed,
            budget=cfg.budget,
            status="running",
            created_at=_now(),
            display_name=cfg.method,
            exclusions=[vars(e) for e in spec.exclusions],
            provenance={
                # Only the suite's own methods are baselines: a plug-in cannot make itself the reference.
                "is_baseline": meta.is_baseline and REGISTRY.shipped(cfg.method),
                "citation": meta.citation,
                "pretrained": meta.pretrained,  # the report flags random init only for such methods
                "code": code,
                # the dataset's own annotation sources disagree here (shown in reports)
                **({"source_conflicts": list(index.conflicts)} if index.conflicts else {}),
            },
            citation=meta.citation,
            source=str(spath.relative_to(cfg.splits_dir.parent))
            if spath.is_relative_to(cfg.splits_dir.parent)
            else str(spath),
        )

    def _run_folds(
        self,
        store: ResultStore,
        run_id: str,
        spec: SplitSpec,
        jobs: list[FoldJob],
        existing: RunRecord | None,
        n_done: int,
        cache_s: float,
        t_start: float,
    ) -> RunRecord:
        """Execute the folds, storing each as it ends, then score the run."""
        cfg = self.cfg
        extra: dict[str, Any] = {}
        # Who writes the run, and a heartbeat after each fold: a reader can tell a dead "running"
        # run from a live one (store.effective_status).
        proc = process_info()
        if existing is not None:
            store.update_run(run_id, status="running")
        store.set_process(run_id, {**proc, "heartbeat": utc_now()})
        try:
            with tqdm(
                total=len(spec.folds), initial=n_done, desc=f"{cfg.method} folds", unit="fold", disable=not cfg.progress
            ) as bar:
                results = self._execute(jobs)
                try:
                    for fold, scores, ex in results:
                        self._store_fold(store, run_id, proc, fold, scores, ex, extra)
                        bar.update(1)
                        if fold.status == "failed":
                            log.error("fold %s failed: %s", fold.fold_id, fold.error)
                            if cfg.fail_fast:
                                log.error("stopping at the first failed fold (--fail-fast)")
                                break
                finally:
                    if hasattr(results, "close"):
                        results.close()  # stops the executor: no fold keeps running after a stop
            return self._finish(store, run_id, spec, extra, cache_s, time.perf_counter() - t_start)
        except BaseException:
            # Ctrl-C, SIGTERM (the CLI turns it into KeyboardInterrupt) or an error: the stored folds
            # stay, the run says it stopped, and the same command resumes it.
            try:
                store.update_run(run_id, status="interrupted", finished_at=_now())
            except Exception as exc:  # e.g. the disk is full: the original error matters more
                log.warning("could not mark run %s as interrupted: %s", run_id, exc)
            raise

    def _store_fold(self, store: ResultStore, run_id: str, proc, fold: FoldResult, scores, ex, extra) -> None:
        """Store one finished fold in one transaction, with the heartbeat and how the fold ran."""
        store.save_fold(run_id, fold, scores)
        ran = getattr(self, "fold_isolation", {}).get(fold.fold_id)
        store.set_process(
            run_id, {**proc, "heartbeat": utc_now()}, fold_isolation={fold.fold_id: ran[0]} if ran else None
        )
        for k, v in ex.items():  # efficiency comes from one fold only, whichever ends first
            if v is not None:
                extra.setdefault(k, v)

    def _check_workers(self, paths: list[str]) -> None:
        """Refuse, before the run is recorded, a Dask cluster whose workers cannot run its folds
        (:func:`worker_problem`); a worker that joins later is not checked."""
        with make_executor("dask", 1, self.cfg.scheduler) as executor:
            found = executor.run_on_workers(
                worker_problem,
                self.cfg.method,
                paths,
                package_versions(),
                method_code(self.method_cls)["source_sha256"],
            )
        bad = {addr: why for addr, why in sorted(found.items()) if why}
        if bad:
            addr, why = next(iter(bad.items()))
            raise BenchmarkError(f"{len(bad)} of {len(found)} Dask worker(s) cannot run these folds; {addr}: {why}.")

    def _execute(self, jobs: list[FoldJob]):
        """Run the folds with the configured executor; yield each result as it arrives (in this
        process, which alone writes the store)."""
        cfg = self.cfg
        # One fold left gains nothing from a process pool.
        local_jobs = cfg.jobs if len(jobs) > 1 else 1
        with make_executor(cfg.executor, local_jobs, cfg.scheduler, cfg.threads) as executor:
            self.execution = executor.describe()
            if cfg.executor == "local":
                self.execution["jobs"] = cfg.jobs  # as asked, also when fewer folds were left
            for job in jobs:
                job.n_threads = executor.threads_per_fold
                job.isolation = self._isolation_request()
                job.fold_timeout = cfg.fold_timeout
                job.progress = cfg.progress and cfg.executor == "local" and local_jobs == 1
                job.method_source = method_source(self.method_cls)
            self.fold_isolation: dict[str, tuple[str, str]] = {}
            for out in executor.map(run_fold, jobs, key=lambda j: j.fold_id):
                if out.error is None:
                    fold, scores, ex = out.value
                    ex = dict(ex)
                    # How each fold ran, for the run's provenance (_isolation_record).
                    self.fold_isolation[fold.fold_id] = (ex.pop("isolation", TRUSTED), ex.pop("isolation_detail", ""))
                    if getattr(self, "not_isolable", None) and self.fold_isolation[fold.fold_id][0] == ISOLATED:
                        self.fold_isolation[fold.fold_id] = (TRUSTED, self.not_isolable)
                    yield fold, scores, ex
                else:  # the task itself failed (e.g. its workers kept dying): a failed fold
                    yield lost_fold(out.item, out.error, out.traceback), None, {}

    def _secret(self, cache_root: Path) -> bytes:
        """The cache's pseudonym secret, read once per run."""
        if getattr(self, "_cache_secret", None) is None:
            self._cache_secret = cache_secret(cache_root)
        return self._cache_secret

    def _isolation_request(self) -> str:
        """``--isolation`` as requested (checked once): refuses ``sandbox`` where bwrap cannot run
        (local executor; Dask workers decide for themselves) and warns when ``auto`` falls back."""
        if getattr(self, "_isolation", None) is None:
            requested = requested_isolation(self.cfg.isolation)
            if requested != "none" and self.method_cls.__module__ == "__main__":
                # A class defined in the running script cannot be imported by a sandboxed worker.
                if requested == "sandbox":
                    raise BenchmarkError(
                        f"method '{self.cfg.method}' is defined in the running script, which a sandboxed fold "
                        "cannot import; define it in a module (or an entry point), or use --isolation none."
                    )
                log.warning(
                    "method '%s' is defined in the running script: its folds run in this process "
                    "and the run is marked trusted",
                    self.cfg.method,
                )
                requested = "none"
            if self.cfg.executor == "local" and requested != "none":
                mode, detail = resolve_isolation(requested)
                if mode == TRUSTED:
                    log.warning("folds run without a sandbox, so the run is marked trusted: %s", detail)
                elif getattr(self, "not_isolable", None):
                    log.warning("the run is marked trusted: %s", self.not_isolable)
            self._isolation = requested
        return self._isolation

    def _isolation_record(self, prov: dict[str, Any], folds) -> dict[str, Any]:
        """``isolation`` ("isolated" only when every stored fold ran in the sandbox, this session or
        an earlier one of a resumed run) and ``isolation_detail`` for the run's provenance."""
        ran = getattr(self, "fold_isolation", {})
        if not ran:  # nothing ran now (e.g. events re-scored): keep what was recorded
            return {k: prov[k] for k in ("isolation", "isolation_detail") if k in prov}
        before = prov.get("isolation", TRUSTED)
        # Folds of earlier sessions: as recorded when each was stored (also when that session was
        # interrupted before it could finish), else as the run was marked then.
        stored = prov.get("fold_isolation", {})
        modes = {ran[f.fold_id][0] if f.fold_id in ran else stored.get(f.fold_id, before) for f in folds} or {TRUSTED}
        details = sorted({d for _, d in ran.values() if d})
        mode = ISOLATED if modes == {ISOLATED} else TRUSTED
        if mode == TRUSTED and len(modes) > 1:
            details.insert(0, "folds ran in different modes (a resumed run): trusted")
        return {"isolation": mode, "isolation_detail": "; ".join(details)}

    def fold_windows(
        self, spec: SplitSpec, fold, rows_of: dict[str, pd.DataFrame], src_index: dict[str, int]
    ) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
        """``(train, valid or None, test)`` windows of ``fold``, each row with its source array
        (``_src``) and row (``_row``): the protocol's selection, the validation hold-out and the
        task's class balancing (the rules of :mod:`benchmark.fold_windows`)."""
        cfg = self.cfg

        def select(unit_ids: list[str]) -> pd.DataFrame:
            return select_units(rows_of, unit_ids, src_index)

        multiclass = self.task.balance_multiclass(tuple(spec.class_names()))
        balanced_pool = self.protocol.balanced_pool
        if fold.chunk_fold is not None:
            allw = select(fold.train)
            if balanced_pool and len(allw):
                # DistilCLIP-EEG balances its segments once, before the random split: one seed for
                # every fold, so the folds partition one balanced pool.
                allw = balance(allw, fold_seed(cfg.seed, "balanced-pool"), multiclass=multiclass)
            which = chunk_assignment(allw, spec.splitter(), self.task.metadata.whole_recording_chunks)
            test = allw[which == fold.chunk_fold].reset_index(drop=True)
            train = allw[which != fold.chunk_fold].reset_index(drop=True)
        else:
            train, test = select(fold.train), select(fold.test)
        # Extra ictal windows oversample seizures for training; scoring uses the regular grid only,
        # except where the paper's balanced pool, overlapping seizure windows included, is the test set.
        if not balanced_pool:
            test = test[~test["extra"].astype(bool)].reset_index(drop=True)
        valid = hold_out_units(train, cfg.valid_fraction, fold_seed(cfg.seed, fold.fold_id))
        if valid is not None:
            train = train[~train["unit"].isin(set(valid["unit"]))].reset_index(drop=True)
            valid = valid[~valid["extra"].astype(bool)].reset_index(drop=True)
        if self.task.metadata.balance_training and len(train):
            train = balance(train, fold_seed(cfg.seed, fold.fold_id), multiclass=multiclass)
        return train, valid, test

    def _leakage(self, spec: SplitSpec, fold, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
        """The fold's leakage record; a fold whose windows overlap is refused (never scored)."""
        leakage = check_leakage(train, test)
        if spec.leaky:
            leakage["protocol_leaky"] = True
        elif not leakage["ok"]:
            # Units, recordings, patients and subjects were checked when the split was loaded
            # (verify_split); overlapping windows can only be seen here. Never score such a fold.
            ex = leakage["examples"][0]
            raise SplitError(
                f"split file {getattr(self, 'split_file', spec.protocol)}: fold {fold.fold_id}: "
                f"{leakage['n_overlaps']} training window(s) overlap test windows (first: {ex['recording']} "
                f"{ex['train_start']:g}-{ex['train_end']:g} s); the split is wrong: restore it from git or "
                "re-freeze it with 'seizure-bench splits freeze'."
            )
        leakage["checks"] = leakage_checks(spec.protocol)
        return leakage

    def _unlabelled(self, spec: SplitSpec, fold, train: pd.DataFrame, src_index: dict[str, int]):
        """Unlabelled contextual clips a fold may pre-train on (video datasets), or ``None``."""
        if not self.unlabelled_of:
            return None
        # kfold5-random has every patient on both sides (the protocol is flagged leaky), so
        # there no patient is held out of pre-training either.
        tested = {spec.units[u].patient for u in fold.test} if fold.chunk_fold is None else set()
        labelled = {u.patient for u in spec.units.values()}
        training = set(train["patient"])
        # Contextual footage of training patients, and of patients never tested (no labelled
        # video); never of this fold's test patients.
        keep = [p for p in self.unlabelled_of if p not in tested and (p in training or p not in labelled)]
        parts = [
            self.unlabelled_of[p].assign(_src=src_index[f"{p}#contextual"], _row=np.arange(len(self.unlabelled_of[p])))
            for p in keep
        ]
        return pd.concat(parts, ignore_index=True) if parts else None

    def _job(self, spec: SplitSpec, fold, rows_of, sources, run_id) -> FoldJob:
        cfg = self.cfg
        pids = list(sources)
        src_index = {p: i for i, p in enumerate(pids)}
        train, valid, test = self.fold_windows(spec, fold, rows_of, src_index)
        leakage = self._leakage(spec, fold, train, test)
        unl = self._unlabelled(spec, fold, train, src_index)
        cols = ["patient", "recording", "start", "end", "unit"]

        def refs(t):
            return None if t is None else t[["_src", "_row"]].to_numpy(np.int64)

        def meta(t):
            return None if t is None else t[cols].reset_index(drop=True)

        cache_root = WindowCache(cfg.cache_dir).root
        salt = fold_salt(self._secret(cache_root), run_id, fold.fold_id)
        return FoldJob(
            fold_id=fold.fold_id,
            patient=fold.patient,
            method=cfg.method,
            budget=cfg.budget,
            overrides=dict(cfg.method_overrides),
            seed=fold_seed(cfg.seed, fold.fold_id),
            device=self.device,
            # Named by the fold's secret salt, not its id: a sandbox shows the host path of the
            # folder it binds (/proc/self/mountinfo), and a fold id can name the test patient.
            work_dir=str(cache_root / "work" / salt.hex()[:24]),
            scratch_dir=str(cache_root / "isolated"),
            private_arrays=cfg.jobs > 1 or cfg.executor != "local",
            sources=[sources[p] for p in pids],
            train_refs=refs(train),
            train_meta=meta(train),
            train_y=train["label"].to_numpy(np.int64),
            test_refs=refs(test),
            test_meta=meta(test),
            test_y=test["label"].to_numpy(np.int64),
            classes=tuple(spec.class_names()),
            valid_refs=refs(valid),
            valid_meta=meta(valid),
            valid_y=None if valid is None else valid["label"].to_numpy(np.int64),
            info={
                "representation": self.prep.representation,
                "window_s": self.window.window_s,
                "sfreq": self.prep.sfreq,
                "ch_names": list(self.prep.channels),
                "task": cfg.task,
                **(video_params(self.prep.representation_params) if self.prep.representation == "video" else {}),
                **self.metadata,
            },
            leakage=leakage,
            unlabelled_refs=refs(unl),
            unlabelled_meta=meta(unl),
            cache_dir=str(cache_root / "features"),
            salt=salt,
            isolation=self._isolation_request(),
        )

    def _finish(self, store: ResultStore, run_id: str, spec: SplitSpec, extra, cache_s: float, total_s: float):
        """Score the stored folds (the task's scoring), and record the run's status and provenance."""
        folds = store.folds(run_id)
        classes = spec.class_names()
        scores = store.scores(run_id, probs=len(classes) > 2)
        scored = self.task.score(scores, tuple(classes), self._scoring_context())
        per_patient = scored.per_patient
        store.save_patient_metrics(run_id, per_patient)
        store.save_summary(run_id, M.summarize(per_patient, seed=self.cfg.seed))
        n_ok = sum(f.status == "ok" for f in folds)
        expected = {f.fold_id for f in spec.folds}
        complete = n_ok == len(folds) and expected <= {f.fold_id for f in folds}
        leaky_folds = [f.fold_id for f in folds if not f.leakage_ok]
        prov = self._provenance(store.get_run(run_id).provenance, folds, classes, scored, extra, cache_s, total_s)
        store.update_run(
            run_id,
            status="complete" if complete else ("failed" if n_ok == 0 else "partial"),
            finished_at=_now(),
            provenance=prov,
            leakage={
                "ok": not leaky_folds and not spec.leaky,
                "checked_folds": len(folds),
                "checks": leakage_checks(spec.protocol),
                "overlapping_folds": leaky_folds,
                "protocol_leaky": spec.leaky,
            },
        )
        meta = self.method_cls.meta
        if warns_random_init(meta.pretrained, prov.get("weights_source")):
            log.warning(
                "run %s used randomly initialised weights where the paper starts from %s (no local weights "
                "path given): %s",
                run_id,
                meta.pretrained,
                prov.get("weights_source"),
            )
        return store.get_run(run_id)

    def _scoring_context(self) -> ScoringContext:
        return ScoringContext(
            index=getattr(self, "index", None),
            post_processing=self.cfg.events,
            video_aggregation=self.method_cls.meta.video_aggregation,
        )

    def _provenance(self, stored: dict[str, Any], folds, classes, scored, extra, cache_s: float, total_s: float):
        """The run's provenance after this session: code, versions, timings, scoring and isolation."""
        prov = dict(stored)
        before = prov.get("timings", {})  # a resumed run adds its time to the earlier sessions'
        prov.pop("process", None)  # only a running run needs it
        prov.update(
            code=method_code(self.method_cls),
            versions=package_versions(),
            git_commit=git_commit(),
            hardware=hardware(self.device),
            device=self.device,
            command=command_line(),
            timings={
                "total_s": round(before.get("total_s", 0.0) + total_s, 2),
                "windows_s": round(before.get("windows_s", 0.0) + cache_s, 2),
                "sessions": int(before.get("sessions", 0)) + 1,
                "fit_s": round(sum(f.fit_seconds for f in folds), 2),
                # Folds whose fit seconds leave out an earlier attempt's work they resumed from.
                "folds_resumed": sum(bool(f.resumed) for f in folds),
                "predict_s": round(sum(f.predict_seconds for f in folds), 2),
            },
            window={"window_s": self.window.window_s, "stride_s": self.window.stride_s},
            valid_fraction=self.cfg.valid_fraction,
            execution=getattr(self, "execution", None)
            or {"executor": self.cfg.executor, "jobs": self.cfg.jobs, "threads_per_fold": self.cfg.threads},
            classes=list(classes),
            pooled_metrics=scored.pooled,
        )
        prov.update(self._isolation_record(prov, folds))
        prov.update(scored.provenance)  # the task's scoring records (event scoring, video level)
        if extra:
            prov.update(n_params=extra.get("n_params"), weights_source=extra.get("weights_source"))
            if extra.get("efficiency"):
                prov["efficiency"] = extra["efficiency"]
        return prov


def contextual_table(index: RecordingIndex, window: WindowParams) -> dict[str, pd.DataFrame]:
    """Clips of every patient's unlabelled contextual videos, per patient (video datasets)."""
    out = {}
    for patient in index.patients:
        rows = []
        for item in patient.contextual:
            n = video_clip_count(item.duration, window)
            if n <= 0:
                continue
            starts = np.round(window.stride_s * np.arange(n), 6)
            rows.append(
                pd.DataFrame(
                    {
                        "patient": patient.patient_id,
                        "recording": item.video_id,
                        "start": starts,
                        "end": np.round(starts + window.window_s, 6),
                        "label": -1,
                        "unit": f"{patient.patient_id}/{item.video_id}",
                        "extra": False,
                    }
                )
            )
        if rows:
            out[patient.patient_id] = pd.concat(rows, ignore_index=True)
    return out


def window_metadata(index: RecordingIndex) -> dict[str, Any]:
    """Label-free metadata given to adapters in ``WindowSet.info``.

    Only age and sex of a patient's facts are passed on: other loader fields, such as Siena's
    per-patient seizure class, would hand a seizure-type classifier its label.

    ``dataset``, ``patients`` (``{patient: {"age": ..., "sex": ...}}``, values ``None`` when
    unknown) and ``montages`` (``{"patient/recording": montage or None}``).
    """
    patients, montages = {}, {}
    for patient in index.patients:
        patients[patient.patient_id] = {"age": patient.age, "sex": patient.sex}
        for rec in patient.recordings:
            montages[f"{patient.patient_id}/{rec.recording_id}"] = patient.montage(rec.recording_id)
    return {"dataset": index.dataset, "patients": patients, "montages": montages}


def _check_files_present(index: RecordingIndex, table: pd.DataFrame, dataset: str) -> None:
    """Fail before any work when EDF files the run reads are absent (a partial download, a wrong
    --data-dir), naming how many and the first, instead of failing hours later on the first one."""
    root = Path(index.root or ".")
    pairs = table[["patient", "recording"]].drop_duplicates().itertuples(index=False)
    files = sorted(index.recording(p, r).file for p, r in pairs)
    missing = [f for f in files if not (root / f).is_file()]
    kind = "video" if index.modality == "video" else "EDF"
    if missing:
        raise DataError(
            f"{len(missing)} of the {len(files)} {kind} files this run reads are missing under {root} "
            f"(first: {missing[0]}); point --data-dir at the complete {dataset} download."
        )


def _check_overrides(cls, budget: str, overrides: dict[str, Any]) -> None:
    """Refuse hyper-parameters the method does not have: a typo must not be ignored silently."""
    known = set(cls.meta.budgets.get(budget, {}))
    bad = sorted(k for k in overrides if k not in known)
    if bad:
        raise BenchmarkError(
            f"method '{cls.meta.name}' has no hyper-parameter(s) {bad} in budget '{budget}'; "
            f"it takes {sorted(known) or 'none'}."
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
