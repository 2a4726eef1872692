"""Python bytecode for sandboxed fold workers, compiled by the harness before they start.

A sandboxed fold worker sees the Python installation and the project read-only and writes no
bytecode: a fold must leave nothing behind that another fold, or the harness, would later run or
read. On an installation whose packages were never imported outside a sandbox (timm, braindecode,
MNE and the parts of torch they use, say), every fold would compile the same modules from source
again: about 2 s a fold of README's main job. So before the first isolated fold of a process the
harness compiles every Python source file in the library folders and code it shows the sandbox
that has no up-to-date bytecode (:func:`compile_for_sandbox`), where, and only if, it writes
bytecode itself. What is compiled depends on the installation alone, never on what a fold did,
so the files a fold finds compiled carry nothing from an earlier fold; compiling runs none of a
file's code. The first time, that is the whole installation (about 37 s for 16,563 files on one
core); after that, a check of about 0.6 s per process.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import py_compile
import struct
import sys
import sysconfig
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

_PACKAGE_DIRS = ("site-packages", "dist-packages")
_checked: set[Path] = set()  # roots this process has brought up to date
_lock = threading.Lock()


def library_dirs() -> list[Path]:
    """The folders this Python imports installed modules from: the standard library and the
    package folders (site-packages or dist-packages, those of ``$PYTHONPATH`` included)."""
    paths = sysconfig.get_paths()
    dirs = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    dirs.update(d for d in sys.path if Path(d).name in _PACKAGE_DIRS)
    return sorted({Path(d).resolve() for d in dirs if Path(d).is_dir()})


def compile_for_sandbox(roots: Sequence[Path]) -> int:
    """Compile the ``.py`` files under ``roots`` (folders, or single module files) whose bytecode is
    missing or stale, in the folders this process may write; each root once per process. Returns
    how many were compiled. Nothing is done when this process writes no bytecode
    (``PYTHONDONTWRITEBYTECODE``) or writes it elsewhere (``PYTHONPYCACHEPREFIX``, where a worker
    does not look)."""
    if sys.dont_write_bytecode or sys.pycache_prefix is not None:
        return 0
    with _lock:
        todo = [Path(r) for r in roots if Path(r) not in _checked]
        _checked.update(todo)
        stale = sorted({p for p in _sources(todo) if not _fresh(p)})
        if not stale:
            return 0
        from tqdm.auto import tqdm

        compiled = 0
        bar = tqdm(stale, desc="Python bytecode for sandboxed folds", unit="file", delay=2, leave=False)
        for path in bar:
            try:
                py_compile.compile(str(path), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
                compiled += 1
            except (py_compile.PyCompileError, OSError, ValueError):  # its import fails, or compiles, alike
                continue
        log.info("compiled the bytecode of %d Python files that sandboxed folds import", compiled)
        return compiled


def _sources(roots: Sequence[Path]) -> Iterator[Path]:
    """``.py`` files of ``roots`` in folders this process may write (symbolic links not followed)."""
    for root in roots:
        if root.suffix == ".py" and root.is_file():
            if os.access(root.parent, os.W_OK):
                yield root
            continue
        for folder, subdirs, files in os.walk(root):
            subdirs[:] = [d for d in subdirs if d != "__pycache__"]
            if not os.access(folder, os.W_OK):
                continue
            for name in files:
                if name.endswith(".py"):
                    yield Path(folder, name)


def _fresh(path: Path) -> bool:
    """Whether ``path`` has bytecode the import system would use (as :mod:`compileall` checks)."""
    try:
        st = path.stat()
        with open(importlib.util.cache_from_source(str(path)), "rb") as fh:
            header = fh.read(16)
    except (OSError, ValueError):
        return False
    stamp = struct.pack("<LLL", 0, int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)  # flags, mtime, size
    return header == importlib.util.MAGIC_NUMBER + stamp
