"""Item 3 (an adapter cannot read the answers) and item 6's --fold-timeout.

A hostile plug-in reads the dataset's annotation files and matches ``test.meta``: isolated, it
cannot read them; in-process, it reads them but the pseudonymous ids and shifted times do not match,
and the run is marked trusted. Pseudonyms never change a model's numbers.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from _plugins import _plugin, installed_plugin, needs_sandbox
from fakes import run_config

from benchmark.conformance import check_adapter, format_results
from benchmark.pseudonyms import Pseudonyms, cache_secret, fold_salt
from benchmark.runner import Runner
from benchmark.store import ResultStore

HOSTILE = '''
import glob, os, re
import numpy as np
from benchmark.adapters import MethodAdapter, MethodMeta

DATA = {data!r}
PROBES = {probes!r}


class Hostile(MethodAdapter):
    """Reads the CHB-MIT summaries and answers from test.meta: the attack of issue item 3."""

    meta = MethodMeta(name="hostile_reader_test", modality="eeg", tasks=("detection", "prediction"),
                      representation="bandpower", budgets={{"smoke": {{}}, "paper": {{}}}}, citation="test")

    def fit(self, train, valid, context):
        self.seizures, self.note = {{}}, ""
        try:
            for path in glob.glob(os.path.join(DATA, "*", "*-summary.txt")) or [os.path.join(DATA, "RECORDS")]:
                rec = None
                with open(path) as fh:
                    for line in fh:
                        if line.startswith("File Name:"):
                            rec = line.split(":", 1)[1].strip().removesuffix(".edf")
                        m = re.match(r"Seizure (?:\\d+ )?(Start|End) Time: *(\\d+)", line)
                        if m:
                            self.seizures.setdefault(rec, []).append(float(m.group(2)))
            self.note = f"read {{sum(len(v) for v in self.seizures.values()) // 2}} seizures"
        except OSError as exc:
            self.note = f"read failed: {{type(exc).__name__}}"
        self.note += "; visible: " + ",".join(p for p in PROBES if os.path.exists(p))

    def predict_proba(self, test):
        p1 = np.full(len(test), 0.5)
        for i, (rec, start, end) in enumerate(test.meta[["recording", "start", "end"]].itertuples(index=False)):
            times = self.seizures.get(str(rec).removesuffix(".edf"))
            if times is not None:
                p1[i] = float(any(start < off and end > on for on, off in zip(times[::2], times[1::2])))
        return np.column_stack([1 - p1, p1])

    def weights_source(self):
        return self.note
'''

SLEEPY = """
import os
import time
import numpy as np
from benchmark.adapters import MethodAdapter, MethodMeta


class Sleepy(MethodAdapter):
    meta = MethodMeta(name="sleepy_test", modality="eeg", tasks=("detection",), representation="bandpower",
                      budgets={"smoke": {}, "paper": {}}, citation="test")

    def fit(self, train, valid, context):
        # Folds run one after the other: the first leaves a mark, the second hangs.
        if os.path.exists(MARK):
            time.sleep(600)
        open(MARK, "w").close()

    def predict_proba(self, test):
        return np.tile([0.6, 0.4], (len(test), 1))
"""


@pytest.fixture
def hostile(tmp_path, tiny_synthetic):
    """The hostile plug-in installed as an entry point (a plug-in imported into the harness cannot run isolated)."""
    # The dataset, the results store, the splits and the window cache's secret.
    probes = [
        str(tiny_synthetic),
        str(tmp_path / "store"),
        str(tmp_path / "splits"),
        str(tmp_path / "cache" / "secret.key"),
    ]
    yield from installed_plugin(
        tmp_path,
        "hostile_plugin_item03",
        HOSTILE.format(data=str(tiny_synthetic), probes=probes),
        "hostile_reader_test",
        "Hostile",
    )


def _detection(tmp_path, data, **kw):
    (tmp_path / "store").mkdir(parents=True, exist_ok=True)
    return run_config(
        tmp_path, data, task="detection", protocol="loso", store_path=tmp_path / "store" / "r.sqlite", threads=1, **kw
    )


def _pooled(rec):
    return rec.provenance["pooled_metrics"]


def test_item03_pseudonyms_hide_ids_and_times_but_keep_order_and_adjacency():
    from methods._resnet_lstm_parts import sequence_index
    from methods._video_ssl_parts import group_codes

    meta = pd.DataFrame(
        {
            "patient": ["chb02"] * 4 + ["chb01"] * 3,
            "recording": ["chb02_16", "chb02_16", "chb02_16", "chb02_19", "chb01_03", "chb01_03", "chb01_03"],
            "start": [10.0, 0.0, 5.0, 20.0, 3600.0, 3605.0, 3620.0],
            "end": [15.0, 5.0, 10.0, 25.0, 3605.0, 3610.0, 3625.0],
            "unit": ["chb02/a", "chb02/a", "chb02/a", "chb02/b", "chb01/c", "chb01/c", "chb01/c"],
        }
    )
    names = Pseudonyms(fold_salt(b"k" * 32, "run", "fold"), [meta])
    other = Pseudonyms(fold_salt(b"x" * 32, "run", "fold"), [meta])
    seen = names.meta(meta)
    text = seen.to_csv()
    assert not any(s in text for s in ("chb01", "chb02", "chb02_16", "3600"))
    # Times cannot be matched with annotations, yet durations and within-recording gaps are kept.
    assert not np.isin(seen["start"], meta["start"]).any()
    assert np.allclose(seen["end"] - seen["start"], meta["end"] - meta["start"])
    for _, g in meta.groupby("recording"):
        assert np.allclose(np.diff(seen.loc[g.index, "start"]), np.diff(g["start"]))
    # Equality and sort order of every id column are kept, so models give the same numbers.
    for col in ("patient", "recording", "unit"):
        assert (seen[col].rank(method="dense") == meta[col].rank(method="dense")).all()
        assert (group_codes(seen[col]) == group_codes(meta[col])).all()
    assert (sequence_index(seen, 3) == sequence_index(meta, 3)).all()
    assert other.meta(meta)["patient"].iloc[0] != seen["patient"].iloc[0]  # a different secret, other names
    info = names.info(
        {
            "patients": {"chb01": {"age": 11}, "chb02": {"age": 7}, "chb09": {"age": 3}},
            "montages": {"chb01/chb01_03": "bipolar", "chb09/chb09_01": "x"},
            "dataset": "d",
        }
    )
    assert info["patients"] == {names.patient["chb01"]: {"age": 11}, names.patient["chb02"]: {"age": 7}}
    assert info["montages"] == {f"{names.patient['chb01']}/{names.recording['chb01_03']}": "bipolar"}


def test_item03_cache_secret_is_private_and_stable(tmp_path):
    a = cache_secret(tmp_path)
    assert a == cache_secret(tmp_path) and len(a) == 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_item03_hostile_adapter_reads_answers_but_cannot_match_them_in_process(tmp_path, tiny_synthetic, hostile):
    rec = Runner(_detection(tmp_path, tiny_synthetic, method=hostile, isolation="none")).run()
    assert rec.provenance["isolation"] == "trusted" and "--isolation none" in rec.provenance["isolation_detail"]
    assert rec.provenance["weights_source"].startswith("read 4 seizures")  # it could read the files ...
    scores = ResultStore(tmp_path / "store" / "r.sqlite").scores(rec.run_id)
    assert (scores["score"] == 0.5).all()  # ... but no test window matched a recording and time
    assert _pooled(rec)["roc_auc"] == 0.5


@needs_sandbox
def test_item03_isolated_hostile_adapter_cannot_read_the_dataset(tmp_path, tiny_synthetic, hostile):
    rec = Runner(_detection(tmp_path, tiny_synthetic, method=hostile, isolation="sandbox")).run()
    assert rec.status == "complete"
    assert rec.provenance["isolation"] == "isolated" and "bubblewrap" in rec.provenance["isolation_detail"]
    # Neither the dataset, the store, the splits nor a home folder exist in the sandbox.
    assert rec.provenance["weights_source"] == "read failed: FileNotFoundError; visible:"
    scores = ResultStore(tmp_path / "store" / "r.sqlite").scores(rec.run_id)
    assert (scores["score"] == 0.5).all() and scores["label"].nunique() == 2


def test_item03_check_adapter_flags_an_adapter_that_opens_files(tmp_path, tiny_synthetic, hostile):
    results = {r.name: r for r in check_adapter(hostile)}
    assert not results["no_file_access"].ok, format_results(list(results.values()))
    assert "chb01-summary.txt" in results["no_file_access"].detail


@needs_sandbox
def test_item03_same_numbers_isolated_and_in_process(tmp_path, tiny_synthetic):
    runs = {}
    for mode in ("none", "sandbox"):
        # Separate caches: separate secrets, so other pseudonyms too.
        cfg = _detection(tmp_path / mode, tiny_synthetic, isolation=mode)
        rec = Runner(cfg).run()
        runs[mode] = (rec, ResultStore(cfg.store_path).scores(rec.run_id))
        assert rec.status == "complete"
    assert runs["none"][0].provenance["isolation"] == "trusted"
    assert runs["sandbox"][0].provenance["isolation"] == "isolated"
    assert runs["none"][0].run_id == runs["sandbox"][0].run_id  # isolation is how a run executes, not what it is
    pd.testing.assert_frame_equal(runs["none"][1], runs["sandbox"][1])
    assert (tmp_path / "sandbox" / "cache" / "secret.key").read_bytes() != (
        tmp_path / "none" / "cache" / "secret.key"
    ).read_bytes()


def test_item03_resumed_run_with_mixed_modes_is_trusted(tmp_path, tiny_synthetic, monkeypatch):
    from benchmark import runner as runner_mod

    real = runner_mod.run_fold
    calls = []

    def dies_on_second(job):
        calls.append(job.fold_id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(job)

    cfg = run_config(tmp_path, tiny_synthetic, isolation="none", method="chance")
    monkeypatch.setattr(runner_mod, "run_fold", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        Runner(cfg).run()

    def claims_isolated(job):  # as if the remaining folds ran sandboxed
        fold, scores, extra = real(job)
        return fold, scores, {**extra, "isolation": "isolated", "isolation_detail": "bubblewrap"}

    monkeypatch.setattr(runner_mod, "run_fold", claims_isolated)
    rec = Runner(cfg).run()
    assert rec.status == "complete" and rec.provenance["isolation"] == "trusted"
    fresh = Runner(run_config(tmp_path / "fresh", tiny_synthetic, isolation="none", method="chance")).run()
    assert fresh.provenance["isolation"] == "isolated"  # every fold of it ran isolated


def test_item03_an_interrupted_isolated_session_keeps_its_folds_isolated(tmp_path, tiny_synthetic, monkeypatch):
    from benchmark import runner as runner_mod

    real = runner_mod.run_fold
    calls = []

    def claims_isolated(job):  # as if every fold ran sandboxed
        calls.append(job.fold_id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        fold, scores, extra = real(job)
        return fold, scores, {**extra, "isolation": "isolated", "isolation_detail": "bubblewrap"}

    cfg = run_config(tmp_path, tiny_synthetic, isolation="none", method="chance")
    monkeypatch.setattr(runner_mod, "run_fold", claims_isolated)
    with pytest.raises(KeyboardInterrupt):
        Runner(cfg).run()
    rec = Runner(cfg).run()  # the first session's fold was stored isolated before the interruption
    assert rec.status == "complete" and rec.provenance["isolation"] == "isolated"
    assert set(rec.provenance["fold_isolation"].values()) == {"isolated"}


MEMORY = """
import os
import numpy as np
from benchmark.adapters import MethodAdapter, MethodMeta


class Memory(MethodAdapter):
    \"\"\"Leaves a note in the feature cache and answers 1 where an earlier fold's note is there.\"\"\"

    meta = MethodMeta(name="memory_test", modality="eeg", tasks=("detection",), representation="bandpower",
                      budgets={"smoke": {}, "paper": {}}, citation="test")

    def fit(self, train, valid, context):
        self.seen = bool(os.listdir(context.cache_dir)) if context.cache_dir and context.cache_dir.exists() else False
        if context.cache_dir:
            context.cache_dir.mkdir(parents=True, exist_ok=True)
            (context.cache_dir / f"note-{os.getpid()}").write_text(str(train.y.tolist()))

    def predict_proba(self, test):
        p1 = np.full(len(test), 0.9 if self.seen else 0.1)
        return np.column_stack([1 - p1, p1])
"""


@needs_sandbox
def test_item03_isolated_folds_share_no_writable_folder(tmp_path, tiny_synthetic):
    for name in installed_plugin(tmp_path, "memory_plugin_item03", MEMORY, "memory_test", "Memory"):
        cfg = _detection(tmp_path, tiny_synthetic, method=name, isolation="sandbox")
        rec = Runner(cfg).run()
        assert rec.provenance["isolation"] == "isolated"
        scores = ResultStore(cfg.store_path).scores(rec.run_id)
        assert len(scores["fold_id"].unique()) == 2
        # No fold found a note left by another: the feature cache is the fold's own.
        assert (scores["score"] < 0.5).all()


def test_item06_fold_timeout_fails_the_hung_fold_and_the_run_goes_on(tmp_path, tiny_synthetic):
    sleepy = SLEEPY.replace("class Sleepy", f"MARK = {str(tmp_path / 'first-fold-done')!r}\n\n\nclass Sleepy")
    for cls in _plugin(tmp_path, "sleepy_plugin_item06", sleepy):
        cfg = _detection(tmp_path, tiny_synthetic, method=cls.meta.name, isolation="none", fold_timeout=45)
        t0 = time.perf_counter()
        rec = Runner(cfg).run()
        assert time.perf_counter() - t0 < 300
        folds = {f.fold_id: f for f in ResultStore(cfg.store_path).folds(rec.run_id)}
        assert folds["chb01"].status == "ok"
        assert folds["chb02"].status == "failed"
        assert folds["chb02"].error == "fold exceeded --fold-timeout 45 s and was stopped"
        assert rec.status == "partial"


def test_item03_distilclip_text_metadata_survives_the_pseudonyms(tmp_path, tiny_synthetic, monkeypatch):
    from benchmark import runner as runner_mod
    from methods._distilclip_parts import metadata_fields

    tasks = []
    real = runner_mod.run_fold
    monkeypatch.setattr(
        runner_mod, "run_fold", lambda job: (tasks.append((job, runner_mod.adapter_task(job)[0])), real(job))[1]
    )
    Runner(_detection(tmp_path, tiny_synthetic, method="chance", isolation="none")).run()
    assert tasks
    for job, task in tasks:
        for real_meta, seen in ((job.train_meta, task.train[1]), (job.test_meta, task.test[1])):
            assert not set(seen["patient"]) & set(real_meta["patient"])
            for (p, r), (sp, sr) in zip(
                real_meta[["patient", "recording"]].itertuples(index=False),
                seen[["patient", "recording"]].itertuples(index=False),
            ):
                assert metadata_fields(task.info, sp, sr) == metadata_fields(job.info, p, r)
        assert "y" not in vars(task) and len(task.test) == 2  # test: refs and pseudonymous meta only


def test_item06_cli_refuses_a_non_positive_fold_timeout_and_an_unknown_isolation(capsys, monkeypatch):
    from benchmark.cli import main

    assert main(["run", "--method", "chance", "--dataset", "chbmit-synthetic", "--fold-timeout", "0"]) != 0
    err = capsys.readouterr().err.strip()
    assert "--fold-timeout must be a positive, finite number of seconds" in err and "\n" not in err
    assert main(["run", "--method", "chance", "--dataset", "chbmit-synthetic", "--fold-timeout", "inf"]) != 0
    assert "--fold-timeout must be a positive, finite number" in capsys.readouterr().err
    monkeypatch.setenv("SEIZURE_BENCH_ISOLATION", "chroot")
    from benchmark.sandbox import requested_isolation

    with pytest.raises(Exception, match="unknown isolation 'chroot'"):
        requested_isolation(None)
    assert requested_isolation("sandbox") == "sandbox"
