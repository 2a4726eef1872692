"""The report of a big store: 3.5 M window scores (SYNTHETIC rows) build in under a minute, flat memory.

A full CHB-MIT detection board holds millions of window scores (``plan`` counts 3.45 M windows for
EEGNet, loso). The report reads per-patient metrics and summaries, never the window scores, so its
time and memory must not grow with them. The store here holds four detection runs on
``chbmit-synthetic`` (24 patients, one fold each) with 3.5 M window scores in all; the same runs with
a tenth of the windows are the peer. Each build runs in a fresh Python process and measures, after
imports, its wall time and its peak of Python-allocated memory (``tracemalloc``, numpy included).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark import metrics as M
from benchmark.store import FoldResult, ResultStore, RunRecord, utc_now

N_WINDOWS = 3_500_000
METHODS = ("chance", "bandpower_logreg", "eegnet", "resnet_lstm_supcon")
PATIENTS = tuple(f"chb{i:02d}" for i in range(1, 25))
MAX_SECONDS = 60.0
MAX_GROWTH_MIB = 32.0  # peak-memory growth allowed from the tenth-size store to the full one

_PROBE = r"""
import json, sys, time, tracemalloc
from pathlib import Path
from benchmark.report.build import build_report
from benchmark.store import ResultStore

store = ResultStore(Path(sys.argv[1]))
tracemalloc.start()
t0 = time.perf_counter()
build_report(store, Path(sys.argv[2]))
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "heap_peak_mib": tracemalloc.get_traced_memory()[1] / 2**20}))
"""


def _fill(path: Path, n_windows: int, seed: int = 0) -> int:
    """A store of ``len(METHODS)`` complete detection runs with ``n_windows`` window scores in all."""
    rng = np.random.default_rng(seed)
    store = ResultStore(path)
    per_patient = n_windows // (len(METHODS) * len(PATIENTS))
    for method in METHODS:
        run_id = f"{method}-chbmit-synthetic-detection-loso-bench"
        store.create_run(
            RunRecord(
                run_id,
                "run",
                method,
                "chbmit-synthetic",
                "detection",
                "loso",
                synthetic=True,
                seed=0,
                budget="smoke",
                created_at=utc_now(),
                display_name=method,
                provenance={"is_baseline": method in ("chance", "bandpower_logreg", "eegnet")},
            )
        )
        parts = []
        for pid in PATIENTS:
            start = np.arange(per_patient, dtype=float)
            label = (rng.random(per_patient) < 0.05).astype(int)
            score = np.clip(0.3 * label + rng.random(per_patient) * 0.7, 0, 1)
            scores = pd.DataFrame(
                {
                    "patient": pid,
                    "recording": f"{pid}_01",
                    "start": start,
                    "end": start + 1.0,
                    "label": label,
                    "score": score,
                    "pred": (score >= 0.5).astype(int),
                }
            )
            store.save_fold(run_id, FoldResult(pid, pid, "ok", metrics={}, n_test=per_patient), scores)
            parts.append(scores)
        per = M.patient_metrics(pd.concat(parts, ignore_index=True))
        store.save_patient_metrics(run_id, per)
        store.save_summary(run_id, M.summarize(per, n_boot=200))
        store.update_run(run_id, status="complete", finished_at=utc_now())
    return per_patient * len(METHODS) * len(PATIENTS)


def _build(store: Path, out: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(store), str(out)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.heavy
def test_report_of_3_5m_window_scores_builds_in_a_minute_with_flat_memory(benchmark, tmp_path, bench_summary):
    small_n = _fill(tmp_path / "small.sqlite", N_WINDOWS // 10)
    big_n = _fill(tmp_path / "big.sqlite", N_WINDOWS)
    small = _build(tmp_path / "small.sqlite", tmp_path / "site-small")
    big = benchmark.pedantic(_build, args=(tmp_path / "big.sqlite", tmp_path / "site-big"), rounds=1, iterations=1)
    growth = big["heap_peak_mib"] - small["heap_peak_mib"]
    bench_summary.append(
        f"report, {big_n / 1e6:.2f} M window scores (SYNTHETIC): {big['seconds']:.1f} s (limit {MAX_SECONDS:g} s), "
        f"peak heap {big['heap_peak_mib']:.1f} MiB vs {small['heap_peak_mib']:.1f} MiB at {small_n / 1e6:.2f} M "
        f"(growth {growth:+.1f} MiB, limit {MAX_GROWTH_MIB:g}); time ratio {big['seconds'] / small['seconds']:.2f}x"
    )
    assert big_n >= N_WINDOWS * 0.99
    assert big["seconds"] < MAX_SECONDS
    assert growth < MAX_GROWTH_MIB
