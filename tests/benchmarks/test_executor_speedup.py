"""Folds on a Dask cluster run in parallel: wall time of a fold-bound run on 1 and on 2 workers.

Set-up (SYNTHETIC EEG): the tiny synthetic CHB-MIT-shaped dataset (``tests/conftest.py``),
prediction, loocv (4 folds), with two kinds of fold:

``sleep``
    a test adapter whose ``fit`` sleeps ``SLEEP_S`` seconds per fold
    (:class:`_executor_helpers.SleepsPerFold`), so the run is bound by its folds, not by data or
    CPU: the executor's own overhead and parallelism, whatever else the machine runs;
``eegnet``
    real folds: the ``eegnet`` baseline's ``smoke`` budget trains and tests on the cached windows,
    one torch thread per fold. Its figure also depends on the machine having two free cores (the
    first fold is longer: it also measures the model's FLOPs and latency).

One ``distributed.LocalCluster`` of 2
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

import pytest
from _executor_helpers import HELPERS, registered

from benchmark.runner import RunConfig, Runner

distributed = pytest.importorskip("distributed")

SLEEP_S = 1.0
N_FOLDS = 4  # tiny synthetic, loocv: 2 patients x 2 lead seizures
#: Sanity floors, far under the expected figures (sleep: about 1.8-1.9; eegnet: about 1.5-1.9 on two
#: idle cores, its longest fold bounding the two-worker time).
MIN_SPEEDUP = {"sleep": 1.3, "eegnet": 1.15}
WORKLOADS = {
    "sleep": dict(method="sleeps_per_fold_test", method_overrides={"sleep_s": SLEEP_S}),
    "eegnet": dict(method="eegnet", budget="smoke", threads=1),
}


def _warm_up() -> None:
    """Import what a fold needs, so the timed runs do not pay a worker's first imports."""
    import torch  # noqa: F401

    import benchmark.runner  # noqa: F401
    from benchmark.adapters import REGISTRY

    REGISTRY.names()


@pytest.fixture
def cluster():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            preload=[HELPERS],
        ) as lc,
        distributed.Client(lc) as client,
    ):
        client.run(_warm_up)
        yield lc, client


@pytest.mark.heavy
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_two_dask_workers_speed_up_a_fold_bound_run(
    benchmark, bench_summary, tmp_path, tiny_synthetic, cluster, workload
):
    lc, client = cluster
    fresh = count()

    def config() -> RunConfig:
        return RunConfig(
            dataset="chbmit-synthetic",
            data_dir=tiny_synthetic,
            store_path=tmp_path / f"r{next(fresh)}.sqlite",
            splits_dir=tmp_path / "splits",
            cache_dir=tmp_path / "cache",
            executor="dask",
            scheduler=lc.scheduler_address,
            progress=False,
            **WORKLOADS[workload],
        )

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
    benchmark.extra_info.update(
        {
            "workload": workload,
            "folds": N_FOLDS,
            "wall_s_1_worker": round(one, 3),
            "wall_s_2_workers": round(two, 3),
            "speedup": round(speedup, 3),
            "synthetic": True,
        }
    )
    what = f"{N_FOLDS} folds x {SLEEP_S:g} s sleep" if workload == "sleep" else f"{N_FOLDS} eegnet smoke folds"
    line = (
        f"dask executor, {what}: 1 worker {one:.2f} s, 2 workers {two:.2f} s, speed-up {speedup:.2f}x (SYNTHETIC data)"
    )
    print(line)
    bench_summary.append(line)
    if workload == "sleep":
        assert one >= N_FOLDS * SLEEP_S, "one single-thread worker cannot run the folds faster than one after another"
    assert speedup > MIN_SPEEDUP[workload], line
