"""Every kind of evidence rule on a hand-made warehouse, on SQLite and PostgreSQL: four villages that meet,
partly meet, fail and have no data; a township whose figure is per village; scores of a small programme with
their evidence kept by month."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from etl.programmes.catalogue import load_programme
from etl.programmes.evidence import read_rule, villages_in
from etl.programmes.rules import parse_rule
from etl.programmes.scoring import score_month
from etl.programmes.store import import_programme
from etl.regions import load_hierarchy
from etl.rollups import day_of, hour_of, month_of
from etl.warehouse import pilots as reads
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import bus_stops, cases, pilot_scores, rollups, screen_heartbeats, screens
from geo.hierarchy import HierarchyRead, RegionRecord

COUNTY, TOWN, OTHER_TOWN = "990199000000", "990199001000", "990199002000"
MEETS, PARTLY, FAILS, NO_DATA = "990199001001", "990199001002", "990199001003", "990199002001"
VILLAGES = (MEETS, PARTLY, FAILS, NO_DATA)
REGIONS = [
    RegionRecord(COUNTY, "测试县", "county", "990100000000"),
    RegionRecord(TOWN, "东镇", "township", COUNTY),
    RegionRecord(OTHER_TOWN, "西镇", "township", COUNTY),
    RegionRecord(MEETS, "甲村", "village", TOWN),
    RegionRecord(PARTLY, "乙村", "village", TOWN),
    RegionRecord(FAILS, "丙村", "village", TOWN),
    RegionRecord(NO_DATA, "丁村", "village", OTHER_TOWN),
]
AS_OF = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)  # 12:00 local on the 20th
EXPECTED = {MEETS: "met", PARTLY: "partly", FAILS: "unmet", NO_DATA: "no_data"}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    load_hierarchy(engine, HierarchyRead(REGIONS, []), source="test")
    yield engine
    engine.dispose()


class Rollups:
    """Rollup rows written by hand: each fact counted in its village, township and county, by hour, day and
    month, as the ETL would."""

    def __init__(self) -> None:
        self.rows: dict[tuple, list] = {}

    def add(self, region: str, measure: str, moment: datetime, count: int = 1, total: float | None = None, dim=""):
        total = float(count) if total is None else total
        codes = {region, region[:9] + "000", region[:6] + "000000"}
        for code in codes:
            for grain, bucket in (("hour", hour_of(moment)), ("day", day_of(moment)), ("month", month_of(moment))):
                row = self.rows.setdefault((grain, bucket, code, measure, dim), [0, 0.0])
                row[0] += count
                row[1] += total

    def write(self, engine) -> None:
        keys = ("grain", "bucket", "region_code", "measure", "dimension")
        with engine.begin() as connection:
            connection.execute(
                insert(rollups),
                [{**dict(zip(keys, key, strict=True)), "count": n, "total": t} for key, (n, t) in self.rows.items()],
            )


def rule(**table) -> object:
    return parse_rule({"what": "测试", **table}, "测试规则")


def statuses(engine, the_rule, codes=VILLAGES) -> dict[str, str]:
    with engine.connect() as connection:
        found = read_rule(connection, the_rule, list(codes), AS_OF, villages_in(connection, list(codes)))
    return {code: the_rule.status(reading.value if reading.has_data else None) for code, reading in found.items()}


def days_ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def test_counts_and_totals_over_a_window(engine):
    hand = Rollups()
    for n in range(30):
        hand.add(MEETS, "waste.tonnage", days_ago(n * 0.9), total=2.0)
    for n in range(12):
        hand.add(PARTLY, "waste.tonnage", days_ago(n), total=2.0)
    hand.add(FAILS, "waste.tonnage", days_ago(45))  # reports, but not within the last 30 days: 0, not 无数据
    hand.write(engine)
    assert statuses(engine, rule(measure="waste.tonnage", window="30d", meets=">= 25", partly=">= 10")) == EXPECTED
    total = rule(measure="waste.tonnage", aggregate="total", window="30d", meets=">= 50", partly=">= 20")
    assert statuses(engine, total) == EXPECTED


def test_days_with_data_hours_and_ever(engine):
    hand = Rollups()
    for day in range(26):
        hand.add(MEETS, "waste.tonnage", days_ago(day), count=3)
        hand.add(MEETS, "reading.fill_level", AS_OF - timedelta(hours=day % 24, minutes=1))
    for day in range(12):
        hand.add(PARTLY, "waste.tonnage", days_ago(day), count=5)
    hand.add(PARTLY, "reading.fill_level", AS_OF - timedelta(hours=3))
    hand.add(FAILS, "waste.tonnage", days_ago(2), count=40)  # many trips on few days
    hand.add(FAILS, "reading.fill_level", AS_OF - timedelta(hours=30))  # reported, not in the last 24 hours
    hand.add(MEETS, "devices.installed", datetime(2025, 6, 1, tzinfo=UTC), count=3, dim="soil")
    hand.add(PARTLY, "devices.installed", datetime(2025, 6, 1, tzinfo=UTC), count=1, dim="livestock_house")
    hand.add(FAILS, "devices.installed", datetime(2025, 6, 1, tzinfo=UTC), count=5, dim="camera")
    hand.write(engine)
    days = rule(measure="waste.tonnage", aggregate="days", window="30d", meets=">= 25", partly=">= 10")
    assert statuses(engine, days) == EXPECTED
    hours = rule(measure="reading.fill_level", window="24h", meets=">= 20", partly=">= 1")
    assert statuses(engine, hours) == EXPECTED
    devices = rule(
        measure="devices.installed", dimension=["soil", "livestock_house"], window="ever", meets=">= 3", partly=">= 1"
    )
    assert statuses(engine, devices) == EXPECTED  # the camera village has devices, none of these kinds


def test_means_where_less_is_better_and_ratios(engine):
    hand = Rollups()
    for region, value in ((MEETS, 40.0), (PARTLY, 80.0), (FAILS, 150.0)):
        hand.add(region, "reading.cod", days_ago(1), count=10, total=10 * value)
    for region, closed, on_time in ((MEETS, 20, 19), (PARTLY, 10, 7), (FAILS, 10, 3)):
        hand.add(region, "cases.closed", days_ago(3), count=closed)
        hand.add(region, "cases.closed_on_time", days_ago(3), count=on_time)
    hand.write(engine)
    mean = rule(measure="reading.cod", aggregate="mean", window="30d", meets="<= 60", partly="<= 100")
    assert statuses(engine, mean) == EXPECTED
    ratio = rule(
        measure="cases.closed_on_time",
        aggregate="ratio",
        of="cases.closed",
        window="30d",
        meets=">= 90%",
        partly=">= 70%",
    )
    assert statuses(engine, ratio) == EXPECTED
    with engine.connect() as connection:
        found = read_rule(connection, ratio, [MEETS], AS_OF, {})
    assert found[MEETS].value == pytest.approx(0.95)


def test_a_township_figure_per_village(engine):
    hand = Rollups()
    for n in range(6):  # three villages in 东镇: 2 per village
        hand.add(VILLAGES[n % 3], "party.activities", days_ago(n), dim="branch_meeting")
    hand.write(engine)
    per = rule(measure="party.activities", window="30d", per="village", meets=">= 2", partly=">= 1")
    with engine.connect() as connection:
        found = read_rule(connection, per, [TOWN, OTHER_TOWN], AS_OF, villages_in(connection, [TOWN, OTHER_TOWN]))
    assert found[TOWN].value == pytest.approx(2.0) and found[TOWN].has_data
    assert not found[OTHER_TOWN].has_data


def test_facts_filtered_by_their_fields(engine):
    def case(number: int, region: str, channel: str, moment: datetime) -> dict:
        return {
            "case_id": f"C{region[-3:]}{number}",
            "category": "request",
            "module": "general",
            "channel": channel,
            "status": "received",
            "region_code": region,
            "event_time": moment,
            "loaded_at": AS_OF,
        }

    rows = [case(n, MEETS, ("qr_code", "phone")[n % 2], days_ago(n + 1)) for n in range(4)]
    rows += [case(9, PARTLY, "qr_code", days_ago(2)), case(8, PARTLY, "visit", days_ago(2))]
    rows += [case(7, FAILS, "visit", days_ago(3)), case(6, FAILS, "qr_code", days_ago(40))]  # last month's
    with engine.begin() as connection:
        connection.execute(insert(cases), rows)
    channel = rule(facts="cases", where={"channel": ["二维码", "电话"]}, window="month", meets=">= 3", partly=">= 1")
    assert channel.where == (("channel", ("qr_code", "phone")),)  # the feeds' labels read as stored values
    assert statuses(engine, channel) == EXPECTED
    assert statuses(engine, channel, [TOWN]) == {TOWN: "met"}  # a township counts its villages' rows


def test_screens_registered_and_reporting(engine):
    fresh, stale = AS_OF - timedelta(minutes=2), AS_OF - timedelta(hours=3)
    registered = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(screens),
            [
                {"screen_id": "s1", "kind": "stop", "region_code": MEETS, "registered_at": registered},
                {"screen_id": "s2", "kind": "stop", "region_code": None, "registered_at": registered},
                {"screen_id": "s3", "kind": "stop", "region_code": PARTLY, "registered_at": registered},
                {"screen_id": "s4", "kind": "stop", "region_code": FAILS, "registered_at": registered},
                {"screen_id": "s5", "kind": "board", "region_code": FAILS, "registered_at": registered},
            ],
        )
        connection.execute(
            insert(bus_stops),
            [{"stop_id": "S9", "name": "甲村站", "region_code": MEETS, "event_time": registered, "loaded_at": AS_OF}],
        )
        beats = [("s1", fresh, "/stop/S1"), ("s2", fresh, "/stop/S9?screen=s2"), ("s3", fresh, "/stop/S3")]
        beats += [("s4", stale, "/stop/S4"), ("s5", fresh, "/board/x")]
        connection.execute(
            insert(screen_heartbeats),
            [{"screen_id": s, "last_seen": t, "route": r, "beats": 1} for s, t, r in beats],
        )
    stops = rule(screens="stop", fresh="15m", meets=">= 2", partly=">= 1")
    found = statuses(engine, stops)
    # s2 has no region: it stands where its stop does; screens always have data (the registry is ours).
    assert found == {MEETS: "met", PARTLY: "partly", FAILS: "unmet", NO_DATA: "unmet"}


def _programme(folder: Path) -> Path:
    folder.mkdir()
    (folder / "programme.toml").write_text(
        """id = "test"
name = "测试试点"
region = "990199"
funds_per_pilot = 45
[[milestones]]
id = "plan"
name = "编制建设方案"
month = "2026-02"
[[milestones]]
id = "build"
name = "推进项目建设"
month = "2026-06"
""",
        encoding="utf-8",
    )
    pilot = '[[pilots]]\nkind = "village"\ncounty = "测试县"\ntownship = "{}"\nvillage = "{}"\n{}\n'
    listed = [
        (town, name, f'code = "{code}"') for code, town, name in ((MEETS, "东镇", "甲村"), (PARTLY, "东镇", "乙村"))
    ]
    listed += [("东镇", "丙村", f'code = "{FAILS}"'), ("西镇", "丁村", 'id = "丁"\nwithin = "990199002"')]
    (folder / "pilots.toml").write_text("\n".join(pilot.format(*entry) for entry in listed), encoding="utf-8")
    (folder / "indicators.toml").write_text(
        """[[items]]
id = "V4.1"
level = "village"
area = "人居环境数字化"
number = 1
name = "垃圾清运"
text = "对村内生活垃圾收集运输全过程监测。"
  [[items.rules]]
  what = "近30天有清运记录的天数"
  measure = "waste.tonnage"
  aggregate = "days"
  window = "30d"
  meets = ">= 25"
  partly = ">= 10"
  unit = "天"
  [[items.rules]]
  what = "近24小时智能垃圾桶上报"
  measure = "reading.fill_level"
  window = "24h"
  meets = ">= 1"
""",
        encoding="utf-8",
    )
    return folder


def test_scores_combine_rules_keep_evidence_and_history_by_month(engine, tmp_path):
    hand = Rollups()
    for day in range(26):
        hand.add(MEETS, "waste.tonnage", days_ago(day))
        hand.add(PARTLY, "waste.tonnage", days_ago(day))
    hand.add(MEETS, "reading.fill_level", AS_OF - timedelta(hours=1))
    hand.add(FAILS, "waste.tonnage", days_ago(70))
    hand.write(engine)
    programme = load_programme(_programme(tmp_path / "p"), today=AS_OF.date())
    with engine.begin() as connection:
        imported = import_programme(connection, programme, AS_OF)
        assert imported.resolutions == {"code": 3, "name": 1}
        march = score_month(connection, "test", "2026-03", now=AS_OF)
        february = score_month(connection, "test", "2026-02", now=AS_OF)
    assert march.as_of == AS_OF and february.as_of < datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    with engine.connect() as connection:
        kept = reads.scores(connection, "test", "2026-03")
        earlier = reads.scores(connection, "test", "2026-02")
        months = reads.score_months(connection, "test")
        trend = reads.pilot_trend(connection, "test", MEETS)
        scoped = reads.scores(connection, "test", "2026-03", scope=OTHER_TOWN)
        raw = connection.execute(select(pilot_scores.c.evidence).where(pilot_scores.c.pilot_id == MEETS)).first()
    # all rules met → 达标; days met but no bin → 部分达标 (the bins rule is 无数据); nothing → 未达标; 无数据
    assert {pilot: per["V4.1"].status for pilot, per in kept.items()} == {
        MEETS: "met",
        PARTLY: "partly",
        FAILS: "unmet",
        "丁": "no_data",
    }
    evidence = kept[MEETS]["V4.1"].evidence
    assert [e["status"] for e in evidence] == ["met", "met"]
    assert evidence[0]["value"] == 26 and evidence[0]["value_text"] == "26 天"
    assert evidence[0]["rule"] == "≥ 25 天 为达标，≥ 10 天 为部分达标"
    assert evidence[0]["period"].startswith("近30天（2026-02-19 至 2026-03-20")
    assert evidence[0]["source"] == "垃圾清运量（有数据的天数）"  # its measure by name, not waste.tonnage
    assert json.loads(raw.evidence)[1]["what"] == "近24小时智能垃圾桶上报"
    assert earlier[MEETS]["V4.1"].status != "met"  # as of February's end the month had fewer days
    assert months == ["2026-02", "2026-03"] and [month for month, _ in trend] == months
    assert set(scoped) == {"丁"}  # a scope sees its own pilots only
