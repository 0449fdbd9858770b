"""What reaches the alerts from outside, as a hostile review met it, on SQLite and PostgreSQL: data text with
terminal escapes and line ends, alert ids beyond any the warehouse holds, alerts files with values that crash or
can never fire, and the Chinese the texts speak."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from etl.alerts.config import load_alerts
from etl.alerts.describe import describe_rule
from etl.alerts.errors import AlertConfigError
from etl.alerts.evaluate import Evaluator
from etl.cli import main
from etl.commands.alerts import _line
from etl.warehouse.accounts import User
from etl.warehouse.alerts import AlertError, acknowledge, get_alert, list_alerts
from tests.alert_county import COD_RULE, START, VILLAGE_A1, Clock, alerts_file, case, day_count, reading
from tests.alert_county import county as warehouse  # noqa: F401 - the shared fixture
from tests.integration.test_alerts_page import served  # noqa: F401 - the demo county's /alerts
from tests.sessions import HTTPS, csrf_of, logged_in

FORGED = "SEW-1\x1b[2J\x1b[H\r\n#1 [已消除] 重要 污水COD超标：已处理\u202e\u200b"
OVERDUE = """
[rules.overdue]
name = "事件超时未办结"
kind = "overdue_case"
"""


@pytest.fixture
def county(warehouse):  # noqa: F811
    return warehouse


def test_alerts_list_escapes_control_characters():
    # A device id from data reached `alerts list` as it was: an ANSI escape cleared the operator's terminal and a
    # line end forged a second alert line (`audit list` escapes them).
    alert = SimpleNamespace(
        id=7,
        status_name="未确认",
        severity_name="重要",
        name="污水COD超标",
        detail=f"设备 {FORGED} COD 72.5",
        region_code=VILLAGE_A1,
        level="village",
        owner_code=VILLAGE_A1,
        opened_at=START,
        acknowledged_by="cun\x1b[31m",
        acknowledged_at=START,
        resolved_at=None,
    )
    line = _line(alert)
    assert "\x1b" not in line and "\n" not in line and "\r" not in line and "\u202e" not in line
    assert "\\x1b[2J" in line and "\\n#1 [已消除]" in line


def test_data_text_reaches_alert_details_clean(county, tmp_path):
    # A device id or case id with control and invisible format characters went into the alert's detail, and from
    # there into the SMS, webhook and email texts, as it was.
    config = alerts_file(tmp_path, COD_RULE + OVERDUE)
    clock = Clock()
    reading(county, FORGED, "cod", 72.5, clock.now)
    case(county, "C-1\x07\n[已办结]\u202e", clock.now - timedelta(hours=1))
    Evaluator(county, config, clock).evaluate()
    with county.connect() as connection:
        details = [alert.detail for alert in list_alerts(connection, None)]
    assert len(details) == 2
    for detail in details:
        assert not any(char in detail for char in "\x1b\x07\r\n\u202e\u200b"), repr(detail)
    assert any("SEW-1[2J[H #1 [已消除]" in detail for detail in details)


@pytest.mark.parametrize("alert_id", [2**31, 9_999_999_999, 10**25])
def test_an_alert_id_beyond_the_warehouses_is_not_there(county, alert_id):
    # 10**25 overflowed SQLite's integer (OverflowError, a 500 on /alerts), 9999999999 PostgreSQL's (a traceback).
    with county.begin() as connection:
        assert get_alert(connection, alert_id) is None
        clerk = User("xian", "测试县", "county", "990199000000")
        with pytest.raises(AlertError, match="不存在"):
            acknowledge(connection, alert_id, clerk, "x", START)


@pytest.mark.parametrize("command", ["ack", "resolve"])
def test_the_cli_refuses_an_alert_id_beyond_the_warehouses(tmp_path, command):
    said = CliRunner().invoke(
        main, ["--var-dir", str(tmp_path / "var"), "alerts", command, "9999999999", "--user", "x", "--note", "n"]
    )
    assert said.exit_code == 2 and "9999999999" in said.output and said.exception.__class__ is SystemExit


def _loaded(tmp_path, text: str):
    path = tmp_path / "alerts.toml"
    path.write_text(text, encoding="utf-8")
    return load_alerts(path, {})


READING = '[rules.bin]\nname = "垃圾桶满溢"\nkind = "reading"\nmetric = "fill_level"\n'


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[evaluation]\nsweep = "99999999999d"\n', "[evaluation].sweep"),
        ('[evaluation]\nswep = "5m"\n', "swep"),
        ('[rules.late]\nname = "数据源滞后"\nkind = "late_feed"\nfactor = nan\n', "[rules.late].factor"),
        ('[rules.late]\nname = "数据源滞后"\nkind = "late_feed"\nfactor = inf\n', "[rules.late].factor"),
        (READING + 'fire = "> ' + "9" * 400 + '"\n', "[rules.bin].fire"),
        (READING + 'fire = "> 50"\nclear = "< -' + "9" * 400 + '"\n', "[rules.bin].clear"),
        (READING + 'fire = "> 150"\n', "[rules.bin].fire"),
        (READING + 'fire = "outside 0..100"\n', "[rules.bin].fire"),
        ('[rules.cod]\nname = "x"\nkind = "reading"\nmetric = "cod"\nfire = "< 0"\n', "[rules.cod].fire"),
    ],
)
def test_an_alerts_file_value_that_crashes_or_can_never_fire_is_refused(tmp_path, text, said):
    with pytest.raises(AlertConfigError) as refused:
        _loaded(tmp_path, text)
    assert said in str(refused.value)


def test_a_fire_condition_at_the_edge_of_the_metrics_range_loads(tmp_path):
    assert _loaded(tmp_path, READING + 'fire = ">= 100"\nclear = "< 90"\n').rules["bin"]
    assert _loaded(tmp_path, READING + 'fire = "> 99.5"\nclear = "< 90"\n').rules["bin"]


MEASURE = """
[rules.many_cases]
name = "事件激增"
kind = "measure"
measure = "cases.received"
grain = "day"
fire = "> 5"
clear = "<= 3"
[rules.barn]
name = "养殖舍氨气超标"
kind = "reading"
metric = "ammonia"
fire = "> 25"
clear = "<= 20"
"""


def test_alert_texts_say_in_chinese_what_they_watch(county, tmp_path):
    # 今日 cases.received 条数 9, 设备 BARN-1 ammonia 30, `alerts rules` printing 读数 cod: English ids reached people.
    config = alerts_file(tmp_path, COD_RULE + MEASURE)
    described = {rule_id: describe_rule(rule) for rule_id, rule in config.rules.items()}
    assert described["cod"].startswith("读数 污水COD：> 60 告警")
    assert described["many_cases"].startswith("汇总 受理事件（今日，条数，村级）：> 5 告警")
    clock = Clock()
    reading(county, "BARN-1", "ammonia", 30, clock.now)
    day_count(county, VILLAGE_A1, "cases.received", "", 9, clock.now)
    Evaluator(county, config, clock).evaluate()
    with county.connect() as connection:
        details = sorted(alert.detail for alert in list_alerts(connection, None))
    assert details == ["今日 受理事件 条数 9（告警条件 > 5）", "设备 BARN-1 养殖舍氨气 30（告警条件 > 25）"]


def test_the_page_says_an_alert_id_beyond_the_warehouses_is_not_there(served):  # noqa: F811
    # POST /alerts/9999999999999999999999999 was a 500 (SQLite's OverflowError).
    app, _engine, _ids = served
    client = logged_in(app, "zhen")
    token = csrf_of(client, "/alerts")
    for alert_id in ("9" * 25, str(2**31)):
        said = client.post(f"{HTTPS}/alerts/{alert_id}", data={"action": "ack", "note": "x", "csrf_token": token})
        assert said.status_code == 400 and f"告警 {alert_id} 不存在" in said.get_data(as_text=True)
