"""The README's plug-in recipe: a package declaring one entry point per method (tests/data/plugin_pkg:
a scikit-learn Pipeline factory and a braindecode model class adapter) reaches the leaderboard,
installed with ``uv run --with-editable PKG``, which leaves the project's environment (and so
``uv sync --locked``) alone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from _plugins import _forget_entry_points
from fakes import run_config

from benchmark.adapters import ENTRY_POINT_GROUP, REGISTRY
from benchmark.sandbox import sandbox_problem

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = Path(__file__).parent / "data" / "plugin_pkg"
MODULE = "demo_seizure_plugin"
METHODS = ("demo_logreg", "demo_shallow")


def _entry_points() -> dict[str, str]:
    text = (PLUGIN / "pyproject.toml").read_text()
    section = text.split(f'[project.entry-points."{ENTRY_POINT_GROUP}"]', 1)[1].split("\n[", 1)[0]
    return dict(re.findall(r'^(\w+) = "([\w.:]+)"$', section, re.M))


@pytest.fixture
def demo_plugin(tmp_path):
    """The plug-in package's module and entry points installed as a distribution on sys.path."""
    site = tmp_path / "site"
    dist = site / "demo_seizure_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    shutil.copy(PLUGIN / f"{MODULE}.py", site)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-seizure-plugin\nVersion: 0.1\n")
    (dist / "top_level.txt").write_text(f"{MODULE}\n")
    lines = [f"{name} = {target}" for name, target in _entry_points().items()]
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n" + "\n".join(lines) + "\n")
    sys.path.insert(0, str(site))
    _forget_entry_points()
    try:
        yield
    finally:
        sys.path.remove(str(site))
        sys.modules.pop(MODULE, None)
        for name in METHODS:
            REGISTRY._methods.pop(name, None)
            REGISTRY._origin.pop(name, None)
        _forget_entry_points()


def test_the_package_declares_one_entry_point_line_per_method():
    assert _entry_points() == {"demo_logreg": f"{MODULE}:logreg", "demo_shallow": f"{MODULE}:shallow"}


def test_both_entry_points_reach_one_leaderboard(tmp_path, tiny_synthetic, demo_plugin):
    from benchmark.report import build_report
    from benchmark.runner import Runner
    from benchmark.store import ResultStore

    runs = {}
    for name in METHODS:
        cfg = run_config(tmp_path, tiny_synthetic, method=name, task="detection", protocol="loso", threads=1)
        runs[name] = Runner(cfg).run()
        assert runs[name].status == "complete" and runs[name].synthetic
        assert runs[name].provenance["code"]["distribution"] == "demo-seizure-plugin"
    with ResultStore(cfg.store_path) as store:
        index = build_report(store, tmp_path / "report")
    boards = [p.read_text() for p in (index.parent / "leaderboards").glob("*.html")]
    assert any(all(f'data-run="{rec.run_id}"' in board for rec in runs.values()) for board in boards)


def _uv() -> str | None:
    found = os.environ.get("UV") or shutil.which("uv")
    return found if found and Path(found).exists() else None


@pytest.mark.slow
@pytest.mark.skipif(_uv() is None, reason="uv is not installed")
def test_uv_run_with_editable_installs_the_plugin_and_runs_it_onto_a_board(tmp_path, tiny_synthetic):
    # As the README says, with --offline (the build backend, hatchling, is in uv's cache since the
    # project was built with it) and --no-sync (the project's environment is already in sync).
    uv = [_uv(), "run", "--offline", "--no-sync", "--project", str(ROOT), "--with-editable", str(PLUGIN)]
    env = {k: v for k, v in os.environ.items() if k not in ("SEIZURE_BENCH_ISOLATION", "VIRTUAL_ENV")}
    where = ["--data-dir", str(tiny_synthetic), "--store", str(tmp_path / "r.sqlite")]
    where += ["--splits-dir", str(tmp_path / "splits"), "--cache-dir", str(tmp_path / "cache")]

    def seizure_bench(*args: str) -> str:
        done = subprocess.run(
            [*uv, "seizure-bench", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    run = ["run", "--dataset", "chbmit-synthetic", "--task", "detection", "--protocol", "loso", "--threads", "1"]
    logreg = seizure_bench(*run, "--method", "demo_logreg", *where, "--no-progress")
    assert "complete [SYNTHETIC DATA]" in logreg
    if sandbox_problem() is None:  # the sandbox sees the packages `uv run --with` layers over the project's
        assert "isolation: isolated" in logreg
    # The braindecode net trains in the harness's process, which keeps this test short (torch is
    # imported once); the isolated path is the same as the one above.
    shallow = seizure_bench(*run, "--method", "demo_shallow", *where, "--no-progress", "--isolation", "none")
    assert "complete [SYNTHETIC DATA]" in shallow
    seizure_bench("report", "--store", str(tmp_path / "r.sqlite"), "--out", str(tmp_path / "site"), "--no-bundled")
    boards = [p.read_text() for p in (tmp_path / "site" / "leaderboards").glob("*.html")]
    assert any("demo_logreg" in board and "demo_shallow" in board for board in boards)
    # Nothing was installed into the project's environment, so `uv sync --locked` has nothing to remove.
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.distribution("demo-seizure-plugin")
