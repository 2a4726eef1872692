"""The README's two commands and CI stay in step."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("```", 2)[1]
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def test_readme_starts_with_exactly_two_commands():
    cmds = readme_commands()
    assert len(cmds) == 2
    assert "seizure-bench run" in cmds[0] and "chbmit-synthetic" in cmds[0]
    assert cmds[1].endswith("pytest")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in [line.strip() for line in ci]


def test_ci_checks_the_house_rules_before_the_tests():
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    lint, fmt = "python -m uv run --locked ruff check .", "python -m uv run --locked ruff format --check ."
    assert lint in ci and fmt in ci
    assert ci.index(lint) < ci.index(readme_commands()[1]) and ci.index(fmt) < ci.index(readme_commands()[1])
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert "[tool.ruff]" in pyproject and "[tool.ruff.lint]" in pyproject
