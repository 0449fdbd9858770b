"""A synthetic province on PostgreSQL for bench/scale: 20,000 villages under 100 counties, 100,000 sensors,
a year of daily, monthly and a week of hourly rollups at every level, and yesterday's raw 5-minute readings
for one county (a whole day, whatever the hour the benchmark runs at).

Everything is generated inside PostgreSQL (generate_series and hashes, no Python loop over rows); then
each upper level is summed from the one below it, so every level agrees as the ETL's rollups do.

Built to fit in 15 minutes on two vCPUs:
- one builder per CPU (at most one per prefecture) generates and sums its prefectures at once, each in a
  session of its own; a level is summed from a temporary table of the level below, so no level rereads
  the whole rollups table;
- the rollups table is UNLOGGED (the database is dropped after the run): its rows skip the write-ahead
  log, and reads, which are what the benchmark measures, are the same as from a logged table;
- its primary key and screen indexes are built once, at the end, rather than maintained row by row.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, text

from etl.rollups import day_of, month_of

PROVINCE = "980000000000"
RAW_COUNTY = "980101000000"
PREFECTURES, COUNTIES, TOWNSHIPS_PER_COUNTY, VILLAGES_PER_TOWNSHIP = 8, 100, 10, 20
DEVICE_KINDS = [("bin", "fill_level"), ("air", "aqi"), ("air", "pm25"), ("camera", "online"), ("soil", "soil_moisture")]
# (measure, dimension, share of villages with a row on a given day, typical count, typical value per count)
DAILY = [
    ("reading.aqi", "", 1.0, 24, 60.0),
    ("reading.fill_level", "", 1.0, 24, 45.0),
    ("reading.online", "", 0.5, 24, 0.95),
    ("cases.received", "conflict", 0.08, 1, 1.0),
    ("cases.received", "dispute", 0.08, 1, 1.0),
    ("cases.received", "request", 0.12, 1, 1.0),
    ("cases.received", "appeal", 0.05, 1, 1.0),
    ("cases.closed", "request", 0.2, 1, 1.0),
    ("cases.closed_on_time", "", 0.18, 1, 1.0),
    ("cases.satisfaction", "", 0.15, 1, 4.5),
    ("cases.received_by_module", "general", 0.25, 1, 1.0),
    ("party.activities", "branch_meeting", 0.03, 1, 1.0),
    ("ecommerce.sales", "茶叶", 0.3, 3, 180.0),
    ("tourism.visitors", "", 0.2, 1, 150.0),
    ("livelihood.events", "teleconsultation", 0.05, 1, 1.0),
    ("waste.tonnage", "", 0.5, 2, 1.2),
    ("waste.sorted_share", "", 0.5, 2, 0.8),
    ("points.earned", "civility", 0.4, 5, 6.0),
    ("security.incidents", "theft", 0.02, 1, 1.0),
    # The measures the pilot programme's evidence rules read (bench/_pilots.py scores them)
    ("disclosures.published", "party_affairs", 0.01, 1, 1.0),
    ("disclosures.published", "village_affairs", 0.05, 1, 1.0),
    ("gov.appointments", "", 0.05, 1, 1.0),
    ("gov.received", "online", 0.08, 1, 1.0),
    ("gov.joint", "", 0.02, 1, 1.0),
    ("gov.completed", "", 0.07, 1, 1.0),
    ("gov.feedback", "", 0.04, 1, 1.0),
    ("democracy.supervision", "finance", 0.01, 1, 1.0),
    ("democracy.deliberations", "online", 0.01, 1, 1.0),
    ("cases.received_by_module", "online_mediation", 0.02, 1, 1.0),
    ("livelihood.events", "online_class", 0.05, 1, 1.0),
    ("livelihood.events", "culture_event", 0.05, 1, 1.0),
    ("livelihood.events", "training", 0.05, 1, 1.0),
    ("livelihood.participants", "training", 0.05, 1, 25.0),
    ("toilets.records", "renovation", 0.01, 2, 1.0),
    ("toilets.records", "inspection", 0.1, 1, 1.0),
    ("toilets.records", "fault", 0.02, 1, 1.0),
    ("toilets.repaired", "", 0.018, 1, 1.0),
    ("epidemic.quantity", "monitoring_point", 0.5, 1, 2.0),
    ("epidemic.quantity", "health_check", 0.3, 1, 80.0),
    ("trace.codes", "issued", 0.03, 1, 500.0),
    ("farm.output", "玉米", 0.05, 1, 800.0),
    ("tourism.bookings", "", 0.1, 1, 4.0),
    ("jobs.matched", "", 0.05, 1, 2.0),
    ("labour.people", "migrant", 0.3, 1, 120.0),
    ("labour.registered", "junior", 0.02, 1, 1.0),
    ("reading.cod", "", 0.05, 24, 40.0),
    ("reading.soil_moisture", "", 0.12, 24, 35.0),
]
HOURLY = ["reading.aqi", "reading.fill_level"]
# The start (UTC) of a day bucket's local (UTC+8) month, as etl.rollups.month_of computes it.
MONTH_OF_BUCKET = (
    "(date_trunc('month', (bucket AT TIME ZONE 'UTC') + interval '8 hours') - interval '8 hours') AT TIME ZONE 'UTC'"
)
COLUMNS = "grain, bucket, region_code, measure, dimension, count, total, min, max"
# Each level above the village: the length of its code's own prefix, and the level its rows are summed from.
LEVELS = (("township", 9, "village"), ("county", 6, "township"), ("city", 4, "county"))
# The city rows of every builder, for the province's sum once all builders are done.
CITY_ROWS = "province_build_city_rows"
KINDS = ", ".join(f"({k}, '{kind}', '{metric}')" for k, (kind, metric) in enumerate(DEVICE_KINDS))
VILLAGES = "SELECT code FROM regions WHERE level = 'village'"
VILLAGE_ROW = "right(region_code, 3) <> '000'"  # a rollup row of a village, by the shape of its code
REGIONS = f"""
        WITH counties AS (
            SELECT n, '98' || lpad((1 + (n - 1) % {PREFECTURES})::text, 2, '0')
                          || lpad((1 + (n - 1) / {PREFECTURES})::text, 2, '0') AS prefix
            FROM generate_series(1, {COUNTIES}) n
        ), townships AS (
            SELECT c.prefix || lpad(t::text, 3, '0') AS prefix, c.prefix AS county
            FROM counties c, generate_series(1, {TOWNSHIPS_PER_COUNTY}) t
        )
        INSERT INTO regions (code, name, level, parent_code, households, population, updated_at)
        SELECT '{PROVINCE}', '示范省', 'province', NULL, NULL::int, NULL::int, :now
        UNION ALL
        SELECT '98' || lpad(p::text, 2, '0') || '00000000', '第' || p || '市', 'city', '{PROVINCE}', NULL, NULL, :now
        FROM generate_series(1, {PREFECTURES}) p
        UNION ALL
        SELECT prefix || '000000', '第' || n || '县', 'county', left(prefix, 4) || '00000000', NULL, NULL, :now
        FROM counties
        UNION ALL
        SELECT prefix || '000', '第' || right(prefix, 3) || '镇', 'township', county || '000000', NULL, NULL, :now
        FROM townships
        UNION ALL
        SELECT t.prefix || lpad(v::text, 3, '0'), '第' || v || '村', 'village', t.prefix || '000', 300, 1000, :now
        FROM townships t, generate_series(1, {VILLAGES_PER_TOWNSHIP}) v
        """


def _step(log: Callable[[str], None], what: str, connection: Connection, sql: str, **params) -> int:
    started = time.perf_counter()
    rows = connection.execute(text(sql), params).rowcount
    log(f"  {what}: {rows:,} rows in {time.perf_counter() - started:.1f} s")
    return rows


def builders(cpus: int | None = None) -> list[list[str]]:
    """The prefectures' code prefixes ('9801' …) dealt round-robin to one builder per CPU."""
    count = max(1, min(PREFECTURES, cpus or os.cpu_count() or 1))
    prefixes = [f"98{p:02d}" for p in range(1, PREFECTURES + 1)]
    return [prefixes[k::count] for k in range(count)]


def _build_prefectures(engine: Engine, prefixes: list[str], now: datetime, days: int, log) -> dict[str, int]:
    """Generate the village rollups of some prefectures and sum them up to their cities; returns row counts."""
    counts: dict[str, int] = {}
    today = day_of(now)  # screens' days are local (UTC+8) days
    measures = ", ".join(f"('{m}', '{d}', {share}, {n}, {value})" for m, d, share, n, value in DAILY)
    villages = f"{VILLAGES} AND left(code, 4) = ANY(:prefixes)"
    name = "+".join(prefixes)

    def step(what: str, sql: str, **params) -> int:
        return _step(lambda line: log(f"[{name}]{line}"), what, connection, sql, prefixes=prefixes, **params)

    with engine.begin() as connection:
        # Temporary tables are written through the session's own buffers: room for a prefecture's levels. The
        # month and township sums of half a province's year are 2-3M groups each: in memory, not spilled.
        connection.execute(text("SET LOCAL temp_buffers = '512MB'"))
        connection.execute(text("SET LOCAL work_mem = '1GB'"))
        connection.execute(
            text(f"CREATE TEMP TABLE village_rows ON COMMIT DROP AS SELECT {COLUMNS} FROM rollups WITH NO DATA")
        )
        # One hash per village, measure and dimension, stirred with the day's number: hashing a text per row
        # (the day formatted) cost as much as the insert.
        counts["rollups (village days)"] = step(
            "village daily rollups",
            f"""INSERT INTO village_rows ({COLUMNS})
            SELECT 'day', :first + d * interval '1 day', vm.code, vm.measure, vm.dimension, vm.n,
                   vm.n * vm.value * (0.5 + (h % 100) / 100.0), vm.value * 0.2, vm.value * 2
            FROM (SELECT v.code, m.*, hashtext(v.code || m.measure || m.dimension)::bigint AS seed
                  FROM ({villages}) v, (VALUES {measures}) AS m(measure, dimension, share, n, value)) vm
            CROSS JOIN generate_series(0, :days - 1) d
            CROSS JOIN LATERAL (SELECT hashint8(vm.seed * 1000 + d) & 2147483647 AS h) hashed
            WHERE h % 1000 < vm.share * 1000""",
            first=today - timedelta(days=days - 1),
            days=days,
        )
        counts["rollups (village months)"] = step(
            "village monthly rollups summed from the days",
            f"""INSERT INTO village_rows ({COLUMNS})
            SELECT 'month', {MONTH_OF_BUCKET}, region_code, measure, dimension, sum(count), sum(total), min(min),
                   max(max)
            FROM village_rows WHERE grain = 'day' GROUP BY {MONTH_OF_BUCKET}, region_code, measure, dimension""",
        )
        counts["rollups (village devices)"] = step(
            "devices installed per village, by kind (month rollups)",
            f"""INSERT INTO village_rows ({COLUMNS})
            SELECT 'month', :month, v.code, 'devices.installed', d.kind, count(*), count(*), NULL, NULL
            FROM ({villages}) v, (VALUES {KINDS}) AS d(k, kind, metric)
            GROUP BY v.code, d.kind""",
            month=month_of(now - timedelta(days=400)),
        )
        counts["rollups (village hours)"] = step(
            "village hourly rollups",
            f"""INSERT INTO village_rows ({COLUMNS})
            SELECT 'hour', hour, v.code, m.measure, '', 12, 12 * 50.0, 10, 90
            FROM ({villages}) v
            CROSS JOIN generate_series(:first, :now, interval '1 hour') hour
            CROSS JOIN (VALUES {", ".join(f"('{m}')" for m in HOURLY)}) AS m(measure)""",
            first=(now - timedelta(days=7)).replace(minute=0, second=0, microsecond=0),
            now=now,
        )
        step("village rows into rollups", f"INSERT INTO rollups ({COLUMNS}) SELECT {COLUMNS} FROM village_rows")
        for level, length, below in LEVELS:
            counts[f"rollups ({level})"] = step(
                f"{level} rollups summed from the {below} rows",
                f"""CREATE TEMP TABLE {level}_rows ON COMMIT DROP AS
                SELECT grain, bucket, rpad(left(region_code, {length}), 12, '0') AS region_code, measure, dimension,
                       sum(count)::int AS count, sum(total) AS total, min(min) AS min, max(max) AS max
                FROM {below}_rows GROUP BY grain, bucket, left(region_code, {length}), measure, dimension""",
            )
            connection.execute(text(f"INSERT INTO rollups ({COLUMNS}) SELECT {COLUMNS} FROM {level}_rows"))
        connection.execute(text(f"INSERT INTO {CITY_ROWS} SELECT {COLUMNS} FROM city_rows"))
    return counts


def _index_rollups(connection: Connection, log) -> None:
    """Build the rollups' primary key and the screens' covering indexes (as the migrations define them)."""
    started = time.perf_counter()
    connection.execute(
        text(
            "ALTER TABLE rollups ADD CONSTRAINT rollups_pkey "
            "PRIMARY KEY (grain, bucket, region_code, measure, dimension)"
        )
    )
    connection.execute(
        text(
            "CREATE INDEX ix_rollups_region_measure ON rollups (region_code, grain, measure, bucket) "
            "INCLUDE (dimension, count, total)"
        )
    )
    connection.execute(
        text(
            "CREATE INDEX ix_rollups_measure_bucket ON rollups (grain, measure, bucket, region_code) "
            "INCLUDE (count, total)"
        )
    )
    log(f"  rollups primary key and screen indexes built in {time.perf_counter() - started:.1f} s")


def build_province(engine: Engine, now: datetime, days: int, log: Callable[[str], None] = print) -> dict:
    """Fill a freshly migrated warehouse; returns the row counts per table."""
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE rollups DROP CONSTRAINT rollups_pkey"))
        connection.execute(text("DROP INDEX ix_rollups_region_measure, ix_rollups_measure_bucket"))
        connection.execute(text("ALTER TABLE rollups SET UNLOGGED"))
        connection.execute(text(f"CREATE UNLOGGED TABLE {CITY_ROWS} AS SELECT {COLUMNS} FROM rollups WITH NO DATA"))
        counts["regions"] = _step(log, "regions", connection, REGIONS, now=now)
        counts["devices"] = _step(
            log,
            "devices",
            connection,
            f"""INSERT INTO devices (device_id, kind, name, region_code, event_time, loaded_at)
            SELECT 'D' || v.code || k, kind, kind || k, v.code, :since, :now
            FROM ({VILLAGES}) v, (VALUES {KINDS}) AS d(k, kind, metric)""",
            since=now - timedelta(days=400),
            now=now,
        )
        counts["device_latest"] = _step(
            log,
            "device_latest",
            connection,
            f"""INSERT INTO device_latest (device_id, metric, region_code, event_time, value)
            SELECT 'D' || v.code || k, metric, v.code, :now - (abs(hashtext(v.code || k)) % 600) * interval '1 second',
                   CASE metric WHEN 'online' THEN 1 ELSE abs(hashtext(v.code || metric)) % 90 END
            FROM ({VILLAGES}) v, (VALUES {KINDS}) AS d(k, kind, metric)""",
            now=now,
        )
    parts = builders()
    log(f"  {len(parts)} builders: " + ", ".join("+".join(part) for part in parts))
    with ThreadPoolExecutor(len(parts)) as pool:
        for built in pool.map(lambda part: _build_prefectures(engine, part, now, days, log), parts):
            for key, rows in built.items():
                counts[key] = counts.get(key, 0) + rows
    today = day_of(now)
    with engine.begin() as connection:
        counts["rollups (province)"] = _step(
            log,
            "province rollups summed from the city rows",
            connection,
            f"""INSERT INTO rollups ({COLUMNS})
            SELECT grain, bucket, '{PROVINCE}', measure, dimension, sum(count), sum(total), min(min), max(max)
            FROM {CITY_ROWS} GROUP BY grain, bucket, measure, dimension""",
        )
        connection.execute(text(f"DROP TABLE {CITY_ROWS}"))
        _index_rollups(connection, log)
        counts["readings (raw, one county)"] = _step(
            log,
            "raw 5-minute readings of one county for yesterday (a whole local day)",
            connection,
            f"""INSERT INTO readings (device_id, metric, value, region_code, event_time, loaded_at)
            SELECT 'D' || v.code || k, metric, abs(hashtext(v.code || k || t::text)) % 90, v.code, t, :now
            FROM ({VILLAGES} AND code LIKE '{RAW_COUNTY[:6]}%') v, (VALUES {KINDS}) AS d(k, kind, metric),
                 generate_series(:yesterday, :today - interval '5 minutes', interval '5 minutes') t""",
            yesterday=today - timedelta(days=1),
            today=today,
            now=now,
        )
        counts["cases"] = _step(
            log,
            "cases (ten per village)",
            connection,
            f"""INSERT INTO cases (case_id, category, module, channel, title, reporter_name, status, region_code,
                                   event_time, loaded_at)
            SELECT 'C' || v.code || n, 'request', 'general', CASE WHEN n % 3 = 0 THEN 'visit' ELSE 'qr_code' END,
                   '第' || n || '件', '张三明', 'received', v.code,
                   :now - (abs(hashtext(v.code || n)) % 43200) * interval '1 minute', :now
            FROM ({VILLAGES}) v, generate_series(1, 10) n""",
            now=now,
        )
    return counts


def disagreements(connection: Connection, now: datetime) -> list[str]:
    """The measures whose province rollup differs from the sum of its villages' in this month, yesterday or
    the last whole hour (empty when every level was summed right)."""
    buckets = {
        "month": month_of(now),
        "day": day_of(now) - timedelta(days=1),
        "hour": now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1),
    }
    rows = connection.execute(
        text(
            f"""SELECT grain, measure, dimension,
                   sum(count) FILTER (WHERE region_code = '{PROVINCE}'), sum(count) FILTER (WHERE {VILLAGE_ROW}),
                   sum(total) FILTER (WHERE region_code = '{PROVINCE}'), sum(total) FILTER (WHERE {VILLAGE_ROW})
            FROM rollups
            WHERE (grain = 'month' AND bucket = :month) OR (grain = 'day' AND bucket = :day)
               OR (grain = 'hour' AND bucket = :hour)
            GROUP BY grain, measure, dimension"""
        ),
        buckets,
    ).all()
    return [
        f"{grain} {measure}/{dimension}: province {count}, {total} against villages {v_count}, {v_total}"
        for grain, measure, dimension, count, v_count, total, v_total in rows
        if count != v_count or abs((total or 0) - (v_total or 0)) > 1e-6 * max(1.0, abs(v_total or 0))
    ] or ([] if rows else ["no rollups in this month, yesterday or the last hour"])
