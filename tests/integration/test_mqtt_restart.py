"""`ruralbrain etl watch` against a real Mosquitto that is restarted mid-stream: nothing lost, nothing doubled,
every run reconciles, and the feed's lag is reported."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as paho
import pytest
from sqlalchemy import func, select

from etl.warehouse.db import make_engine
from etl.warehouse.schema import feed_runs, readings
from tests.mosquitto import Broker

pytestmark = pytest.mark.integration
MESSAGES = 600
FEEDS = """
[feeds.devices]
dataset = "devices"
cadence = "1d"
schedule = "1h"
source = {{ type = "file", path = "{{var_dir}}/drops/devices" }}
mapping = {{ device_id = "id", kind = "kind", region_code = "village", event_time = "installed" }}

[feeds.sensors]
dataset = "readings"
cadence = "1m"
schedule = "0.2s"
mapping = {{ device_id = "device", metric = "metric", event_time = "time", value = "value" }}
[feeds.sensors.source]
type = "mqtt"
host = "127.0.0.1"
port = {port}
client_id = "restart-test-etl"
topics = ["t/#"]
idle_seconds = 2
batch_size = 50
"""


def _publish_all(port: int, broker: Broker, restarted: threading.Event) -> None:
    """Publish MESSAGES readings with QoS 1, each until the broker confirms it; restart the broker a third in."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="restart-test-sensors")
    client.reconnect_delay_set(min_delay=1, max_delay=2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = datetime.now(UTC) - timedelta(seconds=MESSAGES)  # the newest reading is about now
    for number in range(MESSAGES):
        payload = (
            f'{{"device": "AIR-1", "metric": "pm25", "value": {number % 90},'
            f' "time": "{(start + timedelta(seconds=number)).isoformat()}"}}'
        )
        if number == MESSAGES // 3:
            broker.stop()
            time.sleep(1.0)
            broker.start()
            restarted.set()
        while True:
            info = client.publish(f"t/AIR-1/{number}", payload, qos=1)
            try:
                info.wait_for_publish(timeout=5)
                if info.is_published():
                    break
            except (RuntimeError, ValueError):
                time.sleep(0.2)  # not connected yet: paho reconnects by itself
        time.sleep(0.005)
    client.loop_stop()
    client.disconnect()


def test_watch_survives_a_broker_restart_without_losing_or_doubling(tmp_path):
    broker = Broker(tmp_path)
    broker.start()
    var = tmp_path / "var"
    (var / "drops" / "devices").mkdir(parents=True)
    (var / "drops" / "devices" / "d.csv").write_text(
        "id,kind,village,installed\nAIR-1,空气监测,990199001001,2025-01-01\n", encoding="utf-8"
    )
    (tmp_path / "feeds.toml").write_text(FEEDS.format(port=broker.port), encoding="utf-8")
    (tmp_path / "codes.csv").write_text("code,name\n990199,测试县\n990199001,东镇\n990199001001,甲村\n")
    ruralbrain = [sys.executable, "-m", "etl.cli", "--var-dir", str(var)]
    env = {**os.environ, "FEEDS_FILE": str(tmp_path / "feeds.toml")}
    subprocess.run(
        [*ruralbrain, "geo", "import", str(tmp_path / "codes.csv")], env=env, check=True, capture_output=True
    )
    subprocess.run([*ruralbrain, "etl", "run", "devices"], env=env, check=True, capture_output=True)
    watcher = subprocess.Popen([*ruralbrain, "etl", "watch"], env=env, stdout=subprocess.PIPE, text=True)
    engine = make_engine(f"sqlite:///{var / 'warehouse.db'}")
    try:
        time.sleep(2)  # the first run creates the persistent session before any sensor publishes
        restarted = threading.Event()
        publisher = threading.Thread(target=_publish_all, args=(broker.port, broker, restarted))
        publisher.start()
        publisher.join(timeout=120)
        assert restarted.is_set() and not publisher.is_alive()
        deadline, loaded = time.monotonic() + 60, 0
        while time.monotonic() < deadline and loaded < MESSAGES:
            with engine.connect() as connection:
                loaded = connection.execute(select(func.count()).select_from(readings)).scalar()
            time.sleep(0.2)
        time.sleep(3)  # anything redelivered late must not add rows either
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(readings)).scalar() == MESSAGES
            runs = connection.execute(select(feed_runs).where(feed_runs.c.feed == "sensors")).all()
        assert sum(run.loaded for run in runs) == MESSAGES  # each message loaded once; redeliveries are duplicates
        assert all(run.rows_in == run.loaded + run.duplicates + run.quarantined for run in runs)
        assert any(run.lag_seconds is not None for run in runs)
    finally:
        watcher.send_signal(signal.SIGTERM)
        output, _ = watcher.communicate(timeout=30)
        broker.stop()
        engine.dispose()
    assert watcher.returncode == 0 and "lag " in output
    status = subprocess.run([*ruralbrain, "etl", "status"], env=env, check=True, capture_output=True, text=True)
    line = next(line for line in status.stdout.splitlines() if line.startswith("sensors"))
    # The lag column: the last batch committed seconds after its newest reading was taken.
    assert re.search(r"\s\d+(\.\d)?s\s+fresh$", line), line
