"""One run of a feed at a time: a lock held for the whole run, across processes (and hosts, on PostgreSQL), that the
operating system or the database lets go of when the process holding it dies.

Two runs of one feed at once (a cron's `etl run` while `etl watch` or a long run goes on) read the same file twice,
race to move it, and overwrite each other's checkpoint; two processes of one MQTT feed take over each other's
session. The second run does not start: ``FeedBusy``.

A lock can be lost while its run goes on: an administrator ends the PostgreSQL session that holds it, or a clean-up
deletes the lock file (a second run then locks a new file). The run confirms its lock inside each batch's transaction,
just before it commits, and stops with ``FeedLockLost`` instead of committing beside a second run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

# A feed name that can stand in a file name as it is; any other is named by its digest.
PLAIN_NAME = re.compile(r"^[A-Za-z0-9_@-][A-Za-z0-9_@.-]{0,63}$")


class FeedBusy(Exception):
    """Another process is running this feed now; this run did not start."""


class FeedLockLost(Exception):
    """The run's lock is no longer its own: another run may have started, so this one commits nothing more."""


# Called with a batch's connection just before it commits; raises FeedLockLost when the lock is gone.
Confirm = Callable[[Connection], None]


@contextmanager
def feed_lock(engine: Engine, feed: str) -> Iterator[Confirm]:
    """Hold the feed's lock for the block, or raise FeedBusy at once when another process holds it; yields the
    check a run makes before each commit."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, feed) as confirm:
            yield confirm
        return
    path = lock_path(engine.url.database, feed)
    if path is None:  # an in-memory database: one process is all there is
        yield lambda _connection: None
        return
    with _file_lock(path, feed) as confirm:
        yield confirm


def lock_path(database: str | None, feed: str) -> Path | None:
    """The lock file of a feed beside a SQLite database file (None for an in-memory database)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    name = feed if PLAIN_NAME.match(feed) else hashlib.sha1(feed.encode()).hexdigest()[:16]
    database_file = Path(database)
    return database_file.with_name(f"{database_file.name}-feed-{name}.lock")


@contextmanager
def _file_lock(path: Path, feed: str) -> Iterator[Confirm]:
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
        locked = os.fstat(handle)

        def confirm(_connection: Connection) -> None:
            try:
                now = os.stat(path)
            except OSError:
                now = None
            if now is None or (now.st_dev, now.st_ino) != (locked.st_dev, locked.st_ino):
                raise FeedLockLost(
                    f"数据源 {feed} 的锁文件 {path} 在运行中被删除或替换，另一个运行可能已经开始：本次运行停止，"
                    "未提交的批次留待下次运行"
                )

        yield confirm
    finally:
        os.close(handle)  # closing releases the lock


# The advisory lock of ``hashtext(key)`` as pg_locks lists it, held by the asking session.
STILL_HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() "
    "AND objsubid = 1 AND classid::bigint = (hashtext(:key)::bigint >> 32) & 4294967295 "
    "AND objid::bigint = hashtext(:key)::bigint & 4294967295 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


@contextmanager
def _advisory_lock(engine: Engine, feed: str) -> Iterator[Confirm]:
    """PostgreSQL's session advisory lock on a connection of its own, outside any transaction (the run's
    transactions come and go); the server releases it when that connection ends."""
    key = f"ruralbrain:feed:{feed}"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        taken = connection.execute(text("SELECT pg_try_advisory_lock(hashtext(:key))"), {"key": key}).scalar()
        if not taken:
            raise FeedBusy(feed)
        # The lock's session waits while each batch loads on another connection: an administrator's
        # idle_session_timeout (PostgreSQL 14+) would end it, and with it the lock, under any batch slower than that.
        with contextlib.suppress(SQLAlchemyError):  # an older server has no such setting
            connection.execute(text("SET idle_session_timeout = 0"))

        def confirm(_batch: Connection) -> None:
            # Asked on the lock's own session: an ended session fails to answer.
            try:
                held = connection.execute(STILL_HELD, {"key": key}).scalar()
            except SQLAlchemyError:  # the session is gone (or was found gone before)
                held = 0
            if not held:
                raise FeedLockLost(
                    f"数据源 {feed} 的运行锁（PostgreSQL 会话）在运行中被结束，另一个运行可能已经开始：本次运行停止，"
                    "未提交的批次留待下次运行"
                )

        try:
            yield confirm
        finally:
            # A connection the server ended (an administrator, idle_session_timeout) has let go of the lock already;
            # failing to say so again must not replace how the run ended.
            with contextlib.suppress(SQLAlchemyError):
                connection.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), {"key": key})
