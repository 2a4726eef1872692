"""Python bytecode for sandboxed fold workers, compiled by the harness before they start.

A sandboxed fold worker sees the Python installation and the project read-only and writes no
bytecode: a fold must leave nothing behind that another fold, or the harness, would later run or
read. On an installation whose packages were never imported outside a sandbox (timm, braindecode,
MNE and the parts of torch they use, say), every fold would compile the same modules from source
again: about 2 s a fold of README's main job. So before an isolated fold starts, the harness
compiles every Python source file in the library folders (once per process) and code (every time)
it shows the sandbox that has no up-to-date bytecode (:func:`compile_for_sandbox`), where, and only
if, it writes bytecode itself. What is compiled depends on the files alone, never on what a fold
did, so the files a fold finds compiled carry nothing from an earlier fold; compiling runs none of
a file's code, reads only regular files and writes only into real folders, never through a
symbolic link, in a child process with a memory and time limit. The first time, that is the whole
installation (about 45 s for 16,561 files on one core); after that, a check of 1-1.5 s per process
(29,919 files with the standard library).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import py_compile
import stat
import struct
import sys
import sysconfig
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

_PACKAGE_DIRS = ("site-packages", "dist-packages")
_checked: set[Path] = set()  # library folders this process has brought up to date
_failed: dict[Path, tuple[int, int, int] | None] = {}  # sources that did not compile, and their stamp then
_MAX_SOURCE = 16 << 20  # bytes; the largest module of a usual installation is under 2 MB
_MEMORY_LIMIT = 4 << 30  # bytes of address space for the compiling child
_BASE_SECONDS, _SECONDS_PER_FILE = 60.0, 0.05  # its time limit (45 s for 16,561 files here)
_lock = threading.Lock()


def library_dirs() -> list[Path]:
    """The folders this Python imports installed modules from: the standard library and the
    package folders (site-packages or dist-packages, those of ``$PYTHONPATH`` included), none
    inside another."""
    paths = sysconfig.get_paths()
    dirs = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    dirs.update(d for d in sys.path if Path(d).name in _PACKAGE_DIRS)
    found = {Path(d).resolve() for d in dirs if Path(d).is_dir()}
    # A virtual environment's platstdlib holds its site-packages: each folder is walked once.
    return sorted(d for d in found if not any(d != o and d.is_relative_to(o) for o in found))


def compile_for_sandbox(libraries: Sequence[Path], code: Sequence[Path] = ()) -> int:
    """Compile the ``.py`` files under ``libraries`` and ``code`` (folders, or single module files)
    whose bytecode is missing or stale, in the folders this process may write. Returns how many were
    compiled. Nothing is done when this process writes no bytecode (``PYTHONDONTWRITEBYTECODE``) or
    writes it elsewhere (``PYTHONPYCACHEPREFIX``, where a worker does not look).

    Library folders are checked once per process, by modification time and size as Python's import
    does. ``code`` (the harness, the methods, a plug-in: what a user edits between runs) is checked
    at every call and compiled with the hash of the very bytes compiled, which the worker's import
    checks: an edit within the same second that keeps the size, or one made while a file compiles,
    can never pass old code off as new. Compiling runs in a child process with a memory and time
    limit (a plug-in's file may be made to exhaust either); a file that fails is not tried again in
    this process until it changes."""
    if sys.dont_write_bytecode or sys.pycache_prefix is not None:
        return 0
    with _lock:
        libs = [Path(r) for r in libraries if Path(r) not in _checked]
        _checked.update(libs)
        todo = [(p, False) for p in sorted(set(_sources(libs))) if not _fresh(p, hashed=False)]
        todo += [(p, True) for p in sorted(set(_sources([Path(r) for r in code]))) if not _fresh(p, hashed=True)]
        todo = [(p, hashed) for p, hashed in todo if _failed.get(p) != _stamp(p)]
        if not todo:
            return 0
        _run_compiler(todo)
        compiled = 0
        for path, hashed in todo:
            if _fresh(path, hashed):
                compiled += 1
                continue
            _failed[path] = _stamp(path)
            if hashed:  # old bytecode left beside code that did not compile could pass for it
                _remove_bytecode(path)
        log.info("compiled the bytecode of %d Python files", compiled)
        return compiled


def _remove_bytecode(source: Path) -> None:
    """Remove ``source``'s bytecode where it is a regular file in a real, writable folder."""
    cached = Path(cached_path(source))
    try:
        if _writable(source.parent) and stat.S_ISREG(cached.lstat().st_mode):
            cached.unlink()
    except OSError:
        pass


def refresh_before_import(module: str) -> None:
    """Make the bytecode of ``module``'s top-level package (a plug-in, edited between runs) checked
    against its source's hash before this process first imports it, as :func:`compile_for_sandbox`
    does for code: an edit within the same second that keeps a file's size is never run as the old
    code, which the run's provenance would not name."""
    top = module.split(".")[0]
    if top in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(top)  # a top-level name: nothing is imported
    except (ImportError, ValueError):
        return
    if spec is None:
        return
    if spec.submodule_search_locations:  # a package; a namespace package's every folder
        compile_for_sandbox([], [Path(d) for d in spec.submodule_search_locations])
    elif spec.has_location and spec.origin:
        compile_for_sandbox([], [Path(spec.origin)])


def _run_compiler(todo: list[tuple[Path, bool]]) -> None:
    """Compile ``todo`` (``(source, hashed)``) in a child process (:func:`_main`)."""
    import subprocess

    listing = b"\0".join(b"%d%s" % (hashed, os.fsencode(path)) for path, hashed in todo)  # any file name
    limit = _BASE_SECONDS + len(todo) * _SECONDS_PER_FILE
    # -P: the current folder (a plug-in's checkout, say) is not on the child's import path; the
    # harness's own package is, first.
    home = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [home, os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-P", "-m", "benchmark.bytecode", str(_MEMORY_LIMIT)]
    try:
        done = subprocess.run(cmd, input=listing, timeout=limit, check=False, stdout=subprocess.DEVNULL, env=env)
    except subprocess.TimeoutExpired:
        why = f"took over {limit:.0f} s and was stopped"
    except OSError as exc:
        why = f"could not start ({exc})"
    else:
        why = f"ended with exit status {done.returncode}" if done.returncode else ""
    if why:
        log.warning("compiling Python bytecode for sandboxed folds %s; folds compile what they import themselves", why)


def _main() -> None:
    """The compiling child: ``0`` or ``1`` (hashed) then a path, NUL-separated, on standard input;
    its address space limited to ``argv[1]`` bytes."""
    import resource

    from tqdm import tqdm  # not tqdm.auto, which may import IPython

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = int(sys.argv[1]) if hard == resource.RLIM_INFINITY else min(int(sys.argv[1]), hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # a hard limit can only be lowered
    todo = [record for record in sys.stdin.buffer.read().split(b"\0") if record]
    for record in tqdm(todo, desc="Python bytecode for sandboxed folds", unit="file", delay=2, leave=False):
        try:
            _compile(Path(os.fsdecode(record[1:])), record[:1] == b"1")
        except (MemoryError, RecursionError):  # a file made to be too big to compile: the worker tries
            continue


def _compile(path: Path, hashed: bool) -> bool:
    """Write ``path``'s bytecode, as the worker (no ``-O``) imports it; ``False`` where it cannot be
    compiled (its import fails, or compiles, alike) or changed while it was."""
    mode = py_compile.PycInvalidationMode.CHECKED_HASH if hashed else py_compile.PycInvalidationMode.TIMESTAMP
    try:
        before = _stamp(path)
        cached = py_compile.compile(str(path), doraise=True, optimize=0, invalidation_mode=mode)
        if not hashed and _stamp(path) != before:  # its stamp could be that of bytes not compiled
            os.unlink(cached)
            return False
    except (py_compile.PyCompileError, OSError, ValueError):
        return False
    return True


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_ctime_ns, st.st_size


def _sources(roots: Sequence[Path]) -> Iterator[Path]:
    """``.py`` regular files of ``roots`` in folders this process may write. Symbolic links are not
    followed, to folders or to files: the bytecode of a linked file would show the sandbox a file
    it is not shown. Nothing but regular files is read (a FIFO named like a module would block the
    harness), nor any file over :data:`_MAX_SOURCE` (the worker compiles such a file itself); a
    folder whose ``__pycache__`` is a link (bytecode would be written wherever it points) is left out."""
    for root in roots:
        if root.suffix == ".py":
            if _is_source(root) and _writable(root.parent):
                yield root
            continue
        stack = [root] if root.is_dir() and not root.is_symlink() else []
        while stack:
            folder = stack.pop()
            writable = _writable(folder)
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        stack.append(Path(entry.path))
                elif writable and entry.name.endswith(".py") and _is_source(Path(entry.path)):
                    yield Path(entry.path)


def _writable(folder: Path) -> bool:
    """Whether bytecode of ``folder``'s modules may be written: the folder writable, its
    ``__pycache__`` absent or a folder (not a link)."""
    try:
        mode = (folder / "__pycache__").lstat().st_mode
    except FileNotFoundError:
        mode = stat.S_IFDIR
    except OSError:
        return False
    return stat.S_ISDIR(mode) and os.access(folder, os.W_OK)


def shown_bytecode(source: Path) -> str | None:
    """The bytecode of the module file ``source`` to show a sandbox beside it: only a regular file
    in a ``__pycache__`` folder that is no link (a link would show what it points to)."""
    cached = Path(cached_path(source))
    try:
        folder, own = cached.parent.lstat().st_mode, cached.lstat().st_mode
    except OSError:
        return None
    return str(cached) if stat.S_ISDIR(folder) and stat.S_ISREG(own) else None


def _is_source(path: Path) -> bool:
    try:
        st = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size <= _MAX_SOURCE


def cached_path(path: Path | str) -> str:
    """Where the bytecode a sandboxed worker imports for the source ``path`` lies (no ``-O``)."""
    return importlib.util.cache_from_source(str(path), optimization="")


def _fresh(path: Path, hashed: bool) -> bool:
    """Whether ``path`` has bytecode the worker's import would use: for ``hashed`` (code) files
    only bytecode that carries and checks the hash of the source as it is now."""
    try:
        # Not blocking on a FIFO, nor following a link, where the bytecode should be: never fresh.
        with os.fdopen(os.open(cached_path(path), os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW), "rb") as fh:
            header = fh.read(16) if stat.S_ISREG(os.fstat(fh.fileno()).st_mode) else b""
        if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
            return False
        flags = int.from_bytes(header[4:8], "little")
        if flags & 0b1:  # hash-based: bit 2 says whether the import checks the source
            if not flags & 0b10:
                return not hashed
            return header[8:] == importlib.util.source_hash(path.read_bytes())
        st = path.stat()
    except (OSError, ValueError):
        return False
    return not hashed and header[8:] == struct.pack("<LL", int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)


if __name__ == "__main__":
    _main()
