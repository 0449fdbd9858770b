"""The file cache's single-flight locks: held by one process at a time, let go by the system when their process
dies, and kept beside the cache folder, where no sweep or clear of the entries touches them."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from dashboard.filecache import SweptFileSystemCache


def _hold(folder: str, name: str, pipe) -> None:
    """Another worker: take the lock ``name``, say whether it could, let go when told."""
    cache = SweptFileSystemCache(folder)
    pipe.send(cache.lock(name))
    if pipe.recv() == "let go":
        cache.unlock(name)
        pipe.send("done")
        pipe.recv()


def _other_worker(folder: str, name: str):
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    process = context.Process(target=_hold, args=(folder, name, theirs))
    process.start()
    return process, ours


def test_a_lock_is_one_process_s_at_a_time_and_dies_with_it(tmp_path):
    folder = str(tmp_path / "cache")
    cache = SweptFileSystemCache(folder)
    holder, pipe = _other_worker(folder, "flight:a")
    try:
        assert pipe.recv() is True
        assert cache.lock_held("flight:a") and not cache.lock("flight:a")
        assert not cache.lock_held("flight:b") and cache.lock("flight:b")  # another name is another lock
        second, second_pipe = _other_worker(folder, "flight:b")
        assert second_pipe.recv() is False  # ours now
        second.kill()
        pipe.send("let go")
        assert pipe.recv() == "done"
        assert not cache.lock_held("flight:a") and cache.lock("flight:a")
        cache.unlock("flight:a")
        third, third_pipe = _other_worker(folder, "flight:a")
        assert third_pipe.recv() is True
        third.kill()  # killed -9 holding it: the system lets go
        third.join(timeout=10)
        assert cache.lock("flight:a")
    finally:
        holder.kill()
        holder.join(timeout=10)


def test_locks_leave_the_entries_alone_and_survive_their_clearing(tmp_path):
    folder = tmp_path / "cache"
    cache = SweptFileSystemCache(str(folder))
    cache.set("q:answer", {"n": 1})
    holder, pipe = _other_worker(str(folder), "flight:q:answer")
    try:
        assert pipe.recv() is True
        assert sorted(path.name for path in folder.iterdir()) == [cache._get_filename("q:answer").rsplit("/", 1)[1]]
        cache.sweep(now=4e9)  # every entry expired, removed
        cache.clear()
        assert list(folder.iterdir()) == []
        assert cache.lock_held("flight:q:answer")  # the lock file is beside the folder: still one holder
        assert not SweptFileSystemCache(str(folder)).lock("flight:q:answer")
    finally:
        holder.kill()
        holder.join(timeout=10)


def test_a_lock_file_that_cannot_be_opened_is_an_error_not_a_held_lock(tmp_path):
    # The single flight reads the error as "nobody can hold it" and computes at once (tests/integration).
    folder = tmp_path / "cache"
    cache = SweptFileSystemCache(str(folder))
    (tmp_path / "cache.locks").mkdir()  # a directory where the lock file should be
    with pytest.raises(OSError):
        cache.lock("flight:x")


def test_a_lock_file_this_process_may_not_open_is_an_error_not_a_held_lock(tmp_path, monkeypatch):
    # Read as "held", every waiter would wait WAIT_SECONDS for an answer nobody computes. File modes do not bind
    # root, who runs the tests here: the refusal is the system's answer as a worker running as a user gets it.
    def refused(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    cache = SweptFileSystemCache(str(tmp_path / "cache"))
    monkeypatch.setattr(os, "open", refused)
    with pytest.raises(PermissionError):
        cache.lock("flight:x")
