"""Test plug-ins installed as real entry points: a module and a ``<dist>-0.1.dist-info`` folder
(``METADATA``, ``entry_points.txt``, ``top_level.txt``) in a folder put on ``sys.path``, found by
:mod:`importlib.metadata` as an installed distribution is.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from benchmark.adapters import ENTRY_POINT_GROUP, REGISTRY


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
