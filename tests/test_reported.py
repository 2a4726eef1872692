"""Tests of benchmark.reported and of the bundled paper tables in reports/reported/."""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.errors import DataError, UnknownNameError
from benchmark.metrics import METRICS, SUMMARY_COLUMNS, summarize
from benchmark.reported import (
    bundled_reported,
    dataset_level_values,
    dataset_summary,
    import_bundled,
    import_reported,
    read_reported_csv,
    reported_run_id,
)
from benchmark.store import ResultStore

BUNDLED = bundled_reported()
LEE = [d for d in BUNDLED if d.get("paper") == "lee2024"]
WANG = [d for d in BUNDLED if d.get("paper") == "wang2025"]
REPORTED_DIR = Path(BUNDLED[0]["path"]).parent
SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seeds" / "distilclip_eeg.md"
TEACHER, STUDENT = "DistilCLIP-EEG Teacher", "DistilCLIP-EEG Student"
CLASSES = {
    "tusz": ["ABSZ", "background", "CPSZ", "FNSZ", "GNSZ", "SPSZ", "TCSZ", "TNSZ"],
    "aubmc": ["background", "CPSZ", "ELSZ", "VDSZ"],
}
OVERALL = ["accuracy", "precision_weighted", "recall_macro", "specificity_macro", "f1_weighted"]  # paper order
PER_CLASS_CSV = {"tusz": "wang2025_table3_tusz.csv", "aubmc": "wang2025_table4_aubmc.csv"}
# Rounding slack: the paper prints percentages with 2 decimals (1e-4 as a fraction), AUC with 4.
ROUND = 1e-4 + 1e-9


@pytest.fixture
def store(tmp_path):
    with ResultStore(tmp_path / "results.db") as s:
        yield s


def _write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _wang(table: int, dataset: str) -> pd.DataFrame:
    return read_reported_csv(REPORTED_DIR / f"wang2025_table{table}_{dataset}.csv", level="dataset")


# -- the bundled index -------------------------------------------------------------------------------
def test_bundled_index_covers_every_csv():
    assert len(LEE) == 12  # Tables 2-5 x SOP 10/15/30
    # Wang et al.: 18 Table I rows and 6 Table II rows on each of 4 data sets.
    assert len(WANG) == (18 + 6) * 4
    # Video: Hou et al.'s one result and the seven rows of Li et al.'s Table I.
    video = [d for d in BUNDLED if d["name"].lower().startswith(("hou", "li"))]
    assert len(video) == 1 + 7 and len(BUNDLED) == len(LEE) + len(WANG) + len(video)
    files = {p for d in BUNDLED for p in d["paths"]}
    assert files == {str(p.resolve()) for p in REPORTED_DIR.glob("*.csv")}
    assert all(d["path"] == d["paths"][0] for d in BUNDLED)
    names = [d["name"] for d in BUNDLED]
    assert len(set(names)) == len(names)
    for d in LEE:
        assert d["level"] == "patient" and d["row"] is None
        assert d["task"] == "prediction" and d["protocol"] == "loocv"
        assert d["task_params"]["interictal_gap_hours"] == 3
        assert d["task_params"]["sop_minutes"] in (10, 15, 30)
        assert "10.1038/s41598-023-43328-y" in d["citation"]
    tasks = {"tusz": "seizure-type", "aubmc": "seizure-type", "chbmit": "detection", "helsinki": "detection"}
    for d in WANG:
        assert d["level"] == "dataset" and d["row"]
        assert d["protocol"] == "kfold5-random-balanced" and d["task"] == tasks[d["dataset"]]
        assert d["name"].startswith("Wang2025 ") and "DistilCLIP-EEG" in d["citation"]
        assert "subject-independent" in d["paper_notes"]
    roles = pd.Series([d["role"] for d in WANG]).value_counts().to_dict()
    assert roles == {"comparison": 16 * 4, "ablation": 6 * 4, "proposed": 2 * 4}


@pytest.mark.parametrize("entry", LEE, ids=[d["name"] for d in LEE])
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


# -- Wang et al. (2025): consistency of the transcription ----------------------------------------------
@pytest.mark.parametrize("dataset", ["tusz", "aubmc"])
def test_wang_per_class_tables_agree_with_table1_and_table2(dataset):
    per_class = read_reported_csv(REPORTED_DIR / PER_CLASS_CSV[dataset], level="dataset")
    t1, t2 = _wang(1, dataset), _wang(2, dataset)
    for row in (TEACHER, STUDENT):
        for metric in t1.columns:  # Table III/IV "Overall" = Table I, exactly
            assert per_class.at[row, metric] == t1.at[row, metric], (row, metric)
    # Table II's full model (Base-LP) is the teacher, with the specificity of the Overall row.
    assert (t2.loc["Base-LP"] == per_class.loc[TEACHER, t2.columns]).all()
    classes = CLASSES[dataset]
    cols = lambda m: [f"{m}:{c}" for c in classes]  # noqa: E731
    per_class_cols = {*cols("precision"), *cols("recall"), *cols("specificity"), *cols("f1")}
    assert set(per_class.columns) == {*t2.columns, *per_class_cols}
    for row in (TEACHER, STUDENT):
        r = per_class.loc[row]
        assert ((r > 0.5) & (r <= 1)).all()
        p, rec = r[cols("precision")].to_numpy(), r[cols("recall")].to_numpy()
        assert np.abs(2 * p * rec / (p + rec) - r[cols("f1")].to_numpy()).max() <= 1.5 * ROUND
        # Overall recall and specificity are the macro means of the per-class rows ...
        assert r[cols("recall")].mean() == pytest.approx(r["recall_macro"], abs=ROUND)
        assert r[cols("specificity")].mean() == pytest.approx(r["specificity_macro"], abs=ROUND)
        # ... but overall precision and F1 are not (hence the *_weighted names).
        assert r["precision_weighted"] - r[cols("precision")].mean() > 0.02
        assert r["f1_weighted"] - r[cols("f1")].mean() > 0.02


@pytest.mark.parametrize("dataset", ["tusz", "aubmc"])
def test_wang_table5_multiclass_auc(dataset):
    auc = _wang(5, dataset)
    per_class = read_reported_csv(REPORTED_DIR / PER_CLASS_CSV[dataset], level="dataset")
    classes = CLASSES[dataset]
    assert list(auc.columns) == ["roc_auc_hard_macro", "roc_auc_hard_micro", *[f"roc_auc_hard:{c}" for c in classes]]
    k = len(classes)
    for row in (TEACHER, STUDENT):
        a, pc = auc.loc[row], per_class.loc[row]
        assert a[[f"roc_auc_hard:{c}" for c in classes]].mean() == pytest.approx(a["roc_auc_hard_macro"], abs=ROUND)
        for c in classes:  # AUC of hard predictions: (recall + specificity) / 2
            assert (pc[f"recall:{c}"] + pc[f"specificity:{c}"]) / 2 == pytest.approx(
                a[f"roc_auc_hard:{c}"], abs=ROUND
            ), c
        acc = pc["accuracy"]
        assert (acc + 1 - (1 - acc) / (k - 1)) / 2 == pytest.approx(a["roc_auc_hard_micro"], abs=1.5 * ROUND)


@pytest.mark.parametrize("dataset", ["chbmit", "helsinki"])
def test_wang_binary_rows_are_self_consistent(dataset):
    t1, t2, auc = _wang(1, dataset), _wang(2, dataset), _wang(5, dataset)
    assert list(t1.columns) == ["sensitivity", "accuracy", "precision", "f1"]
    both = pd.concat([t1, t2])
    p, r, a = both["precision"], both["sensitivity"], both["accuracy"]
    assert ((2 * p * r / (p + r) - both["f1"]).abs() <= 2 * ROUND).all()
    # Balanced test folds: accuracy = (sens + spec) / 2 and precision = sens / (sens + 1 - spec).
    spec = both["specificity"].fillna(2 * a - r)
    assert ((t2["sensitivity"] + t2["specificity"]) / 2 - t2["accuracy"]).abs().max() <= ROUND
    assert ((r / (r + 1 - spec) - p).abs() <= 3 * ROUND).all()
    # Table V's binary AUC equals the accuracy (hard predictions on balanced folds).
    assert (auc["roc_auc_hard"] == t1.loc[[TEACHER, STUDENT], "accuracy"]).all()
    base_lp, teacher = t2.loc["Base-LP"], t1.loc[TEACHER]
    diff = {m for m in teacher.index if base_lp[m] != teacher[m]}
    assert diff == ({"f1"} if dataset == "chbmit" else set())  # printed 97.90 vs 97.89
    assert abs(base_lp["f1"] - teacher["f1"]) <= ROUND


def _seed_tables() -> dict[str, list[list[str]]]:
    lines = SEED.read_text().splitlines()
    out = {}
    for i, line in enumerate(lines):
        m = re.match(r"TABLE (I|II|III|IV|V):", line)
        if m:
            block = []
            for nxt in lines[i + 1 :]:
                if block and not nxt.strip():
                    break
                if nxt.strip():
                    block.append([c.replace("<b>", "").replace("</b>", "").strip() for c in nxt.split("\t")])
            out[m.group(1)] = block
    return out


def _pct(cell: str) -> float:
    return round(float(cell) / 100, 6)


@pytest.mark.skipif(not SEED.is_file(), reason=f"paper text {SEED} not available (shared/ not beside the repo)")
def test_wang_csvs_match_the_paper_text():
    tables = _seed_tables()
    datasets = ["tusz", "aubmc", "chbmit", "helsinki"]
    for numeral, table, width in (("I", 1, 4), ("II", 2, 5)):
        rows = tables[numeral][2:]
        csvs = {d: _wang(table, d) for d in datasets}
        assert all(len(c) == len(rows) for c in csvs.values())
        for k, cells in enumerate(rows):
            label = re.sub(r", 20\d\d$", "", cells[0].replace(" (Ours)", ""))  # Table I: "EEGNet [39], 2023"
            label = re.sub(r"^.*\((\w+-\w+)\)$", r"\1", label)  # Table II: "... (EEG-LP)"
            for j, d in enumerate(datasets):
                assert csvs[d].index[k] == label
                # CSV columns are in canonical order; put them back in the paper's Acc, Pre, Rec, (Spe), F1.
                paper_order = ["accuracy", "precision", "sensitivity", "specificity", "f1"]
                if d in CLASSES:
                    paper_order = OVERALL
                paper_order = [m for m in paper_order if m in csvs[d].columns]
                got = [round(v, 6) for v in csvs[d].iloc[k][paper_order]]
                assert got == [_pct(c) for c in cells[1 + width * j : 1 + width * (j + 1)]], (numeral, cells[0], d)
    for numeral, dataset in (("III", "tusz"), ("IV", "aubmc")):
        t = read_reported_csv(REPORTED_DIR / PER_CLASS_CSV[dataset], level="dataset")
        body = tables[numeral][1:]
        assert len(body) == len(CLASSES[dataset]) + 1
        for cells in body:
            code = _class_of(cells[0])
            assert code in (*CLASSES[dataset], "Overall")
            # Columns Acc, Pre, Recall, Spec, F1; per class, Acc is the recall.
            per_class = [f"{m}:{code}" for m in ("recall", "precision", "recall", "specificity", "f1")]
            names = OVERALL if code == "Overall" else per_class
            for who, row in ((0, TEACHER), (1, STUDENT)):
                assert [round(t.at[row, n], 6) for n in names] == [_pct(c.split("/")[who]) for c in cells[1:]], cells[0]
    auc = {d: _wang(5, d) for d in datasets}
    tusz_printed = {"BCKG", "ABSZ", "CPSZ", "FNSZ", "GNSZ", "SPSZ", "TCSZ", "TNSZ"}
    for cells in tables["V"][1:]:
        if cells[1] == "Normal Seizure":
            d, col = {"CHB-MIT": "chbmit", "Zenodo": "helsinki"}[cells[0]], "roc_auc_hard"
        else:  # by class, not by the Dataset cell: TNSZ is printed on AUBMC's first line
            d, col = ("tusz" if cells[1] in tusz_printed else "aubmc"), f"roc_auc_hard:{_class_of(cells[1])}"
        assert [auc[d].at[TEACHER, col], auc[d].at[STUDENT, col]] == [float(v) for v in cells[2].split("/")], cells
    # Macro and micro AUC: "teacher /" on one line, "student" on the next; TUSZ's pair first, then AUBMC's.
    split = [(c[3], c[4]) for c in tables["V"][1:] if c[3] not in ("", "-")]
    assert len(split) == 4
    for d, (first, second) in zip(("tusz", "aubmc"), (split[0:2], split[2:4])):
        for col, t, st in (("roc_auc_hard_macro", first[0], second[0]), ("roc_auc_hard_micro", first[1], second[1])):
            assert t.endswith(" /") and [auc[d].at[TEACHER, col], auc[d].at[STUDENT, col]] == [float(t[:-2]), float(st)]


def _class_of(printed: str) -> str:
    return {
        "BCKG": "background",
        "Normal": "background",
        "Complex Partial Seizures": "CPSZ",
        "Electrographic Seizures": "ELSZ",
        "Video-detected Seizures with no visual change over EEG": "VDSZ",
    }.get(printed, printed)


# -- import ----------------------------------------------------------------------------------------
def test_import_reported_roundtrip(store, tmp_path, caplog):
    path = _write(
        tmp_path,
        "# copied from a paper\nPatient,Sensitivity,FPR,ROC_AUC\n"
        "p1,0.9,0.05,N/A\np2,0.7,,0.8\np3,1,0.1,0.9\nAverage,0.87,0.075,0.85\n",
    )
    with caplog.at_level(logging.INFO, logger="benchmark.reported"):
        run_id = import_reported(
            store,
            path,
            "Foo2023 Table 1",
            "chbmit",
            "prediction",
            "loocv",
            {"sop_minutes": 30},
            citation="Foo et al. 2023",
            source="Table 1",
        )
    assert "Average" in caplog.text
    assert run_id == reported_run_id("Foo2023 Table 1", "chbmit", "prediction", "loocv", {"sop_minutes": 30})
    assert run_id.startswith("reported-foo2023-table-1-")
    rec = store.get_run(run_id)
    assert (rec.kind, rec.status) == ("reported", "reported")
    assert rec.display_name == rec.method == "Foo2023 Table 1"
    assert rec.citation == "Foo et al. 2023" and rec.task_params == {"sop_minutes": 30}
    assert rec.provenance["level"] == "patient" and rec.provenance["n_patients"] == 3
    pm = store.patient_metrics(run_id)
    assert list(pm.index) == ["p1", "p2", "p3"]
    assert list(pm.columns) == ["sensitivity", "fpr", "roc_auc"]
    assert math.isnan(pm.loc["p1", "roc_auc"]) and math.isnan(pm.loc["p2", "fpr"])
    summ = store.summary(run_id)
    assert summ.loc["sensitivity", "mean"] == pytest.approx(0.8667, abs=1e-4)
    assert summ.loc["roc_auc", "n"] == 2
    assert store.resolve("Foo2023 Table 1").run_id == run_id


def test_import_dataset_level_merges_tables(store, tmp_path):
    overall = _write(tmp_path, "row,Accuracy,F1_macro,recall_macro\nours,0.9,0.8,N/A\nother,0.7,0.6,0.5\n", "t1.csv")
    per_class = _write(
        tmp_path, "row,accuracy,Recall:FNSZ,f1:background,roc_auc_micro\nours,0.9,0.85,0.95,0.97\n", "t3.csv"
    )
    run_id = import_reported(
        store,
        [overall, per_class],
        "Foo2025 ours (TUSZ)",
        "tusz",
        "seizure-type",
        "kfold5-random",
        level="dataset",
        row="ours",
        role="proposed",
        metric_notes={"recall": "per-class Acc is recall", "roc_auc": "unused here"},
    )
    rec = store.get_run(run_id)
    assert rec.provenance["level"] == "dataset" and rec.provenance["row"] == "ours"
    assert rec.provenance["csv"] == ["t1.csv", "t3.csv"] and len(rec.provenance["csv_sha256"]) == 2
    assert rec.provenance["role"] == "proposed"
    assert rec.provenance["metric_notes"] == {"recall": "per-class Acc is recall"}
    assert store.patient_metrics(run_id).empty  # never paired patient-wise
    summ = store.summary(run_id)
    # Canonical metrics first, then per-class ones; NaN ("N/A") left out.
    assert list(summ.index) == ["accuracy", "f1_macro", "roc_auc_micro", "recall:FNSZ", "f1:background"]
    assert list(summ["mean"]) == [0.9, 0.8, 0.97, 0.85, 0.95]
    assert (summ["n"] == 0).all() and summ[["std", "ci_low", "ci_high"]].isna().all().all()
    shape_of_runs = summarize(pd.DataFrame({"accuracy": [0.5, 0.7]}))
    assert list(summ.columns) == list(shape_of_runs.columns) == list(SUMMARY_COLUMNS)
    assert (summ.dtypes == shape_of_runs.dtypes).all() and summ.index.name == shape_of_runs.index.name


def test_dataset_level_single_row_and_reimport_over_patient_level(store, tmp_path):
    patients = _write(tmp_path, "patient,accuracy\np1,0.5\n", "p.csv")
    overall = _write(tmp_path, "row,accuracy,sensitivity\nall,0.9,0.8\n", "d.csv")
    rid = import_reported(store, patients, "X", "chbmit", "detection", "kfold5-random")
    assert not store.patient_metrics(rid).empty
    assert import_reported(store, overall, "X", "chbmit", "detection", "kfold5-random", level="dataset") == rid
    assert store.patient_metrics(rid).empty  # the earlier per-patient rows are gone
    assert store.get_run(rid).provenance["level"] == "dataset"
    assert dict(store.summary(rid)["mean"]) == {"sensitivity": 0.8, "accuracy": 0.9}
    assert len(store.list_runs()) == 1


def test_dataset_summary_shape():
    s = dataset_summary({"accuracy": 0.9, "recall:FNSZ": 0.5})
    assert s.index.name == "metric" and list(s.index) == ["accuracy", "recall:FNSZ"]
    assert list(s["n"]) == [0, 0] and s["std"].isna().all()


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
        ("patient,f1_macro\np1,0.9\n", "unknown column 'f1_macro'"),  # multi-class names: dataset level only
        ("name,accuracy\np1,0.9\n", "no 'patient' column"),
        ("row,accuracy\nours,0.9\n", "no 'patient' column.*level='dataset'"),
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


@pytest.mark.parametrize(
    "text, match",
    [
        ("row,accuracy,f1_macro\nours,97.75,0.9\n", "accuracy of ours is 97.75; .*percentages, divide them by 100"),
        ("row,accuracy\nours,97.75%\n", "percentages"),
        ("row,acuracy_macro\nours,0.9\n", "unknown column 'acuracy_macro'.*Allowed columns: row, .*precision_weighted"),
        ("row,recal:FNSZ\nours,0.9\n", "unknown column 'recal:FNSZ'. Did you mean 'recall:FNSZ'\\?"),
        ("row,accuracy:FNSZ\nours,0.9\n", "unknown column 'accuracy:FNSZ'.*<metric> one of recall, precision"),
        ("row,recall:\nours,0.9\n", "no usable class name"),
        ("row,recall:FNSZ,Recall:FNSZ\nours,0.9,0.9\n", "appear more than once"),
        ("patient,accuracy\np1,0.9\n", "no 'row' column.*level='patient'"),
        ("row,accuracy\nours,0.9\nours,0.8\n", "row 'ours' appears more than once"),
        ("row,accuracy\nours,1.2\n", "percentages"),
        ("row\nours\n", "no metric columns"),
    ],
)
def test_bad_dataset_level_csvs_raise_one_line_data_errors(tmp_path, text, match):
    with pytest.raises(DataError, match=match) as err:
        read_reported_csv(_write(tmp_path, text), level="dataset")
    assert "\n" not in str(err.value)


def test_dataset_level_row_selection_errors(store, tmp_path):
    two = _write(tmp_path, "row,accuracy\nours,0.9\ntheirs,0.8\n", "two.csv")
    other = _write(tmp_path, "row,accuracy\nours,0.91\n", "other.csv")
    with pytest.raises(DataError, match="holds 2 rows .*pick one with row="):
        dataset_level_values(two)
    with pytest.raises(DataError, match="no row 'our'. Did you mean 'ours'\\?"):
        dataset_level_values(two, row="our")
    with pytest.raises(DataError, match="other.csv: accuracy of 'ours' is 0.91 but two.csv gives 0.9; the tables"):
        dataset_level_values([two, other], row="ours")
    with pytest.raises(DataError, match="level='dataset'"):
        import_reported(store, [two, other], "Y", "tusz", "seizure-type", "kfold5-random")
    with pytest.raises(DataError, match="row= picks"):
        import_reported(store, two, "Y", "tusz", "seizure-type", "kfold5-random", row="ours")
    with pytest.raises(UnknownNameError, match="unknown reported-set level 'datset'. Did you mean 'dataset'"):
        import_reported(store, two, "Y", "tusz", "seizure-type", "kfold5-random", level="datset", row="ours")
    assert store.list_runs() == []  # nothing half-imported


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_reported_csv(tmp_path / "nope.csv")


def test_import_bundled(store):
    run_ids = import_bundled(store)
    assert len(run_ids) == len(set(run_ids)) == len(BUNDLED) == 116
    rec = store.resolve("Lee2024 Table 3 (SOP 15)")
    assert rec.method == "Pre-train + ResNet-LSTM" and rec.dataset == "chbmit"
    assert "Table 3" in rec.source and rec.provenance["level"] == "patient"
    assert set(store.patient_metrics(rec.run_id).columns) <= set(METRICS)

    teacher = store.resolve("Wang2025 DistilCLIP-EEG teacher (TUSZ)")
    assert (teacher.dataset, teacher.task, teacher.protocol) == ("tusz", "seizure-type", "kfold5-random-balanced")
    assert teacher.provenance["level"] == "dataset" and teacher.provenance["role"] == "proposed"
    assert "Tables I, III, V" in teacher.source and "10.1109/JBHI.2025.3603022" in teacher.source
    assert "subject-independent" in teacher.notes
    assert "precision_weighted" in teacher.provenance["metric_notes"]
    assert store.patient_metrics(teacher.run_id).empty
    summ = store.summary(teacher.run_id)
    assert summ.loc["accuracy", "mean"] == 0.9775 and summ.loc["roc_auc_hard_macro", "mean"] == 0.9797
    assert summ.loc["recall:ABSZ", "mean"] == 0.8517 and summ.loc["roc_auc_hard:TNSZ", "mean"] == 0.9857
    assert len(summ) == 7 + 8 * 5 and (summ["n"] == 0).all()
    comparison = store.resolve("Wang2025 Table I: EEGNet [39] (CHB-MIT)")
    assert comparison.provenance["role"] == "comparison" and comparison.method == "EEGNet [39]"
    assert dict(store.summary(comparison.run_id)["mean"]) == {
        "sensitivity": 0.9312,
        "accuracy": 0.8959,
        "precision": 0.8698,
        "f1": 0.8995,
    }
    for d in WANG:
        rid = reported_run_id(d["name"], d["dataset"], d["task"], d["protocol"], d["task_params"])
        assert store.patient_metrics(rid).empty and not store.summary(rid).empty

    assert import_bundled(store) == run_ids  # idempotent
    assert len(store.list_runs(kind="reported")) == 116
    assert import_bundled(store, replace=False) == []


def test_bundled_missing_directory(tmp_path):
    with pytest.raises(DataError, match="index.json"):
        bundled_reported(tmp_path)


def test_bundled_index_names_unknown_paper(tmp_path):
    (tmp_path / "index.json").write_text('{"papers": {}, "sets": [{"paper": "x", "name": "A", "file": "a.csv"}]}')
    with pytest.raises(DataError, match="names paper 'x'"):
        bundled_reported(tmp_path)
