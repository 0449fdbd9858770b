"""alerts remember since when their clear condition holds: a rule's keep_for keeps them open that long

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-13 10:00:00.000000

A value crossing both limits now and then (a pump cycling, a sensor at a threshold) resolved its alert and opened a
new one each time, a message each. A rule's `keep_for` keeps a live alert open until its clear condition has held
that long; the value coming back within it continues the same alert.
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "clearing_since",
                sa.DateTime(timezone=True),
                nullable=True,
                comment="since when the clear condition holds, while the rule's keep_for keeps the alert open",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("clearing_since")
