"""Folds on a Dask cluster run in parallel: wall time of a fold-bound run on 1 and on 2 workers.

Set-up (SYNTHETIC EEG): the tiny synthetic CHB-MIT-shaped dataset (``tests/conftest.py``),
prediction, loocv (4 folds), and a test adapter whose ``fit`` sleeps ``SLEEP_S`` seconds per fold
(:class:`_executor_helpers.SleepsPerFold`), so the run is bound by its folds, not by data or CPU
(the CI runner has 2 cores, busy with other work). One ``distributed.LocalCluster`` of 2
single-thread worker processes on 127.0.0.1 is started and warmed up (imports of the method
registry and torch in each worker), a run is timed on both workers with the ``benchmark``
fixture, one worker is retired, and the same run is timed again on the one left. Every timed run
writes a fresh results store (the window cache and split are reused), so nothing is skipped by
resume. ``extra_info`` holds both wall times and ``speedup`` (1 worker / 2 workers; ideal 2.0).
The test fails only below a sanity floor, far under the expected figure.
"""

from __future__ import annotations

import time
from itertools import count
from pathlib import Path

import pytest

from _executor_helpers import HELPERS, registered
from benchmark.runner import RunConfig, Runner

distributed = pytest.importorskip("distributed")

SLEEP_S = 1.0
N_FOLDS = 4  # tiny synthetic, loocv: 2 patients x 2 lead seizures
MIN_SPEEDUP = 1.3  # sanity floor; 2 workers on 4 one-second folds give about 1.8-1.9


def _warm_up() -> None:
    """Import what a fold needs, so the timed runs do not pay a worker's first imports."""
    import torch  # noqa: F401

    import benchmark.runner  # noqa: F401
    from benchmark.adapters import REGISTRY

    REGISTRY.names()


@pytest.fixture
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
        preload=[HELPERS],
    ) as lc, distributed.Client(lc) as client:
        client.run(_warm_up)
        yield lc, client


@pytest.mark.heavy
def test_two_dask_workers_halve_a_fold_bound_run(benchmark, bench_summary, tmp_path, tiny_synthetic, cluster):
    lc, client = cluster
    fresh = count()

    def config() -> RunConfig:
        return RunConfig(
            method="sleeps_per_fold_test", dataset="chbmit-synthetic", data_dir=tiny_synthetic,
            method_overrides={"sleep_s": SLEEP_S}, store_path=tmp_path / f"r{next(fresh)}.sqlite",
            splits_dir=tmp_path / "splits", cache_dir=tmp_path / "cache", executor="dask",
            scheduler=lc.scheduler_address, progress=False,
        )  # fmt: skip

    def run(cfg: RunConfig) -> float:
        t0 = time.perf_counter()
        rec = Runner(cfg).run()
        seconds = time.perf_counter() - t0
        assert rec.status == "complete" and rec.provenance["execution"]["workers"] == n_workers
        return seconds

    with registered():
        n_workers = 2
        Runner(config()).run()  # builds the window cache and the split, untimed
        two = benchmark.pedantic(run, setup=lambda: ((config(),), {}), rounds=1, iterations=1)
        client.retire_workers(n=1)
        client.wait_for_workers(1)
        assert len(client.scheduler_info(n_workers=-1)["workers"]) == 1
        n_workers = 1
        one = run(config())

    speedup = one / two
    benchmark.extra_info.update({
        "folds": N_FOLDS, "sleep_s_per_fold": SLEEP_S, "wall_s_1_worker": round(one, 3),
        "wall_s_2_workers": round(two, 3), "speedup": round(speedup, 3), "synthetic": True,
    })  # fmt: skip
    line = (f"dask executor: {N_FOLDS} folds x {SLEEP_S:g} s: 1 worker {one:.2f} s, 2 workers {two:.2f} s, "
            f"speed-up {speedup:.2f}x (SYNTHETIC data)")
    print(line)
    bench_summary.append(line)
    assert one >= N_FOLDS * SLEEP_S, "one single-thread worker cannot run the folds faster than one after another"
    assert speedup > MIN_SPEEDUP, line
