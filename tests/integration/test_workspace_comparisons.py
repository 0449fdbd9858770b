"""环比 and 同比 worked by hand on a small fixture, read as a township leader reads them (the KPI and children
tables the page draws, exported as CSV), on SQLite and PostgreSQL. Cases come in through a real feed, day rows
and all; points have day rollups from February and, for the year before, a month rollup only (as the demo keeps
its history), so last March's share of days is 按月折算."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from dashboard.app import create_app
from etl.dataset import BEIJING
from etl.demo.build import DEMO_DIR
from etl.feeds import load_feeds
from etl.regions import import_codes_file
from etl.runner import run_feed
from etl.warehouse.accounts import add_user, audit_entries
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import rollups
from etl.warehouse.settings import Settings

pytestmark = pytest.mark.integration
HTTPS = "https://localhost"
PASSWORD = "a password long enough"
TOWNSHIP, V1, V2 = "990101001000", "990101001001", "990101001002"
OTHER = "990101101201"  # a village of another township: never in the township's numbers
COUNTY = "990101000000"
FEED = """
[feeds.cases]
dataset = "cases"
cadence = "1h"
source = { type = "file", settle_seconds = 0, path = "{var_dir}/drops/cases" }
[feeds.cases.mapping]
case_id = "编号"
region_code = "村代码"
event_time = "受理时间"
category = "类别"
module = "=综合"
status = "状态"
closed_at = "办结时间"
rated_at = "评价时间"
satisfaction = "满意度"
"""


def local(day: date, hour: int = 10) -> str:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING).isoformat()


def cases() -> list[list]:
    """(village, day, category, satisfaction) cases: this week (2026-03-14 … 20), the week before, a year before."""
    week = [date(2026, 3, 14) + timedelta(days=n) for n in range(7)]
    before = [day - timedelta(days=7) for day in week]
    last_year = [date(2025, 3, 14) + timedelta(days=n) for n in range(7)]
    chosen = (
        [(V1, week[n], "请求" if n < 4 else "纠纷", [5, 4, 3][n] if n < 3 else None) for n in range(6)]
        + [(V2, week[n], "请求", None) for n in range(3)]
        + [(OTHER, week[n], "请求", None) for n in range(5)]
        + [(V1, before[n], "请求", 4 if n < 2 else None) for n in range(4)]
        + [(V2, before[n], "纠纷", None) for n in range(2)]
        + [(V1, last_year[n], "请求", None) for n in range(2)]
        + [(V2, last_year[n], "请求", None) for n in range(2)]
    )
    rows = []
    for n, (village, day, category, satisfaction) in enumerate(chosen):
        rated = local(day, 15) if satisfaction else ""
        rows.append(
            [f"K{n:03d}", village, local(day), category, "办结" if rated else "受理", rated, rated, satisfaction or ""]
        )
    return rows


def points_rollups() -> list[dict]:
    """points.earned at V1 and above: 10 a day in February 2026, 12 a day in March, and last March's month of 310."""
    rows = []
    days = [date(2026, 2, 1) + timedelta(days=n) for n in range(48)]  # to 2026-03-20
    for code in (V1, TOWNSHIP, COUNTY):
        for day in days:
            total = 10.0 if day.month == 2 else 12.0
            rows.append(_row("day", day, code, 1, total))
        rows.append(_row("month", date(2026, 2, 1), code, 28, 280.0))
        rows.append(_row("month", date(2026, 3, 1), code, 20, 240.0))
        rows.append(_row("month", date(2025, 3, 1), code, 31, 310.0))
    return rows


def _row(grain, day, code, count, total) -> dict:
    bucket = datetime(day.year, day.month, day.day, tzinfo=BEIJING).astimezone(UTC)
    return dict(
        grain=grain,
        bucket=bucket,
        region_code=code,
        measure="points.earned",
        dimension="civility",
        count=count,
        total=total,
        min=None,
        max=None,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    settings = Settings.load(var_dir=str(tmp_path), warehouse_url=url)
    engine = make_engine(url)
    migrate(engine)
    import_codes_file(engine, DEMO_DIR / "regions.csv", source="test")
    drops = Path(tmp_path) / "drops" / "cases"
    drops.mkdir(parents=True)
    with open(drops / "cases.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [["编号", "村代码", "受理时间", "类别", "状态", "办结时间", "评价时间", "满意度"], *cases()]
        )
    (Path(tmp_path) / "feeds.toml").write_text(FEED, encoding="utf-8")
    feed = load_feeds(Path(tmp_path) / "feeds.toml", {"var_dir": str(tmp_path)})["cases"]
    assert run_feed(engine, feed).counts.loaded == len(cases())
    with engine.begin() as connection:
        connection.execute(insert(rollups), points_rollups())
        add_user(connection, "zhen", "township", TOWNSHIP, password=PASSWORD)
    app = create_app(settings)
    client = app.server.test_client()
    form = client.get(f"{HTTPS}/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert (
        client.post(f"{HTTPS}/login", data={"name": "zhen", "password": PASSWORD, "csrf_token": token}).status_code
        == 302
    )
    yield client, engine
    engine.dispose()


def table(client, **query) -> list[dict]:
    """An exported table (CSV) of the view ``query`` describes, as {header: cell} rows."""
    answer = client.get(f"{HTTPS}/explore/export", query_string=query)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return list(csv.DictReader(io.StringIO(answer.get_data().decode("utf-8-sig"))))


def test_a_week_against_the_week_before_and_the_same_week_last_year(served):
    client, engine = served
    week = {"region": TOWNSHIP, "period": "custom", "from": "2026-03-14", "to": "2026-03-20", "format": "csv"}
    cards = {row["指标"]: row for row in table(client, part="kpi", measure="cases.received", **week)}
    # This week 6 + 3 = 9; the week before 4 + 2 = 6; a year before 2 + 2 = 4 (the other township's 5 not counted).
    assert (cards["受理事件"]["本期"], cards["受理事件"]["上期"], cards["受理事件"]["去年同期"]) == ("9", "6", "4")
    assert (cards["受理事件"]["环比"], cards["受理事件"]["同比"]) == ("+50.0%", "+125.0%")
    # Rated this week 5, 4, 3 (mean 4.00); the week before 4, 4: 持平; a year before nobody rated.
    assert (cards["群众满意度"]["本期"], cards["群众满意度"]["环比"], cards["群众满意度"]["同比"]) == (
        "4",
        "持平",
        "无去年同期数据",
    )
    villages = {row["区划代码"]: row for row in table(client, part="compare", measure="cases.received", **week)}
    assert (villages[V1]["受理事件（件）"], villages[V1]["环比"], villages[V1]["同比"]) == ("6", "+50.0%", "+200.0%")
    assert (villages[V2]["受理事件（件）"], villages[V2]["环比"], villages[V2]["同比"]) == ("3", "+50.0%", "+50.0%")
    assert villages[V1]["占比（%）"] == "66.7" and OTHER not in villages
    # A category filter limits the number to that category: 请求 this week 4 + 3, the week before 4.
    requests = table(client, part="kpi", measure="cases.received", category="request", **week)[0]
    assert (requests["本期"], requests["上期"], requests["环比"], requests["说明"]) == (
        "7",
        "4",
        "+75.0%",
        "类别：请求",
    )
    with engine.connect() as connection:
        exported = audit_entries(connection, user="zhen", event="export", limit=10)
    assert len(exported) == 3 and all("2026-03-14 至 2026-03-20" in entry.detail for entry in exported)


def test_a_month_against_a_share_of_last_years_month_rollup(served):
    client, _ = served
    month = {"region": TOWNSHIP, "period": "custom", "from": "2026-03-01", "to": "2026-03-20", "format": "csv"}
    card = {row["指标"]: row for row in table(client, part="kpi", measure="points.earned", **month)}["积分"]
    # March 1–20: 20 × 12 = 240. The 20 days before (9–28 February): 20 × 10 = 200. March 2025 holds only its
    # month rollup of 310: its 20 days' share is 200, so both changes are +20.0%, the second 按月折算.
    assert (card["本期"], card["上期"], card["去年同期"]) == ("240", "200", "200")
    assert (card["环比"], card["同比"], card["说明"]) == ("+20.0%", "+20.0%", "按月折算")
    trend = table(client, part="trend", measure="points.earned", grain="week", **month)
    # Weeks from Monday, clipped to the period: 1 March is a Sunday, then 2–8, 9–15 and 16–20 March.
    assert [row["积分（分）"] for row in trend] == ["12", "84", "84", "60"]
    assert [row["去年同期（分）"] for row in trend] == ["10", "70", "70", "50"]  # 310 / 31 a day


def test_the_records_behind_the_week_stream_out_of_either_database(served):
    client, _ = served
    week = {"region": TOWNSHIP, "period": "custom", "from": "2026-03-14", "to": "2026-03-20", "format": "csv"}
    found = table(client, part="records", measure="cases.received", **week)
    assert sorted(row["区划代码"] for row in found) == [V1] * 6 + [V2] * 3
    assert [row["受理时间"] for row in found] == sorted((row["受理时间"] for row in found), reverse=True)
    closed = table(client, part="records", measure="cases.received", status="closed", **week)
    assert sorted(row["满意度（分）"] for row in closed) == ["3", "4", "5"]
