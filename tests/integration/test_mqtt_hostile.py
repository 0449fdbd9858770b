"""The MQTT source against hostile payloads and a live stream, on the local Mosquitto: a message nested past the
parsers' depth or holding a lone surrogate is quarantined and acknowledged (each had stopped its feed for good), an
empty retained message is no error and retained messages are not read again on every run, a stream that never
goes idle still ends its run, and a mistyped port is the feed's own configuration error."""

from __future__ import annotations

import json
import threading
import time

import pytest

from etl.quarantine import _raw_text
from etl.sources import source_from_config
from geo.issues import Issue
from tests.integration.test_sources import drain, mqtt_run  # noqa: F401 - mqtt_run is a fixture

pytestmark = pytest.mark.integration


def test_a_message_nested_too_deep_or_with_a_lone_surrogate_is_quarantined_and_the_rest_loads(mqtt_run):  # noqa: F811
    make, publish, run = mqtt_run
    source = make()
    source.connect()
    deep = "[" * 3000 + "]" * 3000
    surrogate = '{"device": "D1", "metric": "pm25\\ud800", "value": 1}'
    publish("env/air/1", json.dumps({"n": 1}), deep, surrogate, json.dumps({"n": 2}))
    batches = drain(source)
    assert sorted(r.data["n"] for b in batches for r in b.records) == [1, 2]
    issues = [i for b in batches for i in b.issues]
    assert [(i.kind, "嵌套过深" in i.detail) for i in issues] == [("malformed json", True), ("malformed json", False)]
    assert all(_raw_text(issue) for issue in issues)  # each can be kept
    assert drain(make()) == []  # acknowledged: they do not come back


def test_a_raw_row_with_a_lone_surrogate_is_kept_escaped():
    issue = Issue("MQTT 主题 a/b", "", "metric", "unknown metric", "x", {"metric": "pm25\ud800"})
    assert "\\ud800" in _raw_text(issue)


def test_retained_messages_come_once_and_clearing_one_is_no_error(mqtt_run):  # noqa: F811
    make, publish, run = mqtt_run
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    source = make()
    source.connect()
    host, port = source.host, source.port

    def retain(payload: bytes) -> None:
        client = paho.Client(CallbackAPIVersion.VERSION2)
        client.connect(host, port)
        client.loop_start()
        client.publish(f"test/{run}/status/D1", payload, qos=1, retain=True).wait_for_publish(5)
        client.disconnect()
        client.loop_stop()

    retain(json.dumps({"n": 7}).encode())
    try:
        first = drain(source)
        assert [r.data["n"] for b in first for r in b.records] == [7]  # not twice (queued + resubscribed)
        assert drain(make()) == []  # nor again on the next run
    finally:
        retain(b"")  # clear it, as an operator would
    assert [i for b in drain(make()) for i in b.issues] == []


def test_a_stream_that_never_goes_idle_still_ends_its_run(mqtt_run):  # noqa: F811
    # One reading every 0.2 s with idle_seconds = 1 kept the run going as long as the stream: the other feeds of
    # `etl watch` waited, and devices registered meanwhile were not seen.
    make, publish, run = mqtt_run
    source = make(run_seconds=2, idle_seconds=1)
    source.connect()
    streaming = threading.Event()

    def stream() -> None:
        n = 0
        while not streaming.is_set():
            publish("env/air/1", json.dumps({"n": n}))
            n += 1
            time.sleep(0.2)

    sender = threading.Thread(target=stream, daemon=True)
    sender.start()
    try:
        done = threading.Event()
        batches: list = []

        def consume() -> None:
            batches.extend(drain(source))
            done.set()

        threading.Thread(target=consume, daemon=True).start()
        assert done.wait(60), "the run did not end while messages kept coming"
    finally:
        streaming.set()
        sender.join(10)
    assert any(b.records for b in batches)
    drain(make(idle_seconds=1))  # the rest, for the session to be forgotten clean


@pytest.mark.parametrize(("key", "value"), [("port", "18x3"), ("keepalive", "x"), ("batch_size", 0)])
def test_a_mistyped_number_is_a_configuration_error_naming_it(key, value):
    config = {"type": "mqtt", "client_id": "c", "topics": ["a/#"], key: value}
    with pytest.raises(ValueError, match=f"MQTT 数据源：{key} 应为正数"):
        source_from_config(config, None)
