"""Tests of benchmark.compare, including the reproduction of Lee et al. (2024) Table 6."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from benchmark.compare import compare, compare_many
from benchmark.errors import DataError, StoreError
from benchmark.reported import import_bundled, import_reported
from benchmark.stats import holm
from benchmark.store import ResultStore


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with ResultStore(tmp_path_factory.mktemp("cmp") / "results.db") as s:
        import_bundled(s)
        yield s


@pytest.mark.parametrize("sop, p_paper, n", [(10, 0.009, 24), (15, 0.024, 24), (30, 0.002, 23)])
def test_reproduces_table6_paired_t_test(store, sop, p_paper, n):
    # Lee et al. 2024, Table 6: paired t-test of per-patient accuracy, without vs with pre-training.
    res = compare(store, f"Lee2024 Table 2 (SOP {sop})", f"Lee2024 Table 3 (SOP {sop})", "accuracy")
    assert round(res["p_value"], 3) == p_paper
    assert res["n"] == n and res["df"] == n - 1
    assert res["t"] > 0 and res["mean_diff"] > 0  # pre-training (b) improves accuracy
    assert res["a"] == f"Lee2024 Table 2 (SOP {sop})" and res["b"] == f"Lee2024 Table 3 (SOP {sop})"
    assert (sop == 30) == ("chb11" not in res["patients"])
    assert res["differences"] == [] and res["forced"] is False
    assert res["synthetic"] is False and res["lower_is_better"] is False


def test_compare_uses_shared_patients_only(tmp_path):
    with ResultStore(tmp_path / "r.db") as s:
        a = tmp_path / "a.csv"
        b = tmp_path / "b.csv"
        a.write_text("patient,fpr\np1,0.1\np2,0.2\np3,0.3\np4,0.05\n")
        b.write_text("patient,fpr\np2,0.1\np3,0.25\np4,0.0\np9,0.5\n")
        import_reported(s, a, "A", "chbmit", "prediction", "loocv")
        import_reported(s, b, "B", "chbmit", "prediction", "loocv")
        res = compare(s, "A", "B", "FPR")
    assert res["patients"] == ["p2", "p3", "p4"]
    assert res["metric"] == "fpr" and res["lower_is_better"] is True
    assert res["mean_diff"] == pytest.approx(((0.1 - 0.2) + (0.25 - 0.3) + (0.0 - 0.05)) / 3)


def test_compare_errors(store):
    with pytest.raises(DataError, match="unknown metric 'acc'"):
        compare(store, "Lee2024 Table 2 (SOP 10)", "Lee2024 Table 3 (SOP 10)", "acc")
    with pytest.raises(DataError, match="no per-patient roc_auc"):
        compare(store, "Lee2024 Table 2 (SOP 10)", "Lee2024 Table 3 (SOP 10)", "roc_auc")
    with pytest.raises(DataError, match="share no patient"):
        compare(store, "Lee2024 Table 2 (SOP 10)", "Lee2024 Table 4 (SOP 10)", "accuracy", force=True)
    with pytest.raises(StoreError, match="no result set"):
        compare(store, "Lee2024 Table 2 (SOP 10)", "Lee2025", "accuracy")


def test_item16_compare_refuses_different_settings_unless_forced(store):
    with pytest.raises(
        DataError,
        match=r"not comparable: task setting sop_minutes: A has SOP 10 min, "
        r"B has SOP 30 min;.*use --force",
    ):
        compare(store, "Lee2024 Table 2 (SOP 10)", "Lee2024 Table 3 (SOP 30)", "accuracy")
    res = compare(store, "Lee2024 Table 2 (SOP 10)", "Lee2024 Table 3 (SOP 30)", "accuracy", force=True)
    assert res["forced"] is True
    assert res["differences"] == ["task setting sop_minutes: A has SOP 10 min, B has SOP 30 min"]


def test_item16_compare_refuses_synthetic_against_real_in_one_line(store, tmp_path, capsys):
    from benchmark.cli import main
    from benchmark.metrics import summarize
    from benchmark.store import RunRecord

    path = tmp_path / "r.db"
    with ResultStore(path) as s:
        import_bundled(s)
        params = {"sop_minutes": 10.0, "sph_minutes": 0.0, "interictal_gap_hours": 4.0, "seed": 0}
        s.create_run(
            RunRecord(
                "syn-run",
                "run",
                "resnet_lstm_supcon",
                dataset="chbmit-synthetic",
                task="prediction",
                protocol="loocv",
                task_params=params,
                synthetic=True,
                status="complete",
            )
        )
        pm = pd.DataFrame(
            {"accuracy": [0.5, 0.6, 0.55, 0.7]}, index=pd.Index(["chb01", "chb02", "chb03", "chb04"], name="patient")
        )
        s.save_patient_metrics("syn-run", pm)
        s.save_summary("syn-run", summarize(pm, n_boot=50))
    argv = ["--store", str(path), "compare", "syn-run", "Lee2024 Table 3 (SOP 10)", "--metric", "accuracy"]
    assert main(argv) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "A is on synthetic chbmit-synthetic, B on real chbmit" in err
    assert "interictal_gap_hours: A has gap 4 h, B has gap 3 h" in err and "--force" in err
    assert main([*argv, "--force"]) == 0
    out = capsys.readouterr().out
    assert "NOT COMPARABLE (tested because of --force): data: A is on synthetic chbmit-synthetic" in out
    assert main([*argv, "--force", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["forced"] is True and res["differences"][0].startswith("data: A is on synthetic")


def test_readme_table6_example_still_compares_with_p_0009(tmp_path, capsys):
    from benchmark.cli import main

    path = tmp_path / "r.db"
    assert main(["--store", str(path), "import-bundled"]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "--store",
                str(path),
                "compare",
                "Lee2024 Table 2 (SOP 10)",
                "Lee2024 Table 3 (SOP 10)",
                "--metric",
                "accuracy",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "p = 0.009" in out and "NOT COMPARABLE" not in out


def test_compare_many_holm(store):
    others = [f"Lee2024 Table 3 (SOP {sop})" for sop in (10, 15, 30)]
    results = compare_many(store, "Lee2024 Table 2 (SOP 10)", others, "sensitivity", force=True)
    assert [r["b"] for r in results] == others
    raw = [r["p_value"] for r in results]
    assert [r["p_holm"] for r in results] == pytest.approx(holm(raw))
    assert all(r["p_holm"] >= r["p_value"] for r in results)
    assert pd.notna([r["wilcoxon_p_holm"] for r in results]).all()
    with pytest.raises(DataError):
        compare_many(store, "Lee2024 Table 2 (SOP 10)", [], "accuracy")
