"""The workspace's views on the sample county, as a county leader reads them and exports them: titles name only
the filters a table applies, pages past the end, periods before the data, large figures, mixed units."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert

from dashboard.app import create_app
from dashboard.workspace import queries
from dashboard.workspace.periods import LOCAL
from etl.demo.sample import BOARD_VILLAGE, COUNTY, TOWNSHIP, build_sample
from etl.warehouse.accounts import add_user
from etl.warehouse.db import bump_version, make_engine
from etl.warehouse.schema import farm_output, rollups
from tests.dash_requests import page
from tests.sessions import HTTPS, PASSWORD, logged_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = build_sample(tmp_path_factory.mktemp("workspace-views"))
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "xian", "county", COUNTY, password=PASSWORD)
    application = create_app(settings)
    application.server.test_client().get("/healthz")
    yield application, engine
    engine.dispose()


def shown(client, search: str) -> str:
    """The /explore page an address draws, as text."""
    answer = client.post(f"{HTTPS}/_dash-update-component", json=page("/explore", search))
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return json.dumps(answer.json, ensure_ascii=False)


def title(client, query: str, part: str) -> str:
    answer = client.get(f"{HTTPS}/explore/export?{query}&part={part}&format=xlsx")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return load_workbook(io.BytesIO(answer.data)).active["A1"].value


def test_an_export_title_names_only_the_filters_its_table_applies(app):
    application, _ = app
    client = logged_in(application, "xian")
    query = "measure=cases.received&period=30d&status=received&category=request"
    for part in ("kpi", "trend", "compare"):
        said = title(client, query, part)
        assert "类别：请求" in said and "状态" not in said, (part, said)
    assert "筛选" not in title(client, query, "breakdown")  # split by 类别, limited by nothing
    assert "筛选：类别：请求；状态：受理" in title(client, query, "records")
    assert "筛选" not in title(client, "measure=cases.received&period=30d&status=received", "kpi")


def test_a_records_page_past_the_end_shows_the_last_page(app):
    application, _ = app
    client = logged_in(application, "xian")
    first = shown(client, "?measure=cases.received&period=30d")
    pages = int(re.search(r"第 1 / (\d+) 页", first).group(1))
    last = shown(client, f"?measure=cases.received&period=30d&page={pages}")
    past = shown(client, "?measure=cases.received&period=30d&page=400")
    assert f"第 {pages} / {pages} 页" in past
    assert cells(past) == cells(last) and cells(past)


def cells(text: str) -> list[str]:
    """The records table's cells of a drawn page (the case numbers of its rows)."""
    return re.findall(r'"children": "(C[0-9]{3})"', text)


def rows(client, query: str, part: str) -> list[dict]:
    answer = client.get(f"{HTTPS}/explore/export?{query}&part={part}&format=csv")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return list(csv.DictReader(io.StringIO(answer.get_data().decode("utf-8-sig"))))


def test_a_period_before_any_data_shows_no_data_not_zero(app):
    application, _ = app
    client = logged_in(application, "xian")
    query = "measure=cases.received&period=custom&from=2001-01-01&to=2001-01-31"
    cards = {row["指标"]: row for row in rows(client, query, "kpi")}
    assert cards["受理事件"]["本期"] == "" and "无数据" in cards["受理事件"]["说明"]
    assert all(row["受理事件（件）"] == "" for row in rows(client, query, "compare"))
    assert rows(client, query, "breakdown") == []
    assert "本期没有数据" in shown(client, "?" + query)


def test_records_say_from_when_they_start_when_the_period_starts_before_them(app):
    application, engine = app
    client = logged_in(application, "xian")
    first_day, _ = queries.coverage(engine, "cases.received")
    today = datetime.now(UTC).astimezone(LOCAL).date()
    text = shown(client, f"?measure=cases.received&period=custom&from=2020-01-01&to={today}")
    assert f"明细自 {first_day} 起" in text
    text = shown(client, f"?measure=cases.received&period=custom&from={first_day}&to={today}")
    assert "明细自" not in text


def test_finance_is_read_as_income_or_expense_never_their_sum(app):
    application, _ = app
    client = logged_in(application, "xian")
    found = rows(client, "measure=finance.amount", "breakdown")
    parts = {row["收支"]: float(row["村级财务收支（元）"]) for row in found}
    assert set(parts) == {"收入", "支出"}  # the breakdown by direction stays
    cards = rows(client, "measure=finance.amount", "kpi")
    card = next(row for row in cards if row["指标"].startswith("村级财务"))
    assert "收入" in card["指标"] and float(card["本期"]) == parts["收入"]
    card = next(row for row in rows(client, "measure=finance.amount&direction=expense", "kpi") if "财务" in row["指标"])
    assert "支出" in card["指标"] and float(card["本期"]) == parts["支出"]
    governance = rows(client, "measure=cases.received", "kpi")  # the card beside another measure's alike
    assert float(next(row for row in governance if "财务" in row["指标"])["本期"]) == parts["收入"]


FARM = {"苹果": ("公斤", 1200.0), "生猪": ("头", 40.0)}  # kept apart: 1,240 of nothing was the card


def add_farm_output(engine) -> None:
    """Farm output of two products in two units at the board's village (fact rows and their rollups)."""
    today = datetime.now(UTC).astimezone(LOCAL).date()
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=LOCAL).astimezone(UTC)
    facts, buckets = [], []
    for n, (product, (unit, quantity)) in enumerate(FARM.items()):
        facts.append(
            dict(
                record_id=f"F{n}",
                product=product,
                quantity=quantity,
                unit=unit,
                region_code=BOARD_VILLAGE,
                event_time=noon,
                loaded_at=noon,
                run_id=0,
            )
        )
    for grain, start in (
        ("day", datetime(today.year, today.month, today.day, tzinfo=LOCAL)),
        ("month", datetime(today.year, today.month, 1, tzinfo=LOCAL)),
    ):
        for code in (BOARD_VILLAGE, TOWNSHIP, COUNTY):
            for dimension, (_, total) in FARM.items():
                buckets.append(
                    dict(
                        grain=grain,
                        bucket=start.astimezone(UTC),
                        region_code=code,
                        measure="farm.output",
                        dimension=dimension,
                        count=1,
                        total=total,
                        min=None,
                        max=None,
                    )
                )
    with engine.begin() as connection:
        connection.execute(insert(farm_output), facts)
        connection.execute(insert(rollups), buckets)
        bump_version(connection)  # as a load does: the cached answers are of the warehouse before


def test_farm_output_is_shown_per_product_with_its_unit(app):
    application, engine = app
    add_farm_output(engine)
    client = logged_in(application, "xian")
    card = next(row for row in rows(client, "measure=farm.output&period=7d", "kpi") if "农产品" in row["指标"])
    assert card["指标"].endswith("苹果") and card["单位"] == "公斤" and float(card["本期"]) == 1200
    card = next(
        row for row in rows(client, "measure=farm.output&period=7d&product=生猪", "kpi") if "农产品" in row["指标"]
    )
    assert card["单位"] == "头" and float(card["本期"]) == 40
    parts = {row[next(iter(row))]: row for row in rows(client, "measure=farm.output&period=7d", "breakdown")}
    assert set(parts) == {"苹果（公斤）", "生猪（头）"}


def test_the_page_shows_no_code_column_nor_si_suffixes(app):
    """The breakdown's table had a 代码 column of English codes (conflict, dispute, income, expense) and the trend's
    axis Plotly's 2M/3M/8M: a leader reads neither."""
    application, _ = app
    client = logged_in(application, "xian")
    page_text = shown(client, "measure=cases.received&period=30d")
    assert '"代码"' not in page_text
    assert not re.search(r'"children": "(conflict|dispute|request|appeal)"', page_text)  # codes as text people read
    assert '"exponentformat": "none"' in page_text
    assert any(row.get("代码") for row in rows(client, "measure=cases.received&period=30d", "breakdown"))  # export


def test_a_custom_range_past_today_is_cut_at_today(app):
    application, _ = app
    client = logged_in(application, "xian")
    today = datetime.now(UTC).astimezone(LOCAL).date()
    first = today.replace(day=1)
    later = f"{today.year + 1}-{today.month:02d}-01"
    text = shown(client, f"?measure=cases.received&period=custom&from={first}&to={later}")
    assert "结束日期晚于今天，已截至今天" in text
    span = f"{first:%Y-%m-%d} 至 {today:%Y-%m-%d}" if first != today else f"{today:%Y-%m-%d}"
    assert f"自定义（{span}）" in text and "已改为近30天" not in text
    export = rows(client, f"measure=cases.received&period=custom&from={first}&to={later}", "kpi")
    same = rows(client, f"measure=cases.received&period=custom&from={first}&to={today}", "kpi")
    assert export == same
    future = shown(client, f"?measure=cases.received&period=custom&from={later}&to={later}")
    assert "已改为近30天" in future  # nothing of it has happened yet


def test_three_years_by_day_are_drawn_by_week_with_a_notice(app):
    application, _ = app
    client = logged_in(application, "xian")
    today = datetime.now(UTC).astimezone(LOCAL).date()
    first = today - timedelta(days=1000)
    query = f"measure=cases.received&period=custom&from={first}&to={today}&grain=day"
    assert "按日最多 366 天，已改为按周" in shown(client, "?" + query)
    trend = rows(client, query, "trend")
    assert 140 < len(trend) < 150, len(trend)  # a point a week, not one a day


def test_region_searches_leave_nothing_in_the_shared_cache(app):
    # Each text a leader types was an entry of its own: one session typing could push the wall screens' answers out
    # of the capped cache. The search reads one indexed table; what it finds still shows.
    application, _ = app
    client = logged_in(application, "xian")
    folder = Path(application.server.config["RURALBRAIN_SETTINGS"].var_dir) / "cache"
    # The page's own answers, cached as before (some once the response is sent: closed here).
    client.post(f"{HTTPS}/_dash-update-component", json=page("/explore", "?measure=cases.received")).close()
    before = sorted(path.name for path in folder.iterdir())
    for text in ("城关", "枣林", "凤凰", "社区", "村", "不存在的名字"):
        text_shown = shown(client, f"?measure=cases.received&q={text}")
        if text == "城关":
            assert "城关街道" in text_shown
    assert sorted(path.name for path in folder.iterdir()) == before
