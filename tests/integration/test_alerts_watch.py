"""Alerts in `ruralbrain etl watch` end to end: readings over their limit published on MQTT to two worker
processes open alerts right after their batches and reach a webhook once each, clearing readings resolve them;
and the alerts commands list, acknowledge (within the user's scope only) and resolve."""

from __future__ import annotations

import signal
import subprocess
from datetime import UTC, datetime

import paho.mqtt.client as paho
from click.testing import CliRunner
from sqlalchemy import select

from etl.alerts.evaluate import Evaluator
from etl.cli import main
from etl.warehouse.accounts import add_user
from etl.warehouse.db import make_engine
from etl.warehouse.schema import alerts
from tests.alert_county import AIR_RULE, COUNTY, VILLAGE_A1, VILLAGE_B1, Clock, alerts_file, county_engine, reading
from tests.alert_servers import Recorder
from tests.mosquitto import Broker
from tests.mqtt_county import VILLAGES, sensors_feed, wait_for_sessions, watch_county

DEVICES = 20
RULES = AIR_RULE.format(hook="TEST_ALERT_HOOK")


def _publish(port: int, value: float) -> None:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="alerts-test-sensors")
    client.connect("127.0.0.1", port)
    client.loop_start()
    moment = datetime.now(UTC).isoformat()
    sent = [
        client.publish(
            f"a/AIR-{n}", f'{{"device": "AIR-{n}", "metric": "aqi", "value": {value}, "time": "{moment}"}}', qos=1
        )
        for n in range(DEVICES)
    ]
    for info in sent:
        info.wait_for_publish(timeout=30)
    client.loop_stop()
    client.disconnect()


def test_readings_over_their_limit_reach_the_webhook_once_from_two_workers(tmp_path, postgres_url):
    broker, recorder = Broker(tmp_path), Recorder()
    broker.start()
    feed = sensors_feed(broker.port, "alerts-test-etl", "a", idle_seconds=1, batch_size=50, workers=2, schedule="0.2s")
    ruralbrain, env = watch_county(tmp_path, feed, {f"AIR-{n}": VILLAGES[n % 2] for n in range(DEVICES)}, postgres_url)
    (tmp_path / "alerts.toml").write_text(RULES, encoding="utf-8")
    env = {**env, "ALERTS_FILE": str(tmp_path / "alerts.toml"), "TEST_ALERT_HOOK": recorder.url("/hook")}
    watcher = subprocess.Popen([*ruralbrain, "etl", "watch"], env=env, stdout=subprocess.PIPE, text=True)
    engine = make_engine(postgres_url)
    try:
        wait_for_sessions(engine, {"sensors@1", "sensors@2"})
        _publish(broker.port, 180)
        assert recorder.wait_for(DEVICES, timeout=60)
        _publish(broker.port, 90)
        assert recorder.wait_for(2 * DEVICES, timeout=60)
        # Both processes sweep and deliver: give a double a chance to arrive before counting.
        recorder.wait_for(2 * DEVICES + 1, timeout=3)
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.communicate(timeout=90)
        broker.stop()
        recorder.close()
    events = sorted(
        (item.body["alert"]["detail"].split()[1], item.body["alert"]["event"]) for item in recorder.received
    )
    assert events == sorted((f"AIR-{n}", event) for n in range(DEVICES) for event in ("opened", "resolved"))
    assert len({item.headers["Idempotency-Key"] for item in recorder.received}) == 2 * DEVICES
    with engine.connect() as connection:
        assert [row.status for row in connection.execute(select(alerts))] == ["resolved"] * DEVICES
    engine.dispose()


def test_alerts_commands(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'var' / 'warehouse.db'}"
    engine = county_engine(url)
    path = tmp_path / "alerts.toml"
    config = alerts_file(tmp_path, RULES.replace("aqi", "cod").replace("150", "60").replace("140", "55"))
    clock = Clock()
    reading(engine, "SEW-1", "cod", 72.5, clock.now, VILLAGE_A1)
    reading(engine, "SEW-2", "cod", 65.0, clock.now, VILLAGE_B1)
    Evaluator(engine, config, clock).evaluate()
    with engine.begin() as connection:
        add_user(connection, "cun01", "village", VILLAGE_A1, password="long enough 1")
        add_user(connection, "xian", "county", COUNTY, password="long enough 2")
        ids = dict(connection.execute(select(alerts.c.region_code, alerts.c.id)).all())
    engine.dispose()
    monkeypatch.setenv("ALERTS_FILE", str(path))
    runner = CliRunner()
    base = ["--var-dir", str(tmp_path / "var")]

    listed = runner.invoke(main, [*base, "alerts", "list", "--open"])
    assert listed.exit_code == 0 and listed.output.count("[未确认]") == 2 and "设备 SEW-1" in listed.output
    region = runner.invoke(main, [*base, "alerts", "list", "--region", VILLAGE_B1])
    assert "SEW-2" in region.output and "SEW-1" not in region.output

    refused = runner.invoke(main, [*base, "alerts", "ack", str(ids[VILLAGE_B1]), "--user", "cun01"])
    assert refused.exit_code == 1 and "不在用户 cun01 的范围" in refused.output
    done = runner.invoke(main, [*base, "alerts", "ack", str(ids[VILLAGE_A1]), "--user", "cun01", "--note", "已派人"])
    assert done.exit_code == 0 and "[已确认]" in done.output and "确认：cun01" in done.output
    unknown = runner.invoke(main, [*base, "alerts", "ack", str(ids[VILLAGE_A1]), "--user", "nobody"])
    assert unknown.exit_code == 1 and "用户 nobody 不存在" in unknown.output
    resolved = runner.invoke(
        main, [*base, "alerts", "resolve", str(ids[VILLAGE_B1]), "--user", "xian", "--note", "已修复"]
    )
    assert resolved.exit_code == 0 and "[已消除]" in resolved.output and "消除：xian" in resolved.output
    rules = runner.invoke(main, [*base, "alerts", "rules"])
    assert rules.exit_code == 0 and "air  空气重度污染  重要" in rules.output and "通知渠道：无" in rules.output
    assert runner.invoke(main, [*base, "alerts", "list", "--open"]).output.count("[") == 1

    path.write_text('[rules.x]\nname = "坏"\nkind = "reading"\nmetric = "cod"\nfire = ">> 60"\n', encoding="utf-8")
    broken = runner.invoke(main, [*base, "alerts", "rules"])
    assert broken.exit_code == 1 and "alerts.toml [rules.x].fire" in broken.output
