"""`etl watch` stops within seconds of SIGTERM under a flood of messages and loses nothing it acknowledged; two
demo installations on one host have MQTT identities of their own, so neither takes over the other's session."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as paho
import pytest
from sqlalchemy import func, select

from etl.demo.build import DEMO_DIR
from etl.feeds import load_feeds
from etl.warehouse.db import make_engine
from etl.warehouse.schema import readings
from tests.mosquitto import Broker
from tests.mqtt_county import VILLAGES, sensors_feed, wait_for_sessions, watch_county

pytestmark = pytest.mark.integration
DEVICES = 20
FLOOD = 60_000


def test_watch_stops_within_seconds_of_sigterm_under_a_flood_and_loses_nothing(tmp_path):
    broker = Broker(tmp_path)  # the deployment's settings: a session may queue a million messages
    broker.start()
    host, port = "127.0.0.1", broker.port
    topic = f"flood-{int(time.time() * 1000)}"
    feed = sensors_feed(port, f"{topic}-etl", topic, idle_seconds=2, batch_size=500, schedule="0.5s")
    ruralbrain, env = watch_county(tmp_path, feed, {f"F-{n}": VILLAGES[n % 2] for n in range(DEVICES)})
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'warehouse.db'}")
    watcher = subprocess.Popen([*ruralbrain, "etl", "watch"], env=env, stdout=subprocess.PIPE, text=True)
    wait_for_sessions(engine, {"sensors"})
    sent, flooding = [], threading.Event()
    flooding.set()

    def flood() -> None:  # publishes faster than one process loads
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"{topic}-sensors")
        client.max_inflight_messages_set(1000)
        client.connect(host, port)
        client.loop_start()
        start = datetime.now(UTC) - timedelta(hours=1)
        number = 0
        while flooding.is_set() and number < FLOOD:
            moment = (start + timedelta(milliseconds=number)).isoformat()
            payload = f'{{"device": "F-{number % DEVICES}", "metric": "pm25", "value": 5, "time": "{moment}"}}'
            sent.append(client.publish(f"{topic}/F-{number % DEVICES}", payload, qos=1))
            number += 1
        for info in sent:
            info.wait_for_publish(timeout=60)
        client.loop_stop()
        client.disconnect()

    publisher = threading.Thread(target=flood)
    publisher.start()
    time.sleep(3)  # the watcher is busy draining by now
    asked = time.monotonic()
    watcher.send_signal(signal.SIGTERM)
    try:
        watcher.wait(timeout=60)
        took = time.monotonic() - asked
    finally:
        flooding.clear()
        publisher.join()
    print(f"etl watch stopped {took:.1f} s after SIGTERM under a flood")  # the note reports it; target ≤ 10 s
    assert watcher.returncode == 0 and took < 60
    with engine.connect() as connection:
        before = connection.execute(select(func.count()).select_from(readings)).scalar()
    assert 0 < before < len(sent)  # it stopped in the middle of the flood
    # What the broker kept for the session arrives with the next run: every message exactly once.
    try:
        drain = subprocess.run([*ruralbrain, "etl", "run", "sensors"], env=env, capture_output=True, text=True)
        assert drain.returncode == 0, drain.stderr + drain.stdout
        with engine.connect() as connection:
            stored = connection.execute(select(func.count()).select_from(readings)).scalar()
        assert stored == len(sent), drain.stdout
    finally:
        broker.stop()


def test_two_demo_installations_have_their_own_client_ids_and_topics(tmp_path):
    first = load_feeds(DEMO_DIR / "feeds.toml", {"var_dir": str(tmp_path / "a"), "sim_port": "1"})["sensors"]
    second = load_feeds(DEMO_DIR / "feeds.toml", {"var_dir": str(tmp_path / "b"), "sim_port": "2"})["sensors"]
    assert first.source["client_id"] != second.source["client_id"]
    assert set(first.source["topics"]).isdisjoint(second.source["topics"])
    again = load_feeds(DEMO_DIR / "feeds.toml", {"var_dir": str(tmp_path / "a"), "sim_port": "3"})["sensors"]
    assert again.source == first.source  # the same installation keeps its session across restarts


def test_two_demo_installations_on_one_broker_keep_their_sessions(mqtt_broker, tmp_path):
    """Both demos' sensor feeds connected at once: each receives only its own readings, none is taken over."""
    from etl.sources import source_from_config

    host, port = mqtt_broker
    sources, received = [], []
    for name in ("a", "b"):
        feed = load_feeds(DEMO_DIR / "feeds.toml", {"var_dir": str(tmp_path / name), "sim_port": "1"})["sensors"]
        source = source_from_config({**feed.source, "host": host, "port": port, "idle_seconds": 1}, tmp_path)
        source.connect()
        sources.append((feed, source))
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.connect(host, port)
    client.loop_start()
    for number, (feed, _) in enumerate(sources):
        root = feed.source["topics"][0].removesuffix("#")
        for device in range(10):
            client.publish(f"{root}air/D{number}{device}", '{"metric": "pm25", "value": 1}', qos=1).wait_for_publish()
    client.loop_stop()
    client.disconnect()
    for _, source in sources:
        got = []
        for batch in source.batches(None):
            got += [record.data["_topic"] for record in batch.records]
            batch.on_commit()  # acknowledged: the broker keeps nothing of this test in the sessions
        received.append(got)
    for (feed, _), topics in zip(sources, received, strict=True):
        root = feed.source["topics"][0].removesuffix("#")
        assert len(topics) == 10 and all(topic.startswith(root) for topic in topics)
