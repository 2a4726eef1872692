"""Item 3: the layout of an isolated fold's arrays says nothing about its test windows.

Before, a sandboxed method got the window cache's per-patient arrays whole: the row number of a
test window told its place in the recording, rows no set referred to (``--ictal-stride``'s extra
ictal windows) told which test windows were ictal, and ``/proc/self/mountinfo`` showed host paths
naming patients, the run and the fold.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _plugins import installed_plugin, needs_sandbox
from fakes import run_config

from benchmark.fold_worker import AdapterOutput, AdapterTask, clean_report, read_output
from benchmark.runner import Runner
from benchmark.sandbox import fold_arrays, measured
from benchmark.store import ResultStore
from benchmark.windows import WindowParams


def _meta(n):
    return pd.DataFrame(
        {
            "patient": ["p"] * n,
            "recording": ["r"] * n,
            "start": np.arange(n, dtype=float),
            "end": np.arange(n, dtype=float) + 1,
            "unit": ["u"] * n,
        }
    )


def _task(tmp_path, train_refs, test_refs):
    sources = []
    for i, n in enumerate((30, 80)):
        path = tmp_path / f"chb0{i + 1}.npy"
        # Row r of array i holds the value 1000 i + r everywhere: the data say where they came from.
        np.save(path, (1000 * i + np.arange(n, dtype=np.float32))[:, None, None] * np.ones((1, 2, 3), np.float32))
        sources.append(str(path))
    return AdapterTask(
        method="m",
        method_module="m",
        method_qualname="M",
        budget="smoke",
        overrides={},
        seed=0,
        device="cpu",
        classes=("bckg", "sz"),
        sources=sources,
        train=(train_refs, _meta(len(train_refs)), np.zeros(len(train_refs), int)),
        test=(test_refs, _meta(len(test_refs))),
        info={},
        work_dir=str(tmp_path / "work"),
    )


def _windows(sources, refs):
    return np.stack([sources[s][r] for s, r in refs])


def _laid_out(tmp_path, task, **kw):
    """``fold_arrays`` of ``task``: the new task, and the new arrays keyed by the original path."""
    new = fold_arrays(task, tmp_path / "fold" / "data", **kw)
    arrays = [np.load(tmp_path / "fold" / "data" / f"src{j}.npy") for j in range(len(new.sources))]
    return new, arrays


def test_item03_isolated_arrays_keep_only_referenced_rows_in_a_secret_order(tmp_path):
    # Training windows on both arrays; test windows on array 1 every 4th row, so rows 1-3 of each
    # 4 are unreferenced there (as the extra ictal windows of --ictal-stride would be).
    train = np.array([[0, r] for r in range(0, 30, 2)] + [[1, 2], [1, 6]])
    test = np.array([[1, r] for r in range(0, 80, 4)])
    task = _task(tmp_path, train, test)
    new, after = _laid_out(tmp_path, task)
    before = [np.load(p) for p in task.sources]
    # The method reads the same windows, in the same order.
    np.testing.assert_array_equal(_windows(after, new.train[0]), _windows(before, train))
    np.testing.assert_array_equal(_windows(after, new.test[0]), _windows(before, test))
    # The array with test windows holds exactly the referenced rows, not in their original order.
    j_test = new.sources.index(task.sources[1])
    assert len(after[j_test]) == len({r for s_, r in np.concatenate([train, test]) if s_ == 1}) == 22
    assert not np.all(np.diff(after[j_test][:, 0, 0]) > 0)
    # A training-only array is the same file (a hard link), not a copy.
    j_train = new.sources.index(task.sources[0])
    assert os.path.samefile(task.sources[0], tmp_path / "fold" / "data" / f"src{j_train}.npy")
    # The task handed over is not changed in place.
    np.testing.assert_array_equal(task.test[0], test)


def test_item03_concurrent_folds_share_no_array_file(tmp_path):
    train = np.array([[0, r] for r in range(30)])
    test = np.array([[1, r] for r in range(80)])
    task = _task(tmp_path, train, test)
    new, after = _laid_out(tmp_path, task, share=False)
    data = tmp_path / "fold" / "data"
    for j, src in enumerate(new.sources):
        assert not os.path.samefile(src, data / f"src{j}.npy")
    np.testing.assert_array_equal(_windows(after, new.train[0]), _windows([np.load(p) for p in task.sources], train))


def test_item03_array_order_and_unused_arrays_say_nothing(tmp_path):
    # Array 0 (the first patient in sorted order) is used by no set: it is not given at all, and the
    # order of the given ones is random, so a test window's array index is not its patient's rank.
    task = _task(tmp_path, np.array([[1, 0], [1, 1]]), np.array([[1, 5]]))
    new, after = _laid_out(tmp_path, task)
    assert new.sources == [task.sources[1]] and len(after) == 1
    orders = set()
    for k in range(40):
        (tmp_path / f"t{k}").mkdir()
        task = _task(tmp_path / f"t{k}", np.array([[0, 0], [1, 1]]), np.array([[0, 5], [1, 7]]))
        new = fold_arrays(task, tmp_path / f"t{k}" / "fold")
        orders.add(tuple(Path(p).name for p in new.sources))
    assert len(orders) == 2


def test_item03_an_isolated_fold_without_disk_room_fails_in_one_line(tmp_path, monkeypatch):
    import shutil as shutil_mod

    from benchmark.sandbox import run_task

    task = _task(tmp_path, np.array([[0, 0]]), np.array([[1, 3]]))
    monkeypatch.setattr(shutil_mod, "disk_usage", lambda p: shutil_mod._ntuple_diskusage(10, 10, 0))
    out = run_task(task, "isolated", None, scratch=tmp_path / "cache" / "isolated")
    assert out.error.startswith("could not lay out the isolated fold's arrays") and "no space left" in out.error
    assert "\n" not in out.error


def test_item03_worker_times_are_the_harness_wall_clock():
    out = measured(AdapterOutput(proba=None, fit_seconds=0.001, predict_seconds=-5.0), wall=12.5)
    assert (out.fit_seconds, out.predict_seconds) == (12.5, 0.0)
    honest = measured(AdapterOutput(fit_seconds=3.0, predict_seconds=1.0), wall=6.0)
    assert (honest.fit_seconds, honest.predict_seconds) == (5.0, 1.0)
    liar = measured(AdapterOutput(predict_seconds=99.0), wall=2.0)
    assert (liar.fit_seconds, liar.predict_seconds) == (0.0, 2.0)  # the split is the method's; the sum is not


def test_item03_what_a_method_reports_about_itself_is_cleaned():
    extra = {
        "n_params": -3,
        "weights_source": "paper\nweights " + "x" * 500,
        "efficiency": {
            "flops_per_window": 1e6,
            "model_size_mb": float("nan"),
            "inference_ms_per_window": -1,
            "window_shape": [23, 256],
            "note": "x" * 10_000,
            "n_params_total": True,
        },
    }
    out = clean_report(extra)
    assert out["n_params"] is None
    assert "\n" not in out["weights_source"] and len(out["weights_source"]) == 200
    assert out["efficiency"] == {"flops_per_window": 1e6, "window_shape": [23, 256]}
    assert clean_report({"n_params": 10, "efficiency": "big"}) == {"n_params": 10, "efficiency": {}}


def test_item03_worker_output_must_be_regular_files(tmp_path):
    host = tmp_path / "host-secret.npy"
    np.save(host, np.eye(2))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "result.json").write_text('{"error": null}')
    (tmp_path / "out" / "proba.npy").symlink_to(host)
    out = read_output(tmp_path / "out")
    assert out.proba is None and "not a regular file" in out.error or "Too many levels" in out.error
    (tmp_path / "out" / "proba.npy").unlink()
    (tmp_path / "out" / "result.json").unlink()
    os.mkfifo(tmp_path / "out" / "result.json")  # would block a plain read forever
    out = read_output(tmp_path / "out")
    assert "not a regular file" in out.error


LAYOUT = '''
import os
import numpy as np
from benchmark.adapters import MethodAdapter, MethodMeta


class LayoutReader(MethodAdapter):
    """Reads the sandbox's mount table and guesses ictal test windows from the arrays' layout."""

    meta = MethodMeta(name="layout_reader_test", modality="eeg", tasks=("detection",),
                      representation="bandpower", budgets={"smoke": {}, "paper": {}}, citation="test")

    def fit(self, train, valid, context):
        with open("/proc/self/mountinfo") as fh:
            self.mounts = fh.read()

    def predict_proba(self, test):
        # Rows of a test window's array that no set refers to lie next to ictal test windows when
        # the arrays are the cache's own (extra ictal rows at --ictal-stride); guess ictal there.
        used = {}
        for s, r in test.refs:
            used.setdefault(int(s), set()).add(int(r))
        p1 = np.zeros(len(test))
        for i, (s, r) in enumerate(test.refs):
            n = len(test.sources[int(s)])
            gap = any(0 <= r + d < n and (r + d) not in used[int(s)] for d in (-1, 1))
            p1[i] = 1.0 if gap else 0.0
        return np.column_stack([1 - p1, p1])

    def weights_source(self):
        return "mounts:" + " ".join(line.split()[3] for line in self.mounts.splitlines())
'''


@needs_sandbox
def test_item03_isolated_fold_layout_and_mounts_reveal_nothing(tmp_path, tiny_synthetic):
    for name in installed_plugin(tmp_path, "layout_plugin_item03", LAYOUT, "layout_reader_test", "LayoutReader"):
        (tmp_path / "store").mkdir()
        cfg = run_config(
            tmp_path,
            tiny_synthetic,
            method=name,
            task="detection",
            protocol="loso",
            store_path=tmp_path / "store" / "r.sqlite",
            threads=1,
            isolation="sandbox",
            window=WindowParams(1.0, 1.0, 0.5),
        )
        rec = Runner(cfg).run()
        assert rec.status == "complete" and rec.provenance["isolation"] == "isolated"
        mounts = rec.provenance["weights_source"]
        folds = ResultStore(cfg.store_path).folds(rec.run_id)
        # No host path the sandbox shows names a patient, the run or a fold.
        for name in ["chb01", "chb02", rec.run_id[:12], *[f.fold_id for f in folds]]:
            assert not re.search(re.escape(name), mounts), (name, mounts)
        # The layout guess is no better than chance: every test array holds only referenced rows.
        scores = ResultStore(cfg.store_path).scores(rec.run_id)
        assert scores["label"].nunique() == 2
        assert (scores["score"] == 0.0).all()


@pytest.mark.parametrize("n", [0, 1])
def test_item03_isolated_arrays_with_few_rows(tmp_path, n):
    test = np.array([[1, r] for r in range(n)]).reshape(-1, 2)
    task = _task(tmp_path, np.array([[0, 0]]), test)
    new, after = _laid_out(tmp_path, task)
    # An array no set refers to is not given; one test window gives a one-row copy.
    assert len(new.sources) == 1 + n and new.test[0].shape == (n, 2)
    assert sorted(len(a) for a in after) == ([30] if n == 0 else [1, 30])  # the training array is linked whole


def test_item03_copies_left_by_a_killed_harness_are_removed_but_running_folds_kept(tmp_path):
    import fcntl

    from benchmark.sandbox import _sweep

    for name in ("fold-dead", "fold-alive", "fold-setting-up", "fold-just-made"):
        (tmp_path / name / "data").mkdir(parents=True)
    for name in ("fold-dead", "fold-alive", "fold-just-made"):
        (tmp_path / name / ".lock").touch()
    for name in ("fold-dead", "fold-alive"):
        os.utime(tmp_path / name / ".lock", (time.time() - 3600, time.time() - 3600))
    with open(tmp_path / "fold-alive" / ".lock", "r+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        _sweep(tmp_path)
    # A young folder may belong to a fold that has not taken its lock yet.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fold-alive", "fold-just-made", "fold-setting-up"]


def test_item03_a_weights_setting_shows_an_isolated_fold_only_weights_files(tmp_path):
    from benchmark.weights import weights_paths

    (tmp_path / "resnet152.pth").write_bytes(b"x")
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "model.safetensors").write_bytes(b"x")
    (tmp_path / "dataset").mkdir()
    (tmp_path / "dataset" / "chb01-summary.txt").write_text("Seizure Start Time: 2996 seconds")
    shown = weights_paths(
        {
            "backbone_weights": str(tmp_path / "resnet152.pth"),
            "text_weights": str(tmp_path / "hf"),
            "encoder_weights": str(tmp_path / "dataset"),
            "other_weights": str(tmp_path / "dataset" / "chb01-summary.txt"),
            "lr": "0.1",
        }
    )
    assert shown == {"backbone_weights": str(tmp_path / "resnet152.pth"), "text_weights": str(tmp_path / "hf")}
