"""Runs that tell the truth about themselves (issue 12, items 5-7).

5. A run is identified by the method's code (distribution, version, source hash): a plug-in fixed
   between two invocations starts a new run, never resumes the old one's folds.
6. Status words: "failed" when no fold succeeded, "interrupted" after Ctrl-C or SIGTERM, a dead
   "running" run shown as interrupted, ``--fail-fast``.
7. A damaged, read-only or full store gives one line, never a traceback, and loses nothing.

The plug-in of these tests is a real package with a ``.dist-info`` folder (name, version,
top-level package, entry point) written to ``tmp_path``, as ``pip install`` would lay it out.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fakes import read_only_for_the_store, run_config

from benchmark import provenance as prov_mod
from benchmark import runner as runner_mod
from benchmark import store as store_mod
from benchmark.adapters import ENTRY_POINT_GROUP, REGISTRY
from benchmark.cli import main
from benchmark.errors import BenchmarkError, StoreError
from benchmark.provenance import method_code, package_versions, process_start_time
from benchmark.runner import Runner
from benchmark.store import FoldResult, ResultStore, RunRecord, effective_status

REPO = Path(__file__).resolve().parents[2]
runner_mod_real = runner_mod.run_fold

PLUGIN_SOURCE = """
import os
import time

import numpy as np

from benchmark.adapters import MethodAdapter, MethodMeta


class Plugin(MethodAdapter):
    meta = MethodMeta(
        name="{name}", modality="eeg", tasks=("prediction",), representation="bandpower",
        budgets={{"smoke": {{}}, "paper": {{}}}}, citation="seizure-bench test plug-in",
    )

    def fit(self, train, valid, context):
        time.sleep(float(os.environ.get("SB_TEST_PLUGIN_SLEEP", "0")))
        if os.environ.get("SB_TEST_PLUGIN_FAIL"):
            raise RuntimeError("this plug-in fails every fold")

    def predict_proba(self, test):
        return np.tile([{p0}, {p1}], (len(test), 1))
"""


def _write_plugin(root: Path, p1: float = 0.7) -> tuple[str, str, Path]:
    """A plug-in package ``sbplug_<id>`` with its dist-info under ``root``; returns
    (method name, package, package folder)."""
    package = f"sbplug_{uuid.uuid4().hex[:10]}"
    name = f"{package}_method"
    pkg = root / package
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""A test plug-in."""\n')
    (pkg / "adapter.py").write_text(PLUGIN_SOURCE.format(name=name, p0=round(1 - p1, 3), p1=p1))
    dist = root / f"{package}-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.2.3\n")
    (dist / "top_level.txt").write_text(f"{package}\n")
    (dist / "entry_points.txt").write_text(f"[seizure_bench.methods]\n{name} = {package}.adapter:Plugin\n")
    return name, package, pkg


@pytest.fixture
def bytecode_on(monkeypatch):
    """Python writes bytecode, stamped by time, as on a user's machine (set before the plug-in loads)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """Writes and registers a plug-in (in this process); yields a callable that rewrites its source
    and re-registers it, as a new process running the fixed plug-in would see it."""
    root = tmp_path / "site"
    name, package, pkg = _write_plugin(root)
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()

    def load(to_run: bool = True):
        prov_mod._package_code.cache_clear()  # a new process computes the hash afresh
        for mod in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[mod]
        REGISTRY.names()
        REGISTRY._methods.pop(name, None)
        REGISTRY._origin.pop(name, None)
        (ep,) = [e for e in metadata.entry_points(group=ENTRY_POINT_GROUP) if e.name == name]
        return REGISTRY._load_entry_point(ep, to_run=to_run)  # as the harness imports a plug-in

    load(to_run=False)  # as a listing imports it (its bytecode, if written, stamped by time)
    yield {"name": name, "package": package, "dir": pkg, "root": root, "reload": load}
    REGISTRY._methods.pop(name, None)
    REGISTRY._origin.pop(name, None)
    prov_mod._package_code.cache_clear()


def _tree_hash(pkg: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(pkg.rglob("*.py"), key=lambda f: f.relative_to(pkg).as_posix()):
        data = f.read_bytes()
        h.update(f"{f.relative_to(pkg).as_posix()}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def _interrupt_on(n: int, calls: list):
    real = runner_mod.run_fold

    def fold(job):
        calls.append(job.fold_id)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(job)

    return fold


# -- item 5: code identity -------------------------------------------------------------------
def test_item05_plugin_fixed_between_runs_never_reuses_old_folds(
    tmp_path, tiny_synthetic, bytecode_on, plugin, monkeypatch
):
    cfg = run_config(tmp_path, tiny_synthetic, method=plugin["name"], threads=1)
    calls: list[str] = []
    monkeypatch.setattr(runner_mod, "run_fold", _interrupt_on(3, calls))
    with pytest.raises(KeyboardInterrupt):
        Runner(cfg).run()
    store = ResultStore(cfg.store_path)
    (old,) = store.list_runs()
    assert old.status == "interrupted" and len(store.fold_ids(old.run_id)) == 2
    code = old.provenance["code"]
    assert code == {
        "package": plugin["package"],
        "distribution": plugin["package"],
        "version": "1.2.3",
        "source_sha256": _tree_hash(plugin["dir"]),
    }

    # The plug-in is fixed, within the same second and keeping its size (what bytecode stamped with
    # time and size cannot tell apart); the same command runs again.
    adapter = plugin["dir"] / "adapter.py"
    st = adapter.stat()
    adapter.write_text(adapter.read_text().replace("[0.3, 0.7]", "[0.4, 0.6]"))
    os.utime(adapter, ns=(st.st_atime_ns, st.st_mtime_ns))
    plugin["reload"]()
    calls.clear()
    monkeypatch.setattr(runner_mod, "run_fold", lambda job: (calls.append(job.fold_id), runner_mod_real(job))[1])
    new = Runner(cfg).run()
    assert new.run_id != old.run_id, "other code must be another run"
    assert len(calls) == 4, "no fold of the old code may be reused"
    assert new.status == "complete"
    assert new.provenance["code"]["source_sha256"] == _tree_hash(plugin["dir"]) != code["source_sha256"]
    assert set(ResultStore(cfg.store_path).scores(new.run_id)["score"].round(6)) == {0.6}
    assert ResultStore(cfg.store_path).get_run(old.run_id).status == "interrupted"  # the old run is kept


def test_item05_resuming_a_run_stored_by_other_code_is_refused(tmp_path, tiny_synthetic, plugin, monkeypatch):
    cfg = run_config(tmp_path, tiny_synthetic, method=plugin["name"], threads=1)
    calls: list[str] = []
    monkeypatch.setattr(runner_mod, "run_fold", _interrupt_on(2, calls))
    with pytest.raises(KeyboardInterrupt):
        Runner(cfg).run()
    store = ResultStore(cfg.store_path)
    (rec,) = store.list_runs()
    # A stored run whose id matches but whose recorded code differs (e.g. a hash collision or an
    # edited store): its folds must not be continued.
    store.update_run(
        rec.run_id, provenance={**rec.provenance, "code": {**rec.provenance["code"], "source_sha256": "0" * 64}}
    )
    monkeypatch.setattr(runner_mod, "run_fold", runner_mod_real)
    with pytest.raises(BenchmarkError, match="other code") as err:
        Runner(cfg).run()
    assert "\n" not in str(err.value)
    assert store.fold_ids(rec.run_id) == {calls[0]}


def test_item05_in_tree_methods_name_seizure_bench_and_hash_their_package():
    from benchmark.adapters import get_method

    code = method_code(get_method("chance"))
    assert code["distribution"] == "in-tree seizure-bench"
    assert code["version"] == metadata.version("seizure-bench")
    assert code["package"] == "baselines"
    assert code["source_sha256"] == _tree_hash(REPO / "baselines")
    assert method_code(get_method("eegnet"))["source_sha256"] == code["source_sha256"]
    assert method_code(get_method("resnet_lstm"))["source_sha256"] == _tree_hash(REPO / "methods")


def test_item05_dask_worker_with_other_method_code_is_refused():
    from benchmark.adapters import get_method

    mine = method_code(get_method("chance"))["source_sha256"]
    assert runner_mod.worker_problem("chance", [], package_versions(), mine) is None
    why = runner_mod.worker_problem("chance", [], package_versions(), "f" * 64)
    assert why and "source" in why and "baselines" in why


# -- item 6: status words --------------------------------------------------------------------
def test_item06_run_where_every_fold_failed_says_failed(tmp_path, tiny_synthetic, plugin, monkeypatch):
    monkeypatch.setenv("SB_TEST_PLUGIN_FAIL", "1")
    cfg = run_config(tmp_path, tiny_synthetic, method=plugin["name"], threads=1)
    rec = Runner(cfg).run()
    assert rec.status == "failed"
    assert {f.status for f in ResultStore(cfg.store_path).folds(rec.run_id)} == {"failed"}


def _cli_run(tmp_path, data, method, *extra) -> list[str]:
    return [
        "--store",
        str(tmp_path / "r.sqlite"),
        "run",
        "--method",
        method,
        "--dataset",
        "chbmit-synthetic",
        "--data-dir",
        str(data),
        "--splits-dir",
        str(tmp_path / "splits"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--threads",
        "1",
        "--no-progress",
        *extra,
    ]


def test_item06_fail_fast_stops_at_the_first_failed_fold(tmp_path, tiny_synthetic, plugin, monkeypatch, capsys):
    monkeypatch.setenv("SB_TEST_PLUGIN_FAIL", "1")
    ran: list[str] = []
    monkeypatch.setattr(runner_mod, "run_fold", lambda job: (ran.append(job.fold_id), runner_mod_real(job))[1])
    assert main(_cli_run(tmp_path, tiny_synthetic, plugin["name"], "--fail-fast")) == 3
    store = ResultStore(tmp_path / "r.sqlite")
    (rec,) = store.list_runs()
    assert ran == [ran[0]] and store.fold_ids(rec.run_id) == {ran[0]}
    assert rec.status == "failed"
    assert "failed" in capsys.readouterr().out

    # Fixed (no more failures): the same command resumes it to complete.
    monkeypatch.delenv("SB_TEST_PLUGIN_FAIL")
    ran.clear()
    assert main(_cli_run(tmp_path, tiny_synthetic, plugin["name"], "--fail-fast")) == 0
    assert len(ran) == 4 and ResultStore(tmp_path / "r.sqlite").get_run(rec.run_id).status == "complete"


def test_item06_sigterm_marks_the_run_interrupted_and_the_same_command_resumes(
    tmp_path, tiny_synthetic, plugin, monkeypatch
):
    store_path = tmp_path / "r.sqlite"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin["root"]), str(REPO)]), "SB_TEST_PLUGIN_SLEEP": "3"}
    exe = Path(sys.executable).with_name("seizure-bench")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "benchmark.cli"]
    proc = subprocess.Popen(
        cmd + _cli_run(tmp_path, tiny_synthetic, plugin["name"]),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        stored = 0
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            if store_path.exists():
                conn = sqlite3.connect(store_path, timeout=5)
                try:
                    stored = conn.execute("SELECT COUNT(*) FROM folds").fetchone()[0]
                except sqlite3.OperationalError:  # schema not created yet
                    stored = 0
                finally:
                    conn.close()
            if stored >= 1:
                break
        assert stored >= 1 and proc.poll() is None, "the run should be mid-way"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert "interrupted" in last and "resume" in last
    store = ResultStore(store_path)
    (rec,) = store.list_runs()
    kept = store.fold_ids(rec.run_id)
    assert rec.status == "interrupted" and 1 <= len(kept) < 4

    # The same run, resumed (in this process, same code): only the missing folds are trained.
    ran: list[str] = []
    monkeypatch.setattr(runner_mod, "run_fold", lambda job: (ran.append(job.fold_id), runner_mod_real(job))[1])
    cfg = run_config(tmp_path, tiny_synthetic, method=plugin["name"], threads=1)
    done = Runner(cfg).run()
    assert done.run_id == rec.run_id and done.status == "complete"
    assert sorted(ran) == sorted({"chb01-f00", "chb01-f01", "chb02-f00", "chb02-f01"} - kept)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _running(run_id: str, process: dict | None, created_at: str | None = None) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        kind="run",
        method="chance",
        dataset="chbmit-synthetic",
        task="prediction",
        protocol="loocv",
        status="running",
        synthetic=True,
        display_name="chance",
        created_at=created_at or store_mod.utc_now(),
        provenance={"process": process} if process else {},
    )


def test_item06_stale_running_run_is_shown_as_interrupted(tmp_path, capsys):
    host = socket.gethostname()
    me = {"host": host, "pid": os.getpid(), "started": process_start_time(os.getpid())}
    old = (datetime.now(UTC) - timedelta(days=4)).isoformat(timespec="seconds")
    recent = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    path = tmp_path / "r.sqlite"
    with ResultStore(path) as store:
        store.create_run(_running("run-dead", {"host": host, "pid": _dead_pid(), "started": 1.0}))
        store.create_run(_running("run-live", {**me, "heartbeat": store_mod.utc_now()}))
        store.create_run(_running("run-reused-pid", {**me, "started": me["started"] - 1000}))
        store.create_run(_running("run-elsewhere-old", {"host": "other-host", "pid": 1, "heartbeat": old}))
        store.create_run(_running("run-elsewhere-new", {"host": "other-host", "pid": 1, "heartbeat": recent}))
        store.create_run(_running("run-legacy", None, created_at=old))
        shown = {r.run_id: effective_status(r) for r in store.list_runs()}
    assert shown == {
        "run-dead": "interrupted",
        "run-live": "running",
        "run-reused-pid": "interrupted",
        "run-elsewhere-old": "interrupted",
        "run-elsewhere-new": "running",
        "run-legacy": "interrupted",
    }

    assert main(["--store", str(path), "results", "list"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert "interrupted" in rows["run-dead"] and "running" not in rows["run-dead"]
    assert "running" in rows["run-live"]

    out = tmp_path / "site"
    assert main(["--store", str(path), "report", "--out", str(out), "--no-bundled"]) == 0
    page = (out / "runs" / "run-dead.html").read_text()
    assert 'status-interrupted">interrupted' in page and "status-running" not in page
    assert 'status-running">running' in (out / "runs" / "run-live.html").read_text()
    # the stored status itself is untouched: readers only interpret it
    assert ResultStore(path).get_run("run-dead").status == "running"


# -- item 7: damaged, read-only, full store ----------------------------------------------------
def _filled_store(path: Path, n_windows: int = 3600) -> None:
    with ResultStore(path) as store:
        store.create_run(
            RunRecord(
                "run-a", "run", "chance", "chbmit-synthetic", "prediction", "loocv", status="complete", synthetic=True
            )
        )
        for k in range(4):
            n = n_windows // 4
            scores = pd.DataFrame(
                {
                    "patient": "chb01",
                    "recording": f"chb01_{k:02d}",
                    "start": np.arange(n) * 10.0,
                    "end": np.arange(n) * 10.0 + 10,
                    "label": np.arange(n) % 2,
                    "score": np.linspace(0, 1, n),
                    "pred": (np.arange(n) % 3 == 0).astype(int),
                }
            )
            store.save_fold("run-a", FoldResult(f"f{k}", "chb01", "ok", metrics={"accuracy": 0.5}, n_test=n), scores)


def _one_line_error(capsys, *words) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, err
    return err


def test_item07_damaged_store_is_refused_in_one_line_and_never_written(tmp_path, tiny_synthetic, monkeypatch, capsys):
    path = tmp_path / "results.sqlite"
    _filled_store(path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8192] = np.random.default_rng(12).integers(0, 256, 8192, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setattr(store_mod, "_CHECKED", set())  # as a new process opening the file

    assert main(["--store", str(path), "results", "list"]) == 2
    _one_line_error(capsys, "damaged", str(path), "backup")
    assert main(["--store", str(path), "report", "--out", str(tmp_path / "site")]) == 2
    _one_line_error(capsys, "damaged", str(path))
    assert main(["--store", str(path)] + _cli_run(tmp_path, tiny_synthetic, "chance")[2:]) == 2
    _one_line_error(capsys, "damaged", str(path), "move it aside")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "nothing may be written"
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


def test_item07_read_only_store_reads_but_refuses_writes_in_one_line(tmp_path, tiny_synthetic, monkeypatch, capsys):
    path = tmp_path / "ro" / "results.sqlite"
    _filled_store(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    read_only_for_the_store(monkeypatch, path.parent)
    assert main(["--store", str(path), "results", "list"]) == 0
    assert "run-a" in capsys.readouterr().out
    assert main(["--store", str(path), "report", "--out", str(tmp_path / "site")]) == 0
    assert (tmp_path / "site" / "runs" / "run-a.html").exists()
    capsys.readouterr()
    assert main(["--store", str(path), "import-bundled"]) == 2
    _one_line_error(capsys, "read-only", str(path))
    assert main(["--store", str(path)] + _cli_run(tmp_path, tiny_synthetic, "chance")[2:]) == 2
    _one_line_error(capsys, "read-only", str(path))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap for a read-only bind mount")
def test_item07_store_on_a_read_only_mount(tmp_path):
    path = tmp_path / "ro" / "results.sqlite"
    _filled_store(path)
    probe = subprocess.run(["bwrap", "--dev-bind", "/", "/", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"bubblewrap cannot create a namespace here: {probe.stderr.decode().strip()}")
    base = [
        "bwrap",
        "--dev-bind",
        "/",
        "/",
        "--ro-bind",
        str(path.parent),
        str(path.parent),
        sys.executable,
        "-m",
        "benchmark.cli",
        "--store",
        str(path),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    listed = subprocess.run(base + ["results", "list"], capture_output=True, text=True, env=env, timeout=300)
    assert listed.returncode == 0 and "run-a" in listed.stdout, listed.stderr
    wrote = subprocess.run(base + ["import-bundled"], capture_output=True, text=True, env=env, timeout=300)
    assert wrote.returncode == 2 and "Traceback" not in wrote.stderr
    assert len(wrote.stderr.strip().splitlines()) == 1 and "read-only" in wrote.stderr


def test_item07_full_disk_is_one_line_and_keeps_what_was_stored(tmp_path, monkeypatch, capsys):
    path = tmp_path / "results.sqlite"
    _filled_store(path, n_windows=400)
    with ResultStore(path) as store:
        before = store.scores("run-a")
        # SQLite's own limit on the file's pages: the next page it needs fails as SQLITE_FULL.
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        store._conn.execute(f"PRAGMA max_page_count = {pages}")
        big = pd.DataFrame(
            {
                "patient": "chb02",
                "recording": "chb02_01",
                "start": np.arange(5000.0),
                "end": np.arange(5000.0) + 1,
                "label": 0,
                "score": 0.5,
                "pred": 0,
            }
        )
        with pytest.raises(StoreError, match="disk is full") as err:
            store.save_fold("run-a", FoldResult("f9", "chb02", "ok", n_test=5000), big)
        assert "\n" not in str(err.value) and "intact" in str(err.value)
        assert store.fold_ids("run-a") == {"f0", "f1", "f2", "f3"}
    with ResultStore(path) as store:
        pd.testing.assert_frame_equal(store.scores("run-a"), before)

    # Through the CLI: a command that writes gets one line, exit code 2.
    real_connect = ResultStore._connect

    def full(self):
        conn = real_connect(self)
        conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
        return conn

    monkeypatch.setattr(ResultStore, "_connect", full)
    assert main(["--store", str(path), "import-bundled"]) == 2
    _one_line_error(capsys, "disk is full", str(path))
    monkeypatch.setattr(ResultStore, "_connect", real_connect)
    with ResultStore(path) as store:  # what was stored before is intact
        pd.testing.assert_frame_equal(store.scores("run-a"), before)


def test_item06_reproduce_fail_fast_stops_the_fold_loop_and_the_grid(
    tmp_path, tiny_synthetic, plugin, monkeypatch, capsys
):
    from benchmark import recipes as recipes_mod

    recipe = recipes_mod.get_recipe("lee2024").substitute({"resnet_lstm": plugin["name"]})
    monkeypatch.setattr(recipes_mod, "get_recipe", lambda name: recipe)
    monkeypatch.setenv("SB_TEST_PLUGIN_FAIL", "1")
    argv = [
        "--store",
        str(tmp_path / "r.sqlite"),
        "reproduce",
        "lee2024",
        "--dataset",
        "chbmit-synthetic",
        "--data-dir",
        str(tiny_synthetic),
        "--splits-dir",
        str(tmp_path / "splits"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
        "--threads",
        "1",
        "--methods",
        plugin["name"],
        "--sop",
        "10",
        "15",
        "--fail-fast",
    ]
    assert main(argv) == 3
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines() if line.lstrip().startswith("[")] == ["[1/2]"]
    assert "stopping the grid" in out and "1 run(s) not started" in out
    store = ResultStore(tmp_path / "r.sqlite")
    (rec,) = store.list_runs(kind="run")
    assert rec.status == "failed" and len(store.fold_ids(rec.run_id)) == 1
