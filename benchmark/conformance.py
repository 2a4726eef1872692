"""Conformance suite: does a method adapter honour the contract of :mod:`benchmark.adapters`?

:func:`check_adapter` fits a method on a small SYNTHETIC data set (:mod:`benchmark.fake_data`) in the
method's own representation and checks what the harness relies on:

``meta``                 the :class:`MethodMeta` is complete and names a known representation
``config_json``          metadata and every budget's parameters serialise to strict JSON
``fit``                  ``fit`` runs on labelled training and validation windows
``predict_proba``        ``predict_proba`` runs on unlabelled test windows and returns an ndarray
``output_shape``         probabilities have shape ``(n_windows, n_classes)``
``finite``               no NaN or infinity
``unit_interval``        every probability lies in ``[0, 1]``
``rows_sum_to_one``      every row sums to 1
``no_label_access``      the adapter never read ``test.y`` and the test metadata holds no label column
``single_window``        a test set of one window works
``data_not_mutated``     training, validation and test windows, labels and metadata are unchanged
``deterministic``        a fresh instance fitted with the same seed predicts the same numbers
``windows_independent``  a test window's probabilities depend on its own recording only: the first
                         recording's windows predicted alone give the rows predicted with the whole
                         test set (scaling by the test set's statistics, or looking at other
                         recordings' windows, is transductive and fails)
``params_json``          ``adapter.params`` is still JSON after fitting (it is stored with the run)
``n_parameters``         ``n_parameters()`` returns ``None`` or a non-negative int
``no_file_access``       ``fit`` and ``predict_proba`` opened, copied, moved, removed or memory-mapped
                         no file outside the Python installation, the harness, the method's own
                         package and the work and cache folders (a method that reads files could read
                         the dataset's annotations)
``no_directory_listing`` nor listed or globbed a directory outside them
``no_process``           started no process (``subprocess``, ``os.system``, ``os.exec*``,
                         ``os.posix_spawn``, ``os.spawn*``, ``os.fork``)
``no_foreign_code``      loaded no library through ``ctypes`` from outside them (a bare name is found by
                         the system's linker) and no sqlite extension
``no_network``           opened no connection and looked up no host (sockets, ``urllib``, ``http``)
``no_database``          connected to no sqlite database outside them (the results store is one)

The last six come from Python's audit events (:func:`watch`, rule in :func:`reported`): a lint, not
a barrier. C code that calls the C library directly is not seen; run untrusted methods isolated.

Each check is a ``check_*`` function of this module that runs on its own on a :class:`Trial`
(``with trial(cls, synthetic_windows(cls)) as t: check_deterministic(t)``; ``meta`` and
``config_json`` also take the class); :func:`all_checks` lists them and :func:`check_adapter` runs
them all in the order above, each within a time limit (:func:`run_check`: one past it fails with one
line naming the limit).

The data: labels of a task's classes (``task``; by default two generic classes, ``negative`` and
``positive``; a task whose dataset decides its classes gets a stand-in of the usual shape, e.g.
background and three seizure types for ``seizure-type``, so multi-class code paths are exercised) and
raw windows of a shape in :data:`DATA_SHAPES` (``tiny``, the default, or ``chbmit``: CHB-MIT's 18
bipolar channels at 256 Hz in 10-s windows), turned into the method's representation. Video methods
get synthetic clips of their own clip settings. :func:`describe_setup` says in one line what was used.

Test windows are handed over as a :class:`LabelGuardedWindowSet`: any read of its ``y`` from outside
:mod:`benchmark.windowset` is recorded and raises :class:`LabelAccessError`. The output checks are
the rule the runner applies to every fold (:mod:`benchmark.probabilities`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import reprlib
import signal
import site
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark import adapters, features
from benchmark import windowset as windowset_module
from benchmark.adapters import BUDGETS, MODALITIES, FitContext, MethodAdapter, MethodMeta
from benchmark.datasets.chbmit import CHBMIT_CHANNELS
from benchmark.errors import BenchmarkError, did_you_mean
from benchmark.fake_data import DEFAULT_CLASSES, make_windowset
from benchmark.probabilities import RANGE_TOL, output_checks
from benchmark.tasks import BACKGROUND, get_task
from benchmark.windowset import WindowSet

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_\-]*$")
# Metadata columns whose names suggest they carry the answer (labels, seizure timing).
LABEL_LIKE = re.compile(r"(^y$|label|target|class|ictal|seizure|onset)", re.IGNORECASE)
# Code allowed to read ``y`` of a guarded set: WindowSet's own methods (e.g. iter_batches yields
# ``None`` for labels) and dataclass-generated __repr__/__eq__, which are compiled from "<string>".
_TRUSTED_FILES = frozenset({windowset_module.__file__, "<string>"})

# Checks fed by the audit hook (:func:`watch`, :func:`reported`), in report order.
WATCH_CHECKS = ("no_file_access", "no_directory_listing", "no_process", "no_foreign_code", "no_network", "no_database")
# Small data sets: small enough that the deep baselines fit in seconds, big enough for every class.
N_TRAIN, N_VALID, N_TEST = 64, 16, 24
#: Seconds one check may run by default: a few times the slowest smoke fit of the in-tree methods (the
#: video baselines take minutes on a busy 2-core CPU), short enough that a method that hangs is caught.
DEFAULT_TIME_LIMIT_S = 600.0
ATOL = RANGE_TOL
_AFTER_FIT = (
    "predict_proba",
    "no_label_access",
    "single_window",
    "data_not_mutated",
    "deterministic",
    "windows_independent",
    "params_json",
    "n_parameters",
    *WATCH_CHECKS,
)
_AFTER_META = ("config_json", "fit", *_AFTER_FIT)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one conformance check."""

    name: str
    ok: bool
    detail: str = ""


class CheckReport(list):
    """The :class:`CheckResult` list of :func:`check_adapter`, with ``setup``: what it was checked on
    (:func:`describe_setup`)."""

    def __init__(self, results=(), setup: str = ""):
        super().__init__(results)
        self.setup = setup


@dataclass(frozen=True)
class DataShape:
    """The raw EEG windows of the suite's synthetic data, before the method's representation."""

    name: str
    description: str
    n_chans: int
    sfreq: float
    window_s: float
    ch_names: tuple[str, ...] | None = None  # None: CH1, CH2, ...

    @property
    def n_times(self) -> int:
        return int(round(self.sfreq * self.window_s))


#: The data shapes ``check-adapter --data`` offers.
DATA_SHAPES: dict[str, DataShape] = {
    s.name: s
    for s in (
        DataShape("tiny", "4 channels at 128 Hz, 2-s windows", 4, 128.0, 2.0),
        DataShape("chbmit", "CHB-MIT's 18 bipolar channels at 256 Hz, 10-s windows", 18, 256.0, 10.0, CHBMIT_CHANNELS),
    )
}
# Classes for tasks whose dataset decides them, by modality: the shape real datasets give (background
# and three TUSZ seizure types, sorted as the seizure-type task sorts them; a video's ES vs PNES).
_STAND_IN_CLASSES = {"eeg": (BACKGROUND, "CPSZ", "FNSZ", "GNSZ"), "video": ("PNES", "ES")}


class CheckTimeout(BaseException):
    """Raised in a check that runs past its time limit; a BaseException so that an adapter's
    ``except Exception`` does not swallow it."""


class LabelAccessError(RuntimeError):
    """Raised when an adapter reads the labels of a test window set."""


class LabelGuardedWindowSet(WindowSet):
    """A label-free :class:`WindowSet` that records and refuses every read of ``y`` by adapter code.

    ``subset`` and ``without_labels`` return guarded sets sharing the same access log.
    """

    def __init__(self, *args, label_reads: list[str] | None = None, **kwargs):
        self.label_reads: list[str] = [] if label_reads is None else label_reads
        super().__init__(*args, **kwargs)

    @classmethod
    def wrap(cls, ws: WindowSet, label_reads: list[str] | None = None) -> LabelGuardedWindowSet:
        """Guarded, label-free copy of ``ws`` (sources are shared, not copied)."""
        return cls(ws.sources, ws.refs, ws.meta, None, ws.classes, dict(ws.info), label_reads=label_reads)

    @property
    def y(self) -> None:
        caller = sys._getframe(1)
        if caller.f_code.co_filename in _TRUSTED_FILES:
            return None
        where = f"{caller.f_code.co_filename}:{caller.f_lineno} in {caller.f_code.co_name}()"
        self.label_reads.append(where)
        raise LabelAccessError(f"test labels are hidden from methods; .y was read at {where}")

    @y.setter
    def y(self, value) -> None:
        if value is not None:
            raise ValueError("a label-guarded window set cannot hold labels")

    def subset(self, idx) -> LabelGuardedWindowSet:
        return self.wrap(WindowSet.subset(self, idx), self.label_reads)

    def without_labels(self) -> LabelGuardedWindowSet:
        return self.wrap(self, self.label_reads)


def label_like_columns(meta: pd.DataFrame) -> list[str]:
    """Columns of window metadata whose names suggest labels or seizure timing."""
    return [str(c) for c in meta.columns if LABEL_LIKE.search(str(c))]


def _digest(ws: WindowSet) -> str:
    """Fingerprint of everything in a window set an adapter could modify."""
    h = hashlib.sha256()
    for src in ws.sources:
        for arr in src.arrays() if hasattr(src, "arrays") else [src]:
            h.update(np.ascontiguousarray(arr).tobytes())
    h.update(ws.refs.tobytes())
    y = None if isinstance(ws, LabelGuardedWindowSet) else ws.y
    h.update(b"none" if y is None else np.asarray(y).tobytes())
    h.update(pd.util.hash_pandas_object(ws.meta, index=True).to_numpy().tobytes())
    h.update(json.dumps(ws.info, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _meta_problems(cls: type[MethodAdapter]) -> list[str]:
    meta = getattr(cls, "meta", None)
    if not isinstance(meta, MethodMeta):
        return ["class attribute 'meta' is not a MethodMeta"]
    problems = []
    if not NAME_PATTERN.match(meta.name or ""):
        problems.append(f"name {meta.name!r} must be lower-case letters, digits, '_' or '-'")
    if meta.modality not in MODALITIES:
        problems.append(f"modality {meta.modality!r} not in {MODALITIES}")
    if not meta.tasks or not all(isinstance(t, str) and t for t in meta.tasks):
        problems.append("tasks must be a non-empty tuple of task names")
    if meta.representation == "video":
        from benchmark.windows import video_params

        try:
            video_params(meta.representation_params)
        except Exception as exc:
            problems.append(f"representation_params invalid: {exc}")
    elif meta.representation not in adapters.REPRESENTATIONS or meta.representation not in features.REPRESENTATIONS:
        problems.append(f"representation {meta.representation!r} not in {adapters.REPRESENTATIONS}")
    else:
        try:
            features.representation_key(meta.representation, meta.representation_params)
        except Exception as exc:
            problems.append(f"representation_params invalid: {exc}")
    for budget in BUDGETS:
        if not isinstance(meta.budgets.get(budget), dict):
            problems.append(f"budget {budget!r} missing or not a dict")
    if not (isinstance(meta.version, str) and meta.version):
        problems.append("version must be a non-empty string")
    if not meta.citation.strip():
        problems.append("citation is empty")
    return problems


def _json_problem(obj: Any) -> str | None:
    try:
        json.dumps(obj, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return str(exc)
    return None


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _proba_checks(proba: Any, n: int, n_classes: int) -> list[CheckResult]:
    """Shape and value checks of one ``predict_proba`` output: the runner's own output rule."""
    return [CheckResult(c.name, c.ok, c.detail) for c in output_checks(proba, n, n_classes)]


# -- what the adapter does besides computing ------------------------------------------------------
_GLOB_MAGIC = re.compile(r"[*?[]")


@dataclass(frozen=True)
class Access:
    """One audit event raised while an adapter ran, as check-adapter judges it.

    ``path`` is the file or directory it touched (allowed under the allowed roots); ``None`` for an
    access no place makes harmless (a process, a socket, a library found by the system's linker).
    ``importing`` is the source of the module whose top-level code raised it while being imported.
    """

    check: str
    event: str
    text: str
    path: str | None = None
    importing: str | None = None

    @property
    def line(self) -> str:
        return f"{self.text} ({self.event})"


def _fd_path(fd: Any) -> str | None:
    """Path of an open file descriptor (``None`` for pipes, sockets and closed descriptors)."""
    if not isinstance(fd, int) or isinstance(fd, bool) or fd < 0:
        return None
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None
    return target if os.path.isabs(target) else None


def _path(arg: Any, dir_fd: Any = None) -> str | None:
    """Absolute path of a path or descriptor argument, resolved when the event is raised (the working
    directory or descriptor may change later); ``None`` when it names no file."""
    if isinstance(arg, int):
        return _fd_path(arg)
    if not isinstance(arg, (str, bytes, os.PathLike)):
        return None
    p = os.fsdecode(arg)
    if not os.path.isabs(p) and (base := _fd_path(dir_fd)):
        return os.path.join(base, p)
    return os.path.abspath(p)


def _command(args: Any) -> str:
    if isinstance(args, (str, bytes, os.PathLike)):
        return os.fsdecode(args)
    return " ".join(os.fsdecode(a) if isinstance(a, (str, bytes, os.PathLike)) else str(a) for a in args or ())


def _glob_dir(pattern: Any, root_dir: Any = None) -> str | None:
    """The directory a glob pattern starts listing: its parts up to the first wildcard."""
    if not isinstance(pattern, (str, bytes, os.PathLike)):
        return None
    parts = []
    for part in Path(os.fsdecode(pattern)).parts:
        if _GLOB_MAGIC.search(part):
            break
        parts.append(part)
    base = os.path.join(*parts) if parts else "."
    if root_dir is not None and not os.path.isabs(base):
        base = os.path.join(os.fsdecode(root_dir), base)
    return _path(base)


def _library(name: Any) -> tuple[str, str | None]:
    """Readable name and path of a shared library; a bare name is searched by the system's linker."""
    if name is None:
        return "the program's own symbols", None
    name = os.fsdecode(name) if isinstance(name, (str, bytes, os.PathLike)) else str(name)
    return name, (os.path.abspath(name) if os.sep in name else None)


def _sqlite(database: Any) -> list[tuple[str, str | None]]:
    name = os.fsdecode(database) if isinstance(database, (str, bytes, os.PathLike)) else str(database)
    if name in ("", ":memory:") or "mode=memory" in name:
        return []
    path = name.removeprefix("file:").split("?")[0] if name.startswith("file:") else name
    return [(f"connected to sqlite database {_path(path)}", _path(path))]


def _host(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return os.fsdecode(address) if isinstance(address, (str, bytes)) else str(address)


def _file(verb: str, *paths: Any) -> list[tuple[str, str | None]]:
    return [(f"{verb} {p}", p) for p in paths if p is not None]


def _dlsym(library: Any, name: Any) -> list[tuple[str, str | None]]:
    lib, path = _library(getattr(library, "_name", library))
    return [(f"looked up foreign function {name} in {lib}", path)]


# The audit events watched: event -> (check that reports it, accesses found in its arguments as
# (readable text, path or None)). https://docs.python.org/3/library/audit_events.html
_EVENTS: dict[str, tuple[str, Callable[..., list[tuple[str, str | None]]]]] = {
    "open": ("no_file_access", lambda path, *_: _file("opened file", _path(path))),
    "shutil.copyfile": ("no_file_access", lambda src, dst: _file("copied file", _path(src), _path(dst))),
    "shutil.copytree": ("no_file_access", lambda src, dst: _file("copied directory", _path(src), _path(dst))),
    "shutil.move": ("no_file_access", lambda src, dst: _file("moved", _path(src), _path(dst))),
    "os.remove": ("no_file_access", lambda path, dir_fd: _file("removed file", _path(path, dir_fd))),
    "os.rename": ("no_file_access", lambda src, dst, sfd, dfd: _file("renamed", _path(src, sfd), _path(dst, dfd))),
    "mmap.__new__": ("no_file_access", lambda fileno, *_: _file("mapped file", _fd_path(fileno))),
    # No path: the working directory.
    "os.listdir": ("no_directory_listing", lambda path: _file("listed directory", _path(path or "."))),
    "os.scandir": ("no_directory_listing", lambda path: _file("listed directory", _path(path or "."))),
    "os.walk": ("no_directory_listing", lambda top, *_: _file("walked directory", _path(top))),
    "os.fwalk": ("no_directory_listing", lambda top, *_: _file("walked directory", _path(top))),
    "glob.glob/2": (
        "no_directory_listing",
        lambda pattern, recursive, root_dir, dir_fd: _file(
            f"globbed {os.fsdecode(pattern)!r} in", _glob_dir(pattern, root_dir)
        ),
    ),
    "pathlib.Path.glob": ("no_directory_listing", lambda path, pattern: _file(f"globbed {pattern!r} in", _path(path))),
    "pathlib.Path.rglob": ("no_directory_listing", lambda path, pattern: _file(f"globbed {pattern!r} in", _path(path))),
    "subprocess.Popen": ("no_process", lambda exe, args, *_: [(f"started a process: {_command(args)}", None)]),
    "os.system": ("no_process", lambda command: [(f"ran a shell command: {_command(command)}", None)]),
    "os.exec": ("no_process", lambda path, args, env: [(f"replaced the process: {_command(args)}", None)]),
    "os.posix_spawn": ("no_process", lambda path, argv, env: [(f"started a process: {_command(argv)}", None)]),
    "os.spawn": ("no_process", lambda mode, path, args, env: [(f"started a process: {_command(args)}", None)]),
    "pty.spawn": ("no_process", lambda argv: [(f"started a process: {_command(argv)}", None)]),
    # A forked child's own events are not seen here.
    "os.fork": ("no_process", lambda: [("forked the process", None)]),
    "os.forkpty": ("no_process", lambda: [("forked the process", None)]),
    "ctypes.dlopen": (
        "no_foreign_code",
        lambda name: [(f"loaded foreign code: {lib}", path) for lib, path in [_library(name)]],
    ),
    "ctypes.dlsym": ("no_foreign_code", _dlsym),
    "ctypes.dlsym/handle": ("no_foreign_code", lambda handle, name: [(f"looked up foreign function {name}", None)]),
    "sqlite3.load_extension": (
        "no_foreign_code",
        lambda conn, path: [(f"loaded an sqlite extension: {os.fsdecode(path)}", None)],
    ),
    "socket.connect": ("no_network", lambda sock, address: [(f"connected a socket to {_host(address)}", None)]),
    "socket.bind": ("no_network", lambda sock, address: [(f"bound a socket to {_host(address)}", None)]),
    "socket.sendto": ("no_network", lambda sock, address: [(f"sent a datagram to {_host(address)}", None)]),
    "socket.sendmsg": ("no_network", lambda sock, address: [(f"sent a message to {_host(address)}", None)]),
    "socket.getaddrinfo": ("no_network", lambda host, port, *_: [(f"looked up host {_host((host, port))}", None)]),
    "socket.gethostbyname": ("no_network", lambda host: [(f"looked up host {host}", None)]),
    "socket.gethostbyaddr": ("no_network", lambda ip: [(f"looked up address {ip}", None)]),
    "urllib.Request": ("no_network", lambda url, *_: [(f"requested URL {url}", None)]),
    "http.client.connect": ("no_network", lambda conn, host, port: [(f"connected to {host}:{port}", None)]),
    "ftplib.connect": ("no_network", lambda conn, host, port: [(f"connected to {host}:{port}", None)]),
    "smtplib.connect": ("no_network", lambda conn, host, port: [(f"connected to {host}:{port}", None)]),
    "imaplib.open": ("no_network", lambda conn, host, port: [(f"connected to {host}:{port}", None)]),
    "poplib.connect": ("no_network", lambda conn, host, port: [(f"connected to {host}:{port}", None)]),
    "webbrowser.open": ("no_network", lambda url: [(f"opened URL {url}", None)]),
    "sqlite3.connect": ("no_database", _sqlite),
}
_WATCH_LOCK = threading.Lock()
_WATCHED: list[list[Access]] = []  # the lists of the watches in progress (all threads' events go in)
_HOOKED = False


def _importing(frame) -> str | None:
    """Source of the module whose top-level code is running at ``frame``, when it runs because that
    module is being imported (not an ``exec`` of module-like code)."""
    while frame is not None:
        if frame.f_code.co_name == "<module>":
            back = frame.f_back
            importer = back is not None and back.f_code.co_filename.startswith("<frozen importlib")
            return frame.f_code.co_filename if importer else None
        frame = frame.f_back
    return None


def _audit(event: str, args: tuple) -> None:
    if not _WATCHED or event not in _EVENTS:
        return
    check, describe = _EVENTS[event]
    # The hook must never break the adapter's call: an argument shape this Python version changed
    # is reported as the raw event.
    try:
        found = describe(*args)
    except Exception:
        try:
            found = [(f"unrecognised arguments {reprlib.repr(args)}", None)]
        except Exception:
            found = [("unrecognised arguments", None)]
    if not found:
        return
    try:
        importing = _importing(sys._getframe(1))
    except ValueError:  # raised from C with no Python frame above the hook
        importing = None
    for text, path in found:
        access = Access(check, event, text, path, importing)
        for seen in _WATCHED:
            seen.append(access)


@contextlib.contextmanager
def watch():
    """Collect the :class:`Access` of every watched Python audit event raised while inside.

    Watched: file opens, copies, moves, removals and memory maps; directory listings and globs;
    process creation (``subprocess``, ``os.system``, ``os.exec*``, ``os.posix_spawn``, ``os.spawn*``,
    ``os.fork``, ``pty``); foreign code (``ctypes`` loading a library or looking up a function,
    sqlite extensions); the network (socket connect, bind, send and name look-ups, ``urllib`` and
    the other stdlib clients); ``sqlite3.connect``. Events of all threads go in.

    It is a lint, not a barrier: audit events are raised by Python's own functions, so C code that
    calls the C library directly (an extension module, a function reached through ``ctypes`` before
    the watch began, ``multiprocessing``'s own process start) and what a forked child does are not
    seen. The hook is installed once per process (audit hooks cannot be removed) and costs a
    dictionary look-up per event outside a watch.
    """
    global _HOOKED
    with _WATCH_LOCK:
        if not _HOOKED:
            sys.addaudithook(_audit)
            _HOOKED = True
    seen: list[Access] = []
    _WATCHED.append(seen)
    try:
        yield seen
    finally:
        _WATCHED.remove(seen)


def allowed_roots(cls: type, extra: list[Path] | tuple[Path, ...] = ()) -> list[Path]:
    """Where an adapter may open and list files: Python and its packages (imports), the harness's
    packages, the method's own package, ``extra`` (work and cache folders), and kernel and device files."""
    from benchmark.sandbox import code_dirs, method_source

    plugin = method_source(cls)[2]
    # The same code a sandboxed fold can read: the harness, the in-tree methods and baselines, the plug-in.
    roots = {*_python_dirs(), *code_dirs([plugin] if plugin else []), *extra}
    # Kernel and device information (paths through /proc/<pid>/root or fd links are resolved first).
    roots.update(
        Path(p)
        for p in ("/dev/null", "/dev/urandom", "/dev/shm", "/proc", "/sys", "/etc/localtime", "/usr/share/zoneinfo")
    )
    return sorted({Path(os.path.realpath(r)) for r in roots})


def _python_dirs() -> list[Path]:
    """The Python installation and its package folders (where libraries live), those a sandboxed fold
    sees included (``uv run --with PKG`` layers the project's packages in through a .pth file)."""
    from benchmark.sandbox import _python_dirs as sandbox_python_dirs

    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(), *map(str, sandbox_python_dirs())}
    return sorted({Path(os.path.realpath(d)) for d in dirs})


def _own_package(cls: type) -> Path | None:
    top = sys.modules.get(cls.__module__.split(".")[0])
    where = getattr(top, "__path__", None) or [getattr(top, "__file__", None)]
    first = next(iter(where), None)
    return Path(os.path.realpath(first)) if isinstance(first, str) else None


_METADATA_DIRS = (".dist-info", ".egg-info")
#: Programs libraries run to count CPU cores at run time (joblib/loky runs ``lscpu --parse=core``).
CPU_PROBES = frozenset({"lscpu", "nproc"})


def _cpu_probe(text: str) -> bool:
    words = text.removeprefix("started a process: ").split()
    return bool(words) and os.path.basename(words[0]) in CPU_PROBES


def reported(accesses: list[Access], roots: list[Path], own: Path | None = None) -> dict[str, list[str]]:
    """The rule of what an adapter may do while it fits and predicts: the distinct accesses it may not,
    as readable lines by check (:data:`WATCH_CHECKS`), in order of first occurrence.

    Allowed: touching a file or directory under ``roots`` (see :func:`allowed_roots`); reading the
    source of a loaded module (tracebacks and warnings do); and whatever a library's top-level code
    does while it is being imported (torch probing for CUDA, ``platform`` calling ``uname``), unless
    the library is the method's own package ``own``; reading installed packages' metadata
    (``*.dist-info``), and the programs libraries run to count CPU cores (:data:`CPU_PROBES`).
    Anything else is reported: files and folders elsewhere, and every other process, socket, sqlite
    database outside the roots and library found by the system's linker.
    """
    sources = {
        Path(os.path.realpath(f))
        for m in list(sys.modules.values())
        if isinstance(f := getattr(m, "__file__", None), str)
    }
    libraries = _python_dirs()
    real = functools.cache(lambda p: Path(os.path.realpath(p)))  # thousands of opens, few distinct paths

    def under(path: str, dirs: list[Path]) -> bool:
        return any(real(path) == d or real(path).is_relative_to(d) for d in dirs)

    found: dict[str, dict[str, None]] = {c: {} for c in WATCH_CHECKS}
    for a in accesses:
        if a.importing and under(a.importing, libraries) and not (own and under(a.importing, [own])):
            continue
        if a.path is not None and (under(a.path, roots) or real(a.path) in sources):
            continue
        if a.path is not None and any(part.endswith(_METADATA_DIRS) for part in real(a.path).parts):
            continue  # installed packages' metadata (scikit-learn's dataframe support lists plug-ins)
        if a.check == "no_process" and _cpu_probe(a.text):
            continue
        found[a.check].setdefault(a.line)
    return {c: list(lines) for c, lines in found.items()}


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, BaseException | None]:
    t0 = time.perf_counter()
    try:
        return fn(), time.perf_counter() - t0, None
    # The suite reports adapter failures instead of crashing on them; a time-out is kept as the
    # step's failure, so that later checks do not run the step again.
    except (Exception, CheckTimeout) as exc:
        return None, time.perf_counter() - t0, exc


def _resolve(name_or_cls: str | type[MethodAdapter] | MethodAdapter) -> type[MethodAdapter]:
    if isinstance(name_or_cls, str):
        return adapters.get_method(name_or_cls)
    if isinstance(name_or_cls, type) and issubclass(name_or_cls, MethodAdapter):
        return name_or_cls
    if isinstance(name_or_cls, MethodAdapter):  # SklearnAdapter(...), BraindecodeAdapter(...)
        return adapters.adapter_class(name_or_cls, f"check_adapter({type(name_or_cls).__name__})")
    raise TypeError(f"expected a method name, a MethodAdapter subclass or instance, got {name_or_cls!r}")


def check_adapter(
    name_or_cls: str | type[MethodAdapter],
    *,
    budget: str = "smoke",
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
    task: str | None = None,
    data: str | DataShape = "tiny",
    threads: int | None = None,
    time_limit: float | None = DEFAULT_TIME_LIMIT_S,
) -> CheckReport:
    """Run the conformance suite on one method; see the module docstring for the checks.

    Parameters
    ----------
    name_or_cls
        Registered method name, or a :class:`MethodAdapter` subclass (registered or not).
    budget, overrides
        Budget whose parameters are used, and overrides merged over them (e.g. fewer epochs).
    seed
        Seed of the fits and of the synthetic data.
    task
        Task whose classes label the data (the method must declare it); ``None``: two generic classes.
    data
        Shape of the synthetic raw windows, a name in :data:`DATA_SHAPES`.
    threads
        torch CPU threads while the checks run, as ``run --threads`` (``None``: torch's default).
    time_limit
        Seconds each check may run (``None``: no limit); one that runs longer fails.

    Returns
    -------
    CheckReport
        One result per check, in a fixed order, and the setup it was checked on; checks that could
        not run because an earlier step failed are reported as failed with a "not run" detail.

    Raises
    ------
    BenchmarkError
        An unknown task or data shape, a task the method does not declare, EEG data for a video
        method, or a thread count or time limit out of range (one line each).
    """
    cls = _resolve(name_or_cls)
    shape, classes = _setup(cls, task, data, threads, time_limit)
    report = CheckReport(setup=describe_setup(cls, task, shape, budget))
    with _torch_threads(threads):
        report.extend(_run_suite(cls, budget, seed, overrides, task, shape, classes, time_limit))
    return report


def _run_suite(cls, budget, seed, overrides, task, shape, classes, time_limit) -> list[CheckResult]:
    """The checks of :func:`check_adapter` in order, after its arguments were checked."""
    results = run_check(check_meta, cls, time_limit)
    if not _usable(cls, budget):
        return results + [CheckResult(c, False, "not run: unusable meta") for c in _AFTER_META]
    _refuse_undeclared_task(cls, task)
    results += run_check(functools.partial(check_config_json, overrides=overrides), cls, time_limit)
    try:
        windows = synthetic_windows(cls, seed=seed, task=task, data=shape)
    except Exception as exc:
        detail = f"not run: could not build synthetic {cls.meta.representation} windows: {_error(exc)}"
        return results + [CheckResult(c, False, detail) for c in _AFTER_META[1:]]
    with trial(cls, windows, budget=budget, seed=seed, overrides=overrides) as t:
        results += run_check(check_fit, t, time_limit)
        if t.adapter is None:
            return results + [CheckResult(c, False, "not run: fit failed") for c in _AFTER_FIT]
        for check in RUN_CHECKS:
            results += run_check(check, t, time_limit)
    # After the watch and the work folder have closed: what was stored and what the watch saw.
    for check in AFTER_CHECKS:
        results += run_check(check, t, time_limit)
    return results


def _setup(cls, task, data, threads, time_limit) -> tuple[DataShape, tuple[str, ...]]:
    """The data shape and classes of a suite, after refusing bad arguments in one line."""
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise BenchmarkError(f"--threads must be a whole number of at least 1, got {threads!r}.")
    if time_limit is not None and not 0 < time_limit < float("inf"):
        raise BenchmarkError(f"--time-limit must be a positive, finite number of seconds, got {time_limit:g}.")
    shape = data_shape(data)
    if shape.name != "tiny" and getattr(getattr(cls, "meta", None), "representation", None) == "video":
        raise BenchmarkError(
            f"data shape '{shape.name}' is EEG; a video method is checked on synthetic clips of its own "
            "clip settings: leave out --data."
        )
    return shape, task_classes(task)


def data_shape(data: str | DataShape) -> DataShape:
    """The :class:`DataShape` named ``data``; an unknown name gives a one-line error."""
    if isinstance(data, DataShape):
        return data
    if data not in DATA_SHAPES:
        raise BenchmarkError(
            f"unknown data shape '{data}'.{did_you_mean(str(data), DATA_SHAPES)} Choose one of {sorted(DATA_SHAPES)}."
        )
    return DATA_SHAPES[data]


def task_classes(task: str | None) -> tuple[str, ...]:
    """The class names of the suite's labels for ``task`` (see the module docstring)."""
    if task is None:
        return DEFAULT_CLASSES
    meta = get_task(task).metadata
    return tuple(meta.classes) if meta.classes else _STAND_IN_CLASSES[meta.modality]


def _refuse_undeclared_task(cls: type[MethodAdapter], task: str | None) -> None:
    if task is not None and task not in cls.meta.tasks:
        raise BenchmarkError(
            f"method '{cls.meta.name}' does not declare task '{task}' (it declares "
            f"{', '.join(cls.meta.tasks)}); check it with --task {cls.meta.tasks[0]}, or add the task to its "
            "MethodMeta.tasks."
        )


def describe_setup(cls: type[MethodAdapter], task: str | None, data: str | DataShape, budget: str = "smoke") -> str:
    """One line saying what the suite runs on: the task and its classes, the data shape, the budget."""
    shape, classes = data_shape(data), task_classes(task)
    labels = f"task {task}" if task else "no task (generic labels)"
    representation = getattr(getattr(cls, "meta", None), "representation", "?")
    windows = f"{N_TRAIN}/{N_VALID}/{N_TEST} SYNTHETIC train/valid/test windows"
    if representation == "video":
        where = f"{windows} of video clips in the method's clip settings"
    else:
        where = f"data {shape.name} ({shape.description}), {windows} in the method's {representation} representation"
    return f"{labels}, {len(classes)} classes ({', '.join(classes)}); {where}; budget {budget}"


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """torch CPU threads set to ``threads`` while inside (as a run's folds set them), then restored."""
    if threads is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _usable(cls: type[MethodAdapter], budget: str) -> bool:
    """Whether the meta is good enough to build data and fit: a MethodMeta with a known representation
    and the budget asked for."""
    meta = getattr(cls, "meta", None)
    return (
        isinstance(meta, MethodMeta)
        and budget in meta.budgets
        and not any(p.startswith(("representation", "budget")) for p in _meta_problems(cls))
    )


def synthetic_windows(
    cls: type[MethodAdapter], *, seed: int = 0, task: str | None = None, data: str | DataShape = "tiny"
) -> tuple[WindowSet, WindowSet, WindowSet]:
    """The suite's SYNTHETIC training, validation and (labelled) test windows in the method's
    representation, labelled with ``task``'s classes (:func:`task_classes`), of shape ``data``."""
    meta, shape, classes = cls.meta, data_shape(data), task_classes(task)

    def windows(n: int, offset: int) -> WindowSet:
        ws = make_windowset(
            n,
            shape.n_chans,
            shape.n_times,
            shape.sfreq,
            representation=meta.representation,
            params=meta.representation_params,
            seed=seed + offset,
            classes=classes,
            writeable=True,
        )
        # What a run's windows say about themselves (benchmark.runner): the task, channels and window.
        if meta.representation != "video":
            ws.info["window_s"] = shape.window_s
            if shape.ch_names:
                ws.info["ch_names"] = list(shape.ch_names)
        if task is not None:
            ws.info["task"] = task
        return ws

    return windows(N_TRAIN, 1), windows(N_VALID, 2), windows(N_TEST, 3)


@dataclass
class Trial:
    """One method under test: its windows, its work folder and what it did, shared by the checks.

    Built by :func:`trial`; the adapter is fitted and predicts once, on the first check that needs it.
    """

    cls: type[MethodAdapter]
    budget: str
    seed: int
    overrides: dict[str, Any] | None
    train: WindowSet
    valid: WindowSet
    test: LabelGuardedWindowSet
    before: dict[str, str]  # digests of the three sets before the adapter saw them
    work: Path
    accesses: list[Access]
    fitted: tuple[Any, float, BaseException | None] | None = None
    predicted: tuple[Any, float, BaseException | None] | None = None
    found: dict[str, list[str]] | None = None

    @property
    def n_classes(self) -> int:
        return self.train.n_classes

    @property
    def adapter(self) -> MethodAdapter | None:
        """The fitted adapter; ``None`` before the first fit or when it failed."""
        return self.fitted[0] if self.fitted else None

    def fit(self, work: str) -> MethodAdapter:
        """A fresh adapter fitted on the training and validation windows with work folder ``work``."""
        adapter = self.cls.from_budget(self.budget, self.overrides)
        # One feature cache for both fits, as runs share one: the determinism check then also
        # covers features read back from the cache.
        context = FitContext(
            seed=self.seed,
            device="cpu",
            budget=self.budget,
            work_dir=self.work / work,
            cache_dir=self.work / "features",
        )
        context.work_dir.mkdir()
        adapter.fit(self.train, self.valid, context)
        return adapter


@contextlib.contextmanager
def trial(
    cls: type[MethodAdapter],
    windows: tuple[WindowSet, WindowSet, WindowSet],
    *,
    budget: str = "smoke",
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
) -> Iterator[Trial]:
    """A :class:`Trial` of ``cls`` on ``windows`` (see :func:`synthetic_windows`): the test windows are
    label-guarded, and while inside, a temporary work folder exists and audit events are collected."""
    train, valid, test_labelled = windows
    test = LabelGuardedWindowSet.wrap(test_labelled)
    before = {k: _digest(ws) for k, ws in (("train", train), ("valid", valid), ("test", test))}
    with tempfile.TemporaryDirectory(prefix="seizure-bench-conformance-") as tmp, watch() as accesses:
        yield Trial(cls, budget, seed, overrides, train, valid, test, before, Path(tmp), accesses)


def _first_fit(t: Trial) -> tuple[Any, float, BaseException | None]:
    if t.fitted is None:
        t.fitted = _timed(lambda: t.fit("fit1"))
    return t.fitted


def _prediction(t: Trial) -> tuple[Any, float, BaseException | None]:
    """The first fit's ``predict_proba`` on the test windows (made once)."""
    if t.predicted is None:
        adapter, _, exc = _first_fit(t)
        t.predicted = (
            (None, 0.0, RuntimeError("not run: fit failed")) if exc else _timed(lambda: adapter.predict_proba(t.test))
        )
    return t.predicted


# -- the checks, one per name in the module docstring ----------------------------------------------
def check_meta(subject: type[MethodAdapter] | Trial) -> CheckResult:
    """The :class:`MethodMeta` is complete and names a known representation (of a class or a trial's)."""
    problems = _meta_problems(subject.cls if isinstance(subject, Trial) else subject)
    return CheckResult("meta", not problems, "; ".join(problems))


def check_config_json(subject: type[MethodAdapter] | Trial, overrides: dict[str, Any] | None = None) -> CheckResult:
    """Metadata, every budget's parameters and the overrides (a trial's own, given a trial) serialise
    to strict JSON."""
    if isinstance(subject, Trial):
        subject, overrides = subject.cls, subject.overrides
    meta = subject.meta
    config_problems = []
    for label, obj in [(f"budget {b!r}", meta.budgets[b]) for b in BUDGETS] + [
        ("meta", meta.to_dict()),
        ("overrides", overrides or {}),
    ]:
        problem = _json_problem(obj)
        if problem:
            config_problems.append(f"{label}: {problem}")
    return CheckResult("config_json", not config_problems, "; ".join(config_problems))


def check_fit(t: Trial) -> CheckResult:
    """``fit`` runs on labelled training and validation windows."""
    _, seconds, exc = _first_fit(t)
    return CheckResult("fit", exc is None, _error(exc) if exc else f"{seconds:.2f} s")


def check_predict_proba(t: Trial) -> CheckResult:
    """``predict_proba`` runs on unlabelled test windows."""
    if _first_fit(t)[2] is not None:
        return CheckResult("predict_proba", False, "not run: fit failed")
    _, seconds, exc = _prediction(t)
    return CheckResult("predict_proba", exc is None, _error(exc) if exc else f"{seconds:.2f} s")


def check_outputs(t: Trial) -> list[CheckResult]:
    """The runner's output rule on the test probabilities (``output_shape``, ``finite``,
    ``unit_interval``, ``rows_sum_to_one``); none when ``predict_proba`` failed."""
    proba, _, exc = _prediction(t)
    return _proba_checks(proba, len(t.test), t.n_classes) if exc is None else []


def check_no_label_access(t: Trial) -> CheckResult:
    """The adapter never read ``test.y`` and the test metadata holds no label column."""
    _prediction(t)
    leaked = label_like_columns(t.test.meta)
    label_detail = []
    if t.test.label_reads:
        label_detail.append(f"read test labels at {t.test.label_reads[0]}")
    if leaked:
        label_detail.append(f"test metadata has label-like columns {leaked}")
    return CheckResult("no_label_access", not label_detail, "; ".join(label_detail))


def check_single_window(t: Trial) -> CheckResult:
    """A test set of one window works."""
    adapter, _, exc = _first_fit(t)
    if exc is not None:
        return CheckResult("single_window", False, "not run: fit failed")
    one, _, exc = _timed(lambda: adapter.predict_proba(t.test.subset([0])))
    if exc is not None:
        return CheckResult("single_window", False, _error(exc))
    bad = [r.detail for r in _proba_checks(one, 1, t.n_classes) if not r.ok]
    return CheckResult("single_window", not bad, "; ".join(bad))


def check_data_not_mutated(t: Trial) -> CheckResult:
    """Training, validation and test windows, labels and metadata are unchanged."""
    _prediction(t)
    sets = (("train", t.train), ("valid", t.valid), ("test", t.test))
    changed = [k for k, ws in sets if _digest(ws) != t.before[k]]
    return CheckResult("data_not_mutated", not changed, f"modified: {', '.join(changed)}" if changed else "")


def _difference(a: np.ndarray, b: np.ndarray) -> tuple[float, bool]:
    """Largest absolute difference of two same-shape outputs where both are numbers, and whether
    their NaNs sit in the same places."""
    a, b = a.astype(float), b.astype(float)
    same_nan = bool((np.isnan(a) == np.isnan(b)).all())
    return float(np.abs(a - b)[~np.isnan(a) & ~np.isnan(b)].max(initial=0.0)), same_nan


def check_deterministic(t: Trial) -> CheckResult:
    """A fresh instance fitted with the same seed predicts the same numbers."""
    proba, _, _ = _prediction(t)
    again, _, exc = _timed(lambda: t.fit("fit2").predict_proba(t.test))
    if exc is not None:
        return CheckResult("deterministic", False, f"second fit failed: {_error(exc)}")
    if (
        not isinstance(proba, np.ndarray)
        or not isinstance(again, np.ndarray)
        or again.shape != proba.shape
        or not (np.issubdtype(again.dtype, np.number) and np.issubdtype(proba.dtype, np.number))
    ):
        return CheckResult("deterministic", False, "not comparable: predict_proba failed or changed shape")
    diff, same_nan = _difference(again, proba)
    same = same_nan and np.isfinite(diff) and diff <= ATOL
    detail = f"max |difference| between two fits = {diff:.2e}" + ("" if same_nan else "; NaNs differ")
    return CheckResult("deterministic", bool(same), detail)


def check_windows_independent(t: Trial) -> CheckResult:
    """The first test recording's windows predicted alone give the rows the whole test set gave them."""
    name = "windows_independent"
    proba, _, exc = _prediction(t)
    adapter, _, fit_exc = _first_fit(t)
    if fit_exc is not None or exc is not None or not isinstance(proba, np.ndarray):
        return CheckResult(name, False, "not run: fit or predict_proba failed")
    recordings = t.test.meta["recording"].astype(str).to_numpy()
    idx = np.flatnonzero(recordings == recordings[0])
    if len(idx) == len(recordings):
        return CheckResult(name, True, "not checked: the test set holds one recording")
    part, _, exc = _timed(lambda: adapter.predict_proba(t.test.subset(idx)))
    if exc is not None:
        return CheckResult(name, False, f"predicting one recording failed: {_error(exc)}")
    whole = proba[idx]
    if not isinstance(part, np.ndarray) or part.shape != whole.shape:
        return CheckResult(name, False, "not comparable: predict_proba on one recording changed shape")
    diff, same_nan = _difference(part, whole)  # NaNs are the finite check's to report
    detail = f"max |difference| for recording {recordings[0]} alone vs with the others = {diff:.2e}"
    return CheckResult(name, same_nan and diff <= ATOL, detail + ("" if same_nan else "; NaNs differ"))


def check_params_json(t: Trial) -> CheckResult:
    """``adapter.params`` is still JSON after fitting (it is stored with the run)."""
    adapter, _, exc = _first_fit(t)
    if exc is not None:
        return CheckResult("params_json", False, "not run: fit failed")
    problem = _json_problem(adapter.params)
    return CheckResult("params_json", problem is None, problem or "")


def check_n_parameters(t: Trial) -> CheckResult:
    """``n_parameters()`` returns ``None`` or a non-negative int."""
    adapter, _, exc = _first_fit(t)
    if exc is not None:
        return CheckResult("n_parameters", False, "not run: fit failed")
    n_params, _, exc = _timed(adapter.n_parameters)
    ok = exc is None and (n_params is None or (isinstance(n_params, (int, np.integer)) and n_params >= 0))
    return CheckResult("n_parameters", ok, _error(exc) if exc else f"{n_params}")


def _watched(t: Trial, check: str) -> CheckResult:
    """One of :data:`WATCH_CHECKS` on what the watch saw so far (judged once, on first use, after the
    adapter has fitted and predicted)."""
    if t.found is None:
        _prediction(t)
        t.found = reported(t.accesses, allowed_roots(t.cls, [t.work]), _own_package(t.cls))
    lines = t.found[check]
    more = f"; and {len(lines) - 3} more" if len(lines) > 3 else ""
    return CheckResult(check, not lines, "; ".join(lines[:3]) + more)


def check_no_file_access(t: Trial) -> CheckResult:
    """No file opened, copied, moved, removed or memory-mapped outside the allowed roots."""
    return _watched(t, "no_file_access")


def check_no_directory_listing(t: Trial) -> CheckResult:
    """No directory listed or globbed outside the allowed roots."""
    return _watched(t, "no_directory_listing")


def check_no_process(t: Trial) -> CheckResult:
    """No process started."""
    return _watched(t, "no_process")


def check_no_foreign_code(t: Trial) -> CheckResult:
    """No library loaded through ``ctypes`` from outside the allowed roots, no sqlite extension."""
    return _watched(t, "no_foreign_code")


def check_no_network(t: Trial) -> CheckResult:
    """No connection opened, no host looked up."""
    return _watched(t, "no_network")


def check_no_database(t: Trial) -> CheckResult:
    """No sqlite database connected outside the allowed roots."""
    return _watched(t, "no_database")


# The suite after ``fit``, in report order: checks while the adapter runs (watched), then after.
RUN_CHECKS: tuple[Callable[[Trial], CheckResult | list[CheckResult]], ...] = (
    check_predict_proba,
    check_outputs,
    check_no_label_access,
    check_single_window,
    check_data_not_mutated,
    check_deterministic,
    check_windows_independent,
)
AFTER_CHECKS: tuple[Callable[[Trial], CheckResult], ...] = (
    check_params_json,
    check_n_parameters,
    check_no_file_access,
    check_no_directory_listing,
    check_no_process,
    check_no_foreign_code,
    check_no_network,
    check_no_database,
)


def all_checks() -> tuple[Callable[[Any], CheckResult | list[CheckResult]], ...]:
    """Every check function in report order; each takes a :class:`Trial` (``check_meta`` and
    ``check_config_json`` also a method class) and returns a result (``check_outputs``: a list)."""
    return (check_meta, check_config_json, check_fit, *RUN_CHECKS, *AFTER_CHECKS)


def check_name(check: Callable[..., Any]) -> str:
    """The name a check reports (``check_outputs``: the first of its four)."""
    check = getattr(check, "func", check)  # a functools.partial
    return "output_shape" if check is check_outputs else check.__name__.removeprefix("check_")


#: Seconds past a check's time limit after which the process is ended (exit status 124) when the
#: check still runs: an adapter that swallows the time-out (``except BaseException``) cannot hang it.
HARD_GRACE_S = 10.0


def _hard_stop(name: str, time_limit: float) -> None:
    sys.stderr.write(
        f"check-adapter: {name} still ran {HARD_GRACE_S:g} s after its time limit of {time_limit:g} s "
        "(the adapter caught the time-out); stopped: the adapter fails this check\n"
    )
    sys.stderr.flush()
    os._exit(124)


def run_check(
    check: Callable[[Any], CheckResult | list[CheckResult]], subject: Any, time_limit: float | None = None
) -> list[CheckResult]:
    """``check(subject)`` as a list of results; past ``time_limit`` seconds it is stopped and fails.

    The limit interrupts Python code through ``SIGALRM`` when called from the main thread (a long
    call into C ends first); elsewhere, or when a timer is already set, a check that took longer
    fails once it returns. A check still running :data:`HARD_GRACE_S` seconds after its limit (its
    adapter caught the time-out, or a call into C never returns) ends the process, in one line.
    """
    expired = False
    watchdog = None
    if time_limit is not None:
        watchdog = threading.Timer(time_limit + HARD_GRACE_S, _hard_stop, (check_name(check), time_limit))
        watchdog.daemon = True
        watchdog.start()

    def on_alarm(signum, frame):
        nonlocal expired
        expired = True
        raise CheckTimeout(f"{check_name(check)} ran past {time_limit:g} s")

    alarm = (
        time_limit is not None
        and threading.current_thread() is threading.main_thread()
        and hasattr(signal, "setitimer")
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )
    t0 = time.perf_counter()
    outcome = None
    previous = signal.signal(signal.SIGALRM, on_alarm) if alarm else None
    try:
        try:
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, time_limit)
            outcome = check(subject)
        finally:
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except CheckTimeout:
        pass  # raised by on_alarm outside the adapter's own steps (they keep it as their failure)
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if alarm:
            signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
    if expired or (time_limit is not None and time.perf_counter() - t0 > time_limit):
        detail = f"ran past the time limit of {time_limit:g} s per check (raise it with --time-limit)"
        return [CheckResult(check_name(check), False, detail)]
    return outcome if isinstance(outcome, list) else [outcome]


def passed(results: list[CheckResult]) -> bool:
    """True when every check passed."""
    return all(r.ok for r in results)


def format_results(results: list[CheckResult]) -> str:
    """Human-readable report, one check per line, after what it was checked on (of a :class:`CheckReport`)."""
    width = max((len(r.name) for r in results), default=0)
    setup = getattr(results, "setup", "")
    lines = [f"checked on: {setup}"] if setup else []
    lines += [f"{'PASS' if r.ok else 'FAIL'}  {r.name:<{width}}  {r.detail}".rstrip() for r in results]
    lines.append(f"{sum(r.ok for r in results)}/{len(results)} checks passed (synthetic data)")
    return "\n".join(lines)
