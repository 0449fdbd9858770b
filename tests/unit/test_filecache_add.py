"""The file cache's add is atomic: of many processes adding one key at once exactly one wins; expired, it is free."""

from __future__ import annotations

import multiprocessing
import time

from dashboard.filecache import SweptFileSystemCache


def _try_add(folder: str, start: float, wins) -> None:
    cache = SweptFileSystemCache(folder)
    time.sleep(max(0.0, start - time.time()))
    wins.append(cache.add("flight:key", 1, timeout=10))


def test_one_of_many_processes_adding_a_key_at_once_wins(tmp_path):
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        wins = manager.list()
        start = time.time() + 1
        workers = [context.Process(target=_try_add, args=(str(tmp_path), start, wins)) for _ in range(12)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
        assert sorted(wins) == [False] * 11 + [True]
    assert SweptFileSystemCache(str(tmp_path)).get("flight:key") == 1


def test_an_expired_entry_leaves_the_key_free(tmp_path):
    cache = SweptFileSystemCache(str(tmp_path))
    assert cache.add("flight:key", 1, timeout=1) and not cache.add("flight:key", 2, timeout=1)
    time.sleep(2.1)
    assert cache.add("flight:key", 3, timeout=10) and cache.get("flight:key") == 3
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".__wz_cache")] == []  # no debris
