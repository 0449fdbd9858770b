"""feed run lag

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 10:05:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "lag_seconds",
                sa.Float(),
                nullable=True,
                comment="commit time minus the newest event of the run's last batch: how far behind live",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("feed_runs", schema=None) as batch_op:
        batch_op.drop_column("lag_seconds")
