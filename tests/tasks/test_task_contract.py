"""Adding a task or a protocol is one class: a toy task and a toy protocol, registered here and
nowhere else, run end to end through ``plan``, ``run``, ``splits freeze`` and ``report`` (the CLI)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest

from baselines.chance import ChanceAdapter
from benchmark import cli
from benchmark.adapters import REGISTRY, MethodMeta
from benchmark.errors import BenchmarkError, SplitError
from benchmark.index import Exclusion
from benchmark.protocols import LeaveOneSubjectOut, Protocol, get_protocol, register_protocol, unregister_protocol
from benchmark.store import ResultStore
from benchmark.tasks import (
    BY_OVERLAP,
    Segment,
    Task,
    TaskLabels,
    TaskMetadata,
    TaskOption,
    Unit,
    get_task,
    register_task,
    unregister_task,
)

TOY = "toy-early-ictal"


@dataclass(frozen=True)
class EarlyIctalParams:
    seed: int = 0
    lead_s: float = 30.0  # only this much EEG before each recording's end is used

    def label(self) -> str:
        return f"toy early-ictal ({self.lead_s:g} s)"

    def slug(self) -> str:
        return f"lead{self.lead_s:g}"


class EarlyIctal(Task):
    """Ictal vs non-ictal windows of the seizure recordings only, with 2-s windows."""

    metadata = TaskMetadata(
        name=TOY,
        description="toy: ictal windows of seizure recordings",
        classes=("calm", "ictal"),
        window_s=2.0,
        ranking_metrics=("roc_auc",),
        summary_metrics=("roc_auc", "accuracy"),
        claim="toy early-ictal detection on real EEG",
    )
    params_cls = EarlyIctalParams
    options = (TaskOption("--lead-s", "lead_s", float, "S", "toy: seconds of EEG kept per recording"),)

    def check_params(self, params):
        if params.lead_s <= 0:
            raise BenchmarkError("--lead-s must be positive.")

    def labels(self, index, params) -> TaskLabels:
        units, excl = [], []
        for patient in index.patients:
            for r in patient.recordings:
                if not r.seizures:
                    excl.append(Exclusion("recording", patient.patient_id, "no seizure", r.recording_id))
                    continue
                units.append(
                    Unit(
                        f"{patient.patient_id}/{r.recording_id}",
                        patient.patient_id,
                        patient.group,
                        (Segment(patient.patient_id, r.recording_id, 0.0, float(r.duration), BY_OVERLAP),),
                        "recording",
                        1,
                    )
                )
        return TaskLabels(TOY, params, self.metadata.classes, units, excl)


class LeaveOnePatientOutNamed(Protocol):
    """Toy protocol: leave one subject out, folds named ``out-<subject>``."""

    name = "toy-out"
    description = "toy: leave one subject out with named folds"
    cross_patient = True

    def splitter(self, seed=0):
        return LeaveOneSubjectOut()

    def fold_name(self, test_units, k):
        return f"out-{test_units[0].group}", test_units[0].patient


class ToyChance(ChanceAdapter):
    meta = MethodMeta(
        name="toy-chance",
        modality="eeg",
        tasks=(TOY,),
        representation="bandpower",
        budgets={"smoke": {}, "paper": {}},
        version="1",
        citation="test",
        description="chance on the toy task",
        is_baseline=True,
    )


@pytest.fixture
def toy_registered():
    register_task(EarlyIctal)
    register_protocol(LeaveOnePatientOutNamed)
    REGISTRY.add(ToyChance)
    yield
    unregister_task(TOY)
    unregister_protocol("toy-out")
    REGISTRY._methods.pop("toy-chance", None)
    REGISTRY._origin.pop("toy-chance", None)


def test_toy_task_and_protocol_run_end_to_end_through_plan_run_freeze_and_report(
    toy_registered, tiny_synthetic, tmp_path, capsys
):
    common = ["--store", str(tmp_path / "r.sqlite")]
    run = [
        "--method",
        "toy-chance",
        "--dataset",
        "chbmit-synthetic",
        "--data-dir",
        str(tiny_synthetic),
        "--task",
        TOY,
        "--protocol",
        "toy-out",
        "--lead-s",
        "20",
        "--splits-dir",
        str(tmp_path / "splits"),
    ]
    assert cli.main([*common, "plan", *run, "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["task"] == TOY and plan["window_s"] == 2.0 and plan["classes"] == ["calm", "ictal"]
    assert {f["fold_id"] for f in plan["folds"]} == {"out-chb01", "out-chb02"}

    assert (
        cli.main([*common, "run", *run, "--cache-dir", str(tmp_path / "cache"), "--no-progress", "--threads", "1"]) == 0
    )
    out = capsys.readouterr().out
    assert "roc_auc" in out and "complete" in out
    store = ResultStore(tmp_path / "r.sqlite")
    (rec,) = store.list_runs()
    assert rec.task == TOY and rec.protocol == "toy-out" and rec.status == "complete"
    assert rec.task_params["lead_s"] == 20 and rec.task_params["window_s"] == 2.0
    assert {f.fold_id for f in store.folds(rec.run_id)} == {"out-chb01", "out-chb02"}
    assert rec.leakage["checks"] == ["overlapping windows", "units", "recordings", "patients", "subjects"]
    assert set(store.patient_metrics(rec.run_id).index) == {"chb01", "chb02"}

    assert (
        cli.main(
            [
                "splits",
                "freeze",
                "--dataset",
                "chbmit-synthetic",
                "--data-dir",
                str(tiny_synthetic),
                "--task",
                TOY,
                "--protocol",
                "toy-out",
                "--splits-dir",
                str(tmp_path / "frozen"),
                "--lead-s",  # the task's own option, repeatable for freezing
                "10",
                "--lead-s",
                "20",
            ]
        )
        == 0
    )
    frozen = sorted(p.name for p in (tmp_path / "frozen" / "chbmit-synthetic").iterdir())
    assert frozen == [f"{TOY}-lead10-toy-out.json", f"{TOY}-lead20-toy-out.json"]

    assert cli.main([*common, "report", "--out", str(tmp_path / "site"), "--no-bundled"]) == 0
    pages = "\n".join(p.read_text() for p in (tmp_path / "site").rglob("*.html"))
    assert TOY in pages and "toy early-ictal detection on real EEG" in pages  # the synthetic banner's claim


def test_an_option_of_another_task_is_refused_naming_its_task(toy_registered):
    args = cli.build_parser().parse_args(
        ["plan", "--method", "chance", "--dataset", "chbmit-synthetic", "--lead-s", "5"]
    )
    with pytest.raises(BenchmarkError, match=f"--lead-s applies to the {TOY} task only"):
        cli._task_params(args)


def test_task_registry_refuses_a_second_class_of_one_name(toy_registered):
    class Other(EarlyIctal):
        pass

    with pytest.raises(BenchmarkError, match="registered twice"):
        register_task(Other)
    assert type(get_task(TOY)) is EarlyIctal


def test_protocol_is_valid_refuses_before_any_split():
    with pytest.raises(SplitError, match="a video's clips must stay together"):
        get_protocol("kfold5-random-balanced").check("classification")
    assert get_protocol("kfold5-random").is_valid("classification") is None


def test_unknown_task_and_protocol_names_suggest_close_ones():
    with pytest.raises(BenchmarkError, match="unknown task 'detektion'.*detection"):
        get_task("detektion")
    with pytest.raises(BenchmarkError, match="unknown protocol 'lososs'.*loso"):
        get_protocol("lososs")


def test_every_protocol_says_leaky_in_its_description_exactly_when_it_is_leaky():
    from benchmark.protocols import all_protocols

    for proto in all_protocols():
        assert ("LEAKY" in proto.description) == proto.leaky, proto.name
        assert proto.leakage_checks()[0] == "overlapping windows"
        assert np.all([isinstance(c, str) for c in proto.leakage_checks()])


def test_a_boards_suggested_command_carries_the_toy_tasks_own_option(toy_registered):
    from benchmark.report.leaderboard import Leaderboard

    board = Leaderboard(
        dataset="chbmit-synthetic",
        task=TOY,
        protocol="toy-out",
        task_params={"lead_s": 20.0, "window_s": 2.0, "seed": 0},
        slug="x",
        entries=[],
        metrics=[],
        primary="",
        baselines=[],
    )
    words = board.baselines_command.split()
    assert words[words.index("--lead-s") + 1] == "20" and words[words.index("--window") + 1] == "2"
    assert words[words.index("--task") + 1] == TOY and words[words.index("--protocol") + 1] == "toy-out"


class LeakyProtocol(Protocol):
    """A broken toy protocol: every fold tests on a unit it also trains on."""

    name = "toy-leaky"
    description = "toy: leaks on purpose"

    def folds(self, units, seed=0):
        from benchmark.protocols import Fold

        ids = [u.unit_id for u in units]
        return [Fold("all", ids, ids[:1])]


def test_a_protocol_whose_folds_leak_is_refused_before_any_file_or_run(
    toy_registered, tiny_synthetic, tmp_path, capsys
):
    register_protocol(LeakyProtocol)
    try:
        args = [
            "--method",
            "chance",
            "--dataset",
            "chbmit-synthetic",
            "--data-dir",
            str(tiny_synthetic),
            "--task",
            "detection",
            "--protocol",
            "toy-leaky",
            "--splits-dir",
            str(tmp_path / "splits"),
        ]
        rc = cli.main(["--store", str(tmp_path / "r.sqlite"), "plan", *args, "--cache-dir", str(tmp_path / "c")])
        err = capsys.readouterr().err.strip()
        assert rc != 0 and len(err.splitlines()) == 1
        assert "protocol toy-leaky gives folds that leak (fold all: unit" in err and "fix its splitter" in err
        assert (
            cli.main(
                [
                    "splits",
                    "freeze",
                    "--dataset",
                    "chbmit-synthetic",
                    "--data-dir",
                    str(tiny_synthetic),
                    "--task",
                    "detection",
                    "--protocol",
                    "toy-leaky",
                    "--splits-dir",
                    str(tmp_path / "f"),
                ]
            )
            != 0
        )
        assert not (tmp_path / "f").exists() or not any((tmp_path / "f").rglob("*.json"))
    finally:
        unregister_protocol("toy-leaky")
