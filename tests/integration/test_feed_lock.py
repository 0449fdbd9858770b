"""One run of a feed at a time, on SQLite and PostgreSQL: a second run while one goes on (a cron's `etl run` beside
`etl watch`, or beside a long run) does not start, says who runs it, and nothing is read twice or lost."""

from __future__ import annotations

import csv
import hashlib
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from etl.feed_lock import FeedBusy, feed_lock, lock_path
from etl.runner import retry_quarantine, run_feed
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import cases, feed_runs
from tests.cases_feed import cases_feed, cases_feeds_file


def test_a_second_run_of_a_feed_does_not_start_while_one_holds_it(engine, tmp_path):
    feed = cases_feed(tmp_path)
    with feed_lock(engine, "cases"):
        with pytest.raises(FeedBusy, match="另一个进程正在运行数据源 cases.*本次未运行"):
            run_feed(engine, feed)
        with pytest.raises(FeedBusy):
            retry_quarantine(engine, feed)
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(feed_runs)).scalar() == 0  # never started
        with feed_lock(engine, "other"):  # other feeds are not held up
            pass
    assert run_feed(engine, feed).error is None  # released with the block
    with feed_lock(engine, "cases"):  # and again after that run
        pass


def test_the_lock_file_of_a_feed_name_that_is_no_file_name_is_its_digest(tmp_path):
    database = str(tmp_path / "w.db")
    assert lock_path(database, "cases@2").name == "w.db-feed-cases@2.lock"
    odd = lock_path(database, "../../etc/x y")  # a name that would climb out of the folder stays in it
    assert odd == tmp_path / f"w.db-feed-{hashlib.sha1(b'../../etc/x y').hexdigest()[:16]}.lock"
    assert lock_path(":memory:", "cases") is None and lock_path(None, "cases") is None


def _export(path, rows: int) -> None:
    received = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "村代码", "受理时间", "类别", "状态"])
        writer.writerows([f"AJ{i:07d}", "990101001001", received, "纠纷", "受理"] for i in range(rows))


def test_two_runs_started_together_load_a_big_file_once_without_a_traceback(tmp_path):
    # Before the lock, the second run went on from the first's checkpoint, moved the file when it had read it, and
    # the first then died on FileNotFoundError with a traceback and a failed run, although all its rows had loaded.
    var = tmp_path / "var"
    feeds = cases_feeds_file(tmp_path, batch_rows=1000)
    codes = tmp_path / "codes.csv"
    codes.write_text("code,name\n990101,示范县\n990101001,东镇\n990101001001,甲村\n", encoding="utf-8")
    environment = {**os.environ, "FEEDS_FILE": str(feeds)}
    command = [sys.executable, "-m", "etl.cli", "--var-dir", str(var)]
    subprocess.run([*command, "geo", "import", str(codes)], env=environment, check=True, capture_output=True)
    _export(tmp_path / "drops" / "cases.csv", 40_000)
    engine = make_engine(f"sqlite:///{var / 'warehouse.db'}")
    first = subprocess.Popen(
        [*command, "etl", "run", "cases"], env=environment, stdout=subprocess.PIPE, text=True, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        loading = False
        while not loading and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
            with engine.connect() as connection:
                loading = bool(connection.execute(select(func.count()).select_from(cases)).scalar())
        assert loading and first.poll() is None, "the first run should be part-way through the file"
        first.send_signal(signal.SIGSTOP)  # part-way it stays, however fast this machine is, until the second has run
        try:
            second = subprocess.run([*command, "etl", "run", "cases"], env=environment, capture_output=True, text=True)
        finally:
            first.send_signal(signal.SIGCONT)
        first_out, first_err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert second.returncode == 0, second.stderr
    assert "另一个进程正在运行数据源 cases（主机 " in second.stderr and f"进程 {first.pid}" in second.stderr
    assert first.returncode == 0 and "Traceback" not in first_err, first_err
    assert "输入 40000 行 = 导入 40000" in first_out
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(cases)).scalar() == 40_000
        statuses = connection.execute(select(feed_runs.c.status)).scalars().all()
    engine.dispose()
    assert statuses == ["ok"]  # the second run never started
    assert (tmp_path / "drops" / "processed" / "cases.csv").exists()


def test_a_postgresql_lock_whose_session_was_ended_lets_its_run_finish_and_is_free_again(postgres_url):
    # An administrator's pg_terminate_backend (or idle_session_timeout) ends the lock's idle session: the server let
    # go of the lock already, and failing to unlock it must not replace how the run ended.
    engine = make_engine(postgres_url)
    try:
        with feed_lock(engine, "ended"):
            _end_lock(engine, "ended")
        with feed_lock(engine, "ended"):
            pass
    finally:
        engine.dispose()


def _end_lock(engine, feed: str) -> None:
    """What an administrator's pg_terminate_backend or a clean-up deleting the lock file does to a running feed."""
    if engine.dialect.name != "postgresql":
        lock_path(engine.url.database, feed).unlink()
        return
    from sqlalchemy import text

    with engine.connect() as other:
        holder = other.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        ).scalar()
        assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": holder}).scalar()


def test_a_run_that_lost_its_lock_stops_before_committing_beside_the_run_that_took_it(engine, tmp_path):
    # Before, the run went on committing batches beside a second run that had taken the lock: both read the same
    # file and raced to move it and to write its checkpoint.
    feed = cases_feed(tmp_path, batch_rows=100)
    _export(tmp_path / "drops" / "cases.csv", 500)
    second = ExitStack()

    def lose_the_lock_after_the_first_batch(_counts, _batch):
        if not second._exit_callbacks:
            _end_lock(engine, "cases")
            second.enter_context(feed_lock(engine, "cases"))  # a second run can take it now

    with second:
        report = run_feed(engine, feed, progress=lose_the_lock_after_the_first_batch)
        assert second._exit_callbacks, "the second run should have taken the lock"
    assert report.error and "运行中被" in report.error and "另一个运行可能已经开始" in report.error, report.error
    assert report.counts.rows_in == 100  # the first batch only
    assert (tmp_path / "drops" / "cases.csv").exists()  # left where it was, for the run that holds the lock now
    with engine.connect() as connection:
        assert connection.execute(select(feed_runs.c.status)).scalars().all() == ["failed"]
    after = run_feed(engine, feed)  # the file goes on from the first batch's checkpoint: nothing twice, nothing lost
    assert after.error is None and after.counts.rows_in == 400
    assert (tmp_path / "drops" / "processed" / "cases.csv").exists()


def test_a_batch_slower_than_the_servers_idle_session_timeout_keeps_its_lock(postgres_url, tmp_path):
    # An administrator's idle_session_timeout ended the lock's session while a slow batch loaded on another
    # connection: the run failed on losing its lock, and so did every run after it on the same batch.
    from sqlalchemy import text

    engine = make_engine(postgres_url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(2); RETURN NULL; END $$"
            )
        )
        connection.execute(
            text("CREATE TRIGGER slow AFTER UPDATE ON feed_runs FOR EACH STATEMENT EXECUTE FUNCTION slow()")
        )
        name = connection.execute(text("SELECT current_database()")).scalar()
        connection.execute(text(f"ALTER DATABASE \"{name}\" SET idle_session_timeout = '1s'"))
    engine.dispose()
    engine = make_engine(postgres_url)  # new sessions have the timeout
    try:
        feed = cases_feed(tmp_path, batch_rows=5)
        _export(tmp_path / "drops" / "cases.csv", 10)
        report = run_feed(engine, feed)
        assert report.error is None and report.counts.rows_in == 10
    finally:
        engine.dispose()


def test_a_quarantine_retry_that_lost_its_lock_exits_1(tmp_path, monkeypatch):
    # It printed the error, rolled back, and exited 0, as if the retry had happened; a busy feed exits 1.
    from click.testing import CliRunner

    import etl.runner
    from etl.cli import main

    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = make_engine(url)
    migrate(engine)
    feed = cases_feed(tmp_path)
    _export(tmp_path / "drops" / "cases.csv", 3)
    assert run_feed(engine, feed).counts.quarantined == 3  # no regions: the village is unknown
    load = etl.runner._load_batch

    def a_clean_up_deletes_the_lock_file(*args, **kwargs):
        lock_path(engine.url.database, "cases").unlink()
        return load(*args, **kwargs)

    monkeypatch.setattr(etl.runner, "_load_batch", a_clean_up_deletes_the_lock_file)
    monkeypatch.setenv("FEEDS_FILE", str(tmp_path / "feeds.toml"))
    command = ["--var-dir", str(tmp_path / "var"), "--warehouse-url", url, "etl", "quarantine", "retry", "cases"]
    said = CliRunner().invoke(main, command)
    assert said.exit_code == 1 and "另一个运行可能已经开始" in said.output, said.output
    engine.dispose()
