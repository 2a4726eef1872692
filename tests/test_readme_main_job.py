"""The README's main job (its first command) is a cell of Lee et al.'s grid with baselines beside it:
the run fills the paper page's cell and its board holds references, not the method alone."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from benchmark import cli
from benchmark.recipes import RECIPES
from benchmark.report.leaderboard import compatible_baselines
from benchmark.runner import Runner

README = Path(__file__).resolve().parents[1] / "README.md"


def _main_job_args() -> list[str]:
    """The arguments of the ``seizure-bench run`` in the README's first command."""
    block = re.search(r"^```\n(.*?)^```", README.read_text(), re.MULTILINE | re.DOTALL)
    assert block, "README.md starts without a code block"
    first = block.group(1).splitlines()[0]
    run = re.search(r"seizure-bench (run .*?) &&", first)
    assert run, f"the README's first command runs no `seizure-bench run`: {first}"
    return shlex.split(run.group(1))


def _identity(runner: Runner) -> tuple:
    """What makes two runs one experiment (their run id, less the data and split it is computed on)."""
    cfg = runner.cfg
    return (cfg.method, cfg.dataset, cfg.task, cfg.protocol, cfg.budget, cfg.seed, runner.params, runner.window)


def test_readme_main_job_is_a_cell_of_the_lee2024_grid():
    args = cli.build_parser().parse_args(_main_job_args())
    main = Runner(cli.run_config(args))
    cells = RECIPES["lee2024"].cells(dataset=args.dataset, methods=[main.cfg.method], budget=args.budget)
    same = [c for c in cells if _identity(Runner(c.run_config())) == _identity(main)]
    assert len(same) == 1, "the README's main job is no cell of lee2024's grid: the paper page would not show it"
    assert dict(main.cfg.method_overrides) == dict(same[0].overrides)


def test_readme_main_job_runs_baselines_of_its_task_beside_the_method():
    args = cli.build_parser().parse_args(_main_job_args())
    names = cli._baselines(args.with_baselines, args.task)
    assert names and set(names) <= set(compatible_baselines(args.task))
