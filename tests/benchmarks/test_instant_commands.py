"""Commands that answer at once: each as a whole process, on an idle machine, in under 1 s, and
without importing torch.

Set-up: ``python -m benchmark.cli ARGS`` in a fresh process (interpreter start-up included), timed
from start to exit, best of 3 after a warm-up round; the result store is an empty file in a
temporary folder, and for ``results list`` also one holding a few runs. ``plan`` plans README's
main job (``resnet_lstm_supcon`` on ``chbmit-synthetic``, smoke budget) and ``eegnet`` detection;
the synthetic dataset is generated in a temporary cache folder first.

Processes run with Python's default bytecode cache, as on a user's machine: a
``PYTHONDONTWRITEBYTECODE`` in the environment is dropped, so the set-up and warm-up write the
``.pyc`` files the timed rounds read (without them every import compiles its module from source:
``import pandas`` alone took 1.8 s here instead of 0.6 s).
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
    # README's main job, and a detection plan
    tuple("plan --method resnet_lstm_supcon --dataset chbmit-synthetic --task prediction --protocol loocv".split())
    + ("--interictal-gap", "3"),
    tuple("plan --method eegnet --dataset chbmit-synthetic --task detection".split()),
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


def _environment(**extra: str) -> dict[str, str]:
    """The processes' environment: Python's default bytecode cache, and ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def data_cache(tmp_path_factory):
    """A cache folder for the module holding the synthetic dataset ``plan`` reads, generated (and the
    ``.pyc`` files of what the commands import written) before anything is timed, so a single round
    (``--benchmark-disable``) times the same thing as the best of three."""
    cache = tmp_path_factory.mktemp("instant-cache")
    code = "import sys\nimport benchmark.cli as c\nsys.exit(c.main(['data', 'generate']))"
    env = _environment(SEIZURE_BENCH_CACHE=str(cache))
    subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=600, env=env, check=True)
    return cache


@pytest.mark.parametrize("argv, runs", CASES, ids=lambda v: " ".join(v) if isinstance(v, tuple) else f"{v} runs")
def test_command_answers_in_under_a_second_without_torch(benchmark, bench_summary, argv, runs, tmp_path, data_cache):
    env = _environment(SEIZURE_BENCH_STORE=str(tmp_path / "results.sqlite"), SEIZURE_BENCH_CACHE=str(data_cache))
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
    what = (" ".join(argv[:3]) if argv[0] == "plan" else " ".join(argv)) + (f" ({runs} runs)" if runs else "")
    bench_summary.append(f"seizure-bench {what:<34} {best:.2f} s (limit {LIMIT_S:.0f} s, no torch)")
    assert best < LIMIT_S, f"seizure-bench {' '.join(argv)} took {best:.2f} s"
