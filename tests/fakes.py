"""Test helpers: tiny SYNTHETIC window sets (re-exported from :mod:`benchmark.fake_data`).

``make_windowset(n=64, n_chans=4, n_times=256, sfreq=128, representation="raw", seed=0,
learnable=True, labels=True)`` gives windows where class 1 carries an extra 5-7 Hz rhythm, so a
reasonable model learns to separate the classes; ``labels=False`` gives a test-style set (``y=None``).

``run_config(tmp_path, data, **kw)`` is a :class:`~benchmark.runner.RunConfig` of a cheap run on a
synthetic folder whose store, splits and cache all live under ``tmp_path``.

``read_only_for_the_store(monkeypatch, folder)`` makes the results store see ``folder`` as not
writable; ``held_elsewhere(work_dirs)`` holds folds' work folders from another process.
"""

import os
import subprocess
import sys
from contextlib import contextmanager

import numpy as np

from benchmark.fake_data import DEFAULT_CLASSES, make_labels, make_raw_windows, make_windowset
from benchmark.runner import RunConfig

__all__ = [
    "DEFAULT_CLASSES",
    "held_elsewhere",
    "make_labels",
    "make_raw_windows",
    "make_windowset",
    "read_only_for_the_store",
    "run_config",
]


def run_config(tmp_path, data, **kw) -> RunConfig:
    base = dict(
        method="bandpower_logreg",
        dataset="chbmit-synthetic",
        data_dir=data,
        store_path=tmp_path / "r.sqlite",
        splits_dir=tmp_path / "splits",
        cache_dir=tmp_path / "cache",
        progress=False,
    )
    base.update(kw)
    return RunConfig(**base)


def harness_fold_id() -> str | None:
    """The id of the fold being run, found up the call stack (test adapters only).

    Window sets carry pseudonyms and work folders are named by a secret, so a method cannot tell its
    fold; a trusted in-process one can still see the harness's fold job among its callers' frames.
    """
    frame = sys._getframe()
    while frame is not None and not hasattr(frame.f_locals.get("job"), "fold_id"):
        frame = frame.f_back
    return None if frame is None else frame.f_locals["job"].fold_id


def numbered_windowset(n: int = 12, sources: int = 1):
    """A window set over ``sources`` in-memory arrays of ``n`` numbered (2, 3) windows, and all its
    windows in order."""
    import pandas as pd

    from benchmark.windowset import WindowSet

    arrays = [np.arange(n * 6, dtype=np.float32).reshape(n, 2, 3) + 1000 * s for s in range(sources)]
    refs = np.column_stack([np.arange(n * sources) // n, np.arange(n * sources) % n])
    meta = pd.DataFrame({"patient": "p", "recording": "r", "start": np.arange(n * sources, dtype=float)})
    meta["end"] = meta["start"] + 1
    return WindowSet(arrays, refs, meta, np.arange(n * sources) % 2, ("a", "b")), np.concatenate(arrays)


def read_only_for_the_store(monkeypatch, folder) -> None:
    """The results store sees ``folder`` and what is in it as not writable, as a non-root user or a
    read-only mount would (root ignores permission bits)."""
    from benchmark import store as store_mod

    real_access, prefix = os.access, str(folder)
    monkeypatch.setattr(
        store_mod.os,
        "access",
        lambda p, mode, **kw: False if mode & os.W_OK and str(p).startswith(prefix) else real_access(p, mode, **kw),
    )


@contextmanager
def held_elsewhere(work_dirs):
    """Folds' work folders held by another process, as a run of the same folds there holds them."""
    from benchmark.work_folders import lock_path

    code = (
        "import fcntl, os, sys\n"
        "fds = [os.open(p, os.O_RDWR | os.O_CREAT) for p in sys.argv[1:]]\n"
        "for fd in fds: fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
    )
    locks = [str(lock_path(d)) for d in work_dirs]
    for lock in locks:
        os.makedirs(os.path.dirname(lock), exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *locks], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        yield
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
