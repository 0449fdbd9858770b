"""One run of a feed at a time: a lock held for the whole run, across processes (and hosts, on PostgreSQL), that the
operating system or the database lets go of when the process holding it dies.

Two runs of one feed at once (a cron's `etl run` while `etl watch` or a long run goes on) read the same file twice,
race to move it, and overwrite each other's checkpoint; two processes of one MQTT feed take over each other's
session. The second run does not start: ``FeedBusy``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

# A feed name that can stand in a file name as it is; any other is named by its digest.
PLAIN_NAME = re.compile(r"^[A-Za-z0-9_@-][A-Za-z0-9_@.-]{0,63}$")


class FeedBusy(Exception):
    """Another process is running this feed now; this run did not start."""


@contextmanager
def feed_lock(engine: Engine, feed: str) -> Iterator[None]:
    """Hold the feed's lock for the block, or raise FeedBusy at once when another process holds it."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, feed):
            yield
        return
    path = lock_path(engine.url.database, feed)
    if path is None:  # an in-memory database: one process is all there is
        yield
        return
    with _file_lock(path, feed):
        yield


def lock_path(database: str | None, feed: str) -> Path | None:
    """The lock file of a feed beside a SQLite database file (None for an in-memory database)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    name = feed if PLAIN_NAME.match(feed) else hashlib.sha1(feed.encode()).hexdigest()[:16]
    database_file = Path(database)
    return database_file.with_name(f"{database_file.name}-feed-{name}.lock")


@contextmanager
def _file_lock(path: Path, feed: str) -> Iterator[None]:
    """flock on the lock file; the kernel releases it when the process ends, however it ends."""
    try:
        handle, writable = os.open(path, os.O_RDWR | os.O_CREAT, 0o644), True
    except PermissionError:  # made by another user (a `sudo ruralbrain etl run`): flock needs reading only
        handle, writable = os.open(path, os.O_RDONLY), False
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FeedBusy(feed) from None
        if writable:
            os.ftruncate(handle, 0)
            os.write(handle, f"{feed}\n{os.getpid()}\n".encode())  # for a person looking at the folder
        yield
    finally:
        os.close(handle)  # closing releases the lock


@contextmanager
def _advisory_lock(engine: Engine, feed: str) -> Iterator[None]:
    """PostgreSQL's session advisory lock on a connection of its own, outside any transaction (the run's
    transactions come and go); the server releases it when that connection ends."""
    key = f"ruralbrain:feed:{feed}"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        taken = connection.execute(text("SELECT pg_try_advisory_lock(hashtext(:key))"), {"key": key}).scalar()
        if not taken:
            raise FeedBusy(feed)
        try:
            yield
        finally:
            # A connection the server ended (an administrator, idle_session_timeout) has let go of the lock already;
            # failing to say so again must not replace how the run ended.
            with contextlib.suppress(DBAPIError):
                connection.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), {"key": key})
