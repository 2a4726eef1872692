"""Freezing and verifying the split files under ``splits/<dataset>/``.

``freeze_standard`` writes the standard settings of a dataset: every protocol, and for every task
of the dataset's modality the parameters the task freezes by default (prediction: SOP 10, 15 and
30 min at the default 4-h inter-ictal gap, plus the ResNet-LSTM paper's 3-h gap for ``loocv``;
seizure type where the dataset has typed seizures; video classification of each label column).
``verify_all`` re-checks every file's own sha256 and that no fold leaks and, when the dataset can be
loaded, that the file was frozen on the same dataset version and is reproduced exactly from it
(:func:`benchmark.splits.verify_split`, which ``run`` and ``plan`` apply too).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchmark.datasets import load_dataset
from benchmark.errors import BenchmarkError
from benchmark.protocols import all_protocols, get_protocol
from benchmark.splits import (
    load_split,
    make_split,
    save_split,
    split_leak,
    split_path,
    verify_split,
)
from benchmark.tasks import all_tasks, get_task, make_labels, make_params

log = logging.getLogger(__name__)


def standard_settings(index, task: str | None = None, protocol: str | None = None, choices: dict | None = None):
    """``(task, params, protocol)`` triples frozen by default for ``index``: every task of the
    dataset's modality (or ``task``), each with the parameters it freezes for each protocol
    (:meth:`benchmark.tasks.Task.standard_params`, narrowed by ``choices``: ``{parameter: values}``)."""
    tasks = [get_task(task)] if task else [t for t in all_tasks() if t.metadata.modality == index.modality]
    protocols = [get_protocol(protocol)] if protocol else all_protocols()
    return [
        (t.name, params, proto.name)
        for t in tasks
        for proto in protocols
        for params in t.standard_params(index, proto, choices)
    ]


def freeze_standard(
    dataset: str, data_dir: Path | None, splits_dir: Path, *, task=None, protocol=None, choices: dict | None = None
) -> list[Path]:
    if protocol is not None:
        get_protocol(protocol)  # an unknown name fails before any data is read
    index = load_dataset(dataset, data_dir)
    paths = []
    labels_cache: dict[Any, Any] = {}
    for t, params, proto in standard_settings(index, task, protocol, choices):
        key = (t, params)
        try:
            if key not in labels_cache:
                labels_cache[key] = make_labels(index, t, params)
            spec = make_split(
                labels_cache[key],
                proto,
                dataset=dataset,
                index_hash=index.content_hash(),
                seed=params.seed,
                synthetic=index.synthetic,
            )
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
    names = (
        list(datasets)
        if datasets
        else sorted(p.name for p in splits_dir.iterdir() if p.is_dir())
        if splits_dir.is_dir()
        else []
    )
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
        return {
            "file": str(path),
            "status": "ok",
            "detail": "sha256 ok, no fold leaks; dataset not available, index hash not checked",
        }
    if spec.index_hash != index.content_hash():
        return {
            "file": str(path),
            "status": "FAILED",
            "detail": f"frozen on dataset version {spec.index_hash[:12]}, data is {index.content_hash()[:12]}",
        }
    try:
        key = (spec.task, make_params(spec.task, **spec.task_params))
        if key not in labels_cache:
            labels_cache[key] = make_labels(index, *key)
        verify_split(spec, index, path, labels=labels_cache[key])
    except BenchmarkError as exc:
        return {"file": str(path), "status": "FAILED", "detail": str(exc)}
    return {"file": str(path), "status": "ok", "detail": f"sha256 ok, dataset {spec.index_hash[:12]} ok, reproduced"}
