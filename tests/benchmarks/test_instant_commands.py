"""Commands that answer at once: each as a whole process, on an idle machine, in under 1 s, and
without importing torch.

Set-up: ``python -m benchmark.cli ARGS`` in a fresh process (interpreter start-up included), timed
from start to exit; the result store is an empty file in a temporary folder, and for ``results list``
also one holding a few runs. ``plan`` is not here: it imports no torch either, but it reads the
dataset with pandas and the feature shapes with scipy, which take longer than the limit to import.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

LIMIT_S = 1.0
COMMANDS = (
    ("--help",),
    ("list", "methods"),
    ("list", "datasets"),
    ("list", "tasks"),
    ("list", "protocols"),
    ("results", "list"),
)
# (command, runs in the store)
CASES = [(argv, 0) for argv in COMMANDS] + [(("results", "list"), 3)]
# Printed after the command's own output: whether the process imported torch.
_PROBE = (
    "import atexit, sys\nimport benchmark.cli as c\natexit.register(lambda: print('TORCH', 'torch' in sys.modules))"
)


def _run(argv: tuple[str, ...], env_store) -> subprocess.CompletedProcess:
    code = f"{_PROBE}\nimport sys\nsys.exit(c.main({list(argv)!r}))"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env_store, check=False
    )


def _store_with_runs(path, n: int) -> None:
    from benchmark.store import ResultStore, RunRecord

    store = ResultStore(path)
    for i in range(n):
        store.create_run(RunRecord(f"run{i}", "run", "eegnet", "chbmit-synthetic", "detection", "loso", synthetic=True))
    store.close()


@pytest.mark.parametrize("argv, runs", CASES, ids=lambda v: " ".join(v) if isinstance(v, tuple) else f"{v} runs")
def test_command_answers_in_under_a_second_without_torch(benchmark, bench_summary, argv, runs, tmp_path):
    env = {**os.environ, "SEIZURE_BENCH_STORE": str(tmp_path / "results.sqlite")}
    if runs:
        _store_with_runs(tmp_path / "results.sqlite", runs)
    seconds: list[float] = []

    def whole_process():
        t0 = time.perf_counter()
        done = _run(argv, env)
        seconds.append(time.perf_counter() - t0)
        return done

    done = benchmark.pedantic(whole_process, rounds=3, iterations=1, warmup_rounds=1)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "TORCH False", f"seizure-bench {' '.join(argv)} imported torch"
    best = min(seconds)
    what = " ".join(argv) + (f" ({runs} runs)" if runs else "")
    bench_summary.append(f"seizure-bench {what:<23} {best:.2f} s (limit {LIMIT_S:.0f} s, no torch)")
    assert best < LIMIT_S, f"seizure-bench {' '.join(argv)} took {best:.2f} s"
