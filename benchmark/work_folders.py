"""A fold's work folder: emptied for a run new to its store, looked at for an earlier attempt's files,
and held by one process at a time.

A fold's work folder (checkpoints, e.g. a pre-trained encoder) is keyed by the run id and the fold
in the cache folder, so two processes running the same command on one cache folder (into two stores,
or twice at once into one) name the same folders. Each fold holds an exclusive lock on a file beside
its folder (``<folder>.lock``: outside the folder a sandboxed fold sees) while it runs; a process
that finds it held neither empties nor uses that folder, and says so in one line.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmark.errors import BenchmarkError

log = logging.getLogger(__name__)


class WorkFolderBusy(BenchmarkError):
    """Another process is running the same fold on the same cache folder."""


@contextmanager
def holding(work_dir: Path) -> Iterator[None]:
    """Hold the fold's work folder for the block; :class:`WorkFolderBusy` when another process does."""
    lock = work_dir.with_name(work_dir.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkFolderBusy(
                "a fold's work folder is in use by another seizure-bench process running the same fold "
                "(the same command on the same cache folder); wait for it to finish, or give this run "
                "another --cache-dir"
            ) from None
        yield  # the lock goes with the descriptor: a killed process leaves none held
    finally:
        os.close(fd)


def clear_all(work_dirs: list[Path]) -> None:
    """Empty folds' work folders (a link there is removed, never followed); none of them when
    another process holds one (:class:`WorkFolderBusy`)."""
    for work_dir in work_dirs:  # all checked first: a refused run empties nothing
        with holding(work_dir):
            pass
    for work_dir in work_dirs:
        with holding(work_dir):
            try:
                if work_dir.is_symlink():
                    work_dir.unlink()
                elif work_dir.is_dir():
                    shutil.rmtree(work_dir)  # never follows a link the folder holds
            except OSError as exc:  # what is left is then reported as resumed from
                log.warning("could not empty the fold's work folder %s: %s", work_dir, exc)


def earlier_work(work_dir: Path) -> bool:
    """Whether a fold starts with files an earlier attempt left in its work folder (a checkpoint it
    will resume from, so its fit seconds leave out that attempt's work); a folder that cannot be
    listed counts as holding some."""
    try:
        with os.scandir(work_dir) as entries:
            return next(entries, None) is not None
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return True
