"""pilot programme: the facts of every reference indicator, the programme as data, monthly scores

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 12:00:00.000000

Facts for the indicator items that had no data (toilets, epidemic aggregates, government services, democratic
deliberation and supervision, traceability, the labour pool's people), the programme's own reports (each
pilot's status per milestone, its funds), the programme as imported (pilots resolved to regions, milestones,
items with their evidence rules) and the monthly scores of every pilot × item with their evidence.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # written to match etl/warehouse/schema.py (the schema test compares them), then frozen
    op.create_table(
        "deliberations",
        sa.Column("matter_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("form", sa.String(length=16), nullable=False, comment="online | assembly | representatives"),
        sa.Column("status", sa.String(length=16), nullable=False, comment="consulting | voting | decided | published"),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("votes_for", sa.Integer(), nullable=True),
        sa.Column("votes_against", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("matter_id", name="pk_deliberations"),
    )
    op.create_index("ix_deliberations_region_time", "deliberations", ["region_code", "event_time"], unique=False)
    op.create_table(
        "epidemic",
        sa.Column(
            "kind", sa.String(length=24), nullable=False, comment="health_check | vaccination | monitoring_point"
        ),
        sa.Column("quantity", sa.Integer(), nullable=False, comment="people checked, doses given or points reporting"),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("region_code", "event_time", "kind", name="pk_epidemic"),
    )
    op.create_index("ix_epidemic_region_time", "epidemic", ["region_code", "event_time"], unique=False)
    op.create_table(
        "gov_services",
        sa.Column("application_id", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=False, comment="the matter applied for (事项)"),
        sa.Column("channel", sa.String(length=16), nullable=True, comment="online | mobile | counter | proxy"),
        sa.Column("mode", sa.String(length=16), nullable=True, comment="single | joint (并联审批、协同办理)"),
        sa.Column(
            "status", sa.String(length=16), nullable=False, comment="appointed | received | in_progress | completed"
        ),
        sa.Column("appointment_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feedback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True, comment="1..5"),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("application_id", name="pk_gov_services"),
    )
    op.create_index("ix_gov_services_region_time", "gov_services", ["region_code", "event_time"], unique=False)
    op.create_table(
        "labour_profiles",
        sa.Column(
            "worker_id", sa.String(length=64), nullable=False, comment="the register's number; no name or ID number"
        ),
        sa.Column("status", sa.String(length=16), nullable=False, comment="migrant | local | unemployed"),
        sa.Column(
            "education",
            sa.String(length=16),
            nullable=True,
            comment="primary | junior | senior | vocational | college | bachelor | master",
        ),
        sa.Column("skills", sa.String(length=200), nullable=True, comment="特长, as the register writes them"),
        sa.Column("hobbies", sa.String(length=200), nullable=True, comment="爱好"),
        sa.Column("wanted_job", sa.String(length=100), nullable=True, comment="求职意向"),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("worker_id", name="pk_labour_profiles"),
    )
    op.create_index("ix_labour_profiles_region_time", "labour_profiles", ["region_code", "event_time"], unique=False)
    op.create_table(
        "pilot_funds",
        sa.Column("programme_id", sa.String(length=32), nullable=False),
        sa.Column("pilot_id", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False, comment="YYYY-MM the figures stand at"),
        sa.Column("allocated", sa.Float(), nullable=True, comment="万元, cumulative"),
        sa.Column("disbursed", sa.Float(), nullable=False, comment="万元, cumulative"),
        sa.Column("spent", sa.Float(), nullable=False, comment="万元, cumulative"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "pilot_id", "period", name="pk_pilot_funds"),
    )
    op.create_index("ix_pilot_funds_region_time", "pilot_funds", ["region_code", "event_time"], unique=False)
    op.create_table(
        "pilot_scores",
        sa.Column("programme_id", sa.String(length=32), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False, comment="YYYY-MM: the month's last score is kept"),
        sa.Column("pilot_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=16), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False, comment="met | partly | unmet | no_data"),
        sa.Column(
            "evidence", sa.Text(), nullable=False, comment="JSON: per rule what, measure, value, period, rule, status"
        ),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False, comment="the moment the evidence was read at"),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("programme_id", "month", "pilot_id", "item_id"),
    )
    op.create_index("ix_pilot_scores_pilot", "pilot_scores", ["programme_id", "pilot_id", "month"], unique=False)
    op.create_table(
        "pilot_status",
        sa.Column("programme_id", sa.String(length=32), nullable=False),
        sa.Column("pilot_id", sa.String(length=32), nullable=False),
        sa.Column(
            "milestone", sa.String(length=32), nullable=False, comment="the milestone's id or name in the programme"
        ),
        sa.Column("period", sa.String(length=7), nullable=False, comment="YYYY-MM the report is for"),
        sa.Column("status", sa.String(length=16), nullable=False, comment="not_started | in_progress | done | delayed"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "pilot_id", "milestone", "period", name="pk_pilot_status"),
    )
    op.create_index("ix_pilot_status_region_time", "pilot_status", ["region_code", "event_time"], unique=False)
    op.create_table(
        "programme_items",
        sa.Column("programme_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False, comment="township | village"),
        sa.Column("area", sa.String(length=50), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("text", sa.Text(), nullable=False, comment="the reference indicator in the programme's own words"),
        sa.Column(
            "rules", sa.Text(), nullable=False, comment="the evidence rules as JSON, as the catalogue declares them"
        ),
        sa.PrimaryKeyConstraint("programme_id", "item_id"),
    )
    op.create_table(
        "programme_milestones",
        sa.Column("programme_id", sa.String(length=32), nullable=False),
        sa.Column("milestone_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False, comment="YYYY-MM the milestone belongs to"),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False, comment="the end of its last local day"),
        sa.Column("text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "milestone_id"),
    )
    op.create_table(
        "programme_pilots",
        sa.Column("programme_id", sa.String(length=32), nullable=False),
        sa.Column("pilot_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False, comment="township | village"),
        sa.Column("name", sa.String(length=100), nullable=False, comment="as the programme's list writes it"),
        sa.Column("county", sa.String(length=50), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=True, comment="the statistical code the list gives, if any"),
        sa.Column(
            "region_code",
            sa.String(length=12),
            nullable=True,
            comment="the region the pilot is tracked under; NULL when none resolved",
        ),
        sa.Column("resolution", sa.String(length=12), nullable=False, comment="code | name | ancestor | unresolved"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("programme_id", "pilot_id"),
    )
    op.create_index("ix_programme_pilots_region", "programme_pilots", ["programme_id", "region_code"], unique=False)
    op.create_table(
        "programmes",
        sa.Column("programme_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("document", sa.Text(), nullable=True, comment="the notice that set the programme up"),
        sa.Column("issuer", sa.String(length=100), nullable=True),
        sa.Column(
            "region_code", sa.String(length=12), nullable=False, comment="the region the programme covers (a city)"
        ),
        sa.Column("funds_per_pilot", sa.Float(), nullable=True, comment="万元 of linkage funds per pilot"),
        sa.Column("digest", sa.String(length=64), nullable=False, comment="SHA-256 of the files imported"),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("programme_id"),
    )
    op.create_table(
        "supervision_items",
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column(
            "subject",
            sa.String(length=16),
            nullable=False,
            comment="village_affairs | finance | projects | benefits | other",
        ),
        sa.Column("source", sa.String(length=16), nullable=True, comment="villager | committee"),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, comment="received | in_progress | replied"),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True, comment="1..5"),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("item_id", name="pk_supervision_items"),
    )
    op.create_index(
        "ix_supervision_items_region_time", "supervision_items", ["region_code", "event_time"], unique=False
    )
    op.create_table(
        "toilets",
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column(
            "toilet_id",
            sa.String(length=64),
            nullable=True,
            comment="the household toilet (or public toilet) the record is about",
        ),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="renovation | inspection | fault | desludging"),
        sa.Column("repaired_at", sa.DateTime(timezone=True), nullable=True, comment="faults: when the repair was done"),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("record_id", name="pk_toilets"),
    )
    op.create_index("ix_toilets_region_time", "toilets", ["region_code", "event_time"], unique=False)
    op.create_table(
        "traceability",
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False, comment="issued | scanned"),
        sa.Column("product", sa.String(length=100), nullable=False),
        sa.Column("batch", sa.String(length=64), nullable=True),
        sa.Column("codes", sa.Integer(), nullable=False, comment="codes issued to the batch, or scans of them"),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("record_id", name="pk_traceability"),
    )
    op.create_index("ix_traceability_region_time", "traceability", ["region_code", "event_time"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_traceability_region_time", table_name="traceability")
    op.drop_table("traceability")
    op.drop_index("ix_toilets_region_time", table_name="toilets")
    op.drop_table("toilets")
    op.drop_index("ix_supervision_items_region_time", table_name="supervision_items")
    op.drop_table("supervision_items")
    op.drop_table("programmes")
    op.drop_index("ix_programme_pilots_region", table_name="programme_pilots")
    op.drop_table("programme_pilots")
    op.drop_table("programme_milestones")
    op.drop_table("programme_items")
    op.drop_index("ix_pilot_status_region_time", table_name="pilot_status")
    op.drop_table("pilot_status")
    op.drop_index("ix_pilot_scores_pilot", table_name="pilot_scores")
    op.drop_table("pilot_scores")
    op.drop_index("ix_pilot_funds_region_time", table_name="pilot_funds")
    op.drop_table("pilot_funds")
    op.drop_index("ix_labour_profiles_region_time", table_name="labour_profiles")
    op.drop_table("labour_profiles")
    op.drop_index("ix_gov_services_region_time", table_name="gov_services")
    op.drop_table("gov_services")
    op.drop_index("ix_epidemic_region_time", table_name="epidemic")
    op.drop_table("epidemic")
    op.drop_index("ix_deliberations_region_time", table_name="deliberations")
    op.drop_table("deliberations")
