"""Regions with geometry, the warehouse version counter and the quarantine of rejected input.

Revision ID: 0001
Revises:
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("code", sa.String(12), primary_key=True, comment="12-digit statistical division code"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("parent_code", sa.String(12)),
        sa.Column("households", sa.Integer),
        sa.Column("population", sa.Integer),
        sa.Column("geometry", sa.LargeBinary, comment="WKB, WGS-84"),
        sa.Column("boundary", sa.String(10), comment="surveyed | schematic | NULL when no polygon"),
        sa.Column("centroid_lon", sa.Float),
        sa.Column("centroid_lat", sa.Float),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_regions_level", "regions", ["level"])
    op.create_index("ix_regions_parent_code", "regions", ["parent_code"])
    version = op.create_table(
        "warehouse_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.bulk_insert(version, [{"id": 1, "version": 0, "updated_at": datetime.now(UTC)}])
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(200), nullable=False, comment="feed name or command"),
        sa.Column("location", sa.Text, nullable=False, comment="file and row, feature or message"),
        sa.Column("field", sa.String(100)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, comment="the rejected input as JSON"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("quarantine")
    op.drop_table("warehouse_version")
    op.drop_index("ix_regions_parent_code", "regions")
    op.drop_index("ix_regions_level", "regions")
    op.drop_table("regions")
