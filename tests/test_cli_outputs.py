"""What the CLI's informational commands print: describe, list, splits, export, compare."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from benchmark import cli


@pytest.fixture(scope="module")
def chance_store(tmp_path_factory, tiny_synthetic):
    root = tmp_path_factory.mktemp("outputs")
    store = root / "r.sqlite"
    rc = cli.main(["--store", str(store), "run", "--method", "chance", "--dataset", "chbmit-synthetic",
                   "--data-dir", str(tiny_synthetic), "--splits-dir", str(root / "splits"),
                   "--cache-dir", str(root / "cache"), "--no-progress"])
    assert rc == 0
    return store


def test_describe_real_chbmit(shared_data, capsys):
    assert cli.main(["data", "describe", "chbmit", "--data-dir", str(shared_data / "chbmit"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["totals"]["seizures"] == 198 and info["totals"]["patients"] == 24
    assert set(info["totals"]["lead_seizures"]) == {"10", "15", "30"}
    sop30 = info["prediction"]["30"]
    assert any(e["patient"] == "chb12" for e in sop30["exclusions"])
    assert sop30["units"]["chb01"] == 7
    assert cli.main(["data", "describe", "chbmit", "--data-dir", str(shared_data / "chbmit")]) == 0
    text = capsys.readouterr().out
    assert "198 seizures" in text and "chb24" in text and "dataset exclusions (4)" in text


def test_list_commands(capsys):
    for what in ("methods", "datasets", "tasks", "protocols"):
        assert cli.main(["list", what]) == 0
    out = capsys.readouterr().out
    assert "eegnet" in out and "chbmit-synthetic" in out and "preictal vs interictal" in out
    assert "LEAKY" in out


def test_splits_freeze_then_verify(tiny_synthetic, tmp_path, capsys):
    args = ["splits", "freeze", "--dataset", "chbmit-synthetic", "--data-dir", str(tiny_synthetic),
            "--splits-dir", str(tmp_path), "--task", "prediction", "--protocol", "loso", "--sop", "10"]
    assert cli.main(args) == 0
    assert (tmp_path / "chbmit-synthetic" / "prediction-sop10-sph0-gap4h-loso.json").exists()
    assert cli.main(["splits", "verify", "--dataset", "chbmit-synthetic", "--data-dir", str(tiny_synthetic),
                     "--splits-dir", str(tmp_path)]) == 0
    assert "1 ok, 0 failed" in capsys.readouterr().out


def test_results_export_csv_and_json(chance_store, capsys):
    assert cli.main(["--store", str(chance_store), "results", "export", "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert set(df.loc[df["level"] == "patient", "patient"]) == {"chb01", "chb02"}
    assert {"mean", "std", "ci_low", "ci_high"} <= set(df["level"])
    assert df["synthetic"].all() and "sensitivity" in df.columns
    assert cli.main(["--store", str(chance_store), "results", "export", "--format", "json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert runs[0]["synthetic"] is True and set(runs[0]["per_patient"]) == {"chb01", "chb02"}
    per_patient = [v["accuracy"] for v in runs[0]["per_patient"].values()]
    assert runs[0]["summary"]["accuracy"]["mean"] == pytest.approx(sum(per_patient) / len(per_patient))


def test_compare_json_has_the_paired_statistics(chance_store, tmp_path, capsys):
    csv = tmp_path / "paper.csv"
    csv.write_text("patient,accuracy,sensitivity\nchb01,0.9,0.8\nchb02,0.7,0.6\n")
    assert cli.main(["--store", str(chance_store), "import-reported", str(csv), "--name", "Paper X",
                     "--dataset", "chbmit-synthetic", "--task", "prediction"]) == 0
    capsys.readouterr()
    assert cli.main(["--store", str(chance_store), "results", "export", "--format", "json"]) == 0
    chance = next(r["run_id"] for r in json.loads(capsys.readouterr().out) if r["kind"] == "run")
    assert cli.main(["--store", str(chance_store), "compare", chance, "Paper X", "--metric", "accuracy", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert {"n", "mean_a", "mean_b", "t", "p_value", "wilcoxon_p"} <= set(res)
    assert res["n"] == 2 and res["mean_b"] == pytest.approx(0.8)
