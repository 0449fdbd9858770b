"""`ruralbrain etl watch` against a real Mosquitto, configured as data/deploy says, that is restarted mid-stream and
while the ETL is down: nothing lost, nothing doubled, every run reconciles, and the feed's lag is reported."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from sqlalchemy import func, select

from etl.warehouse.db import make_engine
from etl.warehouse.schema import feed_runs, readings
from tests.mosquitto import Broker
from tests.mqtt_county import VILLAGES, sensors_feed, wait_for_sessions, watch_county

pytestmark = pytest.mark.integration
# The broker persists and queues only as the settings a deployment copies into Mosquitto's conf.d say.
DEPLOYED_SETTINGS = Path(__file__).resolve().parents[2] / "data" / "deploy" / "mosquitto-ruralbrain.conf"
MESSAGES = 600  # published while the ETL runs; the broker is restarted a third of the way in
QUEUED = 100  # published while the ETL is stopped, then the broker is restarted before the ETL comes back


def _publish(port: int, device: str, count: int, restart: tuple[Broker, int, threading.Event] | None = None):
    """Publish ``count`` readings of ``device`` with QoS 1, each until the broker confirms it, the newest taken
    about now; with ``restart`` (broker, number, event), restart the broker before that number and set the
    event. Returns when reading 0 was taken: reading n was taken n seconds later."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="restart-test-sensors")
    client.reconnect_delay_set(min_delay=1, max_delay=2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = datetime.now(UTC) - timedelta(seconds=count)
    for number in range(count):
        payload = (
            f'{{"device": "{device}", "metric": "pm25", "value": {number % 90},'
            f' "time": "{(start + timedelta(seconds=number)).isoformat()}"}}'
        )
        if restart and number == restart[1]:
            restart[0].stop()
            time.sleep(1.0)
            restart[0].start()
            restart[2].set()
        while True:
            info = client.publish(f"t/{device}/{number}", payload, qos=1)
            try:
                info.wait_for_publish(timeout=5)
                if info.is_published():
                    break
            except (RuntimeError, ValueError):
                time.sleep(0.2)  # not connected yet: paho reconnects by itself
        time.sleep(0.005)
    client.loop_stop()
    client.disconnect()
    return start


def _wait_for_rows(engine, expected: int, seconds: float = 60) -> int:
    """The readings' count once it reaches ``expected`` or ``seconds`` have passed, and 3 s more for anything
    redelivered late (which must not add rows either)."""
    deadline, loaded = time.monotonic() + seconds, 0
    while time.monotonic() < deadline and loaded < expected:
        with engine.connect() as connection:
            loaded = connection.execute(select(func.count()).select_from(readings)).scalar()
        time.sleep(0.2)
    time.sleep(3)
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(readings)).scalar()


def _stop(watcher: subprocess.Popen) -> tuple[int, str]:
    """SIGTERM `etl watch`; its exit code and what it printed, once it has stopped."""
    watcher.send_signal(signal.SIGTERM)
    output, _ = watcher.communicate(timeout=30)
    return watcher.returncode, output


def _missing(engine, device: str, start: datetime, count: int) -> list[int]:
    """The numbers of ``device``'s readings (taken at ``start`` + n seconds) that are not in the warehouse."""
    with engine.connect() as connection:
        times = connection.execute(select(readings.c.event_time).where(readings.c.device_id == device)).scalars()
        loaded = {round((moment.replace(tzinfo=UTC) - start).total_seconds()) for moment in times}
    return sorted(set(range(count)) - loaded)


def test_watch_survives_broker_restarts_without_losing_or_doubling(tmp_path):
    broker = Broker(tmp_path, settings=DEPLOYED_SETTINGS.read_text(encoding="utf-8"))
    broker.start()
    feed = sensors_feed(broker.port, "restart-test-etl", "t", idle_seconds=2, batch_size=50, schedule="0.2s")
    ruralbrain, env = watch_county(tmp_path, feed, {"AIR-1": VILLAGES[0], "AIR-2": VILLAGES[1]})
    watch = [*ruralbrain, "etl", "watch"]
    watcher = subprocess.Popen(watch, env=env, stdout=subprocess.PIPE, text=True)
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'warehouse.db'}")
    outputs = []
    try:
        wait_for_sessions(engine, {"sensors"})  # the persistent session exists before any sensor publishes
        # 1. The broker restarts mid-stream while the ETL is connected and loading.
        restarted, started = threading.Event(), []

        def publish() -> None:
            try:
                started.append(_publish(broker.port, "AIR-1", MESSAGES, (broker, MESSAGES // 3, restarted)))
            except Exception as error:  # noqa: BLE001 - reported by the test's thread below
                started.append(error)

        publisher = threading.Thread(target=publish)
        publisher.start()
        publisher.join(timeout=120)
        assert started and not isinstance(started[0], Exception), f"the publisher did not finish: {started}"
        assert restarted.is_set()
        count = _wait_for_rows(engine, MESSAGES)
        assert count == MESSAGES, f"missing readings: {_missing(engine, 'AIR-1', started[0], MESSAGES)[:20]}"
        # 2. The ETL is down while readings arrive, and the broker restarts before it comes back: the session and
        # its queued messages must come from the broker's persistence file.
        outputs.append(_stop(watcher))
        start = _publish(broker.port, "AIR-2", QUEUED)
        broker.stop()
        broker.start()
        watcher = subprocess.Popen(watch, env=env, stdout=subprocess.PIPE, text=True)
        count = _wait_for_rows(engine, MESSAGES + QUEUED)
        assert count == MESSAGES + QUEUED, f"missing queued readings: {_missing(engine, 'AIR-2', start, QUEUED)}"
        with engine.connect() as connection:
            runs = connection.execute(select(feed_runs).where(feed_runs.c.feed == "sensors")).all()
        assert sum(run.loaded for run in runs) == MESSAGES + QUEUED  # each loaded once; redeliveries are duplicates
        assert all(run.rows_in == run.loaded + run.duplicates + run.quarantined for run in runs)
        assert any(run.lag_seconds is not None for run in runs)
    finally:
        if watcher.poll() is None:
            outputs.append(_stop(watcher))
        broker.stop()
        engine.dispose()
    assert len(outputs) == 2 and all(code == 0 and "，延迟 " in output for code, output in outputs), outputs
    status = subprocess.run([*ruralbrain, "etl", "status"], env=env, check=True, capture_output=True, text=True)
    line = next(line for line in status.stdout.splitlines() if line.startswith("sensors"))
    # The lag column: the last batch committed seconds after its newest reading was taken.
    assert re.search(r"\s(\d+分)?\d+(\.\d)?秒\s+正常$", line), line
