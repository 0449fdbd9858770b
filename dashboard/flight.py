"""Single flight: an answer nobody has cached is computed once at a time — the threads of a worker wait for the one
computing it, and the workers of a host (or the hosts sharing Redis) wait for the one holding its lock in the
shared cache — instead of every screen that asks at a minute's turn computing it again.

The shared cache only speeds the screens up: a cache that cannot lock (a full or read-only cache folder, Redis
down) means computing at once, never waiting for an answer nobody will store."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

# How long a computation may hold its lock in Redis (a worker that dies holding it frees it by then; the file cache's
# locks go with their process), and how long the others wait for its answer at most before computing it themselves.
LOCK_SECONDS = 10
WAIT_SECONDS = 5.0
# A waiter looks again this often: a look is a system call (Redis: a round trip), and the answers waited for take
# some 5–50 ms to compute: a 20 ms step made a waiter wait up to 20 ms more than the computation.
POLL_SECONDS = 0.005
# A cache in trouble is told in the log at most this often per kind of trouble: every query of every screen
# meets it, and a log line per query would bury everything else.
WARN_SECONDS = 60.0
MISSING = object()

log = logging.getLogger(__name__)
_warned: dict[str, float] = {}


def warn_rarely(kind: str, message: str, *args) -> None:
    """Log a warning of ``kind`` unless one of that kind was logged in the last WARN_SECONDS."""
    now = time.monotonic()
    if now < _warned.get(kind, float("-inf")) + WARN_SECONDS:
        return
    _warned[kind] = now
    log.warning(message, *args)


class _Flight:
    """One computation in progress in this process: the event its waiters wait on, and its answer."""

    def __init__(self):
        self.done = threading.Event()
        self.value: Any = MISSING


_flights: dict[str, _Flight] = {}
_lock = threading.Lock()


def once(key: str, compute: Callable[[], Any], lookup: Callable[[], Any], backend) -> Any:
    """The answer of ``key``: ``lookup()`` if another thread or worker just computed it, else ``compute()``, run
    by one thread of one worker at a time. ``compute`` stores what it computed in the shared cache itself."""
    with _lock:
        flight = _flights.get(key)
        leader = flight is None
        if leader:
            flight = _flights[key] = _Flight()
    if not leader:
        flight.done.wait(WAIT_SECONDS)
        if flight.value is not MISSING:
            return flight.value
        found = lookup()
        return found if found is not None else compute()
    try:
        flight.value = _across_workers(key, compute, lookup, backend)
        return flight.value
    finally:
        with _lock:
            _flights.pop(key, None)
        flight.done.set()


def _locked(backend, lock: str) -> bool:
    """Whether this worker took ``lock``; True too when the cache cannot lock at all (a lock file that cannot be
    opened, a full or read-only cache folder, Redis down), since nobody else can hold it then and waiting would only
    wait. The file cache has locks of its own (dashboard/filecache.py); any other cache locks with an entry."""
    try:
        take = getattr(backend, "lock", None)
        return bool(take(lock) if take else backend.add(lock, 1, timeout=LOCK_SECONDS))
    except Exception as error:  # noqa: BLE001 - a cache that cannot lock is no reason not to answer
        warn_rarely("lock", "共享缓存无法加锁（%s: %s）：各进程直接计算，不再等待", type(error).__name__, error)
        return True


def _held(backend, lock: str) -> bool:
    """Whether ``lock`` is still held by someone; False when the cache cannot tell (then the waiter tries the lock
    again, which computes at once if the cache cannot lock)."""
    try:
        held = getattr(backend, "lock_held", None)
        return bool(held(lock) if held else backend.has(lock))
    except Exception:  # noqa: BLE001 - see _locked
        return False


def _let_go(backend, lock: str) -> None:
    """Let go of ``lock``; one that cannot be let go expires by itself (an entry) or with its process (a file lock)."""
    with contextlib.suppress(Exception):
        unlock = getattr(backend, "unlock", None)
        unlock(lock) if unlock else backend.delete(lock)


def _across_workers(key: str, compute: Callable[[], Any], lookup: Callable[[], Any], backend) -> Any:
    """Compute under the key's lock in the shared cache; without the lock, wait for its holder's answer as long as
    it holds the lock (at most WAIT_SECONDS: a holder killed with its Redis lock frees it only after LOCK_SECONDS)."""
    lock = f"flight:{key}"
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if _locked(backend, lock):
            try:
                # The miss that brought us here may be older than another worker's answer, stored and unlocked since.
                found = lookup()
                return found if found is not None else compute()
            finally:
                _let_go(backend, lock)
        # Its holder stores the answer before it lets the lock go: a lock gone without an answer is a holder that
        # could not store it (or died), and waiting on would wait for nothing: try to take the lock instead.
        while time.monotonic() < deadline:
            found = lookup()
            if found is not None:
                return found
            if not _held(backend, lock):
                found = lookup()
                if found is not None:
                    return found
                break
            time.sleep(POLL_SECONDS)
        else:
            return compute()
