"""Alerts files as a county might get them wrong: every mistake is an AlertConfigError in Chinese naming the file
and the rule, channel or table, never a traceback (12 of 15 such files raised ValueError, TypeError or
AttributeError, and `etl watch` stopped with it), and a header value written as a number is sent as text."""

from __future__ import annotations

import pytest

from etl.alerts.config import load_alerts
from etl.alerts.errors import AlertConfigError
from etl.alerts.message import Message
from tests.alert_servers import Recorder

HOOK = '[channels.h]\ntype = "webhook"\nurl = "http://127.0.0.1:9/x"\n'
COD = '[rules.cod]\nname = "COD"\nkind = "reading"\nmetric = "cod"\nfire = "> 60"\n'
SMS = '[channels.s]\ntype = "sms"\nurl = "http://x"\nphones = ["1"]\n'
MISTAKES = {
    "email port not a number": (
        '[channels.m]\ntype = "email"\nhost = "smtp.x"\nsender = "a@x"\nto = ["b@x"]\nport = "smtp"\n',
        "[channels.m]",
    ),
    "sms max_length not a number": (SMS + 'max_length = "长"\n', "[channels.s]"),
    "webhook headers a text": (HOOK + 'headers = "Authorization: Bearer t"\n', "[channels.h].headers"),
    "sms headers a list": (SMS + 'headers = ["X-Key: 1"]\n', "[channels.s].headers"),
    "channel regions a number": (HOOK + "regions = 990101001\n", "[channels.h]"),
    "rules not a table": ('rules = "cod"\n', "rules 应是表"),
    "channels not a table": ('channels = ["h"]\n', "channels 应是表"),
    "defaults not a table": ('defaults = "major"\n' + COD, "defaults 应是表"),
    "retry backoff a table": (HOOK + "retry = { attempts = 3, backoff = { s = 30 } }\n", "[channels.h]"),
    "late_feed feeds a number": ('[rules.f]\nname = "F"\nkind = "late_feed"\nfeeds = 3\n', "[rules.f]"),
    "escalate a table": (COD + "escalate = { village = { m = 30 } }\n", "[rules.cod]"),
    "TOML mistake": (COD + "severity = major\n", "第 6 行第 12 列不是正确的 TOML 写法"),
}


@pytest.mark.parametrize("text, named", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_mistake_names_its_file_and_table(tmp_path, text, named):
    path = tmp_path / "alerts.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AlertConfigError) as raised:
        load_alerts(path, {})
    assert str(raised.value).startswith("alerts.toml") and named in str(raised.value)


def test_a_header_written_as_a_number_is_sent_as_text(tmp_path):
    # It was taken at load, and every send failed as InvalidHeader.
    recorder = Recorder()
    try:
        path = tmp_path / "alerts.toml"
        hook = f'[channels.h]\ntype = "webhook"\nurl = "{recorder.url("/hook")}"\n'
        path.write_text(hook + "headers = { X-App-Id = 10086 }\n", encoding="utf-8")
        channel = load_alerts(path, {}).channels["h"]
        channel.send(Message("k-1", "【产生】COD", ("区划：甲村",), "major", {}))
        (received,) = recorder.at("/hook")
        assert received.headers["X-App-Id"] == "10086"
    finally:
        recorder.close()


def test_a_notifications_key_is_unique_beyond_its_warehouse():
    # Two counties sending to one city webhook both keyed alert-1-event-1-city (a rebuilt warehouse too), and a
    # receiver dropping repeats by key, as the README advises, lost the second county's alert.
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from etl.alerts.message import render

    def keyed(region: str, at: datetime) -> str:
        alert = SimpleNamespace(
            id=1, region_code=region, owner_code=region, severity="major", detail="COD 72", rule_id="cod",
            name="污水COD超标", status="open", value=72.0,
        )  # fmt: skip
        event = SimpleNamespace(id=1, kind="opened", level="village", at=at, actor=None, note=None)
        return render(alert, event, {}, "city").key

    first = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert keyed("330522101201", first) != keyed("140921102201", first)  # another county
    assert keyed("330522101201", first) != keyed("330522101201", datetime(2027, 1, 3, tzinfo=UTC))  # rebuilt
    assert keyed("330522101201", first) == keyed("330522101201", first)  # the same for every retry
