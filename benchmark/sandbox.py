"""Run a fold's method part in a worker process, sandboxed with bubblewrap (``bwrap``) when asked.

The sandbox (Debian/Ubuntu package ``bubblewrap``) gives the worker new namespaces (``--unshare-all``:
no network, its own process tree), a cleared environment, and a file system that holds only:

- read-only: the system directories (``/usr`` and the ``/lib*``, ``/bin`` links), a few files of
  ``/etc`` the C library and Python read, the Python installation and the folders named
  site-packages or dist-packages on the import path (those from ``$PYTHONPATH`` also on the
  worker's), for a CUDA fold the GPU's device files, ``/sys`` and the driver's libraries in the
  folders of ``$LD_LIBRARY_PATH``, and the source packages of the harness (``benchmark``, ``methods``,
  ``baselines``) and of the method (a plug-in's own package directory);
- read-only, at neutral paths: the fold's window arrays (``/fold/data/src<i>.npy``) and the job
  file with the pseudonymous window sets. An array holding test (or unlabelled) windows is a copy of
  the fold's own rows in a secret random order (:func:`fold_arrays`), so neither row numbers nor rows
  no set refers to (e.g. the extra ictal windows of ``--ictal-stride``) say where a test window lies
  or what it is; the other arrays are hard links, so no host path in ``/proc/self/mountinfo`` names a
  patient, run or fold;
- writable: the fold's work folder (``/fold/work``), a feature cache of the fold's own
  (``/fold/cache``, dropped with the fold), the output folder (``/fold/out``) and an empty ``/tmp``.

Not the repository root (``splits/`` and ``results/`` hold labels), the dataset, the rest of the
window cache, the results store or the home folder. The worker dies with the process that
started it, and is killed at ``--fold-timeout``. A worker's fit time is the wall clock the harness
measures around it (start-up included) less the prediction time it reports, clipped to that wall
clock: a method cannot report itself faster than it ran.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import glob
import logging
import os
import pickle
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmark.bytecode import compile_for_sandbox, library_dirs, shown_bytecode
from benchmark.errors import BenchmarkError
from benchmark.fold_worker import AdapterOutput, AdapterTask, fit_predict, read_output
from benchmark.threads import WAIT_POLICY_ENV
from benchmark.weights import weights_paths
from benchmark.window_store import WINDOW_FILES, copy_bytes, copy_rows, copy_windows

log = logging.getLogger(__name__)

ISOLATION_CHOICES = ("auto", "sandbox", "none")
#: Environment variable giving the default of ``--isolation`` (the test suite sets ``none``).
ISOLATION_ENV = "SEIZURE_BENCH_ISOLATION"
ISOLATED, TRUSTED = "isolated", "trusted"
# Folders of installed packages, shown to the worker wherever they are on the import path.
_PACKAGE_DIRS = ("site-packages", "dist-packages")
# The NVIDIA driver's user-space libraries (libcuda.so.1, libnvidia-ml.so.1, libnvidia-ptxjitcompiler...).
_DRIVER_LIBRARIES = ("libcuda.so*", "libcudadebugger.so*", "libnvidia-*.so*", "libnvcuvid.so*")
# Files of /etc the dynamic linker, Python and torch read; nothing else of /etc is shown.
_ETC = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "passwd",
    "group",
    "nsswitch.conf",
    "hosts",
    "alternatives",
)
# Thread settings passed on to the worker (the environment is otherwise cleared); the OpenMP wait
# policy is the harness's (benchmark.threads), so a user's own setting reaches the fold too.
_PASS_ENV = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES",
    "CUBLAS_WORKSPACE_CONFIG",
    *WAIT_POLICY_ENV,
)
FOLD = "/fold"
#: Fold folders left behind (no fold holds their lock) are removed once they are this old.
SWEEP_AFTER_S = 600


def requested_isolation(value: str | None) -> str:
    """``--isolation`` as given, else ``$SEIZURE_BENCH_ISOLATION``, else ``auto``; refused in one line if unknown."""
    chosen = value or os.environ.get(ISOLATION_ENV) or "auto"
    if chosen not in ISOLATION_CHOICES:
        raise BenchmarkError(
            f"unknown isolation '{chosen}'; choose one of {', '.join(ISOLATION_CHOICES)} "
            f"(--isolation or ${ISOLATION_ENV})."
        )
    return chosen


def bwrap_version() -> str:
    try:
        out = subprocess.run(["bwrap", "--version"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "bubblewrap"
    except (OSError, subprocess.SubprocessError):
        return "bubblewrap"


@functools.cache
def sandbox_problem() -> str | None:
    """Why this process cannot start sandboxed workers, or ``None`` when it can (checked once)."""
    if not _which("bwrap"):
        return "bwrap is not installed (Debian/Ubuntu package 'bubblewrap')"
    cmd = _bwrap_args(code_dirs(), {}, "cpu") + [sys.executable, "-c", "import numpy"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bwrap could not start: {exc}"
    if res.returncode != 0:
        last = (res.stderr.strip().splitlines() or [f"exit code {res.returncode}"])[-1]
        return f"bwrap could not start a sandbox here: {last}"
    return None


def resolve_isolation(requested: str) -> tuple[str, str]:
    """``(mode, detail)`` for a fold run in this process: ``isolated`` (bwrap) or ``trusted`` (in-process)."""
    if requested == "none":
        return TRUSTED, "--isolation none: the method ran with the harness's own access to files"
    problem = sandbox_problem()
    if problem is None:
        return ISOLATED, (
            f"{bwrap_version()}: no network, read-only code and Python, only the fold's window "
            "arrays and pseudonymous window sets"
        )
    if requested == "sandbox":
        raise BenchmarkError(
            f"--isolation sandbox: {problem}; install it (apt-get install bubblewrap) or run "
            "with --isolation none (the run is then marked trusted)."
        )
    return TRUSTED, f"--isolation auto without a sandbox ({problem}): the method ran with the harness's access"


def _which(name: str) -> str | None:
    from shutil import which

    return which(name)


def code_dirs(extra: list[Path] | tuple[Path, ...] = ()) -> list[Path]:
    """Source directories (or single module files) the worker imports: the harness, the in-tree
    methods and baselines, and ``extra`` (a plug-in's package)."""
    import baselines
    import benchmark
    import methods

    found = [Path(m.__file__).resolve().parent for m in (benchmark, methods, baselines)]
    for p in extra:
        if p not in found:
            found.append(p)
    return found


def method_source(cls: type) -> tuple[str, str, Path | None]:
    """``(module, qualname, package path)`` of an adapter class; the path is ``None`` when it lies in
    the Python installation (an installed plug-in) and needs no extra bind."""
    if getattr(cls, "plugin_source", None) is not None:  # a stand-in: the plug-in was never imported here
        return cls.plugin_source
    module = cls.__module__
    top = sys.modules.get(module.split(".")[0])
    path = None
    if top is not None and getattr(top, "__path__", None):
        path = Path(list(top.__path__)[0]).resolve()
    elif top is not None and getattr(top, "__file__", None):
        path = Path(top.__file__).resolve()
    if path is not None and any(path.is_relative_to(p) for p in _python_dirs()):
        path = None
    return module, cls.__qualname__, path


def _python_dirs() -> list[Path]:
    dirs = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.exec_prefix)}
    for d in site.getsitepackages() + [site.getusersitepackages()]:
        if d in sys.path and Path(d).is_dir():
            dirs.add(Path(d))
    # Installed packages layered in by a .pth file: `uv run --with PKG` runs an ephemeral environment
    # over the project's, whose site-packages is then on sys.path without being this prefix's.
    dirs.update(Path(d) for d in sys.path if Path(d).name in _PACKAGE_DIRS and Path(d).is_dir())
    return sorted(d.resolve() for d in dirs if d.exists())


def _pythonpath_packages() -> list[str]:
    """The package folders (named site-packages or dist-packages) the harness has from ``$PYTHONPATH``,
    in order: the sandbox shows them (:func:`_python_dirs`) and the worker gets them on its own
    ``PYTHONPATH``, since its cleared environment would otherwise leave them off its import path."""
    found = []
    for d in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if d and Path(d).name in _PACKAGE_DIRS and Path(d).is_dir() and str(Path(d).resolve()) not in found:
            found.append(str(Path(d).resolve()))
    return found


def _cuda_library_dirs() -> list[str]:
    """``$LD_LIBRARY_PATH``'s absolute folders, the worker's own ``LD_LIBRARY_PATH`` in a CUDA fold:
    CUDA images often find the driver's ``libcuda`` there (e.g. ``/usr/local/nvidia/lib64``) rather
    than in the linker's cache."""
    found = []
    for d in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep):
        if d and os.path.isabs(d) and Path(d).is_dir() and d not in found:
            found.append(d)
    return found


def _driver_libraries(folders: list[str]) -> list[str]:
    """The GPU driver's library files in ``folders`` outside ``/usr`` (which is shown whole): only
    these files are shown, never the folders, which may be any folder (``/``, a project's)."""
    files = []
    for d in folders:
        if Path(d).resolve().is_relative_to("/usr"):
            continue
        for pattern in _DRIVER_LIBRARIES:
            files += [f for f in sorted(glob.glob(os.path.join(d, pattern))) if os.path.isfile(f) and f not in files]
    return files


def _missing_module_hint(error: str) -> str:
    """For a worker's ``ModuleNotFoundError`` of a package the harness imports from a folder the
    sandbox does not show: where that is and what to do; empty otherwise (a submodule missing from
    a package the sandbox shows is the package's own problem)."""
    import importlib.util

    name = error.partition("No module named '")[2].partition("'")[0].split(".")[0]
    try:
        spec = importlib.util.find_spec(name) if name else None
    except (ImportError, ValueError):
        spec = None
    where = spec and (spec.origin or next(iter(spec.submodule_search_locations or []), None))
    if not where or not os.path.isabs(where):
        return ""
    shown = [*_python_dirs(), *code_dirs()]
    if any(Path(where).resolve().is_relative_to(d) for d in shown):
        return ""
    home = str(Path.home())
    where = "~" + where[len(home) :] if home not in ("", "/") and where.startswith(home + os.sep) else where
    return (
        f" ('{name}' imports outside the sandbox from {where}, which the sandbox does not show: it shows "
        "the Python installation and folders named site-packages or dist-packages on the import path; "
        "install the package there, or run with --isolation none, which marks the run trusted)"
    )


def _bwrap_args(code: list[Path], binds: dict[str, tuple[str, bool]], device: str) -> list[str]:
    """The bwrap command line up to the program; ``binds`` maps sandbox path -> (host path, writable)."""
    args = [
        "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--ro-bind",
        "/usr",
        "/usr",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--tmpfs",
        "/dev/shm",
    ]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        target = Path("/") / name
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            args += ["--ro-bind", str(target), str(target)]
    for name in _ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for d in _python_dirs():
        if not d.is_relative_to("/usr"):
            args += ["--ro-bind", str(d), str(d)]
    for d in code:
        args += ["--ro-bind", str(d), str(d)]
        if d.suffix == ".py":  # a plug-in that is one module file: its bytecode, hidden by a bind of the file
            cached = shown_bytecode(d)
            args += ["--ro-bind", cached, cached] if cached else []
    cuda = device.startswith("cuda")
    libraries = _cuda_library_dirs() if cuda else []
    if cuda:  # the GPU's device files, /sys where CUDA reads the PCI topology, the driver's libraries
        for dev in sorted(glob.glob("/dev/nvidia*")):
            args += ["--dev-bind-try", dev, dev]
        args += ["--ro-bind-try", "/sys", "/sys"]
        for f in _driver_libraries(libraries):
            args += ["--ro-bind-try", f, f]
    for inside, (host, writable) in binds.items():
        args += ["--bind" if writable else "--ro-bind", host, inside]
    roots = sorted({str(d.parent) for d in code})
    env = {
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(roots + _pythonpath_packages()),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLCONFIGDIR": "/tmp",
    }
    env.update({k: os.environ[k] for k in _PASS_ENV if k in os.environ})
    if libraries:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(libraries)
    for k, v in env.items():
        args += ["--setenv", k, v]
    return args


def run_task(
    task: AdapterTask,
    mode: str,
    timeout: float | None,
    plugin: Path | None = None,
    scratch: Path | None = None,
    private_arrays: bool = False,
) -> AdapterOutput:
    """Run the method part of a fold: in a sandboxed worker (``mode == "isolated"``), in a plain
    worker process (trusted, with a timeout), or in this process (trusted, no timeout).

    ``scratch`` is where an isolated fold's folder is made (on the file system of the window
    arrays, so they can be hard-linked); the system's temporary folder when not given or not
    writable. ``private_arrays`` copies every array (see :func:`fold_arrays`): for folds that run
    at the same time as other folds of the run.
    """
    if mode != ISOLATED and not timeout:
        return fit_predict(task)
    where = None
    if scratch is not None and mode == ISOLATED:
        try:
            scratch.mkdir(parents=True, exist_ok=True)
            _sweep(scratch)
            where = scratch if os.access(scratch, os.W_OK) else None
        except OSError:  # a read-only or foreign cache: copies in the temporary folder instead
            where = None
    with tempfile.TemporaryDirectory(prefix="fold-", dir=where) as tmp:
        with open(Path(tmp) / ".lock", "w") as held:  # held while the fold runs (see _sweep)
            fcntl.flock(held, fcntl.LOCK_EX)
            return _run_in(task, mode, timeout, plugin, Path(tmp), private_arrays)


def _run_in(
    task: AdapterTask, mode: str, timeout: float | None, plugin: Path | None, folder: Path, private_arrays: bool = False
) -> AdapterOutput:
    """:func:`run_task` in the fold's folder."""
    (folder / "out").mkdir()
    code = code_dirs([plugin] if plugin else [])
    if mode == ISOLATED:
        binds: dict[str, tuple[str, bool]] = {}
        try:
            inner = fold_arrays(task, folder / "data", share=not private_arrays)
        except OSError as exc:
            why = "no space left" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
            return AdapterOutput(
                error=f"could not lay out the isolated fold's arrays in {folder.parent} ({why}); "
                "free space there (--cache-dir) or run with --isolation none"
            )
        inner = replace(
            inner,
            sources=[f"{FOLD}/data/{_source_name(i, Path(p))}" for i, p in enumerate(inner.sources)],
            work_dir=f"{FOLD}/work",
            cache_dir=f"{FOLD}/cache" if task.cache_dir else None,
        )
        binds[f"{FOLD}/data"] = (str(folder / "data"), False)
        # Local pretrained weights named by the run's settings, read-only at their own absolute path.
        shown = weights_paths(task.overrides or {})
        for host in shown.values():
            binds[host] = (host, False)
        inner = replace(inner, overrides={**(inner.overrides or {}), **shown})
        Path(task.work_dir).mkdir(parents=True, exist_ok=True)
        binds[inner.work_dir] = (str(Path(task.work_dir).resolve()), True)
        if task.cache_dir:
            # A feature cache of the fold's own, dropped with it: a shared writable one would let
            # a method carry training labels of one fold into another (loocv tests each unit
            # after training on it in the other folds).
            (folder / "cache").mkdir()
            binds[inner.cache_dir] = (str(folder / "cache"), True)
        binds[f"{FOLD}/job.pkl"] = (str(folder / "job.pkl"), False)
        binds[f"{FOLD}/out"] = (str(folder / "out"), True)
        _write_job(inner, folder / "job.pkl")
        compile_for_sandbox(library_dirs(), code)  # the worker writes none (before the fold's clock)
        cmd = _bwrap_args(code, binds, task.device) + [
            "--chdir",
            f"{FOLD}/work",
            sys.executable,
            "-m",
            "benchmark.fold_worker",
            FOLD,
        ]
        env = None
    else:
        _write_job(task, folder / "job.pkl")
        cmd = [sys.executable, "-m", "benchmark.fold_worker", str(folder)]
        roots = [str(d.parent) for d in code]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(roots + [os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        }
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        code_ = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        return AdapterOutput(
            error=f"fold exceeded --fold-timeout {timeout:g} s and was stopped", fit_seconds=float(timeout)
        )
    except BaseException:  # Ctrl-C or SIGTERM of the harness: the worker must not outlive it
        _kill(proc)
        raise
    wall = time.perf_counter() - t0
    out = read_output(folder / "out")
    if mode == ISOLATED and (out.error or "").startswith("ModuleNotFoundError"):
        out.error += _missing_module_hint(out.error)
    if code_ != 0 and (out.error or "").startswith("the fold worker left no readable output"):
        why = f"killed by signal {-code_}" if code_ < 0 else f"exit code {code_}"
        hint = " (out of memory?)" if code_ == -signal.SIGKILL else ""
        out.error = f"the fold worker died ({why}){hint} before writing its results"
    return measured(out, wall)


def _sweep(scratch: Path) -> None:
    """Remove fold folders left by a harness that was killed (no one holds their lock): they can
    hold a copy of a test patient's windows."""
    now = time.time()
    for old in scratch.glob("fold-*"):
        try:
            # A folder younger than SWEEP_AFTER_S may be one whose fold has not taken its lock yet.
            if now - (old / ".lock").stat().st_mtime < SWEEP_AFTER_S:
                continue
            with open(old / ".lock", "r+") as fh:  # no lock file yet: a fold being set up
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(old, ignore_errors=True)
        except OSError:  # held by a running fold, or already gone
            continue


def measured(out: AdapterOutput, wall: float) -> AdapterOutput:
    """``out`` with the fold's time the harness can vouch for: the worker's wall clock, split into
    prediction (as the worker reports it, clipped to [0, wall]) and fit (the rest). The split is the
    method's word; their sum is not."""
    pred = out.predict_seconds if np.isfinite(out.predict_seconds) else 0.0
    out.predict_seconds = float(min(max(pred, 0.0), wall))
    out.fit_seconds = float(wall - out.predict_seconds)
    return out


def fold_arrays(task: AdapterTask, data: Path, share: bool = True) -> AdapterTask:
    """The fold's arrays as ``data/src<i>.npy`` and ``task`` with its references into them.

    Only arrays some set of the fold refers to are given, in a random order (the order of the
    cache's arrays is that of the patients). An array that holds test windows becomes a copy of
    only the rows the fold's sets refer to, in a random order: row numbers and unreferenced rows
    (the extra ictal windows of ``--ictal-stride``, windows of other folds) would otherwise say
    where a test window lies in its recording and what it is. The other arrays (training,
    validation and unlabelled windows) are hard links when ``share`` (copied the same way where the
    file system has no hard links), else copies too: folds that run at the same time must not
    share a file, whose advisory locks one fold could set and another read. Window data are
    unchanged, so the method's numbers are too.
    """
    data.mkdir(parents=True, exist_ok=True)
    sets = {"train": task.train, "test": task.test, "valid": task.valid, "unlabelled": task.unlabelled}
    refs = {k: np.array(v[0], dtype=np.int64).reshape(-1, 2) for k, v in sets.items() if v is not None}
    used = sorted({int(i) for r in refs.values() for i in np.unique(r[:, 0])})
    hidden = {int(i) for i in np.unique(refs["test"][:, 0])}
    rng = np.random.default_rng(int.from_bytes(os.urandom(8), "big"))
    order = [used[k] for k in rng.permutation(len(used))]  # new source j is old source order[j]
    new_src = np.zeros(max(used, default=-1) + 1, dtype=np.int64)
    new_src[order] = np.arange(len(order))
    # Rows of each array the fold refers to (all that a copy keeps), found once.
    rows_of = {i: np.unique(np.concatenate([r[r[:, 0] == i, 1] for r in refs.values()])) for i in used}
    _check_space(task, rows_of, data, [i for i in used if i in hidden or not share])
    for j, i in enumerate(order):
        src = Path(task.sources[i])
        dest = data / _source_name(j, src)
        if share and i not in hidden:
            try:
                _link_entry(src, dest)
                continue
            except OSError:  # another file system: a copy of the referenced rows instead
                shutil.rmtree(dest, ignore_errors=True) if dest.is_dir() else dest.unlink(missing_ok=True)
        rows = rows_of[i]
        place = rng.permutation(len(rows))  # row rows[k] goes to place[k]
        if src.is_dir():
            copy_windows(src, dest, rows, place, rng=rng)
        else:
            copy_rows(np.load(src, mmap_mode="r"), dest, rows, place)
        for r in refs.values():
            mine = r[:, 0] == i
            r[mine, 1] = place[np.searchsorted(rows, r[mine, 1])]
    for r in refs.values():
        r[:, 0] = new_src[r[:, 0]]
    new = {k: (refs[k], *sets[k][1:]) for k in refs}
    return replace(
        task,
        sources=[task.sources[i] for i in order],
        train=new["train"],
        test=new["test"],
        valid=new.get("valid"),
        unlabelled=new.get("unlabelled"),
    )


def _check_space(task: AdapterTask, rows_of: dict[int, np.ndarray], data: Path, copied: list[int]) -> None:
    """Refuse (``ENOSPC``) before writing copies the file system has no room for."""
    need = sum(copy_bytes(task.sources[i], rows_of[i]) for i in copied)
    if need and shutil.disk_usage(data).free < need + (64 << 20):
        raise OSError(errno.ENOSPC, "no space left", str(data))


def _source_name(j: int, src: Path) -> str:
    """Name of the fold's ``j``-th array: a cache entry is a folder, a plain array of rows a .npy file."""
    return f"src{j}" if src.is_dir() else f"src{j}.npy"


def _link_entry(src: Path, dest: Path) -> None:
    """Hard-link the arrays of the cache entry ``src`` into a new folder ``dest`` (only those: its
    other files name the recordings and times the fold's pseudonyms hide); a plain array file to ``dest``."""
    if not src.is_dir():
        os.link(src.resolve(), dest)
        return
    dest.mkdir()
    for name in WINDOW_FILES:
        if (src / name).exists():
            os.link((src / name).resolve(), dest / name)


def _write_job(task: AdapterTask, path: Path) -> None:
    with open(path, "wb") as fh:
        pickle.dump(task, fh, protocol=pickle.HIGHEST_PROTOCOL)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


#: Seconds a sandboxed probe of a plug-in's class may take (Python, numpy and pandas start-up included).
PROBE_TIMEOUT_S = 120.0
#: Bytes of a probe's output kept (its description is the last line; the plug-in may print before it).
_PROBE_TAIL = 1 << 20


def plugin_path(module: str) -> Path | None:
    """The package directory (or module file) of ``module``'s top-level module, found without running
    it (``importlib.util.find_spec`` of a top-level name imports nothing); ``None`` when it lies in
    the Python installation (an installed plug-in: no extra bind) or cannot be found."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module.split(".")[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]).resolve()
    elif spec.origin and Path(spec.origin).is_file():
        path = Path(spec.origin).resolve()
    else:
        return None
    return None if any(path.is_relative_to(p) for p in _python_dirs()) else path


def describe_plugin(name: str, module: str, qualname: str, timeout: float = PROBE_TIMEOUT_S) -> dict:
    """The ``MethodMeta`` dict of plug-in class ``module:qualname``, learnt by importing it in a
    sandboxed worker (the same sandbox as a fold's, with no data): its import-time code never runs
    in the harness. Anything but one well-formed description is refused in one line naming it."""
    import json

    what = f"plug-in '{name}' ({module}:{qualname})"
    path = plugin_path(module)
    cmd = _bwrap_args(code_dirs([path] if path else []), {}, "cpu") + [
        "--chdir",
        "/tmp",
        sys.executable,
        "-m",
        "benchmark.fold_worker",
        "--describe",
        f"{module}:{qualname}",
    ]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise BenchmarkError(f"{what}: could not start the sandbox that reads its description: {exc}") from None
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise BenchmarkError(
                f"{what}: importing it in the sandbox took more than {timeout:g} s; "
                "fix its import-time code or run it with --isolation none (trusted)"
            ) from None
        except BaseException:
            _kill(proc)
            raise
        tails = []
        for fh in (out, err):
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - _PROBE_TAIL))
            tails.append(fh.read().decode("utf-8", "replace").strip().splitlines())
    lines, errors = tails
    try:
        result = json.loads(lines[-1]) if lines else None
    except ValueError:
        result = None
    if isinstance(result, dict) and isinstance(result.get("error"), str):
        raise BenchmarkError(f"{what} cannot be loaded: {' '.join(result['error'].split())[:300]}")
    if not isinstance(result, dict) or not isinstance(result.get("meta"), dict):
        why = (" ".join(errors[-1].split())[:300] if errors else "") or f"exit code {proc.returncode}"
        raise BenchmarkError(
            f"{what}: its sandboxed import gave no readable description ({why}); "
            f"check it with 'seizure-bench check-adapter {name}'"
        )
    return result["meta"]
