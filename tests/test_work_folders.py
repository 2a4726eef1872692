"""Fold work folders (:mod:`benchmark.work_folders`): held by one process at a time, emptied whole or
not at all, and one line when their lock cannot be used."""

from __future__ import annotations

import fcntl
import multiprocessing
import os

import pytest
from fakes import held_elsewhere

from benchmark.work_folders import WorkFolderBusy, WorkFolderError, clear_all, holding, lock_path


def _folders(tmp_path, n=3):
    out = []
    for k in range(n):
        d = tmp_path / "work" / f"fold{k}"
        d.mkdir(parents=True)
        (d / "encoder.pt").write_text("pre-trained")
        out.append(d)
    return out


def _free(work_dir) -> bool:
    """Whether another open file could lock the folder now (flock is per open file)."""
    fd = os.open(lock_path(work_dir), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _sleep_until(started, event) -> None:
    started.set()
    event.wait(60)


def test_a_folder_is_held_for_the_block_and_free_after_it(tmp_path):
    (d,) = _folders(tmp_path, 1)
    with holding(d):
        assert not _free(d)
        with pytest.raises(WorkFolderBusy, match="in use by another process"):
            with holding(d):
                pass
    assert _free(d)


def test_a_forked_child_does_not_keep_the_lock_after_the_fold(tmp_path):
    # A DataLoader worker or a fork-context pool started in a fold would otherwise hold the lock on.
    (d,) = _folders(tmp_path, 1)
    ctx = multiprocessing.get_context("fork")
    started, stop = ctx.Event(), ctx.Event()
    with holding(d):
        child = ctx.Process(target=_sleep_until, args=(started, stop), daemon=True)
        child.start()
        assert started.wait(30)
    try:
        assert child.is_alive()
        assert _free(d), "the fold is over: its lock must be free while the child it forked lives on"
    finally:
        stop.set()
        child.join(30)


def test_clear_all_empties_nothing_when_any_folder_is_held(tmp_path):
    folders = _folders(tmp_path)
    for held in (folders[0], folders[-1]):
        with held_elsewhere([held]):
            with pytest.raises(WorkFolderBusy):
                clear_all(folders)
        assert all((d / "encoder.pt").exists() for d in folders)
    clear_all(folders)
    assert not any(d.exists() for d in folders)
    assert all(_free(d) for d in folders)


def test_clear_all_removes_a_link_without_following_it(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("not the fold's")
    link = tmp_path / "work" / "fold0"
    link.parent.mkdir()
    link.symlink_to(target)
    clear_all([link])
    assert not link.exists() and not link.is_symlink() and (target / "keep.txt").exists()


def test_a_lock_file_that_cannot_be_used_is_one_line(tmp_path):
    (d,) = _folders(tmp_path, 1)
    lock_path(d).symlink_to(tmp_path / "planted")  # a link planted where the lock file goes
    with pytest.raises(WorkFolderError, match=r"cannot use the lock file .*fold0\.lock") as err:
        clear_all([d])
    assert "\n" not in str(err.value) and not isinstance(err.value, WorkFolderBusy)
    assert (d / "encoder.pt").exists() and not (tmp_path / "planted").exists()


def test_a_file_system_without_locks_is_one_line(tmp_path, monkeypatch):
    import errno

    from benchmark import work_folders

    (d,) = _folders(tmp_path, 1)

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(work_folders.fcntl, "flock", no_locks)
    with pytest.raises(WorkFolderError, match=r"cannot lock .*fold0\.lock .*has no file locks") as err:
        clear_all([d])
    assert "\n" not in str(err.value) and (d / "encoder.pt").exists()
