"""The multi-class ``seizure-type`` task: labels, splits, windows, class balance, metrics, and runs
end to end on a tiny SYNTHETIC TUSZ-layout dataset (tusz-synthetic, 5 patients x 2 one-minute
recordings, three seizure types)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark import metrics as M
from benchmark.datasets import load_dataset
from benchmark.datasets.synthetic.tusz import TuszSyntheticConfig, generate_tusz_synthetic
from benchmark.errors import BenchmarkError
from benchmark.fold_windows import balance
from benchmark.index import Exclusion, Patient, Recording, RecordingIndex, Seizure
from benchmark.runner import RunConfig, Runner
from benchmark.splits import SplitSpec, load_split, make_split, save_split
from benchmark.store import ResultStore
from benchmark.tasks import BY_OVERLAP, BY_TYPE, get_task, make_labels, make_params, window_labels
from benchmark.windows import WindowParams, window_table

ROOT = Path(__file__).resolve().parents[2]


# -- hand-made indexes ----------------------------------------------------------------------------
def _rec(rid: str, duration: float, seizures=()) -> Recording:
    # Loaders give float seconds; so does this helper.
    typed = tuple(Seizure(float(a), float(b), t) for a, b, t in seizures)
    return Recording(rid, f"{rid}.edf", 0.0, float(duration), 256.0, ("C3",), typed)


def typed_index() -> RecordingIndex:
    """p1: FNSZ, GNSZ and an untyped seizure; p2: ABSZ, FNSZ, a recording that is all ABSZ, and an
    excluded recording whose TCSZ must not become a class."""
    p1 = Patient("p1", (_rec("r1", 100.0, [(10, 20, "FNSZ"), (40, 50, "GNSZ"), (60, 65, None)]),))
    p2 = Patient(
        "p2",
        (
            _rec("r1", 100.0, [(30, 35, "ABSZ")]),
            _rec("r2", 50.0, [(5, 15, "FNSZ")]),
            _rec("r3", 10.0, [(0, 10, "ABSZ")]),
            _rec("r4", 100.0, [(20, 30, "TCSZ")]),
        ),
    )
    return RecordingIndex(
        "typed", (p1, p2), channels=("C3",), exclusions=(Exclusion("recording", "p2", "flat channel", "r4"),)
    )


def _segments(labels, uid):
    unit = next(u for u in labels.units if u.unit_id == uid)
    return [(s.start, s.end, s.label) for s in unit.segments], unit.stratum


# -- task -----------------------------------------------------------------------------------------
def test_classes_are_background_and_the_sorted_types_of_usable_recordings():
    labels = make_labels(typed_index(), "seizure-type")
    assert labels.task == "seizure-type"
    assert labels.classes == ("background", "ABSZ", "FNSZ", "GNSZ")  # TCSZ only in an excluded recording
    assert sorted(u.unit_id for u in labels.units) == ["p1/r1", "p2/r1", "p2/r2", "p2/r3"]
    # the untyped seizure is cut out, so no window inside it can be labelled background
    assert _segments(labels, "p1/r1") == ([(0.0, 60.0, BY_TYPE), (65.0, 100.0, BY_TYPE)], 1)
    assert _segments(labels, "p2/r1") == ([(0.0, 100.0, BY_TYPE)], 1)
    cut = [e for e in labels.exclusions if e.scope == "seizure"]
    assert [(e.patient, e.recording) for e in cut] == [("p1", "r1")]
    assert "60-65" in cut[0].reason and "no seizure type" in cut[0].reason
    # the dataset's own exclusions come first
    assert labels.exclusions[0] == Exclusion("recording", "p2", "flat channel", "r4")


def test_types_subset_cuts_out_seizures_of_other_types():
    params = make_params("seizure-type", types=["gnsz", "FNSZ", "fnsz"])
    assert params.types == ("FNSZ", "GNSZ") and params.slug() == "types-fnsz-gnsz"
    labels = make_labels(typed_index(), "seizure-type", params)
    assert labels.classes == ("background", "FNSZ", "GNSZ")
    assert _segments(labels, "p2/r1") == ([(0.0, 30.0, BY_TYPE), (35.0, 100.0, BY_TYPE)], 0)
    assert _segments(labels, "p2/r2") == ([(0.0, 50.0, BY_TYPE)], 1)
    # a recording that is one ABSZ seizure from end to end leaves nothing
    assert "p2/r3" not in {u.unit_id for u in labels.units}
    cut = {(e.patient, e.recording, e.reason) for e in labels.exclusions if e.scope == "seizure"}
    assert ("p2", "r1", "seizure at 30-35 s type ABSZ is not a class of this task") in cut
    assert ("p2", "r3", "seizure at 0-10 s type ABSZ is not a class of this task") in cut
    assert len(cut) == 3  # plus p1's untyped seizure


def test_unknown_type_names_the_types_present():
    with pytest.raises(BenchmarkError) as exc:
        make_labels(typed_index(), "seizure-type", make_params("seizure-type", types=["MYSZ", "FNSZ"]))
    msg = str(exc.value)
    assert "MYSZ" in msg and "ABSZ" in msg and "GNSZ" in msg and "TCSZ" not in msg
    assert "\n" not in msg


def test_dataset_without_typed_seizures_suggests_detection(tiny_synthetic):
    index = load_dataset("chbmit-synthetic", tiny_synthetic)
    with pytest.raises(BenchmarkError) as exc:
        make_labels(index, "seizure-type")
    msg = str(exc.value)
    assert "no seizures with a type" in msg and "--task detection" in msg and "\n" not in msg


# -- window labels --------------------------------------------------------------------------------
def test_window_labels_by_type_take_the_seizure_overlapping_most():
    seizures = (Seizure(2.0, 5.5, "FNSZ"), Seizure(5.5, 9.0, "GNSZ"), Seizure(12.0, 14.0, "TCSZ"))
    classes = ("background", "FNSZ", "GNSZ")
    starts = np.array([0.0, 2.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0])
    ends = starts + 2.0
    by_type = window_labels(seizures, starts, ends, BY_TYPE, classes)
    # [4,6): FNSZ 1.5 s vs GNSZ 0.5 s; [5,7): FNSZ 0.5 s vs GNSZ 1.5 s; TCSZ is not a class
    assert by_type.tolist() == [0, 1, 1, 2, 2, 2, 0, 0]
    by_overlap = window_labels(seizures, starts, ends, BY_OVERLAP, classes)
    assert by_overlap.tolist() == [0, 1, 1, 1, 1, 1, 0, 1]


def _one_recording_spec(task: str) -> tuple[SplitSpec, RecordingIndex]:
    index = RecordingIndex(
        "one", (Patient("p1", (_rec("r1", 20.0, [(5.0, 9.5, "FNSZ"), (14.0, 17.0, None)]),)),), channels=("C3",)
    )
    labels = make_labels(index, task)
    spec = SplitSpec(
        dataset="one",
        index_hash=index.content_hash(),
        task=task,
        task_params={},
        protocol="loso",
        seed=0,
        units={u.unit_id: u for u in labels.units},
        folds=[],
        classes=tuple(labels.classes) if task == "seizure-type" else (),
    )
    return spec, index


def test_ictal_stride_adds_only_flagged_windows_inside_seizures():
    spec, index = _one_recording_spec("seizure-type")
    plain = window_table(spec, index, WindowParams(2.0, 2.0))
    dense = window_table(spec, index, WindowParams(2.0, 2.0, ictal_stride_s=0.5))
    assert "extra" in plain.columns and not plain["extra"].any()
    # the untyped seizure (14-17 s) is a hole: no window, regular or extra, in it
    assert plain["start"].tolist() == [0, 2, 4, 6, 8, 10, 12, 17]
    assert plain["label"].tolist() == [0, 0, 1, 1, 1, 0, 0, 0]
    regular = dense[~dense["extra"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(regular, plain)
    extra = dense[dense["extra"]]
    # 2-s windows every 0.5 s inside 5-9.5 s; 6 s is already a regular start
    assert extra["start"].tolist() == [5.0, 5.5, 6.5, 7.0, 7.5]
    assert (extra["end"] <= 9.5).all() and (extra["label"] == 1).all()
    assert not dense.duplicated(["recording", "start"]).any()
    assert dense["start"].is_monotonic_increasing


def test_ictal_stride_in_detection_covers_every_seizure():
    spec, index = _one_recording_spec("detection")
    dense = window_table(spec, index, WindowParams(2.0, 2.0, ictal_stride_s=0.5))
    extra = dense[dense["extra"]]
    assert extra["start"].tolist() == [5.0, 5.5, 6.5, 7.0, 7.5, 14.5, 15.0]
    assert (extra["label"] == 1).all()
    assert len(dense) - len(extra) == 10


@pytest.mark.parametrize("stride", [0.0, -1.0, 2.5])
def test_ictal_stride_must_be_in_zero_to_window(stride):
    with pytest.raises(BenchmarkError, match="--ictal-stride"):
        WindowParams(2.0, 2.0, ictal_stride_s=stride)
    assert WindowParams(2.0, 2.0, ictal_stride_s=2.0).ictal_stride_s == 2.0


# -- class balance --------------------------------------------------------------------------------
def _train(counts: dict[int, int]) -> pd.DataFrame:
    labels = np.concatenate([np.full(n, k) for k, n in counts.items()])
    return pd.DataFrame({"label": labels, "id": np.arange(len(labels))})


def _counts(df: pd.DataFrame) -> dict[int, int]:
    return {int(k): int(v) for k, v in df["label"].value_counts().sort_index().items()}


def test_balance_multiclass_keeps_every_seizure_window_and_as_many_background():
    train = _train({0: 50, 1: 3, 2: 7, 3: 1})
    out = balance(train, seed=0, multiclass=True)
    assert _counts(out) == {0: 11, 1: 3, 2: 7, 3: 1}  # rare types are not cut to the rarest
    assert set(out["id"]) <= set(train["id"]) and out["id"].is_monotonic_increasing
    pd.testing.assert_frame_equal(out, balance(train, seed=0, multiclass=True))
    assert set(out["id"]) != set(balance(train, seed=1, multiclass=True)["id"])
    # fewer background than seizure windows: nothing is dropped
    assert _counts(balance(_train({0: 4, 1: 6, 2: 5}), seed=0, multiclass=True)) == {0: 4, 1: 6, 2: 5}
    # a multi-class fold whose training part holds a single seizure type keeps all its windows
    assert _counts(balance(_train({0: 3, 2: 8}), seed=0, multiclass=True)) == {0: 3, 2: 8}


def test_balance_binary_cuts_the_majority_to_the_minority():
    assert _counts(balance(_train({0: 50, 1: 5}), seed=0)) == {0: 5, 1: 5}
    assert _counts(balance(_train({0: 3, 1: 8}), seed=0)) == {0: 3, 1: 3}
    assert _counts(balance(_train({0: 9}), seed=0)) == {0: 9}


# -- splits ---------------------------------------------------------------------------------------
def test_split_classes_round_trip_and_fixed_class_tasks_have_no_classes_key(tmp_path):
    index = typed_index()
    spec = make_split(make_labels(index, "seizure-type"), "loso", dataset="typed", index_hash=index.content_hash())
    assert spec.classes == ("background", "ABSZ", "FNSZ", "GNSZ") and spec.class_names() == spec.classes
    path = save_split(spec, tmp_path / "st.json")
    assert json.loads(path.read_text())["classes"] == ["background", "ABSZ", "FNSZ", "GNSZ"]
    loaded = load_split(path)
    assert loaded.classes == spec.classes and loaded.sha256() == spec.sha256()
    assert {s.label for u in loaded.units.values() for s in u.segments} == {BY_TYPE}

    det = make_split(make_labels(index, "detection"), "loso", dataset="typed", index_hash=index.content_hash())
    assert det.classes == () and det.class_names() == ("non-ictal", "ictal")
    assert "classes" not in json.loads(save_split(det, tmp_path / "det.json").read_text())


def test_committed_splits_have_no_classes_and_keep_their_sha256():
    # Fixed-class tasks write no "classes"; dataset-defined ones (video labels) must.
    files = sorted((ROOT / "splits").glob("*/*.json"))
    assert files, "no committed split files found"
    for path in files:
        spec = load_split(path)  # checks the stored sha256 against the content written today
        fixed = get_task(spec.task).metadata.classes
        if fixed is not None:
            assert "classes" not in json.loads(path.read_text()), path
            assert spec.classes == () and spec.class_names() == fixed
        else:
            assert len(spec.classes) >= 2 and spec.class_names() == spec.classes, path


# -- metrics --------------------------------------------------------------------------------------
CLASSES4 = ("background", "A", "B", "C")
# C never occurs and is never predicted; predictions (argmax) are [0, 0, 1, 0, 1, 0, 2, 1].
Y = np.array([0, 0, 0, 0, 1, 1, 2, 2])
P = np.array(
    [
        [0.70, 0.10, 0.10, 0.10],
        [0.60, 0.20, 0.10, 0.10],
        [0.20, 0.50, 0.20, 0.10],
        [0.50, 0.10, 0.30, 0.10],
        [0.30, 0.60, 0.05, 0.05],
        [0.60, 0.30, 0.05, 0.05],
        [0.40, 0.10, 0.45, 0.05],
        [0.30, 0.50, 0.10, 0.10],
    ]
)


def _pairwise_auc(pos, neg) -> float:
    pos, neg = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(((pos > neg) + 0.5 * (pos == neg)).mean())


def test_multiclass_metrics_by_hand():
    m = M.multiclass_metrics(Y, P, CLASSES4)
    approx = pytest.approx
    assert m["accuracy"] == approx(5 / 8) and m["f1_micro"] == approx(5 / 8)
    # background tp 3 fp 1 fn 1 tn 3; A tp 1 fp 2 fn 1 tn 4; B tp 1 fp 0 fn 1 tn 6
    expected = {
        "recall": (3 / 4, 1 / 2, 1 / 2),
        "precision": (3 / 4, 1 / 3, 1.0),
        "specificity": (3 / 4, 4 / 6, 1.0),
        "f1": (6 / 8, 2 / 5, 2 / 3),
        "roc_auc": (10.5 / 16, 10 / 12, 9 / 12),
    }
    for metric, values in expected.items():
        for name, value in zip(CLASSES4, values):
            assert m[f"{metric}:{name}"] == approx(value), f"{metric}:{name}"
        assert m[f"{metric}_macro"] == approx(np.mean(values))  # over A, B and background only
    assert m["balanced_accuracy"] == approx(np.mean([3 / 4, 1 / 2, 1 / 2]))
    # C: never true, never predicted -> undefined except specificity, and left out of the macros
    assert np.isnan(m["recall:C"]) and np.isnan(m["precision:C"]) and np.isnan(m["f1:C"]) and np.isnan(m["roc_auc:C"])
    assert m["specificity:C"] == 1.0
    assert m["specificity_macro"] == approx((3 / 4 + 4 / 6 + 1.0) / 3)
    # micro AUC pools every (window, class) pair: the true class's probability is a positive
    pos = P[np.arange(len(Y)), Y]
    neg = np.concatenate([np.delete(P[i], Y[i]) for i in range(len(Y))])
    assert m["roc_auc_micro"] == approx(_pairwise_auc(pos, neg))
    n = len(M.MULTICLASS_METRICS)
    assert list(M.multiclass_metric_names(CLASSES4)[:n]) == list(M.MULTICLASS_METRICS)
    assert set(m) == set(M.multiclass_metric_names(CLASSES4))


def test_multiclass_metrics_nan_handling():
    # a present class that is never predicted: precision undefined, left out of precision_macro
    m = M.multiclass_metrics(
        [0, 0, 1, 2], [[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.2, 0.1, 0.7]], ("background", "A", "B")
    )
    assert np.isnan(m["precision:A"]) and m["recall:A"] == 0.0
    assert m["precision_macro"] == pytest.approx((2 / 3 + 1.0) / 2)
    empty = M.multiclass_metrics([], np.zeros((0, 3)), ("background", "A", "B"))
    assert np.isnan(empty["accuracy"]) and np.isnan(empty["roc_auc_micro"]) and np.isnan(empty["roc_auc_macro"])


def test_multiclass_patient_metrics_pool_each_patients_windows():
    scores = pd.DataFrame(
        {"fold_id": ["f0", "f1"] * 4, "patient": ["b", "a"] * 4, "label": Y, "recording": "r", "start": 0.0}
    )
    out = M.multiclass_patient_metrics(scores, P, CLASSES4)
    assert list(out.index) == ["a", "b"] and list(out.columns) == M.multiclass_metric_names(CLASSES4)
    # a: rows 1,3,5,7 -> predictions 0,0,0,1 for labels 0,0,1,2; b: rows 0,2,4,6 -> 0,1,1,2
    assert out.loc["a", "accuracy"] == pytest.approx(2 / 4) and out.loc["b", "accuracy"] == pytest.approx(3 / 4)
    for patient, rows in (("a", [1, 3, 5, 7]), ("b", [0, 2, 4, 6])):
        expected = M.multiclass_metrics(Y[rows], P[rows], CLASSES4)
        got = out.loc[patient]
        for name, value in expected.items():
            assert (np.isnan(value) and np.isnan(got[name])) or got[name] == pytest.approx(value), name


# -- end to end on tusz-synthetic -----------------------------------------------------------------
TUSZ_TINY = TuszSyntheticConfig(
    n_patients=5,
    seizure_types=("ABSZ", "FNSZ", "GNSZ"),
    sessions_per_patient=2,
    recording_minutes=1.0,
    seizures_per_recording=1,
    sfreq=128,
)
TUSZ_CLASSES = ["background", "ABSZ", "FNSZ", "GNSZ"]


@pytest.fixture(scope="module")
def tusz_dir(tmp_path_factory) -> Path:
    return generate_tusz_synthetic(tmp_path_factory.mktemp("tusz-tiny") / "ds", TUSZ_TINY)


def _cfg(root: Path, data: Path, **kw) -> RunConfig:
    base = dict(
        method="bandpower_logreg",
        dataset="tusz-synthetic",
        task="seizure-type",
        protocol="kfold5",
        data_dir=data,
        store_path=root / "r.sqlite",
        splits_dir=root / "splits",
        cache_dir=root / "cache",
        progress=False,
    )
    base.update(kw)
    return RunConfig(**base)


@pytest.fixture(scope="module")
def tusz_runs(tmp_path_factory, tusz_dir):
    """Four runs in one store: bandpower_logreg, chance, the leaky protocol, and an ictal stride."""
    root = tmp_path_factory.mktemp("tusz-runs")
    variants = {
        "logreg": {},
        "chance": {"method": "chance"},
        "random": {"protocol": "kfold5-random"},
        "ictal": {"window": WindowParams(1.0, 1.0, ictal_stride_s=0.5)},
    }
    recs = {name: Runner(_cfg(root, tusz_dir, **kw)).run() for name, kw in variants.items()}
    return recs, ResultStore(root / "r.sqlite")


def test_seizure_type_run_stores_multiclass_results(tusz_runs):
    recs, store = tusz_runs
    rec = recs["logreg"]
    assert rec.status == "complete" and rec.synthetic and rec.task == "seizure-type"
    assert rec.provenance["classes"] == TUSZ_CLASSES
    assert rec.task_params["label"] == "seizure type"
    per_patient = store.patient_metrics(rec.run_id)
    assert len(per_patient) == 5
    assert set(per_patient.columns) == set(M.multiclass_metric_names(TUSZ_CLASSES))
    scores = store.scores(rec.run_id, probs=True)
    assert "probs" not in store.scores(rec.run_id).columns
    probs = np.array(scores["probs"].tolist())
    assert probs.shape == (len(scores), 4) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (scores["pred"].to_numpy() == probs.argmax(axis=1)).all()
    assert np.allclose(scores["score"], probs.max(axis=1), atol=1e-6)
    assert set(scores["label"]) == {0, 1, 2, 3}
    # per-patient and pooled metrics are those of the stored probabilities
    again = M.multiclass_patient_metrics(scores, probs, TUSZ_CLASSES)
    pd.testing.assert_frame_equal(per_patient[again.columns].sort_index(), again, check_names=False, atol=1e-9)
    pooled = M.multiclass_metrics(scores["label"].to_numpy(), probs, TUSZ_CLASSES)
    assert rec.provenance["pooled_metrics"]["f1_macro"] == pytest.approx(pooled["f1_macro"])
    assert rec.provenance["pooled_metrics"]["roc_auc_micro"] == pytest.approx(pooled["roc_auc_micro"])
    assert "roc_auc_macro" in store.summary(rec.run_id).index
    folds = store.folds(rec.run_id)
    assert len(folds) == 5 and sum(f.n_test for f in folds) == 5 * 2 * 60  # every 1-s window once
    assert all("recall:FNSZ" in f.metrics for f in folds)


def test_chance_seizure_type_has_macro_auc_one_half(tusz_runs):
    recs, store = tusz_runs
    rec = recs["chance"]
    per_patient = store.patient_metrics(rec.run_id)
    assert (per_patient["roc_auc_macro"] == 0.5).all()
    # balanced training: background is half of it, so chance always says background
    assert (per_patient["recall:background"] == 1.0).all()
    scores = store.scores(rec.run_id, probs=True)
    assert (np.array(scores["probs"].tolist())[:, 0] == 0.5).all()
    for _, fold in scores.groupby("fold_id"):
        assert len({tuple(p) for p in fold["probs"]}) == 1  # the fold's training prior, everywhere


def test_leaky_random_protocol_runs_multiclass(tusz_runs):
    recs, store = tusz_runs
    rec = recs["random"]
    assert rec.status == "complete" and rec.provenance["classes"] == TUSZ_CLASSES
    folds = store.folds(rec.run_id)
    assert sorted(f.fold_id for f in folds) == [f"fold{k}" for k in range(5)]
    scores = store.scores(rec.run_id, probs=True)
    assert len(scores) == 5 * 2 * 60 and not scores.duplicated(["patient", "recording", "start"]).any()
    assert set(store.patient_metrics(rec.run_id).columns) == set(M.multiclass_metric_names(TUSZ_CLASSES))


def test_ictal_stride_trains_on_more_windows_and_tests_on_the_same(tusz_runs):
    recs, store = tusz_runs
    plain, dense = recs["logreg"], recs["ictal"]
    assert dense.run_id != plain.run_id and dense.task_params["ictal_stride_s"] == 0.5
    assert "ictal_stride_s" not in plain.task_params
    a = {f.fold_id: f for f in store.folds(plain.run_id)}
    b = {f.fold_id: f for f in store.folds(dense.run_id)}
    assert a.keys() == b.keys()
    for fid in a:
        assert b[fid].n_test == a[fid].n_test
        assert b[fid].n_train > a[fid].n_train
    key = ["fold_id", "patient", "recording", "start", "label"]
    pd.testing.assert_frame_equal(store.scores(plain.run_id)[key], store.scores(dense.run_id)[key])


@pytest.mark.filterwarnings("ignore:The least populated class")  # 2 types on 5 patients, 5 folds
def test_second_run_with_types_reuses_its_split(tmp_path, tusz_dir):
    cfg = _cfg(tmp_path, tusz_dir, method="chance", task_params={"types": ["FNSZ", "ABSZ"]})
    first = Runner(cfg).run()
    assert first.provenance["classes"] == ["background", "ABSZ", "FNSZ"]
    again = Runner(cfg).run()  # the split frozen by the first run is loaded now
    assert again.run_id == first.run_id
