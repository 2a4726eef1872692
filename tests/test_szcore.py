"""SzCORE exchange (benchmark.szcore) and sample-based scoring (benchmark.events).

Hand-computed SzCORE cases, agreement with the reference package szcore-evaluation on a small
hypothesis folder, a detection run exported as hypothesis files and scored back, malformed files
refused with nothing stored, and old stores admitting scored sets. Every run here is on SYNTHETIC
data.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sqlite3
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.events import SampleParams, SzcoreParams, score_events, score_recording_samples
from benchmark.index import Patient, Recording, RecordingIndex
from benchmark.metrics import EVENT_METRICS, SAMPLE_METRICS
from benchmark.store import _SCHEMA, SCHEMA_VERSION, ResultStore, RunRecord
from benchmark.szcore import hypothesis_names, score_hypotheses, szcore_json

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("szcore_cases", HERE / "data" / "szcore_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

DAY = 86400.0
SFREQ = 8  # a low rate keeps the hand-made EDF files small; scoring never reads the signal


# -- hand-computed cases -----------------------------------------------------------------------------
def test_sample_scoring_counts_seconds_by_hand():
    # Seizure 10-20 s, detection 15-30 s in 100 s: 5 s detected, 10 s false, 5 s missed.
    c = score_recording_samples([(10, 20)], [(15, 30)], 100.0)
    assert (c.tp, c.fp, c.n_ref, c.duration_s) == (5, 10, 10, 100.0)
    assert c.sensitivity == 0.5 and c.precision == pytest.approx(1 / 3)
    assert c.f1 == pytest.approx(2 * 5 / (2 * 5 + 10 + 5))
    assert c.fa_per_24h == pytest.approx(10 * DAY / 100)
    # Edges round to the nearest second on SzCORE's 1-Hz masks; events past the end are clipped.
    c = score_recording_samples([(10, 20)], [(14.6, 20.4), (95, 130)], 100.0)
    assert (c.tp, c.fp, c.n_ref) == (5, 5, 10)
    # At 10 Hz the same events count tenths of seconds.
    c = score_recording_samples([(10, 20)], [(14.6, 20.4)], 100.0, SampleParams(fs=10))
    assert (c.tp, c.fp, c.n_ref, c.duration_s) == (54, 4, 100, 100.0)


def test_sample_scoring_without_detections_or_seizures():
    c = score_recording_samples([], [], 60.0)
    assert (c.tp, c.fp, c.n_ref) == (0, 0, 0)
    assert all(math.isnan(v) for v in (c.sensitivity, c.precision, c.f1)) and c.fa_per_24h == 0.0
    c = score_recording_samples([], [(0, 6)], 60.0)
    assert c.f1 == 0.0 and math.isnan(c.sensitivity) and c.fa_per_24h == pytest.approx(6 * DAY / 60)


def _case_tables():
    """The cases of tests/data/szcore_cases.py as score_events' inputs, keyed sub/run."""
    hyp, patients, ref, durations = {}, {}, {}, {}
    for sub, ses, run, duration, seizures, detections in cases.RECORDINGS:
        key = f"sub-{sub}/{ses}-{run}"
        hyp[key], patients[key] = detections or [], f"sub-{sub}"
        ref[key], durations[key] = seizures, float(duration)
    return hyp, patients, ref, durations


def test_event_and_sample_scores_of_the_cases_by_hand():
    table = score_events(*_case_tables(), SzcoreParams(), SampleParams())
    counts = table[["event_tp", "event_fp", "event_n_ref", "sample_tp", "sample_fp", "sample_n_ref"]]
    assert counts.to_dict("index") == {
        # detected seizure; a false alarm; two detections 45 s apart merged into one false alarm
        "sub-01": dict(event_tp=1, event_fp=2, event_n_ref=1, sample_tp=60, sample_fp=40, sample_n_ref=60),
        # 400-s seizure split in two pieces (one detected), one detection within the 30-s tolerance,
        # and a recording without a hypothesis
        "sub-02": dict(event_tp=2, event_fp=0, event_n_ref=4, sample_tp=20, sample_fp=10, sample_n_ref=460),
        "sub-03": dict(event_tp=0, event_fp=1, event_n_ref=0, sample_tp=0, sample_fp=10, sample_n_ref=0),
    }
    s1 = table.loc["sub-01"]
    assert (s1.event_sensitivity, s1.event_precision, s1.event_f1) == (1.0, pytest.approx(1 / 3), 0.5)
    assert s1.fa_per_24h == pytest.approx(2 * DAY / 4200) and s1.sample_fp_per_24h == pytest.approx(40 * DAY / 4200)
    assert s1.sample_f1 == pytest.approx(2 * 60 / (2 * 60 + 40))
    s3 = table.loc["sub-03"]
    assert math.isnan(s3.event_sensitivity) and s3.event_f1 == 0.0 and s3.sample_precision == 0.0


# -- the cases as a BIDS dataset and a hypothesis folder -------------------------------------------------
def _write_bids(root: Path) -> Path:
    """A BIDS dataset whose events.tsv files are the cases' references (19 channels, 8 Hz EDFs)."""
    import numpy as np

    from benchmark.datasets.bids_eeg import BIDS_CHANNELS

    edfio = pytest.importorskip("edfio")
    labels = [f"{c.capitalize()}-Avg" for c in BIDS_CHANNELS]
    root.mkdir(parents=True)
    (root / "dataset_description.json").write_text(json.dumps({"Name": "SzCORE cases", "BIDSVersion": "1.9.0"}))
    (root / "task-szMonitoring_eeg.json").write_text(json.dumps({"SamplingFrequency": SFREQ}))
    for sub, ses, run, duration, seizures, _ in cases.RECORDINGS:
        events = root / cases.relpath(sub, ses, run)
        events.parent.mkdir(parents=True, exist_ok=True)
        events.write_text(cases.events_tsv(seizures, duration))
        base = events.parent / cases.basename(sub, ses, run)
        signal = np.linspace(-1.0, 1.0, duration * SFREQ)
        edfio.Edf([edfio.EdfSignal(signal, sampling_frequency=SFREQ, label=lab) for lab in labels]).write(
            f"{base}_eeg.edf"
        )
        rows = ["name\ttype\tunits\tstatus"] + [f"{lab}\tEEG\tuV\tgood" for lab in labels]
        Path(f"{base}_channels.tsv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="module")
def szcore_cases(tmp_path_factory):
    """(BIDS dataset, hypothesis folder) of the cases."""
    tmp = tmp_path_factory.mktemp("szcore-cases")
    _, hyp = cases.write_folders(tmp)
    return _write_bids(tmp / "bids"), hyp


def _compare_with_reference(ours: dict, reference: dict) -> None:
    for section in ("sample_results", "event_results"):
        for key, value in reference[section].items():
            assert ours[section][key] == pytest.approx(value, rel=1e-12), (section, key)


def test_scores_agree_with_szcore_evaluation(szcore_cases, tmp_path):
    # szcore_evaluation_reference.json: szcore-evaluation 0.0.7 on the same two folders.
    bids, hyp = szcore_cases
    rec = score_hypotheses(tmp_path / "r.sqlite", "bids", hyp, data_dir=bids)
    ours = szcore_json(ResultStore(tmp_path / "r.sqlite"), rec.run_id)
    _compare_with_reference(ours, json.loads(cases.REFERENCE_JSON.read_text()))
    assert ours["event_results"]["subjects"]["sub-02"] == {
        "sensitivity": 0.5,
        "precision": 1.0,
        "f1": pytest.approx(2 / 3),
        "fpRate": 0.0,
        "tp": 2,
        "fp": 0,
        "refTrue": 4,
        "duration": 2700.0,
    }
    assert ours["sample_results"]["refTrue"] == 60 + 460 and ours["settings"]["sample_scoring"] == {"fs": 1}
    prov = ResultStore(tmp_path / "r.sqlite").get_run(rec.run_id).provenance
    assert prov["hypotheses"]["recordings_without_file"] == ["sub-02/sub-02_ses-01_task-szMonitoring_run-01"]


def test_scores_agree_with_installed_szcore_evaluation(szcore_cases, tmp_path):
    """The same comparison against the package itself, where it is installed (it needs Python >= 3.12)."""
    evaluate = pytest.importorskip("szcore_evaluation.evaluate")
    bids, hyp = szcore_cases
    ref = tmp_path / "ref"
    for path in bids.rglob("*_events.tsv"):  # the reference folder holds events files only
        (ref / path.relative_to(bids)).parent.mkdir(parents=True, exist_ok=True)
        (ref / path.relative_to(bids)).write_bytes(path.read_bytes())
    reference = evaluate.evaluate_dataset(ref, hyp, tmp_path / "out.json")
    rec = score_hypotheses(tmp_path / "r.sqlite", "bids", hyp, data_dir=bids)
    _compare_with_reference(szcore_json(ResultStore(tmp_path / "r.sqlite"), rec.run_id), reference)


# -- malformed hypothesis files ------------------------------------------------------------------------
def _break(hyp: Path, how: str) -> tuple[Path, str]:
    """Spoil one file of a copy of the hypothesis folder; returns the file and what the error names."""
    path = hyp / cases.relpath("01", "01", "00")
    text = path.read_text()
    if how == "missing column":
        path.write_text(text.replace("onset\t", "start\t", 1))
        return path, "line 1: no column onset"
    if how == "negative duration":
        path.write_text(text.replace("1000\t10\t", "1000\t-10\t"))
        return path, "line 3"
    if how == "blank lines, then a bad row":  # lines are counted as an editor shows them
        header, rest = text.split("\n", 1)
        path.write_text(
            f"{header}\n\n\n{rest.replace('1000' + chr(9) + '10' + chr(9), '1000' + chr(9) + 'x' + chr(9))}"
        )
        return path, "line 5: duration 'x'"
    if how == "unknown eventType":  # SzCORE's vocabulary is lower case: 'SZ' is not a seizure there
        path.write_text(text.replace("\tsz\t", "\tSZ\t", 1))
        return path, "line 2: eventType 'SZ'"
    if how in ("short row", "long row"):
        path.write_text(text + ("455.0\t1.0\n" if how == "short row" else "455\t1\tsz\tn/a\tn/a\tn/a\t3600\textra\n"))
        return path, "line 6: "
    if how == "past the end":
        path.write_text(text + "5000\t10\tsz\tn/a\tn/a\tn/a\t3600\n")
        return path, "line 6: the event ends at 5010 s, after the end of recording"
    if how == "empty":
        path.write_text("\n")
        return path, "is empty"
    if how == "two files":
        (hyp / path.name).write_text(text)  # the same recording again, in a flat folder
        return hyp / path.name, "a second hypothesis file"
    if how == "unknown recording":
        path = hyp / cases.relpath("09", "01", "00")
        path.parent.mkdir(parents=True)
        path.write_text(text)
        return path, "names no recording"
    path.write_bytes(text.encode().replace(b"\tsz\t", "\tsz\xe9\t".encode("latin-1"), 1))
    return path, "line 2"


MALFORMED = (
    "missing column",
    "negative duration",
    "blank lines, then a bad row",
    "unknown eventType",
    "short row",
    "long row",
    "past the end",
    "empty",
    "unknown recording",
    "not UTF-8",
    "two files",
)


@pytest.mark.parametrize("how", MALFORMED)
def test_malformed_hypotheses_are_refused_in_one_line_and_nothing_is_stored(szcore_cases, tmp_path, capsys, how):
    import shutil

    bids, good = szcore_cases
    hyp = tmp_path / "hyp"
    shutil.copytree(good, hyp)
    path, named = _break(hyp, how)
    store = tmp_path / "r.sqlite"
    code = main(
        ["--store", str(store), "score", "--dataset", "bids", "--data-dir", str(bids), "--hypotheses", str(hyp)]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert str(path) in err and named in err, err
    assert not store.exists() or ResultStore(store).list_runs() == []


def test_a_folder_scored_again_keeps_its_set_and_name(szcore_cases, tmp_path, caplog):
    bids, hyp = szcore_cases
    store = tmp_path / "r.sqlite"
    first = score_hypotheses(store, "bids", hyp, data_dir=bids, name="ToolA")
    again = score_hypotheses(store, "bids", hyp, data_dir=bids, name="ToolB")
    assert again.run_id == first.run_id and again.method == "ToolA"
    assert "already stored as" in caplog.text and "its name stays 'ToolA'" in caplog.text
    assert [r.run_id for r in ResultStore(store).list_runs()] == [first.run_id]


def test_a_scored_set_named_like_a_baseline_is_marked_scored_and_ranked_by_event_f1(szcore_cases, tmp_path):
    import re

    from benchmark.report import build_report

    bids, hyp = szcore_cases
    store = tmp_path / "r.sqlite"
    rec = score_hypotheses(store, "bids", hyp, data_dir=bids, name="chance")
    build_report(ResultStore(store), tmp_path / "site")
    (board,) = [p.read_text() for p in (tmp_path / "site" / "leaderboards").glob("bids_detection_external*.html")]
    row = re.search(rf'<tr data-run="{rec.run_id}".*?</tr>', board, re.S).group(0)
    assert ">scored</span>" in row and ">baseline</span>" not in row
    assert "Ranked by Event F1" in board
    assert "missing-baselines" not in board  # run cannot use the external protocol


# -- names --------------------------------------------------------------------------------------------
def _index(*patients: tuple[str, tuple[str, ...]]) -> RecordingIndex:
    return RecordingIndex(
        "x",
        tuple(
            Patient(pid, tuple(Recording(rid, f"{pid}/{rid}.edf", None, 10.0, 256.0, ()) for rid in rids))
            for pid, rids in patients
        ),
    )


def test_hypothesis_names_keep_bids_names_and_number_other_recordings():
    bids = RecordingIndex(
        "b",
        (
            Patient(
                "sub-01",
                (
                    Recording(
                        "sub-01_ses-02_task-szMonitoring_run-03",
                        "sub-01/ses-02/eeg/sub-01_ses-02_task-szMonitoring_run-03_eeg.edf",
                        None,
                        10.0,
                        256.0,
                        (),
                    ),
                ),
            ),
        ),
    )
    assert hypothesis_names(bids) == {
        ("sub-01", "sub-01_ses-02_task-szMonitoring_run-03"): (
            "sub-01/ses-02/eeg/sub-01_ses-02_task-szMonitoring_run-03_events.tsv"
        )
    }
    assert hypothesis_names(_index(("chb01", ("chb01_03", "chb01_04")))) == {
        ("chb01", "chb01_03"): "sub-chb01/ses-01/eeg/sub-chb01_ses-01_task-szMonitoring_run-00_events.tsv",
        ("chb01", "chb01_04"): "sub-chb01/ses-01/eeg/sub-chb01_ses-01_task-szMonitoring_run-01_events.tsv",
    }
    from benchmark.errors import DataError

    with pytest.raises(DataError, match="would both be named"):
        hypothesis_names(_index(("p-1", ("a",)), ("p1", ("b",))))


# -- a run exported and scored back --------------------------------------------------------------------
@pytest.fixture(scope="module")
def exported(tmp_path_factory, tiny_synthetic):
    """A bandpower_logreg detection run (LOSO, smoothed events), its hypothesis files, and the
    folder scored back through the command line on the run's protocol."""
    from fakes import run_config

    from benchmark.events import PostProcessing
    from benchmark.runner import Runner

    tmp = tmp_path_factory.mktemp("szcore-round-trip")
    cfg = run_config(
        tmp, tiny_synthetic, task="detection", protocol="loso", threads=1, events=PostProcessing(smooth_windows=3)
    )
    run = Runner(cfg).run()
    store, hyp = str(cfg.store_path), tmp / "hyp"
    data = ["--data-dir", str(tiny_synthetic)]
    assert (
        main(
            ["--store", store, "results", "export", "--format", "szcore", "--run", run.run_id, "--out", str(hyp), *data]
        )
        == 0
    )
    score = ["score", "--dataset", "chbmit-synthetic", *data, "--hypotheses", str(hyp), "--protocol", "loso"]
    assert main(["--store", store, *score, "--name", "exported"]) == 0
    scored = next(r for r in ResultStore(cfg.store_path).list_runs() if r.kind == "scored")
    return cfg.store_path, run, scored, hyp


@pytest.mark.slow
def test_exported_run_scored_back_gives_the_runs_own_metrics(exported):
    path, run, scored, hyp = exported
    store = ResultStore(path)
    metrics = [*EVENT_METRICS, *SAMPLE_METRICS]
    mine, back = store.patient_metrics(run.run_id)[metrics], store.patient_metrics(scored.run_id)[metrics]
    assert back.equals(mine), (mine, back)
    assert mine.notna().any().all()  # every metric defined for some patient: the comparison means something
    assert {k: v for k, v in szcore_json(store, run.run_id).items() if k != "settings"} == {
        k: v for k, v in szcore_json(store, scored.run_id).items() if k != "settings"
    }
    assert run.provenance["sample_scoring"]["szcore"] == {"fs": 1}
    # The scored set: its own kind, the folder's hash, the synthetic data flagged, the same patients.
    assert (scored.kind, scored.task, scored.protocol, scored.synthetic, scored.status) == (
        "scored",
        "detection",
        "loso",
        True,
        "complete",
    )
    from benchmark.szcore import folder_hash

    assert scored.provenance["hypotheses"]["sha256"] == folder_hash(hyp)
    assert store.summary(scored.run_id).loc["event_f1", "n"] == len(mine)


@pytest.mark.slow
def test_hypothesis_files_are_szcore_event_files(exported):
    _, run, _, hyp = exported
    files = sorted(p.relative_to(hyp).as_posix() for p in hyp.rglob("*_events.tsv"))
    assert files and all(f.startswith("sub-chb0") and "_task-szMonitoring_run-" in f for f in files)
    for path in hyp.rglob("*_events.tsv"):
        header, *rows = path.read_text().splitlines()
        assert header.split("\t") == list(cases.COLUMNS)
        kinds = {row.split("\t")[2] for row in rows}
        assert kinds in ({"sz"}, {"bckg"}), kinds
        for row in rows:
            onset, duration, _, confidence, *_ = row.split("\t")
            assert float(onset) >= 0 and float(duration) > 0
            assert confidence == "n/a" or 0.0 <= float(confidence) <= 1.0


@pytest.mark.slow
def test_scored_set_is_on_the_runs_board(exported, tmp_path):
    from benchmark.report import build_report

    path, run, scored, _ = exported
    build_report(ResultStore(path), tmp_path / "site")
    boards = [p.read_text() for p in (tmp_path / "site" / "leaderboards").glob("*detection_loso*.html")]
    assert any(run.run_id in text and scored.run_id in text for text in boards)


@pytest.mark.slow
def test_szcore_json_export_from_the_command_line(exported, tmp_path, capsys):
    path, run, _, _ = exported
    out = tmp_path / "szcore.json"
    assert (
        main(
            [
                "--store",
                str(path),
                "results",
                "export",
                "--format",
                "szcore-json",
                "--run",
                run.run_id,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    assert set(data) == {"sample_results", "event_results", "settings"}
    assert {"sensitivity", "sensitivity_std", "precision", "f1", "fpRate", "fpRate_std", "tp", "fp"} <= set(
        data["event_results"]
    )
    assert data["settings"]["synthetic"] is True
    capsys.readouterr()
    assert main(["--store", str(path), "results", "export", "--format", "szcore-json"]) == 2
    assert "add --run ID" in capsys.readouterr().err


# -- the store ---------------------------------------------------------------------------------------------
def test_store_made_before_scored_sets_admits_them_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    old = _SCHEMA.replace("'run', 'reported', 'scored'", "'run', 'reported'")
    old = old.replace("    resumed INTEGER NOT NULL DEFAULT 0,\n", "")  # a schema-2 store
    assert old != _SCHEMA
    conn = sqlite3.connect(path)
    conn.executescript(old)
    conn.execute(
        "INSERT INTO runs (run_id, kind, method, dataset, task, protocol, status) "
        "VALUES ('old', 'run', 'chance', 'chbmit', 'detection', 'loso', 'complete')"
    )
    conn.execute("INSERT INTO folds (run_id, fold_id, status, n_test) VALUES ('old', 'chb01', 'ok', 1)")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()

    store = ResultStore(path)
    store.create_run(RunRecord("new", "scored", "hyp", "chbmit", "detection", "external", status="complete"))
    assert sorted((r.run_id, r.kind) for r in store.list_runs()) == [("new", "scored"), ("old", "run")]
    assert [f.fold_id for f in store.folds("old")] == ["chb01"]
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
