"""accounts end their sessions: logout, a new password or disabling ends every session of the account

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-10 10:00:00.000000

A session is a signed cookie the server keeps nothing of: one copied before a logout went on working. A session
now carries its account's epoch at login, and an account's epoch rises at a logout, a new password and disabling.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "session_epoch",
                sa.Integer(),
                nullable=True,
                comment="a session begun at another epoch is over; logout, new password, disabling raise it",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
