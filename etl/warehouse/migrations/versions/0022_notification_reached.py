"""notifications keep the parts of a message already delivered: an SMS's phones reached before another's refusal

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-11 10:00:00.000000

An SMS sent one phone at a time remembered the phones it had reached in the sending process: a retry taken up by
another `etl watch` process, or after a restart, sent the message again to every phone reached before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reached",
                sa.Text(),
                nullable=True,
                comment="the parts delivered already, as a JSON list (an SMS's phones): any process's retry skips them",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("reached")
