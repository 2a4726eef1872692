"""A fold's work folder: emptied for a run new to its store, looked at for an earlier attempt's files,
and held by one process at a time.

A fold's work folder (checkpoints, e.g. a pre-trained encoder) is keyed by the run id and the fold
in the cache folder, so two processes running the same command on one cache folder (into two stores,
or twice at once into one) name the same folders. Each fold holds an exclusive lock on a file beside
its folder (``<folder>.lock``: outside the folder a sandboxed fold sees) while it runs; a process
that finds it held neither empties nor uses that folder, and says so in one line. The locks are
``flock`` locks: per open file, so two folds in threads of one process exclude each other too, and
only as good as the cache folder's file system (a shared one must support them across machines).
"""

from __future__ import annotations

import fcntl
import logging
import os
import resource
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from benchmark.errors import BenchmarkError

log = logging.getLogger(__name__)


class WorkFolderError(BenchmarkError):
    """A fold's work folder cannot be held: another process holds it, or its lock file cannot be used."""


class WorkFolderBusy(WorkFolderError):
    """Another process is running the same fold on the same cache folder."""


#: Descriptors of the locks this process holds. A child made by a plain fork (a DataLoader worker, a
#: fork-context pool) would keep them, and the locks with them, after the fold ends: it closes its
#: copies at once (the parent's locks stay held).
_HELD: set[int] = set()


def _close_held_in_child() -> None:
    for fd in list(_HELD):  # no lock taken: the child has one thread, and a set change is atomic
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()


os.register_at_fork(after_in_child=_close_held_in_child)


def lock_path(work_dir: Path) -> Path:
    """The file whose lock holds ``work_dir`` (beside it, outside what a sandboxed fold sees)."""
    return work_dir.with_name(work_dir.name + ".lock")


@contextmanager
def holding(work_dir: Path) -> Iterator[None]:
    """Hold the fold's work folder for the block: :class:`WorkFolderBusy` when another process does,
    :class:`WorkFolderError` when its lock file cannot be made or locked (one line each)."""
    lock = lock_path(work_dir)
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:  # a read-only cache, a link planted there, no descriptors left
        raise WorkFolderError(
            f"cannot use the lock file {lock} of a fold's work folder ({exc.strerror or exc}); "
            "make the cache folder writable (--cache-dir) and remove anything else at that path"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkFolderBusy(
                f"a fold's work folder is in use by another process running the same fold (the same "
                f"command on the same cache folder; lock {lock}); wait for it to finish, or give this run "
                "another --cache-dir"
            ) from None
        except OSError as exc:  # a file system without flock
            raise WorkFolderError(
                f"cannot lock {lock} ({exc.strerror or exc}): the cache folder's file system has no file "
                "locks; give --cache-dir a folder on one that has them"
            ) from None
        _HELD.add(fd)
        yield  # the lock goes with the descriptor: a killed process leaves none held
    finally:
        _HELD.discard(fd)
        os.close(fd)


def clear_all(work_dirs: list[Path]) -> None:
    """Empty folds' work folders (a link there is removed, never followed), holding all of them
    while it does; none of them when another process holds one (:class:`WorkFolderBusy`) or one
    cannot be locked (:class:`WorkFolderError`)."""
    _room_for(len(work_dirs))
    with ExitStack() as held:
        for work_dir in work_dirs:  # every lock taken first: a refused run empties nothing
            held.enter_context(holding(work_dir))
        for work_dir in work_dirs:
            try:
                if work_dir.is_symlink():
                    work_dir.unlink()
                elif work_dir.is_dir():
                    shutil.rmtree(work_dir)  # never follows a link the folder holds
            except OSError as exc:  # what is left is then reported as resumed from
                log.warning("could not empty the fold's work folder %s: %s", work_dir, exc)


def _room_for(n: int) -> None:
    """Raise this process's limit of open files (up to its hard limit) to hold ``n`` more locks."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 256
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


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
