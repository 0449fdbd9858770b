"""An alerts file is checked at load: every mistake names the file, the rule or channel, and the key; fire and
clear conditions must lie apart; a channel whose *_env variable is unset is off; quiet hours end where they say."""

from datetime import UTC, datetime, time

import pytest

from etl.alerts.conditions import parse_condition
from etl.alerts.config import DEMO_FILE, load_alerts
from etl.alerts.errors import AlertConfigError
from etl.alerts.routing import QuietHours

GOOD = '[rules.cod]\nname = "污水COD超标"\nkind = "reading"\nmetric = "cod"\nfire = "> 60"\nclear = "<= 55"\n'


def _load(tmp_path, text, environment=None):
    path = tmp_path / "county-alerts.toml"
    path.write_text(text, encoding="utf-8")
    return load_alerts(path, environment or {})


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (GOOD.replace('fire = "> 60"', 'fire = ">> 60"'), "county-alerts.toml [rules.cod].fire："),
        (
            GOOD.replace('clear = "<= 55"', 'clear = "<= 65"'),
            "county-alerts.toml [rules.cod].clear：消除条件 <= 65 与触发条件 > 60 重叠",
        ),
        (GOOD.replace('metric = "cod"', 'metric = "colour"'), "county-alerts.toml [rules.cod].metric："),
        (GOOD.replace('kind = "reading"', 'kind = "magic"'), "county-alerts.toml [rules.cod].kind："),
        (GOOD + 'for = "ten minutes"\n', "county-alerts.toml [rules.cod].for："),
        (GOOD + 'severity = "urgent"\n', "county-alerts.toml [rules.cod].severity："),
        (GOOD + 'escalate = { county = "1h" }\n', "county-alerts.toml [rules.cod].escalate："),
        (GOOD + 'escalate = { village = "soon" }\n', "county-alerts.toml [rules.cod].escalate.village："),
        (GOOD + "threshold = 60\n", "county-alerts.toml [rules.cod]：不认识的键 threshold"),
        (GOOD.replace('name = "污水COD超标"\n', ""), "county-alerts.toml [rules.cod].name："),
        (
            '[rules.s]\nname = "失联"\nkind = "silence"\nafter = "3h"\ndevice_kinds = ["电视"]\n',
            "[rules.s].device_kinds：",
        ),
        (
            '[rules.m]\nname = "激增"\nkind = "measure"\nmeasure = "cases.nothing"\nfire = "> 1"\n',
            "[rules.m].measure：",
        ),
        ('[rules.o]\nname = "超期"\nkind = "overdue_case"\nmodules = ["菜市场"]\n', "[rules.o].modules："),
        ('[rules.f]\nname = "滞后"\nkind = "late_feed"\nfactor = -1\n', "[rules.f].factor："),
        ('[channels.c]\ntype = "pager"\n', "county-alerts.toml [channels.c].type："),
        ('[channels.c]\ntype = "webhook"\n', "county-alerts.toml [channels.c].url："),
        ('[channels.c]\ntype = "webhook"\nurl = "http://x"\nquiet_hours = "22-7"\n', "[channels.c].quiet_hours："),
        ('[channels.c]\ntype = "webhook"\nurl = "http://x"\nlevels = ["city"]\n', "[channels.c].levels："),
        ('[channels.c]\ntype = "webhook"\nurl = "http://x"\nregions = ["99x"]\n', "[channels.c].regions："),
        ('[channels.c]\ntype = "webhook"\nurl = "http://x"\ntoken = "t"\n', "[channels.c]：不认识的键 token"),
        ('[channels.c]\ntype = "email"\nhost = "h"\nsender = "a@b"\n', "[channels.c].to："),
        ("[alarms.x]\n", "county-alerts.toml：不认识的表 alarms"),
    ],
)
def test_mistakes_name_the_file_the_rule_and_the_key(tmp_path, text, where):
    with pytest.raises(AlertConfigError) as error:
        _load(tmp_path, text)
    assert where in str(error.value)


def test_the_demo_file_holds_todays_rules_and_its_webhook_is_off_until_configured():
    config = load_alerts(DEMO_FILE, {})
    limits = {rule.params.metric: rule.params.fire.text() for rule in config.rules.values() if rule.kind == "reading"}
    assert limits["cod"] == "> 60" and limits["nh3n"] == "> 8" and limits["fill_level"] == ">= 90"
    assert limits["aqi"] == "> 150" and limits["online"] == "< 0.5" and "soil_moisture" in limits
    assert {rule.kind for rule in config.rules.values()} == {
        "reading",
        "silence",
        "overdue_case",
        "measure",
        "late_feed",
    }
    assert config.channels == {}
    assert set(load_alerts(DEMO_FILE, {"ALERT_WEBHOOK_URL": "http://127.0.0.1:9/hook"}).channels) == {"duty_webhook"}


def test_conditions_and_their_hysteresis():
    fire, clear = parse_condition("> 60", "x"), parse_condition("<= 55", "x")
    assert [fire.holds(v) for v in (60, 60.1)] == [False, True] and [clear.holds(v) for v in (55, 55.1)] == [
        True,
        False,
    ]
    outside = parse_condition("outside 15..60", "x")
    assert [outside.holds(v) for v in (14.9, 15, 60, 60.1)] == [True, False, False, True]
    assert outside.negated() == parse_condition("inside 15..60", "x")
    assert parse_condition("< 0.5", "x").negated().text() == ">= 0.5"


def test_quiet_hours_end_at_their_local_end():
    quiet = QuietHours(time(22), time(7))
    assert quiet.deferred_until(datetime(2026, 12, 7, 13, 59, tzinfo=UTC)) is None  # 21:59 local
    assert quiet.deferred_until(datetime(2026, 12, 7, 14, 0, tzinfo=UTC)) == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    assert quiet.deferred_until(datetime(2026, 12, 7, 22, 30, tzinfo=UTC)) == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    assert quiet.deferred_until(datetime(2026, 12, 7, 23, 0, tzinfo=UTC)) is None  # 07:00 local
    daytime = QuietHours(time(12), time(14))
    assert daytime.deferred_until(datetime(2026, 12, 7, 4, 30, tzinfo=UTC)) == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
