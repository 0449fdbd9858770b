"""readings partitioned by month on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 09:50:00.000000
"""

from datetime import UTC, datetime

from alembic import op
from sqlalchemy import text

from etl.warehouse.partitions import ensure_months, month_of, next_month

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL only: SQLite has no partitions and keeps the plain table of migration 0002.
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE readings RENAME TO readings_unpartitioned")
    op.execute("ALTER TABLE readings_unpartitioned RENAME CONSTRAINT pk_readings TO pk_readings_unpartitioned")
    op.execute("ALTER INDEX ix_readings_region_time RENAME TO ix_readings_unpartitioned_region_time")
    op.execute(
        "CREATE TABLE readings (LIKE readings_unpartitioned INCLUDING DEFAULTS INCLUDING COMMENTS) "
        "PARTITION BY RANGE (event_time)"
    )
    op.execute("ALTER TABLE readings ADD CONSTRAINT pk_readings PRIMARY KEY (device_id, metric, event_time)")
    op.execute("CREATE INDEX ix_readings_region_time ON readings (region_code, event_time)")
    op.execute("CREATE TABLE readings_default PARTITION OF readings DEFAULT")
    months = set(
        connection.execute(text("SELECT DISTINCT date_trunc('month', event_time, 'UTC') FROM readings_unpartitioned"))
        .scalars()
        .all()
    )
    now = month_of(datetime.now(UTC))
    ensure_months(connection, "readings", {*months, now, next_month(now)})
    op.execute("INSERT INTO readings SELECT * FROM readings_unpartitioned")
    op.execute("DROP TABLE readings_unpartitioned")


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE readings RENAME TO readings_partitioned")
    op.execute("ALTER TABLE readings_partitioned RENAME CONSTRAINT pk_readings TO pk_readings_partitioned")
    op.execute("ALTER INDEX ix_readings_region_time RENAME TO ix_readings_partitioned_region_time")
    op.execute("CREATE TABLE readings (LIKE readings_partitioned INCLUDING DEFAULTS INCLUDING COMMENTS)")
    op.execute("ALTER TABLE readings ADD CONSTRAINT pk_readings PRIMARY KEY (device_id, metric, event_time)")
    op.execute("CREATE INDEX ix_readings_region_time ON readings (region_code, event_time)")
    op.execute("INSERT INTO readings SELECT * FROM readings_partitioned")
    op.execute("DROP TABLE readings_partitioned CASCADE")
