"""Reference runs: a handful of fast runs whose ids, splits, cache keys and metrics must not change.

``tests/test_refactor_invariants.py`` runs :data:`RUNS` with the code of the working tree and compares
what :func:`record_all` returns with ``tests/data/reference_runs.json``, written by an earlier
version of the code. A difference is a change of behaviour: a run id, split, window-cache key or
metric that a stored result or split file refers to would no longer match.

Regenerate the fixture ONLY for an intended change of behaviour (a new cache format, a fixed
metric, a changed default), and say so in the commit message::

    uv run python tests/data/reference_runs.py --write

Everything runs on SYNTHETIC data generated into a temporary folder (about 30 s on one core).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).with_name("reference_runs.json")
SIGNIFICANT = 12  # digits metrics are stored with
# Generated files get this modification time: window-cache keys include each file's size and mtime.
FIXED_MTIME_NS = 1_700_000_000_000_000_000

# Small synthetic datasets (the sizes the unit tests use) and their generator configurations.
DATASETS: dict[str, dict[str, Any]] = {
    "chbmit-synthetic": dict(
        n_patients=2,
        seizures_per_patient=2,
        interictal_recordings=1,
        seizure_recording_minutes=8,
        short_seizure_recording_minutes=8,
        interictal_recording_minutes=3,
    ),
    "tusz-synthetic": dict(
        n_patients=5,
        seizure_types=("ABSZ", "FNSZ", "GNSZ"),
        sessions_per_patient=2,
        recording_minutes=1.0,
        seizures_per_recording=1,
        sfreq=128,
    ),
    "video-synthetic": dict(
        n_patients=6,
        videos_per_patient=(2, 3),
        contextual_per_patient=1,
        video_s=(4, 6),
        contextual_s=(4, 4),
        size=32,
        seed=3,
    ),
}

# One entry per reference run: every task, several protocols, the cheapest method of each modality.
RUNS: dict[str, dict[str, Any]] = {
    "chbmit-prediction-loocv": dict(
        method="bandpower_logreg", dataset="chbmit-synthetic", task="prediction", protocol="loocv"
    ),
    "chbmit-detection-loso": dict(
        method="bandpower_logreg", dataset="chbmit-synthetic", task="detection", protocol="loso"
    ),
    "chbmit-detection-loso-chance": dict(
        method="chance", dataset="chbmit-synthetic", task="detection", protocol="loso"
    ),
    "tusz-seizure-type-kfold5": dict(
        method="bandpower_logreg", dataset="tusz-synthetic", task="seizure-type", protocol="kfold5"
    ),
    "tusz-detection-kfold5-random-balanced": dict(
        method="bandpower_logreg", dataset="tusz-synthetic", task="detection", protocol="kfold5-random-balanced"
    ),
    "video-classification-loso": dict(
        method="perez_garcia", dataset="video-synthetic", task="classification", protocol="loso"
    ),
}


def generate_datasets(root: Path) -> dict[str, Path]:
    """Generate every dataset of :data:`DATASETS` under ``root``, with fixed file times."""
    from benchmark.datasets.synthetic import SyntheticConfig, generate

    try:
        from benchmark.datasets.synthetic.tusz import TuszSyntheticConfig, generate_tusz_synthetic
        from benchmark.datasets.synthetic.video import VideoSyntheticConfig, generate_video_synthetic
    except ImportError:  # their places before the synthetic subpackage (the fixture was written there)
        from benchmark.datasets.tusz_synthetic import TuszSyntheticConfig, generate_tusz_synthetic
        from benchmark.datasets.video_synthetic import VideoSyntheticConfig, generate_video_synthetic

    makers = {
        "chbmit-synthetic": lambda out, kw: generate(out, SyntheticConfig(**kw)),
        "tusz-synthetic": lambda out, kw: generate_tusz_synthetic(out, TuszSyntheticConfig(**kw)),
        "video-synthetic": lambda out, kw: generate_video_synthetic(out, VideoSyntheticConfig(**kw)),
    }
    folders = {}
    for name, kw in DATASETS.items():
        out = root / "data" / name
        makers[name](out, kw)
        for path in sorted(out.rglob("*")):
            os.utime(path, ns=(FIXED_MTIME_NS, FIXED_MTIME_NS))
        folders[name] = out
    return folders


def _round(value: Any) -> Any:
    """A metric value as JSON: floats to :data:`SIGNIFICANT` digits, NaN as None."""
    if isinstance(value, dict):
        return {str(k): _round(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_round(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return None
    return float(f"{x:.{SIGNIFICANT}g}")


def _frame(df) -> dict[str, dict[str, Any]]:
    """A metrics table as ``{row: {column: value}}``."""
    return {str(i): {str(c): _round(v) for c, v in row.items()} for i, row in df.iterrows()}


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def record_run(name: str, settings: dict[str, Any], data_dir: Path, root: Path) -> dict[str, Any]:
    """Run one reference run in its own store and cache under ``root``; what must stay the same."""
    from benchmark.runner import RunConfig, Runner
    from benchmark.store import ResultStore

    where = root / "runs" / name
    cache = where / "cache"
    cfg = RunConfig(
        **settings,
        data_dir=data_dir,
        store_path=where / "r.sqlite",
        splits_dir=where / "splits",
        cache_dir=cache,
        progress=False,
        threads=1,
        isolation="none",
    )
    rec = Runner(cfg).run()
    store = ResultStore(cfg.store_path)
    windows = cache / "windows"
    return {
        "settings": settings,
        "status": rec.status,
        "synthetic": rec.synthetic,
        "run_id": rec.run_id,
        "split_sha256": rec.split_hash,
        "index_hash": rec.index_hash,
        "code": dict((rec.provenance or {}).get("code", {})),
        # Window-cache entries (patient and key) and the ad-hoc split file, relative to the cache.
        "window_cache_keys": sorted(p.name for p in windows.iterdir() if not p.name.startswith(".")),
        "split_files": sorted(p.relative_to(cache).as_posix() for p in (cache / "splits").rglob("*.json")),
        "task_params": _json(rec.task_params),
        "method_config": _json(rec.method_config),
        "exclusions": _json(rec.exclusions),
        "folds": sorted(f.fold_id for f in store.folds(rec.run_id)),
        "patient_metrics": _frame(store.patient_metrics(rec.run_id)),
        "summary": _frame(store.summary(rec.run_id)),
        "pooled_metrics": _round((rec.provenance or {}).get("pooled_metrics")),
    }


def dataset_hashes(folders: dict[str, Path]) -> dict[str, str]:
    """``RecordingIndex.content_hash()`` of each generated dataset."""
    from benchmark.datasets import load_dataset

    return {name: load_dataset(name, folder).content_hash() for name, folder in folders.items()}


def record_all(root: Path, only: list[str] | None = None) -> dict[str, Any]:
    """Generate the datasets under ``root``, run :data:`RUNS` (or ``only`` of them) and record them."""
    folders = generate_datasets(root)
    runs = {name: record_run(name, RUNS[name], folders[RUNS[name]["dataset"]], root) for name in only or RUNS}
    return {"datasets": {"configs": _json(DATASETS), "content_hash": dataset_hashes(folders)}, "runs": runs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"write {FIXTURE.name} (only for intended changes)")
    ap.add_argument("--out", type=Path, help="write the record to this file instead")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import baselines
    import benchmark

    logging.getLogger(__name__).warning(
        "recording reference runs with %s and %s", Path(benchmark.__file__).parent, Path(baselines.__file__).parent
    )
    with tempfile.TemporaryDirectory() as tmp:
        record = record_all(Path(tmp))
    out = args.out or (FIXTURE if args.write else None)
    text = json.dumps(record, indent=1, sort_keys=True) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
