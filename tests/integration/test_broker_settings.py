"""The Mosquitto settings a deployment copies (data/deploy/mosquitto-ruralbrain.conf), on a real broker: the largest
message it takes is bounded, so one publish can never be hundreds of MB for the ETL to hold and keep."""

from __future__ import annotations

import time
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.mosquitto import Broker

DEPLOYED_SETTINGS = Path(__file__).resolve().parents[2] / "data" / "deploy" / "mosquitto-ruralbrain.conf"


def test_the_deployed_broker_refuses_a_message_over_its_size_limit_and_takes_a_device_sized_one(tmp_path):
    broker = Broker(tmp_path, settings=DEPLOYED_SETTINGS.read_text(encoding="utf-8"))
    broker.start()
    client = paho.Client(CallbackAPIVersion.VERSION2)
    try:
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        readings = client.publish("env/air/0001", b'{"pm25": 35}' * 5000, qos=1)  # 60 kB of readings
        readings.wait_for_publish(timeout=10)
        assert readings.is_published() and client.is_connected()
        oversized = client.publish("env/air/0001", b"x" * 300_000, qos=1)
        deadline = time.monotonic() + 10
        while client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not client.is_connected() and not oversized.is_published()
        assert "oversize packet" in broker.log.read_text()
    finally:
        client.loop_stop()
        client.disconnect()
        broker.stop()
