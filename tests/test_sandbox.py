"""benchmark.sandbox: what a sandboxed fold worker sees of the Python installation and the GPU."""

from __future__ import annotations

import subprocess
import sys

from _plugins import needs_sandbox

from benchmark.sandbox import _bwrap_args, _missing_module_hint, code_dirs


def _setenv_pairs(args: list[str]) -> dict[str, str]:
    return {args[i + 1]: args[i + 2] for i, a in enumerate(args) if a == "--setenv"}


def _layered_package(tmp_path, monkeypatch, folder: str):
    """A module ``layered_probe`` in ``tmp_path/<folder>``, on $PYTHONPATH and the import path."""
    where = tmp_path / "env" / folder
    where.mkdir(parents=True)
    (where / "layered_probe.py").write_text("VALUE = 'from the layered folder'\n")
    monkeypatch.setenv("PYTHONPATH", str(where))
    monkeypatch.syspath_prepend(str(where))
    return where


@needs_sandbox
def test_a_package_folder_on_pythonpath_imports_in_the_sandboxed_worker(tmp_path, monkeypatch):
    # e.g. `pip install --target .../site-packages` with PYTHONPATH pointing there: the harness imports
    # the method's dependencies from it, so the worker must too (it failed with ModuleNotFoundError).
    _layered_package(tmp_path, monkeypatch, "site-packages")
    cmd = _bwrap_args(code_dirs(), {}, "cpu") + [
        sys.executable,
        "-c",
        "import layered_probe; print(layered_probe.VALUE)",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "from the layered folder"


@needs_sandbox
def test_other_pythonpath_folders_stay_hidden_and_a_missing_module_says_where_it_is_and_what_to_do(
    tmp_path, monkeypatch
):
    # A folder of any other name may be a project folder holding labels: it is not shown.
    where = _layered_package(tmp_path, monkeypatch, "lib")
    cmd = _bwrap_args(code_dirs(), {}, "cpu") + [sys.executable, "-c", "import layered_probe"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode != 0 and "No module named 'layered_probe'" in out.stderr
    hint = _missing_module_hint("ModuleNotFoundError: No module named 'layered_probe.sub'")
    assert str(where / "layered_probe.py") in hint and "--isolation none" in hint and "site-packages" in hint
    assert "\n" not in hint


def test_a_module_missing_everywhere_gets_no_hint():
    assert _missing_module_hint("ModuleNotFoundError: No module named 'no_such_module_anywhere'") == ""
    assert _missing_module_hint("ModuleNotFoundError: something else") == ""


def test_a_cuda_fold_sees_the_driver_libraries_of_ld_library_path_and_nothing_else_there(tmp_path, monkeypatch):
    libs = tmp_path / "nvidia" / "lib64"
    libs.mkdir(parents=True)
    (libs / "libcuda.so.580.1").write_bytes(b"")
    (libs / "libcuda.so.1").symlink_to("libcuda.so.580.1")
    (libs / "labels.csv").write_text("patient,seizure\n")  # any folder may be named there
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LD_LIBRARY_PATH", f"{libs}:{tmp_path / 'absent'}:nvidia:/")
    cuda = _bwrap_args([], {}, "cuda")
    binds = {tuple(cuda[i + 1 : i + 3]) for i, a in enumerate(cuda) if a.startswith("--") and "bind" in a}
    assert {(str(libs / n), str(libs / n)) for n in ("libcuda.so.1", "libcuda.so.580.1")} <= binds
    assert not any(str(libs / "labels.csv") in b or str(libs) in b or "/" in b or "nvidia" in b for b in binds)
    # Absolute folders only (a relative one would be bound relative to the harness's working folder).
    assert _setenv_pairs(cuda)["LD_LIBRARY_PATH"] == f"{libs}:/"
    cpu = _bwrap_args([], {}, "cpu")
    assert "LD_LIBRARY_PATH" not in _setenv_pairs(cpu) and str(libs / "libcuda.so.1") not in cpu


def test_no_hint_for_a_submodule_missing_from_a_package_the_sandbox_shows():
    assert _missing_module_hint("ModuleNotFoundError: No module named 'numpy.no_such_submodule'") == ""
