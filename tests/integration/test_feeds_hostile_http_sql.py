"""HTTP and SQL feeds against hostile sources, as a reviewer found them: a quarantined row that became the watermark
(2099-1-1 without zero padding, 20261208 or 1e400 in a time field), a password in the URL's userinfo, a future row
quarantined again on every run, headers dripped a byte at a time, a redirect to another host, PostgreSQL's
'infinity', an API paging newest first, a watermark that cannot move, a 5000-digit number, GBK, NaN."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text

from etl.runner import run_feed
from etl.sources import source_from_config
from etl.sources.base import SourceError
from etl.warehouse.schema import feed_runs, feed_state, orders, quarantine
from tests.loopback_http import Api, api_fixture, ok
from tests.orders_feed import VILLAGE, village_warehouse
from tests.orders_feed import orders_feed as feed_of

pytestmark = pytest.mark.integration

BEIJING_OFFSET = timedelta(hours=8)


def ago(hours: float) -> str:
    """A Beijing time some hours before now, as "YYYY-MM-DD HH:MM:SS" (zoneless, as the APIs write it)."""
    return (datetime.now(UTC) + BEIJING_OFFSET - timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")


def bj(hours: float) -> str:
    """ago() with its zone, for a timestamptz column."""
    return f"{ago(hours)}+08:00"


def order(number: int, paid_at, **more) -> dict:
    return {"order_no": f"O{number:05d}", "village_code": VILLAGE, "paid_at": paid_at, "product": "茶叶", "qty": 1,
            "amount": 10, **more}  # fmt: skip


api = api_fixture(protocol_version="HTTP/1.1")


def paged(items: list[dict], query: dict) -> tuple[int, dict, bytes]:
    """Items at or after ``since`` (compared as text, as many APIs do), a page of ``page_size``."""
    since = query.get("since")
    chosen = [item for item in items if since is None or str(item["paid_at"]) >= since]
    page, size = int(query.get("page", 1)), int(query.get("page_size", 100))
    return ok({"data": chosen[(page - 1) * size : page * size]})


def http_config(server: Api, path: str = "/orders", **more) -> dict:
    return {"type": "http", "url": f"{server.url}{path}", "items": "data", "backoff": 0, **more}


@pytest.fixture
def warehouse(tmp_path):
    """A SQLite warehouse with the one village the orders name."""
    engine = village_warehouse(tmp_path)
    yield engine
    engine.dispose()


def loaded(engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.execute(select(orders.c.order_id)).scalars())


def stored_watermark(engine, name: str = "shop") -> str | None:
    with engine.connect() as connection:
        return connection.execute(select(feed_state.c.watermark).where(feed_state.c.feed == name)).scalar()


# ------------------------------------------------ 1. a quarantined value does not move the watermark


@pytest.mark.parametrize("bad", ["2099-1-1 08:00:00", 20261208, "20261208", "inf", "2026-02-30 08:00:00"])
def test_http_a_value_that_is_no_valid_time_does_not_become_the_watermark(api, warehouse, tmp_path, bad):
    valid = ago(3)
    items = [order(1, ago(5)), order(2, bad), order(3, valid)]
    items.sort(key=lambda item: str(item["paid_at"]))
    server = api(lambda path, query, _: paged(items, query))
    feed = feed_of(tmp_path, http_config(server, since_param="since", watermark_field="paid_at", page_size=5))
    first = run_feed(warehouse, feed)
    # 20261208 is a date to the runner (loaded), never a watermark: as text it outranks every real time.
    assert first.error is None and first.counts.quarantined == (0 if "2026120" in str(bad) else 1)
    assert stored_watermark(warehouse) == valid
    assert any("水位" in note for note in first.notes)
    items.append(order(4, ago(1)))  # written after the bad one: the next run must read it
    second = run_feed(warehouse, feed)
    assert second.error is None
    assert {"O00001", "O00003", "O00004"} <= set(loaded(warehouse))
    assert not str(stored_watermark(warehouse)).startswith(("2099", "2026120", "inf"))


def test_http_a_time_1e400_does_not_become_the_watermark(api, tmp_path):
    valid = ago(2)
    body = '{"data": [{"id": 1, "t": "' + valid + '"}, {"id": 2, "t": 1e400}, {"id": 3, "t": 99999999999}]}'
    server = api(lambda path, query, _: ok(body.encode()))
    batches = list(source_from_config(http_config(server, watermark_field="t"), tmp_path).batches(None))
    assert batches[-1].watermark == valid
    assert "水位没有因它移动" in "\n".join(batches[-1].notes)


def make_text_orders(url: str, rows: list[tuple[str, str]]) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE IF NOT EXISTS src (order_no text, village_code text, paid_at text, product text,"
                " qty int, amount numeric, updated_at text)"
            )
        )
        connection.execute(
            text("INSERT INTO src VALUES (:no, :village, :at, '小米', 1, 10, :at)"),
            [{"no": no, "village": VILLAGE, "at": at} for no, at in rows],
        )
    engine.dispose()


def sql_config(url: str, **more) -> dict:
    query = "SELECT * FROM src WHERE updated_at >= :since"
    return {"type": "sql", "url": url, "query": query, "since_column": "updated_at", **more}


@pytest.mark.parametrize("bad", ["2099-1-1 08:00:00", "20261208", "Infinity"])
def test_sql_a_text_time_that_is_no_valid_time_does_not_become_the_watermark(source_url, warehouse, tmp_path, bad):
    valid = ago(3)
    make_text_orders(source_url, [("C1", ago(5)), ("C2", bad), ("C3", valid)])
    feed = feed_of(tmp_path, sql_config(source_url))
    first = run_feed(warehouse, feed)
    assert first.error is None and first.counts.quarantined == (0 if bad == "20261208" else 1)
    assert stored_watermark(warehouse) == valid
    make_text_orders(source_url, [("C4", ago(1))])
    second = run_feed(warehouse, feed)
    assert second.error is None
    assert {"C1", "C3", "C4"} <= set(loaded(warehouse))


# ------------------------------------------------ 6. a password in the URL is never shown


def test_http_a_password_in_the_url_is_masked_in_errors_and_the_run_log(api, warehouse, tmp_path):
    server = api(lambda path, query, _: (500, {}, b""))
    url = server.url.replace("http://", "http://etl:Sup3rSecretPw@") + "/err500"
    config = {"type": "http", "url": url, "items": "data", "retries": 0, "backoff": 0}
    with pytest.raises(SourceError) as raised:
        list(source_from_config(config, tmp_path).batches(None))
    assert "Sup3rSecretPw" not in str(raised.value) and "etl:***@" in str(raised.value)
    report = run_feed(warehouse, feed_of(tmp_path, config))
    assert report.error and "Sup3rSecretPw" not in report.error
    with warehouse.connect() as connection:
        logged = connection.execute(select(feed_runs.c.error)).scalars().all()
    assert logged and not any("Sup3rSecretPw" in (error or "") for error in logged)
    refused = {**config, "url": "http://etl:Sup3rSecretPw@127.0.0.1:9/x?appkey=AK_SECRET_123", "retries": 0}
    with pytest.raises(SourceError) as raised:
        list(source_from_config(refused, tmp_path).batches(None))
    assert "Sup3rSecretPw" not in str(raised.value) and "AK_SECRET_123" not in str(raised.value)


def test_http_config_errors_mask_the_url_secrets(tmp_path, monkeypatch):
    monkeypatch.delenv("H11_UNSET_VAR", raising=False)
    url = "http://etl:Sup3rSecretPw@127.0.0.1:9/err500?appkey=AK_SECRET_123&sign=SIGSECRET"
    for config in (
        {"type": "http", "url": url, "items": "data", "token_env": "H11_UNSET_VAR"},
        {"type": "http", "url": url, "items": "data", "page_param": "page", "next": "next"},
    ):
        with pytest.raises(ValueError) as raised:
            source_from_config(config, tmp_path)
        assert not any(secret in str(raised.value) for secret in ("Sup3rSecretPw", "AK_SECRET_123", "SIGSECRET"))


# ------------------------------------------------ 4. a row dated in the future is quarantined once


def test_a_row_dated_in_the_future_is_quarantined_once_however_often_it_is_read(api, warehouse, tmp_path):
    items = [order(1, ago(3)), order(2, "2099-01-01 08:00:00")]
    server = api(lambda path, query, _: paged(items, query))
    feed = feed_of(tmp_path, http_config(server, since_param="since", watermark_field="paid_at"))
    start = datetime.now(UTC)
    reports = [run_feed(warehouse, feed, now=lambda minutes=minutes: start + timedelta(minutes=minutes)) for minutes
               in (0, 1, 7)]  # fmt: skip
    assert [report.error for report in reports] == [None, None, None]
    assert [report.counts.quarantined for report in reports] == [1, 0, 0]
    assert reports[-1].counts.duplicates >= 1
    with warehouse.connect() as connection:
        assert len(connection.execute(select(quarantine.c.id)).all()) == 1


# ------------------------------------------------ 5. headers dripped a byte at a time


def drip_headers(path, query, handler):
    """A status line, then the headers a byte every 0.3 s for up to a minute."""
    try:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        handler.wfile.flush()
        for _ in range(200):
            handler.wfile.write(b"X")
            handler.wfile.flush()
            time.sleep(0.3)
    except OSError:
        pass
    handler.close_connection = True


@pytest.mark.parametrize("retries", [0, 2])
def test_http_headers_dripped_a_byte_at_a_time_stop_the_page_after_page_seconds(api, tmp_path, retries):
    server = api(drip_headers)
    config = http_config(server, timeout=5, page_seconds=1.5, retries=retries)
    outcome: list = []

    def read():
        try:
            list(source_from_config(config, tmp_path).batches(None))
        except SourceError as error:
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=30)  # a generous deadline: before the fix it hung for the minute the server drips
    assert not reader.is_alive(), "the run hung on dripped headers"
    assert outcome and "page_seconds" in str(outcome[0]) and "回应头也算在内" in str(outcome[0])


# ------------------------------------------------ 7. redirects


def test_http_a_redirect_to_another_host_is_refused_and_one_on_the_same_host_followed(api, tmp_path, monkeypatch):
    inside = api(lambda path, query, _: ok({"data": [order(21, ago(3), product="内网数据")]}))

    def answer(path, query, _):
        if path == "/moved":
            return 302, {"Location": "/orders?page_size=5"}, b""
        if path == "/orders":
            return ok({"data": [order(1, ago(3))]})
        return 302, {"Location": f"{inside.url}/internal"}, b""

    server = api(answer)
    monkeypatch.setenv("H11_TOKEN", "tok-123")
    with pytest.raises(SourceError) as raised:
        list(source_from_config(http_config(server, "/redirect", token_env="H11_TOKEN"), tmp_path).batches(None))
    assert "重定向" in str(raised.value) and "已拒绝" in str(raised.value)
    assert inside.seen == []
    batches = list(source_from_config(http_config(server, "/moved", token_env="H11_TOKEN"), tmp_path).batches(None))
    assert [record.data["order_no"] for record in batches[0].records] == ["O00001"]
    assert server.seen[-1] == ("/orders?page_size=5", "Bearer tok-123")


# ------------------------------------------------ 8. PostgreSQL's infinity and years past 9999


def test_sql_infinity_and_year_10000_are_quarantined_rows_not_a_failed_run(postgres_url, warehouse, tmp_path):
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE src (order_no text, village_code text, paid_at timestamptz, product text, qty int,"
                " amount numeric, updated_at timestamptz, made date, at_local timestamp)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO src VALUES (:no, :v, CAST(:paid AS timestamptz), '小米', 1, 10, CAST(:at AS timestamptz),"
                " CAST(:made AS date), CAST(:local AS timestamp))"
            ),
            [
                {"no": "C1", "v": VILLAGE, "paid": bj(5), "at": bj(5), "made": "infinity", "local": "10000-01-01"},
                {"no": "C2", "v": VILLAGE, "paid": "infinity", "at": bj(4), "made": None, "local": None},
                {"no": "C3", "v": VILLAGE, "paid": "10000-01-01", "at": bj(3), "made": None, "local": None},
                {"no": "C4", "v": VILLAGE, "paid": bj(2), "at": "infinity", "made": None, "local": None},
            ],
        )
    engine.dispose()
    feed = feed_of(tmp_path, sql_config(postgres_url))
    report = run_feed(warehouse, feed)
    assert report.error is None, report.error
    assert loaded(warehouse) == ["C1", "C4"], (report.counts, [str(issue) for issue in report.issues])
    with warehouse.connect() as connection:
        kept = connection.execute(select(quarantine.c.location, quarantine.c.field)).all()
    assert sorted(kept) == [("SQL 第 2 行", "paid_at"), ("SQL 第 3 行", "paid_at")]
    assert stored_watermark(warehouse) is not None and "infinity" not in stored_watermark(warehouse)


# ------------------------------------------------ 2. newest first; 3. a watermark that cannot move


def test_http_an_api_paging_newest_first_stops_the_run_instead_of_losing_items(api, warehouse, tmp_path):
    items = [order(n, ago(10 - n)) for n in range(1, 7)][::-1]  # newest first
    server = api(lambda path, query, _: paged(items, query))
    for more in ({"max_pages": 1}, {}):
        feed = feed_of(tmp_path, http_config(server, since_param="since", watermark_field="paid_at", page_size=2,
                                             page_param="page", **more))  # fmt: skip
        report = run_feed(warehouse, feed)
        assert report.error and "接口未按水位升序返回" in report.error
        assert stored_watermark(warehouse) is None  # nothing older than it is skipped on the next run


def test_http_more_items_at_one_time_than_a_run_reads_fail_naming_the_watermark(api, warehouse, tmp_path):
    moment = ago(2)
    items = [order(n, moment) for n in range(1, 11)]
    server = api(lambda path, query, _: paged(items, query))
    config = http_config(server, since_param="since", watermark_field="paid_at", page_size=2, page_param="page",
                         max_pages=2)  # fmt: skip
    feed = feed_of(tmp_path, config)
    first = run_feed(warehouse, feed)
    assert first.error is None and stored_watermark(warehouse) == moment
    second = run_feed(warehouse, feed)
    assert second.error and "水位没有前进" in second.error and moment in second.error  # the run log is the feed's


# ------------------------------------------------ 9, 10. numbers no float holds, NaN, a GBK answer


def reasons(engine) -> list[str]:
    with engine.connect() as connection:
        return [row.reason for row in connection.execute(select(quarantine.c.reason).order_by(quarantine.c.id))]


def test_http_numbers_no_float_holds_and_nan_quarantine_their_item_not_the_page(api, warehouse, tmp_path):
    # A 5,000-digit amount refused the whole page as "回应不是 JSON" on every run; NaN was 必填但为空.
    body = (
        '{"data": [' + json.dumps(order(1, ago(3)), ensure_ascii=False) + ","
        + json.dumps(order(2, ago(2)), ensure_ascii=False).replace('"amount": 10', '"amount": ' + "9" * 5000) + ","
        + json.dumps(order(3, ago(2)), ensure_ascii=False).replace('"amount": 10', '"amount": NaN') + ","
        + json.dumps(order(4, ago(1)), ensure_ascii=False).replace('"amount": 10', '"amount": 1e400') + "]}"
    )  # fmt: skip
    server = api(lambda path, query, _: ok(body.encode()))
    report = run_feed(warehouse, feed_of(tmp_path, http_config(server)))
    assert report.error is None and loaded(warehouse) == ["O00001"]
    kept = reasons(warehouse)
    assert len(kept) == 3 and "必填但为空" not in "".join(kept)
    assert "超出可表示的数字范围" in kept[0] and "不是有限的数字" in kept[1] and "1e400" in kept[2]


def test_http_a_gbk_answer_without_charset_is_read_and_other_bytes_are_named(api, warehouse, tmp_path):
    body = json.dumps({"data": [order(1, ago(2))]}, ensure_ascii=False).encode("gbk")
    server = api(lambda path, query, _: ok(body))
    report = run_feed(warehouse, feed_of(tmp_path, http_config(server)))
    assert report.error is None and loaded(warehouse) == ["O00001"]
    broken = api(lambda path, query, _: ok(b'{"data": [\xff\xfe\xfd]}'))
    with pytest.raises(SourceError, match="不是 UTF-8 编码"):
        list(source_from_config(http_config(broken), tmp_path).batches(None))
