"""Test plug-ins installed as real entry points: a module and a ``<dist>-0.1.dist-info`` folder
(``METADATA``, ``entry_points.txt``, ``top_level.txt``) in a folder put on ``sys.path``, found by
:mod:`importlib.metadata` as an installed distribution is.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from benchmark.adapters import ENTRY_POINT_GROUP, REGISTRY
from benchmark.sandbox import sandbox_problem

needs_sandbox = pytest.mark.skipif(sandbox_problem() is not None, reason=f"no sandbox here: {sandbox_problem()}")


def _forget_entry_points() -> None:
    importlib.invalidate_caches()
    REGISTRY._entry_points = None
    REGISTRY._loaded_entry_points = False


def installed_plugin(tmp_path: Path, module: str, source: str, method: str, attr: str, ep_name: str | None = None):
    """Install ``source`` as module ``module`` with entry point ``ep_name`` (default ``method``) ->
    ``module:attr``; yield the method's name; uninstall (and forget the module) afterwards."""
    site = tmp_path / f"site_{module}"
    dist = site / f"{module.replace('_', '-')}-0.1.dist-info"
    dist.mkdir(parents=True)
    (site / f"{module}.py").write_text(source)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{ep_name or method} = {module}:{attr}\n")
    (dist / "top_level.txt").write_text(f"{module}\n")
    sys.path.insert(0, str(site))
    _forget_entry_points()
    try:
        yield method
    finally:
        sys.path.remove(str(site))
        sys.modules.pop(module, None)
        for name in {method, ep_name or method}:
            REGISTRY._methods.pop(name, None)
            REGISTRY._origin.pop(name, None)
        _forget_entry_points()


def _plugin(tmp_path, name: str, source: str):
    """Write a plug-in module to its own folder, import and register its adapter; yield its name."""
    folder = tmp_path / f"plugin_{name}"
    folder.mkdir()
    (folder / f"{name}.py").write_text(source)
    sys.path.insert(0, str(folder))
    REGISTRY.names()
    try:
        module = importlib.import_module(name)
        cls = next(v for v in vars(module).values() if isinstance(v, type) and getattr(v, "__module__", "") == name)
        REGISTRY.add(cls)
        yield cls
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(name, None)
        REGISTRY._methods.pop(cls.meta.name, None)
        REGISTRY._origin.pop(cls.meta.name, None)
