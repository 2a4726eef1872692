"""Run a fold's method part in a worker process, sandboxed with bubblewrap (``bwrap``) when asked.

The sandbox (Debian/Ubuntu package ``bubblewrap``) gives the worker new namespaces (``--unshare-all``:
no network, its own process tree), a cleared environment, and a file system that holds only:

- read-only: the system directories (``/usr`` and the ``/lib*``, ``/bin`` links), a few files of
  ``/etc`` the C library and Python read, the Python installation and its site-packages, and the
  source packages of the harness (``benchmark``, ``methods``, ``baselines``) and of the method
  (a plug-in's own package directory);
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

import fcntl
import functools
import glob
import logging
import os
import pickle
import signal
import shutil
import site
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmark.errors import BenchmarkError
from benchmark.fold_worker import AdapterOutput, AdapterTask, fit_predict, read_output

log = logging.getLogger(__name__)

ISOLATION_CHOICES = ("auto", "sandbox", "none")
#: Environment variable giving the default of ``--isolation`` (the test suite sets ``none``).
ISOLATION_ENV = "SEIZURE_BENCH_ISOLATION"
ISOLATED, TRUSTED = "isolated", "trusted"
# Files of /etc the dynamic linker, Python and torch read; nothing else of /etc is shown.
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf", "hosts",
        "alternatives")
# Thread settings passed on to the worker (the environment is otherwise cleared).
_PASS_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "CUDA_VISIBLE_DEVICES", "CUBLAS_WORKSPACE_CONFIG")
FOLD = "/fold"


def requested_isolation(value: str | None) -> str:
    """``--isolation`` as given, else ``$SEIZURE_BENCH_ISOLATION``, else ``auto``; refused in one line if unknown."""
    chosen = value or os.environ.get(ISOLATION_ENV) or "auto"
    if chosen not in ISOLATION_CHOICES:
        raise BenchmarkError(f"unknown isolation '{chosen}'; choose one of {', '.join(ISOLATION_CHOICES)} "
                             f"(--isolation or ${ISOLATION_ENV}).")
    return chosen


def bwrap_version() -> str:
    try:
        out = subprocess.run(["bwrap", "--version"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "bubblewrap"
    except (OSError, subprocess.SubprocessError):
        return "bubblewrap"


@functools.lru_cache(maxsize=None)
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
        return ISOLATED, (f"{bwrap_version()}: no network, read-only code and Python, only the fold's window "
                          "arrays and pseudonymous window sets")
    if requested == "sandbox":
        raise BenchmarkError(f"--isolation sandbox: {problem}; install it (apt-get install bubblewrap) or run "
                             "with --isolation none (the run is then marked trusted).")
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
    return sorted(d.resolve() for d in dirs if d.exists())


def _bwrap_args(code: list[Path], binds: dict[str, tuple[str, bool]], device: str) -> list[str]:
    """The bwrap command line up to the program; ``binds`` maps sandbox path -> (host path, writable)."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm"]
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
    if device.startswith("cuda"):  # the GPU's device files, and /sys where CUDA reads the PCI topology
        for dev in sorted(glob.glob("/dev/nvidia*")):
            args += ["--dev-bind-try", dev, dev]
        args += ["--ro-bind-try", "/sys", "/sys"]
    for inside, (host, writable) in binds.items():
        args += ["--bind" if writable else "--ro-bind", host, inside]
    roots = sorted({str(d.parent) for d in code})
    env = {"HOME": "/tmp", "TMPDIR": "/tmp", "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "PYTHONPATH": os.pathsep.join(roots), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
           "MPLCONFIGDIR": "/tmp"}
    env.update({k: os.environ[k] for k in _PASS_ENV if k in os.environ})
    for k, v in env.items():
        args += ["--setenv", k, v]
    return args


def run_task(task: AdapterTask, mode: str, timeout: float | None, plugin: Path | None = None,
             scratch: Path | None = None) -> AdapterOutput:
    """Run the method part of a fold: in a sandboxed worker (``mode == "isolated"``), in a plain
    worker process (trusted, with a timeout), or in this process (trusted, no timeout).

    ``scratch`` is where an isolated fold's folder is made (on the file system of the window
    arrays, so they can be hard-linked); the system's temporary folder when not given.
    """
    if mode != ISOLATED and not timeout:
        return fit_predict(task)
    if scratch is not None and mode == ISOLATED:
        scratch.mkdir(parents=True, exist_ok=True)
        _sweep(scratch)
    with tempfile.TemporaryDirectory(prefix="fold-", dir=scratch if mode == ISOLATED else None) as tmp:
        with open(Path(tmp) / ".lock", "w") as held:  # held while the fold runs (see _sweep)
            fcntl.flock(held, fcntl.LOCK_EX)
            return _run_in(task, mode, timeout, plugin, Path(tmp))


def _run_in(task: AdapterTask, mode: str, timeout: float | None, plugin: Path | None, folder: Path) -> AdapterOutput:
    """:func:`run_task` in the fold's folder."""
    (folder / "out").mkdir()
    code = code_dirs([plugin] if plugin else [])
    if mode == ISOLATED:
        binds: dict[str, tuple[str, bool]] = {}
        inner = fold_arrays(task, folder / "data")
        inner = replace(inner, sources=[f"{FOLD}/data/src{i}.npy" for i in range(len(task.sources))],
                        work_dir=f"{FOLD}/work", cache_dir=f"{FOLD}/cache" if task.cache_dir else None)
        binds[f"{FOLD}/data"] = (str(folder / "data"), False)
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
        cmd = _bwrap_args(code, binds, task.device) + ["--chdir", f"{FOLD}/work", sys.executable, "-m",
                                                      "benchmark.fold_worker", FOLD]
        env = None
    else:
        _write_job(task, folder / "job.pkl")
        cmd = [sys.executable, "-m", "benchmark.fold_worker", str(folder)]
        roots = [str(d.parent) for d in code]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(roots + [os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        code_ = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        return AdapterOutput(error=f"fold exceeded --fold-timeout {timeout:g} s and was stopped",
                             fit_seconds=float(timeout))
    except BaseException:  # Ctrl-C or SIGTERM of the harness: the worker must not outlive it
        _kill(proc)
        raise
    wall = time.perf_counter() - t0
    out = read_output(folder / "out")
    if code_ != 0 and (out.error or "").startswith("the fold worker left no readable output"):
        why = f"killed by signal {-code_}" if code_ < 0 else f"exit code {code_}"
        hint = " (out of memory?)" if code_ == -signal.SIGKILL else ""
        out.error = f"the fold worker died ({why}){hint} before writing its results"
    return measured(out, wall)


def _sweep(scratch: Path) -> None:
    """Remove fold folders left by a harness that was killed (no one holds their lock): they can
    hold a copy of a test patient's windows."""
    for old in scratch.glob("fold-*"):
        try:
            with open(old / ".lock", "r+") as fh:  # no lock file yet: a fold being set up
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(old, ignore_errors=True)
        except OSError:  # held by a running fold, or already gone
            continue


def measured(out: AdapterOutput, wall: float) -> AdapterOutput:
    """``out`` with times the harness can vouch for: the worker's wall clock split into fit
    (the rest) and prediction (as reported, clipped to [0, wall]); the method's own report of
    model size and weights is kept to one short line of text and a non-negative count."""
    pred = out.predict_seconds if np.isfinite(out.predict_seconds) else 0.0
    out.predict_seconds = float(min(max(pred, 0.0), wall))
    out.fit_seconds = float(wall - out.predict_seconds)
    n_params = out.extra.get("n_params")
    if n_params is not None and not (isinstance(n_params, int) and not isinstance(n_params, bool) and n_params >= 0):
        out.extra["n_params"] = None
    if "weights_source" in out.extra:
        text = " ".join(str(out.extra["weights_source"]).split())
        out.extra["weights_source"] = text[:200]
    return out


def fold_arrays(task: AdapterTask, data: Path) -> AdapterTask:
    """The fold's arrays as ``data/src<i>.npy`` and ``task`` with its row references into them.

    An array that holds test or unlabelled windows becomes a copy of only the rows some set of the
    fold refers to, in a random order: row numbers and unreferenced rows (the extra ictal windows
    of ``--ictal-stride``, windows of other folds) would otherwise say where a test window lies in
    its recording and what it is. Arrays only training or validation windows come from are hard
    links (copied the same way where the file system has no hard links). Window data are unchanged, so the
    method's numbers are too.
    """
    data.mkdir(parents=True, exist_ok=True)
    sets = {"train": task.train, "test": task.test, "valid": task.valid, "unlabelled": task.unlabelled}
    refs = {k: np.array(v[0], dtype=np.int64).reshape(-1, 2) for k, v in sets.items() if v is not None}
    used = lambda names: {int(i) for k in names if k in refs for i in np.unique(refs[k][:, 0])}  # noqa: E731
    # Arrays only training and validation windows come from (nothing in them is hidden).
    labelled_only = used(("train", "valid")) - used(("test", "unlabelled"))
    rng = np.random.default_rng(int.from_bytes(os.urandom(8), "big"))
    for i, src in enumerate(task.sources):
        dest = data / f"src{i}.npy"
        if i in labelled_only:
            try:
                os.link(Path(src).resolve(), dest)
                continue
            except OSError:  # another file system: a copy of the referenced rows instead
                pass
        rows = np.unique(np.concatenate([r[r[:, 0] == i, 1] for r in refs.values()] + [np.empty(0, np.int64)]))
        place = rng.permutation(len(rows))  # row rows[k] goes to place[k]
        _copy_rows(Path(src), dest, rows, place)
        for r in refs.values():
            mine = r[:, 0] == i
            r[mine, 1] = place[np.searchsorted(rows, r[mine, 1])]
    new = {k: (refs[k], *sets[k][1:]) for k in refs}
    return replace(task, train=new["train"], test=new["test"], valid=new.get("valid"),
                   unlabelled=new.get("unlabelled"))


def _copy_rows(src: Path, dest: Path, rows: np.ndarray, place: np.ndarray, chunk_bytes: int = 64 << 20) -> None:
    """Write ``src[rows[k]]`` to row ``place[k]`` of a new ``.npy`` at ``dest``, a chunk at a time."""
    arr = np.load(src, mmap_mode="r")
    out = np.lib.format.open_memmap(dest, mode="w+", dtype=arr.dtype, shape=(len(rows), *arr.shape[1:]))
    step = max(1, chunk_bytes // max(1, arr[:1].nbytes))
    for s in range(0, len(rows), step):
        out[place[s:s + step]] = arr[rows[s:s + step]]
    out.flush()
    del out


def _write_job(task: AdapterTask, path: Path) -> None:
    with open(path, "wb") as fh:
        pickle.dump(task, fh, protocol=pickle.HIGHEST_PROTOCOL)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
