"""Small ETL defects, on SQLite and the real PostgreSQL: an MQTT topic part counted from the end is named as such
(最后一段, 倒数第 N 段; it said 第 0 段) and one past the topic's start is missing, not an IndexError; `etl feeds
retire` says 数据仓库暂时无法访问 like the other commands; a file whose every row was quarantined for formulas without
a saved value says so, not a header or mapping problem; HTTP and SQL sources hold their watermark back by the feed's
future_tolerance, not a fixed 10 minutes."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import openpyxl
import paho.mqtt.client as paho
import pytest
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import create_engine, insert, select, text

from etl.cli import main
from etl.feeds import Feed, load_feeds
from etl.regions import load_hierarchy
from etl.runner import run_feed
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import devices, feed_state, orders, quarantine, readings
from geo.hierarchy import HierarchyRead, RegionRecord
from tests.orders_feed import COUNTY, MAPPING, TOWN, VILLAGE

pytestmark = pytest.mark.integration


def village_warehouse(url: str):
    """A migrated warehouse holding one county, township and village."""
    engine = make_engine(url)
    migrate(engine)
    records = [
        RegionRecord(COUNTY, "测试县", "county", "990100000000"),
        RegionRecord(TOWN, "东镇", "township", COUNTY),
        RegionRecord(VILLAGE, "甲村", "village", TOWN),
    ]
    load_hierarchy(engine, HierarchyRead(records, []), source="test")
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = village_warehouse(url)
    yield engine
    engine.dispose()


def orders_feed(tmp_path, source: dict, tolerance: timedelta | None = None) -> Feed:
    """The orders feed reading ``source``; ``tolerance`` its future_tolerance (None: the default)."""
    more = {} if tolerance is None else {"future_tolerance": tolerance}
    hour = timedelta(hours=1)
    return Feed("shop", "orders", source, MAPPING, hour, hour, tmp_path, **more)


def kept(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(select(quarantine.c.location, quarantine.c.reason).order_by(quarantine.c.id)).all()


def stored_watermark(engine) -> str | None:
    with engine.connect() as connection:
        return connection.execute(select(feed_state.c.watermark).where(feed_state.c.feed == "shop")).scalar()


# --- 1. MQTT topic parts counted from the end --------------------------------------------------------------------

SENSORS = """
[feeds.sensors]
dataset = "readings"
cadence = "1m"
mapping = {{ device_id = "topic:-1", metric = "topic:-2", event_time = "time", value = "value" }}
[feeds.sensors.source]
type = "mqtt"
host = "{host}"
port = {port}
client_id = "{client_id}"
topics = ["{root}/#"]
idle_seconds = 1
batch_seconds = 0.3
session_expiry = 120
"""


def test_a_topic_part_counted_from_the_end_is_named_as_such(warehouse, tmp_path, mqtt_broker):
    # "topic:-1" (the last part) was named 第 0 段 (index + 1), and a part before the topic's start (a topic
    # shorter than the mapping counts back) was an IndexError, not a missing part.
    with warehouse.begin() as connection:
        connection.execute(
            insert(devices).values(
                device_id="D1",
                kind="air",
                region_code=VILLAGE,
                event_time=datetime(2025, 1, 1, tzinfo=UTC),
                loaded_at=datetime.now(UTC),
            )
        )
    host, port = mqtt_broker
    root = f"polish-{uuid.uuid4().hex[:12]}"  # one level: "<root>" alone has no part before the last
    client_id = f"etl-polish-{root}"
    (tmp_path / "feeds.toml").write_text(
        SENSORS.format(host=host, port=port, client_id=client_id, root=root), encoding="utf-8"
    )
    feed = load_feeds(tmp_path / "feeds.toml")["sensors"]
    try:
        assert run_feed(warehouse, feed).error is None  # the session and its subscription exist from here on
        reading = json.dumps({"time": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(), "value": 12})
        client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        client.connect(host, port)
        client.loop_start()
        for topic in (f"{root}/pm25/D1", f"{root}/pm25/", f"{root}//D1", root):
            client.publish(topic, reading, qos=1).wait_for_publish(10)
        client.disconnect()
        client.loop_stop()
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
        forget = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 0
        forget.connect(host, port, clean_start=True, properties=properties)
        forget.loop_start()
        forget.disconnect()
        forget.loop_stop()


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
def api():
    """(url, items): a local JSON API answering the items whose paid_at is at or after ``since``."""
    items: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            since = parse_qs(urlparse(self.path).query).get("since", [""])[0]
            chosen = [
                item
                for item in items
                if not since or datetime.fromisoformat(item["paid_at"]) >= datetime.fromisoformat(since)
            ]
            body = json.dumps({"data": chosen}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/orders", items
    server.shutdown()
    server.server_close()


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


def test_an_http_feed_holds_its_watermark_back_by_its_own_future_tolerance(warehouse, tmp_path, api):
    url, items = api
    now = datetime.now(UTC)
    items += [order(1, now - timedelta(hours=1)), order(2, now + timedelta(hours=1))]
    # Two hours ahead allowed (device clocks ahead): the runner loads H2, and the watermark may follow it.
    report = run_feed(warehouse, orders_feed(tmp_path, http_source(url), timedelta(hours=2)))
    assert report.error is None and report.counts.loaded == 2, report.issues
    assert stored_watermark(warehouse) == items[1]["paid_at"]
    assert not any("晚于现在" in note for note in report.notes), report.notes


def test_an_http_feed_with_a_short_tolerance_does_not_move_past_a_row_it_quarantined(warehouse, tmp_path, api):
    url, items = api
    now = datetime.now(UTC)
    items += [order(1, now - timedelta(hours=1)), order(2, now + timedelta(minutes=5))]
    # One minute allowed: H2 is quarantined as in the future, so the watermark must stay before it, or H2 is never
    # read again once its time has come.
    report = run_feed(warehouse, orders_feed(tmp_path, http_source(url), timedelta(minutes=1)))
    assert report.counts.loaded == 1 and report.counts.quarantined == 1, report.issues
    assert stored_watermark(warehouse) == items[0]["paid_at"]
    assert any("晚于现在" in note for note in report.notes), report.notes


def test_an_http_feed_without_a_tolerance_keeps_ten_minutes(warehouse, tmp_path, api):
    url, items = api
    now = datetime.now(UTC)
    items += [order(1, now + timedelta(minutes=5)), order(2, now + timedelta(minutes=30))]
    report = run_feed(warehouse, orders_feed(tmp_path, http_source(url)))
    assert report.counts.loaded == 1 and report.counts.quarantined == 1, report.issues
    assert stored_watermark(warehouse) == items[0]["paid_at"]


@pytest.fixture(params=["postgresql", "sqlite"])
def source_url(request, tmp_path) -> str:
    """An empty source database: a fresh PostgreSQL database or a SQLite file."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'source.db'}"


def source_table(url: str, rows: list[tuple[str, datetime]]) -> None:
    """``src`` with (order_no, updated_at) rows; updated_at is timestamptz on PostgreSQL, text on SQLite."""
    engine = create_engine(url)
    kind = "timestamptz" if url.startswith("postgresql") else "text"
    with engine.begin() as connection:
        connection.execute(
            text(
                f"CREATE TABLE src (order_no text, village_code text, paid_at text, product text, qty int,"
                f" amount numeric, updated_at {kind})"
            )
        )
        paid = iso(datetime.now(UTC) - timedelta(hours=2))
        connection.execute(
            text("INSERT INTO src VALUES (:no, :village, :paid, '小米', 1, 10, :at)"),
            [{"no": no, "village": VILLAGE, "paid": paid, "at": iso(at)} for no, at in rows],
        )
    engine.dispose()


def sql_source(url: str) -> dict:
    return {
        "type": "sql",
        "url": url,
        "query": "SELECT * FROM src WHERE updated_at >= :since",
        "since_column": "updated_at",
    }


def test_a_sql_feed_holds_its_watermark_back_by_its_own_future_tolerance(source_url, tmp_path):
    warehouse = village_warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    now = datetime.now(UTC)
    source_table(source_url, [("S1", now - timedelta(hours=1)), ("S2", now + timedelta(hours=1))])
    try:
        report = run_feed(warehouse, orders_feed(tmp_path, sql_source(source_url), timedelta(hours=2)))
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
    warehouse = village_warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    now = datetime.now(UTC)
    source_table(source_url, [("S1", now - timedelta(hours=1)), ("S2", now + timedelta(minutes=5))])
    try:
        report = run_feed(warehouse, orders_feed(tmp_path, sql_source(source_url), timedelta(minutes=1)))
        assert report.error is None, report.error
        held = stored_watermark(warehouse)
        assert held is not None and datetime.fromisoformat(held) < now, held
        assert any("源表中有 1 行的 updated_at 晚于现在" in note for note in report.notes), report.notes
    finally:
        warehouse.dispose()
