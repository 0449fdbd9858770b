"""People read names, not codes: /alerts' 区划 column names the region (its code beside it, smaller), a late feed's
alert names the feed by what it carries with its id in brackets and writes its times as the rest of the county's
texts do (滞后 3天, 应每1天送达), and /office's header names the clerk's village."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.app import create_app
from etl.alerts.evaluate import Evaluator
from etl.demo.sample import BOARD_VILLAGE, COUNTY, build_sample
from etl.runner import local_text
from etl.upsert import upsert
from etl.warehouse.accounts import add_user
from etl.warehouse.db import make_engine
from etl.warehouse.schema import alerts, feed_freshness, feed_state
from etl.warehouse.settings import Settings
from tests.alert_county import Clock, alerts_file
from tests.integration.test_households import texts
from tests.sessions import HTTPS, PASSWORD, logged_in

pytestmark = pytest.mark.integration
LATE_RULE = '[evaluation]\nsweep = "1h"\n[rules.late]\nname = "数据源滞后"\nkind = "late_feed"\n'
VILLAGE_NAME = "复兴社区"  # BOARD_VILLAGE in data/demo/regions.csv


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample county with an admin and a clerk of the board's village, and the qr_cases feed three days late."""
    var_dir = tmp_path_factory.mktemp("region-names")
    settings = build_sample(var_dir)
    engine = make_engine(settings.warehouse_url)
    clock = Clock()
    last = clock.now - timedelta(days=3)
    with engine.begin() as connection:
        add_user(connection, "guan", "admin", COUNTY, password=PASSWORD)
        add_user(connection, "cun01", "village", BOARD_VILLAGE, password=PASSWORD)
        upsert(
            connection,
            feed_state,
            [{"feed": "qr_cases", "dataset": "cases", "cadence_seconds": 86400, "last_success_at": last}],
            ["feed"],
        )
        row = {"feed": "qr_cases", "region_code": BOARD_VILLAGE, "last_event_time": last, "last_loaded_at": last}
        upsert(connection, feed_freshness, [row], ["feed", "region_code"])
    Evaluator(engine, alerts_file(var_dir, LATE_RULE), clock, feeds=["qr_cases"]).sweep()
    yield var_dir, engine, last
    engine.dispose()


@pytest.fixture(scope="module")
def app(sample):
    return create_app(Settings.load(var_dir=str(sample[0])))


def _late(engine):
    with engine.connect() as connection:
        return connection.execute(select(alerts).where(alerts.c.subject == "feed:qr_cases")).one()


def test_a_late_feed_is_named_by_what_it_carries(sample):
    _var_dir, engine, last = sample
    detail = _late(engine).detail
    assert detail == f"治理事件数据源（qr_cases）最新数据 {local_text(last)}，滞后 3天（应每1天送达一次）", detail


def test_the_alerts_region_column_names_the_region(sample, app):
    _var_dir, engine, _last = sample
    html = logged_in(app, "guan").get(f"{HTTPS}/alerts").get_data(as_text=True)
    late = _late(engine)
    row = re.search(r'<tr class="alert-open">((?:(?!</tr>).)*?数据源滞后.*?)</tr>', html, flags=re.S).group(1)
    region = re.sub(r"<[^>]+>", " ", re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)[2]).split()
    assert region == [VILLAGE_NAME, late.region_code], region
    assert "治理事件数据源（qr_cases）" in texts_of(row)


def texts_of(html: str) -> str:
    """The text of a piece of HTML."""
    return re.sub(r"<[^>]+>", "", html)


def test_the_office_header_names_the_village(app):
    home = logged_in(app, "cun01").get(f"{HTTPS}/office")
    assert home.status_code == 200
    head = re.search(r'<section class="head">(.*?)</section>', home.get_data(as_text=True), flags=re.S).group(1)
    assert VILLAGE_NAME in texts(home) and VILLAGE_NAME in head and "cun01" in head, head
