"""screen indexes

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 13:10:00.000000
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_rollups_region_measure",
        "rollups",
        ["region_code", "grain", "measure", "bucket"],
        unique=False,
        postgresql_include=["dimension", "count", "total"],
    )
    op.create_index(
        "ix_rollups_measure_bucket",
        "rollups",
        ["grain", "measure", "bucket", "region_code"],
        unique=False,
        postgresql_include=["count", "total"],
    )
    op.create_index("ix_cases_event_time", "cases", ["event_time"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_event_time", table_name="cases")
    op.drop_index("ix_rollups_measure_bucket", table_name="rollups")
    op.drop_index("ix_rollups_region_measure", table_name="rollups")
