"""benchmark.bytecode: the harness compiles what sandboxed fold workers import without bytecode."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _plugins import needs_sandbox

from benchmark import bytecode
from benchmark.bytecode import MISSING_FILE, compile_listed, missing_bytecode, write_missing


def _cached(path: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(path)))


@pytest.fixture
def writes_bytecode(monkeypatch):
    """The harness as on a user's machine: it writes bytecode next to the sources."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", None)


def _listing(tmp_path: Path, lines: list[str]) -> Path:
    listing = tmp_path / MISSING_FILE
    listing.write_text("".join(f"{line}\n" for line in lines))
    return listing


def test_a_module_imported_without_bytecode_is_listed_then_compiled_by_the_harness(
    tmp_path, monkeypatch, writes_bytecode
):
    shown = tmp_path / "shown"
    shown.mkdir()
    source = shown / "bytecode_probe_a.py"
    source.write_text("VALUE = 41 + 1\n")
    monkeypatch.syspath_prepend(str(shown))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # the worker's setting
    monkeypatch.delitem(sys.modules, "bytecode_probe_a", raising=False)
    importlib.import_module("bytecode_probe_a")
    assert str(source) in missing_bytecode() and not _cached(source).exists()
    out = tmp_path / "out"
    out.mkdir()
    write_missing(out)
    assert str(source) in (out / MISSING_FILE).read_text().splitlines()
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # the harness's
    assert compile_listed(out / MISSING_FILE, [shown]) == 1
    assert _cached(source).is_file() and str(source) not in missing_bytecode()
    assert compile_listed(out / MISSING_FILE, [shown]) == 0  # compiled once


def test_the_harness_compiles_only_python_sources_inside_the_folders_it_showed(tmp_path, writes_bytecode):
    shown, hidden = tmp_path / "shown", tmp_path / "hidden"
    shown.mkdir()
    hidden.mkdir()
    outside = hidden / "secret.py"
    outside.write_text("X = 1\n")
    (shown / "link.py").symlink_to(outside)
    (shown / "notes.txt").write_text("X = 1\n")
    (shown / "folder.py").mkdir()
    (shown / "broken.py").write_text("def (:\n")
    good = shown / "good.py"
    good.write_text("Y = 2\n")
    lines = [
        str(outside),
        str(shown / "link.py"),
        str(shown / "notes.txt"),
        str(shown / "folder.py"),
        str(shown / "missing.py"),
        "good.py",  # relative
        str(shown / ".." / "hidden" / "secret.py"),
        str(shown / "broken.py"),  # a syntax error: skipped, as its import fails anyway
        "\x00",
        str(good),
    ]
    assert compile_listed(_listing(tmp_path, lines), [shown]) == 1
    assert _cached(good).is_file()
    assert not (hidden / "__pycache__").exists()
    assert sorted(p.name for p in (shown / "__pycache__").iterdir()) == [_cached(good).name]


@pytest.mark.parametrize("setting", ["dont_write_bytecode", "pycache_prefix"])
def test_nothing_is_compiled_where_the_harness_writes_no_bytecode_next_to_the_sources(
    tmp_path, monkeypatch, writes_bytecode, setting
):
    good = tmp_path / "good.py"
    good.write_text("Y = 2\n")
    monkeypatch.setattr(sys, setting, True if setting == "dont_write_bytecode" else str(tmp_path / "prefix"))
    assert compile_listed(_listing(tmp_path, [str(good)]), [tmp_path]) == 0
    assert not (tmp_path / "__pycache__").exists() and not (tmp_path / "prefix").exists()


def test_a_listing_that_is_no_regular_file_or_too_big_is_ignored(tmp_path, monkeypatch, writes_bytecode):
    good = tmp_path / "good.py"
    good.write_text("Y = 2\n")
    (tmp_path / "target.txt").write_text(f"{good}\n")
    (tmp_path / "link.txt").symlink_to(tmp_path / "target.txt")
    os.mkfifo(tmp_path / "fifo.txt")
    for name in ("link.txt", "fifo.txt", "absent.txt"):
        assert compile_listed(tmp_path / name, [tmp_path]) == 0
    monkeypatch.setattr(bytecode, "MAX_LIST_BYTES", 4)
    assert compile_listed(tmp_path / "target.txt", [tmp_path]) == 0
    assert not (tmp_path / "__pycache__").exists()


def test_a_folder_the_harness_cannot_write_is_skipped_without_an_error(tmp_path, monkeypatch, writes_bytecode):
    # e.g. a system-wide installation: permissions are what os.access reports (root writes anywhere).
    good = tmp_path / "good.py"
    good.write_text("Y = 2\n")
    asked = []
    monkeypatch.setattr(bytecode.os, "access", lambda path, mode: asked.append(Path(path)) or False)
    assert compile_listed(_listing(tmp_path, [str(good)]), [tmp_path]) == 0
    assert asked == [tmp_path] and not (tmp_path / "__pycache__").exists()


@needs_sandbox
def test_an_isolated_fold_lists_its_imports_without_bytecode_and_the_next_one_finds_them_compiled(
    tmp_path, monkeypatch, writes_bytecode
):
    from benchmark import sandbox
    from benchmark.fold_worker import AdapterTask

    plugin = tmp_path / "plugin"
    plugin.mkdir()
    source = plugin / "bytecode_probe_fold.py"
    source.write_text("NOT_AN_ADAPTER = 1\n")  # imported by the worker; the fold then fails, as it may
    seen: list[tuple[list[str], list[Path]]] = []

    def plugin_only(listing, roots):  # the test compiles the plug-in alone, not the installation
        seen.append((listing.read_text().splitlines(), list(roots)))
        return compile_listed(listing, [source])

    monkeypatch.setattr(sandbox, "compile_listed", plugin_only)
    meta = pd.DataFrame({"patient": ["p"], "recording": ["r"], "start": [0.0], "end": [1.0], "unit": ["u"]})
    np.save(tmp_path / "x.npy", np.zeros((2, 2, 3), np.float32))
    task = AdapterTask(
        method="bytecode-probe",
        method_module="bytecode_probe_fold",
        method_qualname="Missing",
        budget="smoke",
        overrides={},
        seed=0,
        device="cpu",
        classes=("bckg", "sz"),
        sources=[str(tmp_path / "x.npy")],
        train=(np.array([[0, 0]]), meta, np.zeros(1, int)),
        test=(np.array([[0, 1]]), meta),
        info={},
        work_dir=str(tmp_path / "work"),
    )
    # A plug-in that is one module file: the sandbox shows that file.
    first = sandbox.run_task(task, "isolated", None, plugin=source, scratch=tmp_path / "scratch")
    assert first.error and "bytecode_probe_fold" in first.error
    listed, roots = seen[0]
    assert str(source) in listed and source in roots
    assert _cached(source).is_file()
    sandbox.run_task(task, "isolated", None, plugin=source, scratch=tmp_path / "scratch")
    assert str(source) not in seen[1][0]  # the second fold imported it from bytecode
