"""Who sees what of a record in the workspace, on the sample: a village cadre their villagers' names and phones as
written, a township leader masked ones, a viewer masked ones and a private topic (信访) by its topic alone, and no
export; the same address cached for one role is never served to another."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from dashboard.app import create_app
from dashboard.workspace.catalog import measure_info
from dashboard.workspace.context import open_workspace
from dashboard.workspace.state import parse
from etl.demo.sample import BOARD_VILLAGE, TOWNSHIP, VILLAGES, build_sample
from etl.warehouse.accounts import add_user, audit_entries
from etl.warehouse.db import make_engine
from tests.dash_requests import page
from tests.sessions import HTTPS, PASSWORD, logged_in

pytestmark = pytest.mark.integration
PETITIONS = VILLAGES[2]  # its cases are 信访投诉 (the sample's modules go round the villages)
USERS = {
    "cun": ("village", BOARD_VILLAGE),
    "zhen": ("township", TOWNSHIP),
    "kan": ("viewer", TOWNSHIP),
    "kan-zao": ("viewer", PETITIONS),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = build_sample(tmp_path_factory.mktemp("workspace-roles"))
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        for name, (role, scope) in USERS.items():
            add_user(connection, name, role, scope, password=PASSWORD)
    application = create_app(settings)
    application.server.test_client().get("/healthz")
    yield application, engine
    engine.dispose()


def shown(answer) -> str:
    """A page router's answer as text (its JSON writes Chinese as \\u escapes)."""
    return json.dumps(answer.json, ensure_ascii=False)


def records(client, region: str) -> list[dict]:
    answer = client.get(f"{HTTPS}/explore/export?region={region}&measure=cases.received&part=records&format=csv")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return list(csv.DictReader(io.StringIO(answer.get_data().decode("utf-8-sig"))))


def test_a_village_cadre_sees_names_and_phones_a_township_leader_sees_them_masked(app):
    application, _ = app
    village = records(logged_in(application, "cun"), BOARD_VILLAGE)
    township = records(logged_in(application, "zhen"), BOARD_VILLAGE)
    assert village and [row["事件编号"] for row in village] == [row["事件编号"] for row in township]
    assert all(re.fullmatch(r"张[三四五]明", row["反映人"]) for row in village)
    assert all(re.fullmatch(r"1391234\d{4}", row["联系电话"]) for row in village)
    assert all(re.fullmatch(r"张\*明", row["反映人"]) for row in township)
    assert all(re.fullmatch(r"139\*\*\*\*\d{4}", row["联系电话"]) for row in township)


def test_a_viewer_sees_private_topics_by_topic_and_cannot_export(app):
    application, engine = app
    viewer = logged_in(application, "kan-zao")
    answer = viewer.post(f"{HTTPS}/_dash-update-component", json=page("/explore", f"?region={PETITIONS}"))
    text = shown(answer)
    assert answer.status_code == 200 and "信访事项" in text and "反映问题" not in text
    assert "张*明" in text and not re.search(r"张[三四五]明|1391234\d{4}", text)
    assert "导出 Excel" not in text
    refused = viewer.get(f"{HTTPS}/explore/export?region={PETITIONS}&part=records&format=csv")
    assert refused.status_code == 403 and refused.json["error"] == "只读账户不能导出数据"
    with engine.connect() as connection:
        assert not audit_entries(connection, user="kan-zao", event="export")


def test_the_same_view_cached_for_a_village_cadre_is_never_served_to_a_viewer_of_that_village(app):
    application, _ = app
    address = page("/explore", f"?region={BOARD_VILLAGE}")
    opened = logged_in(application, "cun").post(f"{HTTPS}/_dash-update-component", json=address)
    assert re.search(r"张[三四五]明", shown(opened))
    for name in ("zhen", "kan"):
        seen = logged_in(application, name).post(f"{HTTPS}/_dash-update-component", json=address)
        assert seen.status_code == 200 and not re.search(r"张[三四五]明|1391234\d{4}", shown(seen))
        assert "张*明" in shown(seen)


def test_a_worker_streams_one_export_at_a_time_and_tells_the_next_to_try_again(app):
    # Eight big exports at once took every request thread of the production workers: the login page waited 59 s.
    from dashboard.workspace import download

    application, _ = app
    client = logged_in(application, "zhen")
    address = f"{HTTPS}/explore/export?region={BOARD_VILLAGE}&measure=cases.received&part=records&format=csv"
    streaming = client.get(address, buffered=False)  # begun, not read to its end: it holds the worker's slot
    refused = client.get(address)
    assert refused.status_code == 429 and refused.json["error"] == download.BUSY
    streaming.close()  # the client went away mid-file: the slot comes back
    assert client.get(address).status_code == 200
    assert client.get(address).status_code == 200  # and again: each finished export gives it back


def test_a_filter_limits_only_the_measures_of_its_own_table(app):
    # kind=bin on the devices' records zeroed the 农厕记录 card (toilets have a `kind` of their own, 记录类型) and
    # kind=training on livelihood's the 疫情防控 card: a filter was matched to a measure by its column's name alone.
    application, engine = app
    with application.server.test_request_context("/explore"):
        settings = application.server.config["RURALBRAIN_SETTINGS"]
        ws = open_workspace(engine, settings, parse({"measure": "devices.installed", "kind": "bin"}))
    infos = [measure_info(name) for name in ("devices.installed", "toilets.records", "epidemic.quantity")]
    assert ws.dimensions_for(infos) == {"devices.installed": "bin"}
