"""``plan``: run size from the index alone, equal to what the harness would cut, and side-effect free."""

from __future__ import annotations

import builtins
import io
import math
from pathlib import Path

import numpy as np
import pytest

from benchmark import features
from benchmark.datasets import load_dataset
from benchmark.errors import BenchmarkError
from benchmark.fold_windows import balance, hold_out_units
from benchmark.plan import format_plan, human_bytes, human_count, plan_run
from benchmark.runner import RunConfig, fold_seed
from benchmark.splits import load_split, make_split, save_split, split_path
from benchmark.tasks import make_labels, make_params
from benchmark.windows import WindowParams, window_table

REPO = Path(__file__).resolve().parents[1]
MEDIA = (".edf", ".mp4", ".avi", ".mkv")


@pytest.fixture
def no_file_reads(monkeypatch):
    """Make any attempt to open an EDF or video file (or read a header or signal) fail the test."""
    import benchmark.edf as edf

    def refuse(*args, **kwargs):
        raise AssertionError(f"plan opened a data file: {args[:1]}")

    real_open = io.open

    def guarded_open(file, *args, **kwargs):
        if str(file).lower().endswith(MEDIA):
            refuse(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(edf, "read_header", refuse)
    monkeypatch.setattr(edf, "EdfReader", refuse)
    from benchmark.datasets import base as loader_base

    monkeypatch.setattr(loader_base, "read_header", refuse)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(builtins, "open", guarded_open)


def config(tmp_path: Path, data: Path, **kw) -> RunConfig:
    base = dict(
        method="eegnet",
        dataset="chbmit-synthetic",
        data_dir=data,
        store_path=tmp_path / "r.sqlite",
        splits_dir=tmp_path / "splits",
        cache_dir=tmp_path / "cache",
        progress=False,
    )
    base.update(kw)
    return RunConfig(**base)


def in_memory_split(index, task: str, protocol: str, **params):
    p = make_params(task, **params)
    labels = make_labels(index, task, p)
    return make_split(
        labels, protocol, dataset=index.dataset, index_hash=index.content_hash(), seed=p.seed, synthetic=index.synthetic
    )


def test_windows_hours_and_cache_match_the_harness(tmp_path, tiny_synthetic, no_file_reads):
    window = WindowParams(1.0, 1.0, ictal_stride_s=0.5)
    cfg = config(tmp_path, tiny_synthetic, task="detection", protocol="loso", window=window)
    plan = plan_run(cfg)

    index = load_dataset("chbmit-synthetic", tiny_synthetic, check_edf=False)
    spec = in_memory_split(index, "detection", "loso")
    table = window_table(spec, index, window)
    extra = table["extra"].astype(bool)
    assert plan.synthetic and plan.windows == len(table) > 0
    assert plan.extra_windows == int(extra.sum()) > 0
    assert plan.windows_per_class == {
        c: int((table.loc[~extra, "label"] == i).sum()) for i, c in enumerate(plan.classes)
    }
    assert sum(plan.windows_per_class.values()) + plan.extra_windows == plan.windows
    sfreq = index.patients[0].recordings[0].sfreq
    shape = features.output_shape("raw", len(index.channels), int(round(sfreq)), sfreq, {})
    assert plan.window_shape == shape and plan.bytes_per_window == int(np.prod(shape)) * 4
    # Raw EDF samples are stored once as int16 (the extra ictal windows overlap regular ones).
    assert plan.cache_layout.startswith("int16 samples, each stored once")
    assert plan.cache_bytes < plan.windows * (plan.bytes_per_window // 2 + 16) + 1024
    assert plan.dataset_hours == pytest.approx(index.hours)
    assert plan.task_hours == pytest.approx(
        sum(s.end - s.start for u in spec.units.values() for s in u.segments) / 3600
    )
    assert plan.n_folds == len(spec.folds) and plan.split_source.startswith("built in memory")
    # Nothing written: no ad-hoc split frozen, no cache entry.
    assert not cfg.splits_dir.exists() and not cfg.cache_dir.exists()


@pytest.mark.parametrize(
    "task, protocol, valid",
    [("detection", "loso", 0.0), ("prediction", "loocv", 0.5), ("detection", "kfold5-random", 0.0)],
)
def test_fold_counts_mirror_the_runners_selection(tmp_path, tiny_synthetic, task, protocol, valid):
    plan = plan_run(config(tmp_path, tiny_synthetic, task=task, protocol=protocol, valid_fraction=valid))
    index = load_dataset("chbmit-synthetic", tiny_synthetic, check_edf=False)
    spec = in_memory_split(index, task, protocol)
    table = window_table(spec, index, plan_window(task))
    assert [f.fold_id for f in plan.folds] == [f.fold_id for f in spec.folds]
    for fold, fp in zip(spec.folds, plan.folds):
        if fold.chunk_fold is not None:
            which = np.empty(len(table), dtype=np.int64)
            for (p, r), g in table.groupby(["patient", "recording"], sort=False):
                which[g.index.to_numpy()] = spec.splitter().chunk_folds(f"{p}/{r}", g["start"].to_numpy())
            train, test = table[which != fold.chunk_fold], table[which == fold.chunk_fold]
        else:
            train, test = table[table["unit"].isin(fold.train)], table[table["unit"].isin(fold.test)]
        test = test[~test["extra"].astype(bool)]
        held = hold_out_units(train.reset_index(drop=True), valid, fold_seed(0, fold.fold_id))
        if held is not None:
            train = train[~train["unit"].isin(set(held["unit"]))]
            assert fp.valid_windows == len(held) > 0
        assert fp.train_windows == len(train) and fp.test_windows == len(test)
        expected = balance(train.reset_index(drop=True), fold_seed(0, fold.fold_id)) if task == "detection" else train
        assert fp.balanced_train_windows == len(expected)
        assert fp.balanced_train_per_class == {
            c: int((expected["label"] == i).sum()) for i, c in enumerate(plan.classes)
        }


def plan_window(task: str) -> WindowParams:
    from benchmark.windows import default_window

    return default_window(task)


def test_steps_read_the_budgets_keys(tmp_path, tiny_synthetic):
    cfg = config(
        tmp_path,
        tiny_synthetic,
        task="detection",
        protocol="loso",
        method_overrides={"epochs": 3, "batch_size": 7, "max_windows_per_epoch": None},
    )
    plan = plan_run(cfg)
    assert plan.step_keys == {"fit": {"epochs": 3, "batch_size": 7}}
    for f in plan.folds:
        assert f.steps == {"fit": 3 * math.ceil(f.balanced_train_windows / 7)}
    assert plan.total_steps == sum(f.total_steps for f in plan.folds) > 0

    capped = plan_run(
        config(
            tmp_path,
            tiny_synthetic,
            task="detection",
            protocol="loso",
            method_overrides={"epochs": 3, "batch_size": 7, "max_windows_per_epoch": 10},
        )
    )
    assert capped.step_keys["fit"]["max_windows_per_epoch"] == 10
    assert all(f.steps == {"fit": 3 * math.ceil(min(10, f.balanced_train_windows) / 7)} for f in capped.folds)

    sklearn = plan_run(config(tmp_path, tiny_synthetic, method="bandpower_logreg", task="detection", protocol="loso"))
    assert sklearn.step_keys is None and sklearn.total_steps is None
    assert all(f.steps is None for f in sklearn.folds)
    assert sklearn.bytes_per_window != plan.bytes_per_window  # band power, not raw samples
    assert "n/a" in format_plan(sklearn)


def test_a_frozen_split_is_read_not_rebuilt_nor_rewritten(tmp_path, tiny_synthetic, no_file_reads):
    cfg = config(tmp_path, tiny_synthetic, task="prediction", protocol="loocv")
    index = load_dataset("chbmit-synthetic", tiny_synthetic, check_edf=False)
    spec = in_memory_split(index, "prediction", "loocv")
    path = save_split(spec, split_path(cfg.splits_dir, index.dataset, "prediction", make_params("prediction"), "loocv"))
    before = path.read_bytes(), sorted(cfg.splits_dir.rglob("*"))
    plan = plan_run(cfg)
    assert plan.split_source == str(path) and plan.n_folds == len(spec.folds)
    assert (path.read_bytes(), sorted(cfg.splits_dir.rglob("*"))) == before
    # a frozen file that differs from what the data give is refused, as run refuses it, and kept
    spec.folds = spec.folds[1:]
    save_split(spec, path)
    before = path.read_bytes(), sorted(cfg.splits_dir.rglob("*"))
    with pytest.raises(
        BenchmarkError,
        match=f"fold {in_memory_split(index, 'prediction', 'loocv').folds[0].fold_id} derived from the data is missing",
    ):
        plan_run(cfg)
    assert (path.read_bytes(), sorted(cfg.splits_dir.rglob("*"))) == before
    assert not cfg.cache_dir.exists()


def test_modality_mismatch_is_a_one_line_error(tmp_path, tiny_synthetic):
    with pytest.raises(BenchmarkError, match="takes video"):
        plan_run(config(tmp_path, tiny_synthetic, method="i3d_lstm", task="classification", protocol="loso"))


def test_whole_chbmit_from_its_summaries(tmp_path, shared_data, no_file_reads):
    data = shared_data / "chbmit"
    splits = REPO / "splits"
    listing = sorted(p.name for p in splits.rglob("*"))
    cfg = RunConfig(
        method="resnet_lstm_supcon",
        dataset="chbmit",
        task="prediction",
        protocol="loocv",
        data_dir=data,
        splits_dir=splits,
        cache_dir=tmp_path / "cache",
        store_path=tmp_path / "r.sqlite",
    )
    plan = plan_run(cfg)
    index = load_dataset("chbmit", data, check_edf=False)
    frozen = split_path(splits, "chbmit", "prediction", make_params("prediction"), "loocv")
    assert plan.dataset_hours == pytest.approx(index.hours) and not plan.synthetic
    assert 0 < plan.task_hours < plan.dataset_hours
    assert plan.split_source == str(frozen) and plan.n_folds == len(load_split(frozen).folds)
    assert plan.windows == sum(plan.windows_per_class.values()) and plan.extra_windows == 0
    assert set(plan.step_keys) == {"pretrain", "fit"} and plan.step_keys["pretrain"]["pretrain_epochs"] > 0
    # Windows one after another share no interior frame: every frame of every window is stored.
    assert plan.cache_bytes == pytest.approx(plan.windows * (plan.bytes_per_window + 8), rel=1e-4)
    text = format_plan(plan)
    assert f"{plan.dataset_hours:.1f} h in the dataset" in text and "SYNTHETIC" not in text
    # chb24's summary gives no file times: its 22 files are named, not silently left out of the hours.
    unknown = {p.patient_id: sum(r.duration is None for r in p.recordings) for p in index.patients}
    assert plan.unknown_duration == {p: n for p, n in unknown.items() if n} == {"chb24": 22}
    assert "(+ 22 recordings of unknown duration: chb24)" in text
    assert sorted(p.name for p in splits.rglob("*")) == listing and not cfg.cache_dir.exists()


def test_human_units():
    assert human_bytes(1.5e9) == "1.5 GB" and human_bytes(90_720) == "90.7 kB" and human_bytes(12) == "12 B"
    assert human_count(3_451_076) == "3.45M" and human_count(15_457) == "15.5k" and human_count(950) == "950"
    assert human_count(None) == "n/a"


def test_plan_command_prints_json_of_the_whole_dataset(tmp_path, shared_data, capsys):
    from benchmark.cli import main

    rc = main(
        [
            "plan",
            "--dataset",
            "chbmit",
            "--data-dir",
            str(shared_data / "chbmit"),
            "--method",
            "eegnet",
            "--task",
            "detection",
            "--protocol",
            "loso",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--json",
        ]
    )
    assert rc == 0
    import json

    out = json.loads(capsys.readouterr().out)
    index = load_dataset("chbmit", shared_data / "chbmit", check_edf=False)
    assert out["dataset_hours"] == pytest.approx(index.hours)
    assert out["n_folds"] == len({p.group for p in index.patients}) - 1  # chb24: durations unknown, so 22 subjects
    # 1-s windows every second: each EDF sample of the 18 channels once, as int16.
    assert out["cache_bytes"] == pytest.approx(out["windows"] * (out["bytes_per_window"] // 2 + 4), rel=1e-4)


@pytest.mark.parametrize(
    "task, protocol, valid, ictal",
    [
        ("detection", "kfold5-random-balanced", 0.0, 0.5),
        ("detection", "loso", 0.3, 0.5),
        ("prediction", "loocv", 0.5, None),
        ("detection", "kfold5-random", 0.0, None),
    ],
)
def test_plan_counts_are_the_runs_own_fold_windows(tmp_path, tiny_synthetic, task, protocol, valid, ictal):
    """Plan and run share one selection rule (benchmark.fold_windows): every fold's train, balanced
    and test figures equal the windows the runner hands the method, the balanced pool included."""
    from benchmark.fold_windows import rows_by_patient
    from benchmark.runner import Runner

    window = WindowParams(plan_window(task).window_s, plan_window(task).stride_s, ictal)
    cfg = config(tmp_path, tiny_synthetic, task=task, protocol=protocol, valid_fraction=valid, window=window)
    plan = plan_run(cfg)
    runner = Runner(cfg)
    index = load_dataset("chbmit-synthetic", tiny_synthetic, check_edf=False)
    spec = runner.build_split(index)
    table = window_table(spec, index, runner.window)
    pids = sorted({spec.units[u].patient for f in spec.folds for u in f.train + f.test})
    rows_of = rows_by_patient(table, pids)
    for fold, fp in zip(spec.folds, plan.folds, strict=True):
        train, valid_w, test = runner.fold_windows(spec, fold, rows_of, {p: i for i, p in enumerate(pids)})
        assert fp.balanced_train_windows == len(train), fold.fold_id
        assert fp.balanced_train_per_class == {c: int((train["label"] == i).sum()) for i, c in enumerate(plan.classes)}
        assert fp.test_windows == len(test) and fp.valid_windows == (0 if valid_w is None else len(valid_w))


@pytest.mark.parametrize(
    "method, task, protocol",
    [
        ("resnet_lstm_supcon", "prediction", "loocv"),
        ("eegnet", "detection", "loso"),
        ("resnet_supcon", "prediction", "loocv"),
    ],
)
def test_plan_from_the_declared_metadata_equals_the_plan_from_the_method_class(
    tmp_path, tiny_synthetic, monkeypatch, method, task, protocol
):
    import benchmark.plan as plan_module
    from benchmark.adapters import REGISTRY

    cfg = config(tmp_path, tiny_synthetic, method=method, task=task, protocol=protocol, method_overrides={})
    light = plan_run(cfg)
    monkeypatch.setattr(plan_module, "method_for_metadata", lambda name, isolation: REGISTRY.get(name))
    assert light.to_dict() == plan_run(cfg).to_dict() and format_plan(light) == format_plan(plan_run(cfg))
    assert any("LSTM context" in n for n in light.notes) == (method == "resnet_lstm_supcon")
