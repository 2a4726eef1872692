"""Split integrity: run re-derives its split from the data and refuses any difference; the leakage
guard checks units, recordings, patients and subjects; ad-hoc splits are kept per dataset version."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest
from fakes import run_config

from benchmark import runner as runner_mod
from benchmark.datasets import load_dataset
from benchmark.errors import SplitError
from benchmark.index import Patient, Recording, RecordingIndex, Seizure
from benchmark.runner import Runner
from benchmark.split_files import freeze_standard, verify_all
from benchmark.splits import (
    SplitSpec,
    leakage_checks,
    load_split,
    make_split,
    save_split,
    split_leak,
)
from benchmark.store import ResultStore
from benchmark.tasks import make_labels

H = 3600.0


def _doctor(path, edit) -> None:
    """Edit a split file and recompute its own sha256, as a careful forger would."""
    d = json.loads(path.read_text())
    d.pop("sha256")
    edit(d)
    save_split(SplitSpec.from_dict(d), path)
    load_split(path)  # the file's own hash is valid again


@pytest.fixture
def frozen_loso(tmp_path, tiny_synthetic):
    splits = tmp_path / "splits"
    freeze_standard(
        "chbmit-synthetic", tiny_synthetic, splits, task="prediction", protocol="loso", choices={"sop_minutes": [10]}
    )
    return splits, splits / "chbmit-synthetic" / "prediction-sop10-sph0-gap4h-loso.json"


# -- item 1: run refuses a doctored split ---------------------------------------------------------
def test_item01_run_refuses_a_split_with_a_patient_on_both_sides_and_a_recomputed_sha256(
    tmp_path, tiny_synthetic, frozen_loso
):
    splits, path = frozen_loso

    def leak(d):  # the attack: the held-out patient's first unit also in training
        fold = next(f for f in d["folds"] if f["fold_id"] == "chb01")
        fold["train"].append(fold["test"][0])

    _doctor(path, leak)
    unit = load_split(path).folds[0].test[0]
    cfg = run_config(tmp_path, tiny_synthetic, method="chance", protocol="loso", splits_dir=splits)
    with pytest.raises(SplitError) as err:
        Runner(cfg).run()
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg
    assert f"fold chb01: unit {unit} in train and test" in msg and "re-freeze" in msg
    assert not cfg.store_path.exists()  # nothing recorded
    # `splits verify` gives the same verdict, from the same function
    row = verify_all(splits, ["chbmit-synthetic"], tiny_synthetic)[0]
    assert row["status"] == "FAILED" and f"fold chb01: unit {unit} in train and test" in row["detail"]


def test_item01_run_refuses_a_moved_unit_that_only_re_derivation_sees(tmp_path, tiny_synthetic):
    splits = tmp_path / "splits"
    freeze_standard(
        "chbmit-synthetic", tiny_synthetic, splits, task="prediction", protocol="loocv", choices={"sop_minutes": [10]}
    )
    path = splits / "chbmit-synthetic" / "prediction-sop10-sph0-gap4h-loocv.json"
    uid = next(iter(load_split(path).units))

    def stretch(d):  # a pre-ictal block moved 5 s closer to its seizure: no fold leaks
        d["units"][uid]["segments"][0][2] += 5.0

    _doctor(path, stretch)
    assert split_leak(load_split(path)) is None
    cfg = run_config(tmp_path, tiny_synthetic, method="chance", splits_dir=splits)
    with pytest.raises(SplitError, match=f"unit {uid} differs from the one derived from the data"):
        Runner(cfg).run()
    assert not cfg.store_path.exists()
    rows = {r["file"]: r for r in verify_all(splits, ["chbmit-synthetic"], tiny_synthetic)}
    assert rows[str(path)]["status"] == "FAILED" and f"unit {uid} differs" in rows[str(path)]["detail"]
    assert [r["status"] for f, r in rows.items() if f != str(path)] == ["ok"]  # the 3-h gap file


def _rec(rid, start_h, seizures=()):
    return Recording(rid, f"{rid}.edf", start_h * H, 1 * H, 256.0, ("A-B",), tuple(Seizure(a, b) for a, b in seizures))


def _toy():
    def recs(pid):
        return [_rec(f"{pid}_01", 0, [(1800, 1830)]), _rec(f"{pid}_02", 6, [(1800, 1830)]), _rec(f"{pid}_03", 12)]

    # a and b are one person (as CHB-MIT's chb01 and chb21)
    return RecordingIndex(
        "toy",
        (
            Patient("a", tuple(recs("a")), "s1"),
            Patient("b", tuple(recs("b")), "s1"),
            Patient("c", tuple(recs("c")), "s2"),
        ),
        channels=("A-B",),
    )


def _split(protocol, task="detection"):
    idx = _toy()
    return make_split(make_labels(idx, task), protocol, dataset="toy", index_hash=idx.content_hash())


def test_item01_leakage_guard_checks_units_recordings_patients_and_subjects():
    spec = _split("loso")
    assert split_leak(spec) is None
    s2 = next(f for f in spec.folds if f.fold_id == "s2")
    b_units = [u for u in s2.train if spec.units[u].patient == "b"]
    # b moved to the test side: a (training) and b (test) are one subject
    s2.train = [u for u in s2.train if u not in b_units]
    s2.test = s2.test + b_units
    assert split_leak(spec) == "fold s2: subject s1 in train and test"
    # one of c's recordings moved into training: c on both sides
    spec = _split("loso")
    s2 = next(f for f in spec.folds if f.fold_id == "s2")
    s2.train.append(s2.test.pop())
    assert split_leak(spec) == "fold s2: patient c in train and test"
    # prediction units of one patient share recordings: a recording on both sides is named first
    spec = _split("loso", "prediction")
    s2 = next(f for f in spec.folds if f.fold_id == "s2")
    shared = {s.recording for s in spec.units[s2.test[-1]].segments} & {
        s.recording for u in s2.test[:-1] for s in spec.units[u].segments
    }
    s2.train.append(s2.test.pop())
    assert split_leak(spec).startswith("fold s2: " + ("recording c/" if shared else "patient c"))
    # patient-specific loocv keeps a patient on both sides by design, never a unit
    spec = _split("loocv")
    assert split_leak(spec) is None
    spec.folds[0].train.append(spec.folds[0].test[0])
    assert split_leak(spec) == f"fold {spec.folds[0].fold_id}: unit {spec.folds[0].test[0]} in train and test"
    # kfold5-random is leaky by design: flagged by the protocol, not refused
    assert split_leak(_split("kfold5-random")) is None and _split("kfold5-random").leaky
    assert (
        leakage_checks("loso")
        == leakage_checks("kfold5")
        == ["overlapping windows", "units", "recordings", "patients", "subjects"]
    )
    assert leakage_checks("loocv") == ["overlapping windows", "units"]
    assert leakage_checks("kfold5-random") == ["overlapping windows"]


def test_item01_stored_verdict_names_the_checks_and_kfold5_random_stays_leaky(tmp_path, tiny_synthetic):
    rec = Runner(run_config(tmp_path / "a", tiny_synthetic, method="chance", task="detection", protocol="loso")).run()
    assert rec.status == "complete" and rec.leakage["ok"]
    assert rec.leakage["checks"] == ["overlapping windows", "units", "recordings", "patients", "subjects"]
    rec = Runner(
        run_config(tmp_path / "b", tiny_synthetic, method="chance", task="detection", protocol="kfold5-random")
    ).run()
    assert not rec.leakage["ok"] and rec.leakage["protocol_leaky"]
    assert rec.leakage["checks"] == ["overlapping windows"]


def test_item01_a_fold_with_overlapping_windows_refuses_the_run_before_training(tmp_path, tiny_synthetic, monkeypatch):
    trained = []
    overlap = {
        "ok": False,
        "n_overlaps": 2,
        "examples": [{"recording": "chb01/chb01_03", "train_start": 10.0, "train_end": 20.0}],
    }
    monkeypatch.setattr(runner_mod, "run_fold", lambda job: trained.append(job))
    monkeypatch.setattr(runner_mod, "check_leakage", lambda train, test: dict(overlap))
    cfg = run_config(tmp_path, tiny_synthetic, method="chance")
    with pytest.raises(
        SplitError,
        match=r"fold chb01-f00: 2 training window\(s\) overlap test windows "
        r"\(first: chb01/chb01_03 10-20 s\); the split is wrong",
    ):
        Runner(cfg).run()
    assert not trained
    assert not cfg.store_path.exists() or not ResultStore(cfg.store_path).list_runs()  # nothing recorded


# -- item 12: ad-hoc splits per dataset version ---------------------------------------------------
CHANNELS = ["Fp1", "F3", "C3"]


def _edf_folder(root, name=None, onset=20, seed=0):
    edfio = pytest.importorskip("edfio")
    rng = np.random.default_rng(seed)
    rows = []
    for pid in ("p1", "p2"):
        for k, start in enumerate(("2021-03-04T08:00:00", "2021-03-04T09:00:00")):
            path = root / pid / f"r{k}.edf"
            path.parent.mkdir(parents=True, exist_ok=True)
            edfio.Edf(
                [edfio.EdfSignal(rng.normal(0, 20, 60 * 128), sampling_frequency=128, label=c) for c in CHANNELS]
            ).write(path)
            rows.append(f"{pid},r{k},{pid}/r{k}.edf,{start}")
    (root / "manifest.csv").write_text("patient,recording,file,start_time\n" + "\n".join(rows) + "\n")
    (root / "seizures.csv").write_text(f"patient,recording,onset,offset\np1,r0,{onset},{onset + 15}\np2,r1,10,30\n")
    (root / "edf-folder.json").write_text(json.dumps({"channels": CHANNELS, **({"name": name} if name else {})}))
    return root


def _edf_config(tmp_path, data, **kw):
    return run_config(
        tmp_path,
        data,
        method="chance",
        dataset="edf-folder",
        task="detection",
        protocol="loso",
        cache_dir=tmp_path / "cache",
        **kw,
    )


def test_item12_a_corrected_seizure_time_gets_its_own_split_and_the_run_works(tmp_path, caplog):
    data = _edf_folder(tmp_path / "private", name="ward7")
    first = Runner(_edf_config(tmp_path, data)).run()
    assert first.status == "complete"
    # a seizure time is corrected in seizures.csv
    (data / "seizures.csv").write_text("patient,recording,onset,offset\np1,r0,25,40\np2,r1,10,30\n")
    caplog.set_level(logging.WARNING, logger="benchmark.runner")
    runner = Runner(_edf_config(tmp_path, data))
    second = runner.run()
    assert second.status == "complete" and second.index_hash != first.index_hash
    old = tmp_path / "cache" / "splits" / "ward7" / first.index_hash[:16] / "detection-ictal-loso.json"
    new = tmp_path / "cache" / "splits" / "ward7" / second.index_hash[:16] / "detection-ictal-loso.json"
    assert old.exists() and new.exists() and runner.split_file == new
    assert second.split_hash == load_split(new).sha256() != load_split(old).sha256() == first.split_hash
    assert any(
        "differs from the version(s)" in r.getMessage() and first.index_hash[:16] in r.getMessage()
        for r in caplog.records
    )


def test_item12_two_unnamed_datasets_get_two_splits_and_committed_splits_still_refuse(tmp_path):
    a = _edf_folder(tmp_path / "a", seed=1)
    b = _edf_folder(tmp_path / "b", onset=30, seed=2)
    ia, ib = load_dataset("edf-folder", a), load_dataset("edf-folder", b)
    assert ia.dataset == ib.dataset == "edf-folder" and ia.content_hash() != ib.content_hash()
    _, pa = Runner(_edf_config(tmp_path, a)).load_split(ia)
    spec_b, pb = Runner(_edf_config(tmp_path, b)).load_split(ib)
    assert pa != pb and pa.exists() and pb.exists() and spec_b.index_hash == ib.content_hash()
    # each is found again for its own data
    assert Runner(_edf_config(tmp_path, a)).find_split(ia)[1] == pa
    # a split frozen into the splits folder (committed) binds one version: other data are refused
    freeze_standard("edf-folder", a, tmp_path / "splits", task="detection", protocol="loso")
    with pytest.raises(SplitError, match="frozen on dataset version .*re-freeze"):
        Runner(_edf_config(tmp_path, b)).load_split(ib)
    shutil.rmtree(tmp_path / "splits")
