"""A sensor feed over MQTT against the payloads a hostile reviewer sent, on SQLite and PostgreSQL: a time no clock
can show (1e20) is quarantined as 时间无效 and the feed goes on (it had failed the batch for ever); a list of
90,000 numbers is one entry keeping the message, not 90,000; the same bad item many times is one entry with its
count; a message that is no JSON is kept whole (not its first 4096 characters) with a Chinese reason; NaN and
Infinity are no empty value and keep their text; JSON true is no reading of 1; reasons say in Chinese what
Python said in English."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import orjson
import pytest
from sqlalchemy import select

from etl.feeds import load_feeds
from etl.quarantine import _raw_text
from etl.runner import retry_quarantine, run_feed
from etl.sources.mqtt import MESSAGE_READINGS, _parse
from etl.warehouse.schema import quarantine, readings
from tests.integration.test_etl_robustness import VILLAGE, warehouse
from tests.mqtt_county import forget_session, mqtt_feed, publish_all, register_device

pytestmark = pytest.mark.integration

# Words of Python's and orjson's own errors that had reached the quarantine's reasons.
ENGLISH = ("Integer exceeds", "surrogates", "out of range", "收到的是 int", "收到的是 str", "Expecting", "is not valid")


@pytest.fixture(params=["sqlite", "postgresql"])
def sensors(request, tmp_path, mqtt_broker):
    """(engine, feed, send): a sensor feed on a fresh warehouse with device D1 registered, its session on the
    broker; ``send(*payloads, device="D1")`` publishes to the device's topic. The session is forgotten after."""
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = warehouse(url)
    register_device(engine, "D1", VILLAGE)
    host, port = mqtt_broker
    run = uuid.uuid4().hex[:12]
    root, client_id = f"test/{run}", f"etl-hostile-{run}"
    (tmp_path / "feeds.toml").write_text(
        mqtt_feed(
            port, client_id, root, host=host, device_id="topic:3", idle_seconds=1, batch_seconds=0.3, session_expiry=120
        ),
        encoding="utf-8",
    )
    feed = load_feeds(tmp_path / "feeds.toml")["sensors"]
    assert run_feed(engine, feed).error is None  # the session and its subscription exist from here on

    def send(*payloads: bytes | str, device: str = "D1") -> None:
        publish_all(host, port, [(f"{root}/air/{device}", payload) for payload in payloads])

    yield engine, feed, send
    forget_session(host, port, client_id)
    engine.dispose()


def reading(value, when=None, **more) -> str:
    when = when if when is not None else (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    return json.dumps({"metric": "pm25", "time": when, "value": value, **more})


def kept(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(
            select(quarantine.c.location, quarantine.c.field, quarantine.c.reason, quarantine.c.raw).order_by(
                quarantine.c.id
            )
        ).all()


def stored(engine) -> list[float]:
    with engine.connect() as connection:
        return sorted(connection.execute(select(readings.c.value)).scalars())


def test_a_time_no_clock_can_show_is_quarantined_and_the_readings_around_it_load(sensors):
    # datetime.fromtimestamp(1e20) raised OSError, which Field.clean did not catch: the batch failed, the broker
    # sent it again, and the feed never got past that message.
    engine, feed, send = sensors
    send(reading(11), reading(1, when=1e20), reading(2, when=-1e15), reading(12))
    report = run_feed(engine, feed)
    assert report.error is None
    assert report.counts.loaded == 2 and stored(engine) == [11.0, 12.0]
    entries = kept(engine)
    assert len(entries) == 2
    for (location, field, reason, raw), shown in zip(entries, ("1e+20", "-1000000000000000.0"), strict=True):
        assert "，设备 D1" in location and field == "time"
        assert "时间无效" in reason and shown in reason and "out of range" not in reason
        assert json.loads(raw)["time"] in (1e20, -1e15)
    assert run_feed(engine, feed).counts.rows_in == 0  # acknowledged: it does not come back


def test_a_long_list_of_numbers_is_one_entry_that_keeps_the_whole_message(sensors):
    # 90,000 numbers in one 180 kB message had made 90,000 quarantine rows (five messages, 450,000 rows and 1.1 GB).
    engine, feed, send = sensors
    payload = "[" + ",".join(["1"] * 90_000) + "]"
    send(payload, payload, reading(7))
    report = run_feed(engine, feed)
    assert report.error is None and stored(engine) == [7.0]
    entries = kept(engine)
    assert len(entries) == 2
    for location, field, reason, raw in entries:
        assert location.endswith("/air/D1") and field == "payload"
        assert "90000 项" in reason and f"{MESSAGE_READINGS} 项的上限" in reason
        assert json.loads(raw)["payload"] == payload  # the whole message: nothing lost


def test_the_same_bad_item_many_times_in_one_message_is_one_entry_with_its_count(sensors):
    engine, feed, send = sensors
    good = json.loads(reading(5))
    send(json.dumps([1] * 600 + [good] + ["x", "x"] + [[1, 2]]))
    report = run_feed(engine, feed)
    assert report.error is None and stored(engine) == [5.0]
    entries = {
        json.dumps(json.loads(raw)["item"]): (location, reason, json.loads(raw))
        for location, _, reason, raw in kept(engine)
    }
    assert sorted(entries) == ['"x"', "1", "[1, 2]"]
    location, reason, raw = entries["1"]
    assert "第 1、2、3、4、5 等 600 项" in location and "收到的是数字" in reason and "共 600 项" in reason
    assert raw["count"] == 600 and raw["positions"] == list(range(1, 601))
    assert "收到的是文本" in entries['"x"'][1] and entries['"x"'][2]["positions"] == [602, 603]
    location, reason, raw = entries["[1, 2]"]
    assert location.endswith("第 604 项") and "收到的是列表" in reason and "count" not in raw


def test_a_message_that_is_no_json_is_kept_whole_with_a_reason_in_chinese(sensors):
    # A list of 300 readings with one stray comma was kept to its first 4096 characters: 290 readings gone for good.
    engine, feed, send = sensors
    base = datetime.now(UTC) - timedelta(hours=1)
    items = [{"metric": "pm25", "time": (base + timedelta(seconds=i)).isoformat(), "value": i} for i in range(300)]
    payload = json.dumps(items)[:-1] + ",]"
    assert len(payload) > 20_000
    send(payload, "第一行\n{not json")
    assert run_feed(engine, feed).error is None
    [(_, _, comma, comma_raw), (_, _, brace, brace_raw)] = kept(engine)
    assert json.loads(comma_raw)["payload"] == payload and json.loads(comma_raw)["payload"].count("pm25") == 300
    assert f"第 1 行第 {len(payload)} 列" in comma and "缺少值" in comma
    assert "第 1 行第 1 列" in brace and json.loads(brace_raw)["payload"] == "第一行\n{not json"
    assert not any(word in reason for reason in (comma, brace) for word in ENGLISH)


def test_reasons_say_in_chinese_what_python_said_in_english(sensors):
    engine, feed, send = sensors
    send(
        reading(int("1" + "0" * 400)),  # past 64 bits: "Integer exceeds 64-bit range"
        '{"metric": "pm25\\ud800", "time": 1, "value": 1}',  # "str is not valid UTF-8: surrogates not allowed"
        reading(1, when=-1e15),  # "year -31686769 is out of range"
        "42",  # "收到的是 int"
        b"\xff\xfe\xff garbage",
    )
    report = run_feed(engine, feed)
    assert report.error is None
    entries = kept(engine)
    reasons = [reason for _, _, reason, _ in entries]
    assert len(reasons) == 5, reasons
    assert not any(word in reason for reason in reasons for word in ENGLISH), reasons
    for expected in ("超出可表示的数字范围", "代理字符", "时间无效", "收到的是数字", "既不是 UTF-8 也不是 GBK"):
        assert sum(expected in reason for reason in reasons) == 1, (expected, reasons)
    raws = [orjson.loads(raw) for _, _, _, raw in entries]
    assert {"1" + "0" * 400} == {raw.get("value") for raw in raws} - {None, 1}  # the digits kept, as text
    assert any(raw.get("payload", "").startswith("\\xff\\xfe") for raw in raws)  # undecodable bytes kept visibly
    assert retry_quarantine(engine, feed).error is None  # every raw row reads back


def test_nan_and_infinity_from_a_device_are_no_empty_value_and_keep_their_text(sensors):
    # NaN was 必填但为空 and the kept row said "value": null for NaN and Infinity alike.
    engine, feed, send = sensors
    when = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    send(
        *(
            f'{{"metric": "pm25", "time": "{when}", "value": {value}}}'
            for value in ("NaN", "Infinity", "-Infinity", "1e400")
        )
    )
    assert run_feed(engine, feed).error is None
    entries = kept(engine)
    assert [json.loads(raw)["value"] for _, _, _, raw in entries] == ["NaN", "Infinity", "-Infinity", "1e400"]
    reasons = [reason for _, _, reason, _ in entries]
    assert all("必填但为空" not in reason for reason in reasons), reasons
    assert all("不是有限的数字" in reason for reason in reasons[:3]) and "超出可表示的数字范围" in reasons[3]
    report = retry_quarantine(engine, feed)  # read back from the quarantine: the same reasons, not "empty"
    assert report.error is None and report.counts.quarantined == 4
    assert sorted(reason for _, _, reason, _ in kept(engine)) == sorted(reasons)
    assert stored(engine) == []


def test_true_is_no_reading_of_one(sensors):
    engine, feed, send = sensors
    send(reading(True), reading(False), reading(3))
    assert run_feed(engine, feed).error is None
    assert stored(engine) == [3.0]  # true had been stored as 1.0
    reasons = [reason for _, _, reason, _ in kept(engine)]
    assert len(reasons) == 2 and all("是真假值，不是数字" in reason for reason in reasons)


def test_true_and_one_in_one_batch_are_each_judged_on_their_own(sensors):
    # The runner remembered cleaned values by the raw value, and True == 1 as a key: the first decided both.
    engine, feed, send = sensors
    send(reading(True), reading(1))
    assert run_feed(engine, feed).error is None
    assert stored(engine) == [1.0]


def message(payload: bytes, topic: str = "a/air/D1") -> SimpleNamespace:
    return SimpleNamespace(topic=topic, payload=payload)


def test_a_list_at_the_limit_is_read_and_one_past_it_is_kept_whole():
    at = json.dumps([{"n": n} for n in range(MESSAGE_READINGS)]).encode()
    records, issues = _parse(message(at))
    assert len(records) == MESSAGE_READINGS and issues == []
    past = json.dumps([{"n": n} for n in range(MESSAGE_READINGS + 1)]).encode()
    records, [issue] = _parse(message(past))
    assert records == [] and issue.kind == "too long" and issue.file == "MQTT 主题 a/air/D1"
    assert issue.raw == {"_topic": "a/air/D1", "payload": past.decode()}
    assert f"有 {MESSAGE_READINGS + 1} 项" in issue.detail


def test_a_gbk_message_that_is_no_json_is_kept_as_the_text_it_was():
    payload = "{设备: 甲村一号".encode("gbk")
    [], [issue] = _parse(message(payload))
    assert issue.raw["payload"] == "{设备: 甲村一号" and "第 1 行第 2 列" in issue.detail


def test_a_raw_row_with_nan_infinity_and_a_huge_number_reads_back_as_written():
    payload = b'{"value": NaN, "x": Infinity, "y": 1e999, "big": 123456789012345678901234567890}'
    [record], [] = _parse(message(payload))
    written = {"value": "NaN", "x": "Infinity", "y": "1e999", "big": "123456789012345678901234567890"}
    assert orjson.loads(_raw_text(SimpleNamespace(raw=record.data))) == {**written, "_topic": "a/air/D1"}
    with_surrogate = _raw_text(SimpleNamespace(raw={**record.data, "s": "\ud800"}))  # the tolerant json path
    assert json.loads(with_surrogate) == {**written, "_topic": "a/air/D1", "s": "\ud800"}
