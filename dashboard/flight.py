"""Single flight: an answer nobody has cached is computed once at a time — the threads of a worker wait for the one
computing it, and the workers of a host (or the hosts sharing Redis) wait for the one holding its lock in the
shared cache — instead of every screen that asks at a minute's turn computing it again."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

# How long a computation may hold its lock in the shared cache (a worker that dies holding it frees it by then),
# and how long the others wait for its answer before computing it themselves.
LOCK_SECONDS = 10
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.02
MISSING = object()


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


def _across_workers(key: str, compute: Callable[[], Any], lookup: Callable[[], Any], backend) -> Any:
    """Compute under the key's lock in the shared cache; without the lock, wait for its holder's answer."""
    lock = f"flight:{key}"
    try:
        mine = backend.add(lock, 1, timeout=LOCK_SECONDS)
    except Exception:  # noqa: BLE001 - a cache that cannot lock is no reason not to answer
        mine = True
    if mine:
        try:
            # The miss that brought us here may be older than another worker's answer, stored and unlocked since.
            found = lookup()
            return found if found is not None else compute()
        finally:
            with contextlib.suppress(Exception):  # a lock not deleted expires by itself
                backend.delete(lock)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = lookup()
        if found is not None:
            return found
        time.sleep(POLL_SECONDS)
    return compute()
