"""Alert lifecycle on SQLite and PostgreSQL: one alert per rule and subject however a value hovers at its limit,
hold time, escalation village → township → county with a controllable clock, acknowledgement within scope only,
overdue cases, silent devices, late feeds, measures, and rules leaving the file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from etl.alerts.evaluate import Evaluator
from etl.upsert import upsert
from etl.warehouse.accounts import User
from etl.warehouse.alerts import AlertError, acknowledge, alert_history, list_alerts, open_alerts, resolve
from etl.warehouse.schema import alert_events, alerts, feed_freshness, feed_state
from tests.alert_county import (
    COD_RULE,
    COUNTY,
    TOWN_A,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    Clock,
    alerts_file,
    case,
    county,  # noqa: F401 - the fixture
    day_count,
    reading,
)

COD = (
    COD_RULE
    + """severity = "major"
escalate = { village = "30m", township = "2h" }
"""
)


@pytest.fixture
def engine(county):  # noqa: F811 - the shared fixture, imported
    return county


def _alerts(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(select(alerts).order_by(alerts.c.id)).all()


def _events(engine) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(alert_events.c.alert_id, alert_events.c.kind))]


def test_a_value_oscillating_around_its_limit_opens_one_alert(engine, tmp_path):
    clock = Clock()
    evaluator = Evaluator(engine, alerts_file(tmp_path, COD), clock)
    # Hovering at the limit: over it, under it but above the clear limit, over it again, fifty times.
    for step in range(50):
        reading(engine, "SEW-1", "cod", 61.0 if step % 2 == 0 else 57.0, clock.advance(minutes=1))
        evaluator.evaluate()
    assert len(_alerts(engine)) == 1 and _alerts(engine)[0].status == "open"
    assert _events(engine) == [(_alerts(engine)[0].id, "opened")]
    reading(engine, "SEW-1", "cod", 54.0, clock.advance(minutes=1))
    changes = evaluator.evaluate()
    assert changes.resolved == 1 and _alerts(engine)[0].status == "resolved"
    with engine.connect() as connection:
        history = alert_history(connection, _alerts(engine)[0].id)
    assert [event.kind for event in history] == ["opened", "resolved"]
    assert "54" in history[1].note
    # Over again after it cleared: a new alert, the old one stays in the history.
    reading(engine, "SEW-1", "cod", 70.0, clock.advance(minutes=1))
    evaluator.evaluate()
    assert [row.status for row in _alerts(engine)] == ["resolved", "open"]


def test_a_value_that_clears_and_comes_back_within_keep_for_stays_one_alert(engine, tmp_path):
    clock = Clock()
    evaluator = Evaluator(engine, alerts_file(tmp_path, COD + 'keep_for = "15m"\n'), clock)
    # A value that crosses both limits every five minutes: without keep_for, an alert and a message each time.
    for step in range(12):
        reading(engine, "SEW-1", "cod", 70.0 if step % 2 == 0 else 50.0, clock.advance(minutes=5))
        evaluator.evaluate()
    assert len(_alerts(engine)) == 1 and _alerts(engine)[0].status == "open"
    assert _events(engine) == [(_alerts(engine)[0].id, "opened")]  # one message, not six
    reading(engine, "SEW-1", "cod", 50.0, clock.advance(minutes=5))  # clear for 5 minutes already
    evaluator.evaluate()
    clock.advance(minutes=9)
    evaluator.sweep()
    assert _alerts(engine)[0].status == "open"  # clear for 14 minutes: still kept
    reading(engine, "SEW-1", "cod", 70.0, clock.advance(minutes=1))  # over again: the clear time starts over
    evaluator.evaluate()
    reading(engine, "SEW-1", "cod", 50.0, clock.advance(minutes=1))
    evaluator.evaluate()
    reading(engine, "SEW-1", "cod", 58.0, clock.advance(minutes=10))  # back between the limits: not clear
    evaluator.evaluate()
    reading(engine, "SEW-1", "cod", 50.0, clock.advance(minutes=5))  # clear again: its 15 minutes start now
    evaluator.evaluate()
    clock.advance(minutes=14)
    evaluator.sweep()
    assert _alerts(engine)[0].status == "open"
    clock.advance(minutes=1)
    assert evaluator.sweep().resolved == 1  # clear for the whole 15 minutes
    kinds = [kind for _, kind in _events(engine)]
    assert kinds.count("opened") == 1 and kinds.count("resolved") == 1 and kinds[-1] == "resolved"


def test_an_alert_counting_down_its_keep_for_does_not_escalate(engine, tmp_path):
    clock = Clock()
    evaluator = Evaluator(engine, alerts_file(tmp_path, COD + 'keep_for = "45m"\n'), clock)
    reading(engine, "SEW-1", "cod", 70.0, clock.now)
    evaluator.evaluate()
    reading(engine, "SEW-1", "cod", 50.0, clock.advance(minutes=5))  # cleared: its keep_for runs
    evaluator.evaluate()
    clock.advance(minutes=35)  # past the village's 30 minutes to acknowledge
    evaluator.sweep()
    assert [kind for _, kind in _events(engine)] == ["opened"]  # nobody told again of what is over
    clock.advance(minutes=10)
    evaluator.sweep()
    assert [kind for _, kind in _events(engine)] == ["opened", "resolved"]


def test_the_condition_must_last_the_hold_time(engine, tmp_path):
    clock = Clock()
    evaluator = Evaluator(engine, alerts_file(tmp_path, COD + 'for = "10m"\n'), clock)
    reading(engine, "SEW-1", "cod", 70.0, clock.now)
    evaluator.evaluate()
    with engine.connect() as connection:
        assert open_alerts(connection, COUNTY) == []  # holding: not an alert yet
    reading(engine, "SEW-1", "cod", 58.0, clock.advance(minutes=5))  # not over the limit: the hold starts again
    evaluator.evaluate()
    assert _alerts(engine) == []
    reading(engine, "SEW-1", "cod", 70.0, clock.advance(minutes=1))
    evaluator.evaluate()
    clock.advance(minutes=9)
    evaluator.sweep()
    assert _alerts(engine)[0].status == "pending"
    clock.advance(minutes=1)
    assert evaluator.sweep().opened == 1  # no new reading needed: the sweep sees it lasted
    assert _alerts(engine)[0].status == "open" and _events(engine) == [(_alerts(engine)[0].id, "opened")]


def test_unacknowledged_alerts_escalate_one_level_at_a_time(engine, tmp_path):
    clock = Clock()
    evaluator = Evaluator(engine, alerts_file(tmp_path, COD), clock)
    reading(engine, "SEW-1", "cod", 70.0, clock.now)
    evaluator.evaluate()
    alert = _alerts(engine)[0]
    assert (alert.level, alert.owner_code) == ("village", VILLAGE_A1)
    clock.advance(minutes=29)
    assert evaluator.sweep().escalated == 0
    clock.advance(minutes=1)
    assert evaluator.sweep().escalated == 1
    assert (_alerts(engine)[0].level, _alerts(engine)[0].owner_code) == ("township", TOWN_A)
    clock.advance(minutes=119)
    assert evaluator.sweep().escalated == 0
    clock.advance(minutes=1)
    evaluator.sweep()
    assert (_alerts(engine)[0].level, _alerts(engine)[0].owner_code) == ("county", COUNTY)
    clock.advance(days=1)
    assert evaluator.sweep().escalated == 0  # nothing above the county
    with engine.connect() as connection:
        history = alert_history(connection, alert.id)
    assert [(event.kind, event.level) for event in history] == [
        ("opened", "village"),
        ("escalated", "township"),
        ("escalated", "county"),
    ]
    assert "升级至乡镇级" in history[1].note


def test_acknowledged_alerts_stop_escalating_and_still_resolve_themselves(engine, tmp_path):
    clock = Clock()
    evaluator = Evaluator(engine, alerts_file(tmp_path, COD), clock)
    reading(engine, "SEW-1", "cod", 70.0, clock.now)
    evaluator.evaluate()
    clerk = User("cun01", "甲村文书", "village", VILLAGE_A1)
    with engine.begin() as connection:
        done = acknowledge(connection, _alerts(engine)[0].id, clerk, "已派人查看", now=clock.advance(minutes=5))
    assert (done.status, done.acknowledged_by, done.ack_note) == ("acknowledged", "cun01", "已派人查看")
    assert done.acknowledged_at == clock.now
    clock.advance(hours=5)
    assert evaluator.sweep().escalated == 0
    reading(engine, "SEW-1", "cod", 40.0, clock.now)
    assert evaluator.evaluate().resolved == 1
    assert [kind for _, kind in _events(engine)] == ["opened", "acknowledged", "resolved"]


def test_acknowledgement_outside_the_alerts_scope_is_refused(engine, tmp_path):
    clock = Clock()
    evaluator = Evaluator(engine, alerts_file(tmp_path, COD), clock)
    reading(engine, "SEW-1", "cod", 70.0, clock.now, region=VILLAGE_A1)
    evaluator.evaluate()
    alert_id = _alerts(engine)[0].id
    for outsider, why in [
        (User("cun02", "乙村", "village", VILLAGE_A2), "不在用户 cun02 的范围"),
        (User("xizhen", "西镇", "township", TOWN_A.replace("001", "002")), "不在用户 xizhen 的范围"),
        (User("guest", "访客", "viewer", COUNTY), "只读"),
        (User("old", "停用", "county", COUNTY, enabled=False), "已停用"),
    ]:
        with engine.begin() as connection, pytest.raises(AlertError, match=why):
            acknowledge(connection, alert_id, outsider, "不是我的")
    assert _alerts(engine)[0].status == "open" and [kind for _, kind in _events(engine)] == ["opened"]
    with engine.begin() as connection:
        acknowledge(connection, alert_id, User("dongzhen", "东镇", "township", TOWN_A), None)
        with pytest.raises(AlertError, match="已由 dongzhen 确认"):
            acknowledge(connection, alert_id, User("xian", "县", "county", COUNTY), None)
        with pytest.raises(AlertError, match="需要写明原因"):
            resolve(connection, alert_id, User("xian", "县", "county", COUNTY), " ")
        with pytest.raises(AlertError, match="不在用户 cun02 的范围"):
            resolve(connection, alert_id, User("cun02", "乙村", "village", VILLAGE_A2), "不是我的")
        resolved = resolve(connection, alert_id, User("xian", "县", "county", COUNTY), "现场已处理")
    assert (resolved.status, resolved.resolved_by, resolved.resolve_note) == ("resolved", "xian", "现场已处理")


def test_an_overdue_case_opens_at_its_due_time_and_resolves_when_closed(engine, tmp_path):
    rules = '[rules.overdue]\nname = "诉求超期未办结"\nkind = "overdue_case"\n'
    clock = Clock()
    evaluator = Evaluator(engine, alerts_file(tmp_path, rules), clock)
    due = clock.now + timedelta(hours=2)
    case(engine, "C-1", due, "in_progress", VILLAGE_B1)
    case(engine, "C-2", due, "closed", VILLAGE_B1)  # closed in time: never an alert
    clock.now = due - timedelta(seconds=1)
    assert evaluator.sweep().opened == 0
    clock.now = due
    assert evaluator.sweep().opened == 1
    alert = _alerts(engine)[0]
    assert (alert.subject, alert.region_code, alert.level, alert.status) == ("case:C-1", VILLAGE_B1, "village", "open")
    assert "C-1" in alert.detail and "超过办理时限" in alert.detail
    clock.advance(hours=1)
    case(engine, "C-1", due, "closed", VILLAGE_B1)
    # The load of cases evaluates the rule over the regions it loaded.
    with engine.begin() as connection:
        upsert(
            connection,
            feed_freshness,
            [{"feed": "cases", "region_code": VILLAGE_B1, "last_event_time": clock.now, "last_loaded_at": clock.now}],
            ["feed", "region_code"],
        )
    assert evaluator.after_load("cases", "cases", since=clock.now).resolved == 1
    assert _alerts(engine)[0].status == "resolved" and "已办结" in _alerts(engine)[0].resolve_note


def test_silent_devices_late_feeds_and_measures(engine, tmp_path):
    rules = """
[rules.silent]
name = "设备失联"
kind = "silence"
after = "3h"

[rules.late]
name = "数据源滞后"
kind = "late_feed"

[rules.surge]
name = "村诉求激增"
kind = "measure"
measure = "cases.received"
grain = "day"
fire = ">= 15"
clear = "< 10"
"""
    clock = Clock()
    evaluator = Evaluator(engine, alerts_file(tmp_path, rules), clock)
    reading(engine, "BIN-1", "fill_level", 20.0, clock.now, VILLAGE_A2)
    with engine.begin() as connection:
        for feed, dataset in (("sensors", "readings"), ("devices", "devices")):
            upsert(
                connection,
                feed_state,
                [{"feed": feed, "dataset": dataset, "cadence_seconds": 600, "last_success_at": clock.now}],
                ["feed"],
            )
            for code in (VILLAGE_A1, VILLAGE_B1):
                values = {"feed": feed, "region_code": code, "last_event_time": clock.now, "last_loaded_at": clock.now}
                upsert(connection, feed_freshness, [values], ["feed", "region_code"])
    day_count(engine, VILLAGE_A1, "cases.received", "appeal", 16, clock.now)
    evaluator.sweep()
    assert _alerts(engine) == []  # a dimension of its own: the rule reads dimension ''
    day_count(engine, VILLAGE_A1, "cases.received", "", 16, clock.now)
    evaluator.sweep()
    assert [(row.rule_id, row.region_code) for row in _alerts(engine)] == [("surge", VILLAGE_A1)]
    clock.advance(minutes=21)  # past twice the sensors' 10-minute cadence; devices are reference data
    clock.advance(hours=3)
    evaluator.sweep()
    found = {row.rule_id: row for row in _alerts(engine) if row.status == "open"}
    assert set(found) == {"surge", "silent", "late"}
    assert (found["silent"].subject, found["silent"].region_code) == ("device:BIN-1", VILLAGE_A2)
    # A feed over a township's villages is the county's (its regions' smallest common region).
    assert (found["late"].subject, found["late"].region_code, found["late"].level) == ("feed:sensors", COUNTY, "county")
    reading(engine, "BIN-1", "fill_level", 30.0, clock.now, VILLAGE_A2)
    with engine.begin() as connection:
        connection.execute(
            feed_freshness.update().where(feed_freshness.c.feed == "sensors").values(last_event_time=clock.now)
        )
    changes = evaluator.sweep()
    assert changes.resolved == 2
    assert {row.rule_id for row in _alerts(engine) if row.status == "open"} == {"surge"}
    assert "恢复" in next(row.resolve_note for row in _alerts(engine) if row.rule_id == "silent")


def test_alerts_of_a_rule_removed_from_the_file_are_resolved(engine, tmp_path):
    clock = Clock()
    reading(engine, "SEW-1", "cod", 70.0, clock.now)
    Evaluator(engine, alerts_file(tmp_path, COD), clock).evaluate()
    other = '[rules.bins]\nname = "垃圾桶满溢"\nkind = "reading"\nmetric = "fill_level"\nfire = ">= 90"\n'
    assert Evaluator(engine, alerts_file(tmp_path, other), clock).sweep().resolved == 1
    assert "已从告警规则文件中删除" in _alerts(engine)[0].resolve_note


def test_reads_for_the_screens_are_scoped(engine, tmp_path):
    clock = Clock()
    evaluator = Evaluator(engine, alerts_file(tmp_path, COD), clock)
    reading(engine, "SEW-1", "cod", 70.0, clock.now, VILLAGE_A1)
    reading(engine, "SEW-2", "cod", 80.0, clock.now, VILLAGE_B1)
    evaluator.evaluate()
    with engine.connect() as connection:
        assert {a.region_code for a in open_alerts(connection, COUNTY)} == {VILLAGE_A1, VILLAGE_B1}
        assert [a.region_code for a in open_alerts(connection, TOWN_A)] == [VILLAGE_A1]
        assert [a.region_code for a in list_alerts(connection, COUNTY, region=VILLAGE_B1)] == [VILLAGE_B1]
        assert connection.execute(select(func.count()).select_from(alerts)).scalar() == 2
