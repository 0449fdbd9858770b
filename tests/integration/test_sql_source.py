"""The SQL transport against hostile sources: rows dated in the future, secrets in the URL's query string, a locked
table or a silent server, a URL that does not parse. Sources on the real PostgreSQL and on SQLite files."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text

from etl.runner import run_feed
from etl.sources import source_from_config
from etl.sources.base import SourceError
from etl.warehouse.schema import feed_runs, feed_state, orders
from tests.orders_feed import add_orders, make_orders_table, village_warehouse
from tests.orders_feed import orders_feed as sql_feed

pytestmark = pytest.mark.integration


def recent(hours_ago: float) -> str:
    """A time some hours before now, as text with its zone (both databases take it)."""
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(sep=" ", timespec="seconds")


def sql_config(url: str, **more) -> dict:
    return {
        "type": "sql",
        "url": url,
        "query": "SELECT * FROM src WHERE updated_at >= :since",
        "since_column": "updated_at",
        **more,
    }


@pytest.fixture
def warehouse(tmp_path):
    """A SQLite warehouse with the one village the orders name."""
    engine = village_warehouse(tmp_path)
    yield engine
    engine.dispose()


# ---------------------------------------------------------------- 1. rows dated in the future


def test_a_row_dated_2099_does_not_carry_the_watermark_past_now(source_url, tmp_path):
    make_orders_table(source_url, [("A1", recent(3)), ("A2", "2099-01-01 00:00:00+08:00"), ("A3", recent(2))])
    source = source_from_config(sql_config(source_url, batch_size=1), tmp_path)
    batches = list(source.batches(None))
    assert [b.records[0].data["order_no"] for b in batches] == ["A1", "A3", "A2"]
    mark = batches[-1].watermark
    assert not mark.startswith("2099") and mark[:10] == recent(2)[:10]
    notes = [note for batch in batches for note in batch.notes]
    assert len(notes) == 1  # once per run, in its last batch
    assert "源表中有 1 行的 updated_at 晚于现在（最晚 2099-01-01 00:00:00，北京时间），水位未越过现在" in notes[0]
    # The next run reads the boundary row and the future one again (duplicates), and a row added since.
    add_orders(source_url, [("A4", recent(1))])
    again = list(source.batches(mark))
    assert sorted(r.data["order_no"] for b in again for r in b.records) == ["A2", "A3", "A4"]
    assert not again[-1].watermark.startswith("2099")


def test_a_zoneless_future_text_time_is_taken_as_beijing_time_and_held_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'source.db'}"
    beijing = (datetime.now(UTC) + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M:%S")  # UTC+8 text, an hour ahead
    make_orders_table(url, [("B1", "2024-03-05 08:00:00"), ("B2", beijing)])
    batches = list(source_from_config(sql_config(url), tmp_path).batches(None))
    assert batches[-1].watermark == "2024-03-05 08:00:00"
    assert "源表中有 1 行" in batches[-1].notes[0]


def test_a_feed_with_a_2099_row_loads_the_rows_added_after_it(source_url, warehouse, tmp_path):
    make_orders_table(source_url, [("C1", recent(3)), ("C2", "2099-01-01 00:00:00+08:00")])
    feed = sql_feed(tmp_path, sql_config(source_url))
    first = run_feed(warehouse, feed)
    assert first.error is None and first.counts.loaded == 2
    assert any("晚于现在" in note for note in first.notes)
    add_orders(source_url, [("C3", recent(1))])
    second = run_feed(warehouse, feed)
    assert second.error is None
    assert second.counts.loaded == 1 and second.counts.duplicates == 2  # C1 at the boundary, C2 again
    with warehouse.connect() as connection:
        assert sorted(connection.execute(select(orders.c.order_id)).scalars()) == ["C1", "C2", "C3"]
        stored = connection.execute(select(feed_state.c.watermark).where(feed_state.c.feed == "shop")).scalar_one()
        notes = connection.execute(select(feed_runs.c.notes).where(feed_runs.c.feed == "shop")).scalars().all()
    assert not stored.startswith("2099")
    assert all(note.count("晚于现在") == 1 for note in notes)


def test_ids_and_versions_are_no_times_and_are_never_held_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'source.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE v (id integer, version text)"))
        connection.execute(text("INSERT INTO v VALUES (20991231, 'v9'), (5, 'v1')"))
    engine.dispose()
    config = {"type": "sql", "url": url, "query": "SELECT * FROM v WHERE id >= :since", "since_column": "id"}
    batches = list(source_from_config({**config, "initial_since": 0}, tmp_path).batches(None))
    assert batches[-1].watermark == "20991231" and not batches[-1].notes


# ---------------------------------------------------------------- 2. secrets in the URL's query string


def test_a_password_in_the_query_string_is_masked_in_the_name_the_error_and_the_run_log(
    postgres_url, warehouse, tmp_path
):
    url = f"{postgres_url}?password=QUERY_PASSWORD_321&application_name=etl&sslpassword=SSL_SECRET_654"
    config = {**sql_config(url), "query": "SELECT * FROM no_such_table WHERE updated_at >= :since"}
    source = source_from_config(config, tmp_path)
    assert "QUERY_PASSWORD_321" not in source.name and "SSL_SECRET_654" not in source.name
    assert "password=***" in source.name and "sslpassword=***" in source.name
    assert "application_name=etl" in source.name
    assert "QUERY_PASSWORD_321" not in repr(source)
    with pytest.raises(SourceError) as raised:
        list(source.batches(None))
    assert "QUERY_PASSWORD_321" not in str(raised.value) and "no_such_table" in str(raised.value)
    report = run_feed(warehouse, sql_feed(tmp_path, config))
    assert report.error and "password=***" in report.error and "QUERY_PASSWORD_321" not in report.error
    with warehouse.connect() as connection:
        logged = connection.execute(select(feed_runs.c.error).where(feed_runs.c.feed == "shop")).scalar_one()
    assert "QUERY_PASSWORD_321" not in logged and "password=***" in logged


@pytest.mark.parametrize("key", ["password", "passwd", "pwd", "secret", "token", "api_key", "sslpassword", "PASSWORD"])
def test_every_secret_looking_query_parameter_is_masked(key, tmp_path):
    config = sql_config(f"postgresql+psycopg://etl:userpw99@db.example:5432/shop?sslmode=require&{key}=S3CR3T")
    name = source_from_config(config, tmp_path).name
    assert "S3CR3T" not in name and "userpw99" not in name and f"{key}=***" in name and "sslmode=require" in name


def test_a_password_holding_an_at_sign_or_inside_odbc_connect_is_masked(tmp_path):
    # "etl:S3cret@Pa55@host" was shown as etl:***@Pa55@… (SQLAlchemy ends the password at its first @) and the driver's
    # "failed to resolve host 'Pa55@127.0.0.1'" told the rest; odbc_connect's PWD was shown in full.
    source = source_from_config(
        sql_config("postgresql+psycopg://etl:S3cret@Pa55@127.0.0.1:1/shop", timeout_seconds=1), tmp_path
    )
    assert (
        "Pa55" not in source.name
        and "S3cret" not in source.name
        and source.name.startswith("SQL 数据源 postgresql+psycopg://etl:***@127")
    )
    with pytest.raises(SourceError) as raised:
        list(source.batches(None))
    assert "Pa55" not in str(raised.value) and "S3cret" not in str(raised.value)
    odbc = "mssql+pyodbc:///?odbc_connect=DRIVER%3D%7BODBC%7D%3BSERVER%3Dh%3BUID%3Detl%3BPWD%3DTopSecret9"
    assert "TopSecret9" not in source_from_config(sql_config(odbc), tmp_path).name


# ---------------------------------------------------------------- 3. a locked table, a silent server


def test_a_locked_postgresql_table_fails_the_run_at_the_statement_timeout(postgres_url, warehouse, tmp_path):
    make_orders_table(postgres_url, [("D1", recent(3))])
    url = postgres_url.replace("postgres@", "postgres:LOCKPW_777@")
    config = sql_config(url, timeout_seconds=0.5)
    holder = create_engine(postgres_url)
    try:
        with holder.connect() as locking:
            locking.execute(text("LOCK TABLE src IN ACCESS EXCLUSIVE MODE"))  # held until the rollback below
            with pytest.raises(SourceError) as raised:
                list(source_from_config(config, tmp_path).batches(None))
            report = run_feed(warehouse, sql_feed(tmp_path, config))
            locking.rollback()
    finally:
        holder.dispose()
    message = str(raised.value)
    assert message.startswith("SQL 数据源 postgresql+psycopg://postgres:***@")
    assert "查询超过 0.5 秒未完成" in message and "LOCKPW_777" not in message
    assert report.error == message
    # Unlocked, the same feed reads on.
    assert run_feed(warehouse, sql_feed(tmp_path, config)).counts.loaded == 1


def test_the_statement_timeout_keeps_options_already_in_the_url(postgres_url, tmp_path):
    url = f"{postgres_url}?options=-c%20search_path%3Dshop"
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE SCHEMA shop"))
        connection.execute(text("CREATE TABLE shop.src (updated_at text)"))
        connection.execute(text("INSERT INTO shop.src VALUES ('2024-03-05 08:00:00+08')"))
    engine.dispose()
    config = sql_config(url, timeout_seconds=7)
    config["query"] = (
        "SELECT updated_at, current_setting('statement_timeout') AS limit_set FROM src WHERE updated_at >= :since"
    )
    batches = list(source_from_config(config, tmp_path).batches(None))
    assert batches[0].records[0].data["limit_set"] == "7s"


def test_a_locked_sqlite_source_fails_at_its_busy_timeout(tmp_path):
    path = tmp_path / "source.db"
    url = f"sqlite:///{path}"
    make_orders_table(url, [("E1", recent(3))])
    locking = sqlite3.connect(path, isolation_level=None)
    try:
        locking.execute("BEGIN EXCLUSIVE")
        with pytest.raises(SourceError, match=r"SQL 数据源 sqlite:///.*数据库被锁住，等了 0.2 秒仍未放开"):
            list(source_from_config(sql_config(url, timeout_seconds=0.2), tmp_path).batches(None))
    finally:
        locking.execute("ROLLBACK")
        locking.close()


def test_a_server_that_never_answers_fails_at_the_connect_timeout(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts TCP, never speaks PostgreSQL
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not done.is_set():
            with contextlib.suppress(OSError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    config = sql_config(f"postgresql+psycopg://etl:SILENTPW_55@127.0.0.1:{port}/shop", timeout_seconds=1)
    try:
        with pytest.raises(SourceError) as raised:
            list(source_from_config(config, tmp_path).batches(None))
    finally:
        done.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()
    message = str(raised.value)
    assert message.startswith(f"SQL 数据源 postgresql+psycopg://etl:***@127.0.0.1:{port}/shop：无法连接数据库")
    assert "秒内没能连上数据库" in message and "SILENTPW_55" not in message


@pytest.mark.parametrize("bad", [0, -1, "60", True, float("inf")])
def test_timeout_seconds_must_be_a_positive_number(bad, tmp_path):
    with pytest.raises(ValueError, match="timeout_seconds"):
        source_from_config(sql_config("sqlite:///x.db", timeout_seconds=bad), tmp_path)


# ---------------------------------------------------------------- 4. a URL that does not parse


def test_a_port_typo_is_a_source_error_naming_the_masked_source(tmp_path):
    config = sql_config("postgresql+psycopg://postgres:DSN_PASSWORD_789@127.0.0.1:5432x/shop")
    with pytest.raises(SourceError) as raised:
        list(source_from_config(config, tmp_path).batches(None))
    message = str(raised.value)
    assert message.startswith("SQL 数据源 postgresql+psycopg://postgres:***@127.0.0.1:5432x/shop：不是可用的数据库 URL")
    assert "DSN_PASSWORD_789" not in message


def test_a_port_typo_fails_only_its_own_feed(warehouse, tmp_path):
    bad = sql_feed(tmp_path, sql_config("postgresql+psycopg://postgres:DSN_PASSWORD_789@127.0.0.1:5432x/shop"))
    report = run_feed(warehouse, bad)  # a report, not a ValueError that ends etl run for the feeds after it
    assert report.error and "不是可用的数据库 URL" in report.error and "DSN_PASSWORD_789" not in report.error
    with warehouse.connect() as connection:
        run = connection.execute(select(feed_runs.c.status, feed_runs.c.error)).one()
    assert run.status == "failed" and "DSN_PASSWORD_789" not in run.error


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://etl:PWX_1@127.0.0.1:1/shop?connect_timeout=abc", "nosuchdb://etl:PWX_1@h/d"]
)
def test_other_unusable_urls_are_source_errors_too(url, tmp_path):
    with pytest.raises(SourceError, match="^SQL 数据源 ") as raised:
        list(source_from_config(sql_config(url, timeout_seconds=1), tmp_path).batches(None))
    assert "PWX_1" not in str(raised.value)
