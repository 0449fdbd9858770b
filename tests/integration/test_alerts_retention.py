"""The alerts' history is bounded, on SQLite and PostgreSQL: an alert resolved more than ALERT_HISTORY_DAYS ago goes
with its events and notifications; live alerts and recent history stay; a notification for a channel no longer in
the alerts file is marked failed with the reason instead of waiting for ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from etl.alerts.retention import ALERT_HISTORY_DAYS, prune
from etl.warehouse.schema import alert_events, alerts, notifications
from tests.alert_county import VILLAGE_A1, county  # noqa: F401 - the fixture

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


@pytest.fixture
def engine(county):  # noqa: F811 - the shared fixture, imported
    return county


def _alert(connection, subject: str, status: str, since_days: float, resolved_days: float | None) -> int:
    """An alert of ``subject`` seen first ``since_days`` ago (resolved ``resolved_days`` ago), with an event and a
    sent notification; its id."""
    since = NOW - timedelta(days=since_days)
    resolved = NOW - timedelta(days=resolved_days) if resolved_days is not None else None
    values = {"rule_id": "cod", "subject": subject, "region_code": VILLAGE_A1, "name": "污水COD超标"}
    values |= {"severity": "major", "status": status, "level": "village", "owner_code": VILLAGE_A1}
    values |= {"since": since, "opened_at": since, "resolved_at": resolved, "updated_at": resolved or since}
    alert_id = connection.execute(insert(alerts).values(values)).inserted_primary_key[0]
    event = {"alert_id": alert_id, "at": since, "kind": "opened", "level": "village", "planned": 1}
    event_id = connection.execute(insert(alert_events).values(event)).inserted_primary_key[0]
    sent = {"alert_id": alert_id, "event_id": event_id, "channel": "webhook", "status": "sent", "attempts": 1}
    sent |= {"due_at": since, "sent_at": since, "message": "{}", "created_at": since}
    connection.execute(insert(notifications).values(sent))
    return alert_id


def test_old_resolved_alerts_go_with_their_events_and_notifications_and_the_rest_stays(engine):
    with engine.begin() as connection:
        old = _alert(connection, "device:A:cod", "resolved", ALERT_HISTORY_DAYS + 30, ALERT_HISTORY_DAYS + 1)
        recent = _alert(connection, "device:B:cod", "resolved", ALERT_HISTORY_DAYS + 30, ALERT_HISTORY_DAYS - 1)
        live = _alert(connection, "device:C:cod", "open", ALERT_HISTORY_DAYS + 300, None)  # open for a long time
    with engine.begin() as connection:
        removed = prune(connection, {"webhook"}, NOW)
    assert removed == 1
    with engine.connect() as connection:
        assert sorted(connection.execute(select(alerts.c.id)).scalars()) == sorted([recent, live])
        assert sorted(connection.execute(select(alert_events.c.alert_id)).scalars()) == sorted([recent, live])
        assert sorted(connection.execute(select(notifications.c.alert_id)).scalars()) == sorted([recent, live])
    assert old not in (recent, live)


def test_a_notification_for_a_channel_taken_out_of_the_file_fails_with_the_reason(engine):
    with engine.begin() as connection:
        alert_id = _alert(connection, "device:D:cod", "open", 1, None)
        event_id = connection.execute(select(alert_events.c.id).where(alert_events.c.alert_id == alert_id)).scalar()
        waiting = {"alert_id": alert_id, "event_id": event_id, "status": "pending", "attempts": 0, "message": "{}"}
        waiting |= {"due_at": NOW, "created_at": NOW}
        connection.execute(insert(notifications), [{**waiting, "channel": "sms"}, {**waiting, "channel": "wecom"}])
    with engine.begin() as connection:
        prune(connection, {"webhook", "wecom"}, NOW)  # sms is no longer in the alerts file
    with engine.connect() as connection:
        found = dict(
            connection.execute(
                select(notifications.c.channel, notifications.c.status).where(notifications.c.status != "sent")
            ).all()
        )
        error = connection.execute(select(notifications.c.error).where(notifications.c.channel == "sms")).scalar()
    assert found == {"sms": "failed", "wecom": "pending"}
    assert "sms" in error and "告警配置" in error
