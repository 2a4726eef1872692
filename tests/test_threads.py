"""The thread rule (benchmark.threads): cores from affinity and cgroup quota, shared between jobs,
``--threads`` as the override, and the passive OpenMP wait policy in every process that runs folds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _plugins import needs_sandbox

from benchmark import threads
from benchmark.sandbox import _bwrap_args, code_dirs

ROOT = Path(__file__).resolve().parents[1]


def _cgroup(tmp_path: Path, proc_line: str, files: dict[str, str]) -> tuple[Path, Path]:
    """A fake ``/sys/fs/cgroup`` holding ``files`` (relative path -> text) and a ``/proc/self/cgroup``."""
    root = tmp_path / "cgroup"
    root.mkdir(parents=True)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text + "\n")
    proc = tmp_path / "proc-cgroup"
    proc.write_text(proc_line + "\n")
    return root, proc


@pytest.mark.parametrize(
    ("proc_line", "files", "expected"),
    [
        ("0::/job", {"job/cpu.max": "200000 100000"}, 2),
        ("0::/job", {"job/cpu.max": "150000 100000"}, 1),  # whole cores: 1.5 gives one thread
        ("0::/job", {"job/cpu.max": "50000 100000"}, 1),  # never below one
        ("0::/job", {"job/cpu.max": "max 100000"}, None),
        ("0::/", {"cpu.max": "300000 100000"}, 3),  # a container sees its own cgroup at the root
        ("0::/elsewhere", {"cpu.max": "400000 100000"}, 4),
        (
            "4:cpu,cpuacct:/docker/x",
            {"cpu,cpuacct/docker/x/cpu.cfs_quota_us": "300000", "cpu,cpuacct/docker/x/cpu.cfs_period_us": "100000"},
            3,
        ),
        ("4:cpu,cpuacct:/", {"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}, None),
        ("0::/", {}, None),
        ("0::/", {"cpu.max": "garbage"}, None),
    ],
)
def test_cgroup_quota_is_read_as_whole_cores(tmp_path, proc_line, files, expected):
    root, proc = _cgroup(tmp_path, proc_line, files)
    assert threads.cgroup_cpu_limit(root, proc) == expected


def test_available_cores_take_affinity_then_quota_never_more_than_the_machine(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(4)), raising=False)
    no_quota = _cgroup(tmp_path / "a", "0::/", {})
    assert threads.available_cores(*no_quota) == 4
    quota = _cgroup(tmp_path / "b", "0::/", {"cpu.max": "200000 100000"})
    assert threads.available_cores(*quota) == 2
    big_quota = _cgroup(tmp_path / "c", "0::/", {"cpu.max": "1600000 100000"})
    assert threads.available_cores(*big_quota) == 4
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert threads.available_cores(*no_quota) == 8


def test_threads_per_fold_shares_cores_between_jobs_and_threads_overrides():
    assert threads.threads_per_fold(1, cores=2) == 2  # one job: every available core, as torch's default on 2 cores
    assert threads.threads_per_fold(2, cores=8) == 4
    assert threads.threads_per_fold(3, cores=8) == 2
    assert threads.threads_per_fold(4, cores=2) == 1  # at least one thread each
    assert threads.threads_per_fold(1, override=3, cores=2) == 3  # --threads wins, even above the cores
    assert threads.threads_per_fold(4, override=1, cores=16) == 1


def test_threads_per_fold_depends_on_configuration_not_on_load(monkeypatch):
    monkeypatch.setattr(threads, "available_cores", lambda *a: 6)
    monkeypatch.setattr(os, "getloadavg", lambda: (50.0, 50.0, 50.0), raising=False)
    assert threads.threads_per_fold(2) == 3


def test_passive_wait_is_a_default_a_user_setting_wins():
    env = {"OMP_WAIT_POLICY": "ACTIVE"}
    threads.use_passive_wait(env)
    assert env == {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "0"}
    empty: dict[str, str] = {}
    threads.use_passive_wait(empty)
    assert empty == {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0"}


def _fresh_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in threads.WAIT_POLICY_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**env, **extra}


_PROBE = (
    "import os, sys; import benchmark.fold_worker; "
    "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'), 'torch' in sys.modules)"
)


def test_the_wait_policy_is_passive_only_when_other_work_runs(tmp_path):
    loadavg = tmp_path / "loadavg"
    loadavg.write_text("0.50 0.40 0.30 1/345 999\n")  # only this process runs
    assert threads.others_running(samples=2, interval_s=0, path=loadavg) == 0
    loadavg.write_text("2.10 1.90 1.50 3/345 999\n")  # two other busy threads
    assert threads.others_running(samples=2, interval_s=0, path=loadavg) == 2
    loadavg.write_text("garbled")
    assert threads.others_running(samples=2, interval_s=0, path=loadavg) == 0
    idle: dict[str, str] = {}
    assert threads.choose_wait_policy(idle, busy=False) is False and idle == {}
    busy: dict[str, str] = {}
    assert threads.choose_wait_policy(busy, busy=True) is True and busy == threads.WAIT_POLICY_ENV


def test_a_fold_worker_process_on_a_busy_machine_waits_passively_before_torch_loads():
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        time.sleep(0.5)
        out = subprocess.run(
            [sys.executable, "-c", _PROBE], env=_fresh_env(), capture_output=True, text=True, check=True
        )
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    assert out.stdout.split() == ["PASSIVE", "0", "False"]
    mine = _fresh_env(OMP_WAIT_POLICY="ACTIVE", GOMP_SPINCOUNT="1000")
    out = subprocess.run([sys.executable, "-c", _PROBE], env=mine, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ACTIVE", "1000", "False"]


def test_the_sandbox_passes_the_wait_policy_to_the_worker(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    monkeypatch.setenv("GOMP_SPINCOUNT", "7")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    args = _bwrap_args([], {}, "cpu")
    pairs = {(args[i + 1], args[i + 2]) for i, a in enumerate(args) if a == "--setenv"}
    assert {("OMP_WAIT_POLICY", "ACTIVE"), ("GOMP_SPINCOUNT", "7"), ("OMP_NUM_THREADS", "3")} <= pairs


@needs_sandbox
def test_a_sandboxed_worker_sees_the_passive_wait_policy(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # as the harness chose on a busy machine
    monkeypatch.setenv("GOMP_SPINCOUNT", "0")
    probe = "import os; print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"
    cmd = _bwrap_args(code_dirs(), {}, "cpu") + [sys.executable, "-c", probe]  # before any benchmark import
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=True)
    assert out.stdout.split() == ["PASSIVE", "0"]
