"""benchmark.bytecode: the harness compiles, before sandboxed folds start, what they may import."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _plugins import needs_sandbox

from benchmark import bytecode
from benchmark.bytecode import compile_for_sandbox, library_dirs


def _cached(path: Path) -> Path:
    return Path(importlib.util.cache_from_source(str(path)))


@pytest.fixture
def writes_bytecode(monkeypatch):
    """The harness as on a user's machine (it writes bytecode next to the sources), in a fresh process."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    monkeypatch.setattr(bytecode, "_checked", set())
    monkeypatch.setattr(bytecode, "_failed", {})


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "sub" / "mod.py").write_text("VALUE = 1\n")
    (root / "pkg" / "broken.py").write_text("def (:\n")  # its import fails too: skipped
    (root / "pkg" / "notes.txt").write_text("VALUE = 1\n")
    return root


def test_every_source_under_the_shown_folders_is_compiled_once_and_again_when_it_changes(
    tmp_path, monkeypatch, writes_bytecode
):
    root = _tree(tmp_path)
    mod = root / "pkg" / "sub" / "mod.py"
    assert compile_for_sandbox([root]) == 2
    assert _cached(mod).is_file() and _cached(root / "pkg" / "__init__.py").is_file()
    assert not _cached(root / "pkg" / "broken.py").exists() and not _cached(root / "pkg" / "notes.txt").exists()
    assert compile_for_sandbox([root]) == 0  # once per process
    monkeypatch.setattr(bytecode, "_checked", set())  # a new process: up to date, nothing to do
    assert compile_for_sandbox([root]) == 0
    mod.write_text("VALUE = 22\n")  # a changed source: its bytecode is stale
    os.utime(mod, (1, 1))
    monkeypatch.setattr(bytecode, "_checked", set())
    assert compile_for_sandbox([root]) == 1
    assert importlib.util.source_from_cache(str(_cached(mod))) == str(mod)


def test_nothing_outside_the_shown_folders_or_in_folders_the_harness_cannot_write(
    tmp_path, monkeypatch, writes_bytecode
):
    root, hidden = _tree(tmp_path), tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "secret.py").write_text("X = 1\n")
    (root / "pkg" / "linked").symlink_to(hidden, target_is_directory=True)  # not followed
    locked = root / "pkg" / "sub"
    real_access = os.access
    monkeypatch.setattr(bytecode.os, "access", lambda p, m: Path(p) != locked and real_access(p, m))
    assert compile_for_sandbox([root]) == 1  # pkg/__init__.py alone
    assert not (hidden / "__pycache__").exists() and not (locked / "__pycache__").exists()


def test_a_plug_in_that_is_one_module_file_is_compiled_alone(tmp_path, writes_bytecode):
    (tmp_path / "other.py").write_text("Y = 2\n")
    plugin = tmp_path / "plugin_module.py"
    plugin.write_text("Y = 1\n")
    assert compile_for_sandbox([plugin]) == 1
    assert _cached(plugin).is_file() and not _cached(tmp_path / "other.py").exists()


@pytest.mark.parametrize("setting", ["dont_write_bytecode", "pycache_prefix"])
def test_nothing_is_compiled_where_the_harness_writes_no_bytecode_next_to_the_sources(
    tmp_path, monkeypatch, writes_bytecode, setting
):
    root = _tree(tmp_path)
    monkeypatch.setattr(sys, setting, True if setting == "dont_write_bytecode" else str(tmp_path / "prefix"))
    assert compile_for_sandbox([root]) == 0
    assert not list(root.rglob("__pycache__")) and not (tmp_path / "prefix").exists()


def _import_value(root: Path, module: str) -> int:
    """``module.VALUE`` as a fresh interpreter that writes no bytecode (as a worker) imports it."""
    probe = f"import sys; sys.path.insert(0, {str(root)!r}); import {module}; print({module}.VALUE)"
    out = subprocess.run([sys.executable, "-B", "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    return int(out.stdout)


def test_code_is_checked_at_every_call_and_an_edit_that_keeps_time_and_size_is_never_run_as_old_code(
    tmp_path, writes_bytecode
):
    root = _tree(tmp_path)
    mod = root / "pkg" / "sub" / "mod.py"
    assert compile_for_sandbox([], [root]) == 2
    assert _import_value(root, "pkg.sub.mod") == 1
    assert compile_for_sandbox([], [root]) == 0  # up to date: nothing to do
    st = mod.stat()
    mod.write_text("VALUE = 7\n")  # the same size, the same modification time
    os.utime(mod, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _import_value(root, "pkg.sub.mod") == 7  # the bytecode names the source's hash, which changed
    assert compile_for_sandbox([], [root]) == 1  # the same process checks code again
    assert _import_value(root, "pkg.sub.mod") == 7


def test_a_library_file_that_changes_while_it_compiles_keeps_no_bytecode(tmp_path, monkeypatch):
    mod = _tree(tmp_path) / "pkg" / "sub" / "mod.py"
    real = bytecode.py_compile.compile

    def edited_meanwhile(file, **kw):
        cached = real(file, **kw)
        mod.write_text("VALUE = 3\n")
        return cached

    monkeypatch.setattr(bytecode.py_compile, "compile", edited_meanwhile)
    assert bytecode._compile(mod, hashed=False) is False
    assert not _cached(mod).exists()


def test_links_special_files_and_huge_files_are_never_read(tmp_path, monkeypatch, writes_bytecode):
    root, hidden = _tree(tmp_path), tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "secret.py").write_text("TOKEN = 'not for the sandbox'\n")
    (root / "pkg" / "leak.py").symlink_to(hidden / "secret.py")  # its bytecode would show the secret
    os.mkfifo(root / "pkg" / "fifo.py")  # reading it would block the harness
    (root / "pkg" / "huge.py").write_text("X = 1\n" * 100)
    _cached(root / "pkg" / "__init__.py").parent.mkdir()
    os.mkfifo(_cached(root / "pkg" / "__init__.py"))  # where its bytecode goes: never written or read
    monkeypatch.setattr(bytecode, "_MAX_SOURCE", 500)
    monkeypatch.setattr(bytecode, "_lock", threading.Lock())  # a blocked call holds this one, not the module's
    done: list[int] = []
    for libs, code in (([root], []), ([], [root]), ([], [root / "pkg" / "leak.py"])):
        worker = threading.Thread(target=lambda: done.append(compile_for_sandbox(libs, code)), daemon=True)
        worker.start()
        worker.join(60)
        assert not worker.is_alive(), "the harness blocked on a file that is no module"
    assert done == [1, 1, 0]  # pkg/sub/mod.py, as a library then as code
    for name in ("leak", "fifo", "huge"):
        assert not _cached(root / "pkg" / f"{name}.py").exists()


def test_a_linked_pycache_folder_is_never_written_through_nor_a_linked_bytecode_file_shown(tmp_path, writes_bytecode):
    root, elsewhere = _tree(tmp_path), tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "pkg" / "sub" / "__pycache__").symlink_to(elsewhere, target_is_directory=True)
    assert compile_for_sandbox([], [root]) == 1  # pkg/__init__.py alone
    assert list(elsewhere.iterdir()) == []
    plugin = tmp_path / "one" / "plugin_module.py"
    plugin.parent.mkdir()
    plugin.write_text("Y = 1\n")
    assert bytecode.shown_bytecode(plugin) is None  # none yet
    assert compile_for_sandbox([], [plugin]) == 1
    assert bytecode.shown_bytecode(plugin) == str(_cached(plugin))
    _cached(plugin).unlink()
    _cached(plugin).symlink_to(elsewhere)  # a link where the bytecode goes would show its target
    assert bytecode.shown_bytecode(plugin) is None


def test_a_file_that_does_not_compile_is_tried_once_until_it_changes(tmp_path, monkeypatch, writes_bytecode):
    root = _tree(tmp_path)
    runs: list[list[Path]] = []
    real = bytecode._run_compiler
    monkeypatch.setattr(bytecode, "_run_compiler", lambda todo: (runs.append([p for p, _ in todo]), real(todo)))
    assert compile_for_sandbox([], [root]) == 2
    assert root / "pkg" / "broken.py" in runs[0]
    assert compile_for_sandbox([], [root]) == 0 and len(runs) == 1  # not tried again before every fold
    (root / "pkg" / "broken.py").write_text("def f(:\n")
    assert compile_for_sandbox([], [root]) == 0 and runs[1] == [root / "pkg" / "broken.py"]


@pytest.mark.parametrize("limit", ["memory", "time"])
def test_a_file_made_to_exhaust_the_compiler_costs_the_harness_nothing(
    tmp_path, monkeypatch, writes_bytecode, limit, caplog
):
    root = _tree(tmp_path)
    bomb = root / "pkg" / "bomb.py"
    bomb.write_text("X = [" + "1, " * 800_000 + "]\n")  # 2.4 MB; compiling it takes about 0.6 GB and 1.3 s
    if limit == "memory":
        monkeypatch.setattr(bytecode, "_MEMORY_LIMIT", 192 << 20)
    else:
        monkeypatch.setattr(bytecode, "_BASE_SECONDS", 0.0)
        monkeypatch.setattr(bytecode, "_SECONDS_PER_FILE", 0.1)
    with caplog.at_level("WARNING", logger="benchmark.bytecode"):
        compiled = compile_for_sandbox([], [root])
    assert not _cached(bomb).exists() and bytecode._failed[bomb] is not None
    assert ("took over" in caplog.text) == (limit == "time")  # stopped, not failed
    if limit == "memory":  # the others are compiled all the same; the bomb within the usual limit
        assert compiled == 2 and _cached(root / "pkg" / "sub" / "mod.py").is_file()
        monkeypatch.setattr(bytecode, "_MEMORY_LIMIT", 4 << 30)
        bytecode._failed.clear()
        assert compile_for_sandbox([], [root]) == 1 and _cached(bomb).is_file()


def test_any_file_name_reaches_the_compiler_and_a_failed_one_is_said(tmp_path, monkeypatch, writes_bytecode, caplog):
    root = _tree(tmp_path)
    odd = root / "pkg" / "odd\tname\n.py"
    odd.write_text("Z = 1\n")
    assert compile_for_sandbox([], [root]) == 3 and _cached(odd).is_file()
    (root / "pkg" / "sub" / "mod.py").write_text("VALUE = 5\n")
    monkeypatch.setattr(bytecode.sys, "executable", "/bin/false")  # a compiler that dies at once
    with caplog.at_level("WARNING", logger="benchmark.bytecode"):
        assert compile_for_sandbox([], [root]) == 0
    assert "ended with exit status 1" in caplog.text and "folds compile what they import themselves" in caplog.text


def test_a_plug_in_the_harness_imports_gets_bytecode_checked_against_its_source_first(
    tmp_path, monkeypatch, writes_bytecode
):
    root = _tree(tmp_path)
    monkeypatch.syspath_prepend(str(root))
    (root / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    importlib.invalidate_caches()
    bytecode.refresh_before_import("pkg.sub.mod")
    with open(_cached(root / "pkg" / "sub" / "mod.py"), "rb") as fh:
        assert int.from_bytes(fh.read(8)[4:8], "little") == 0b11  # checked against the source's hash
    monkeypatch.setitem(sys.modules, "pkg", object())  # imported already: nothing to do
    monkeypatch.setattr(bytecode, "compile_for_sandbox", lambda *a: pytest.fail("compiled again"))
    bytecode.refresh_before_import("pkg")


def test_old_bytecode_of_code_that_no_longer_compiles_is_removed(tmp_path, writes_bytecode):
    root = _tree(tmp_path)
    mod = root / "pkg" / "sub" / "mod.py"
    assert compile_for_sandbox([], [root]) == 2
    st = mod.stat()
    mod.write_text("VALUE = (\n")  # broken, the same size and time
    os.utime(mod, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert compile_for_sandbox([], [root]) == 0
    assert not _cached(mod).exists()  # its import fails, as it should, rather than run the old code
    with pytest.raises(subprocess.CalledProcessError):
        _import_value(root, "pkg.sub.mod")


def test_the_compiler_imports_nothing_from_the_current_folder(tmp_path, monkeypatch, writes_bytecode):
    root, here = _tree(tmp_path), tmp_path / "here"
    here.mkdir()
    marker = tmp_path / "ran"
    for name in ("tqdm", "resource"):
        (here / f"{name}.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(here)
    assert compile_for_sandbox([], [root]) == 2
    assert not marker.exists()


def test_the_compiler_keeps_within_a_lower_hard_memory_limit(tmp_path):
    root = _tree(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    script = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30)); "
        f"from benchmark.bytecode import compile_for_sandbox; print(compile_for_sandbox([], [{str(root)!r}]))"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "2", out.stderr


def test_a_namespace_package_has_every_folder_refreshed(tmp_path, monkeypatch, writes_bytecode):
    parts = [tmp_path / "a", tmp_path / "b"]
    for i, base in enumerate(parts):
        (base / "nsplug").mkdir(parents=True)
        (base / "nsplug" / f"part{i}.py").write_text("X = 1\n")
        monkeypatch.syspath_prepend(str(base))
    importlib.invalidate_caches()
    bytecode.refresh_before_import("nsplug.part0")
    assert all(_cached(base / "nsplug" / f"part{i}.py").is_file() for i, base in enumerate(parts))


def test_bytecode_is_what_a_worker_without_optimisation_imports_whatever_the_harness_runs_with(tmp_path):
    root = _tree(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    script = f"from benchmark.bytecode import compile_for_sandbox; compile_for_sandbox([], [{str(root)!r}])"
    subprocess.run([sys.executable, "-O", "-c", script], env=env, check=True, timeout=120)
    mod = root / "pkg" / "sub" / "mod.py"
    assert _cached(mod).is_file() and _cached(mod).name.endswith(f"{sys.implementation.cache_tag}.pyc")
    assert not list(mod.parent.glob("__pycache__/*opt-1.pyc"))


def test_the_library_folders_are_those_this_python_imports_installed_modules_from():
    dirs = library_dirs()
    import numpy

    assert Path(os.__file__).resolve().parent in dirs  # the standard library
    assert any(Path(numpy.__file__).resolve().is_relative_to(d) for d in dirs)  # the installed packages
    assert not [(a, b) for a in dirs for b in dirs if a != b and a.is_relative_to(b)]  # each walked once


@needs_sandbox
def test_a_sandboxed_worker_imports_what_the_harness_compiled_even_a_one_file_plug_in(tmp_path, writes_bytecode):
    from benchmark.sandbox import _bwrap_args, code_dirs

    plugin = tmp_path / "plugin" / "bytecode_probe.py"
    plugin.parent.mkdir()
    plugin.write_text("VALUE = 1\n")
    probe = "import bytecode_probe, os; print(os.path.exists(bytecode_probe.__spec__.cached))"
    cmd = _bwrap_args(code_dirs([plugin]), {}, "cpu") + [sys.executable, "-c", probe]

    def run() -> str:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert run() == "False"
    assert compile_for_sandbox([plugin]) == 1
    cmd = _bwrap_args(code_dirs([plugin]), {}, "cpu") + [sys.executable, "-c", probe]  # binds the bytecode too
    assert run() == "True"


@needs_sandbox
def test_an_isolated_fold_has_its_code_and_libraries_compiled_before_it_starts(tmp_path, monkeypatch):
    from benchmark import sandbox
    from benchmark.fold_worker import AdapterTask

    calls: list[list[Path]] = []
    started = []
    monkeypatch.setattr(sandbox, "compile_for_sandbox", lambda libs, code: calls.append([*libs, *code]) or 0)
    real_popen = subprocess.Popen
    monkeypatch.setattr(sandbox.subprocess, "Popen", lambda *a, **k: started.append(len(calls)) or real_popen(*a, **k))
    plugin = tmp_path / "bytecode_probe_fold.py"
    plugin.write_text("NOT_AN_ADAPTER = 1\n")  # the fold fails to find its adapter, as it may
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
    out = sandbox.run_task(task, "isolated", None, plugin=plugin, scratch=tmp_path / "scratch")
    assert out.error and "bytecode_probe_fold" in out.error
    assert started == [1]  # compiled first, then the worker started
    assert plugin in calls[0] and set(library_dirs()) <= set(calls[0])
    assert set(sandbox.code_dirs()) <= set(calls[0])
