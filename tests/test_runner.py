"""End-to-end runs on the tiny synthetic dataset: results, determinism, resume, failed folds."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fakes import harness_fold_id, held_elsewhere, run_config

from benchmark import runner as runner_mod
from benchmark import work_folders
from benchmark.adapters import REGISTRY, MethodAdapter, MethodMeta
from benchmark.runner import RunConfig, Runner
from benchmark.store import ResultStore
from benchmark.windows import WindowCache
from benchmark.work_folders import WorkFolderBusy

config = run_config


def stored(cfg: RunConfig, run_id: str):
    store = ResultStore(cfg.store_path)
    return store, store.scores(run_id), store.patient_metrics(run_id)


def test_run_stores_everything_a_reviewer_needs(tmp_path, tiny_synthetic):
    cfg = config(tmp_path, tiny_synthetic)
    rec = Runner(cfg).run()
    assert rec.status == "complete" and rec.synthetic
    store, scores, per_patient = stored(cfg, rec.run_id)
    folds = store.folds(rec.run_id)
    # loocv: one fold per lead seizure; tiny has 2 patients x 2 lead seizures
    assert sorted(f.fold_id for f in folds) == ["chb01-f00", "chb01-f01", "chb02-f00", "chb02-f01"]
    assert set(per_patient.index) == {"chb01", "chb02"}
    assert {"sensitivity", "specificity", "fpr", "roc_auc"} <= set(per_patient.columns)
    # scores keep window times so any metric can be recomputed
    assert list(scores.columns[:5]) == ["fold_id", "patient", "recording", "start", "end"]
    assert ((scores["end"] - scores["start"]) == 10.0).all()
    assert set(scores["label"]) == {0, 1}
    assert rec.leakage["ok"] and rec.leakage["checked_folds"] == 4
    prov = rec.provenance
    assert prov["versions"]["torch"] and prov["git_commit"] and prov["hardware"]["cpu_count"]
    assert prov["timings"]["total_s"] > 0
    assert rec.task_params["sop_minutes"] == 10 and rec.task_params["window_s"] == 10
    assert rec.split_hash and rec.index_hash
    # no committed split for this dataset: an ad-hoc one is frozen into the cache (per dataset version),
    # never into splits/
    version = rec.index_hash[:16]
    assert (cfg.cache_dir / "splits" / "chbmit-synthetic" / version / "prediction-sop10-sph0-gap4h-loocv.json").exists()
    assert not cfg.splits_dir.exists()
    # the dataset's own exclusions travel with the split into the run
    assert isinstance(rec.exclusions, list)


def test_same_seed_same_numbers_and_cache_reuse(tmp_path, tiny_synthetic, monkeypatch):
    a = config(tmp_path / "a", tiny_synthetic, method="eegnet", method_overrides={"epochs": 1})
    rec_a = Runner(a).run()
    built = []
    monkeypatch.setattr(WindowCache, "_build", lambda *args, **kw: built.append(1))
    b = config(tmp_path / "b", tiny_synthetic, method="eegnet", method_overrides={"epochs": 1}, cache_dir=a.cache_dir)
    rec_b = Runner(b).run()
    assert not built, "the second run must reuse the window cache"
    assert rec_a.run_id == rec_b.run_id
    sa, sb = stored(a, rec_a.run_id)[1], stored(b, rec_b.run_id)[1]
    pd.testing.assert_frame_equal(sa, sb)
    c = config(
        tmp_path / "c", tiny_synthetic, method="eegnet", method_overrides={"epochs": 1}, seed=1, cache_dir=a.cache_dir
    )
    rec_c = Runner(c).run()
    assert rec_c.run_id != rec_a.run_id
    assert not np.allclose(stored(c, rec_c.run_id)[1]["score"], sa["score"])


def test_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path, tiny_synthetic, monkeypatch):
    reference = config(tmp_path / "ref", tiny_synthetic)
    ref = Runner(reference).run()

    cfg = config(tmp_path / "int", tiny_synthetic, cache_dir=reference.cache_dir)
    real = runner_mod.run_fold
    calls = []

    def dies_on_third(job):
        calls.append(job.fold_id)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the user kills the run while fold 3 trains
        return real(job)

    monkeypatch.setattr(runner_mod, "run_fold", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        Runner(cfg).run()
    store = ResultStore(cfg.store_path)
    run_id = ref.run_id
    assert store.fold_ids(run_id) == set(calls[:2])  # at most the fold in flight is lost
    assert store.get_run(run_id).status == "interrupted"  # item 6: a stopped run says so

    calls.clear()
    monkeypatch.setattr(runner_mod, "run_fold", lambda job: (calls.append(job.fold_id), real(job))[1])
    rec = Runner(cfg).run()
    assert len(calls) == 2, "finished folds are skipped on resume"
    assert rec.status == "complete"
    pd.testing.assert_frame_equal(
        ResultStore(cfg.store_path).scores(run_id), ResultStore(reference.store_path).scores(run_id)
    )
    pd.testing.assert_frame_equal(
        ResultStore(cfg.store_path).patient_metrics(run_id), ResultStore(reference.store_path).patient_metrics(run_id)
    )


class Checkpoints(MethodAdapter):
    """Pre-trains into its work folder unless a checkpoint is there: its scores tell which happened."""

    meta = MethodMeta(
        name="checkpoints_test",
        modality="eeg",
        tasks=("prediction",),
        representation="bandpower",
        budgets={"smoke": {}, "paper": {}},
    )

    def fit(self, train, valid, context):
        checkpoint = context.work_dir / "encoder.pt"
        self.loaded_ = checkpoint.exists()
        checkpoint.write_text("pre-trained")

    def predict_proba(self, test):
        p = 0.9 if self.loaded_ else 0.7
        return np.tile([1 - p, p], (len(test), 1))


@pytest.fixture
def checkpointing_method():
    REGISTRY.names()
    REGISTRY.add(Checkpoints)
    yield Checkpoints.meta.name
    REGISTRY._methods.pop(Checkpoints.meta.name, None)
    REGISTRY._origin.pop(Checkpoints.meta.name, None)


def _loaded(store: ResultStore, run_id: str) -> dict[str, bool]:
    scores = store.scores(run_id)
    return {fold: bool(np.all(s["score"] == 0.9)) for fold, s in scores.groupby("fold_id")}


def _killed_at_fold(cfg: RunConfig, n: int, monkeypatch, before_kill=None) -> list:
    """Run ``cfg`` until its ``n``-th fold, where the user kills it (``before_kill(job)`` first, e.g.
    what the fold wrote before it died); the jobs started, in order."""
    real, jobs = runner_mod.run_fold, []

    def dies(job):
        jobs.append(job)
        if len(jobs) == n:
            if before_kill is not None:
                before_kill(job)
            raise KeyboardInterrupt
        return real(job)

    monkeypatch.setattr(runner_mod, "run_fold", dies)
    with pytest.raises(KeyboardInterrupt):
        Runner(cfg).run()
    monkeypatch.setattr(runner_mod, "run_fold", real)
    return jobs


def test_a_run_new_to_its_store_resumes_no_earlier_work(tmp_path, tiny_synthetic, checkpointing_method, monkeypatch):
    cfg = config(tmp_path, tiny_synthetic, method=checkpointing_method)
    first = Runner(cfg).run()
    cfg.store_path.unlink()  # the same command again, into a new store: the folds' checkpoints are there
    _killed_at_fold(cfg, 2, monkeypatch)  # the new run's first session never reaches its later folds
    again = Runner(cfg).run()
    store = ResultStore(cfg.store_path)
    assert again.run_id == first.run_id
    assert not any(_loaded(store, again.run_id).values()), "a fresh run must not load an earlier run's files"
    assert not any(f.resumed for f in store.folds(again.run_id))
    assert again.provenance["timings"]["folds_resumed"] == 0


def test_a_fold_resumed_from_an_interrupted_attempt_is_marked(
    tmp_path, tiny_synthetic, checkpointing_method, monkeypatch
):
    cfg = config(tmp_path, tiny_synthetic, method=checkpointing_method)

    def pre_trained(job):  # killed after pre-training, before the fold was stored
        os.makedirs(job.work_dir, exist_ok=True)
        (Path(job.work_dir) / "encoder.pt").write_text("pre-trained")

    calls = [job.fold_id for job in _killed_at_fold(cfg, 3, monkeypatch, pre_trained)]
    rec = Runner(cfg).run()
    store = ResultStore(cfg.store_path)
    folds = {f.fold_id: f for f in store.folds(rec.run_id)}
    assert {k for k, f in folds.items() if f.resumed} == {calls[2]}
    assert {k for k, v in _loaded(store, rec.run_id).items() if v} == {calls[2]}
    assert rec.provenance["timings"]["folds_resumed"] == 1


def _work_folders(cfg: RunConfig) -> list[Path]:
    return sorted(p for p in (WindowCache(cfg.cache_dir).root / "work").iterdir() if p.is_dir())


def test_a_new_run_refuses_a_fold_work_folder_another_process_holds_and_empties_none(
    tmp_path, tiny_synthetic, checkpointing_method, monkeypatch
):
    cfg = config(tmp_path, tiny_synthetic, method=checkpointing_method)
    real, emptied = work_folders.clear_all, []
    monkeypatch.setattr(work_folders, "clear_all", lambda dirs: (emptied.append(list(dirs)), real(dirs)))
    Runner(cfg).run()
    cfg.store_path.unlink()  # the same command into a new store while the first still runs a fold
    folders = _work_folders(cfg)
    assert len(folders) == 4 and all((f / "encoder.pt").exists() for f in folders)
    last = emptied[0][-1]  # the folder emptied last: every one must be checked before any is emptied
    with held_elsewhere([last]):
        with pytest.raises(WorkFolderBusy, match="in use by another process.*another --cache-dir"):
            Runner(cfg).run()
    assert all((f / "encoder.pt").exists() for f in folders), "a refused run empties no work folder"
    assert not cfg.store_path.exists() or not ResultStore(cfg.store_path).list_runs()
    rec = Runner(cfg).run()  # once the other process is done
    assert rec.status == "complete" and not any(_loaded(ResultStore(cfg.store_path), rec.run_id).values())


def test_a_fold_whose_work_folder_another_process_holds_fails_in_one_line_and_runs_on_resume(
    tmp_path, tiny_synthetic, checkpointing_method, monkeypatch
):
    cfg = config(tmp_path, tiny_synthetic, method=checkpointing_method)
    jobs = _killed_at_fold(cfg, 2, monkeypatch)
    killed = jobs[1]
    with held_elsewhere([Path(killed.work_dir)]):  # resumed while another process runs that fold
        rec = Runner(cfg).run()
    store = ResultStore(cfg.store_path)
    status = {f.fold_id: f.status for f in store.folds(rec.run_id)}
    failed = {f.fold_id: f.error for f in store.folds(rec.run_id) if f.status == "failed"}
    assert set(failed) == {killed.fold_id} and sum(s == "ok" for s in status.values()) == 3
    assert failed[killed.fold_id].startswith("WorkFolderBusy: a fold's work folder is in use by another process")
    assert "\n" not in failed[killed.fold_id]
    rec = Runner(cfg).run()  # once the other process is done: the failed fold is run, nothing lost
    assert rec.status == "complete"
    assert {f.fold_id for f in ResultStore(cfg.store_path).folds(rec.run_id) if f.status == "ok"} == set(status)


class FailsOnChb02(MethodAdapter):
    meta = MethodMeta(
        name="fails_on_chb02_test",
        modality="eeg",
        tasks=("prediction",),
        representation="bandpower",
        budgets={"smoke": {}, "paper": {}},
    )

    def fit(self, train, valid, context):
        if (harness_fold_id() or "").startswith("chb02"):
            raise RuntimeError("synthetic failure for chb02")

    def predict_proba(self, test):
        return np.tile([0.3, 0.7], (len(test), 1))


@pytest.fixture
def failing_method():
    REGISTRY.names()
    REGISTRY.add(FailsOnChb02)
    yield FailsOnChb02.meta.name
    REGISTRY._methods.pop(FailsOnChb02.meta.name, None)
    REGISTRY._origin.pop(FailsOnChb02.meta.name, None)


def test_failed_fold_is_stored_with_traceback_and_the_run_goes_on(tmp_path, tiny_synthetic, failing_method):
    cfg = config(tmp_path, tiny_synthetic, method=failing_method)
    rec = Runner(cfg).run()
    assert rec.status == "partial"
    store = ResultStore(cfg.store_path)
    folds = {f.fold_id: f for f in store.folds(rec.run_id)}
    assert {f.status for k, f in folds.items() if k.startswith("chb01")} == {"ok"}
    failed = [f for k, f in folds.items() if k.startswith("chb02")]
    assert failed and all(f.status == "failed" for f in failed)
    assert "synthetic failure for chb02" in failed[0].error
    assert "Traceback" in failed[0].traceback and "fit" in failed[0].traceback
    assert list(store.patient_metrics(rec.run_id).index) == ["chb01"]


def test_parallel_folds_match_serial(tmp_path, tiny_synthetic):
    serial = config(tmp_path / "s", tiny_synthetic)
    parallel = config(tmp_path / "p", tiny_synthetic, jobs=2, cache_dir=serial.cache_dir)
    a, b = Runner(serial).run(), Runner(parallel).run()
    sa = ResultStore(serial.store_path).scores(a.run_id).sort_values(["fold_id", "recording", "start"])
    sb = ResultStore(parallel.store_path).scores(b.run_id).sort_values(["fold_id", "recording", "start"])
    pd.testing.assert_frame_equal(sa.reset_index(drop=True), sb.reset_index(drop=True))


def test_threads_option_sets_torch_threads_and_is_recorded(tmp_path, tiny_synthetic):
    import torch

    before = torch.get_num_threads()
    try:
        cfg = config(tmp_path, tiny_synthetic, method="chance", threads=1)
        rec = Runner(cfg).run()
        assert torch.get_num_threads() == 1  # serial folds run in this process
        execution = rec.provenance["execution"]
        assert execution["threads_per_fold"] == 1 and execution["threads"] == 1  # --threads as given, and used
        # The wait policy in force is recorded: passive where the machine was busy at start, else OpenMP's.
        assert execution["omp_wait_policy"] == {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
        assert rec.provenance["hardware"]["torch_threads"] == 1
    finally:
        torch.set_num_threads(before)


def test_leaky_protocol_is_flagged_and_detection_runs(tmp_path, tiny_synthetic):
    cfg = config(tmp_path, tiny_synthetic, method="chance", task="detection", protocol="kfold5-random")
    rec = Runner(cfg).run()
    assert rec.leakage["protocol_leaky"] and not rec.leakage["ok"]
    scores = ResultStore(cfg.store_path).scores(rec.run_id)
    assert ((scores["end"] - scores["start"]) == 1.0).all()
    assert scores["label"].sum() > 0  # ictal windows are labelled by seizure overlap
    cfg2 = config(tmp_path, tiny_synthetic, method="chance", task="detection", protocol="loso")
    rec2 = Runner(cfg2).run()
    assert rec2.leakage["ok"] and rec2.status == "complete"


class RecordsValid(MethodAdapter):
    meta = MethodMeta(
        name="records_valid_test",
        modality="eeg",
        tasks=("prediction",),
        representation="bandpower",
        budgets={"smoke": {}, "paper": {}},
    )

    def fit(self, train, valid, context):
        assert valid is not None and valid.y is not None
        # validation units are whole units that are not in the training set
        assert not set(valid.meta["unit"]) & set(train.meta["unit"])
        self.p = float(valid.y.mean())

    def predict_proba(self, test):
        return np.tile([1 - self.p, self.p], (len(test), 1))


def test_valid_fraction_holds_out_whole_training_units(tmp_path, tiny_synthetic):
    REGISTRY.names()
    REGISTRY.add(RecordsValid)
    try:
        cfg = config(tmp_path, tiny_synthetic, method="records_valid_test", protocol="loso", valid_fraction=0.5)
        rec = Runner(cfg).run()
        assert rec.status == "complete", [f.error for f in ResultStore(cfg.store_path).folds(rec.run_id)]
        assert rec.provenance["valid_fraction"] == 0.5
    finally:
        REGISTRY._methods.pop("records_valid_test", None)
        REGISTRY._origin.pop("records_valid_test", None)


def test_a_method_defined_in_the_running_script_runs_in_process_and_is_trusted(tmp_path, tiny_synthetic):
    """A sandboxed worker cannot import a class of ``__main__``: under ``auto`` its folds run in this
    process (trusted), and ``--isolation sandbox`` is refused in one line before anything is stored."""
    import dataclasses

    from baselines.chance import ChanceAdapter
    from benchmark.errors import BenchmarkError

    class ScriptChance(ChanceAdapter):
        meta = dataclasses.replace(ChanceAdapter.meta, name="script-chance")

    ScriptChance.__module__ = "__main__"
    REGISTRY.add(ScriptChance)
    try:
        cfg = run_config(
            tmp_path, tiny_synthetic, method="script-chance", task="detection", protocol="loso", isolation="auto"
        )
        rec = Runner(cfg).run()
        assert rec.status == "complete" and rec.provenance["isolation"] == "trusted"
        strict = dataclasses.replace(cfg, isolation="sandbox", store_path=tmp_path / "strict.sqlite")
        with pytest.raises(BenchmarkError, match="defined in the running script.*--isolation none"):
            Runner(strict).run()
        assert not ResultStore(tmp_path / "strict.sqlite").list_runs()
    finally:
        REGISTRY._methods.pop("script-chance", None)
        REGISTRY._origin.pop("script-chance", None)


class RecordsProgress(MethodAdapter):
    """Remembers whether the harness asked it to show its epoch bars."""

    meta = MethodMeta(
        name="records_progress_test",
        modality="eeg",
        tasks=("prediction",),
        representation="bandpower",
        budgets={"smoke": {}, "paper": {}},
    )
    seen: list[bool] = []

    def fit(self, train, valid, context):
        RecordsProgress.seen.append(context.progress)

    def predict_proba(self, test):
        return np.tile([0.5, 0.5], (len(test), 1))


@pytest.mark.parametrize("progress", [True, False])
def test_folds_run_one_at_a_time_show_the_methods_progress_when_the_run_does(tmp_path, tiny_synthetic, progress):
    REGISTRY.names()
    REGISTRY.add(RecordsProgress)
    RecordsProgress.seen = []
    try:
        rec = Runner(config(tmp_path, tiny_synthetic, method=RecordsProgress.meta.name, progress=progress)).run()
    finally:
        REGISTRY._methods.pop(RecordsProgress.meta.name, None)
        REGISTRY._origin.pop(RecordsProgress.meta.name, None)
    assert rec.status == "complete"
    assert RecordsProgress.seen and set(RecordsProgress.seen) == {progress}


def test_the_synthetic_dataset_shows_a_progress_bar_while_a_run_generates_it(tmp_path, capsys):
    from conftest import tiny_config

    from benchmark.datasets import load_dataset

    index = load_dataset("chbmit-synthetic", tmp_path / "ds", config=tiny_config(), progress=True)
    assert index.synthetic
    assert "h of synthetic EEG" in capsys.readouterr().err
    load_dataset("chbmit-synthetic", tmp_path / "ds", progress=True)  # already there: nothing to show
    assert "synthetic EEG" not in capsys.readouterr().err
