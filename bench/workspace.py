"""The leaders' workspace on a province (PostgreSQL): p50/p95 of every workspace query — the measures a region
has, KPI cards with 环比 and 同比, trend, children compared, breakdown, the first page of records — at province,
county, township and village scope for 7 days, 30 days and this year; then an XLSX export of 100,000 case rows
(time and peak memory, each in a process of its own) against pandas ``DataFrame.to_excel`` (openpyxl engine) and
openpyxl's write-only mode on the same rows. In one run.

Targets (issue "The leaders' workspace"): p95 ≤ 100 ms for every query; the export ≤ 10 s and ≤ 200 MB, ≥ 3× faster
than to_excel. The province is bench/_province.py's (its year of day rollups stretched to 13 months: from the first
of the month a year and a month ago), with twelve months of month rollups before it where the benchmark reads (the
province, its cities, one county and everything in it: a year's 同比 reads months, as in the demo) and 100,000
more cases in that county. BENCH_SCALE_DAYS shortens the days for a quick look; BENCH_EXPORT_ROWS changes the
export's rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text

from bench._province import PROVINCE, RAW_COUNTY, build_province
from bench.scale import _timed
from dashboard.cache import cache
from dashboard.workspace import queries
from dashboard.workspace.catalog import ordered
from dashboard.workspace.periods import LOCAL, local_today, resolve
from etl.rollups import month_of
from etl.warehouse.db import make_engine, migrate
from tests.shared_fixtures import POSTGRES_ADMIN_URL

REPEAT = 20
TARGET_MS = 100
EXPORT_ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "100000"))
MEASURE = "cases.received"
TOWNSHIP = RAW_COUNTY[:6] + "001000"  # the county's first township
HISTORY = f"""
    INSERT INTO rollups (grain, bucket, region_code, measure, dimension, count, total, min, max)
    SELECT 'month', ((bucket AT TIME ZONE 'UTC' + interval '8 hours') - n * interval '1 month' - interval '8 hours')
                    AT TIME ZONE 'UTC',
           region_code, measure, dimension, count, total * (0.85 + 0.025 * n), min, max
    FROM rollups, generate_series(1, 12) n
    WHERE grain = 'month' AND bucket = :first AND measure <> 'devices.installed'
      AND (region_code LIKE '{RAW_COUNTY[:6]}%' OR right(region_code, 8) = '00000000')
    ON CONFLICT DO NOTHING"""
CASES = f"""
    INSERT INTO cases (case_id, category, module, channel, title, reporter_name, reporter_phone, status, due_at,
                       closed_at, satisfaction, region_code, event_time, loaded_at)
    SELECT 'X' || n, (ARRAY['conflict', 'dispute', 'request', 'appeal'])[1 + n % 4],
           (ARRAY['general', 'online_mediation', 'petition', 'exposure'])[1 + n % 4],
           (ARRAY['qr_code', 'phone', 'visit', 'grid_worker'])[1 + n % 4],
           '村道第' || n % 97 || '号路灯不亮，回电1381234' || lpad((n % 10000)::text, 4, '0'),
           (ARRAY['张', '王', '李', '赵'])[1 + n % 4] || '三明', '139' || lpad((n % 100000000)::text, 8, '0'),
           CASE WHEN n % 3 = 0 THEN 'in_progress' ELSE 'closed' END,
           :now - (n % 41760) * interval '1 minute' + interval '7 days',
           CASE WHEN n % 3 = 0 THEN NULL ELSE :now - (n % 41760) * interval '1 minute' + interval '2 days' END,
           CASE WHEN n % 3 = 0 THEN NULL ELSE 1 + n % 5 END,
           v.code, :now - (n % 41760) * interval '1 minute', :now
    FROM generate_series(1, :rows) n
    JOIN (SELECT code, row_number() OVER (ORDER BY code) - 1 AS k FROM regions
          WHERE level = 'village' AND code LIKE '{RAW_COUNTY[:6]}%') v ON v.k = n % 200"""


def _spans(period) -> dict:
    span = lambda s: [s.first.isoformat(), s.last.isoformat()] if s else None  # noqa: E731
    return {"current": span(period.current), "previous": span(period.previous), "last_year": span(period.last_year)}


def _workspace_queries(engine, scope: str, period, now: datetime) -> dict:
    """Every query a workspace view makes, for one scope and period (each call reads PostgreSQL: no cache)."""
    spans = _spans(period)
    area = [info.name for info in ordered(queries.measures_in(engine, scope)) if info.area == "governance"]
    minute = now.replace(second=0, microsecond=0)
    return {
        "measures": lambda: queries.measures_in(engine, scope),
        "KPI 环比+同比": lambda: queries.kpis(engine, scope, area, spans, {}),
        "trend": lambda: queries.trend(engine, scope, MEASURE, spans["current"], period.grain, None),
        "children": lambda: queries.compare(engine, scope, MEASURE, spans, None),
        "breakdown": lambda: queries.breakdown(engine, scope, MEASURE, spans["current"]),
        "records p.1": lambda: queries.records_page(
            engine, scope, MEASURE, spans["current"], {}, "", True, 1, minute, "masked", []
        ),
    }


def _measured(mode: str, url: str, scope: str, span, path: Path) -> dict:
    """{seconds, rows, before_mb, peak_mb} of one export in a process of its own (bench/_export_child.py)."""
    command = [sys.executable, "-m", "bench._export_child", mode, url, scope]
    command += [span.first.isoformat(), span.last.isoformat(), str(path)]
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        output = child.stdout.read()
        _, status = os.waitpid(child.pid, 0)
        if os.waitstatus_to_exitcode(status):
            errors.seek(0)
            raise SystemExit(f"export {mode} failed: {errors.read().decode()[-2000:]}")
    return json.loads(output.strip().splitlines()[-1])


def _build(engine, now: datetime, days: int) -> None:
    """The province, its twelve months of month rollups before the days, and 100,000 more cases in one county."""
    build_province(engine, now, days, log=lambda line: print(line, flush=True))
    first = month_of(now - timedelta(days=days - 1))
    if first < now - timedelta(days=days - 1):  # the first month is partial: the next one is whole
        first = month_of(first + timedelta(days=32))
    with engine.begin() as connection:
        started = time.perf_counter()
        rows = connection.execute(text(HISTORY), {"first": first}).rowcount
        print(
            f"  twelve months of month rollups before {first.astimezone(LOCAL):%Y-%m}: {rows:,} rows in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        started = time.perf_counter()
        rows = connection.execute(text(CASES), {"now": now, "rows": EXPORT_ROWS}).rowcount
        print(f"  cases in {RAW_COUNTY}: {rows:,} more in {time.perf_counter() - started:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def _days(now: datetime) -> int:
    """Days of day rollups: from the first of the month a year and a month ago (13 months and this one)."""
    today = local_today(now)
    first = date(today.year - 1, today.month, 1) - timedelta(days=1)
    first = first.replace(day=1)
    return int(os.environ.get("BENCH_SCALE_DAYS", (today - first).days + 1))


def main() -> None:
    """Build the province in a database of its own, time the queries and the exports, drop the database."""
    now = datetime.now(UTC)
    days = _days(now)
    name = f"ruralbrain_bench_workspace_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    try:
        migrate(engine)
        started = time.perf_counter()
        print(f"building the province ({days} days of day rollups):", flush=True)
        _build(engine, now, days)
        print(f"built in {(time.perf_counter() - started) / 60:.1f} min", flush=True)
        screens = make_engine(url, autocommit=True)  # the app's engine: queries outside transactions
        with engine.connect() as connection:
            village = connection.execute(
                text(f"SELECT min(code) FROM regions WHERE level = 'village' AND code LIKE '{TOWNSHIP[:9]}%'")
            ).scalar()
        scopes = {"province": PROVINCE, "county": RAW_COUNTY, "township": TOWNSHIP, "village": village}
        periods = {key: resolve(key, local_today(now)) for key in ("7d", "30d", "year")}
        app = Flask(__name__)
        cache.init_app(app, config={"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True})
        worst, table = 0.0, {}
        with app.app_context():
            for level, scope in scopes.items():
                for key, period in periods.items():
                    for query, call in _workspace_queries(screens, scope, period, now).items():
                        p50, p95 = _timed(call, REPEAT)
                        worst = max(worst, p95)
                        mark = " !" if p95 > TARGET_MS else "  "
                        table.setdefault(f"{query} · {key}", {})[level] = f"{p50:7.1f} / {p95:6.1f}{mark}"
        print(f"{'query · period':<22}" + "".join(f"{level:>20}" for level in scopes) + "   (p50 / p95 ms)")
        for row, cells in table.items():
            print(f"{row:<22}" + "".join(f"{cells.get(level, '—'):>20}" for level in scopes))
        print(f"worst p95 of a workspace query: {worst:.1f} ms (target ≤ {TARGET_MS})", flush=True)
        screens.dispose()

        span = periods["30d"].current
        with tempfile.TemporaryDirectory() as scratch:
            found = {}
            for mode in ("ours", "openpyxl", "pandas"):
                path = Path(scratch) / f"{mode}.xlsx"
                found[mode] = _measured(mode, url, RAW_COUNTY, span, path) | {"mb": path.stat().st_size / 1e6}
                entry = found[mode]
                print(
                    f"export {mode:<9} {entry['rows']:,} case rows: {entry['seconds']:6.2f} s, peak "
                    f"{entry['peak_mb']:5.0f} MB ({entry['before_mb']:.0f} MB before writing), "
                    f"{entry['mb']:5.1f} MB file",
                    flush=True,
                )
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    ours, pandas, openpyxl = found["ours"], found["pandas"], found["openpyxl"]
    print(
        f"XLSX export of {ours['rows']:,} case rows: ours {ours['seconds']:.2f} s end to end (query, masking, "
        f"writing; target ≤ 10), peak {ours['peak_mb']:.0f} MB (target ≤ 200; {ours['before_mb']:.0f} MB of it "
        f"before the first row); pandas to_excel (openpyxl engine) {pandas['seconds']:.2f} s for the writing alone "
        f"→ {pandas['seconds'] / ours['seconds']:.1f}× (target ≥ 3), peak {pandas['peak_mb']:.0f} MB; openpyxl "
        f"write-only {openpyxl['seconds']:.2f} s → {openpyxl['seconds'] / ours['seconds']:.1f}×"
    )
    print(
        json.dumps(
            {
                "worst_p95_ms": round(worst, 1),
                "export_s": round(ours["seconds"], 2),
                "export_peak_mb": round(ours["peak_mb"]),
                "vs_to_excel": round(pandas["seconds"] / ours["seconds"], 1),
                "vs_openpyxl_write_only": round(openpyxl["seconds"] / ours["seconds"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
