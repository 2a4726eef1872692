"""Freezing and verifying the split files under ``splits/<dataset>/``.

``freeze_standard`` writes the standard settings of a dataset (every protocol; prediction with SOP
10, 15 and 30 min at the default 4-h inter-ictal gap, plus the ResNet-LSTM paper's 3-h gap for
``loocv``; detection; seizure type where the dataset has typed seizures; for a video dataset, video
classification of each of its label columns). ``verify_all`` re-checks every file's own sha256
and that no fold leaks and, when the dataset can be loaded, that the file was frozen on the same
dataset version and is reproduced exactly from it (:func:`benchmark.splits.verify_split`, which
``run`` and ``plan`` apply too).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Iterable

from benchmark.datasets import load_dataset
from benchmark.errors import BenchmarkError
from benchmark.splits import (
    BALANCED_PROTOCOLS,
    PROTOCOLS,
    get_splitter,
    load_split,
    make_split,
    save_split,
    split_leak,
    split_path,
    verify_split,
)
from benchmark.tasks import TASK_MODALITY, TASKS, make_labels, make_params

log = logging.getLogger(__name__)

DEFAULT_SOPS = (10.0, 15.0, 30.0)
DEFAULT_GAP_H = 4.0
PAPER_GAP_H = 3.0  # Lee et al. (ResNet-LSTM) define inter-ictal as > 3 h from a seizure


def standard_settings(task: str | None = None, protocol: str | None = None, sops=None, gaps=None,
                      targets: Iterable[str] = ()):
    """``(task, params, protocol)`` triples frozen by default.

    ``targets``: the label columns of a video dataset (one classification split set each); for an
    EEG dataset leave it empty.
    """
    targets = list(targets)
    video_tasks = [t for t in TASKS if TASK_MODALITY.get(t) == "video"]
    tasks = [task] if task else (video_tasks if targets else [t for t in TASKS if t not in video_tasks])
    protocols = [protocol] if protocol else list(PROTOCOLS)
    out = []
    for t in tasks:
        for proto in protocols:
            if t == "classification":
                # loocv leaves out one seizure of a patient: it has no meaning for whole videos.
                # Balancing clips before the split would cut videos apart (make_split refuses it).
                out.extend((t, make_params(t, target=target), proto) for target in targets
                           if proto != "loocv" and proto not in BALANCED_PROTOCOLS)
            elif t == "prediction":
                gap_list = list(gaps) if gaps else [DEFAULT_GAP_H] + ([PAPER_GAP_H] if proto == "loocv" else [])
                for gap in gap_list:
                    for sop in sops or DEFAULT_SOPS:
                        out.append((t, make_params(t, sop_minutes=sop, interictal_gap_hours=gap), proto))
            else:
                out.append((t, make_params(t), proto))
    return out


def freeze_standard(dataset: str, data_dir: Path | None, splits_dir: Path, *, task=None, protocol=None,
                    sops=None, gaps=None) -> list[Path]:
    if protocol is not None:
        get_splitter(protocol)  # an unknown name fails before any data is read
    index = load_dataset(dataset, data_dir)
    targets = sorted({c for p in index.patients for v in (p.info or {}).get("labels", {}).values() for c in v})
    paths = []
    labels_cache: dict[Any, Any] = {}
    for t, params, proto in standard_settings(task, protocol, sops, gaps, targets if index.modality == "video" else ()):
        key = (t, params)
        try:
            if key not in labels_cache:
                labels_cache[key] = make_labels(index, t, params)
            spec = make_split(labels_cache[key], proto, dataset=dataset, index_hash=index.content_hash(),
                              seed=params.seed, synthetic=index.synthetic)
        except BenchmarkError as exc:
            log.warning("skipped %s %s %s: %s", t, params.slug(), proto, exc)
            continue
        paths.append(save_split(spec, split_path(splits_dir, index.dataset, t, params, proto)))
    if not paths:
        raise BenchmarkError(f"no split could be frozen for {dataset} with these settings (see the warnings above).")
    return paths


def _default_data_dir(dataset: str) -> Path | None:
    env = os.environ.get(f"SEIZURE_BENCH_{dataset.upper().replace('-', '_')}_DIR")
    if env:
        return Path(env)
    if dataset == "chbmit":
        shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "chbmit"
        if shared.is_dir():
            return shared
    return None


def verify_all(splits_dir: Path, datasets: Iterable[str] | None = None, data_dir: Path | None = None) -> list[dict]:
    """Verify split files; returns one ``{"file", "status", "detail"}`` per file."""
    splits_dir = Path(splits_dir)
    names = list(datasets) if datasets else sorted(p.name for p in splits_dir.iterdir() if p.is_dir()) if splits_dir.is_dir() else []
    if not names:
        raise BenchmarkError(f"no split files under {splits_dir}; run 'seizure-bench splits freeze --dataset NAME'.")
    results = []
    for name in names:
        files = sorted((splits_dir / name).glob("*.json"))
        if not files:
            results.append({"file": str(splits_dir / name), "status": "FAILED", "detail": "no split files"})
            continue
        index = None
        ddir = data_dir if (data_dir and len(names) == 1) else _default_data_dir(name)
        try:
            index = load_dataset(name, ddir)
        except BenchmarkError as exc:
            log.info("cannot load %s to check index hashes: %s", name, exc)
        labels_cache: dict[Any, Any] = {}
        for f in files:
            results.append(_verify_one(f, index, labels_cache))
    return results


def _verify_one(path: Path, index, labels_cache) -> dict:
    try:
        spec = load_split(path)
    except BenchmarkError as exc:
        return {"file": str(path), "status": "FAILED", "detail": str(exc)}
    if index is None:
        leak = split_leak(spec)  # needs no data
        if leak:
            return {"file": str(path), "status": "FAILED", "detail": f"leaks: {leak}"}
        return {"file": str(path), "status": "ok",
                "detail": "sha256 ok, no fold leaks; dataset not available, index hash not checked"}
    if spec.index_hash != index.content_hash():
        return {"file": str(path), "status": "FAILED",
                "detail": f"frozen on dataset version {spec.index_hash[:12]}, data is {index.content_hash()[:12]}"}
    try:
        key = (spec.task, make_params(spec.task, **spec.task_params))
        if key not in labels_cache:
            labels_cache[key] = make_labels(index, *key)
        verify_split(spec, index, path, labels=labels_cache[key])
    except BenchmarkError as exc:
        return {"file": str(path), "status": "FAILED", "detail": str(exc)}
    return {"file": str(path), "status": "ok", "detail": f"sha256 ok, dataset {spec.index_hash[:12]} ok, reproduced"}


def task_exclusions(index, sops=DEFAULT_SOPS, sph_minutes: float = 0.0, gap_hours: float = DEFAULT_GAP_H) -> dict:
    """Per SOP: usable prediction units per patient and the exclusions the task and ``loocv`` add.

    This is what ``data describe`` shows beside the loader's own exclusions, so that nothing a run
    leaves out is a surprise.
    """
    out = {}
    for sop in sops:
        params = make_params("prediction", sop_minutes=sop, sph_minutes=sph_minutes, interictal_gap_hours=gap_hours)
        labels = make_labels(index, "prediction", params)
        spec = make_split(labels, "loocv", dataset=index.dataset, index_hash=index.content_hash(), seed=params.seed)
        units: dict[str, int] = {}
        for u in labels.units:
            units[u.patient] = units.get(u.patient, 0) + 1
        out[f"{sop:g}"] = {
            "label": params.label(),
            "units": units,
            # the dataset's own exclusions are shown once, by `data describe`, not per SOP
            "exclusions": [vars(e) for e in spec.exclusions if e not in index.exclusions],
        }
    return out
