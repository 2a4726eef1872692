"""A run takes its fair share of a busy machine, no more: the same smoke run alone and beside two
CPU-bound competitors, with the default thread rule (:mod:`benchmark.threads`).

Set-up (SYNTHETIC EEG): the tiny synthetic CHB-MIT-shaped dataset (``tests/conftest.py``),
``eegnet``'s ``smoke`` budget, prediction, loocv (4 folds), ``--isolation none``, no ``--threads``
(what a user gets by default). Each run is a ``seizure-bench run`` process of its own, with a fresh
results store (the window cache and split are built by an untimed first run and reused). Its
CPU-seconds (user + system of the process and the children it waited for, from ``os.wait4``) and
wall time are measured alone, then beside two ``while True: pass`` processes.

Idle OpenMP threads that spin show up as CPU time that does no work: the CPU-seconds loaded / alone
must stay <= 1.5. With two competitors on two cores the run's fair share is about half the machine,
so its wall time loaded / alone must stay <= 2.5. Figures go to ``benchmark.extra_info``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmark.threads import WAIT_POLICY_ENV

MAX_CPU_RATIO = 1.5
MAX_WALL_RATIO = 2.5
COMPETITORS = 2
N_FOLDS = 4  # tiny synthetic, loocv: 2 patients x 2 lead seizures
_CLI = "import sys; from benchmark.cli import main; sys.exit(main())"


def _run(data_dir: Path, tmp: Path, name: str) -> tuple[float, float]:
    """(CPU-seconds, wall seconds) of one ``seizure-bench run`` process, children included."""
    cmd = [sys.executable, "-c", _CLI, "run", "--method", "eegnet", "--dataset", "chbmit-synthetic"]
    cmd += ["--data-dir", str(data_dir), "--isolation", "none", "--no-progress", "--store", str(tmp / f"{name}.sqlite")]
    cmd += ["--cache-dir", str(tmp / "cache"), "--splits-dir", str(tmp / "splits")]
    # The defaults a user gets: the run's own import of benchmark sets the wait policy.
    env = {k: v for k, v in os.environ.items() if k not in WAIT_POLICY_ENV}
    log = tmp / f"{name}.log"
    with open(log, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    last = (log.read_text(errors="replace").strip().splitlines() or [""])[-1]
    assert proc.returncode == 0, f"seizure-bench run ({name}) exited with {proc.returncode}: {last}"
    return usage.ru_utime + usage.ru_stime, wall


def _loaded(data_dir: Path, tmp: Path, name: str) -> tuple[float, float]:
    """:func:`_run` beside :data:`COMPETITORS` CPU-bound processes (stopped afterwards)."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(COMPETITORS)]
    try:
        time.sleep(1.0)  # let them start spinning before the run does
        return _run(data_dir, tmp, name)
    finally:
        for p in busy:
            p.kill()
            p.wait()


@pytest.mark.heavy
def test_a_run_beside_busy_processes_takes_its_fair_share(benchmark, bench_summary, tmp_path, tiny_synthetic):
    _run(tiny_synthetic, tmp_path, "warm-up")  # builds the window cache and the split, untimed
    cpu_alone, wall_alone = benchmark.pedantic(_run, args=(tiny_synthetic, tmp_path, "alone"), rounds=1, iterations=1)
    cpu_loaded, wall_loaded = _loaded(tiny_synthetic, tmp_path, "loaded")
    cpu_ratio, wall_ratio = cpu_loaded / cpu_alone, wall_loaded / wall_alone
    benchmark.extra_info.update(
        {
            "workload": "eegnet smoke, prediction loocv, tiny chbmit-synthetic",
            "folds": N_FOLDS,
            "competitors": COMPETITORS,
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "cpu_s_alone": round(cpu_alone, 2),
            "cpu_s_loaded": round(cpu_loaded, 2),
            "wall_s_alone": round(wall_alone, 2),
            "wall_s_loaded": round(wall_loaded, 2),
            "cpu_ratio": round(cpu_ratio, 3),
            "wall_ratio": round(wall_ratio, 3),
            "synthetic": True,
        }
    )
    line = (
        f"fair share, eegnet smoke ({N_FOLDS} folds) beside {COMPETITORS} busy processes: CPU {cpu_alone:.1f} -> "
        f"{cpu_loaded:.1f} s (x{cpu_ratio:.2f}, limit {MAX_CPU_RATIO}), wall {wall_alone:.1f} -> {wall_loaded:.1f} s "
        f"(x{wall_ratio:.2f}, limit {MAX_WALL_RATIO}) (SYNTHETIC data)"
    )
    print(line)
    bench_summary.append(line)
    assert cpu_ratio <= MAX_CPU_RATIO, line
    assert wall_ratio <= MAX_WALL_RATIO, line
