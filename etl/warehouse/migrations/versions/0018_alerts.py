"""alerts, their history and notifications; an index for rules read from data

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 09:00:00.000000

Alerts opened by the rules of ALERTS_FILE (one alive per rule and subject), their events (opened, acknowledged,
escalated, resolved) and the notifications log with one row per event and channel, so a restarted evaluator
never sends twice. Migration 0012's partial index hard-coded today's thresholds; rules are data now, so it is
replaced by an index on (metric, value) in which every threshold rule is a range. Open cases by due time serve
the overdue-case rule.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

LIVE = "status <> 'resolved'"
OPEN_CASE = "status IN ('received', 'in_progress')"
# Migration 0012's predicate, to put its index back on downgrade.
ALARM_PREDICATE = (
    "metric = 'fill_level' AND value >= 90 OR metric = 'cod' AND value > 60 OR metric = 'nh3n' AND value > 8 "
    "OR metric = 'online' AND value < 0.5 OR metric = 'aqi' AND value > 150"
)


def _when(predicate: str) -> dict:
    return {"postgresql_where": sa.text(predicate), "sqlite_where": sa.text(predicate)}


def upgrade() -> None:
    op.drop_index("ix_device_latest_alarms", table_name="device_latest")
    op.create_index("ix_device_latest_metric_value", "device_latest", ["metric", "value", "region_code"])
    op.create_index("ix_cases_open_due", "cases", ["due_at"], **_when(OPEN_CASE))
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False, comment="the rule's id in ALERTS_FILE"),
        sa.Column(
            "subject",
            sa.String(length=200),
            nullable=False,
            comment="what the alert is about: device:ID:metric, case:ID, …",
        ),
        sa.Column("region_code", sa.String(length=12), nullable=False, comment="the subject's region"),
        sa.Column(
            "name", sa.String(length=100), nullable=False, comment="the rule's name when the alert opened (Chinese)"
        ),
        sa.Column("severity", sa.String(length=16), nullable=False, comment="info | warning | major | critical"),
        sa.Column(
            "status",
            sa.String(length=16),
            nullable=False,
            comment="pending (holding for the rule's `for`) | open | acknowledged | resolved",
        ),
        sa.Column(
            "level", sa.String(length=10), nullable=False, comment="the owner's level: village | township | county"
        ),
        sa.Column(
            "owner_code",
            sa.String(length=12),
            nullable=False,
            comment="the owner's region: the subject's region at level",
        ),
        sa.Column("value", sa.Float(), nullable=True, comment="the last value the rule saw"),
        sa.Column("detail", sa.Text(), nullable=True, comment="what was seen, for people (Chinese)"),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False, comment="when the condition was first seen"),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True, comment="NULL while pending"),
        sa.Column(
            "level_since",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="since when the owner has it (escalation counts from)",
        ),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("ack_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "resolved_by",
            sa.String(length=64),
            nullable=True,
            comment="NULL when the condition cleared by itself",
        ),
        sa.Column("resolve_note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_alerts_live", "alerts", ["rule_id", "subject"], unique=True, **_when(LIVE))
    op.create_index("ix_alerts_live_region", "alerts", ["region_code"], **_when(LIVE))
    op.create_index("ix_alerts_opened_at", "alerts", ["opened_at"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="opened | acknowledged | escalated | resolved"),
        sa.Column("actor", sa.String(length=64), nullable=True, comment="the user; NULL for the evaluator"),
        sa.Column("level", sa.String(length=10), nullable=False, comment="the owner's level after the event"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "planned",
            sa.Integer(),
            nullable=False,
            comment="1 once its notifications are in the notifications table",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])
    op.create_index("ix_alert_events_unplanned", "alert_events", ["id"], **_when("planned = 0"))
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False, comment="the channel's name in ALERTS_FILE"),
        sa.Column("status", sa.String(length=16), nullable=False, comment="pending | sending | sent | failed"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "due_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="not before: quiet hours' end, next retry",
        ),
        sa.Column(
            "lease_until",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="while sending: when another process may take it over",
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True, comment="the last failure"),
        sa.Column("message", sa.Text(), nullable=False, comment="what is sent, as JSON (title, lines, alert)"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "channel", name="uq_notifications_event_channel"),
    )
    op.create_index("ix_notifications_status_due", "notifications", ["status", "due_at"])
    op.create_index("ix_notifications_alert", "notifications", ["alert_id"])


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("alert_events")
    op.drop_table("alerts")
    op.drop_index("ix_cases_open_due", table_name="cases")
    op.drop_index("ix_device_latest_metric_value", table_name="device_latest")
    op.create_index("ix_device_latest_alarms", "device_latest", ["region_code"], **_when(ALARM_PREDICATE))
