"""feed runs name their process; watermarks hold a file checkpoint

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 16:30:00.000000

A run records the host and process that runs it, the rows it passed over (titles, footers) and notes, so
`etl status` can tell a run whose process died
(interrupted) from one still going. A file source's watermark becomes a checkpoint of the file being
streamed (name, size, modification time, rows committed), longer than the old 100 characters.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "host", sa.String(length=255), nullable=True, comment="the host whose process ran it (migration 0015)"
            )
        )
        batch_op.add_column(
            sa.Column(
                "pid",
                sa.Integer(),
                nullable=True,
                comment="that process, so a run whose process died reads as interrupted",
            )
        )
        batch_op.add_column(
            sa.Column(
                "skipped",
                sa.Integer(),
                nullable=True,
                comment="title, footer and blank rows passed over: not data, not in rows_in",
            )
        )
        batch_op.add_column(
            sa.Column(
                "notes",
                sa.Text(),
                nullable=True,
                comment="what the run noticed about its files (header found on row 3, …), one a line",
            )
        )
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=10),
            type_=sa.String(length=16),
            existing_nullable=False,
            existing_comment="running | ok | failed",
            comment="running | ok | failed | interrupted",
        )
        batch_op.alter_column("watermark", existing_type=sa.String(length=100), type_=sa.Text())
    with op.batch_alter_table("feed_state", schema=None) as batch_op:
        batch_op.alter_column(
            "watermark",
            existing_type=sa.String(length=100),
            type_=sa.Text(),
            comment="a file source's checkpoint (file, size, rows committed) is longer than 100",
        )


def downgrade() -> None:
    with op.batch_alter_table("feed_state", schema=None) as batch_op:
        batch_op.alter_column("watermark", existing_type=sa.Text(), type_=sa.String(length=100), comment=None)
    with op.batch_alter_table("feed_runs", schema=None) as batch_op:
        batch_op.alter_column("watermark", existing_type=sa.Text(), type_=sa.String(length=100))
        batch_op.alter_column(
            "status", existing_type=sa.String(length=16), type_=sa.String(length=10), comment="running | ok | failed"
        )
        batch_op.drop_column("notes")
        batch_op.drop_column("skipped")
        batch_op.drop_column("pid")
        batch_op.drop_column("host")
