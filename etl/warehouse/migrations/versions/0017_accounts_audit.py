"""accounts and the audit log

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 18:00:00.000000

Users with a role and a region scope (a code: they see that region and everything below it), Argon2 password
hashes, and an audit log of logins, failures, logouts, scope violations, exports and user changes, kept at
least 180 days. Failed logins in the log are what locks an account or an address out, for every worker alike.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(length=64), nullable=False, comment="the login name"),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False, comment="admin | county | township | village | viewer"),
        sa.Column(
            "scope",
            sa.String(length=12),
            nullable=False,
            comment="the region code the user sees (and everything below it)",
        ),
        sa.Column("enabled", sa.Integer(), nullable=False, comment="1, or 0 for a disabled account"),
        sa.Column(
            "password_hash",
            sa.Text(),
            nullable=True,
            comment="Argon2id; NULL for an account that signs in only through OIDC",
        ),
        sa.Column("source", sa.String(length=16), nullable=False, comment="local | oidc"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "event",
            sa.String(length=32),
            nullable=False,
            comment="login | login_failed | logout | scope_violation | export | user_changed | …",
        ),
        sa.Column(
            "user_name", sa.String(length=64), nullable=True, comment="who (or the name tried, for a failed login)"
        ),
        sa.Column("address", sa.String(length=64), nullable=True, comment="the client's address"),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_event_at", "audit_log", ["event", "at"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_event_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("users")
