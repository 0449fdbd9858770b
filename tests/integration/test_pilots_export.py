"""/pilots/export on the sample county with the demo programme imported and scored: a township leader's monthly
report holds their township's pilots alone and is audited; a score sheet per pilot in the scope, or one pilot's;
a viewer exports nothing; another township's region or pilot is refused (403) and audited; /pilots answers for
the scope alone."""

from __future__ import annotations

import io
import json
from collections import Counter

import pytest
from openpyxl import load_workbook

from dashboard.app import create_app
from etl.demo.pilot_data import DEMO_PROGRAMME
from etl.demo.sample import build_sample
from etl.programmes.catalogue import load_programme
from etl.programmes.scoring import score_month
from etl.programmes.store import import_programme
from etl.warehouse import pilots as reads
from etl.warehouse.accounts import add_user, audit_entries
from etl.warehouse.db import make_engine
from tests.dash_requests import page
from tests.sessions import HTTPS, PASSWORD, logged_in

pytestmark = pytest.mark.integration
TOWNSHIP, OTHER = "990101101000", "990101201000"  # 枣林镇 and 凤凰乡: pilot townships of two leaders
USERS = {"zao": ("township", TOWNSHIP), "kan": ("viewer", TOWNSHIP), "xian": ("county", "990101000000")}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = build_sample(tmp_path_factory.mktemp("pilots-export"))
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        for name, (role, scope) in USERS.items():
            add_user(connection, name, role, scope, password=PASSWORD)
        import_programme(connection, load_programme(DEMO_PROGRAMME))
        month = score_month(connection, "demo").month
    application = create_app(settings)
    application.server.test_client().get("/healthz")
    yield application, engine, month
    engine.dispose()


def export(client, query: str):
    return client.get(f"{HTTPS}/pilots/export?{query}")


def test_a_township_leaders_monthly_report_holds_their_pilots_and_is_audited(app):
    application, engine, month = app
    answer = export(logged_in(application, "zao"), "kind=monthly")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in answer.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(answer.data))
    with engine.connect() as connection:
        listed = reads.pilots(connection, "demo", TOWNSHIP)
        scores = reads.scores(connection, "demo", month, TOWNSHIP)
        exported = audit_entries(connection, user="zao", event="export", limit=5)
    assert [p.name for p in listed] == ["枣林镇", "枣林镇马楼村", "枣林镇太和村"]
    details = list(book["指标明细"].iter_rows(min_row=4, values_only=True))
    assert {row[1] for row in details} == {p.name for p in listed}
    total = next(row for row in book["汇总"].iter_rows(min_row=4, values_only=True) if row[0] == "合计")
    counted = Counter(s.status for per in scores.values() for s in per.values())
    assert list(total[11:15]) == [counted.get(status, 0) for status in ("met", "partly", "unmet", "no_data")]
    assert (total[2], total[3]) == (1, 2) and total[7] == 3 * 45
    assert exported and exported[0].detail.startswith("XLSX 按月调度表 demo") and TOWNSHIP in exported[0].detail


def test_score_sheets_per_pilot_of_the_scope_or_of_one_pilot(app):
    application, _, month = app
    client = logged_in(application, "zao")
    every = load_workbook(io.BytesIO(export(client, f"kind=acceptance&month={month}").data))
    assert every.sheetnames == ["示范县枣林镇", "示范县枣林镇马楼村", "示范县枣林镇太和村"]
    one = export(client, "kind=acceptance&pilot=990101101201")
    assert one.status_code == 200
    sheet = load_workbook(io.BytesIO(one.data)).active
    assert "枣林镇马楼村" in str(sheet.cell(3, 3).value)
    county = load_workbook(io.BytesIO(export(logged_in(application, "xian"), "kind=acceptance").data))
    assert len(county.sheetnames) == 8  # every resolved pilot of the county


def test_a_viewer_exports_nothing(app):
    application, engine, _ = app
    client = logged_in(application, "kan")
    assert export(client, "kind=monthly").status_code == 403
    assert export(client, "kind=acceptance").status_code == 403
    with engine.connect() as connection:
        assert audit_entries(connection, user="kan", event="export", limit=5) == []
    shown = json.dumps(client.post(f"{HTTPS}/_dash-update-component", json=page("/pilots")).json, ensure_ascii=False)
    assert "枣林镇马楼村" in shown and "/pilots/export" not in shown


def test_another_townships_region_or_pilot_is_refused_and_audited(app):
    application, engine, _ = app
    client = logged_in(application, "zao")
    assert export(client, f"kind=monthly&region={OTHER}").status_code == 403
    assert export(client, f"kind=acceptance&pilot={OTHER}").status_code == 403
    assert export(client, "kind=acceptance&pilot=990101201-许洼村").status_code == 403
    assert client.get(f"{HTTPS}/pilots?pilot={OTHER}").status_code == 403
    assert client.get(f"{HTTPS}/pilots?region={OTHER}").status_code == 403
    refused = client.post(f"{HTTPS}/_dash-update-component", json=page("/pilots", f"?pilot={OTHER}"))
    assert refused.status_code == 403
    with engine.connect() as connection:
        violations = audit_entries(connection, user="zao", event="scope_violation", limit=20)
    assert len(violations) >= 6 and all(OTHER[:9] in entry.detail for entry in violations)
    shown = json.dumps(client.post(f"{HTTPS}/_dash-update-component", json=page("/pilots")).json, ensure_ascii=False)
    assert "枣林镇马楼村" in shown and "凤凰乡" not in shown and OTHER not in shown


def test_unknown_kinds_and_months_are_not_found(app):
    application, _, _ = app
    client = logged_in(application, "zao")
    assert export(client, "kind=other").status_code == 404
    assert export(client, "kind=monthly&month=2026-13").status_code == 404
