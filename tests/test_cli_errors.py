"""Error paths of the ``seizure-bench`` command line.

Every user error must end the command with a non-zero exit code and exactly one line on stderr that
says what was wrong and how to fix it -- never a traceback -- and must leave the results store as it
was. The store used here already holds a finished run and a reported result set before each failing
command, and its full SQL dump is compared before and after.

Data are a tiny SYNTHETIC CHB-MIT-shaped dataset (2 patients, 2 lead seizures each), generated once
per module; broken variants are copies of it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import edfio
import pytest
from conftest import tiny_config

from benchmark import cli
from benchmark.datasets import load_dataset
from benchmark.datasets.synthetic import SyntheticConfig, generate
from benchmark.store import ResultStore

TINY = tiny_config()
ERROR_PREFIX = "seizure-bench: error: "
SUBCOMMANDS = (
    "list",
    "data",
    "splits",
    "run",
    "results",
    "report",
    "import-reported",
    "import-bundled",
    "compare",
    "check-adapter",
    "reproduce",
    "plan",
    "score",
)
VALID_REPORTED = "patient,sensitivity,specificity,accuracy\nchb01,0.8,0.9,0.85\nchb02,0.6,0.7,0.65\n"


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny(tiny_synthetic) -> Path:
    """The tiny synthetic dataset (seed 0), shared by the session: tests copy it before changing it."""
    return tiny_synthetic


@pytest.fixture(scope="module")
def other_version(tmp_path_factory) -> Path:
    """The same layout generated with another seed: another version of the dataset."""
    return generate(tmp_path_factory.mktemp("tiny-seed1") / "ds", SyntheticConfig(**{**vars(TINY), "seed": 1}))


@pytest.fixture(scope="module")
def seeded_store(tmp_path_factory, tiny) -> Path:
    """A store with one finished ``chance`` run on ``tiny`` and one reported result set."""
    root = tmp_path_factory.mktemp("seeded")
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
            str(tiny),
            "--splits-dir",
            str(root / "splits"),
            "--cache-dir",
            str(root / "cache"),
            "--no-progress",
        ]
    )
    assert rc == 0
    csv = root / "paper.csv"
    csv.write_text(VALID_REPORTED)
    rc = cli.main(
        [
            "--store",
            str(store),
            "import-reported",
            str(csv),
            "--name",
            "paper-x",
            "--dataset",
            "chbmit-synthetic",
            "--task",
            "prediction",
        ]
    )
    assert rc == 0
    return store


def _dump(store: Path) -> list[str]:
    conn = sqlite3.connect(store)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


class Cli:
    """Calls ``benchmark.cli.main`` in-process against a private copy of the seeded store."""

    def __init__(self, tmp: Path, store: Path, capsys):
        self.tmp, self.store, self.capsys = tmp, store, capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        rc = cli.main(["--store", str(self.store), *map(str, argv)])
        out, err = self.capsys.readouterr()
        return rc, out, err

    def run_args(self, data_dir: Path, *extra: str, dataset: str = "chbmit-synthetic", splits: Path | None = None):
        return (
            "run",
            "--dataset",
            dataset,
            "--data-dir",
            str(data_dir),
            "--splits-dir",
            str(splits or self.tmp / "splits"),
            "--cache-dir",
            str(self.tmp / "cache"),
            "--no-progress",
            *extra,
        )

    def fails(self, *argv: str, expect: tuple[str, ...]) -> str:
        """Run a command that must fail as a user error; return its error line."""
        before = _dump(self.store)
        rc, _, err = self(*argv)
        line = assert_one_error_line(rc, err)
        for fragment in expect:
            assert fragment in line, f"{fragment!r} not in {line!r}"
        assert _dump(self.store) == before, "a failed command changed the results store"
        return line


@pytest.fixture
def sb(tmp_path, seeded_store, capsys) -> Cli:
    store = tmp_path / "r.sqlite"
    src, dst = sqlite3.connect(seeded_store), sqlite3.connect(store)
    try:
        src.backup(dst)  # consistent copy even while the source is in WAL mode
    finally:
        src.close()
        dst.close()
    runs = ResultStore(store).list_runs()
    assert {r.kind for r in runs} == {"run", "reported"}
    return Cli(tmp_path, store, capsys)


def assert_one_error_line(rc: int, err: str) -> str:
    assert rc != 0
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith(ERROR_PREFIX)
    return lines[0]


def _copy(dataset: Path, tmp: Path) -> Path:
    dst = tmp / "copy"
    shutil.copytree(dataset, dst)
    return dst


def _seizure_edf(dataset: Path) -> Path:
    """An EDF file the prediction split reads (a recording with a seizure)."""
    first = (dataset / "RECORDS-WITH-SEIZURES").read_text().split()[0]
    return dataset / first


# -- help -----------------------------------------------------------------------------------------
def test_top_level_help_lists_every_subcommand(capsys):
    assert set(cli.COMMANDS) == set(SUBCOMMANDS)
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert re.search(rf"^\s+{re.escape(name)}\s", out, re.MULTILINE), f"'{name}' missing from --help"


@pytest.mark.parametrize(
    "path",
    [(c,) for c in SUBCOMMANDS]
    + [
        ("data", "describe"),
        ("data", "generate"),
        ("splits", "freeze"),
        ("splits", "verify"),
        ("results", "list"),
        ("results", "export"),
    ],
    ids=" ".join,
)
def test_subcommand_help(path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([*path, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: seizure-bench {' '.join(path)}")


# -- unknown names --------------------------------------------------------------------------------
def test_unknown_method_suggests_close_name_and_lists_the_valid_ones(sb, tiny):
    from benchmark.adapters import REGISTRY

    line = sb.fails(
        *sb.run_args(tiny, "--method", "chanse"),
        expect=("unknown method 'chanse'", "Did you mean 'chance'?", "seizure-bench list methods", "Known: "),
    )
    assert all(name in line for name in REGISTRY.in_tree_names())


def test_method_names_match_ignoring_case_where_unambiguous():
    from benchmark.adapters import REGISTRY, MethodMeta, Registry
    from benchmark.errors import UnknownNameError

    assert REGISTRY.resolve_name("EEGNet") == "eegnet" and REGISTRY.get("EEGNet") is REGISTRY.get("eegnet")
    assert REGISTRY.has("CHANCE") and REGISTRY.meta("Chance").name == "chance"
    args = cli.build_parser().parse_args(["run", "--method", "EEGNet", "--dataset", "chbmit-synthetic"])
    args.store = Path("unused.sqlite")
    assert cli.run_config(args).method == "eegnet"  # one spelling in the run id and on the boards

    def meta(name: str) -> MethodMeta:
        return MethodMeta(name, "eeg", ("detection",), "raw", {"smoke": {}, "paper": {}})

    reg = Registry()
    reg._load_builtin = lambda: None  # only what the test declares
    reg._entry_points = {}
    reg.declare(meta("demo"), "json", "Demo")
    reg.declare(meta("solo_Net"), "json", "Solo")
    assert reg.resolve_name("SOLO_net") == "solo_Net" and reg.resolve_name("DEMO") == "demo"
    # A name that differs from a registered one only in case would take it over: refused.
    with pytest.raises(ValueError, match="differs from the registered 'demo' only in case"):
        reg.declare(meta("Demo"), "json", "Demo2")
    # An installed plug-in can still bring one: it is ignored (logged), and both spellings stay the
    # registered method's, so a plug-in can neither take over nor disable it (e.g. the chance baseline).
    reg._entry_points = {"Demo": object(), "other": object(), "OTHER": object()}
    assert reg.known_names() == ["OTHER", "demo", "other", "solo_Net"]
    assert reg.resolve_name("demo") == "demo" and reg.resolve_name("Demo") == "demo"
    # Two plug-ins differing only in case: neither spelling that is not exact is safe, in one line.
    assert reg.resolve_name("other") == "other"
    with pytest.raises(UnknownNameError, match="'OTHER' and 'other' differ only in case"):
        reg.resolve_name("Other")


def test_unknown_dataset(sb, tiny):
    sb.fails(
        "run",
        "--method",
        "chance",
        "--dataset",
        "chbmit-synth",
        "--data-dir",
        tiny,
        expect=("unknown dataset 'chbmit-synth'", "Did you mean 'chbmit-synthetic'?", "chbmit, "),
    )


def test_video_options_outside_video_classification(sb, tiny):
    sb.fails(
        "run",
        "--method",
        "chance",
        "--dataset",
        "chbmit-synthetic",
        "--data-dir",
        str(tiny),
        "--task",
        "detection",
        "--target",
        "focus",
        expect=("--target applies to the classification task only",),
    )
    sb.fails(
        "run",
        "--method",
        "i3d_lstm",
        "--dataset",
        "chbmit-synthetic",
        "--data-dir",
        str(tiny),
        "--task",
        "classification",
        expect=("method 'i3d_lstm' takes video but dataset 'chbmit-synthetic' is eeg",),
    )
    sb.fails(
        "plan",
        "--method",
        "i3d_lstm",
        "--dataset",
        "chbmit-synthetic",
        "--data-dir",
        str(tiny),
        "--task",
        "classification",
        "--sop",
        "10",
        expect=("--sop applies to the prediction task only",),
    )


@pytest.mark.parametrize(
    "option, value, expect",
    [
        ("--protocol", "losso", ("--protocol: invalid value 'losso'", "(did you mean 'loso'?)", "kfold5-random")),
        ("--task", "predicton", ("--task: invalid value 'predicton'", "(did you mean 'prediction'?)", "detection")),
        ("--budget", "smok", ("--budget: invalid value 'smok'", "(did you mean 'smoke'?)", "smoke, paper")),
        ("--budget", "full", ("--budget: invalid value 'full'", "choose one of: smoke, paper")),
    ],
)
@pytest.mark.parametrize("command", ["run", "plan"])
def test_unknown_task_protocol_or_budget_names_the_choices(capsys, command, option, value, expect):
    line = _usage_error(capsys, command, "--method", "chance", "--dataset", "chbmit-synthetic", option, value)
    for fragment in (*expect, f"see `seizure-bench {command} --help`"):
        assert fragment in line, f"{fragment!r} not in {line!r}"


def test_reproduce_and_check_adapter_refuse_an_unknown_budget_with_a_suggestion(capsys):
    for argv in (("reproduce", "lee2024", "--budget", "papr"), ("check-adapter", "chance", "--budget", "papr")):
        assert "(did you mean 'paper'?)" in _usage_error(capsys, *argv)


def test_malformed_set(sb, tiny):
    sb.fails(*sb.run_args(tiny, "--method", "chance", "--set", "lr0.1"), expect=("--set expects KEY=VALUE", "'lr0.1'"))


# -- data directories -----------------------------------------------------------------------------
def test_missing_data_directory_says_where_and_how_to_get_data(sb, tmp_path):
    missing = tmp_path / "no-such-chbmit"
    sb.fails(
        *sb.run_args(missing, "--method", "chance", dataset="chbmit"),
        expect=(str(missing), "does not exist", "physionet.org/content/chbmit", "chbmit-synthetic"),
    )
    assert not missing.exists()


def test_data_dir_not_given_for_a_dataset_that_needs_one(sb):
    sb.fails("run", "--method", "chance", "--dataset", "chbmit", expect=("needs its data folder", "--data-dir"))


def test_data_dir_without_summaries(sb, tmp_path):
    empty = tmp_path / "empty"
    (empty / "chb01").mkdir(parents=True)
    sb.fails(
        *sb.run_args(empty, "--method", "chance", dataset="chbmit"),
        expect=("no chbNN/chbNN-summary.txt found under", str(empty), "physionet.org"),
    )


def test_synthetic_data_dir_holding_other_files_is_not_overwritten(sb, tmp_path):
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    sb.fails(*sb.run_args(other, "--method", "chance"), expect=(str(other), "other files", "another folder"))
    assert [p.name for p in other.iterdir()] == ["notes.txt"]


# -- broken EDF files -----------------------------------------------------------------------------
def test_unreadable_edf(sb, tiny, tmp_path):
    data = _copy(tiny, tmp_path)
    edf = _seizure_edf(data)
    edf.write_bytes(b"this is not an EDF file\n" * 400)
    sb.fails(*sb.run_args(data, "--method", "chance"), expect=(str(edf), "not an EDF file", "re-download"))


def test_truncated_edf(sb, tiny, tmp_path):
    data = _copy(tiny, tmp_path)
    edf = _seizure_edf(data)
    blob = edf.read_bytes()
    edf.write_bytes(blob[: len(blob) // 2])
    sb.fails(*sb.run_args(data, "--method", "chance"), expect=(str(edf), "truncated", "re-download"))


def test_edf_missing_a_channel_the_summary_lists(sb, tiny, tmp_path):
    data = _copy(tiny, tmp_path)
    edf_path = _seizure_edf(data)
    edf = edfio.read_edf(edf_path)
    edf.drop_signals(["FZ-CZ"])
    edf.write(edf_path)
    assert "FZ-CZ" in (edf_path.parent / f"{edf_path.parent.name}-summary.txt").read_text()
    sb.fails(*sb.run_args(data, "--method", "chance"), expect=(str(edf_path), "lacks channel(s) FZ-CZ", "re-download"))


def test_edf_missing_when_windows_are_read(sb, tiny, tmp_path):
    # Read as plain CHB-MIT, an absent EDF is allowed when loading (summaries define the index); the
    # run checks the files it will read before any work (a partial download) and records nothing.
    data = _copy(tiny, tmp_path)
    edf = _seizure_edf(data)
    edf.unlink()
    sb.fails(
        *sb.run_args(data, "--method", "chance", dataset="chbmit"),
        expect=("EDF files this run reads are missing", f"{edf.parent.name}/{edf.name}", "--data-dir"),
    )


# -- split files ----------------------------------------------------------------------------------
def _freeze(sb: Cli, data: Path, splits: Path) -> list[Path]:
    rc, out, err = sb(
        "splits",
        "freeze",
        "--dataset",
        "chbmit-synthetic",
        "--data-dir",
        data,
        "--splits-dir",
        splits,
        "--task",
        "prediction",
        "--protocol",
        "loocv",
        "--sop",
        "10",
    )
    assert rc == 0, err
    files = sorted((splits / "chbmit-synthetic").glob("*.json"))
    assert files and all(f"froze {f}" in out for f in files)
    return files


def test_edited_split_file_is_refused_by_run_and_verify(sb, tiny, tmp_path):
    splits = tmp_path / "frozen"
    files = _freeze(sb, tiny, splits)
    target = splits / "chbmit-synthetic" / "prediction-sop10-sph0-gap4h-loocv.json"
    assert target in files
    doc = json.loads(target.read_text())
    unit = next(iter(doc["units"].values()))
    unit["segments"][0][2] += 10.0  # hand edit: stretch one segment, keep the recorded sha256
    target.write_text(json.dumps(doc, indent=1))

    sb.fails(
        *sb.run_args(tiny, "--method", "chance", splits=splits),
        expect=(str(target), "was modified", "sha256", "re-freeze"),
    )

    before = _dump(sb.store)
    rc, out, err = sb("splits", "verify", "--dataset", "chbmit-synthetic", "--data-dir", tiny, "--splits-dir", splits)
    line = assert_one_error_line(rc, err)
    assert "1 split file(s) failed verification" in line
    status = {
        Path(row.split()[1]).name: row.split()[0]
        for row in out.splitlines()
        if row.strip().startswith(("ok", "FAILED"))
    }
    assert status[target.name] == "FAILED"
    assert [s for name, s in status.items() if name != target.name] == ["ok"] * (len(files) - 1)
    assert _dump(sb.store) == before


def test_split_frozen_on_another_dataset_version(sb, tiny, other_version, tmp_path):
    data = tmp_path / "chbmit-synth-data"
    shutil.copytree(tiny, data)
    splits = tmp_path / "frozen"
    _freeze(sb, data, splits)
    frozen_on = load_dataset("chbmit-synthetic", tiny).content_hash()[:12]
    # Same folder name, new content: e.g. the data were regenerated or re-downloaded differently.
    shutil.rmtree(data)
    shutil.copytree(other_version, data)
    now = load_dataset("chbmit-synthetic", data).content_hash()[:12]
    assert now != frozen_on

    sb.fails(
        *sb.run_args(data, "--method", "chance", splits=splits),
        expect=(f"frozen on dataset version {frozen_on}", f"version {now}", "re-freeze"),
    )
    rc, out, err = sb("splits", "verify", "--dataset", "chbmit-synthetic", "--data-dir", data, "--splits-dir", splits)
    assert_one_error_line(rc, err)
    assert f"frozen on dataset version {frozen_on}, data is {now}" in out


# -- reported results, compare, export ------------------------------------------------------------
def test_import_reported_with_percentages(sb, tmp_path):
    csv = tmp_path / "percent.csv"
    csv.write_text("patient,sensitivity,specificity\nchb01,85.0,0.9\nchb02,70,0.8\n")
    sb.fails(
        "import-reported",
        csv,
        "--name",
        "pct",
        "--dataset",
        "chbmit",
        "--task",
        "prediction",
        expect=("percent.csv", "sensitivity of chb01 is 85", "fractions in [0, 1]", "divide them by 100"),
    )


def test_import_reported_with_unknown_metric_column(sb, tmp_path):
    csv = tmp_path / "typo.csv"
    csv.write_text("patient,sensitivty\nchb01,0.85\n")
    sb.fails(
        "import-reported",
        csv,
        "--name",
        "typo",
        "--dataset",
        "chbmit",
        "--task",
        "prediction",
        expect=("typo.csv", "unknown column 'sensitivty'", "Did you mean 'sensitivity'?", "Allowed columns"),
    )


def test_compare_unknown_result_set(sb):
    sb.fails(
        "compare",
        "paper-x",
        "no-such-set",
        "--metric",
        "accuracy",
        expect=("unknown run 'no-such-set'", str(sb.store), "`seizure-bench results list` shows all"),
    )


def test_compare_unknown_metric(sb):
    sb.fails(
        "compare",
        "paper-x",
        "paper-x",
        "--metric",
        "acuracy",
        expect=("unknown metric 'acuracy'", "Did you mean 'accuracy'?"),
    )


def test_export_unknown_run(sb):
    sb.fails(
        "results",
        "export",
        "--run",
        "chance-chbmit-synthetic-x",
        expect=("unknown run 'chance-chbmit-synthetic-x'", "Closest: 'chance-", "results list` shows all"),
    )


def test_the_seeded_store_answers_when_asked_correctly(sb):
    # Guards the error tests above: the same store and references work when the input is right.
    rc, out, _ = sb("compare", "paper-x", "paper-x", "--metric", "accuracy", "--json")
    assert rc == 0 and json.loads(out)["n"] == 2
    rc, out, _ = sb("results", "export", "--run", "chance", "--format", "json")
    assert rc == 0 and json.loads(out)[0]["synthetic"] is True


# -- as a real process ----------------------------------------------------------------------------
def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SEIZURE_BENCH_CACHE": str(tmp_path / "cache"),
        "SEIZURE_BENCH_SPLITS": str(tmp_path / "splits"),
    }


def test_no_traceback_reaches_the_user_of_the_console_script(sb, tiny, tmp_path):
    script = Path(sys.executable).with_name("seizure-bench")
    cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "benchmark.cli"]
    data = _copy(tiny, tmp_path)
    edf = _seizure_edf(data)
    edf.write_bytes(b"\0" * 300)
    before = _dump(sb.store)
    proc = subprocess.run(
        [*cmd, "--store", str(sb.store), *sb.run_args(data, "--method", "chance")],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    errors = [ln for ln in lines if ln.startswith(ERROR_PREFIX)]
    assert len(errors) == 1 and lines[-1] == errors[0]
    assert str(edf) in errors[0] and "not an EDF file" in errors[0]
    # Anything before the error line is a log record, not part of a traceback.
    assert all(re.match(r"^(DEBUG|INFO|WARNING) \S+: ", ln) for ln in lines[:-1]), proc.stderr
    assert _dump(sb.store) == before


def test_no_traceback_with_python_dash_m(sb, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "benchmark.cli", "--store", str(sb.store), "compare", "paper-x", "nope"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
    )
    assert proc.returncode == 2
    line = assert_one_error_line(proc.returncode, proc.stderr)
    assert "no result set 'nope'" in line


# -- options that are well-formed but unusable ------------------------------------------------------
@pytest.mark.parametrize(
    "extra, expect",
    [
        (("--seed", "-1"), ("--seed must be a non-negative integer",)),
        (("--jobs", "0"), ("--jobs must be at least 1",)),
        (("--threads", "0"), ("--threads must be at least 1",)),
        (("--device", "tpu"), ("unknown --device 'tpu'", "auto, cpu, cuda")),
        (("--set", "=3"), ("non-empty KEY",)),
        (("--window", "5000"), ("no 5000-s window fits", "shorter --window")),
    ],
)
def test_unusable_run_options(sb, tiny, extra, expect):
    sb.fails(*sb.run_args(tiny, "--method", "chance", *extra), expect=expect)


def test_unknown_hyper_parameter_is_refused(sb, tiny):
    sb.fails(
        *sb.run_args(tiny, "--method", "eegnet", "--set", "epoch=3"),
        expect=("no hyper-parameter(s) ['epoch']", "'epochs'"),
    )


def test_freeze_with_unknown_protocol(sb, tiny, tmp_path):
    sb.fails(
        "splits",
        "freeze",
        "--dataset",
        "chbmit-synthetic",
        "--data-dir",
        tiny,
        "--splits-dir",
        tmp_path / "s",
        "--protocol",
        "bogus",
        expect=("unknown protocol 'bogus'",),
    )
    assert not (tmp_path / "s").exists()


def test_unwritable_report_folder(sb, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    sb.fails("report", "--out", blocker / "site", expect=("check the path and its permissions",))
    sb.fails("results", "export", "--out", blocker / "x.csv", expect=("check the path and its permissions",))


# -- item 11: usage errors of every subcommand are one line ------------------------------------------
def _usage_error(capsys, *argv: str) -> str:
    """Run a command argparse must refuse; return its one error line."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        cli.main(list(argv))
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    return assert_one_error_line(2, err)


@pytest.mark.parametrize(
    "argv, expect",
    [
        (
            ("run", "--method", "chance", "--dataset", "synthetic", "--isolation", "bogus"),
            ("--isolation", "'bogus'", "auto, sandbox, none", "see `seizure-bench run --help`"),
        ),
        (
            ("run", "--method", "chance", "--dataset", "synthetic", "--fold-timeout", "abc"),
            ("--fold-timeout", "'abc' is not a number", "see `seizure-bench run --help`"),
        ),
        (
            ("run", "--method", "chance", "--dataset", "synthetic", "--isolaton", "none"),
            ("unrecognized arguments: --isolaton", "did you mean '--isolation'?", "see `seizure-bench run --help`"),
        ),
        (("rnu",), ("'rnu'", "did you mean 'run'?", "check-adapter", "see `seizure-bench --help`")),
        (
            ("results", "export", "--format", "xml"),
            ("--format", "'xml'", "csv, json", "see `seizure-bench results export --help`"),
        ),
        (
            ("data", "describe", "chbmit", "--sph", "ten"),
            ("--sph", "'ten' is not a number", "see `seizure-bench data describe --help`"),
        ),
        (
            ("reproduce", "lee2024", "--dataset", "chbmit-synthetic", "--isolation", "bogus"),
            ("--isolation", "'bogus'", "auto, sandbox, none", "see `seizure-bench reproduce --help`"),
        ),
    ],
    ids=["isolation", "fold-timeout", "misspelt-option", "subcommand", "export-format", "describe-sph", "reproduce"],
)
def test_item11_argparse_errors_are_one_line_naming_option_value_and_choices(capsys, argv, expect):
    line = _usage_error(capsys, *argv)
    for fragment in expect:
        assert fragment in line, f"{fragment!r} not in {line!r}"


def test_item11_every_subcommand_refuses_an_unknown_option_in_one_line(capsys):
    parsers = list(cli._subparsers(cli.build_parser()))
    assert len(parsers) >= len(SUBCOMMANDS) + 6  # data, splits and results have actions of their own
    for parser in parsers:
        path = parser.prog.split()[1:]
        line = _usage_error(capsys, *path, "--no-such-option")
        assert f"see `seizure-bench {' '.join(path)} --help`" in line, line


def test_item11_global_options_work_before_and_after_the_subcommand(tmp_path, capsys):
    before, after = tmp_path / "before.sqlite", tmp_path / "after.sqlite"
    ResultStore(before).close()
    capsys.readouterr()
    assert cli.main(["results", "list", "--store", str(after), "-v"]) == 0
    assert str(after) in capsys.readouterr().err  # looked for there
    # After the subcommand overrides before it.
    assert cli.main(["--store", str(before), "results", "list", "--store", str(after)]) == 0
    assert f"no results store at {after} (from --store)" in capsys.readouterr().err
    assert not after.exists()
    args = cli.build_parser().parse_args(["--store", str(before), "-v", "data", "describe", "x", "-vv"])
    assert args.store == before and args.verbose == 2
    args = cli.build_parser().parse_args(["--store", str(before), "list", "methods"])
    assert args.store == before and args.verbose == 0


def test_item11_compare_unknown_run_names_at_most_five_close_ones(tmp_path):
    from benchmark.errors import StoreError
    from benchmark.store import RunRecord

    path = tmp_path / "many.sqlite"
    with ResultStore(path) as store:
        for i in range(40):
            store.create_run(
                RunRecord(
                    f"chance-chbmit-synthetic-prediction-{i:03d}",
                    "run",
                    "chance",
                    "chbmit-synthetic",
                    "prediction",
                    "loocv",
                    status="complete",
                )
            )
        with pytest.raises(StoreError) as far:
            store.resolve("nosuch")
        with pytest.raises(StoreError) as near:
            store.resolve("chance-chbmit-synthetic-predction")
    assert "unknown run 'nosuch'" in str(far.value) and "Closest" not in str(far.value)
    assert "`seizure-bench results list` shows all" in str(far.value)
    assert "unknown run 'chance-chbmit-synthetic-predction'" in str(near.value)
    assert 1 <= str(near.value).count("'chance-chbmit-synthetic-prediction-") <= 5


def test_item11_compare_unknown_run_is_one_short_line(tmp_path, capsys):
    from benchmark.store import RunRecord

    path = tmp_path / "many.sqlite"
    with ResultStore(path) as store:
        for i in range(120):
            store.create_run(
                RunRecord(f"eegnet-chbmit-{i:03d}", "run", "eegnet", "chbmit", "prediction", "loocv", status="complete")
            )
    before = _dump(path)
    rc = cli.main(["--store", str(path), "compare", "nosuch", "other"])
    line = assert_one_error_line(rc, capsys.readouterr().err)
    assert "unknown run 'nosuch'" in line and "`seizure-bench results list` shows all" in line
    assert line.count("eegnet-chbmit-") <= 5 and len(line) < 300
    assert _dump(path) == before


def test_item11_reproduce_takes_the_execution_options_of_run(monkeypatch, capsys, tmp_path):
    def options(name: str) -> set[str]:
        parser = next(p for p in cli._subparsers(cli.build_parser()) if p.prog == f"seizure-bench {name}")
        return {o for a in parser._actions for o in a.option_strings}

    execution = {
        "--jobs",
        "--executor",
        "--scheduler",
        "--threads",
        "--device",
        "--cache-dir",
        "--no-progress",
        "--fail-fast",
        "--isolation",
        "--fold-timeout",
    }
    assert execution <= options("run") and execution <= options("reproduce")
    seen = {}

    def fake_grid(cells, **execution):
        seen.update(execution)
        return iter(())

    import benchmark.recipes

    monkeypatch.setattr(benchmark.recipes, "run_grid", fake_grid)
    monkeypatch.setattr("benchmark.reported.import_bundled", lambda *a, **k: [])
    assert (
        cli.main(
            [
                "--store",
                str(tmp_path / "r.sqlite"),
                "reproduce",
                "lee2024",
                "--dataset",
                "chbmit-synthetic",
                "--isolation",
                "none",
                "--fold-timeout",
                "30",
            ]
        )
        == 0
    )
    assert seen["isolation"] == "none" and seen["fold_timeout"] == 30.0
    capsys.readouterr()
    rc = cli.main(["reproduce", "lee2024", "--dataset", "chbmit-synthetic", "--fold-timeout", "0"])
    assert "--fold-timeout must be a positive" in assert_one_error_line(rc, capsys.readouterr().err)


# -- read-only commands and a missing store -------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [("results", "export"), ("compare", "a", "b"), ("report", "--no-bundled")],
    ids=" ".join,
)
def test_read_only_command_refuses_a_missing_store_and_creates_none(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEIZURE_BENCH_STORE", raising=False)
    rc = cli.main(list(argv))
    line = assert_one_error_line(rc, capsys.readouterr().err)
    default = tmp_path / "results" / "results.sqlite"
    assert f"no results store at {default} (the default, relative to the current folder)" in line
    assert "--store PATH or SEIZURE_BENCH_STORE=PATH" in line
    assert list(tmp_path.iterdir()) == [], "a read-only command created files"


def test_results_list_without_a_store_says_where_it_looked_and_creates_none(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEIZURE_BENCH_STORE", "elsewhere/r.sqlite")
    assert cli.main(["results", "list"]) == 0  # nothing stored is no error for a listing
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert f"no results store at {tmp_path / 'elsewhere' / 'r.sqlite'} (from $SEIZURE_BENCH_STORE)" in err
    assert list(tmp_path.iterdir()) == []
