"""What the CLI's informational commands print: describe, list, splits, export, compare."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest

from benchmark import cli


@pytest.fixture(scope="module")
def chance_store(tmp_path_factory, tiny_synthetic):
    root = tmp_path_factory.mktemp("outputs")
    store = root / "r.sqlite"
    rc = cli.main(
        [
            "--store",
            str(store),
            "run",
            "--method",
            "chance",
            "--dataset",
            "chbmit-synthetic",
            "--data-dir",
            str(tiny_synthetic),
            "--splits-dir",
            str(root / "splits"),
            "--cache-dir",
            str(root / "cache"),
            "--no-progress",
        ]
    )
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
    args = [
        "splits",
        "freeze",
        "--dataset",
        "chbmit-synthetic",
        "--data-dir",
        str(tiny_synthetic),
        "--splits-dir",
        str(tmp_path),
        "--task",
        "prediction",
        "--protocol",
        "loso",
        "--sop",
        "10",
    ]
    assert cli.main(args) == 0
    assert (tmp_path / "chbmit-synthetic" / "prediction-sop10-sph0-gap4h-loso.json").exists()
    assert (
        cli.main(
            [
                "splits",
                "verify",
                "--dataset",
                "chbmit-synthetic",
                "--data-dir",
                str(tiny_synthetic),
                "--splits-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert "1 ok, 0 failed" in capsys.readouterr().out


def test_results_export_csv_and_json(chance_store, capsys):
    assert cli.main(["--store", str(chance_store), "results", "export", "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert set(df["patient"]) == {"chb01", "chb02"} and "sensitivity" in set(df["metric"])
    assert df["synthetic"].all() and df["value"].dtype == float
    assert cli.main(["--store", str(chance_store), "results", "export", "--format", "csv", "--what", "summary"]) == 0
    summary = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("metric")
    assert summary.loc["accuracy", "mean"] == pytest.approx(df.loc[df["metric"] == "accuracy", "value"].mean())
    assert cli.main(["--store", str(chance_store), "results", "export", "--format", "json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert runs[0]["synthetic"] is True and set(runs[0]["per_patient"]) == {"chb01", "chb02"}
    per_patient = [v["accuracy"] for v in runs[0]["per_patient"].values()]
    assert runs[0]["summary"]["accuracy"]["mean"] == pytest.approx(sum(per_patient) / len(per_patient))


def test_item13_export_of_a_real_run_carries_its_provenance(chance_store, capsys):
    from benchmark.store import ResultStore

    rec = ResultStore(chance_store).list_runs(kind="run")[0]
    assert cli.main(["--store", str(chance_store), "results", "export", "--run", rec.run_id, "--format", "json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["provenance"] == rec.provenance and run["method_version"] == rec.method_version
    assert run["provenance"]["versions"]["numpy"] and run["provenance"]["weights_source"]
    assert cli.main(["--store", str(chance_store), "results", "export", "--run", rec.run_id]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert set(df["provenance.versions.numpy"]) == {rec.provenance["versions"]["numpy"]}
    assert set(df["provenance.weights_source"]) == {rec.provenance["weights_source"]}
    assert set(df["task_params.sop_minutes"]) == {rec.task_params["sop_minutes"]}
    assert set(df["split_hash"]) == {rec.split_hash} and set(df["seed"]) == {rec.seed}


def test_compare_json_has_the_paired_statistics(chance_store, tmp_path, capsys):
    csv = tmp_path / "paper.csv"
    csv.write_text("patient,accuracy,sensitivity\nchb01,0.9,0.8\nchb02,0.7,0.6\n")
    assert (
        cli.main(
            [
                "--store",
                str(chance_store),
                "import-reported",
                str(csv),
                "--name",
                "Paper X",
                "--dataset",
                "chbmit-synthetic",
                "--task",
                "prediction",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert cli.main(["--store", str(chance_store), "results", "export", "--format", "json"]) == 0
    chance = next(r["run_id"] for r in json.loads(capsys.readouterr().out) if r["kind"] == "run")
    assert cli.main(["--store", str(chance_store), "compare", chance, "Paper X", "--metric", "accuracy", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert {"n", "mean_a", "mean_b", "t", "p_value", "wilcoxon_p"} <= set(res)
    assert res["n"] == 2 and res["mean_b"] == pytest.approx(0.8)


# -- items 3 and 6: results list/export and the run summary show isolation and the status as shown --
def _stale_and_isolated(path):
    """A store with a trusted complete run, an isolated one and a `running` run whose process is long gone."""
    from benchmark.store import ResultStore, RunRecord

    patients = pd.DataFrame({"accuracy": [0.5, 0.7]}, index=pd.Index(["chb01", "chb02"], name="patient"))
    with ResultStore(path) as store:
        for run_id, method, dataset, status, prov in [
            ("run-trusted", "chance", "chbmit-synthetic", "complete", {"isolation": "trusted"}),
            ("run-isolated", "eegnet", "chbmit-synthetic", "complete", {"isolation": "isolated"}),
            (
                "run-stale",
                "eegnet",
                "tusz-synthetic",
                "running",
                {
                    "isolation": "isolated",
                    "process": {"host": "gone-host", "pid": 1, "heartbeat": "2020-01-01T00:00:00+00:00"},
                },
            ),
        ]:
            store.create_run(
                RunRecord(
                    run_id,
                    "run",
                    method,
                    dataset,
                    "prediction",
                    "loocv",
                    status=status,
                    synthetic=True,
                    provenance=prov,
                )
            )
            store.save_patient_metrics(run_id, patients)


def _listed(capsys, store, *extra) -> dict[str, list[str]]:
    capsys.readouterr()
    assert cli.main(["--store", str(store), "results", "list", *extra]) == 0
    lines = capsys.readouterr().out.splitlines()
    if not lines:
        return {}
    assert lines[0].split() == ["run", "score", "status", "isolation", "data"]
    return {line.split()[0]: line.split() for line in lines[1:]}


def test_item03_results_list_shows_isolation_and_filters(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    _stale_and_isolated(store)
    rows = _listed(capsys, store)
    assert rows["run-trusted"][3] == "trusted" and rows["run-isolated"][3] == "isolated"
    assert rows["run-trusted"][4] == "synthetic"
    assert set(_listed(capsys, store, "--method", "eegnet")) == {"run-isolated", "run-stale"}
    assert set(_listed(capsys, store, "--dataset", "tusz-synthetic")) == {"run-stale"}
    # --status filters on the status as shown: the stale running run is interrupted.
    assert set(_listed(capsys, store, "--status", "interrupted")) == {"run-stale"}
    assert set(_listed(capsys, store, "--status", "running")) == set()
    assert set(_listed(capsys, store, "--method", "eegnet", "--status", "complete")) == {"run-isolated"}
    assert cli.main(["--store", str(store), "results", "list", "--status", "done"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown --status 'done'" in err and "complete" in err and "\n" not in err


# -- results list: runs first with the score their board ranks them by, filters, short lines --
def _scored_store(path):
    """Two EEG runs, a video run and a reported set (created first), each with a stored summary."""
    from benchmark.metrics import summarize
    from benchmark.store import ResultStore, RunRecord

    sets = [
        ("reported-paper-x-1234abcd", "reported", "Paper X", "chbmit", "prediction", {"accuracy": [0.8, 0.9]}),
        (
            "eegnet-chbmit-synthetic-prediction-loocv-0123456789ab",
            "run",
            "eegnet",
            "chbmit-synthetic",
            "prediction",
            {"accuracy": [0.9, 0.9], "balanced_accuracy": [0.6, 0.7], "roc_auc": [0.8, 0.8]},
        ),
        (
            "chance-chbmit-synthetic-prediction-loocv-ba9876543210",
            "run",
            "chance",
            "chbmit-synthetic",
            "prediction",
            {"balanced_accuracy": [0.5, 0.5]},
        ),
        (
            "i3d_lstm-video-synthetic-classification-loso-abcdefabcdef",
            "run",
            "i3d_lstm",
            "video-synthetic",
            "classification",
            {"video_sensitivity": [1.0, 0.6], "video_specificity": [0.2, 0.2], "video_accuracy": [0.9, 0.9]},
        ),
    ]
    with ResultStore(path) as store:
        for i, (run_id, kind, method, dataset, task, metrics) in enumerate(sets):
            store.create_run(
                RunRecord(
                    run_id,
                    kind,
                    method if kind == "run" else "reported",
                    dataset,
                    task,
                    "loocv" if task == "prediction" else "loso",
                    status="complete" if kind == "run" else "reported",
                    synthetic=kind == "run",
                    display_name="" if kind == "run" else method,
                    created_at=f"2026-01-0{i + 1}T00:00:00+00:00",
                    provenance={"isolation": "isolated"} if kind == "run" else {},
                )
            )
            table = pd.DataFrame(metrics, index=pd.Index(["p1", "p2"], name="patient"))
            store.save_patient_metrics(run_id, table)
            store.save_summary(run_id, summarize(table))
    return [s[0] for s in sets]


def _list(capsys, store, *extra) -> tuple[list[str], str]:
    capsys.readouterr()
    assert cli.main(["--store", str(store), "results", "list", *extra]) == 0
    captured = capsys.readouterr()
    return captured.out.splitlines(), captured.err


def test_results_list_shows_runs_with_the_boards_ranking_score_and_counts_reported_sets(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    reported, eegnet, chance, video = _scored_store(store)
    lines, err = _list(capsys, store)
    assert f"store: {store.resolve()}" in err
    assert "1 reported set from papers not listed: add --kind reported" in err
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert list(rows) == [eegnet, chance, video]  # the reported set, though stored first, is not listed
    # The board's ranking metric (balanced accuracy), not the first stored one (accuracy) ...
    assert rows[eegnet][1] == "balanced_accuracy=0.650" and rows[chance][1] == "balanced_accuracy=0.500"
    # ... and for video the class-balanced mean the board derives: ((1.0 + 0.6) / 2 + 0.2) / 2.
    assert rows[video][1] == "video_class_balanced_accuracy=0.500"
    eeg, _ = _list(capsys, store, "--dataset", "chbmit-synthetic")
    assert len(eeg) == 3 and all(len(line) <= 120 for line in eeg)


def test_results_list_kind_all_puts_runs_before_reported_sets(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    reported, eegnet, chance, video = _scored_store(store)
    lines, err = _list(capsys, store, "--kind", "all")
    blank = lines.index("")
    assert [line.split()[0] for line in lines[1:blank]] == [eegnet, chance, video]
    assert lines[blank + 1].startswith("reported set") and lines[blank + 2].split()[0] == reported
    # A paper's table without balanced accuracy is scored by what it has; it stays labelled real data.
    assert lines[blank + 2].split()[-2:] == ["accuracy=0.850", "real"]
    assert "not listed" not in err
    only, _ = _list(capsys, store, "--kind", "reported")
    assert [line.split()[0] for line in only[1:]] == [reported]


def test_results_list_filters_ignore_case_and_say_when_nothing_matches(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    reported, eegnet, chance, video = _scored_store(store)
    assert [line.split()[0] for line in _list(capsys, store, "--method", "EEGNet")[0][1:]] == [eegnet]
    assert [line.split()[0] for line in _list(capsys, store, "--dataset", "VIDEO-synthetic")[0][1:]] == [video]
    lines, err = _list(capsys, store, "--method", "paper x")
    assert lines == [] and "no runs match --method paper x." in err and "1 reported set" in err
    assert _list(capsys, store, "--method", "paper x", "--kind", "reported")[0][1].split()[0] == reported
    assert [line.split()[0] for line in _list(capsys, store, "--status", "reported")[0][1:]] == [reported]
    assert cli.main(["--store", str(store), "results", "list", "--kind", "runs"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown --kind 'runs'" in err and "run, reported, all" in err and "\n" not in err


def test_item06_results_export_shows_the_status_as_shown(tmp_path, capsys):
    store = tmp_path / "r.sqlite"
    _stale_and_isolated(store)
    capsys.readouterr()
    assert cli.main(["--store", str(store), "results", "export", "--format", "json"]) == 0
    runs = {r["run_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert runs["run-stale"]["status"] == "interrupted" and runs["run-trusted"]["status"] == "complete"
    assert runs["run-isolated"]["isolation"] == "isolated" and runs["run-trusted"]["isolation"] == "trusted"
    assert cli.main(["--store", str(store), "results", "export", "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert set(df.loc[df["run_id"] == "run-stale", "status"]) == {"interrupted"}
    assert set(df.loc[df["run_id"] == "run-isolated", "isolation"]) == {"isolated"}


def test_item03_run_summary_says_isolated_or_trusted(chance_store, tmp_path, capsys):
    from benchmark.store import ResultStore

    rec = ResultStore(chance_store).list_runs(kind="run")[0]
    cli._print_run_summary(chance_store, rec)  # what `run` prints at its end
    out = capsys.readouterr().out
    assert "isolation: trusted" in out  # the test suite runs folds in-process
    store = tmp_path / "r.sqlite"
    _stale_and_isolated(store)
    cli._print_run_summary(store, ResultStore(store).get_run("run-isolated"))
    assert "isolation: isolated" in capsys.readouterr().out


# -- help -------------------------------------------------------------------------------------------
def test_every_option_of_every_subcommand_has_help():
    import argparse

    for parser in cli._subparsers(cli.build_parser()):
        parser.format_help()  # help read from the registries is made here
        for action in parser._actions:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, f"{parser.prog} {'/'.join(action.option_strings) or action.dest} has no help"


def test_run_help_lists_the_choices_without_importing_torch():
    import subprocess
    import sys

    from benchmark.adapters import REGISTRY
    from benchmark.datasets import DATASETS
    from benchmark.protocols import all_protocols
    from benchmark.tasks import task_names

    code = (
        "import contextlib, io, sys\n"
        "from benchmark.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    main(['run', '--help'])\n"
        "print(' '.join(out.getvalue().split()))\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    text, torch_loaded = done.stdout.strip().splitlines()
    assert torch_loaded == "False"
    options = re.split(r" (?=--[a-z])", text.partition(" options: ")[2])
    help_of = {o.split()[0]: o for o in options}
    # The formatter may break a long name at a hyphen: compare without the spaces it adds.
    assert all(n in help_of["--method"].replace(" ", "") for n in REGISTRY.in_tree_names())
    assert all(n in help_of["--dataset"].replace(" ", "") for n in DATASETS)
    assert all(n in help_of["--task"] for n in task_names())
    assert all(p.name in help_of["--protocol"] for p in all_protocols())
    assert "smoke" in help_of["--budget"] and "paper" in help_of["--budget"]
    for option in ("--seed", "--data-dir", "--no-progress", "--splits-dir", "--cache-dir"):
        assert len(help_of[option].split()) > 3, f"{option} has no help text"


def test_compare_help_documents_its_arguments(capsys):
    from benchmark.metrics import METRICS

    with pytest.raises(SystemExit):
        cli.main(["compare", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "first result set: a run id, a unique prefix of one, or a reported set's name" in text
    assert "second result set" in text and "machine-readable output" in text
    assert all(m in text for m in METRICS)
