"""One evaluator acts at a time: a transaction that holds PostgreSQL's advisory lock of the alerts, or SQLite's
write lock from its first statement (BEGIN IMMEDIATE), until it commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

LOCK_NAME = "ruralbrain:alerts"


def write_lock(connection: Connection) -> None:
    """On SQLite, take the write lock as the transaction begins. pysqlite begins a transaction only before a
    write; one that reads first and writes later fails at once (SQLITE_BUSY) if another wrote in between."""
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if not driver.in_transaction:
        driver.execute("BEGIN IMMEDIATE")


def take_lock(connection: Connection) -> None:
    """Wait for the alerts' lock inside the connection's transaction (released when it ends)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": LOCK_NAME})
    write_lock(connection)


@contextmanager
def serialised(engine: Engine) -> Iterator[Connection]:
    """A transaction in which no other evaluator (thread, process or host) acts; commits on leaving."""
    with engine.begin() as connection:
        take_lock(connection)
        yield connection
