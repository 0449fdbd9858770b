"""publicity items and bus stops

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:05:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _fact_columns() -> list[sa.Column]:
    return [
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
    ]


def upgrade() -> None:
    # written to match etl/warehouse/schema.py (the schema test compares them), then frozen
    op.create_table(
        "publicity",
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column(
            "valid_until",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="hidden after this time; NULL = until replaced",
        ),
        *_fact_columns(),
        sa.PrimaryKeyConstraint("item_id", name="pk_publicity"),
    )
    with op.batch_alter_table("publicity", schema=None) as batch_op:
        batch_op.create_index("ix_publicity_region_time", ["region_code", "event_time"], unique=False)

    op.create_table(
        "bus_stops",
        sa.Column("stop_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        *_fact_columns(),
        sa.PrimaryKeyConstraint("stop_id", name="pk_bus_stops"),
    )
    with op.batch_alter_table("bus_stops", schema=None) as batch_op:
        batch_op.create_index("ix_bus_stops_region_time", ["region_code", "event_time"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bus_stops", schema=None) as batch_op:
        batch_op.drop_index("ix_bus_stops_region_time")
    op.drop_table("bus_stops")
    with op.batch_alter_table("publicity", schema=None) as batch_op:
        batch_op.drop_index("ix_publicity_region_time")
    op.drop_table("publicity")
