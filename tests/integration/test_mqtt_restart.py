"""`ruralbrain etl watch` against a real Mosquitto that is restarted mid-stream: nothing lost, nothing doubled,
every run reconciles, and the feed's lag is reported."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as paho
import pytest
from sqlalchemy import func, select

from etl.warehouse.db import make_engine
from etl.warehouse.schema import feed_runs, readings
from tests.mosquitto import Broker
from tests.mqtt_county import VILLAGES, sensors_feed, watch_county

pytestmark = pytest.mark.integration
MESSAGES = 600


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
    feed = sensors_feed(broker.port, "restart-test-etl", "t", idle_seconds=2, batch_size=50, schedule="0.2s")
    ruralbrain, env = watch_county(tmp_path, feed, {"AIR-1": VILLAGES[0]})
    watcher = subprocess.Popen([*ruralbrain, "etl", "watch"], env=env, stdout=subprocess.PIPE, text=True)
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'warehouse.db'}")
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
