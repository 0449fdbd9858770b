"""The screens' alert reads on SQLite and PostgreSQL: a scope's open alerts (severity, subject, region, since,
acknowledgement, escalation) and counts, never another township's; cached by version, so an alert the evaluator
opens, an acknowledgement and a resolution show at the next read; the county ticker, the security panel's count and
a village board's slide say the same."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from dashboard.alert_queries import alerted_devices, open_alert_list, open_alert_tally, subject_parts
from dashboard.cache import cache, cache_config
from dashboard.county_content import _ticker
from dashboard.panels import Window
from dashboard.panels.security import render as security_panel
from dashboard.plain import compact
from dashboard.regions import get_region
from dashboard.slides import Context
from dashboard.slides.alerts import render as alerts_slide
from etl.alerts.evaluate import Evaluator
from etl.warehouse.accounts import User
from etl.warehouse.alerts import acknowledge, resolve
from etl.warehouse.settings import Settings
from tests.alert_county import (
    COD_RULE,
    COUNTY,
    TOWN_A,
    TOWN_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    Clock,
    alerts_file,
    county,  # noqa: F401 - the fixture
    reading,
)

pytestmark = pytest.mark.integration
RULES = (
    COD_RULE
    + """severity = "major"
escalate = { village = "30m" }

[rules.bin]
name = "垃圾桶满溢"
kind = "reading"
metric = "fill_level"
fire = ">= 90"
clear = "< 80"
"""
)
TOWNSHIP_USER = User("zhen", "镇值班员", "township", TOWN_A)


@pytest.fixture
def engine(county, tmp_path):  # noqa: F811 - the shared fixture, imported
    """The county's warehouse with a Flask app context whose cache is empty."""
    app = Flask(__name__)
    cache.init_app(app, config=cache_config(Settings.load(var_dir=str(tmp_path / "var"))))
    with app.app_context():
        cache.clear()
        yield county


def _texts(nodes) -> str:
    """Every text of compact nodes, joined."""
    found = []

    def walk(node):
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, list):
            for child in node[1:]:
                walk(child) if not isinstance(child, dict) else None

    for node in nodes:
        walk(node)
    return " ".join(found)


def _opened(engine, tmp_path, clock) -> Evaluator:
    """COD over its limit at 甲村 (东镇) and at 丙村 (西镇), a full bin at 乙村 (东镇), evaluated."""
    reading(engine, "SEW-A1", "cod", 75, clock(), VILLAGE_A1)
    reading(engine, "SEW-B1", "cod", 80, clock(), VILLAGE_B1)
    reading(engine, "BIN-A2", "fill_level", 95, clock(), VILLAGE_A2)
    evaluator = Evaluator(engine, alerts_file(tmp_path, RULES), clock)
    assert evaluator.evaluate().opened == 3
    return evaluator


def test_a_scope_sees_its_own_open_alerts_never_another_townships(engine, tmp_path):
    clock = Clock()
    _opened(engine, tmp_path, clock)
    town_a = open_alert_list(engine, TOWN_A)
    assert {(a["region_code"], a["name"]) for a in town_a} == {(VILLAGE_A1, "污水COD超标"), (VILLAGE_A2, "垃圾桶满溢")}
    assert all(a["region_code"] != VILLAGE_B1 for a in town_a)
    assert [a["region_code"] for a in open_alert_list(engine, TOWN_B)] == [VILLAGE_B1]
    assert open_alert_list(engine, VILLAGE_A2)[0]["subject"] == "设备 BIN-A2"
    assert len(open_alert_list(engine, COUNTY)) == 3
    first = open_alert_list(engine, VILLAGE_A1)[0]
    assert first["severity_name"] == "重要" and first["region"] == "甲村" and first["device"] == "SEW-A1"
    assert first["since"] == clock() and not first["acknowledged"] and first["escalated_to"] is None
    assert open_alert_tally(engine, TOWN_A) == {"open": 2, "unacknowledged": 2}
    assert open_alert_tally(engine, TOWN_B) == {"open": 1, "unacknowledged": 1}
    assert alerted_devices(engine, TOWN_A, ["cod", "nh3n"]) == 1
    assert alerted_devices(engine, TOWN_A, ["fill_level"]) == 1
    assert alerted_devices(engine, TOWN_B, ["fill_level"]) == 0
    # The ticker of 东镇 names its alerts, each with its region, subject, since and state; 西镇's is not among them.
    ticker = _texts(compact(_ticker(engine, TOWN_A, clock(), ())))
    assert "重要 污水COD超标 · 甲村 设备 SEW-A1 · 12-07 10:00起 · 未确认" in ticker
    assert "垃圾桶满溢 · 乙村 设备 BIN-A2" in ticker and "丙村" not in ticker and "SEW-B1" not in ticker


def test_an_acknowledgement_escalation_and_resolution_show_at_the_next_read(engine, tmp_path):
    clock = Clock()
    evaluator = _opened(engine, tmp_path, clock)
    window = Window.at(datetime.now(UTC))
    assert "未消除告警" in _texts(compact(security_panel(engine, TOWN_A, window)))
    before = open_alert_list(engine, VILLAGE_A1)  # cached now
    with engine.begin() as connection:
        acknowledge(connection, before[0]["id"], TOWNSHIP_USER, "已派人")
    acknowledged = open_alert_list(engine, VILLAGE_A1)[0]
    assert acknowledged["acknowledged"] and acknowledged["acknowledged_by"] == "zhen"
    assert "已确认（zhen）" in _texts(compact(_ticker(engine, TOWN_A, clock(), ())))
    assert open_alert_tally(engine, TOWN_A) == {"open": 2, "unacknowledged": 1}
    # Unacknowledged past the village's 30 minutes, 丙村's alert goes to the township: the screens say so.
    clock.advance(minutes=31)
    assert evaluator.sweep().escalated == 1
    escalated = open_alert_list(engine, TOWN_B)[0]
    assert escalated["escalated_to"] == "乡镇级"
    assert "未确认 · 已升级至乡镇级" in _texts(compact(_ticker(engine, TOWN_B, clock(), ())))
    # A new alert the evaluator opens, and one resolved by hand, show at once too.
    reading(engine, "BIN-A1", "fill_level", 92, clock(), VILLAGE_A1)
    assert evaluator.evaluate().opened == 1
    assert {a["device"] for a in open_alert_list(engine, VILLAGE_A1)} == {"SEW-A1", "BIN-A1"}
    with engine.begin() as connection:
        resolve(connection, acknowledged["id"], TOWNSHIP_USER, "已修复")
    assert [a["device"] for a in open_alert_list(engine, VILLAGE_A1)] == ["BIN-A1"]
    assert alerted_devices(engine, TOWN_A, ["cod"]) == 0


def test_a_village_board_lists_its_alerts_and_is_quiet_without_any(engine, tmp_path):
    clock = Clock()
    _opened(engine, tmp_path, clock)
    settings = Settings.load(var_dir=str(tmp_path / "var"))
    window = Window.at(datetime.now(UTC))
    board = Context(engine, get_region(engine, VILLAGE_A1), window, settings, "portrait")
    shown = _texts(compact(alerts_slide(board)))
    assert "未消除告警" in shown and "污水COD超标" in shown and "未确认" in shown and "设备 SEW-A1" in shown
    assert "垃圾桶满溢" not in shown and "丙村" not in shown  # 乙村's and 丙村's are not this village's
    with engine.begin() as connection:
        acknowledge(connection, open_alert_list(engine, VILLAGE_A1)[0]["id"], TOWNSHIP_USER)
    shown = _texts(compact(alerts_slide(board)))
    assert "已确认" in shown and "zhen" not in shown  # a public board says it is acknowledged, not by whom
    reading(engine, "SEW-A1", "cod", 50, clock(), VILLAGE_A1)  # back under the clear condition
    Evaluator(engine, alerts_file(tmp_path, RULES), clock).evaluate()
    quiet = compact(alerts_slide(board))
    assert quiet[0][0] == "div.slide-empty.slide-quiet" and "暂无" in _texts(quiet)


def test_subjects_read_as_people_name_them():
    assert subject_parts("device:cod:SEW-1") == ("设备 SEW-1", "SEW-1", "cod")
    assert subject_parts("device:CAM-2") == ("设备 CAM-2", "CAM-2", None)
    # A silent gateway whose id is its MAC: read as metric "GW" and device "A4:C1:…", the ticker named a device that
    # does not exist and the map left the gateway grey.
    assert subject_parts("device:GW:A4:C1:38:0F:22:91") == ("设备 GW:A4:C1:38:0F:22:91", "GW:A4:C1:38:0F:22:91", None)
    assert subject_parts("device:cod:GW:A4:C1") == ("设备 GW:A4:C1", "GW:A4:C1", "cod")
    # A silent gateway whose MAC is written in lower case: "aa" was read as a metric and the device as bb:cc:….
    assert subject_parts("device:aa:bb:cc:dd:ee:ff") == ("设备 aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff", None)
    assert subject_parts("device:fill_level:aa:bb") == ("设备 aa:bb", "aa:bb", "fill_level")
    assert subject_parts("case:C001") == ("事件 C001", None, None)
    assert subject_parts("feed:readings") == ("数据源 readings", None, None)
    assert subject_parts("region:cases.received:total:990199001001") == ("", None, None)
