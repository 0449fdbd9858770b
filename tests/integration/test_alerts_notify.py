"""Notifications against local servers: every channel receives what its format says (DingTalk's signature
recomputed), a failure is retried after its backoff, nothing is sent twice after the evaluator restarts, quiet
hours defer non-critical notifications and then deliver them, critical ones go at once; on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac

import pytest
from sqlalchemy import select

from etl.alerts.evaluate import Evaluator
from etl.alerts.notify import deliver
from etl.alerts.service import AlertService
from etl.warehouse.accounts import User
from etl.warehouse.alerts import acknowledge
from etl.warehouse.schema import notifications
from tests.alert_county import COD_RULE, VILLAGE_A1, VILLAGE_B1, Clock, alerts_file, county, reading  # noqa: F401
from tests.alert_servers import Mailbox, Recorder

RULE = (
    COD_RULE
    + """severity = "{severity}"
"""
)


@pytest.fixture
def engine(county):  # noqa: F811 - the shared fixture, imported
    return county


@pytest.fixture
def servers():
    recorder, mailbox = Recorder(), Mailbox()
    yield recorder, mailbox
    recorder.close()
    mailbox.close()


def _hook(recorder: Recorder, line: str) -> str:
    """A webhook channel to the recorder's /hook with one more setting."""
    return f'[channels.hook]\ntype = "webhook"\nurl = "{recorder.url("/hook")}"\n{line}\n'


def _channels(recorder: Recorder, mailbox: Mailbox) -> str:
    return f"""
[channels.ding]
type = "dingtalk"
url = "{recorder.url("/robot/send")}?access_token=abc"
secret_env = "DING_SECRET"
at_mobiles = ["13800000000"]

[channels.wecom]
type = "wecom"
url = "{recorder.url("/cgi-bin/webhook/send")}?key=k1"

[channels.hook]
type = "webhook"
url = "{recorder.url("/hook")}"
headers = {{ Authorization = "Bearer t" }}

[channels.sms]
type = "sms"
url = "{recorder.url("/sms")}"
phones = ["13900000001", "13900000002"]
body = {{ mobiles = "{{phones}}", content = "{{text}}", sign = "乡村大脑" }}
success_field = "code"
success_value = 0

[channels.mail]
type = "email"
host = "127.0.0.1"
port = {mailbox.port}
security = "none"
sender = "alerts@example.cn"
to = ["duty@example.cn"]
"""


def test_every_channel_receives_its_format(engine, tmp_path, servers):
    recorder, mailbox = servers
    config = alerts_file(tmp_path, RULE.format(severity="major") + _channels(*servers), {"DING_SECRET": "SECabc"})
    clock = Clock()
    reading(engine, "SEW-1", "cod", 72.5, clock.now)
    Evaluator(engine, config, clock).evaluate()
    assert deliver(engine, config.channels, clock).sent == 5

    (ding,) = recorder.at("/robot/send")
    timestamp = ding.query["timestamp"]
    expected = base64.b64encode(hmac.new(b"SECabc", f"{timestamp}\nSECabc".encode(), hashlib.sha256).digest()).decode()
    assert ding.query["sign"] == expected and ding.query["access_token"] == "abc"
    assert "sign=" + expected.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D") in ding.query["_raw"]
    assert ding.body["msgtype"] == "markdown" and ding.body["markdown"]["title"] == "【新告警】污水COD超标"
    assert "甲村" in ding.body["markdown"]["text"] and "72.5" in ding.body["markdown"]["text"]
    assert ding.body["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
    assert "@13800000000" in ding.body["markdown"]["text"]

    (wecom,) = recorder.at("/cgi-bin/webhook/send")
    assert wecom.query["key"] == "k1" and "timestamp" not in wecom.query
    assert wecom.body["msgtype"] == "markdown" and "污水COD超标" in wecom.body["markdown"]["content"]

    (hook,) = recorder.at("/hook")
    assert hook.headers["Authorization"] == "Bearer t"
    assert hook.headers["Idempotency-Key"] == hook.body["key"]
    alert = hook.body["alert"]
    assert (alert["rule"], alert["event"], alert["region_code"], alert["level"]) == (
        "cod",
        "opened",
        VILLAGE_A1,
        "village",
    )
    assert alert["value"] == 72.5 and alert["severity"] == "major"

    (sms,) = recorder.at("/sms")
    assert sms.body["mobiles"] == "13900000001,13900000002" and sms.body["sign"] == "乡村大脑"
    assert sms.body["content"].startswith("【新告警】污水COD超标")

    (mail,) = mailbox.messages
    assert mail.rcpt_tos == ["duty@example.cn"] and mail.mail_from == "alerts@example.cn"
    message = email.message_from_bytes(mail.original_content)
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert subject == "【新告警】污水COD超标" and message["Message-ID"].endswith("@ruralbrain>")
    assert "甲村" in message.get_payload(decode=True).decode()


def test_a_failure_is_retried_after_its_backoff_and_nothing_is_sent_twice_after_a_restart(engine, tmp_path, servers):
    recorder, _mailbox = servers
    hook = _hook(recorder, 'retry = { attempts = 3, backoff = "30s" }')
    config = alerts_file(tmp_path, RULE.format(severity="major") + hook)
    recorder.failures["/hook"] = 1  # the receiver answers 500 once
    clock = Clock()
    reading(engine, "SEW-1", "cod", 72.5, clock.now)
    Evaluator(engine, config, clock).evaluate()
    assert deliver(engine, config.channels, clock).retried == 1 and recorder.at("/hook") == []
    clock.advance(seconds=29)
    assert deliver(engine, config.channels, clock).sent == 0  # the backoff has not passed
    clock.advance(seconds=1)
    assert deliver(engine, config.channels, clock).sent == 1
    assert len(recorder.at("/hook")) == 1
    with engine.connect() as connection:
        row = connection.execute(select(notifications)).one()
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)  # the 500 was the first attempt

    # A restart: a new evaluator and notifier over the same warehouse evaluate and deliver again.
    config_again = alerts_file(tmp_path, RULE.format(severity="major") + hook)
    service = AlertService(engine, config_again, clock)
    service.evaluator.sweep()
    service.deliver()
    assert len(recorder.at("/hook")) == 1
    # A state change later is one notification more, once.
    reading(engine, "SEW-1", "cod", 40.0, clock.advance(minutes=1))
    service.evaluator.evaluate()
    service.deliver()
    service.deliver()
    assert [item.body["alert"]["event"] for item in recorder.at("/hook")] == ["opened", "resolved"]


def test_attempts_spent_leave_the_notification_failed_in_the_log(engine, tmp_path, servers):
    recorder, _mailbox = servers
    hook = _hook(recorder, 'retry = { attempts = 2, backoff = "1s" }')
    config = alerts_file(tmp_path, RULE.format(severity="major") + hook)
    recorder.failures["/hook"] = 5
    clock = Clock()
    reading(engine, "SEW-1", "cod", 72.5, clock.now)
    Evaluator(engine, config, clock).evaluate()
    deliver(engine, config.channels, clock)
    clock.advance(seconds=1)
    assert deliver(engine, config.channels, clock).failed == 1
    with engine.connect() as connection:
        assert connection.execute(select(notifications.c.status, notifications.c.attempts)).one() == ("failed", 2)


def test_quiet_hours_defer_until_they_end_and_critical_alerts_go_at_once(engine, tmp_path, servers):
    recorder, _mailbox = servers
    hook = _hook(recorder, 'quiet_hours = "22:00-07:00"')
    config = alerts_file(
        tmp_path,
        RULE.format(severity="major")
        + '\n[rules.bins]\nname = "垃圾桶满溢"\nkind = "reading"\nmetric = "fill_level"\nfire = ">= 90"\n'
        + 'severity = "critical"\n'
        + hook,
    )
    clock = Clock()
    clock.now = clock.now.replace(hour=15)  # 23:00 local
    reading(engine, "SEW-1", "cod", 72.5, clock.now)
    reading(engine, "BIN-1", "fill_level", 95.0, clock.now, VILLAGE_B1)
    Evaluator(engine, config, clock).evaluate()
    deliver(engine, config.channels, clock)
    assert [item.body["alert"]["rule"] for item in recorder.at("/hook")] == ["bins"]  # critical: at once
    clock.advance(hours=7, minutes=59)  # 06:59 local
    assert deliver(engine, config.channels, clock).sent == 0
    clock.advance(minutes=1)  # 07:00: the quiet hours end, the deferred one goes out
    assert deliver(engine, config.channels, clock).sent == 1
    assert [item.body["alert"]["rule"] for item in recorder.at("/hook")] == ["bins", "cod"]


def test_routes_choose_channels_by_level_region_and_event(engine, tmp_path, servers):
    recorder, _mailbox = servers
    routes = f"""
[channels.village_a1]
type = "webhook"
url = "{recorder.url("/a1")}"
regions = ["{VILLAGE_A1}"]
levels = ["village"]

[channels.county]
type = "webhook"
url = "{recorder.url("/county")}"
levels = ["township", "county"]
events = ["escalated", "acknowledged"]
"""
    rule = RULE.format(severity="major") + 'escalate = { village = "30m" }\n'
    config = alerts_file(tmp_path, rule + routes)
    clock = Clock()
    reading(engine, "SEW-1", "cod", 72.5, clock.now, VILLAGE_A1)
    reading(engine, "SEW-2", "cod", 72.5, clock.now, VILLAGE_B1)
    service = AlertService(engine, config, clock)
    service.evaluator.evaluate()
    clock.advance(minutes=30)
    service.evaluator.sweep()  # both escalate to their townships
    with engine.begin() as connection:
        from etl.warehouse.alerts import open_alerts

        b1 = next(alert for alert in open_alerts(connection, VILLAGE_B1[:9]))
        acknowledge(connection, b1.id, User("xizhen", "西镇", "township", VILLAGE_B1[:9] + "000"), "收到")
    service.deliver()  # plans the acknowledgement written outside the evaluator, then sends
    service.deliver()  # the next round: an alert's later event waits behind its earlier one on each channel
    assert [item.body["alert"]["event"] for item in recorder.at("/a1")] == ["opened"]
    at_county = sorted(
        (item.body["alert"]["region_code"], item.body["alert"]["event"]) for item in recorder.at("/county")
    )
    assert at_county == [(VILLAGE_A1, "escalated"), (VILLAGE_B1, "acknowledged"), (VILLAGE_B1, "escalated")]
