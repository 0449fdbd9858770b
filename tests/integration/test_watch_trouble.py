"""`etl watch` and `etl run` in trouble: a mistyped VAR_DIR, a warehouse locked or gone, a message that breaks the
load, readings from a device whose clock was never set, a topic without its device part."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import func, select

from etl.feeds import load_feeds
from etl.runner import run_feed
from etl.warehouse.db import make_engine
from etl.warehouse.schema import quarantine, readings, rollups
from tests.mqtt_county import mqtt_feed, publish_all, sensors_feed, watch_county
from tests.orders_feed import VILLAGE, village_warehouse

pytestmark = pytest.mark.integration


def _reading(device: str, value: float, moment: str | int | None = None) -> str:
    from datetime import UTC, datetime, timedelta

    moment = (datetime.now(UTC) - timedelta(minutes=5)).isoformat() if moment is None else moment
    when = f'"{moment}"' if isinstance(moment, str) else moment
    return f'{{"device": "{device}", "metric": "pm25", "value": {value}, "time": {when}}}'


def _finished_by(engine, pid: int) -> bool:
    from etl.warehouse.schema import feed_runs

    with engine.connect() as connection:
        query = select(feed_runs.c.id).where(feed_runs.c.pid == pid, feed_runs.c.finished_at.is_not(None))
        return connection.execute(query.limit(1)).first() is not None


def _count(engine, table=readings) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar()


# --- 1. a warehouse that is not there, or holds no regions ------------------------------------------------------


def test_a_mistyped_var_dir_is_refused_and_leaves_the_feeds_session_alone(mqtt_broker, tmp_path):
    host, port = mqtt_broker
    topic = f"typo-{uuid.uuid4().hex[:10]}"
    feed = sensors_feed(port, f"{topic}-etl", topic, idle_seconds=1, batch_size=100)
    ruralbrain, env = watch_county(tmp_path, feed, {"T-1": "990199001001"})
    first = subprocess.run([*ruralbrain, "etl", "run", "sensors"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr  # the real warehouse's session exists now
    publish_all(host, port, [(f"{topic}/T-1", _reading("T-1", number)) for number in range(20)])
    typo = tmp_path / "varr"
    mistyped = [sys.executable, "-m", "etl.cli", "--var-dir", str(typo)]
    for command in (["etl", "watch"], ["etl", "watch", "sensors"], ["etl", "run", "sensors"]):
        refused = subprocess.run([*mistyped, *command], env=env, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert f"数据仓库 {typo / 'warehouse.db'} 不存在" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
        assert not (typo / "warehouse.db").exists()
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'warehouse.db'}")
    try:
        again = subprocess.run([*ruralbrain, "etl", "run", "sensors"], env=env, capture_output=True, text=True)
        assert again.returncode == 0, again.stderr
        assert _count(engine) == 20  # every queued reading reached the real warehouse
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_warehouse_without_regions_is_refused_by_watch_and_run(request, tmp_path, database):
    url = f"sqlite:///{tmp_path / 'w.db'}" if database == "sqlite" else request.getfixturevalue("postgres_url")
    (tmp_path / "feeds.toml").write_text(
        sensors_feed(1, "no-regions-etl", "no-regions", idle_seconds=1, batch_size=10), encoding="utf-8"
    )
    env = {**os.environ, "FEEDS_FILE": str(tmp_path / "feeds.toml"), "WAREHOUSE_URL": url}
    base = [sys.executable, "-m", "etl.cli", "--var-dir", str(tmp_path / "var")]
    if database == "postgresql":  # no tables at all: refused as a warehouse never made
        empty = subprocess.run([*base, "etl", "watch"], env=env, capture_output=True, text=True, timeout=60)
        assert empty.returncode == 1 and "还没有任何数据表" in empty.stderr, empty.stderr
    subprocess.run([*base, "migrate"], env=env, check=True, capture_output=True)
    for command in (["etl", "watch"], ["etl", "run"]):
        refused = subprocess.run([*base, *command], env=env, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "中没有任何区划" in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
        shown = str(tmp_path / "w.db") if database == "sqlite" else url.rsplit("/", 1)[1]
        assert shown in refused.stderr


# --- in one process: a county of two villages, its devices, and a sensors feed over MQTT ---------------------------

DEVICES_FEED = """
[feeds.devices]
dataset = "devices"
cadence = "1d"
source = { type = "file", settle_seconds = 0, path = "drops/devices" }
mapping = { device_id = "id", kind = "kind", region_code = "village", event_time = "installed" }
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def county(request, tmp_path, mqtt_broker):
    """(engine, feeds, publish): a warehouse with a village and its sensor T-1, and a sensors feed whose MQTT
    session exists (its first run has subscribed); ``publish(pairs)`` sends (subtopic, payload) under its root."""
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = village_warehouse(tmp_path, url)
    host, port = mqtt_broker
    root = f"trouble-{uuid.uuid4().hex[:10]}"
    sensors = mqtt_feed(
        port, f"{root}-etl", root, host=host, device_id="topic:1", cadence="5m", idle_seconds=1, batch_size=50
    )
    (tmp_path / "feeds.toml").write_text(DEVICES_FEED + sensors, encoding="utf-8")
    (tmp_path / "drops" / "devices").mkdir(parents=True)
    (tmp_path / "drops" / "devices" / "d.csv").write_text(
        f"id,kind,village,installed\nT-1,空气监测,{VILLAGE},2025-01-01\n", encoding="utf-8"
    )
    feeds = load_feeds(tmp_path / "feeds.toml")
    assert run_feed(engine, feeds["devices"]).counts.loaded == 1
    assert run_feed(engine, feeds["sensors"]).error is None  # subscribed: the session keeps what comes next

    def publish(pairs: list[tuple[str, str]]) -> None:
        publish_all(host, port, [(f"{root}/{subtopic}" if subtopic else root, payload) for subtopic, payload in pairs])

    yield engine, feeds, publish
    engine.dispose()


def _reasons(engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(quarantine.c.reason).order_by(quarantine.c.id)).scalars())


# --- 6. a message that breaks the load in a way no check names -------------------------------------------------------


def test_a_message_that_breaks_processing_is_quarantined_and_the_messages_behind_it_load(county, monkeypatch):
    from etl.dataset import Field

    engine, feeds, publish = county
    clean = Field.clean

    def breaking(self, raw):
        if raw == 666:
            raise OSError(22, "Invalid argument")  # what no check foresaw (a platform's time conversion)
        return clean(self, raw)

    monkeypatch.setattr(Field, "clean", breaking)
    publish([("T-1", _reading("T-1", value)) for value in (1, 666, 3)])
    first = run_feed(engine, feeds["sensors"])
    assert first.error is None, first.error
    assert (first.counts.loaded, first.counts.quarantined) == (2, 1)
    assert _count(engine) == 2
    [reason] = _reasons(engine)
    assert "处理时出错（OSError: [Errno 22] Invalid argument）" in reason, reason
    publish([("T-1", _reading("T-1", 4))])
    second = run_feed(engine, feeds["sensors"])  # the broken message is not delivered again
    assert (second.counts.rows_in, second.counts.loaded, second.error) == (1, 1, None)
    assert _count(engine) == 3


# --- 2. SIGTERM while another process holds the warehouse's write lock -----------------------------------------------


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_watch_stops_within_seconds_of_sigterm_while_another_process_holds_the_write_lock(
    request, mqtt_broker, tmp_path, database
):
    import sqlite3
    import threading

    from sqlalchemy import create_engine

    host, port = mqtt_broker
    topic = f"locked-{uuid.uuid4().hex[:10]}"
    url = (
        f"sqlite:///{tmp_path / 'var' / 'warehouse.db'}"
        if database == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    feed = sensors_feed(port, f"{topic}-etl", topic, idle_seconds=1, batch_size=200, schedule="0.5s")
    ruralbrain, env = watch_county(tmp_path, feed, {"L-1": "990199001001"}, warehouse_url=url)
    engine = make_engine(url)
    first = subprocess.run([*ruralbrain, "etl", "run", "sensors"], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr  # subscribed: the session keeps what comes next
    watcher = subprocess.Popen(
        [*ruralbrain, "etl", "watch", "sensors"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    holding, held, release = None, threading.Event(), threading.Event()

    def hold() -> None:  # another writer (a long import, an administrator's transaction) holds the lock
        nonlocal holding
        if database == "sqlite":
            holding = sqlite3.connect(tmp_path / "var" / "warehouse.db", isolation_level=None, timeout=60)
            holding.execute("BEGIN EXCLUSIVE")
        else:
            holding = create_engine(url.replace("postgresql://", "postgresql+psycopg://")).connect()
            holding.exec_driver_sql("LOCK TABLE readings IN EXCLUSIVE MODE")
        held.set()
        release.wait(120)
        holding.rollback()
        holding.close()

    locker = threading.Thread(target=hold)
    try:
        deadline = time.monotonic() + 60  # the watch is polling: a run of its own has finished
        while time.monotonic() < deadline and not _finished_by(engine, watcher.pid):
            assert watcher.poll() is None, watcher.communicate()[0]
            time.sleep(0.2)
        locker.start()
        assert held.wait(60)
        publish_all(host, port, [(f"{topic}/L-1", _reading("L-1", number % 500)) for number in range(1000)])
        time.sleep(3)  # a batch is waiting for the lock by now
        asked = time.monotonic()
        watcher.send_signal(signal.SIGTERM)
        output, _ = watcher.communicate(timeout=60)
        took = time.monotonic() - asked
    finally:
        release.set()
        if locker.is_alive():
            locker.join()
        if watcher.poll() is None:
            watcher.kill()
    print(f"etl watch stopped {took:.1f} s after SIGTERM while the write lock was held ({database})")  # target ≤ 10 s
    assert watcher.returncode == 0, output
    assert took < 20, output
    assert "Traceback" not in output, output
    try:  # nothing was acknowledged that did not commit: the next run brings every reading
        drain = subprocess.run([*ruralbrain, "etl", "run", "sensors"], env=env, capture_output=True, text=True)
        assert drain.returncode == 0, drain.stderr
        assert _count(engine) == 1000, drain.stdout + drain.stderr
    finally:
        engine.dispose()


# --- 3. the warehouse refusing connections, or locked: said in Chinese -----------------------------------------------


def test_a_warehouse_that_refuses_connections_is_said_in_chinese_by_the_feed_lock_and_the_scoring(tmp_path, capsys):
    from etl.database_trouble import described
    from etl.programmes.refresh import after_run
    from etl.runner import RunCounts, RunReport, WarehouseUnavailable

    (tmp_path / "feeds.toml").write_text(
        sensors_feed(1, "refused-etl", "refused", idle_seconds=1, batch_size=10), encoding="utf-8"
    )
    feed = load_feeds(tmp_path / "feeds.toml")["sensors"]
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")  # nothing listens on port 1
    try:
        with pytest.raises(WarehouseUnavailable) as refused:  # the feed's advisory lock could not be asked for
            run_feed(engine, feed)
        said = str(refused.value)
        assert said.startswith("数据仓库暂时无法访问（连不上数据库") and "本次未运行" in said, said
        assert "sqlalche.me" not in said and "(psycopg." not in said
        after_run(engine, RunReport("sensors", 1, RunCounts(loaded=1)))  # the pilots' scores after a load
        printed = capsys.readouterr().err
        assert "试点评分失败（下次导入后重试）：数据仓库暂时无法访问（连不上数据库" in printed, printed
        assert "sqlalche.me" not in printed and "(psycopg." not in printed
    finally:
        engine.dispose()
    import sqlite3

    locked = sqlite3.OperationalError("database is locked")
    assert described(locked) == "（另一个进程占着数据仓库的写锁，等待超时）"


# --- 5. a device whose clock was never set; 4. a topic without its device part ---------------------------------------


def test_a_reading_from_1970_is_quarantined_even_on_the_feeds_first_load(county):
    engine, feeds, publish = county
    publish([("T-1", _reading("T-1", 30, 0)), ("T-1", _reading("T-1", 31))])  # "time": 0, a clock never set
    report = run_feed(engine, feeds["sensors"])  # the feed has no high-water mark yet: LATE_HOURS does not apply
    assert (report.counts.loaded, report.counts.quarantined) == (1, 1), report
    [reason] = _reasons(engine)
    assert reason.startswith("超出合理范围 [out of range]：1970-01-01 08:00:00 早于 400 天前"), reason
    with engine.connect() as connection:
        oldest = connection.execute(select(func.min(rollups.c.bucket))).scalar()
    assert oldest.year >= 2020, oldest  # no rollups in 1969/1970


def test_a_topic_without_its_device_part_says_so(county):
    engine, feeds, publish = county
    publish([("", _reading("T-1", 3)), ("T-1", _reading("T-1", 4))])  # the feed's root alone, no device part
    report = run_feed(engine, feeds["sensors"])
    assert (report.counts.loaded, report.counts.quarantined) == (1, 1), report
    [reason] = _reasons(engine)
    assert "主题缺少设备编号（第 2 段）" in reason and "None" not in reason, reason
