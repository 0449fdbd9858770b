"""/pilots and /pilots/export keep to the programme's months: from its first (its earliest milestone's) to the
current local one. A month outside them (9999-12, next year, before the programme) is not read: the page says so
in Chinese and shows the latest scored month, the export answers 404 with the reason; the month chips always hold
the month being viewed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dashboard.app import create_app
from etl.demo.pilot_data import DEMO_PROGRAMME
from etl.demo.sample import build_sample
from etl.programmes.catalogue import load_programme
from etl.programmes.scoring import score_month
from etl.programmes.store import import_programme
from etl.warehouse.accounts import add_user
from etl.warehouse.db import make_engine
from etl.warehouse.pilots import LOCAL, first_month
from tests.dash_requests import page
from tests.sessions import HTTPS, PASSWORD, logged_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = build_sample(tmp_path_factory.mktemp("pilots-months"))
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "xian", "county", "990101000000", password=PASSWORD)
        import_programme(connection, load_programme(DEMO_PROGRAMME))
        month = score_month(connection, "demo").month
        first = first_month(connection, "demo")
    application = create_app(settings)
    application.server.test_client().get("/healthz")
    yield application, month, first
    engine.dispose()


def shown(client, search: str) -> tuple[int, str]:
    answer = client.post(f"{HTTPS}/_dash-update-component", json=page("/pilots", search))
    return answer.status_code, json.dumps(answer.json, ensure_ascii=False) if answer.is_json else ""


def next_year() -> str:
    now = datetime.now(UTC).astimezone(LOCAL)
    return f"{now.year + 1}-{now.month:02d}"


def before(first: str) -> str:
    year, number = map(int, first.split("-"))
    return f"{year - 1}-{number:02d}"


def test_a_month_outside_the_programme_is_said_on_the_page_not_read(app):
    application, month, first = app
    client = logged_in(application, "xian")
    for asked in ("9999-12", next_year(), before(first), "0001-01"):
        status, text = shown(client, f"?programme=demo&month={asked}")
        assert status == 200, (asked, status)
        assert "pilots-month-notice" in text and asked in text, asked
        assert f"pilots-month-{month}" in text  # the latest scored month is shown instead
        assert "枣林镇马楼村" in text


def test_an_export_of_a_month_outside_the_programme_is_not_found_with_a_reason(app):
    application, month, first = app
    client = logged_in(application, "xian")
    for asked in ("9999-12", next_year(), before(first), "0001-01"):
        for kind in ("monthly", "acceptance"):
            answer = client.get(f"{HTTPS}/pilots/export?programme=demo&kind={kind}&month={asked}")
            said = json.dumps(answer.json, ensure_ascii=False) if answer.is_json else answer.get_data(as_text=True)
            assert answer.status_code == 404, (asked, kind, answer.status_code)
            assert asked in said and "方案" in said, said
    assert client.get(f"{HTTPS}/pilots/export?programme=demo&kind=monthly&month={first}").status_code == 200


def test_the_month_chips_hold_the_month_being_viewed(app):
    application, month, first = app
    client = logged_in(application, "xian")
    assert first < month
    status, text = shown(client, f"?programme=demo&month={first}")
    assert status == 200 and "pilots-month-notice" not in text
    assert f"pilots-month-{first}" in text and f"pilots-month-{month}" in text
