"""Small ETL defects, on SQLite and the real PostgreSQL: an MQTT topic part counted from the end is named as such
(最后一段, 倒数第 N 段; it said 第 0 段) and one past the topic's start is missing, not an IndexError; `etl feeds
retire` says 数据仓库暂时无法访问 like the other commands; a file whose every row was quarantined for formulas without
a saved value says so, not a header or mapping problem; HTTP and SQL sources hold their watermark back by the feed's
future_tolerance, not a fixed 10 minutes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from etl.cli import main
from etl.feeds import load_feeds
from etl.runner import run_feed
from etl.warehouse.schema import feed_state, orders, quarantine, readings
from tests.loopback_http import Api
from tests.mqtt_county import forget_session, mqtt_feed, publish_all, register_device
from tests.orders_feed import MAPPING, VILLAGE, make_orders_table, orders_feed, village_warehouse

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse(request, tmp_path):
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = village_warehouse(tmp_path, url)
    yield engine
    engine.dispose()


def kept(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(select(quarantine.c.location, quarantine.c.reason).order_by(quarantine.c.id)).all()


def stored_watermark(engine) -> str | None:
    with engine.connect() as connection:
        return connection.execute(select(feed_state.c.watermark).where(feed_state.c.feed == "shop")).scalar()


# --- 1. MQTT topic parts counted from the end --------------------------------------------------------------------


def test_a_topic_part_counted_from_the_end_is_named_as_such(warehouse, tmp_path, mqtt_broker):
    # "topic:-1" (the last part) was named 第 0 段 (index + 1), and a part before the topic's start (a topic
    # shorter than the mapping counts back) was an IndexError, not a missing part.
    register_device(warehouse, "D1", VILLAGE)
    host, port = mqtt_broker
    root = f"polish-{uuid.uuid4().hex[:12]}"  # one level: "<root>" alone has no part before the last
    client_id = f"etl-polish-{root}"
    parts = {"device_id": "topic:-1", "metric": "topic:-2"}
    timing = {"idle_seconds": 1, "batch_seconds": 0.3, "session_expiry": 120}
    sensors = mqtt_feed(port, client_id, root, host=host, **parts, **timing)
    (tmp_path / "feeds.toml").write_text(sensors, encoding="utf-8")
    feed = load_feeds(tmp_path / "feeds.toml")["sensors"]
    try:
        assert run_feed(warehouse, feed).error is None  # the session and its subscription exist from here on
        reading = json.dumps({"time": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(), "value": 12})
        topics = (f"{root}/pm25/D1", f"{root}/pm25/", f"{root}//D1", root)
        publish_all(host, port, [(topic, reading) for topic in topics])
        report = run_feed(warehouse, feed)
        assert report.error is None, report.error
        assert (report.counts.loaded, report.counts.quarantined) == (1, 3), report.issues
        with warehouse.connect() as connection:
            assert connection.execute(select(readings.c.device_id, readings.c.metric)).all() == [("D1", "pm25")]
        reasons = {location.split("，")[0]: reason for location, reason in kept(warehouse)}
        assert reasons == {
            f"MQTT 主题 {root}/pm25/": f"缺少字段 [missing field]：主题缺少设备编号（最后一段）：{root}/pm25/",
            f"MQTT 主题 {root}//D1": f"缺少字段 [missing field]：主题缺少字段 metric（倒数第 2 段）：{root}//D1",
            f"MQTT 主题 {root}": f"缺少字段 [missing field]：主题缺少字段 metric（倒数第 2 段）：{root}",
        }, reasons
    finally:
        forget_session(host, port, client_id)


def test_topic_parts_are_named_from_the_start_and_from_the_end():
    from etl.runner import topic_part

    assert [topic_part(index) for index in (0, 3, -1, -2, -10)] == [
        "第 1 段",
        "第 4 段",
        "最后一段",
        "倒数第 2 段",
        "倒数第 10 段",
    ]


# --- 2. etl feeds retire with the warehouse unreachable -----------------------------------------------------------


def test_retire_says_the_warehouse_cannot_be_reached_in_chinese(tmp_path):
    # Not a defect: the command group turns a database's own failure into this message for every command.
    (tmp_path / "w.db").mkdir()  # a folder where the database file should be
    runner = CliRunner()
    for url, reason in (
        (f"sqlite:///{tmp_path / 'w.db'}", "打不开数据库文件"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/none", "连不上数据库"),  # nothing listens on port 1
    ):
        base = ["--var-dir", str(tmp_path / "var"), "--warehouse-url", url]
        result = runner.invoke(main, [*base, "etl", "feeds", "retire", "gone"])
        assert result.exit_code == 1, result.output
        assert f"错误：数据仓库暂时无法访问（{reason}" in result.output, result.output
        assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output


# --- 3. every row of a file quarantined for formulas without a saved value ------------------------------------


def test_a_file_whose_formulas_have_no_saved_values_is_said_so(warehouse, tmp_path):
    drops = tmp_path / "drops"
    drops.mkdir()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(MAPPING.values()))
    paid = (datetime.now(UTC) + timedelta(hours=6)).strftime("%Y-%m-%d %H:%M:%S")  # local time, two hours ago
    for number in range(1, 4):
        sheet.append([f"F{number}", VILLAGE, paid, "小米", 2, f"=E{number + 1}*5"])  # written by a program
    book.save(drops / "formulas.xlsx")
    feed = orders_feed(tmp_path, {"type": "file", "path": str(drops), "settle_seconds": 0})
    report = run_feed(warehouse, feed)
    assert report.counts.quarantined == 3 and report.counts.loaded == 0
    [note] = [note for note in report.notes if "全部被隔离" in note]
    assert note.startswith("formulas.xlsx 的 3 行全部被隔离，3 行的原因是 公式没有计算结果"), note
    assert "没有保存的结果" in note and "在 Excel 或 WPS 中打开并保存后再放入" in note, note
    assert "可能是" not in note and "映射错位" not in note, note


def test_a_file_quarantined_for_other_invalid_values_still_suggests_the_mapping(warehouse, tmp_path):
    drops = tmp_path / "drops"
    drops.mkdir()
    paid = (datetime.now(UTC) + timedelta(hours=6)).strftime("%Y-%m-%d %H:%M:%S")
    lines = [",".join(MAPPING.values())] + [f"F{n},{VILLAGE},{paid},小米,两箱,10" for n in range(1, 4)]
    (drops / "shifted.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    feed = orders_feed(tmp_path, {"type": "file", "path": str(drops), "settle_seconds": 0})
    report = run_feed(warehouse, feed)
    [note] = [note for note in report.notes if "全部被隔离" in note]
    assert "3 行的原因是 值无效 [invalid value]：可能是列的内容与映射的字段不符" in note, note


# --- 4. HTTP and SQL sources hold their watermark back by the feed's future_tolerance ---------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@pytest.fixture
def orders_api():
    """(url, items): a local JSON API answering the items whose paid_at is at or after ``since``."""
    items: list[dict] = []

    def answer(_path, query, _handler):
        since = datetime.fromisoformat(query["since"]) if query.get("since") else None
        chosen = [item for item in items if not since or datetime.fromisoformat(item["paid_at"]) >= since]
        return 200, {}, json.dumps({"data": chosen}).encode()

    server = Api(answer)
    yield f"{server.url}/orders", items
    server.httpd.shutdown()
    server.httpd.server_close()


def order(number: int, paid: datetime) -> dict:
    return {
        "order_no": f"H{number}",
        "village_code": VILLAGE,
        "paid_at": iso(paid),
        "product": "小米",
        "qty": 1,
        "amount": 10,
    }


def http_source(url: str) -> dict:
    return {
        "type": "http",
        "url": url,
        "items": "data",
        "since_param": "since",
        "watermark_field": "paid_at",
        "backoff": 0,
    }


def test_an_http_feed_holds_its_watermark_back_by_its_own_future_tolerance(warehouse, tmp_path, orders_api):
    url, items = orders_api
    now = datetime.now(UTC)
    items += [order(1, now - timedelta(hours=1)), order(2, now + timedelta(hours=1))]
    # Two hours ahead allowed (device clocks ahead): the runner loads H2, and the watermark may follow it.
    report = run_feed(warehouse, orders_feed(tmp_path, http_source(url), future_tolerance=timedelta(hours=2)))
    assert report.error is None and report.counts.loaded == 2, report.issues
    assert stored_watermark(warehouse) == items[1]["paid_at"]
    assert not any("晚于现在" in note for note in report.notes), report.notes


def test_an_http_feed_with_a_short_tolerance_does_not_move_past_a_row_it_quarantined(warehouse, tmp_path, orders_api):
    url, items = orders_api
    now = datetime.now(UTC)
    items += [order(1, now - timedelta(hours=1)), order(2, now + timedelta(minutes=5))]
    # One minute allowed: H2 is quarantined as in the future, so the watermark must stay before it, or H2 is never
    # read again once its time has come.
    report = run_feed(warehouse, orders_feed(tmp_path, http_source(url), future_tolerance=timedelta(minutes=1)))
    assert report.counts.loaded == 1 and report.counts.quarantined == 1, report.issues
    assert stored_watermark(warehouse) == items[0]["paid_at"]
    assert any("晚于现在" in note for note in report.notes), report.notes


def test_an_http_feed_without_a_tolerance_keeps_ten_minutes(warehouse, tmp_path, orders_api):
    url, items = orders_api
    now = datetime.now(UTC)
    items += [order(1, now + timedelta(minutes=5)), order(2, now + timedelta(minutes=30))]
    report = run_feed(warehouse, orders_feed(tmp_path, http_source(url)))
    assert report.counts.loaded == 1 and report.counts.quarantined == 1, report.issues
    assert stored_watermark(warehouse) == items[0]["paid_at"]


def source_table(url: str, rows: list[tuple[str, datetime]]) -> None:
    """``src`` with (order_no, updated_at) rows, paid two hours ago."""
    make_orders_table(url, [(no, iso(at)) for no, at in rows], iso(datetime.now(UTC) - timedelta(hours=2)))


def sql_source(url: str) -> dict:
    return {
        "type": "sql",
        "url": url,
        "query": "SELECT * FROM src WHERE updated_at >= :since",
        "since_column": "updated_at",
    }


def test_a_sql_feed_holds_its_watermark_back_by_its_own_future_tolerance(source_url, tmp_path):
    warehouse = village_warehouse(tmp_path)
    now = datetime.now(UTC)
    source_table(source_url, [("S1", now - timedelta(hours=1)), ("S2", now + timedelta(hours=1))])
    try:
        feed = orders_feed(tmp_path, sql_source(source_url), future_tolerance=timedelta(hours=2))
        report = run_feed(warehouse, feed)
        assert report.error is None and report.counts.loaded == 2, report.issues
        moved = stored_watermark(warehouse)
        assert moved is not None and abs(datetime.fromisoformat(moved) - (now + timedelta(hours=1))) < timedelta(
            seconds=1
        ), moved
        assert not any("晚于现在" in note for note in report.notes), report.notes
        with warehouse.connect() as connection:
            assert sorted(connection.execute(select(orders.c.order_id)).scalars()) == ["S1", "S2"]
    finally:
        warehouse.dispose()


def test_a_sql_feed_with_a_short_tolerance_holds_back_a_row_minutes_ahead(source_url, tmp_path):
    warehouse = village_warehouse(tmp_path)
    now = datetime.now(UTC)
    source_table(source_url, [("S1", now - timedelta(hours=1)), ("S2", now + timedelta(minutes=5))])
    try:
        feed = orders_feed(tmp_path, sql_source(source_url), future_tolerance=timedelta(minutes=1))
        report = run_feed(warehouse, feed)
        assert report.error is None, report.error
        held = stored_watermark(warehouse)
        assert held is not None and datetime.fromisoformat(held) < now, held
        assert any("源表中有 1 行的 updated_at 晚于现在" in note for note in report.notes), report.notes
    finally:
        warehouse.dispose()
