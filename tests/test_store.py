"""Tests of benchmark.store: the SQLite results store."""

from __future__ import annotations

import math
import sqlite3

import numpy as np
import pandas as pd
import pytest

from benchmark.errors import StoreError
from benchmark.store import SCHEMA_VERSION, FoldResult, ResultStore, RunRecord


def _run(run_id="run-abc123", **kw) -> RunRecord:
    base = dict(kind="run", method="eegnet", dataset="chbmit", task="prediction", protocol="loocv")
    base.update(kw)
    return RunRecord(run_id=run_id, **base)


def _scores(fold_id: str, patient: str, n: int = 4, offset: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "fold_id": fold_id,
            "patient": patient,
            "recording": f"{patient}_03",
            "start": np.arange(n) * 10.0 + offset,
            "end": np.arange(n) * 10.0 + 10.0 + offset,
            "label": [1, 0] * (n // 2),
            "score": np.linspace(0.1, 0.9, n),
            "pred": [0, 0, 1, 1][:n] if n == 4 else [0] * n,
        }
    )


@pytest.fixture
def store(tmp_path):
    with ResultStore(tmp_path / "sub" / "results.db") as s:
        yield s


def test_schema_and_pragmas(tmp_path):
    path = tmp_path / "deep" / "dir" / "r.db"
    ResultStore(path).close()
    assert path.exists()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_run_roundtrip_and_reopen(tmp_path):
    path = tmp_path / "r.db"
    rec = _run(
        method_config={"lr": 0.01, "layers": [1, 2]},
        synthetic=True,
        task_params={"sop_minutes": 30},
        seed=None,
        provenance={"torch": "2.13.0", "fit_seconds": float("nan")},
        leakage={"ok": True, "checked_folds": 3, "violations": []},
        exclusions=[{"scope": "patient", "patient": "chb24", "recording": None, "reason": "no clock times"}],
        display_name="eegnet",
    )
    with ResultStore(path) as s:
        stored = s.create_run(rec)
        assert stored.created_at  # filled in
    with ResultStore(path) as s:  # persisted across connections
        got = s.get_run("run-abc123")
    assert got.method_config == {"lr": 0.01, "layers": [1, 2]}
    assert got.synthetic is True and got.seed is None
    assert got.task_params == {"sop_minutes": 30}
    assert got.provenance == {"torch": "2.13.0", "fit_seconds": None}  # NaN stored as strict-JSON null
    assert got.exclusions[0]["patient"] == "chb24"
    assert got.leakage["checked_folds"] == 3
    assert got.status == "running" and got.label == "eegnet"


def test_create_run_keeps_existing(store):
    store.create_run(_run(seed=1, budget="smoke"))
    again = store.create_run(_run(seed=2, budget="paper"))
    assert again.seed == 1 and again.budget == "smoke"
    assert len(store.list_runs()) == 1


def test_update_and_list_runs(store):
    store.create_run(_run("r1"))
    store.create_run(_run("r2", dataset="siena"))
    store.create_run(_run("r3", kind="reported", status="reported", task="detection"))
    updated = store.update_run("r1", status="complete", finished_at="2025-01-01T00:00:00+00:00", leakage={"ok": False})
    assert updated.status == "complete" and updated.leakage == {"ok": False}
    assert store.get_run("r1").finished_at.startswith("2025")
    assert [r.run_id for r in store.list_runs(dataset="chbmit")] == ["r1", "r3"]
    assert [r.run_id for r in store.list_runs(kind="reported")] == ["r3"]
    assert [r.run_id for r in store.list_runs(dataset="chbmit", task="prediction")] == ["r1"]
    assert store.list_runs(protocol="kfold5") == []
    with pytest.raises(StoreError, match="nope"):
        store.update_run("nope", status="complete")
    with pytest.raises(TypeError):
        store.update_run("r1", colour="red")
    with pytest.raises(ValueError):
        store.update_run("r1", status="finished")
    assert store.get_run("missing") is None


def test_folds_and_scores_roundtrip(store):
    store.create_run(_run())
    ok = FoldResult(
        "chb01-s0",
        "chb01",
        "ok",
        metrics={"accuracy": 0.75, "roc_auc": float("nan")},
        n_train=100,
        n_test=4,
        fit_seconds=1.5,
        predict_seconds=0.25,
    )
    store.save_fold("run-abc123", ok, _scores("chb01-s0", "chb01"))
    bad = FoldResult(
        "chb01-s1", "chb01", "failed", error="CUDA out of memory", traceback="Traceback ...", leakage_ok=False
    )
    store.save_fold("run-abc123", bad, None)
    no_fold_column = _scores("chb02-s0", "chb02").drop(columns="fold_id")
    store.save_fold("run-abc123", FoldResult("chb02-s0", "chb02", "ok"), no_fold_column)

    assert store.fold_ids("run-abc123") == {"chb01-s0", "chb01-s1", "chb02-s0"}
    assert store.fold_ids("run-abc123", status="failed") == {"chb01-s1"}
    folds = {f.fold_id: f for f in store.folds("run-abc123")}
    assert folds["chb01-s0"].metrics["accuracy"] == 0.75 and math.isnan(folds["chb01-s0"].metrics["roc_auc"])
    assert folds["chb01-s0"].fit_seconds == 1.5 and folds["chb01-s0"].n_test == 4
    assert folds["chb01-s1"].error == "CUDA out of memory" and folds["chb01-s1"].leakage_ok is False

    sc = store.scores("run-abc123")
    assert list(sc.columns) == ["fold_id", "patient", "recording", "start", "end", "label", "score", "pred"]
    assert len(sc) == 8
    expected = _scores("chb01-s0", "chb01")
    got = sc[sc.fold_id == "chb01-s0"].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected[got.columns], check_dtype=False)
    assert sc["label"].dtype.kind == "i" and sc["score"].dtype.kind == "f"


def test_rerun_of_fold_replaces_it(store):
    store.create_run(_run())
    store.save_fold("run-abc123", FoldResult("f0", "chb01", "failed", error="boom"), None)
    first = FoldResult("f0", "chb01", "ok", metrics={"accuracy": 1.0})
    store.save_fold("run-abc123", first, _scores("f0", "chb01", n=2))
    second = FoldResult("f0", "chb01", "ok", metrics={"accuracy": 0.5})
    store.save_fold("run-abc123", second, _scores("f0", "chb01", n=4, offset=100))
    [fold] = store.folds("run-abc123")
    assert fold.status == "ok" and fold.metrics == {"accuracy": 0.5}
    sc = store.scores("run-abc123")
    assert len(sc) == 4 and sc["start"].min() == 100


def test_failure_inside_save_fold_stores_nothing(store):
    store.create_run(_run())
    # A failure after the fold row is inserted (scores lack a column) must roll back the fold row.
    broken = _scores("f1", "chb01").drop(columns="pred")
    with pytest.raises(ValueError, match="pred"):
        store.save_fold("run-abc123", FoldResult("f1", "chb01", "ok", metrics={"accuracy": 0.9}), broken)
    assert store.fold_ids("run-abc123") == set()
    assert store.scores("run-abc123").empty

    # A failed re-run leaves the earlier version of the fold exactly as it was.
    store.save_fold("run-abc123", FoldResult("f1", "chb01", "ok", metrics={"accuracy": 0.9}), _scores("f1", "chb01"))
    half_bad = _scores("f1", "chb01")
    half_bad["score"] = half_bad["score"].astype(object)
    half_bad.loc[2, "score"] = "not a number"  # fails on the third score row
    with pytest.raises(ValueError):
        store.save_fold("run-abc123", FoldResult("f1", "chb01", "ok", metrics={"accuracy": 0.1}), half_bad)
    [fold] = store.folds("run-abc123")
    assert fold.metrics == {"accuracy": 0.9}
    assert len(store.scores("run-abc123")) == 4


def test_save_fold_needs_existing_run(store):
    with pytest.raises(StoreError, match="no run 'ghost'"):
        store.save_fold("ghost", FoldResult("f0", None, "failed"), None)


def test_patient_metrics_and_summary(store):
    store.create_run(_run())
    df = pd.DataFrame(
        {"accuracy": [0.9, np.nan], "sensitivity": [0.8, 0.7], "event_sensitivity": [1.0, 0.5]},
        index=pd.Index(["chb02", "chb01"], name="patient"),
    )
    store.save_patient_metrics("run-abc123", df)
    got = store.patient_metrics("run-abc123")
    assert list(got.index) == ["chb01", "chb02"] and got.index.name == "patient"
    # Known metrics first, in METRICS order, then the others.
    assert list(got.columns) == ["sensitivity", "accuracy", "event_sensitivity"]
    assert math.isnan(got.loc["chb01", "accuracy"]) and got.loc["chb02", "accuracy"] == 0.9
    raw = store._conn.execute(
        "SELECT value FROM patient_metrics WHERE patient = 'chb01' AND metric = 'accuracy'"
    ).fetchone()
    assert raw == (None,)  # NaN stored as NULL

    store.save_patient_metrics("run-abc123", df.iloc[:1][["accuracy"]])  # replaces everything
    assert store.patient_metrics("run-abc123").shape == (1, 1)
    assert store.patient_metrics("other").empty

    summ = pd.DataFrame(
        {"mean": [0.8, 0.1], "std": [0.1, np.nan], "ci_low": [0.7, np.nan], "ci_high": [0.9, np.nan], "n": [5, 1]},
        index=pd.Index(["accuracy", "fpr"], name="metric"),
    )
    store.save_summary("run-abc123", summ)
    pd.testing.assert_frame_equal(store.summary("run-abc123"), summ, check_dtype=False)


def test_resolve(store):
    store.create_run(_run("run-aaa111"))
    store.create_run(_run("run-aab222"))
    store.create_run(
        _run("reported-lee-1", kind="reported", status="reported", display_name="Lee2024 Table 3 (SOP 10)")
    )
    assert store.resolve("run-aaa111").run_id == "run-aaa111"
    assert store.resolve("run-aab").run_id == "run-aab222"
    assert store.resolve("Lee2024 Table 3 (SOP 10)").run_id == "reported-lee-1"
    assert store.resolve("lee2024 table 3 (sop 10)").run_id == "reported-lee-1"
    with pytest.raises(StoreError, match="run-aaa111.*run-aab222") as err:
        store.resolve("run-aa")
    assert "\n" not in str(err.value)
    with pytest.raises(StoreError, match="no result set 'Lee2024 Table 9'"):
        store.resolve("Lee2024 Table 9")


def test_resolve_ambiguous_display_name(store):
    for rid in ("reported-x-1", "reported-x-2"):
        store.create_run(_run(rid, kind="reported", status="reported", display_name="Same"))
    with pytest.raises(StoreError, match="reported-x-1.*reported-x-2"):
        store.resolve("Same")


def test_corrupt_or_foreign_files_raise_store_error(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a readable seizure-bench results store"):
        ResultStore(junk)

    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a seizure-bench results store"):
        ResultStore(foreign)

    newer = tmp_path / "newer.db"
    ResultStore(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        ResultStore(newer)

    with pytest.raises(StoreError, match="directory"):
        ResultStore(tmp_path)


def test_reader_sees_writer_commits(tmp_path):
    path = tmp_path / "r.db"
    with ResultStore(path) as writer, ResultStore(path) as reader:
        writer.create_run(_run())
        writer.save_fold("run-abc123", FoldResult("f0", "chb01", "ok"), _scores("f0", "chb01"))
        assert reader.fold_ids("run-abc123") == {"f0"}
        assert len(reader.scores("run-abc123")) == 4
