"""Folds on a Dask cluster: same stored results as a sequential run, a dying worker loses nothing,
clear one-line errors for a wrong executor choice.

The cluster is a real ``distributed.LocalCluster`` of two single-thread worker processes on
127.0.0.1; data are the tiny SYNTHETIC CHB-MIT-shaped dataset of ``conftest.py``.
"""

from __future__ import annotations

import os
import pickle
import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _executor_helpers import HELPERS, CentroidAdapter, registered
from fakes import run_config

from benchmark import cli
from benchmark import runner as runner_mod
from benchmark.adapters import REGISTRY
from benchmark.errors import BenchmarkError
from benchmark.executors import DaskExecutor, LocalExecutor, check_options, make_executor, public_address
from benchmark.runner import RunConfig, Runner
from benchmark.store import ResultStore
from benchmark.threads import available_cores, threads_per_fold, wait_policy

distributed = pytest.importorskip("distributed")


config = run_config


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        preload=[HELPERS],  # registers the test adapters in every worker, restarted ones too
    ) as lc:
        yield lc


@pytest.fixture
def test_adapters():
    with registered():
        yield


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_same_results(a: RunConfig, b: RunConfig, run_id: str) -> None:
    sa, sb = ResultStore(a.store_path), ResultStore(b.store_path)
    fa, fb = sa.folds(run_id), sb.folds(run_id)
    assert [f.fold_id for f in fa] == [f.fold_id for f in fb]
    assert all(f.status == "ok" for f in fb)
    assert [f.metrics for f in fa] == [f.metrics for f in fb]
    key = ["fold_id", "patient", "recording", "start"]
    pd.testing.assert_frame_equal(
        sa.scores(run_id).sort_values(key).reset_index(drop=True),
        sb.scores(run_id).sort_values(key).reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(sa.patient_metrics(run_id), sb.patient_metrics(run_id))


def test_dask_run_stores_the_sequential_results(tmp_path, tiny_synthetic, cluster, test_adapters):
    # A nearest-centroid adapter: its scores depend on every window, and it needs no import heavier
    # than numpy in the workers (sklearn alone takes seconds to import on a busy 2-core runner).
    seq = config(tmp_path / "seq", tiny_synthetic, method="centroid_exec_test")
    ref = Runner(seq).run()
    dsk = config(
        tmp_path / "dask",
        tiny_synthetic,
        method="centroid_exec_test",
        cache_dir=seq.cache_dir,
        executor="dask",
        scheduler=cluster.scheduler_address,
    )
    rec = Runner(dsk).run()
    assert rec.run_id == ref.run_id and rec.status == "complete"
    assert_same_results(seq, dsk, rec.run_id)
    assert len(ResultStore(dsk.store_path).folds(rec.run_id)) == 4
    execution = rec.provenance["execution"]
    assert execution["executor"] == "dask" and execution["workers"] == 2
    assert execution["scheduler"] == cluster.scheduler_address
    # Resume holds with a cluster too: nothing left, nothing re-run.
    again = Runner(dsk).run()
    assert again.status == "complete" and again.finished_at == rec.finished_at


def test_a_worker_dying_mid_fold_loses_nothing(tmp_path, tiny_synthetic, cluster, test_adapters):
    markers = tmp_path / "markers"
    markers.mkdir()
    victim = "chb01"  # loso: one fold per patient
    kw = dict(
        method="kills_worker_once_test",
        method_overrides={"marker_dir": str(markers), "kill_fold": victim},
        task="detection",
        protocol="loso",
    )
    seq = config(tmp_path / "seq", tiny_synthetic, **kw)
    ref = Runner(seq).run()  # in this process: nothing is killed
    assert victim in {f.fold_id for f in ResultStore(seq.store_path).folds(ref.run_id)}
    assert not list(markers.iterdir())
    dsk = config(
        tmp_path / "dask",
        tiny_synthetic,
        cache_dir=seq.cache_dir,
        executor="dask",
        scheduler=cluster.scheduler_address,
        **kw,
    )
    rec = Runner(dsk).run()
    # the first attempt at the fold killed its worker process; the fold was re-run to the end
    marker = markers / f"{victim}.killed"
    assert marker.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(int(marker.read_text()), 0)
    assert rec.status == "complete" and rec.run_id == ref.run_id
    assert_same_results(seq, dsk, rec.run_id)


class _MainProcessOnly(CentroidAdapter):
    """A plug-in installed in this process but on no worker."""

    meta = replace(CentroidAdapter.meta, name="main_process_only_test")


@pytest.mark.parametrize("problem", ["method missing on the workers", "other package versions"])
def test_a_cluster_that_cannot_run_the_folds_is_refused_before_anything_is_stored(
    tmp_path, tiny_synthetic, cluster, test_adapters, monkeypatch, problem
):
    with distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)  # a worker killed by an earlier test is back
    method = "centroid_exec_test"
    if problem == "method missing on the workers":
        method = "main_process_only_test"
        REGISTRY.names()  # built-ins first, as REGISTRY.add does
        monkeypatch.setitem(REGISTRY._methods, method, _MainProcessOnly)  # removed again after the test
        monkeypatch.setitem(REGISTRY._origin, method, "test")
    else:
        # This process claims another torch than the workers run.
        mine = {**runner_mod.package_versions(), "torch": "0.0.1"}
        monkeypatch.setattr(runner_mod, "package_versions", lambda: mine)
    cfg = config(tmp_path, tiny_synthetic, method=method, executor="dask", scheduler=cluster.scheduler_address)
    with pytest.raises(BenchmarkError) as err:
        Runner(cfg).run()
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("2 of 2 Dask worker(s) cannot run these folds; tcp://127.0.0.1:")
    if problem == "method missing on the workers":
        assert "method 'main_process_only_test' is not registered there; install" in msg
    else:
        assert f"torch {torch_version()} (here 0.0.1)" in msg and "uv sync --locked" in msg
    with ResultStore(cfg.store_path) as store:
        assert store.list_runs() == []  # refused before the run was recorded


def torch_version() -> str:
    from importlib import metadata

    return metadata.version("torch")


def test_a_worker_that_cannot_see_the_window_cache_says_so(tmp_path):
    gone = str(tmp_path / "not-shared" / "X.npy")
    assert runner_mod.worker_problem("bandpower_logreg", [], runner_mod.package_versions()) is None
    why = runner_mod.worker_problem("bandpower_logreg", [gone], runner_mod.package_versions())
    assert why.startswith(f"it cannot read {gone}; --cache-dir must be on a file system the workers share")


def test_dask_task_errors_are_retried_then_reported(tmp_path, cluster):
    with DaskExecutor(cluster.scheduler_address, retries=2) as ex:
        outs = {
            o.item: o
            for o in ex.map(_fails_on_odd, [(str(tmp_path), i) for i in range(4)], key=lambda it: f"item{it[1]}")
        }
    assert [outs[(str(tmp_path), i)].value for i in (0, 2)] == [0, 4]
    for i in (1, 3):
        out = outs[(str(tmp_path), i)]
        assert isinstance(out.error, ValueError) and "odd item" in str(out.error)
        assert "_fails_on_odd" in out.traceback
        assert len(list(tmp_path.glob(f"attempt-{i}-*"))) == 3  # first try and two retries


def _fails_on_odd(item):
    import uuid

    folder, i = item
    if i % 2:
        (Path(folder) / f"attempt-{i}-{uuid.uuid4().hex}").touch()
        raise ValueError(f"odd item {i}")
    return 2 * i


def test_a_fold_whose_task_fails_is_stored_as_failed(tmp_path, tiny_synthetic, monkeypatch):
    from benchmark.executors import Outcome

    class Flaky(LocalExecutor):
        def map(self, fn, items, key=None):
            for i, item in enumerate(items):
                if i == 0:
                    yield Outcome(item, error=RuntimeError("worker lost three times"), traceback="Traceback: x")
                else:
                    yield Outcome(item, fn(item))

        def describe(self):
            return {"executor": "flaky"}

    monkeypatch.setattr(runner_mod, "make_executor", lambda *a, **k: Flaky())
    cfg = config(tmp_path, tiny_synthetic, method="chance")
    rec = Runner(cfg).run()
    assert rec.status == "partial" and rec.provenance["execution"]["executor"] == "flaky"
    folds = ResultStore(cfg.store_path).folds(rec.run_id)
    failed = [f for f in folds if f.status == "failed"]
    assert len(failed) == 1 and failed[0].error == "RuntimeError: worker lost three times"
    assert failed[0].n_train > 0 and failed[0].n_test > 0


def test_fold_jobs_carry_paths_not_window_data(tmp_path, tiny_synthetic, monkeypatch):
    jobs = []
    real = runner_mod.run_fold
    monkeypatch.setattr(runner_mod, "run_fold", lambda job: (jobs.append(job), real(job))[1])
    cfg = config(tmp_path, tiny_synthetic, method="chance")
    Runner(cfg).run()
    assert jobs
    for job in jobs:
        assert all(isinstance(p, str) and (Path(p) / "X.npy").is_file() for p in job.sources)
        for name, value in vars(job).items():
            if isinstance(value, np.ndarray):
                assert value.dtype.kind == "i", f"{name} is {value.dtype}: window data must not travel with a job"
            if isinstance(value, pd.DataFrame):
                assert set(value.columns) <= {"patient", "recording", "start", "end", "unit"}, name
        n_windows = len(job.train_refs) + len(job.test_refs)
        cache_bytes = sum(Path(p).stat().st_size for p in job.sources)
        # a few dozen bytes of references and labels per window, less than the windows themselves
        assert len(pickle.dumps(job)) < 200 * n_windows + 20_000
        assert len(pickle.dumps(job)) < cache_bytes


def test_executor_options_fail_early_with_one_line(tmp_path):
    with pytest.raises(BenchmarkError, match="--scheduler needs --executor dask"):
        check_options("local", 1, "tcp://127.0.0.1:8786")
    with pytest.raises(BenchmarkError, match="--executor dask needs --scheduler"):
        check_options("dask", 1, None)
    with pytest.raises(BenchmarkError, match="--jobs applies to --executor local"):
        check_options("dask", 4, "tcp://127.0.0.1:8786")
    with pytest.raises(BenchmarkError, match="unknown executor 'slurm'"):
        check_options("slurm")
    with pytest.raises(BenchmarkError, match="only scheme, host and port"):
        check_options("dask", 1, "tcp://user:pw@somehost:8786")
    with pytest.raises(BenchmarkError, match="must name a host and port"):
        check_options("dask", 1, "tcp://somehost")
    port = free_port()
    with pytest.raises(BenchmarkError, match=f"could not reach the Dask scheduler at tcp://127.0.0.1:{port}"):
        check_options("dask", 1, f"tcp://127.0.0.1:{port}")
    with pytest.raises(BenchmarkError, match="could not reach the Dask scheduler"):
        DaskExecutor(f"tcp://127.0.0.1:{port}", timeout=1)
    assert isinstance(make_executor("local", 3), LocalExecutor)
    assert public_address("tcp://user:secret@10.0.0.5:8786/path?token=x") == "tcp://10.0.0.5:8786"


def test_cli_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path, tiny_synthetic, capsys):
    store = tmp_path / "r.sqlite"
    port = free_port()
    base = [
        "--store",
        str(store),
        "run",
        "--method",
        "chance",
        "--dataset",
        "chbmit-synthetic",
        "--data-dir",
        str(tiny_synthetic),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
    ]
    for extra, expected in [
        (["--executor", "dask", "--scheduler", f"tcp://127.0.0.1:{port}"], "could not reach the Dask scheduler"),
        (["--scheduler", f"tcp://127.0.0.1:{port}"], "--scheduler needs --executor dask"),
        (["--executor", "dask"], "--executor dask needs --scheduler"),
    ]:
        assert cli.main(base + extra) != 0
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and expected in err, err
    assert not store.exists()


def test_local_executor_runs_serially_or_in_processes():
    assert [o.value for o in LocalExecutor(1).map(abs, [-1, -2, 3])] == [1, 2, 3]
    assert sorted(o.value for o in LocalExecutor(2).map(abs, [-1, -2, 3])) == [1, 2, 3]
    assert LocalExecutor(2, threads=None).threads_per_fold == threads_per_fold(2)
    assert LocalExecutor(1, threads=None).threads_per_fold == available_cores()
    assert LocalExecutor(2, threads=3).describe() == {
        "executor": "local",
        "jobs": 2,
        "threads_per_fold": 3,
        "threads": 3,
        "omp_wait_policy": wait_policy(),
    }


class _NotDask:
    """A TCP service on 127.0.0.1 that is not a Dask scheduler; stops by itself after ``life_s``."""

    def __init__(self, mode: str, life_s: float = 30.0):
        import threading

        self.mode = mode
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.srv.settimeout(0.2)
        self.port = self.srv.getsockname()[1]
        self.stop_at = __import__("time").monotonic() + life_s
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import time

        held = []
        while time.monotonic() < self.stop_at:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                continue
            conn.settimeout(2.0)
            try:
                if self.mode == "http":  # waits for a request, then answers as a web server does
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    conn.close()
                elif self.mode == "garbage":
                    conn.sendall(b"\xff" * 64 + b"hello")
                    conn.close()
                else:  # silent: accepts and never says anything
                    held.append(conn)
            except OSError:
                conn.close()
        for conn in held:
            conn.close()
        self.srv.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_at = 0
        self.thread.join(5)


@pytest.mark.parametrize("mode", ["http", "garbage", "silent"])
def test_item11_a_service_that_is_not_dask_fails_in_one_line_within_bounded_time(
    tmp_path, tiny_synthetic, capsys, mode
):
    import time

    with _NotDask(mode) as srv:
        address = f"tcp://127.0.0.1:{srv.port}"
        t0 = time.monotonic()
        with pytest.raises(BenchmarkError, match=f"no Dask scheduler answered at {address}") as err:
            DaskExecutor(address, timeout=1.0)
        assert "check --scheduler" in str(err.value) and len(str(err.value).splitlines()) == 1
        store = tmp_path / "r.sqlite"
        rc = cli.main(
            [
                "--store",
                str(store),
                "run",
                "--method",
                "chance",
                "--dataset",
                "chbmit-synthetic",
                "--data-dir",
                str(tiny_synthetic),
                "--cache-dir",
                str(tmp_path / "cache"),
                "--no-progress",
                "--threads",
                "1",
                "--executor",
                "dask",
                "--scheduler",
                address,
            ]
        )
        elapsed = time.monotonic() - t0
    err = capsys.readouterr().err
    assert rc != 0 and len(err.strip().splitlines()) == 1, err
    assert f"no Dask scheduler answered at {address}" in err and "check --scheduler" in err, err
    assert elapsed < 15, f"took {elapsed:.1f} s"  # the silent service: 1 s, then the run's 5 s
    assert not store.exists()
