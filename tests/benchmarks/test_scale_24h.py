"""Scale measured, not only planned: 24 h of SYNTHETIC EEG cached and run, against ``plan --time``.

Set-up: ``chbmit-synthetic`` generated with 2 patients of 12 one-hour recordings each (24.0 h, one
seizure per patient; real EDF files and summaries, loaded by the CHB-MIT loader as real data is),
``eegnet``'s ``smoke`` budget, detection (1-s windows at 1-s stride), loso: 2 folds, the fewest a
cross-patient split gives (the runner has no option to run fewer). ``seizure-bench plan --time``
runs first, then ``seizure-bench run`` on an empty cache, each as a process of its own with
``--threads 1``; the run uses ``--isolation none``, since the estimate leaves out a sandboxed worker's
start-up.

Compared, each within 20 %: the windows (the plan's per-fold training and test windows against the
stored folds' ``n_train`` and ``n_test``); the bytes of the cache (``cache_bytes`` against the
files the run wrote under the cache's ``windows/`` folder); and the time (the estimate of the cache
against the run's ``windows_s``, the folds' against its ``fit_s + predict_s``). Figures go to
``benchmark.extra_info`` and the summary at the end of the session.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmark.store import ResultStore

TOLERANCE = 0.20
MIN_HOURS = 24.0
_CLI = "import sys; from benchmark.cli import main; sys.exit(main())"
_DATASET = dict(
    n_patients=2,
    seizures_per_patient=1,
    long_seizure_recordings=1,
    seizure_recording_minutes=60,
    interictal_recordings=11,
    interictal_recording_minutes=60,
)


def _cli(args: list[str], log: Path) -> tuple[str, float]:
    """stdout and wall seconds of one ``seizure-bench`` process; a failure shows its last log line."""
    t0 = time.perf_counter()
    with open(log, "wb") as err:
        done = subprocess.run([sys.executable, "-c", _CLI, *args], stdout=subprocess.PIPE, stderr=err)
    wall = time.perf_counter() - t0
    last = (log.read_text(errors="replace").strip().splitlines() or [""])[-1]
    assert done.returncode == 0, f"seizure-bench {args[0]} exited with {done.returncode}: {last}"
    return done.stdout.decode(), wall


def _ratio(planned: float, actual: float) -> float:
    return planned / actual if actual else float("inf")


def _disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def day_of_eeg(tmp_path_factory: pytest.TempPathFactory):
    """The 24-h SYNTHETIC dataset (about 1 GB of EDF), removed afterwards."""
    from benchmark.datasets.synthetic import SyntheticConfig, generate

    config = SyntheticConfig(**_DATASET)
    assert config.hours() >= MIN_HOURS
    root = tmp_path_factory.mktemp("scale-24h")
    data = generate(root / "ds", config)
    yield data, config.hours()
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.heavy
def test_plan_predicts_windows_bytes_and_time_of_24_hours(benchmark, bench_summary, tmp_path, day_of_eeg):
    data, hours = day_of_eeg
    common = ["--method", "eegnet", "--dataset", "chbmit-synthetic", "--data-dir", str(data)]
    common += ["--task", "detection", "--protocol", "loso", "--threads", "1"]
    common += ["--splits-dir", str(tmp_path / "splits"), "--cache-dir", str(tmp_path / "cache")]
    out, plan_wall = _cli(["plan", *common, "--time", "--json"], tmp_path / "plan.log")
    plan = json.loads(out)
    store_path = tmp_path / "runs.sqlite"
    run_args = ["run", *common, "--isolation", "none", "--no-progress", "--store", str(store_path)]
    _, run_wall = benchmark.pedantic(_cli, args=(run_args, tmp_path / "run.log"), rounds=1, iterations=1)

    store = ResultStore(store_path)
    (record,) = store.list_runs()
    folds = {f.fold_id: f for f in store.folds(record.run_id)}
    timings = record.provenance["timings"]
    planned_folds = {f["fold_id"]: f for f in plan["folds"]}
    assert set(folds) == set(planned_folds) and all(f.status == "ok" for f in folds.values())
    figures = {
        "windows": (plan["windows"], sum(f.n_test for f in folds.values())),
        "train windows": (
            sum(f["balanced_train_windows"] for f in plan["folds"]),
            sum(f.n_train for f in folds.values()),
        ),
        "cache bytes": (plan["cache_bytes"], _disk_bytes(tmp_path / "cache" / "windows")),
        "cache s": (plan["timing"]["cache_s"], timings["windows_s"]),
        "folds s": (plan["timing"]["folds_s"], timings["fit_s"] + timings["predict_s"]),
    }
    ratios = {k: _ratio(p, a) for k, (p, a) in figures.items()}
    benchmark.extra_info.update(
        {
            "workload": f"eegnet smoke, detection loso, {len(folds)} folds, chbmit-synthetic {hours:.1f} h",
            "synthetic": True,
            "threads": 1,
            **{f"{k.replace(' ', '_')}_planned": p for k, (p, _) in figures.items()},
            **{f"{k.replace(' ', '_')}_actual": a for k, (_, a) in figures.items()},
            **{f"{k.replace(' ', '_')}_ratio": round(r, 3) for k, r in ratios.items()},
            "plan_wall_s": round(plan_wall, 2),
            "plan_probe_s": plan["timing"]["rates"]["probe_s"],
            "run_wall_s": round(run_wall, 2),
            "planned_total_s": round(plan["timing"]["total_s"], 2),
        }
    )
    line = f"scale, {hours:.1f} h of SYNTHETIC EEG, eegnet smoke detection loso ({len(folds)} folds), plan/actual: " + (
        "; ".join(f"{k} {p:,.0f} / {a:,.0f} (x{ratios[k]:.2f})" for k, (p, a) in figures.items())
        + f"; run wall {run_wall:.0f} s, plan --time {plan_wall:.0f} s (limit x{1 - TOLERANCE:.1f}-{1 + TOLERANCE:.1f})"
    )
    print(line)
    bench_summary.append(line)
    assert hours >= MIN_HOURS
    bad = {k: round(r, 3) for k, r in ratios.items() if abs(r - 1) > TOLERANCE}
    assert not bad, line
