"""alarm index

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:40:00.000000

A partial index of the devices whose latest reading breaks an alarm rule: a province's open alarms read
those few rows instead of every device. The predicate is the rules of dashboard.alarms as they are today.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PREDICATE = (
    "metric = 'fill_level' AND value >= 90 OR metric = 'cod' AND value > 60 OR metric = 'nh3n' AND value > 8 "
    "OR metric = 'online' AND value < 0.5 OR metric = 'aqi' AND value > 150"
)


def upgrade() -> None:
    op.create_index(
        "ix_device_latest_alarms",
        "device_latest",
        ["region_code"],
        unique=False,
        postgresql_where=sa.text(PREDICATE),
        sqlite_where=sa.text(PREDICATE),
    )


def downgrade() -> None:
    op.drop_index("ix_device_latest_alarms", table_name="device_latest")
