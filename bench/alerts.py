"""Alerts: evaluating every rule over the latest readings of 100,000 sensors on PostgreSQL, and a reading over
its limit published on MQTT to a webhook's arrival, end to end through `ruralbrain etl watch`.

Part 1 prints the time of a sweep of the demo's rules (reading rules, silence, overdue cases, a measure, late
feeds, escalation) over 100,000 sensors (about 1 % of them over a limit) and 100,000 cases: the first sweep,
which opens the alerts, a sweep with nothing changed, and a sweep after 1 % of the readings moved; against a
baseline that reads every latest reading and tests each rule in Python. Target: ≤ 1 s.
Part 2 publishes BENCH_ALERTS (default 1,000) readings over a limit of a rule without hold time, one per device
at BENCH_ALERTS_RATE a second, to `etl watch` (PostgreSQL, its own Mosquitto) and times each to its webhook's
arrival: p50, p95, max, and how many were lost or doubled. Target: p95 ≤ 5 s, none lost or doubled.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho
from sqlalchemy import insert, select, text

from bench.etl_load import postgres_engine
from etl.alerts.config import DEMO_FILE, load_alerts
from etl.alerts.evaluate import Evaluator
from etl.regions import load_hierarchy
from etl.rollups import day_of
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import cases, device_latest, devices, feed_freshness, feed_state, rollups
from geo.hierarchy import HierarchyRead, RegionRecord
from tests.alert_county import AIR_RULE
from tests.alert_servers import Recorder
from tests.mosquitto import Broker
from tests.mqtt_county import VILLAGES, sensors_feed, wait_for_sessions, watch_county

SENSORS, CASES = 100_000, 100_000
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
COUNTY = "980101000000"
# Each sensor's metric, and a value that breaks the demo's rule about 1 % of the time.
METRICS = [
    ("fill_level", lambda r: 95.0 if r.random() < 0.01 else r.uniform(0, 85)),
    ("online", lambda r: 0.0 if r.random() < 0.01 else 1.0),
    ("soil_moisture", lambda r: 70.0 if r.random() < 0.01 else r.uniform(20, 50)),
    ("aqi", lambda r: 180.0 if r.random() < 0.01 else r.uniform(20, 120)),
    ("cod", lambda r: 75.0 if r.random() < 0.01 else r.uniform(20, 50)),
]


def _province(engine) -> list[str]:
    """A county of 100 townships of 20 villages; the village codes."""
    records = [RegionRecord(COUNTY, "基准县", "county", "980100000000")]
    villages = []
    for t in range(1, 101):
        town = f"980101{t:03d}000"
        records.append(RegionRecord(town, f"镇{t}", "township", COUNTY))
        for v in range(1, 21):
            villages.append(f"980101{t:03d}{v:03d}")
            records.append(RegionRecord(villages[-1], f"村{t}-{v}", "village", town))
    load_hierarchy(engine, HierarchyRead(records, []), source="bench")
    return villages


def _fill(engine, villages: list[str]) -> None:
    """100,000 sensors' latest readings (a few silent for hours), 100,000 cases (about 1 % open past their due
    time), a day's case rollups per village and two feeds' freshness."""
    rng = random.Random(21)
    latest, registry = [], []
    for n in range(SENSORS):
        metric, value = METRICS[n % len(METRICS)]
        village = villages[n % len(villages)]
        silent = rng.random() < 0.002
        moment = NOW - (timedelta(hours=5) if silent else timedelta(minutes=rng.randrange(1, 30)))
        latest.append(
            {
                "device_id": f"D{n:06d}",
                "metric": metric,
                "region_code": village,
                "event_time": moment,
                "value": round(value(rng), 1),
            }
        )
        registry.append(
            {"device_id": f"D{n:06d}", "kind": "bin", "region_code": village, "event_time": NOW, "loaded_at": NOW}
        )
    rows = []
    for n in range(CASES):
        due = NOW + timedelta(hours=rng.uniform(-72, 72))
        closed = due < NOW and rng.random() > 0.02
        rows.append(
            {
                "case_id": f"C{n:06d}",
                "category": "appeal",
                "module": "general",
                "status": "closed" if closed else "in_progress",
                "due_at": due,
                "region_code": villages[n % len(villages)],
                "event_time": due - timedelta(days=3),
                "loaded_at": NOW,
            }
        )
    counts = [
        {
            "grain": "day",
            "bucket": day_of(NOW),
            "region_code": code,
            "measure": "cases.received",
            "dimension": "",
            "count": rng.choice((3, 5, 8, 20)),
            "total": 0,
        }
        for code in villages
    ]
    with engine.begin() as connection:
        for table, values in ((device_latest, latest), (devices, registry), (cases, rows), (rollups, counts)):
            for start in range(0, len(values), 20_000):
                connection.execute(insert(table), values[start : start + 20_000])
        connection.execute(
            insert(feed_state),
            [
                {"feed": "sensors", "dataset": "readings", "cadence_seconds": 600},
                {"feed": "cases", "dataset": "cases", "cadence_seconds": 3600},
            ],
        )
        connection.execute(
            insert(feed_freshness),
            [
                {"feed": "sensors", "region_code": villages[0], "last_event_time": NOW, "last_loaded_at": NOW},
                {
                    "feed": "cases",
                    "region_code": villages[-1],
                    "last_event_time": NOW - timedelta(hours=3),
                    "last_loaded_at": NOW,
                },
            ],
        )
        connection.execute(text("ANALYZE"))


def _move(engine, share: float) -> None:
    """Move ``share`` of the readings to new values (some over, some back under their limits)."""
    rng = random.Random(7)
    with engine.begin() as connection:
        chosen = [
            row
            for row in connection.execute(select(device_latest.c.device_id, device_latest.c.metric))
            if rng.random() < share
        ]
        for device, metric in chosen:
            value = dict(METRICS)[metric](rng)
            connection.execute(
                device_latest.update().where(device_latest.c.device_id == device).values(value=value, event_time=NOW)
            )


def _naive(engine, config) -> float:
    """The baseline: every latest reading read and tested against every reading rule in Python."""
    began = time.perf_counter()
    rules = [rule for rule in config.rules.values() if rule.kind == "reading"]
    with engine.connect() as connection:
        rows = connection.execute(select(device_latest.c.device_id, device_latest.c.metric, device_latest.c.value))
        hits = sum(
            1
            for _d, metric, value in rows
            for rule in rules
            if rule.params.metric == metric and rule.params.fire.holds(value)
        )
    assert hits
    return time.perf_counter() - began


def _timed(function) -> tuple[float, object]:
    began = time.perf_counter()
    result = function()
    return time.perf_counter() - began, result


def evaluation() -> None:
    """Part 1: a sweep of every rule over 100,000 sensors on PostgreSQL."""
    try:
        admin, name, engine = postgres_engine()
    except Exception as error:  # noqa: BLE001 - the end-to-end part needs PostgreSQL too
        print(f"PostgreSQL not reachable ({type(error).__name__}); skipped")
        return
    try:
        migrate(engine)
        _fill(engine, _province(engine))
        config = load_alerts(DEMO_FILE, {})
        evaluator = Evaluator(engine, config, lambda: NOW)
        first, opened = _timed(evaluator.sweep)
        steady, _ = _timed(evaluator.sweep)
        _move(engine, 0.01)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE device_latest"))
        moved, changed = _timed(evaluator.sweep)
        naive = _naive(engine, config)
        print(f"{SENSORS:,} sensors, {CASES:,} cases, {len(config.rules)} rules (PostgreSQL)")
        print(f"  first sweep (opens {opened.opened:,} alerts, {opened.pending:,} holding): {first:.3f} s")
        print(f"  sweep, nothing changed: {steady:.3f} s (target ≤ 1 s)")
        print(
            f"  sweep after 1 % of readings moved (+{changed.opened} opened, {changed.resolved} resolved,"
            f" {changed.pending} holding): {moved:.3f} s"
        )
        print(
            f"  baseline (every latest reading tested in Python, reading rules only): {naive:.3f} s"
            f" = {naive / steady:.1f}× the steady sweep of every rule"
        )
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


RULE = AIR_RULE.format(hook="BENCH_ALERT_HOOK")


def _publish(port: int, count: int, rate: float) -> dict[str, float]:
    """One over-limit reading per device at ``rate`` a second; the monotonic time each was confirmed sent."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-alerts-sensors")
    client.connect("127.0.0.1", port)
    client.loop_start()
    sent = {}
    began = time.monotonic()
    for n in range(count):
        delay = began + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        moment = datetime.now(UTC).isoformat()
        payload = f'{{"device": "AIR-{n}", "metric": "aqi", "value": 180, "time": "{moment}"}}'
        sent[f"AIR-{n}"] = time.monotonic()
        client.publish(f"b/AIR-{n}", payload, qos=1)
    client.loop_stop()
    client.disconnect()
    return sent


def end_to_end() -> None:
    """Part 2: MQTT → etl watch → alert → webhook, per reading."""
    count = int(os.environ.get("BENCH_ALERTS", "1000"))
    rate = float(os.environ.get("BENCH_ALERTS_RATE", "100"))
    try:
        admin, name, engine = postgres_engine()
    except Exception as error:  # noqa: BLE001
        print(f"PostgreSQL not reachable ({type(error).__name__}); skipped")
        return
    url = str(engine.url.render_as_string(hide_password=False))
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        broker, recorder = Broker(folder), Recorder()
        broker.start()
        feed = sensors_feed(broker.port, "bench-alerts-etl", "b", idle_seconds=1, batch_size=200, schedule="0.2s")
        ruralbrain, env = watch_county(folder, feed, {f"AIR-{n}": VILLAGES[n % 2] for n in range(count)}, url)
        (folder / "alerts.toml").write_text(RULE, encoding="utf-8")
        env = {**env, "ALERTS_FILE": str(folder / "alerts.toml"), "BENCH_ALERT_HOOK": recorder.url("/hook")}
        watcher = subprocess.Popen([*ruralbrain, "etl", "watch"], env=env, stdout=subprocess.DEVNULL)
        watching = make_engine(url)
        try:
            wait_for_sessions(watching, {"sensors"})
            sent = _publish(broker.port, count, rate)
            recorder.wait_for(count, timeout=120)
            recorder.wait_for(count + 1, timeout=5)  # a double would arrive now
        finally:
            watcher.send_signal(signal.SIGTERM)
            watcher.wait(timeout=90)
            broker.stop()
            recorder.close()
            watching.dispose()
    arrivals: dict[str, list[float]] = {}
    for item in recorder.received:
        arrivals.setdefault(item.body["alert"]["detail"].split()[1], []).append(item.at)
    latencies = sorted(times[0] - sent[device] for device, times in arrivals.items() if device in sent)
    lost = count - len(latencies)
    doubled = sum(len(times) - 1 for times in arrivals.values())
    p50, p95 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95) - 1]
    print(f"{count:,} readings over a limit at {rate:g}/s, MQTT → etl watch (PostgreSQL) → webhook:")
    print(
        f"  p50 {p50:.2f} s, p95 {p95:.2f} s (target ≤ 5 s), max {latencies[-1]:.2f} s; lost {lost}, doubled {doubled}"
    )
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    """Run both parts once and print their figures."""
    evaluation()
    end_to_end()
