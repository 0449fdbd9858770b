"""A synthetic province on PostgreSQL for bench/scale: 20,000 villages under 100 counties, 100,000 sensors,
a year of daily, monthly and a week of hourly rollups at every level, and yesterday's raw 5-minute readings
for one county (a whole day, whatever the hour the benchmark runs at).

Everything is generated inside PostgreSQL (generate_series and hashes, no Python loop over rows); then
each upper level is summed from the one below it, so every level agrees as the ETL's rollups do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Connection, text

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
]
HOURLY = ["reading.aqi", "reading.fill_level"]
# The start (UTC) of a day bucket's local (UTC+8) month, as etl.rollups.month_of computes it.
MONTH_OF_BUCKET = (
    "(date_trunc('month', (bucket AT TIME ZONE 'UTC') + interval '8 hours') - interval '8 hours') AT TIME ZONE 'UTC'"
)
# The rollup rows of one level, by the shape of their codes.
ROWS_OF = {
    "village": "right(region_code, 3) <> '000'",
    "township": "right(region_code, 3) = '000' AND substr(region_code, 7, 3) <> '000'",
    "county": "right(region_code, 6) = '000000' AND substr(region_code, 5, 2) <> '00'",
    "city": "right(region_code, 8) = '00000000' AND substr(region_code, 3, 2) <> '00'",
}


def _step(log: Callable[[str], None], what: str, connection: Connection, sql: str, **params) -> int:
    started = time.perf_counter()
    rows = connection.execute(text(sql), params).rowcount
    log(f"  {what}: {rows:,} rows in {time.perf_counter() - started:.1f} s")
    return rows


def build_province(connection: Connection, now: datetime, days: int, log: Callable[[str], None] = print) -> dict:
    """Fill a freshly migrated warehouse; returns the row counts per table."""
    counts: dict[str, int] = {}
    # Build the rollups' indexes once, at the end, rather than maintain them row by row.
    connection.execute(text("ALTER TABLE rollups DROP CONSTRAINT rollups_pkey"))
    connection.execute(text("DROP INDEX ix_rollups_region_measure, ix_rollups_measure_bucket"))
    counts["regions"] = _step(
        log,
        "regions",
        connection,
        f"""
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
        """,
        now=now,
    )
    kinds = ", ".join(f"({k}, '{kind}', '{metric}')" for k, (kind, metric) in enumerate(DEVICE_KINDS))
    villages = "SELECT code FROM regions WHERE level = 'village'"
    counts["devices"] = _step(
        log,
        "devices",
        connection,
        f"""INSERT INTO devices (device_id, kind, name, region_code, event_time, loaded_at)
        SELECT 'D' || v.code || k, kind, kind || k, v.code, :since, :now
        FROM ({villages}) v, (VALUES {kinds}) AS d(k, kind, metric)""",
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
        FROM ({villages}) v, (VALUES {kinds}) AS d(k, kind, metric)""",
        now=now,
    )
    measures = ", ".join(
        f"('{measure}', '{dimension}', {share}, {n}, {value})" for measure, dimension, share, n, value in DAILY
    )
    today = day_of(now)  # screens' days are local (UTC+8) days
    counts["rollups (village days)"] = _step(
        log,
        "village daily rollups",
        connection,
        f"""INSERT INTO rollups (grain, bucket, region_code, measure, dimension, count, total, min, max)
        SELECT 'day', day, v.code, m.measure, m.dimension, m.n, m.n * m.value * (0.5 + (abs(h) % 100) / 100.0),
               m.value * 0.2, m.value * 2
        FROM ({villages}) v
        CROSS JOIN generate_series(:first, :today, interval '1 day') day
        CROSS JOIN (VALUES {measures}) AS m(measure, dimension, share, n, value)
        CROSS JOIN LATERAL (SELECT hashtext(v.code || m.measure || m.dimension || day::text) AS h) hashed
        WHERE abs(h) % 1000 < m.share * 1000""",
        first=today - timedelta(days=days - 1),
        today=today,
    )
    counts["rollups (village months)"] = _step(
        log,
        "village monthly rollups summed from the days",
        connection,
        f"""INSERT INTO rollups (grain, bucket, region_code, measure, dimension, count, total, min, max)
        SELECT 'month', {MONTH_OF_BUCKET}, region_code, measure, dimension, sum(count), sum(total), min(min), max(max)
        FROM rollups WHERE grain = 'day'
        GROUP BY {MONTH_OF_BUCKET}, region_code, measure, dimension""",
    )
    counts["rollups (village devices)"] = _step(
        log,
        "devices installed per village, by kind (month rollups)",
        connection,
        f"""INSERT INTO rollups (grain, bucket, region_code, measure, dimension, count, total, min, max)
        SELECT 'month', :month, v.code, 'devices.installed', d.kind, count(*), count(*), NULL, NULL
        FROM ({villages}) v, (VALUES {kinds}) AS d(k, kind, metric)
        GROUP BY v.code, d.kind""",
        month=month_of(now - timedelta(days=400)),
    )
    counts["rollups (village hours)"] = _step(
        log,
        "village hourly rollups",
        connection,
        f"""INSERT INTO rollups (grain, bucket, region_code, measure, dimension, count, total, min, max)
        SELECT 'hour', hour, v.code, m.measure, '', 12, 12 * 50.0, 10, 90
        FROM ({villages}) v
        CROSS JOIN generate_series(:first, :now, interval '1 hour') hour
        CROSS JOIN (VALUES {", ".join(f"('{m}')" for m in HOURLY)}) AS m(measure)""",
        first=(now - timedelta(days=7)).replace(minute=0, second=0, microsecond=0),
        now=now,
    )
    # Each level sums the one below it: far fewer rows to read than summing the villages every time.
    for level, length, below in (
        ("township", 9, "village"),
        ("county", 6, "township"),
        ("city", 4, "county"),
        ("province", 2, "city"),
    ):
        rows_below = ROWS_OF[below]
        counts[f"rollups ({level})"] = _step(
            log,
            f"{level} rollups summed from the {below} rows",
            connection,
            f"""INSERT INTO rollups (grain, bucket, region_code, measure, dimension, count, total, min, max)
            SELECT grain, bucket, rpad(left(region_code, {length}), 12, '0'), measure, dimension,
                   sum(count), sum(total), min(min), max(max)
            FROM rollups WHERE {rows_below}
            GROUP BY grain, bucket, left(region_code, {length}), measure, dimension""",
        )
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
    counts["readings (raw, one county)"] = _step(
        log,
        "raw 5-minute readings of one county for yesterday (a whole local day)",
        connection,
        f"""INSERT INTO readings (device_id, metric, value, region_code, event_time, loaded_at)
        SELECT 'D' || v.code || k, metric, abs(hashtext(v.code || k || t::text)) % 90, v.code, t, :now
        FROM ({villages} AND code LIKE '{RAW_COUNTY[:6]}%') v, (VALUES {kinds}) AS d(k, kind, metric),
             generate_series(:yesterday, :today - interval '5 minutes', interval '5 minutes') t""",
        yesterday=today - timedelta(days=1),
        today=today,
        now=now,
    )
    counts["cases"] = _step(
        log,
        "cases (ten per village)",
        connection,
        f"""INSERT INTO cases (case_id, category, module, title, reporter_name, status, region_code, event_time,
                               loaded_at)
        SELECT 'C' || v.code || n, 'request', 'general', '第' || n || '件', '张三明', 'received', v.code,
               :now - (abs(hashtext(v.code || n)) % 43200) * interval '1 minute', :now
        FROM ({villages}) v, generate_series(1, 10) n""",
        now=now,
    )
    return counts
