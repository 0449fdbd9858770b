"""When the warehouse itself cannot be written (another writer holds its lock past the timeout, on SQLite and on the
real PostgreSQL), no row is blamed: nothing is quarantined as "refused by database", the file stays in the drop
folder, the run says why in Chinese, and the next run goes on from the checkpoint and loads every row once.

Before, the loader took the lock error for a bad row: it narrowed the batch down row by row, tried to quarantine all
of its rows as refused by the database, and ended in a traceback with the run left "running".
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, event, func, select, text

from etl.regions import load_hierarchy
from etl.runner import WarehouseUnavailable, run_feed
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import cases, feed_runs, quarantine
from geo.hierarchy import HierarchyRead, RegionRecord
from tests.cases_feed import HEADER, cases_feed

REGIONS = [
    RegionRecord("990101000000", "示范县", "county", "990100000000"),
    RegionRecord("990101001000", "东镇", "township", "990101000000"),
    RegionRecord("990101001001", "甲村", "village", "990101001000"),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    load_hierarchy(engine, HierarchyRead(REGIONS, []), source="test")
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _short_waits(dbapi_connection, _record):  # the production waits (30 s), shortened for the test
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 300" if request.param == "sqlite" else "SET lock_timeout = '300ms'")
        cursor.close()
        if request.param == "postgresql":
            dbapi_connection.commit()

    yield engine
    engine.dispose()


class Blocker:
    """Another writer holding the warehouse's write lock (SQLite) or the cases table (PostgreSQL)."""

    def __init__(self, engine):
        self.engine = engine
        self.holding = None

    def hold(self) -> None:
        if self.engine.dialect.name == "sqlite":
            self.holding = sqlite3.connect(self.engine.url.database, isolation_level=None)
            self.holding.execute("BEGIN IMMEDIATE")
        else:
            self.holding = create_engine(self.engine.url).connect()
            self.holding.execute(text("LOCK TABLE cases, feed_runs IN ACCESS EXCLUSIVE MODE"))

    def release(self) -> None:
        if self.engine.dialect.name == "sqlite":
            self.holding.execute("ROLLBACK")
        else:
            self.holding.rollback()
        self.holding.close()


def _feed(tmp_path):
    feed = cases_feed(tmp_path, batch_rows=1)
    received = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    rows = "".join(f"C{n},990101001001,{received},纠纷,受理\n" for n in range(3))
    (tmp_path / "drops" / "a.csv").write_text(HEADER + "\n" + rows, encoding="utf-8")
    return feed, tmp_path / "drops"


def _count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar()


def test_a_lock_held_through_a_run_quarantines_nothing_and_the_next_run_loads_the_rest(engine, tmp_path):
    feed, drops = _feed(tmp_path)
    blocker = Blocker(engine)
    taken = threading.Event()

    def after_first_batch(_counts, _batch):
        if not taken.is_set():
            taken.set()
            blocker.hold()

    report = run_feed(engine, feed, progress=after_first_batch)
    try:
        assert report.error and "数据仓库暂时无法写入" in report.error and "文件留在投递目录" in report.error
        assert report.counts.loaded == 1 and report.counts.quarantined == 0
    finally:
        blocker.release()
    assert (drops / "a.csv").exists() and not (drops / "failed").exists()
    assert _count(engine, quarantine) == 0
    again = run_feed(engine, feed)
    assert again.error is None and (again.counts.loaded, again.counts.quarantined) == (2, 0)
    assert _count(engine, cases) == 3 and _count(engine, quarantine) == 0
    assert (drops / "processed" / "a.csv").exists()
    with engine.connect() as connection:
        statuses = connection.execute(select(feed_runs.c.status).order_by(feed_runs.c.id)).scalars().all()
    assert statuses[-1] == "ok" and statuses[0] in ("failed", "interrupted")  # never left "running"


def test_a_lock_held_before_a_run_starts_is_a_clear_error_not_a_traceback(engine, tmp_path):
    feed, drops = _feed(tmp_path)
    blocker = Blocker(engine)
    blocker.hold()
    try:
        with pytest.raises(WarehouseUnavailable, match="数据仓库暂时无法写入"):
            run_feed(engine, feed)
    finally:
        blocker.release()
    assert (drops / "a.csv").exists() and _count(engine, quarantine) == 0


def test_ctrl_c_during_a_files_last_batch_leaves_the_file_for_the_next_run(engine, tmp_path, monkeypatch):
    # The last batch of a file carried "move it to failed/" for any exception: Ctrl-C there set a good file aside
    # (a file of one batch, the usual county export, whenever Ctrl-C came).
    import etl.runner

    feed, drops = _feed(tmp_path)  # three rows, a batch each, then the file's last batch
    commits = []
    bump = etl.runner.bump_version

    def interrupted_at_the_last(connection):
        commits.append(1)
        if len(commits) == 4:
            raise KeyboardInterrupt
        return bump(connection)

    with monkeypatch.context() as patched:
        patched.setattr(etl.runner, "bump_version", interrupted_at_the_last)
        with pytest.raises(KeyboardInterrupt):
            run_feed(engine, feed)
    assert (drops / "a.csv").exists() and not (drops / "failed").exists()
    again = run_feed(engine, feed)
    assert again.counts.loaded == 0 and (drops / "processed" / "a.csv").exists()
    assert _count(engine, cases) == 3 and _count(engine, quarantine) == 0


def test_a_bad_value_holding_a_nul_is_quarantined_on_both_databases_and_the_file_moves_on(engine, tmp_path):
    # The reason quotes the bad value; PostgreSQL refuses NUL in text, and that refusal (a DataError, a row's fault)
    # was taken for the warehouse's own: the file stayed in the drop folder and failed the same way on every run.
    feed, drops = _feed(tmp_path)
    received = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    rows = f"N1,990101001001,2024-01-0\x001,纠纷,受理\nN2,990101001001,{received},纠纷,受理\n"
    (drops / "a.csv").write_text(HEADER + "\n" + rows, encoding="utf-8")
    report = run_feed(engine, feed)
    assert report.error is None and (report.counts.loaded, report.counts.quarantined) == (1, 1)
    assert (drops / "processed" / "a.csv").exists()
    with engine.connect() as connection:
        (reason,) = connection.execute(select(quarantine.c.reason)).scalars().all()
    assert "\\0" in reason and "\x00" not in reason
