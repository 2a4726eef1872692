"""`results export`: each run's complete record (provenance) in JSON and a tidy long CSV."""

from __future__ import annotations

import csv
import io
import json
import math

import pandas as pd
import pytest

from benchmark import cli
from benchmark.errors import BenchmarkError
from benchmark.export import EXPORT_TABLES, export_results
from benchmark.store import ResultStore, RunRecord

PROVENANCE = {
    "versions": {"torch": "2.13.0", "numpy": "2.4.6"},
    "n_params": 123456789,  # more digits than a float format with 6 significant digits keeps
    "weights_source": "random init",
    "efficiency": {"flops_per_window": 2.5e7, "latency_ms": 1.25, "window_shape": [18, 2560]},
    "isolation": "isolated",
    "fold_isolation": {"chb01-f00": "isolated", "chb02-f00": "isolated"},
    "timings": {"fit_s": 1.5},
    "event_scoring": {"szcore": {"tolerance_pre_s": 30.0}, "per_patient": {"chb01": {"tp": 1, "fp": 2}}},
}


@pytest.fixture
def store(tmp_path):
    """A synthetic EEGNet run with provenance and a NaN metric, a real-data run of another task, a paper's set."""
    path = tmp_path / "r.sqlite"
    with ResultStore(path) as s:
        s.create_run(
            RunRecord(
                "run-a",
                "run",
                "eegnet",
                "chbmit-synthetic",
                "prediction",
                "loocv",
                method_version="3",
                synthetic=True,
                task_params={"sop_minutes": 10.0, "interictal_gap_hours": 4.0, "label": "SOP 10 min"},
                split_hash="abc",
                seed=7,
                budget="smoke",
                status="complete",
                provenance=PROVENANCE,
            )
        )
        metrics = {"accuracy": [0.5, 0.75], "sensitivity": [float("nan"), 1.0]}
        s.save_patient_metrics("run-a", pd.DataFrame(metrics, index=pd.Index(["chb01", "chb02"], name="patient")))
        summary = pd.DataFrame(
            {"mean": [0.625], "std": [0.125], "ci_low": [0.5], "ci_high": [0.75], "n": [2]}, index=["accuracy"]
        )
        s.save_summary("run-a", summary)
        s.create_run(
            RunRecord(
                "run-b",
                "run",
                "chance",
                "siena",
                "detection",
                "loso",
                task_params={"ictal_stride_s": 2.0},
                status="complete",
                provenance={"versions": {"torch": "2.13.0"}, "isolation": "trusted"},
            )
        )
        s.save_patient_metrics("run-b", pd.DataFrame({"accuracy": [0.9]}, index=pd.Index(["PN00"], name="patient")))
    return path


def _csv(store, **kw) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(export_results(store, **kw)))


def test_item13_json_holds_each_runs_whole_record_and_keeps_the_earlier_keys(store):
    runs = {r["run_id"]: r for r in json.loads(export_results(store, fmt="json"))}
    a = runs["run-a"]
    assert a["provenance"] == PROVENANCE and a["method_version"] == "3" and a["synthetic"] is True
    assert runs["run-b"]["synthetic"] is False
    # The keys earlier exports had keep their names and shapes.
    for key in ("run_id", "kind", "method", "budget", "seed", "task_params", "status", "isolation", "split_hash"):
        assert key in a
    assert a["per_patient"]["chb01"] == {"accuracy": 0.5, "sensitivity": None}  # NaN as null: valid JSON
    assert a["summary"]["accuracy"]["mean"] == 0.625 and a["folds"] == []


def test_item13_csv_flattens_task_parameters_and_provenance_into_columns(store):
    text = export_results(store)
    df = pd.read_csv(io.StringIO(text))
    a = df[df["run_id"] == "run-a"]
    assert set(a["provenance.versions.torch"]) == {"2.13.0"} and set(a["provenance.weights_source"]) == {"random init"}
    assert set(a["provenance.efficiency.flops_per_window"]) == {2.5e7}
    assert set(a["provenance.efficiency.window_shape"]) == {"[18, 2560]"}  # a list is JSON text in one cell
    assert set(a["task_params.sop_minutes"]) == {10.0} and set(a["method_version"]) == {3}
    # An integer keeps every digit even where another run has none.
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["provenance.n_params"] for r in rows if r["run_id"] == "run-a"} == {"123456789"}
    assert {r["provenance.n_params"] for r in rows if r["run_id"] == "run-b"} == {""}
    # Parameters of another task are empty, not made up.
    assert df.loc[df["run_id"] == "run-b", "task_params.sop_minutes"].isna().all()
    assert set(df.loc[df["run_id"] == "run-b", "task_params.ictal_stride_s"]) == {2.0}
    # Keyed by fold: in the JSON, not as columns (the isolation column says the run's).
    assert not [c for c in df.columns if "fold_isolation" in c] and set(a["isolation"]) == {"isolated"}
    # Keyed by patient: not one column per patient's count on every row; the settings stay.
    assert not [c for c in df.columns if ".per_patient" in c]
    assert set(a["provenance.event_scoring.szcore.tolerance_pre_s"]) == {30.0}


def test_item19_csv_is_one_row_per_run_patient_and_metric(store):
    df = _csv(store)
    assert list(df.columns[:15]) == [
        "run_id",
        "kind",
        "method",
        "display_name",
        "dataset",
        "task",
        "protocol",
        "budget",
        "seed",
        "synthetic",
        "status",
        "isolation",
        "patient",
        "metric",
        "value",
    ]
    assert len(df) == 2 * 2 + 1 and not df.duplicated(["run_id", "patient", "metric"]).any()
    # Pivoted back, it is the store's per-patient table; an undefined metric stays a missing value.
    back = df[df["run_id"] == "run-a"].pivot(index="patient", columns="metric", values="value")
    stored = ResultStore(store).patient_metrics("run-a")
    pd.testing.assert_frame_equal(back[stored.columns], stored, check_names=False)
    assert math.isnan(back.loc["chb01", "sensitivity"])
    assert df.groupby("run_id")["synthetic"].first().to_dict() == {"run-a": True, "run-b": False}
    assert "level" not in df.columns and not set(df["patient"]) & {"", "all", "mean"}


def test_item19_summary_is_its_own_table(store):
    df = _csv(store, what="summary")
    assert list(df[["run_id", "metric", "mean", "std", "ci_low", "ci_high", "n"]].itertuples(index=False)) == [
        ("run-a", "accuracy", 0.625, 0.125, 0.5, 0.75, 2)
    ]
    assert "patient" not in df.columns and "value" not in df.columns
    assert bool(df["synthetic"].iloc[0]) and set(df["provenance.versions.torch"]) == {"2.13.0"}


def test_item19_an_empty_store_exports_a_header_pandas_reads(tmp_path):
    with ResultStore(tmp_path / "empty.sqlite"):
        pass
    df = _csv(tmp_path / "empty.sqlite")
    assert df.empty and {"run_id", "patient", "metric", "value", "synthetic"} <= set(df.columns)


def test_item19_what_is_for_csv_only_and_checked(store, capsys):
    with pytest.raises(BenchmarkError, match="--what chooses a CSV table"):
        export_results(store, fmt="json", what="summary")
    with pytest.raises(BenchmarkError, match="Did you mean 'summary'"):
        export_results(store, what="sumary")
    assert cli.main(["--store", str(store), "results", "export", "--format", "json", "--what", "patients"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--what" in err and "\n" not in err


def test_item19_help_documents_the_tables_the_export_knows(capsys):
    with pytest.raises(SystemExit):
        cli.main(["results", "export", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "{" + ",".join(EXPORT_TABLES) + "}" in out.replace(" ", "")
    assert "one row per run, patient and metric" in out and "provenance.*" in out and "task_params.*" in out


def test_export_names_no_machine_and_labels_sets_on_synthetic_datasets(tmp_path):
    path = tmp_path / "r.sqlite"
    with ResultStore(path) as s:
        process = {"host": "lab-node-7", "pid": 4242, "started": "2026-01-01T00:00:00"}
        s.create_run(
            RunRecord(
                "run-p",
                "run",
                "chance",
                "chbmit-synthetic",
                "detection",
                "loso",
                synthetic=True,
                status="complete",
                provenance={"isolation": "trusted", "process": process},
            )
        )
        s.save_patient_metrics("run-p", pd.DataFrame({"accuracy": [0.5]}, index=pd.Index(["chb01"], name="patient")))
        # A paper's table stated on the synthetic dataset: not flagged itself, synthetic by its dataset.
        s.create_run(RunRecord("paper-set", "reported", "chance", "chbmit-synthetic", "detection", "loso"))
        s.save_patient_metrics(
            "paper-set", pd.DataFrame({"accuracy": [0.6]}, index=pd.Index(["chb01"], name="patient"))
        )
    for fmt in ("json", "csv"):
        text = export_results(path, fmt=fmt)
        assert "lab-node-7" not in text and "4242" not in text  # the process that ran it is no provenance
    runs = {r["run_id"]: r for r in json.loads(export_results(path, fmt="json"))}
    assert runs["paper-set"]["synthetic"] is True
    assert set(_csv(path)["synthetic"]) == {True}
