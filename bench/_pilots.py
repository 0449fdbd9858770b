"""67 synthetic pilots over bench/scale's province (22 townships, 45 villages, one per county), scored by the 忻州
catalogue on the province's rollups, and the monthly report of all of them: the programme's timings at scale."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, select, text

from etl.programmes.catalogue import load_programme
from etl.programmes.scoring import score_month
from etl.programmes.store import import_programme
from etl.warehouse.pilot_reports.monthly import monthly_workbook, read_monthly
from etl.warehouse.pilots import month_text
from etl.warehouse.schema import bus_stops, labour_profiles, pilot_funds, pilot_status, regions, screens

XINZHOU = Path(__file__).resolve().parents[1] / "data" / "programmes" / "xinzhou-2023"
SCORE_TARGET_S, REPORT_TARGET_S = 2.0, 10.0


def _programme(folder: Path, townships: list[tuple[str, str]], villages: list[tuple[str, str, str]]) -> Path:
    """The 忻州 programme's milestones and catalogue with the province's pilots."""
    main = (XINZHOU / "programme.toml").read_text(encoding="utf-8")
    main = main.replace('id = "xinzhou-2023"', 'id = "bench"').replace('region = "140900"', 'region = "98"')
    main = main.replace('indicators = "indicators.toml"', f'indicators = "{XINZHOU / "indicators.toml"}"')
    (folder / "programme.toml").write_text(main, encoding="utf-8")
    entries = [
        f'[[pilots]]\nkind = "township"\ncounty = "第{code[4:6]}县"\ntownship = "{name}"\ncode = "{code}"\n'
        for code, name in townships
    ]
    entries += [
        f'[[pilots]]\nkind = "village"\ncounty = "第{code[4:6]}县"\ntownship = "{town}"\nvillage = "{name}"\n'
        f'code = "{code}"\n'
        for code, town, name in villages
    ]
    (folder / "pilots.toml").write_text("\n".join(entries), encoding="utf-8")
    return folder


def _facts(engine: Engine, pilots: list[str], now: datetime) -> None:
    """What the rules read beyond rollups, for the pilot villages: the labour pool's people, a stop and its
    screen, a village board; and the county's forms for every pilot since February."""
    villages = [code for code in pilots if not code.endswith("000")]
    months = sorted({month_text(now - timedelta(days=30 * k)) for k in range(10)})
    with engine.begin() as connection:
        connection.execute(
            insert(labour_profiles),
            [
                {
                    "worker_id": f"L{code}{n}",
                    "status": "migrant",
                    "education": "junior",
                    "skills": "驾驶",
                    "region_code": code,
                    "event_time": now - timedelta(days=n),
                    "loaded_at": now,
                }
                for code in villages
                for n in range(30)
            ],
        )
        connection.execute(
            insert(bus_stops),
            [
                {"stop_id": f"S{code}", "name": "村口站", "region_code": code, "event_time": now, "loaded_at": now}
                for code in villages
            ],
        )
        connection.execute(
            insert(screens),
            [
                {
                    "screen_id": f"{kind}-{code}",
                    "kind": kind,
                    "region_code": code,
                    "registered_at": now - timedelta(days=9),
                }
                for code in villages
                for kind in ("stop", "board")
            ],
        )
        connection.execute(
            text(
                "INSERT INTO screen_heartbeats (screen_id, last_seen, route, beats) SELECT screen_id, :now, '/', 1 "
                "FROM screens WHERE screen_id LIKE 'stop-%'"
            ),
            {"now": now},
        )
        forms = [(code, month) for code in pilots for month in months]
        connection.execute(
            insert(pilot_status),
            [
                {
                    "programme_id": "bench",
                    "pilot_id": code,
                    "milestone": name,
                    "period": month,
                    "status": "done",
                    "region_code": code,
                    "event_time": now,
                    "loaded_at": now,
                }
                for code, month in forms
                for name in ("确定试点对象", "编制建设方案", "落实支持资金")
            ],
        )
        connection.execute(
            insert(pilot_funds),
            [
                {
                    "programme_id": "bench",
                    "pilot_id": code,
                    "period": month,
                    "allocated": 45,
                    "disbursed": 30,
                    "spent": 20,
                    "region_code": code,
                    "event_time": now,
                    "loaded_at": now,
                }
                for code, month in forms
            ],
        )


def time_pilots(engine: Engine, now: datetime, log: Callable[[str], None] = print) -> dict:
    """Import 67 synthetic pilots, score them (median of three) and write the monthly report; the figures."""
    with engine.connect() as connection:
        towns = connection.execute(
            select(regions.c.code, regions.c.name).where(regions.c.level == "township").order_by(regions.c.code)
        ).all()
        named = {code: name for code, name in towns}
        village_rows = connection.execute(
            select(regions.c.code, regions.c.name).where(regions.c.level == "village").order_by(regions.c.code)
        ).all()
    by_county: dict[str, list] = {}
    for code, name in towns:
        by_county.setdefault(code[:6], []).append((code, name))
    counties = sorted(by_county)
    townships = [by_county[county][0] for county in counties[:22]]
    firsts = {}
    for code, name in village_rows:  # the first village of each county's second township
        if code[6:9] == "002" and code[:6] not in firsts:
            firsts[code[:6]] = (code, named[code[:9] + "000"], name)
    villages = [firsts[county] for county in counties[:45]]
    with tempfile.TemporaryDirectory() as folder:
        programme = load_programme(_programme(Path(folder), townships, villages), today=now.date())
        with engine.begin() as connection:
            imported = import_programme(connection, programme, now)
        _facts(engine, [p.pilot_id for p in programme.pilots], now)
        month = month_text(now)
        timings, scored = [], None
        for _ in range(3):
            started = time.perf_counter()
            with engine.begin() as connection:
                scored = score_month(connection, "bench", month, now)
            timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        with engine.connect() as connection:
            report = read_monthly(connection, "bench", month, now)
        monthly_workbook(report, now).save(Path(folder) / "monthly.xlsx")
        report_s = time.perf_counter() - started
    counts = Counter(scored.counts)
    score_s = statistics.median(timings)
    log(
        f"pilot programme: {imported.pilots} pilots ({dict(imported.resolutions)}), {sum(counts.values())} pilot-items "
        f"scored in {score_s:.2f} s (median of 3; target ≤ {SCORE_TARGET_S:g}): {dict(counts)}; the monthly report "
        f"of all of them read and written in {report_s:.2f} s (target ≤ {REPORT_TARGET_S:g})"
    )
    return {"pilot_items": sum(counts.values()), "score_s": round(score_s, 2), "report_s": round(report_s, 2)}
