"""month rollups

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:00:00.000000

Rollups gain a month grain (local months, UTC+8, like days), so "this month" on a screen, and the village
rankings of a province, read one bucket per region instead of a month of day buckets. The grain column
widens to hold "month"; existing day rollups are summed into their months.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The start (UTC) of the local month of a day bucket, in each dialect's own date arithmetic; SQLite keeps
# datetimes as SQLAlchemy's text "YYYY-MM-DD HH:MM:SS.ffffff" (UTC).
MONTH_OF_BUCKET = {
    "postgresql": (
        "(date_trunc('month', (bucket AT TIME ZONE 'UTC') + interval '8 hours') - interval '8 hours') "
        "AT TIME ZONE 'UTC'"
    ),
    "sqlite": "datetime(strftime('%Y-%m-01 00:00:00', bucket, '+8 hours'), '-8 hours') || '.000000'",
}


def upgrade() -> None:
    with op.batch_alter_table("rollups", schema=None) as batch_op:
        batch_op.alter_column(
            "grain",
            existing_type=sa.String(length=4),
            type_=sa.String(length=8),
            existing_comment="hour | day",
            comment="hour | day | month",
            existing_nullable=False,
        )
    month = MONTH_OF_BUCKET[op.get_bind().dialect.name]
    op.execute(
        "INSERT INTO rollups (grain, bucket, region_code, measure, dimension, count, total, min, max) "
        f"SELECT 'month', {month}, region_code, measure, dimension, sum(count), sum(total), min(min), max(max) "
        f"FROM rollups WHERE grain = 'day' GROUP BY {month}, region_code, measure, dimension"
    )


def downgrade() -> None:
    op.execute("DELETE FROM rollups WHERE grain = 'month'")
    with op.batch_alter_table("rollups", schema=None) as batch_op:
        batch_op.alter_column(
            "grain",
            existing_type=sa.String(length=8),
            type_=sa.String(length=4),
            existing_comment="hour | day | month",
            comment="hour | day",
            existing_nullable=False,
        )
