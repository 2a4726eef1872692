"""How many CPU threads a fold uses, and how idle OpenMP threads wait: the one rule for every
process that runs folds.

The count comes from how the machine is configured for this process (its CPU affinity and its
cgroup CPU quota), divided between ``--jobs`` processes, with ``--threads`` as the override. It is
never taken from the machine's current load: some kernels add up in an order that depends on the
thread count, and the same seed must keep giving the same numbers on one machine.

On a busy machine idle OpenMP threads wait passively (``OMP_WAIT_POLICY=PASSIVE``, and
``GOMP_SPINCOUNT=0`` for GNU OpenMP, which torch uses): by default they spin between parallel
regions, and that spinning takes CPU from the other work and from the threads doing ours. On an
idle machine the default brief spinning is kept: it is faster there (README's main job: 231 s
spinning, 276 s passive). The wait policy changes speed, never numbers, so unlike the thread count
it may follow the load: :func:`choose_wait_policy` looks at the processes running now. Both
settings only take effect if set before OpenMP starts, so :mod:`benchmark` chooses when it is
imported (a user's own settings win). This module imports only the standard library, so that it can.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment defaults that make idle OpenMP threads sleep instead of spinning.
WAIT_POLICY_ENV = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0"}
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
PROC_LOADAVG = Path("/proc/loadavg")


def use_passive_wait(environ: dict[str, str] | None = None) -> None:
    """Set :data:`WAIT_POLICY_ENV` in ``environ`` (this process's environment) where not already set."""
    env = os.environ if environ is None else environ
    for key, value in WAIT_POLICY_ENV.items():
        env.setdefault(key, value)


def others_running(samples: int = 5, interval_s: float = 0.01, path: Path = PROC_LOADAVG) -> int:
    """Threads of other processes runnable right now (``/proc/loadavg``'s running count, less this
    process), the fewest seen over ``samples`` readings so that a passing process does not count; 0
    where unknown."""
    import time

    seen = []
    for i in range(samples):
        text = _read(path)
        try:
            seen.append(int(text.split()[3].split("/")[0]) - 1)
        except (AttributeError, IndexError, ValueError):
            return 0
        if i + 1 < samples:
            time.sleep(interval_s)
    return max(0, min(seen))


def choose_wait_policy(environ: dict[str, str] | None = None, busy: bool | None = None) -> bool:
    """Wait passively (:func:`use_passive_wait`) when other work is running now (``busy``; by default
    :func:`others_running` is at least one); returns whether the machine was found busy."""
    busy = others_running() >= 1 if busy is None else busy
    if busy:
        use_passive_wait(environ)
    return busy


def wait_policy() -> dict[str, str | None]:
    """The OpenMP wait settings this process runs with, for the run's provenance."""
    return {key: os.environ.get(key) for key in WAIT_POLICY_ENV}


def _quota_cores(quota: float, period: float) -> int | None:
    """Whole cores a CFS quota allows (at least 1), ``None`` for no quota."""
    if quota <= 0 or period <= 0:
        return None
    return max(1, int(quota // period))


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _cgroup_dirs(proc_cgroup: Path) -> dict[str, str]:
    """Controller name -> this process's cgroup path (``""`` for the cgroup v2 hierarchy)."""
    text = _read(proc_cgroup) or ""
    dirs: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for name in parts[1].split(",") if parts[1] else [""]:
                dirs[name] = parts[2].lstrip("/")
    return dirs


def _candidates(base: Path, relative: str | None) -> list[Path]:
    """The process's own cgroup folder under ``base``, then ``base`` itself (inside a container the
    process's cgroup is usually mounted at the root)."""
    out = [base / relative] if relative else []
    return out + [base]


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int | None:
    """Whole cores allowed by this process's cgroup CPU quota (v2 ``cpu.max``, else v1
    ``cpu.cfs_quota_us``/``cpu.cfs_period_us``), or ``None`` where there is no quota."""
    dirs = _cgroup_dirs(proc_cgroup)
    for folder in _candidates(root, dirs.get("")):
        text = _read(folder / "cpu.max")
        if text is not None:
            fields = text.split()
            if len(fields) == 2 and fields[0] != "max":
                try:
                    return _quota_cores(float(fields[0]), float(fields[1]))
                except ValueError:
                    return None
            return None
    for mount in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        for folder in _candidates(root / mount, dirs.get("cpu")):
            quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
            if quota is not None and period is not None:
                try:
                    return _quota_cores(float(quota), float(period))
                except ValueError:
                    return None
    return None


def affinity_cores() -> int:
    """CPUs this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no affinity masks (e.g. macOS)
        return os.cpu_count() or 1


def available_cores(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int:
    """Cores this process may use: its affinity, capped by its cgroup quota, never more than the machine has."""
    cores = min(affinity_cores(), os.cpu_count() or 1)
    quota = cgroup_cpu_limit(root, proc_cgroup)
    return max(1, min(cores, quota) if quota else cores)


def threads_per_fold(jobs: int = 1, override: int | None = None, cores: int | None = None) -> int:
    """torch/OpenMP threads for each of ``jobs`` folds running at once: ``override`` (``--threads``)
    when given, else the available cores shared between the jobs (at least one each)."""
    if override:
        return override
    return max(1, (available_cores() if cores is None else cores) // max(1, jobs))
