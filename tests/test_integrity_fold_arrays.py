"""Item 3: the layout of an isolated fold's arrays says nothing about its test windows.

Before, a sandboxed method got the window cache's per-patient arrays whole: the row number of a
test window told its place in the recording, rows no set referred to (``--ictal-stride``'s extra
ictal windows) told which test windows were ictal, and ``/proc/self/mountinfo`` showed host paths
naming patients, the run and the fold.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
import pytest
from fakes import run_config
from test_integrity_isolation import _plugin, needs_sandbox

from benchmark.fold_worker import AdapterOutput, AdapterTask
from benchmark.runner import Runner
from benchmark.sandbox import fold_arrays, measured
from benchmark.store import ResultStore
from benchmark.windows import WindowParams


def _meta(n):
    return pd.DataFrame({"patient": ["p"] * n, "recording": ["r"] * n, "start": np.arange(n, dtype=float),
                         "end": np.arange(n, dtype=float) + 1, "unit": ["u"] * n})


def _task(tmp_path, train_refs, test_refs):
    sources = []
    for i, n in enumerate((30, 80)):
        path = tmp_path / f"chb0{i + 1}.npy"
        # Row r of array i holds the value 1000 i + r everywhere: the data say where they came from.
        np.save(path, (1000 * i + np.arange(n, dtype=np.float32))[:, None, None] * np.ones((1, 2, 3), np.float32))
        sources.append(str(path))
    return AdapterTask(method="m", method_module="m", method_qualname="M", budget="smoke", overrides={}, seed=0,
                       device="cpu", classes=("bckg", "sz"), sources=sources,
                       train=(train_refs, _meta(len(train_refs)), np.zeros(len(train_refs), int)),
                       test=(test_refs, _meta(len(test_refs))), info={}, work_dir=str(tmp_path / "work"))


def _windows(sources, refs):
    return np.stack([sources[s][r] for s, r in refs])


def test_item03_isolated_arrays_keep_only_referenced_rows_in_a_secret_order(tmp_path):
    # Training windows on both arrays; test windows on array 1 every 4th row, so rows 1-3 of each
    # 4 are unreferenced there (as the extra ictal windows of --ictal-stride would be).
    train = np.array([[0, r] for r in range(0, 30, 2)] + [[1, 2], [1, 6]])
    test = np.array([[1, r] for r in range(0, 80, 4)])
    task = _task(tmp_path, train, test)
    new = fold_arrays(task, tmp_path / "fold" / "data")
    before = [np.load(p) for p in task.sources]
    after = [np.load(tmp_path / "fold" / "data" / f"src{i}.npy") for i in range(2)]
    # The method reads the same windows, in the same order.
    np.testing.assert_array_equal(_windows(after, new.train[0]), _windows(before, train))
    np.testing.assert_array_equal(_windows(after, new.test[0]), _windows(before, test))
    # The array with test windows holds exactly the referenced rows, not in their original order.
    assert len(after[1]) == len({r for _, r in np.concatenate([train, test]) if _ == 1}) == 22
    assert not np.all(np.diff(after[1][:, 0, 0]) > 0)
    # A training-only array is the same file (a hard link), not a copy.
    assert os.path.samefile(task.sources[0], tmp_path / "fold" / "data" / "src0.npy")
    # The task handed over is not changed in place.
    np.testing.assert_array_equal(task.test[0], test)


def test_item03_worker_times_are_the_harness_wall_clock():
    liar = AdapterOutput(proba=None, fit_seconds=0.001, predict_seconds=-5.0,
                         extra={"n_params": -3, "weights_source": "paper\nweights " + "x" * 500})
    out = measured(liar, wall=12.5)
    assert (out.fit_seconds, out.predict_seconds) == (12.5, 0.0)
    assert out.extra["n_params"] is None
    assert "\n" not in out.extra["weights_source"] and len(out.extra["weights_source"]) == 200
    honest = measured(AdapterOutput(fit_seconds=3.0, predict_seconds=1.0, extra={"n_params": 10}), wall=6.0)
    assert (honest.fit_seconds, honest.predict_seconds, honest.extra["n_params"]) == (5.0, 1.0, 10)
    assert measured(AdapterOutput(predict_seconds=99.0), wall=2.0).predict_seconds == 2.0


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
    for cls in _plugin(tmp_path, "layout_plugin_item03", LAYOUT):
        (tmp_path / "store").mkdir()
        cfg = run_config(tmp_path, tiny_synthetic, method=cls.meta.name, task="detection", protocol="loso",
                         store_path=tmp_path / "store" / "r.sqlite", threads=1, isolation="sandbox",
                         window=WindowParams(1.0, 1.0, 0.5))
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
    new = fold_arrays(task, tmp_path / "fold" / "data")
    assert len(np.load(tmp_path / "fold" / "data" / "src1.npy")) == n
    assert new.test[0].shape == (n, 2)


def test_item03_copies_left_by_a_killed_harness_are_removed_but_running_folds_kept(tmp_path):
    import fcntl

    from benchmark.sandbox import _sweep

    for name in ("fold-dead", "fold-alive", "fold-setting-up"):
        (tmp_path / name / "data").mkdir(parents=True)
    (tmp_path / "fold-dead" / ".lock").touch()
    with open(tmp_path / "fold-alive" / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        _sweep(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fold-alive", "fold-setting-up"]
