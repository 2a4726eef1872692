"""Python bytecode for sandboxed fold workers, compiled by the harness.

A sandboxed fold worker sees the Python installation and the project read-only and writes no
bytecode: a fold must leave nothing behind that another fold, or the harness, would later run. On
an installation whose packages were never imported outside a sandbox (timm, braindecode, MNE and
the parts of torch they use, say), every fold would compile the same modules from source again,
about 6 CPU seconds a fold for the ResNet-LSTM's imports. So the worker lists the source files it
imported that have no cached bytecode (:func:`write_missing`), and the harness compiles those
that lie in the folders it showed the sandbox (:func:`compile_listed`), where and only if it would
write bytecode itself. Compiling runs none of a file's code, and the bytecode is made from the
file by the harness, so what a fold lists decides at most which files are compiled, never what
the next fold runs.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import py_compile
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

#: The worker's list of imported source files without cached bytecode, in its output folder.
MISSING_FILE = "uncompiled.txt"
#: At most this much of a list is read back (a run of the ResNet-LSTM lists a few thousand files).
MAX_LIST_BYTES = 8 << 20
MAX_LISTED = 50_000


def missing_bytecode() -> list[str]:
    """Source files of this process's imported modules whose cached bytecode does not exist."""
    found = set()
    for module in list(sys.modules.values()):
        spec = getattr(module, "__spec__", None)
        origin, cached = getattr(spec, "origin", None), getattr(spec, "cached", None)
        if isinstance(origin, str) and origin.endswith(".py") and isinstance(cached, str):
            if not os.path.exists(cached):
                found.add(origin)
    return sorted(found)


def write_missing(folder: Path) -> None:
    """Write :func:`missing_bytecode` to ``folder`` (the worker's output), one path per line."""
    try:
        (folder / MISSING_FILE).write_text("".join(f"{p}\n" for p in missing_bytecode()))
    except (OSError, UnicodeError) as exc:  # a hint for the next folds, never worth the fold's results
        log.debug("could not list modules without bytecode: %s", exc)


def compile_listed(listing: Path, roots: Sequence[Path]) -> int:
    """Compile the source files ``listing`` names that lie under ``roots`` and have no cached
    bytecode, where this process may write it; returns how many were compiled. Nothing is done
    when this process writes no bytecode (``PYTHONDONTWRITEBYTECODE``) or writes it elsewhere
    (``PYTHONPYCACHEPREFIX``, which a worker does not look in)."""
    from benchmark.fold_worker import _read_regular

    if sys.dont_write_bytecode or sys.pycache_prefix is not None:
        return 0
    try:
        raw = _read_regular(listing, MAX_LIST_BYTES)
    except (OSError, ValueError):
        return 0
    if not raw:
        return 0
    real_roots = [Path(r).resolve() for r in roots]
    writable: dict[Path, bool] = {}
    compiled = 0
    for line in raw.decode("utf-8", "replace").splitlines()[:MAX_LISTED]:
        path = _listed_source(line, real_roots)
        if path is None:
            continue
        cached = Path(importlib.util.cache_from_source(str(path)))
        if cached.exists():
            continue
        if cached.parent not in writable:
            where = cached.parent if cached.parent.exists() else cached.parent.parent
            writable[cached.parent] = os.access(where, os.W_OK)
        if not writable[cached.parent]:
            continue
        try:
            py_compile.compile(
                str(path), cfile=str(cached), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP
            )
            compiled += 1
        except py_compile.PyCompileError:  # the import fails the same way; nothing to cache
            continue
        except OSError:
            writable[cached.parent] = False
    if compiled:
        log.info("compiled the bytecode of %d modules the sandboxed folds import", compiled)
    return compiled


def _listed_source(line: str, roots: Sequence[Path]) -> Path | None:
    """``line`` as a source file the harness may compile: an absolute path to a regular ``.py``
    file that, with its folder, lies under one of ``roots`` (resolved folders) or is one of them
    (a plug-in that is a single module file); else ``None``."""
    path = Path(line)
    if not line or not path.is_absolute() or path.suffix != ".py":
        return None
    try:
        real, folder = path.resolve(strict=True), path.parent.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    for root in roots:
        if real == root or (real.is_relative_to(root) and folder.is_relative_to(root) and root.is_dir()):
            return path if real.is_file() else None
    return None
