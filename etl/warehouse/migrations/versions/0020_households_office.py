"""households and the village office: codes, catalogue, the intake write side

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-09 10:00:00.000000

Households get 门牌 and 组 (for their QR labels) and a code each (only the SHA-256 of its token is kept); the
villages' redemption catalogue is a dataset; and what households and clerks do (诉求 with their events and photos,
notices with attachments, 民主议事, 民主监督, redemptions, catalogue edits) is written to intake tables that SQL
feeds read by updated_at. intake_clock's one row serialises intake writers so updated_at follows commit order;
intake_hits counts writes for the rate limits every worker shares.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # written to match etl/warehouse/schema.py (the schema test compares them), then frozen
    op.create_table(
        "catalogue_items",
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False, comment="points one redemption costs"),
        sa.Column(
            "note",
            sa.String(length=200),
            nullable=True,
            comment="what the village says of it: where to collect it, how many",
        ),
        sa.Column("status", sa.String(length=8), nullable=False, comment="on | off (offered or withdrawn)"),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("item_id", name="pk_catalogue_items"),
    )
    op.create_index("ix_catalogue_items_region_time", "catalogue_items", ["region_code", "event_time"], unique=False)
    op.create_table(
        "household_tokens",
        sa.Column("household_code", sa.String(length=32), nullable=False),
        sa.Column(
            "region_code",
            sa.String(length=12),
            nullable=False,
            comment="the household's village when the code was issued",
        ),
        sa.Column(
            "token_hash",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 (hex) of the code's token; never the token",
        ),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("household_code"),
    )
    op.create_index("ux_household_tokens_hash", "household_tokens", ["token_hash"], unique=True)
    op.create_table(
        "intake_case_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column(
            "kind",
            sa.String(length=16),
            nullable=False,
            comment="submitted | accepted | updated | escalated | closed | rated",
        ),
        sa.Column("actor", sa.String(length=64), nullable=True, comment="the clerk; NULL for the household"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_intake_case_events_case", "intake_case_events", ["case_id", "id"], unique=False)
    op.create_table(
        "intake_cases",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("household_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column(
            "topic", sa.String(length=16), nullable=False, comment="the household's 类别 (environment, roads, …)"
        ),
        sa.Column(
            "category",
            sa.String(length=16),
            nullable=False,
            comment="conflict | dispute | request | appeal",
        ),
        sa.Column("title", sa.String(length=100), nullable=False, comment="what public screens show: the topic's name"),
        sa.Column(
            "text", sa.Text(), nullable=False, comment="the household's own words: the household and the office only"
        ),
        sa.Column("callback_phone", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False, comment="received | in_progress | closed | rated"),
        sa.Column(
            "escalation", sa.String(length=10), nullable=False, comment="village | township | county: who handles it"
        ),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("handled_at", sa.String(length=32), nullable=True),
        sa.Column("closed_at", sa.String(length=32), nullable=True),
        sa.Column("rated_at", sa.String(length=32), nullable=True),
        sa.Column("due_at", sa.String(length=32), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True, comment="1..5"),
        sa.Column(
            "idempotency_key",
            sa.String(length=64),
            nullable=False,
            comment="the form's key: a double tap makes one case",
        ),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
        sa.UniqueConstraint("household_code", "idempotency_key", name="uq_intake_cases_idempotency"),
    )
    op.create_index("ix_intake_cases_household", "intake_cases", ["household_code", "created_at"], unique=False)
    op.create_index("ix_intake_cases_region", "intake_cases", ["region_code", "created_at"], unique=False)
    op.create_index("ix_intake_cases_updated_at", "intake_cases", ["updated_at"], unique=False)
    op.create_table(
        "intake_catalogue",
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False, comment="on | off"),
        sa.Column(
            "since",
            sa.String(length=32),
            nullable=False,
            comment="when the office first offered it (the fact's event time)",
        ),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_index("ix_intake_catalogue_updated_at", "intake_catalogue", ["updated_at"], unique=False)
    op.create_table(
        "intake_clock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False, comment="the last updated_at handed out"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "intake_deliberations",
        sa.Column("matter_id", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("form", sa.String(length=16), nullable=False, comment="online | assembly | representatives"),
        sa.Column("status", sa.String(length=16), nullable=False, comment="consulting | voting | decided | published"),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("votes_for", sa.Integer(), nullable=True),
        sa.Column("votes_against", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.String(length=32), nullable=False),
        sa.Column("decided_at", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("matter_id"),
    )
    op.create_index(
        "ix_intake_deliberations_region", "intake_deliberations", ["region_code", "started_at"], unique=False
    )
    op.create_index("ix_intake_deliberations_updated_at", "intake_deliberations", ["updated_at"], unique=False)
    op.create_table(
        "intake_files",
        sa.Column(
            "file_id", sa.String(length=40), nullable=False, comment="random: the stored file's name under UPLOADS_DIR"
        ),
        sa.Column("owner", sa.String(length=16), nullable=False, comment="case | notice"),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False, comment="the name it was uploaded under"),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("file_id"),
    )
    op.create_index("ix_intake_files_owner", "intake_files", ["owner", "owner_id"], unique=False)
    op.create_table(
        "intake_hits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False, comment="h:<household code> or a:<address>"),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_intake_hits_at", "intake_hits", ["at"], unique=False)
    op.create_index("ix_intake_hits_subject_at", "intake_hits", ["subject", "at"], unique=False)
    op.create_table(
        "intake_notices",
        sa.Column("notice_id", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False, comment="village_affairs | finance | party_affairs"),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=True, comment="finance lines: income | expense"),
        sa.Column("amount", sa.Float(), nullable=True, comment="finance lines, yuan"),
        sa.Column("period", sa.String(length=7), nullable=True, comment="YYYY-MM a finance line belongs to"),
        sa.Column("published_at", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("notice_id"),
    )
    op.create_index("ix_intake_notices_region", "intake_notices", ["region_code", "published_at"], unique=False)
    op.create_index("ix_intake_notices_updated_at", "intake_notices", ["updated_at"], unique=False)
    op.create_table(
        "intake_redemptions",
        sa.Column("redemption_id", sa.String(length=64), nullable=False),
        sa.Column("household_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=100), nullable=False),
        sa.Column(
            "points", sa.Integer(), nullable=False, comment="points it costs (> 0); the ledger entry is its negative"
        ),
        sa.Column("status", sa.String(length=16), nullable=False, comment="requested | confirmed | rejected"),
        sa.Column("requested_at", sa.String(length=32), nullable=False),
        sa.Column("decided_at", sa.String(length=32), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("redemption_id"),
        sa.UniqueConstraint("household_code", "idempotency_key", name="uq_intake_redemptions_idempotency"),
    )
    op.create_index(
        "ix_intake_redemptions_household", "intake_redemptions", ["household_code", "requested_at"], unique=False
    )
    op.create_index("ix_intake_redemptions_region", "intake_redemptions", ["region_code", "status"], unique=False)
    op.create_index("ix_intake_redemptions_updated_at", "intake_redemptions", ["updated_at"], unique=False)
    op.create_table(
        "intake_supervision",
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column(
            "subject",
            sa.String(length=16),
            nullable=False,
            comment="village_affairs | finance | projects | benefits | other",
        ),
        sa.Column("source", sa.String(length=16), nullable=False, comment="villager | committee"),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, comment="received | in_progress | replied"),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("raised_at", sa.String(length=32), nullable=False),
        sa.Column("replied_at", sa.String(length=32), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_index("ix_intake_supervision_region", "intake_supervision", ["region_code", "raised_at"], unique=False)
    op.create_index("ix_intake_supervision_updated_at", "intake_supervision", ["updated_at"], unique=False)
    op.add_column(
        "households", sa.Column("door_plate", sa.String(length=50), nullable=True, comment="门牌, e.g. 幸福路12号")
    )
    op.add_column(
        "households", sa.Column("village_group", sa.String(length=20), nullable=True, comment="组 (村民小组), e.g. 3组")
    )

    intake_clock = sa.table("intake_clock", sa.column("id", sa.Integer), sa.column("at", sa.String))
    op.bulk_insert(intake_clock, [{"id": 1, "at": "1970-01-01T00:00:00.000000+00:00"}])


def downgrade() -> None:
    op.drop_column("households", "village_group")
    op.drop_column("households", "door_plate")
    op.drop_index("ix_intake_supervision_updated_at", table_name="intake_supervision")
    op.drop_index("ix_intake_supervision_region", table_name="intake_supervision")
    op.drop_table("intake_supervision")
    op.drop_index("ix_intake_redemptions_updated_at", table_name="intake_redemptions")
    op.drop_index("ix_intake_redemptions_region", table_name="intake_redemptions")
    op.drop_index("ix_intake_redemptions_household", table_name="intake_redemptions")
    op.drop_table("intake_redemptions")
    op.drop_index("ix_intake_notices_updated_at", table_name="intake_notices")
    op.drop_index("ix_intake_notices_region", table_name="intake_notices")
    op.drop_table("intake_notices")
    op.drop_index("ix_intake_hits_subject_at", table_name="intake_hits")
    op.drop_index("ix_intake_hits_at", table_name="intake_hits")
    op.drop_table("intake_hits")
    op.drop_index("ix_intake_files_owner", table_name="intake_files")
    op.drop_table("intake_files")
    op.drop_index("ix_intake_deliberations_updated_at", table_name="intake_deliberations")
    op.drop_index("ix_intake_deliberations_region", table_name="intake_deliberations")
    op.drop_table("intake_deliberations")
    op.drop_table("intake_clock")
    op.drop_index("ix_intake_catalogue_updated_at", table_name="intake_catalogue")
    op.drop_table("intake_catalogue")
    op.drop_index("ix_intake_cases_updated_at", table_name="intake_cases")
    op.drop_index("ix_intake_cases_region", table_name="intake_cases")
    op.drop_index("ix_intake_cases_household", table_name="intake_cases")
    op.drop_table("intake_cases")
    op.drop_index("ix_intake_case_events_case", table_name="intake_case_events")
    op.drop_table("intake_case_events")
    op.drop_index("ux_household_tokens_hash", table_name="household_tokens")
    op.drop_table("household_tokens")
    op.drop_index("ix_catalogue_items_region_time", table_name="catalogue_items")
    op.drop_table("catalogue_items")
