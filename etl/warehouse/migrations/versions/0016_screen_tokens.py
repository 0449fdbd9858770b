"""screens carry the hash of their token

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 10:00:00.000000

`ruralbrain screens register` issues each screen a token and keeps only its SHA-256; a heartbeat for a
registered screen must carry the token. Screens registered before this migration have no hash: their
heartbeats are refused until they are registered again (which prints their new address).
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "token_hash",
                sa.String(length=64),
                nullable=True,
                comment="SHA-256 (hex) of the screen's token; the token itself is never stored",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("screens", schema=None) as batch_op:
        batch_op.drop_column("token_hash")
