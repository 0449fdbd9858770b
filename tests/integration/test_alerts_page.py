"""预警处置 (/alerts): a township cadre sees the alerts of the township, acknowledges one with a note and resolves
another; an alert of the neighbouring township is neither listed nor actionable (403, audited); a read-only
account cannot act; the forms need their CSRF token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dashboard.app import create_app
from etl.demo.sample import TOWNSHIP, VILLAGES, build_sample
from etl.warehouse.accounts import add_user, audit_entries
from etl.warehouse.db import make_engine
from etl.warehouse.schema import alert_events, alerts
from etl.warehouse.settings import Settings
from tests.alert_county import open_alert
from tests.sessions import HTTPS, PASSWORD, csrf_of, logged_in

pytestmark = pytest.mark.integration
MINE, THEIRS = VILLAGES[0], VILLAGES[2]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("alerts-page")
    settings = build_sample(var_dir)
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "zhen", "township", TOWNSHIP, password=PASSWORD)
        add_user(connection, "kan", "viewer", TOWNSHIP, password=PASSWORD)
        ids = {name: open_alert(connection, village, name) for name, village in [("污水A", MINE), ("污水B", MINE)]}
        ids["邻镇"] = open_alert(connection, THEIRS, "邻镇")
    return create_app(Settings.load(var_dir=str(var_dir))), engine, ids


def test_a_cadre_acknowledges_and_resolves_the_alerts_of_the_township(served):
    app, engine, ids = served
    client = logged_in(app, "zhen")
    listing = client.get(f"{HTTPS}/alerts").get_data(as_text=True)
    assert "污水A" in listing and "污水B" in listing and "邻镇" not in listing and THEIRS not in listing
    token = csrf_of(client, "/alerts")
    acked = client.post(f"{HTTPS}/alerts/{ids['污水A']}", data={"action": "ack", "note": "已派人", "csrf_token": token})
    assert acked.status_code == 302
    refused = client.post(f"{HTTPS}/alerts/{ids['污水B']}", data={"action": "resolve", "note": "", "csrf_token": token})
    assert refused.status_code == 400 and "说明" in refused.get_data(as_text=True)
    done = client.post(
        f"{HTTPS}/alerts/{ids['污水B']}", data={"action": "resolve", "note": "已修复", "csrf_token": token}
    )
    assert done.status_code == 302
    with engine.connect() as connection:
        states = dict(connection.execute(select(alerts.c.name, alerts.c.status).where(alerts.c.name.in_(ids))).all())
        events = connection.execute(select(alert_events.c.kind, alert_events.c.actor)).all()
    assert states == {"污水A": "acknowledged", "污水B": "resolved", "邻镇": "open"}
    assert ("acknowledged", "zhen") in events and ("resolved", "zhen") in events
    after = client.get(f"{HTTPS}/alerts").get_data(as_text=True)
    assert "已确认" in after and "已派人" in after and "污水B" not in after  # resolved: off the open list
    assert "污水B" in client.get(f"{HTTPS}/alerts?state=all").get_data(as_text=True)


def test_the_neighbours_alert_cannot_be_reached_and_a_viewer_cannot_act(served):
    app, engine, ids = served
    client = logged_in(app, "zhen")
    token = csrf_of(client, "/alerts")
    beside = client.post(f"{HTTPS}/alerts/{ids['邻镇']}", data={"action": "ack", "note": "x", "csrf_token": token})
    assert beside.status_code == 403
    assert client.get(f"{HTTPS}/alerts?region={THEIRS}").status_code == 403
    assert client.post(f"{HTTPS}/alerts/{ids['邻镇']}", data={"action": "ack"}).status_code == 400  # no CSRF token
    viewer = logged_in(app, "kan")
    looked = viewer.post(
        f"{HTTPS}/alerts/{ids['污水A']}",
        data={"action": "resolve", "note": "x", "csrf_token": csrf_of(viewer, "/alerts")},
    )
    assert looked.status_code == 400 and "只读" in looked.get_data(as_text=True)
    assert app.server.test_client().get(f"{HTTPS}/alerts").status_code == 302  # anonymous: to the login page
    with engine.connect() as connection:
        assert audit_entries(connection, user="zhen", event="scope_violation")


def test_a_severity_filter_finds_what_lies_past_the_first_500(tmp_path):
    # The page took the scope's first 500 alerts and filtered them after: 520 open warnings (a power cut silencing a
    # township's sensors) hid an acknowledged critical alert, and 级别=紧急 said 没有符合条件的告警.
    settings = build_sample(tmp_path)
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "zhen", "township", TOWNSHIP, password=PASSWORD)
        for number in range(520):
            open_alert(connection, MINE, f"静默{number}", severity="warning")
        critical = open_alert(connection, MINE, "紧急泄漏", severity="critical")
        connection.execute(alerts.update().where(alerts.c.id == critical).values(status="acknowledged"))
    client = logged_in(create_app(Settings.load(var_dir=str(tmp_path))), "zhen")
    assert "紧急泄漏" in client.get(f"{HTTPS}/alerts?severity=critical").get_data(as_text=True)
    listed = client.get(f"{HTTPS}/alerts").get_data(as_text=True)
    assert "只列出最前面的 500 条" in listed and listed.count("</tr>") == 1 + 500  # the header and 500 alerts
    engine.dispose()
