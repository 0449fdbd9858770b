"""The alerts' history is bounded, on SQLite and PostgreSQL: an alert resolved more than ALERT_HISTORY_DAYS ago goes
with its events and notifications (sent or never sent); live alerts and recent history stay."""

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
        removed = prune(connection, NOW)
    assert removed == 1
    with engine.connect() as connection:
        assert sorted(connection.execute(select(alerts.c.id)).scalars()) == sorted([recent, live])
        assert sorted(connection.execute(select(alert_events.c.alert_id)).scalars()) == sorted([recent, live])
        assert sorted(connection.execute(select(notifications.c.alert_id)).scalars()) == sorted([recent, live])
    assert old not in (recent, live)


def test_a_notification_never_sent_stays_while_its_alert_lives_and_goes_with_it(engine):
    # A channel switched off (or its address missing from the environment) leaves notifications pending: they
    # wait, as they should for a paused channel, and leave with their alert's history, never before.
    with engine.begin() as connection:
        live = _alert(connection, "device:D:cod", "open", 1, None)
        old = _alert(connection, "device:E:cod", "resolved", ALERT_HISTORY_DAYS + 30, ALERT_HISTORY_DAYS + 1)
        for alert_id in (live, old):
            event_id = connection.execute(select(alert_events.c.id).where(alert_events.c.alert_id == alert_id)).scalar()
            waiting = {"alert_id": alert_id, "event_id": event_id, "status": "pending", "attempts": 0}
            waiting |= {"message": "{}", "due_at": NOW, "created_at": NOW, "channel": "sms"}
            connection.execute(insert(notifications).values(waiting))
    with engine.begin() as connection:
        prune(connection, NOW)
    with engine.connect() as connection:
        pending = connection.execute(select(notifications.c.alert_id).where(notifications.c.status == "pending")).all()
    assert [row.alert_id for row in pending] == [live]


def test_the_service_deletes_the_history_a_chunk_per_transaction(engine, monkeypatch):
    from etl.alerts.config import AlertsConfig
    from etl.alerts.service import AlertService

    monkeypatch.setattr("etl.alerts.service.CHUNK", 2)
    monkeypatch.setattr("etl.alerts.retention.CHUNK", 2)
    with engine.begin() as connection:
        for number in range(5):
            _alert(connection, f"device:{number}:cod", "resolved", ALERT_HISTORY_DAYS + 30, ALERT_HISTORY_DAYS + 1)
    service = AlertService(engine, AlertsConfig(), clock=lambda: NOW)
    assert service.prune() == 5
    with engine.connect() as connection:
        assert connection.execute(select(alerts.c.id)).all() == []
