"""`ruralbrain etl watch` with an MQTT feed of two workers, against the real Mosquitto and PostgreSQL: the
second worker runs in a process of its own, the broker spreads the messages between the two sessions, and
their concurrent loads lose nothing, double nothing and add every reading to the rollups once."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from sqlalchemy import func, select

from etl.warehouse.db import make_engine
from etl.warehouse.schema import feed_runs, readings, rollups
from tests.mosquitto import Broker
from tests.mqtt_county import VILLAGES, sensors_feed, wait_for_sessions, watch_county

pytestmark = pytest.mark.integration
MESSAGES, DEVICES = 3000, 30


def _publish(port: int) -> None:
    """MESSAGES readings of DEVICES sensors at QoS 1, each confirmed by the broker."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="workers-test-sensors")
    client.max_inflight_messages_set(500)
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = datetime.now(UTC) - timedelta(seconds=MESSAGES // DEVICES + 60)
    sent = []
    for number in range(MESSAGES):
        moment = (start + timedelta(seconds=number // DEVICES)).isoformat()
        payload = (
            f'{{"device": "AIR-{number % DEVICES}", "metric": "pm25", "value": {number % 90}, "time": "{moment}"}}'
        )
        sent.append(client.publish(f"w/AIR-{number % DEVICES}", payload, qos=1))
    for info in sent:
        info.wait_for_publish(timeout=30)
    assert all(info.is_published() for info in sent)
    client.loop_stop()
    client.disconnect()


def _processes_running(marker: str) -> list[int]:
    """Pids whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_two_workers_share_the_stream_without_losing_or_doubling(tmp_path, postgres_url):
    broker = Broker(tmp_path)
    broker.start()
    feed = sensors_feed(
        broker.port, "workers-test-etl", "w", idle_seconds=1, batch_size=200, workers=2, schedule="0.2s"
    )
    devices = {f"AIR-{n}": VILLAGES[n % 2] for n in range(DEVICES)}
    ruralbrain, env = watch_county(tmp_path, feed, devices, postgres_url)
    watcher = subprocess.Popen([*ruralbrain, "etl", "watch"], env=env, stdout=subprocess.PIPE, text=True)
    engine = make_engine(postgres_url)
    try:
        wait_for_sessions(engine, {"sensors@1", "sensors@2"})  # both workers' sessions exist before publishing
        assert _processes_running("etl watch sensors@2"), "the second worker has no process of its own"
        _publish(broker.port)
        deadline, loaded = time.monotonic() + 90, 0
        while time.monotonic() < deadline and loaded < MESSAGES:
            with engine.connect() as connection:
                loaded = connection.execute(select(func.count()).select_from(readings)).scalar()
            time.sleep(0.2)
        time.sleep(2)  # anything redelivered late must not add rows either
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(readings)).scalar() == MESSAGES
            runs = connection.execute(select(feed_runs).where(feed_runs.c.feed.like("sensors@%"))).all()
            hourly = connection.execute(
                select(func.sum(rollups.c.count)).where(
                    rollups.c.grain == "hour", rollups.c.measure == "reading.pm25", rollups.c.region_code.in_(VILLAGES)
                )
            ).scalar()
    finally:
        watcher.send_signal(signal.SIGTERM)
        output, _ = watcher.communicate(timeout=90)
        broker.stop()
        engine.dispose()
    by_worker = {name: sum(run.loaded for run in runs if run.feed == name) for name in ("sensors@1", "sensors@2")}
    assert sum(by_worker.values()) == MESSAGES and min(by_worker.values()) > 0, by_worker
    assert all(run.rows_in == run.loaded + run.duplicates + run.quarantined for run in runs)
    assert all(run.status != "failed" for run in runs), [run.error for run in runs if run.status == "failed"]
    assert hourly == MESSAGES  # every reading added to its village's hour once, whichever worker loaded it
    assert watcher.returncode == 0 and "（另有 1 个 MQTT 工作进程）" in output
    assert not _processes_running("etl watch sensors@2"), "the second worker outlived etl watch"
