"""The warehouse schema: the one contract between the ETL (writer) and the screens (reader).

Migrations in ``etl/warehouse/migrations`` create exactly these tables; a test checks they agree.
Geometry is stored as WKB in WGS-84 (EPSG:4326), the canonical CRS; see ``geo.crs``.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

metadata = MetaData()

LEVELS = ("province", "city", "county", "township", "village")
BOUNDARY_SURVEYED = "surveyed"
BOUNDARY_SCHEMATIC = "schematic"

regions = Table(
    "regions",
    metadata,
    Column("code", String(12), primary_key=True, comment="12-digit statistical division code"),
    Column("name", String(100), nullable=False),
    Column("level", String(10), nullable=False, index=True),
    Column("parent_code", String(12), index=True),
    Column("households", Integer),
    Column("population", Integer),
    Column("geometry", LargeBinary, comment="WKB, WGS-84"),
    Column("boundary", String(10), comment="surveyed | schematic | NULL when no polygon"),
    Column("centroid_lon", Float),
    Column("centroid_lat", Float),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

warehouse_version = Table(
    "warehouse_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False, comment="feed name or command"),
    Column("location", Text, nullable=False, comment="file and row, feature or message"),
    Column("field", String(100)),
    Column("reason", Text, nullable=False),
    Column("raw", Text, comment="the rejected input as JSON"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("run_id", Integer, comment="the feed run that rejected it (migration 0002)"),
    Column("retried_at", DateTime(timezone=True), comment="set when a retry loaded or re-quarantined it"),
)


# --- Facts (migration 0002). Every fact has a region code, an event time, a load time, the run that
# loaded it, and a natural key (a unique constraint) so that loading the same row twice is a no-op.


def _fact(name: str, key: tuple[str, ...], *columns: Column, region_index: bool = True) -> Table:
    """A fact table: its own columns plus region_code, event_time, loaded_at, run_id; the natural key is the
    primary key (no surrogate id: upserts and PostgreSQL partitions by month both want the natural key), and
    an index by region and time unless the table is read by time only."""
    indexes = [Index(f"ix_{name}_region_time", "region_code", "event_time")] if region_index else []
    return Table(
        name,
        metadata,
        *columns,
        Column("region_code", String(12), nullable=False),
        Column("event_time", DateTime(timezone=True), nullable=False),
        Column("loaded_at", DateTime(timezone=True), nullable=False),
        Column("run_id", Integer),
        PrimaryKeyConstraint(*key, name=f"pk_{name}"),
        *indexes,
    )


cases = _fact(
    "cases",
    ("case_id",),
    Column("case_id", String(64), nullable=False),
    Column("category", String(16), nullable=False, comment="conflict | dispute | request | appeal"),
    Column(
        "module", String(24), nullable=False, comment="general | online_mediation | petition | exposure | clean_village"
    ),
    Column("channel", String(16), comment="qr_code | phone | visit | grid_worker"),
    Column("title", Text),
    Column("reporter_name", String(50), comment="stored for masking only"),
    Column("reporter_phone", String(20), comment="stored for masking only"),
    Column("status", String(16), nullable=False, comment="received | in_progress | closed | rated"),
    Column("escalation", String(10), comment="village | township | county"),
    Column("handled_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("rated_at", DateTime(timezone=True)),
    Column("due_at", DateTime(timezone=True)),
    Column("satisfaction", Integer, comment="1..5"),
)
# The ticker's newest cases of a large scope walk this backwards instead of sorting the scope (0010).
Index("ix_cases_event_time", cases.c.event_time)

disclosures = _fact(
    "disclosures",
    ("disclosure_id",),
    Column("disclosure_id", String(64), nullable=False),
    Column(
        "kind", String(24), nullable=False, comment="village_affairs | finance | party_affairs | government_affairs"
    ),
    Column("title", Text, nullable=False),
    Column("body", Text),
    Column("direction", String(8), comment="finance lines: income | expense"),
    Column("amount", Float, comment="finance lines, yuan"),
    Column("period", String(7), comment="YYYY-MM the line belongs to"),
)

party_activities = _fact(
    "party_activities",
    ("activity_id",),
    Column("activity_id", String(64), nullable=False),
    Column(
        "kind",
        String(24),
        nullable=False,
        comment="branch_meeting | committee_meeting | group_meeting | party_lecture | other",
    ),
    Column("title", Text),
    Column("attendees", Integer),
)

devices = _fact(
    "devices",
    ("device_id",),
    Column("device_id", String(64), nullable=False),
    Column(
        "kind", String(16), nullable=False, comment="bin | sewage_plant | air | weather | soil | greenhouse | camera"
    ),
    Column("name", String(100)),
    Column("lon", Float),
    Column("lat", Float),
)

# The key leads with time, so a live load appends to its index's right edge (migration 0013).
readings = _fact(
    "readings",
    ("event_time", "device_id", "metric"),
    Column("device_id", String(64), nullable=False),
    Column("metric", String(24), nullable=False),
    Column("value", Float, nullable=False),
    # Screens read rollups and device_latest, never raw readings by region; rollups read them by time (the
    # key leads with it). A region-first index made every load touch one leaf per village (migration 0014).
    region_index=False,
)

waste_trips = _fact(
    "waste_trips",
    ("trip_id",),
    Column("trip_id", String(64), nullable=False),
    Column("tonnage", Float, nullable=False),
    Column("sorted_share", Float, comment="0..1"),
)

orders = _fact(
    "orders",
    ("order_id",),
    Column("order_id", String(64), nullable=False),
    Column("product", String(100), nullable=False),
    Column("quantity", Float),
    Column("amount", Float, nullable=False, comment="yuan"),
)

tourism = _fact(
    "tourism",
    ("record_id",),
    Column("record_id", String(64), nullable=False),
    Column("visitors", Integer, nullable=False),
    Column("homestay_bookings", Integer),
)

farm_output = _fact(
    "farm_output",
    ("record_id",),
    Column("record_id", String(64), nullable=False),
    Column("product", String(100), nullable=False),
    Column("quantity", Float, nullable=False),
    Column("unit", String(16)),
)

labour_pool = _fact(
    "labour_pool",
    ("region_code", "event_time", "status"),
    Column("status", String(16), nullable=False, comment="migrant | local | unemployed"),
    Column("people", Integer, nullable=False),
)

jobs = _fact(
    "jobs",
    ("posting_id",),
    Column("posting_id", String(64), nullable=False),
    Column("title", String(200)),
    Column("positions", Integer, nullable=False),
    Column("matched", Integer, nullable=False),
)

livelihood = _fact(
    "livelihood",
    ("event_id",),
    Column("event_id", String(64), nullable=False),
    Column("kind", String(24), nullable=False, comment="teleconsultation | online_class | training | culture_event"),
    Column("title", String(200)),
    Column("participants", Integer),
)

incidents = _fact(
    "incidents",
    ("incident_id",),
    Column("incident_id", String(64), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("status", String(16), nullable=False, comment="open | closed"),
)

bus_arrivals = _fact(
    "bus_arrivals",
    ("stop_id", "route", "direction", "event_time"),
    Column("stop_id", String(32), nullable=False),
    Column("route", String(32), nullable=False),
    Column("direction", String(64), nullable=False),
    Column("observed_at", DateTime(timezone=True)),
)

households = _fact(
    "households",
    ("household_code",),
    Column("household_code", String(32), nullable=False, comment="the 一户一码 QR code"),
    Column("head_name", String(50), comment="stored for masking only"),
    Column("head_phone", String(20), comment="stored for masking only"),
    Column("members", Integer),
)

points_ledger = _fact(
    "points_ledger",
    ("entry_id",),
    Column("entry_id", String(64), nullable=False),
    Column("household_code", String(32), nullable=False),
    Column(
        "source", String(16), nullable=False, comment="civility | waste_sorting | platform_use | volunteer | redemption"
    ),
    Column("points", Integer, nullable=False, comment="earned > 0, redeemed < 0"),
)

# --- ETL bookkeeping and rollups (migration 0002).

feed_runs = Table(
    "feed_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("feed", String(100), nullable=False, index=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False, comment="running | ok | failed | interrupted"),
    Column("rows_in", Integer, nullable=False, default=0),
    Column("loaded", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
    Column("quarantined", Integer, nullable=False, default=0),
    Column("late", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("watermark", Text),
    Column(
        "lag_seconds",
        Float,
        comment="commit time minus the newest event of the run's last batch: how far behind live",
    ),
    Column("host", String(255), comment="the host whose process ran it (migration 0015)"),
    Column("pid", Integer, comment="that process, so a run whose process died reads as interrupted"),
    Column("skipped", Integer, comment="title, footer and blank rows passed over: not data, not in rows_in"),
    Column("notes", Text, comment="what the run noticed about its files (header found on row 3, …), one a line"),
)

feed_state = Table(
    "feed_state",
    metadata,
    Column("feed", String(100), primary_key=True),
    Column("watermark", Text, comment="a file source's checkpoint (file, size, rows committed) is longer than 100"),
    Column("last_success_at", DateTime(timezone=True)),
    Column("cadence_seconds", Integer, comment="how often the feed is expected to deliver"),
    Column("dataset", String(50), comment="the dataset the feed fills (migration 0004)"),
)

feed_freshness = Table(
    "feed_freshness",
    metadata,
    Column("feed", String(100), primary_key=True),
    Column("region_code", String(12), primary_key=True),
    Column("last_event_time", DateTime(timezone=True), nullable=False),
    Column("last_loaded_at", DateTime(timezone=True), nullable=False),
)

rollups = Table(
    "rollups",
    metadata,
    Column("grain", String(8), primary_key=True, comment="hour | day | month"),
    Column("bucket", DateTime(timezone=True), primary_key=True, comment="start of the hour or day, UTC"),
    Column("region_code", String(12), primary_key=True, comment="village, township or county"),
    Column("measure", String(48), primary_key=True, comment="e.g. reading.pm25, cases.received"),
    Column("dimension", String(48), primary_key=True, comment="e.g. a category; '' for none"),
    Column("count", Integer, nullable=False),
    Column("total", Float, nullable=False),
    Column("min", Float),
    Column("max", Float),
    # Screens ask for one region's measures over a range of buckets; the primary key leads with the bucket,
    # which suits the ETL's "recompute these buckets" and not the screens. INCLUDE lets PostgreSQL answer
    # from the index alone (migration 0010).
    Index(
        "ix_rollups_region_measure",
        "region_code",
        "grain",
        "measure",
        "bucket",
        postgresql_include=["dimension", "count", "total"],
    ),
    # Village rankings of a whole province read one measure's buckets across regions.
    Index(
        "ix_rollups_measure_bucket", "grain", "measure", "bucket", "region_code", postgresql_include=["count", "total"]
    ),
)

# --- Weather forecasts (migration 0003): what the weather service says for a region and a coming time.

weather_forecasts = _fact(
    "weather_forecasts",
    ("region_code", "event_time"),
    Column("issued_at", DateTime(timezone=True), comment="when the forecast was made"),
    Column("condition", String(16), comment="晴, 多云, 阴, 小雨 … as the weather service writes it"),
    Column("temperature", Float, comment="°C"),
    Column("precipitation", Float, comment="probability 0..1"),
)

# --- Publicity and bus stops (migration 0008): content the village boards and bus-stop screens rotate, and
# the stops' names. A publicity item published for a county or township shows on every screen below it.
publicity = _fact(
    "publicity",
    ("item_id",),
    Column("item_id", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text),
    Column("valid_until", DateTime(timezone=True), comment="hidden after this time; NULL = until replaced"),
)

bus_stops = _fact(
    "bus_stops",
    ("stop_id",),
    Column("stop_id", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    Column("lon", Float),
    Column("lat", Float),
)

# --- Screens (migration 0005): registered screens and their heartbeats, written by the screens themselves.

screens = Table(
    "screens",
    metadata,
    Column("screen_id", String(64), primary_key=True),
    Column("kind", String(16), comment="county | board | stop | browser"),
    Column("region_code", String(12)),
    Column("profile", String(50)),
    Column("location", String(200), comment="where it hangs, for the people who go there"),
    Column("registered_at", DateTime(timezone=True)),
    Column(
        "token_hash",
        String(64),
        comment="SHA-256 (hex) of the screen's token; the token itself is never stored",
    ),  # migration 0016
)

screen_heartbeats = Table(
    "screen_heartbeats",
    metadata,
    Column("screen_id", String(64), primary_key=True),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("route", String(200)),
    Column("build", String(40), comment="the build of the page the screen runs"),
    Column("data_version", Integer, comment="the warehouse version the screen shows"),
    Column("js_heap_mb", Float),
    Column("beats", Integer, nullable=False, comment="heartbeats received since first seen"),
)

# --- The latest reading of each device and metric (migration 0006), kept by the ETL so screens can show
# device status and open alarms without reading raw readings.

device_latest = Table(
    "device_latest",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("metric", String(24), primary_key=True),
    Column("region_code", String(12), nullable=False, index=True),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("value", Float, nullable=False),
    # Alert rules are data (ALERTS_FILE): a rule "metric above/below a limit" is a range of this index, so a
    # province's breaking devices are a few index entries whatever the limits (migration 0018 replaced 0012's
    # partial index, whose predicate hard-coded the thresholds).
    Index("ix_device_latest_metric_value", "metric", "value", "region_code"),
)

# --- Who is looking (migration 0017): accounts with a role and a region scope, and the audit log.

ROLES = ("admin", "county", "township", "village", "viewer")

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True, comment="the login name"),
    Column("display_name", String(100), nullable=False),
    Column("role", String(16), nullable=False, comment="admin | county | township | village | viewer"),
    Column("scope", String(12), nullable=False, comment="the region code the user sees (and everything below it)"),
    Column("enabled", Integer, nullable=False, comment="1, or 0 for a disabled account"),
    Column("password_hash", Text, comment="Argon2id; NULL for an account that signs in only through OIDC"),
    Column("source", String(16), nullable=False, comment="local | oidc"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True)),
    Column(
        "session_epoch",
        Integer,
        comment="a session begun at another epoch is over; logout, new password, disabling raise it",
    ),
    Column("oidc_issuer", String(255), comment="single sign-on: the provider (its iss) of the account's person"),
    Column("oidc_subject", String(255), comment="single sign-on: the person's sub at that provider"),
    # An SSO account is its (issuer, subject): a preferred_username is whatever the provider lets someone pick.
    Index("ux_users_oidc_identity", "oidc_issuer", "oidc_subject", unique=True),
)
# Names differing only in case are one name (zhen, Zhen and ZHEN looked like one account to people): held by the
# database too, so two concurrent requests cannot both add a spelling.
Index("ux_users_name_folded", func.lower(users.c.name), unique=True)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column(
        "event",
        String(32),
        nullable=False,
        comment="login | login_failed | logout | scope_violation | export | user_changed | …",
    ),
    Column("user_name", String(64), comment="who (or the name tried, for a failed login)"),
    Column("address", String(64), comment="the client's address"),
    Column("detail", Text),
    # Lockout counts recent failures per account and per address; listings read by time.
    Index("ix_audit_log_event_at", "event", "at"),
    Index("ix_audit_log_at", "at"),
)

# --- Alerts (migration 0018): alerts opened by the rules of ALERTS_FILE, their history, and the notifications
# sent about them. An alert lives once per rule and subject (a device's metric, a case, a feed, a region's
# measure) until it resolves; the screens read the open ones, people acknowledge and resolve them.

ALERT_STATUSES = ("pending", "open", "acknowledged", "resolved")
# The alerts that are alive: one per rule and subject (the unique index below), and what the screens read.
ALERT_LIVE = "status <> 'resolved'"

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", String(64), nullable=False, comment="the rule's id in ALERTS_FILE"),
    Column("subject", String(200), nullable=False, comment="what the alert is about: device:ID:metric, case:ID, …"),
    Column("region_code", String(12), nullable=False, comment="the subject's region"),
    Column("name", String(100), nullable=False, comment="the rule's name when the alert opened (Chinese)"),
    Column("severity", String(16), nullable=False, comment="info | warning | major | critical"),
    Column(
        "status",
        String(16),
        nullable=False,
        comment="pending (holding for the rule's `for`) | open | acknowledged | resolved",
    ),
    Column("level", String(10), nullable=False, comment="the owner's level: village | township | county"),
    Column("owner_code", String(12), nullable=False, comment="the owner's region: the subject's region at level"),
    Column("value", Float, comment="the last value the rule saw"),
    Column("detail", Text, comment="what was seen, for people (Chinese)"),
    Column("since", DateTime(timezone=True), nullable=False, comment="when the condition was first seen"),
    Column("opened_at", DateTime(timezone=True), comment="NULL while pending"),
    Column("level_since", DateTime(timezone=True), comment="since when the owner has it (escalation counts from)"),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("acknowledged_by", String(64)),
    Column("ack_note", Text),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", String(64), comment="NULL when the condition cleared by itself"),
    Column("resolve_note", Text),
    Column(
        "clearing_since",
        DateTime(timezone=True),
        comment="since when the clear condition holds, while the rule's keep_for keeps the alert open",
    ),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index(
        "ux_alerts_live",
        "rule_id",
        "subject",
        unique=True,
        postgresql_where=text(ALERT_LIVE),
        sqlite_where=text(ALERT_LIVE),
    ),
    # The screens' open alerts of a scope, and the evaluator's live alerts of a rule, without the history.
    Index("ix_alerts_live_region", "region_code", postgresql_where=text(ALERT_LIVE), sqlite_where=text(ALERT_LIVE)),
    Index("ix_alerts_opened_at", "opened_at"),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False, comment="opened | acknowledged | escalated | resolved"),
    Column("actor", String(64), comment="the user; NULL for the evaluator"),
    Column("level", String(10), nullable=False, comment="the owner's level after the event"),
    Column("note", Text),
    Column("planned", Integer, nullable=False, comment="1 once its notifications are in the notifications table"),
    # The evaluator plans the notifications of new events, wherever they were written (CLI, screens).
    Index("ix_alert_events_unplanned", "id", postgresql_where=text("planned = 0"), sqlite_where=text("planned = 0")),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False),
    Column("event_id", Integer, nullable=False),
    Column("channel", String(64), nullable=False, comment="the channel's name in ALERTS_FILE"),
    Column("status", String(16), nullable=False, comment="pending | sending | sent | failed"),
    Column("attempts", Integer, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False, comment="not before: quiet hours' end, next retry"),
    Column("lease_until", DateTime(timezone=True), comment="while sending: when another process may take it over"),
    Column("sent_at", DateTime(timezone=True)),
    Column("error", Text, comment="the last failure"),
    Column("message", Text, nullable=False, comment="what is sent, as JSON (title, lines, alert)"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Migration 0022: a retry in any process skips the phones an SMS reached before another phone's refusal.
    Column(
        "reached",
        Text,
        comment="the parts delivered already, as a JSON list (an SMS's phones): any process's retry skips them",
    ),
    # One notification per state change and channel: a restarted evaluator finds it and never sends it again.
    UniqueConstraint("event_id", "channel", name="uq_notifications_event_channel"),
    Index("ix_notifications_status_due", "status", "due_at"),
    Index("ix_notifications_alert", "alert_id"),
)

# Overdue cases (due time passed, not closed) without reading every case: the open ones by due time.
Index(
    "ix_cases_open_due",
    cases.c.due_at,
    postgresql_where=text("status IN ('received', 'in_progress')"),
    sqlite_where=text("status IN ('received', 'in_progress')"),
)

# --- Every reference indicator of the pilot programme backed by data (migration 0019): the facts of the items
# that had none (农厕, 疫情防控, 政务服务, 民主议事/监督, 溯源, the labour pool's people), the programme's own
# reports (status per milestone, funds), and the programme as data with its monthly scores.

toilets = _fact(
    "toilets",
    ("record_id",),
    Column("record_id", String(64), nullable=False),
    Column("toilet_id", String(64), comment="the household toilet (or public toilet) the record is about"),
    Column("kind", String(16), nullable=False, comment="renovation | inspection | fault | desludging"),
    Column("repaired_at", DateTime(timezone=True), comment="faults: when the repair was done"),
    Column("detail", Text),
)

epidemic = _fact(
    "epidemic",
    ("region_code", "event_time", "kind"),
    Column("kind", String(24), nullable=False, comment="health_check | vaccination | monitoring_point"),
    Column("quantity", Integer, nullable=False, comment="people checked, doses given or points reporting"),
)

gov_services = _fact(
    "gov_services",
    ("application_id",),
    Column("application_id", String(64), nullable=False),
    Column("service", String(100), nullable=False, comment="the matter applied for (事项)"),
    Column("channel", String(16), comment="online | mobile | counter | proxy"),
    Column("mode", String(16), comment="single | joint (并联审批、协同办理)"),
    Column("status", String(16), nullable=False, comment="appointed | received | in_progress | completed"),
    Column("appointment_at", DateTime(timezone=True)),
    Column("received_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("feedback_at", DateTime(timezone=True)),
    Column("satisfaction", Integer, comment="1..5"),
)

deliberations = _fact(
    "deliberations",
    ("matter_id",),
    Column("matter_id", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("form", String(16), nullable=False, comment="online | assembly | representatives"),
    Column("status", String(16), nullable=False, comment="consulting | voting | decided | published"),
    Column("participants", Integer),
    Column("votes_for", Integer),
    Column("votes_against", Integer),
    Column("decided_at", DateTime(timezone=True)),
    Column("outcome", Text),
)

supervision_items = _fact(
    "supervision_items",
    ("item_id",),
    Column("item_id", String(64), nullable=False),
    Column("subject", String(16), nullable=False, comment="village_affairs | finance | projects | benefits | other"),
    Column("source", String(16), comment="villager | committee"),
    Column("title", String(200), nullable=False),
    Column("status", String(16), nullable=False, comment="received | in_progress | replied"),
    Column("replied_at", DateTime(timezone=True)),
    Column("satisfaction", Integer, comment="1..5"),
)

traceability = _fact(
    "traceability",
    ("record_id",),
    Column("record_id", String(64), nullable=False),
    Column("action", String(16), nullable=False, comment="issued | scanned"),
    Column("product", String(100), nullable=False),
    Column("batch", String(64)),
    Column("codes", Integer, nullable=False, comment="codes issued to the batch, or scans of them"),
)

labour_profiles = _fact(
    "labour_profiles",
    ("worker_id",),
    Column("worker_id", String(64), nullable=False, comment="the register's number; no name or ID number"),
    Column("status", String(16), nullable=False, comment="migrant | local | unemployed"),
    Column("education", String(16), comment="primary | junior | senior | vocational | college | bachelor | master"),
    Column("skills", String(200), comment="特长, as the register writes them"),
    Column("hobbies", String(200), comment="爱好"),
    Column("wanted_job", String(100), comment="求职意向"),
)

pilot_status = _fact(
    "pilot_status",
    ("programme_id", "pilot_id", "milestone", "period"),
    Column("programme_id", String(32), nullable=False),
    Column("pilot_id", String(32), nullable=False),
    Column("milestone", String(32), nullable=False, comment="the milestone's id or name in the programme"),
    Column("period", String(7), nullable=False, comment="YYYY-MM the report is for"),
    Column("status", String(16), nullable=False, comment="not_started | in_progress | done | delayed"),
    Column("note", Text),
)

pilot_funds = _fact(
    "pilot_funds",
    ("programme_id", "pilot_id", "period"),
    Column("programme_id", String(32), nullable=False),
    Column("pilot_id", String(32), nullable=False),
    Column("period", String(7), nullable=False, comment="YYYY-MM the figures stand at"),
    Column("allocated", Float, comment="万元, cumulative"),
    Column("disbursed", Float, nullable=False, comment="万元, cumulative"),
    Column("spent", Float, nullable=False, comment="万元, cumulative"),
    Column("note", Text),
)

programmes = Table(
    "programmes",
    metadata,
    Column("programme_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("document", Text, comment="the notice that set the programme up"),
    Column("issuer", String(100)),
    Column("region_code", String(12), nullable=False, comment="the region the programme covers (a city)"),
    Column("funds_per_pilot", Float, comment="万元 of linkage funds per pilot"),
    Column("digest", String(64), nullable=False, comment="SHA-256 of the files imported"),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

programme_pilots = Table(
    "programme_pilots",
    metadata,
    Column("programme_id", String(32), primary_key=True),
    Column("pilot_id", String(32), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("kind", String(10), nullable=False, comment="township | village"),
    Column("name", String(100), nullable=False, comment="as the programme's list writes it"),
    Column("county", String(50), nullable=False),
    Column("code", String(12), comment="the statistical code the list gives, if any"),
    Column("region_code", String(12), comment="the region the pilot is tracked under; NULL when none resolved"),
    Column("resolution", String(12), nullable=False, comment="code | name | ancestor | unresolved"),
    Column("note", Text),
    Index("ix_programme_pilots_region", "programme_id", "region_code"),
)

programme_milestones = Table(
    "programme_milestones",
    metadata,
    Column("programme_id", String(32), primary_key=True),
    Column("milestone_id", String(32), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("name", String(50), nullable=False),
    Column("month", String(7), nullable=False, comment="YYYY-MM the milestone belongs to"),
    Column("due_at", DateTime(timezone=True), nullable=False, comment="the end of its last local day"),
    Column("text", Text),
)

programme_items = Table(
    "programme_items",
    metadata,
    Column("programme_id", String(32), primary_key=True),
    Column("item_id", String(16), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("level", String(10), nullable=False, comment="township | village"),
    Column("area", String(50), nullable=False),
    Column("number", Integer, nullable=False),
    Column("name", String(50), nullable=False),
    Column("text", Text, nullable=False, comment="the reference indicator in the programme's own words"),
    Column("rules", Text, nullable=False, comment="the evidence rules as JSON, as the catalogue declares them"),
)

pilot_scores = Table(
    "pilot_scores",
    metadata,
    Column("programme_id", String(32), primary_key=True),
    Column("month", String(7), primary_key=True, comment="YYYY-MM: the month's last score is kept"),
    Column("pilot_id", String(32), primary_key=True),
    Column("item_id", String(16), primary_key=True),
    Column("region_code", String(12), nullable=False),
    Column("status", String(8), nullable=False, comment="met | partly | unmet | no_data"),
    Column("evidence", Text, nullable=False, comment="JSON: per rule what, measure, value, period, rule, status"),
    Column("as_of", DateTime(timezone=True), nullable=False, comment="the moment the evidence was read at"),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    # A pilot's monthly trend reads its rows across months.
    Index("ix_pilot_scores_pilot", "programme_id", "pilot_id", "month"),
)

# --- Households and the village office (migration 0020). The households' 门牌 and 组 (for the QR labels), the
# villages' redemption catalogue (a dataset like any other), each household's code (only its hash), and the
# operational write side: what households and clerks do is written to the intake tables below and reaches the
# facts through ordinary SQL feeds (`type = "sql"` on updated_at), so the ETL stays the only writer of facts.
# Intake times are ISO 8601 text in UTC with their zone ("2026-12-08T02:03:04.123456+00:00", fixed width): a
# feed reads them raw, and text with its zone reads, orders and compares alike on SQLite and PostgreSQL.

households.append_column(Column("door_plate", String(50), comment="门牌, e.g. 幸福路12号"))
households.append_column(Column("village_group", String(20), comment="组 (村民小组), e.g. 3组"))

catalogue_items = _fact(
    "catalogue_items",
    ("item_id",),
    Column("item_id", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("points", Integer, nullable=False, comment="points one redemption costs"),
    Column("note", String(200), comment="what the village says of it: where to collect it, how many"),
    Column("status", String(8), nullable=False, comment="on | off (offered or withdrawn)"),
)

household_tokens = Table(
    "household_tokens",
    metadata,
    Column("household_code", String(32), primary_key=True),
    Column("region_code", String(12), nullable=False, comment="the household's village when the code was issued"),
    Column("token_hash", String(64), nullable=False, comment="SHA-256 (hex) of the code's token; never the token"),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("issued_by", String(64)),
    Index("ux_household_tokens_hash", "token_hash", unique=True),
)

# One row: every intake write takes it first, so intake writers commit one at a time and in the order of their
# updated_at (a feed that read up to a time never misses a row committed later with an earlier time).
intake_clock = Table(
    "intake_clock",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False, comment="the last updated_at handed out"),
)

# Rate limits shared by every worker and host: one row per write in the last hour, counted per subject.
intake_hits = Table(
    "intake_hits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(80), nullable=False, comment="h:<household code> or a:<address>"),
    Column("at", String(32), nullable=False),
    Index("ix_intake_hits_subject_at", "subject", "at"),
    Index("ix_intake_hits_at", "at"),
)

intake_cases = Table(
    "intake_cases",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("household_code", String(32), nullable=False),
    Column("region_code", String(12), nullable=False),
    Column("topic", String(16), nullable=False, comment="the household's 类别 (environment, roads, …)"),
    Column("category", String(16), nullable=False, comment="conflict | dispute | request | appeal"),
    Column("title", String(100), nullable=False, comment="what public screens show: the topic's name"),
    Column("text", Text, nullable=False, comment="the household's own words: the household and the office only"),
    Column("callback_phone", String(20)),
    Column("status", String(16), nullable=False, comment="received | in_progress | closed | rated"),
    Column("escalation", String(10), nullable=False, comment="village | township | county: who handles it"),
    Column("created_at", String(32), nullable=False),
    Column("handled_at", String(32)),
    Column("closed_at", String(32)),
    Column("rated_at", String(32)),
    Column("due_at", String(32), nullable=False),
    Column("satisfaction", Integer, comment="1..5"),
    Column("idempotency_key", String(64), nullable=False, comment="the form's key: a double tap makes one case"),
    Column("address", String(64)),
    Column("updated_at", String(32), nullable=False),
    UniqueConstraint("household_code", "idempotency_key", name="uq_intake_cases_idempotency"),
    Index("ix_intake_cases_updated_at", "updated_at"),
    Index("ix_intake_cases_region", "region_code", "created_at"),
    Index("ix_intake_cases_household", "household_code", "created_at"),
)

intake_case_events = Table(
    "intake_case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(64), nullable=False),
    Column("at", String(32), nullable=False),
    Column("kind", String(16), nullable=False, comment="submitted | accepted | updated | escalated | closed | rated"),
    Column("actor", String(64), comment="the clerk; NULL for the household"),
    Column("note", Text),
    Index("ix_intake_case_events_case", "case_id", "id"),
)

intake_files = Table(
    "intake_files",
    metadata,
    Column("file_id", String(40), primary_key=True, comment="random: the stored file's name under UPLOADS_DIR"),
    Column("owner", String(16), nullable=False, comment="case | notice"),
    Column("owner_id", String(64), nullable=False),
    Column("region_code", String(12), nullable=False),
    Column("name", String(200), nullable=False, comment="the name it was uploaded under"),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
    Index("ix_intake_files_owner", "owner", "owner_id"),
)

intake_notices = Table(
    "intake_notices",
    metadata,
    Column("notice_id", String(64), primary_key=True),
    Column("region_code", String(12), nullable=False),
    Column("kind", String(24), nullable=False, comment="village_affairs | finance | party_affairs"),
    Column("title", String(200), nullable=False),
    Column("body", Text),
    Column("direction", String(8), comment="finance lines: income | expense"),
    Column("amount", Float, comment="finance lines, yuan"),
    Column("period", String(7), comment="YYYY-MM a finance line belongs to"),
    Column("published_at", String(32), nullable=False),
    Column("author", String(64), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Index("ix_intake_notices_updated_at", "updated_at"),
    Index("ix_intake_notices_region", "region_code", "published_at"),
)

intake_deliberations = Table(
    "intake_deliberations",
    metadata,
    Column("matter_id", String(64), primary_key=True),
    Column("region_code", String(12), nullable=False),
    Column("title", String(200), nullable=False),
    Column("form", String(16), nullable=False, comment="online | assembly | representatives"),
    Column("status", String(16), nullable=False, comment="consulting | voting | decided | published"),
    Column("participants", Integer),
    Column("votes_for", Integer),
    Column("votes_against", Integer),
    Column("started_at", String(32), nullable=False),
    Column("decided_at", String(32)),
    Column("outcome", Text),
    Column("author", String(64), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Index("ix_intake_deliberations_updated_at", "updated_at"),
    Index("ix_intake_deliberations_region", "region_code", "started_at"),
)

intake_supervision = Table(
    "intake_supervision",
    metadata,
    Column("item_id", String(64), primary_key=True),
    Column("region_code", String(12), nullable=False),
    Column("subject", String(16), nullable=False, comment="village_affairs | finance | projects | benefits | other"),
    Column("source", String(16), nullable=False, comment="villager | committee"),
    Column("title", String(200), nullable=False),
    Column("status", String(16), nullable=False, comment="received | in_progress | replied"),
    Column("reply", Text),
    Column("raised_at", String(32), nullable=False),
    Column("replied_at", String(32)),
    Column("author", String(64), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Index("ix_intake_supervision_updated_at", "updated_at"),
    Index("ix_intake_supervision_region", "region_code", "raised_at"),
)

intake_redemptions = Table(
    "intake_redemptions",
    metadata,
    Column("redemption_id", String(64), primary_key=True),
    Column("household_code", String(32), nullable=False),
    Column("region_code", String(12), nullable=False),
    Column("item_id", String(64), nullable=False),
    Column("item_name", String(100), nullable=False),
    Column("points", Integer, nullable=False, comment="points it costs (> 0); the ledger entry is its negative"),
    Column("status", String(16), nullable=False, comment="requested | confirmed | rejected"),
    Column("requested_at", String(32), nullable=False),
    Column("decided_at", String(32)),
    Column("decided_by", String(64)),
    Column("note", Text),
    Column("idempotency_key", String(64), nullable=False),
    Column("address", String(64)),
    Column("updated_at", String(32), nullable=False),
    UniqueConstraint("household_code", "idempotency_key", name="uq_intake_redemptions_idempotency"),
    Index("ix_intake_redemptions_updated_at", "updated_at"),
    Index("ix_intake_redemptions_region", "region_code", "status"),
    Index("ix_intake_redemptions_household", "household_code", "requested_at"),
)

intake_catalogue = Table(
    "intake_catalogue",
    metadata,
    Column("item_id", String(64), primary_key=True),
    Column("region_code", String(12), nullable=False),
    Column("name", String(100), nullable=False),
    Column("points", Integer, nullable=False),
    Column("note", String(200)),
    Column("status", String(8), nullable=False, comment="on | off"),
    Column("since", String(32), nullable=False, comment="when the office first offered it (the fact's event time)"),
    Column("author", String(64), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Index("ix_intake_catalogue_updated_at", "updated_at"),
)
