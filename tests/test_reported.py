"""Tests of benchmark.reported and of the bundled paper tables in reports/reported/."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

from benchmark.errors import DataError
from benchmark.metrics import METRICS
from benchmark.reported import (
    bundled_reported,
    import_bundled,
    import_reported,
    read_reported_csv,
    reported_run_id,
)
from benchmark.store import ResultStore

BUNDLED = bundled_reported()


@pytest.fixture
def store(tmp_path):
    with ResultStore(tmp_path / "results.db") as s:
        yield s


def _write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bundled_index_covers_every_csv():
    assert len(BUNDLED) == 12  # Tables 2-5 x SOP 10/15/30
    files = {d["path"] for d in BUNDLED}
    on_disk = {str(p.resolve()) for p in Path(BUNDLED[0]["path"]).parent.glob("*.csv")}
    assert files == on_disk
    names = [d["name"] for d in BUNDLED]
    assert len(set(names)) == len(names)
    for d in BUNDLED:
        assert d["task"] == "prediction" and d["protocol"] == "loocv"
        assert d["task_params"]["interictal_gap_hours"] == 3
        assert d["task_params"]["sop_minutes"] in (10, 15, 30)
        assert "10.1038/s41598-023-43328-y" in d["citation"]


@pytest.mark.parametrize("entry", BUNDLED, ids=[d["name"] for d in BUNDLED])
def test_bundled_tables_match_paper_averages(entry):
    df = read_reported_csv(entry["path"])
    prefix = "chb" if entry["dataset"] == "chbmit" else "snuh"
    assert list(df.index) == [f"{prefix}{i:02d}" for i in range(1, 25)]
    assert list(df.columns) == ["sensitivity", "specificity", "fpr", "accuracy"]
    means = df.mean()  # NaN (chb11 at 30 min) is skipped, as in the paper
    avg = entry["paper_average"]
    for metric in ("sensitivity", "specificity", "accuracy"):
        assert means[metric] * 100 == pytest.approx(avg[metric], abs=0.01 + 1e-9), metric
    assert means["fpr"] == pytest.approx(avg["fpr"], abs=0.001 + 1e-9)
    # Window-level FPR is 1 - specificity; the paper rounds it to 3 decimals.
    assert ((df["fpr"] - (1 - df["specificity"])).abs().dropna() <= 0.0011).all()
    only_chb11_30 = entry["dataset"] == "chbmit" and entry["task_params"]["sop_minutes"] == 30
    missing = list(df.index[df.isna().any(axis=1)])
    assert missing == (["chb11"] if only_chb11_30 else [])


def test_import_reported_roundtrip(store, tmp_path, caplog):
    path = _write(
        tmp_path,
        "# copied from a paper\nPatient,Sensitivity,FPR,ROC_AUC\n"
        "p1,0.9,0.05,N/A\np2,0.7,,0.8\np3,1,0.1,0.9\nAverage,0.87,0.075,0.85\n",
    )
    with caplog.at_level(logging.INFO, logger="benchmark.reported"):
        run_id = import_reported(store, path, "Foo2023 Table 1", "chbmit", "prediction", "loocv",
                                 {"sop_minutes": 30}, citation="Foo et al. 2023", source="Table 1")
    assert "Average" in caplog.text
    assert run_id == reported_run_id("Foo2023 Table 1", "chbmit", "prediction", "loocv", {"sop_minutes": 30})
    assert run_id.startswith("reported-foo2023-table-1-")
    rec = store.get_run(run_id)
    assert (rec.kind, rec.status) == ("reported", "reported")
    assert rec.display_name == rec.method == "Foo2023 Table 1"
    assert rec.citation == "Foo et al. 2023" and rec.task_params == {"sop_minutes": 30}
    pm = store.patient_metrics(run_id)
    assert list(pm.index) == ["p1", "p2", "p3"]
    assert list(pm.columns) == ["sensitivity", "fpr", "roc_auc"]
    assert math.isnan(pm.loc["p1", "roc_auc"]) and math.isnan(pm.loc["p2", "fpr"])
    summ = store.summary(run_id)
    assert summ.loc["sensitivity", "mean"] == pytest.approx(0.8667, abs=1e-4)
    assert summ.loc["roc_auc", "n"] == 2
    assert store.resolve("Foo2023 Table 1").run_id == run_id


def test_reimport_replaces(store, tmp_path):
    first = _write(tmp_path, "patient,accuracy\np1,0.5\np2,0.6\n", "a.csv")
    second = _write(tmp_path, "patient,accuracy\np1,0.9\n", "b.csv")
    rid1 = import_reported(store, first, "X", "chbmit", "prediction", "loocv")
    rid2 = import_reported(store, second, "X", "chbmit", "prediction", "loocv")
    assert rid1 == rid2 and len(store.list_runs()) == 1
    assert list(store.patient_metrics(rid1)["accuracy"]) == [0.9]
    assert store.summary(rid1).loc["accuracy", "n"] == 1
    other = import_reported(store, first, "X", "chbmit", "prediction", "loocv", {"sop_minutes": 15})
    assert other != rid1  # other task parameters: another result set


@pytest.mark.parametrize(
    "text, match",
    [
        ("patient,accuracy\np1,91.5\n", "percentages, divide them by 100"),
        ("patient,accuracy\np1,91%\n", "percentages"),
        ("patient,acuracy\np1,0.9\n", "unknown column 'acuracy'.*accuracy.*Allowed columns: patient, sensitivity"),
        ("name,accuracy\np1,0.9\n", "no 'patient' column"),
        ("patient,accuracy\np1,0.9\np1,0.8\n", "more than once"),
        ("patient,accuracy\np1,high\n", "not a number"),
        ("patient,accuracy\np1,-0.2\n", "negative"),
        ("patient\np1\n", "no metric columns"),
        ("patient,accuracy\nAverage,0.9\n", "no patient rows"),
    ],
)
def test_bad_csvs_raise_one_line_data_errors(tmp_path, text, match):
    with pytest.raises(DataError, match=match) as err:
        read_reported_csv(_write(tmp_path, text))
    assert "\n" not in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_reported_csv(tmp_path / "nope.csv")


def test_import_bundled(store):
    run_ids = import_bundled(store)
    assert len(run_ids) == len(set(run_ids)) == 12
    rec = store.resolve("Lee2024 Table 3 (SOP 15)")
    assert rec.method == "Pre-train + ResNet-LSTM" and rec.dataset == "chbmit"
    assert "Table 3" in rec.source
    assert set(store.patient_metrics(rec.run_id).columns) <= set(METRICS)
    assert import_bundled(store) == run_ids  # idempotent
    assert len(store.list_runs(kind="reported")) == 12


def test_bundled_missing_directory(tmp_path):
    with pytest.raises(DataError, match="index.json"):
        bundled_reported(tmp_path)
