"""Two evaluators at once on PostgreSQL (two `etl watch` processes, e.g. MQTT workers): one acts, the other waits
for the advisory lock and then finds the alert already open: one alert, one event, one notification."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select, text

from etl.alerts.evaluate import Evaluator
from etl.warehouse.db import make_engine
from etl.warehouse.schema import alert_events, alerts, notifications
from tests.alert_county import START, alerts_file, county_engine, reading

RULES = """
[rules.cod]
name = "污水COD超标"
kind = "reading"
metric = "cod"
fire = "> 60"

[channels.hook]
type = "webhook"
url = "http://127.0.0.1:9/never-sent-here"
"""


def _waiting_on_the_advisory_lock(engine) -> bool:
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'")
    with engine.connect() as connection:
        return connection.execute(query).scalar() > 0


def test_two_evaluators_at_once_one_acts(postgres_url, tmp_path):
    setup = county_engine(postgres_url)
    reading(setup, "SEW-1", "cod", 72.5, START)
    config = alerts_file(tmp_path, RULES)
    first_inside, release, order = threading.Event(), threading.Event(), []

    def holding_clock():  # read once the lock is held: the first evaluator stays inside until released
        order.append("first")
        first_inside.set()
        release.wait(30)
        return START

    def second_clock():
        order.append("second")
        return START

    engines = [make_engine(postgres_url), make_engine(postgres_url)]
    results = {}
    first = threading.Thread(
        target=lambda: results.update(first=Evaluator(engines[0], config, holding_clock).evaluate())
    )
    second = threading.Thread(
        target=lambda: results.update(second=Evaluator(engines[1], config, second_clock).evaluate())
    )
    first.start()
    assert first_inside.wait(30)
    second.start()
    deadline = time.monotonic() + 30
    while not _waiting_on_the_advisory_lock(setup) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _waiting_on_the_advisory_lock(setup), "the second evaluator should wait for the first"
    assert order == ["first"]  # the second has not begun to evaluate
    release.set()
    first.join(30)
    second.join(30)
    assert order == ["first", "second"]
    assert (results["first"].opened, results["second"].opened) == (1, 0)
    with setup.connect() as connection:
        for table in (alerts, alert_events, notifications):
            assert connection.execute(select(func.count()).select_from(table)).scalar() == 1, table.name
    for engine in (*engines, setup):
        engine.dispose()
