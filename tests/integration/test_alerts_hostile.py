"""Alerts as a hostile review met them, on SQLite and PostgreSQL: a channel told to keep trying for days keeps its
count and gives up; "false" from the environment is false; what data and notes say reaches the group robots as text,
never as a link or a heading."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from etl.alerts.config import load_alerts
from etl.alerts.evaluate import Evaluator
from etl.alerts.notify import deliver
from etl.alerts.service import AlertService
from etl.cli import main
from etl.dataset import BEIJING
from etl.warehouse.accounts import User
from etl.warehouse.alerts import acknowledge, open_alerts
from etl.warehouse.db import as_utc
from etl.warehouse.schema import alerts, notifications
from tests.alert_county import COD_RULE, VILLAGE_A1, Clock, alerts_file, reading
from tests.alert_county import county as warehouse  # noqa: F401 - the shared fixture
from tests.alert_servers import Recorder, SlowReceiver
from tests.browser.conftest import free_port

COD = COD_RULE


@pytest.fixture
def county(warehouse):  # noqa: F811
    return warehouse


@pytest.fixture
def recorder():
    served = Recorder()
    yield served
    served.close()


def test_a_channel_trying_for_days_counts_its_attempts_and_gives_up(county, tmp_path, recorder):
    # attempts = 60: after 42 failures 30 s × 2**42 overflowed; the row stayed 'sending', deliver() raised every
    # round, and the message went out again every five minutes for ever.
    hook = f'[channels.hook]\ntype = "webhook"\nurl = "{recorder.url("/hook")}"\n'
    config = alerts_file(tmp_path, COD + hook + 'retry = { attempts = 60, backoff = "30s" }\n')
    assert config.channels["hook"].retry_after(43) == timedelta(hours=1)
    clock = Clock()
    reading(county, "SEW-1", "cod", 72.5, clock.now)
    Evaluator(county, config, clock).evaluate()
    recorder.failures["/hook"] = 10_000  # the receiver is down for days
    for _ in range(62):
        deliver(county, config.channels, clock)
        clock.advance(hours=1, minutes=1)
    with county.connect() as connection:
        row = connection.execute(select(notifications.c.status, notifications.c.attempts)).one()
    assert (row.status, row.attempts) == ("failed", 60) and 10_000 - recorder.failures["/hook"] == 60


def test_false_from_the_environment_is_false(county, tmp_path, recorder):
    path = tmp_path / "alerts.toml"
    path.write_text(
        COD
        + f'[channels.ding]\ntype = "dingtalk"\nurl = "{recorder.url("/robot/send")}?access_token=abc"\n'
        + 'at_all_env = "DING_AT_ALL"\n'
        + f'[channels.sms]\ntype = "sms"\nurl = "{recorder.url("/sms")}"\nphones = ["13900000001"]\n'
        + 'enabled_env = "SMS_ENABLED"\n',
        encoding="utf-8",
    )
    config = load_alerts(path, {"DING_AT_ALL": "false", "SMS_ENABLED": "false"})
    assert sorted(config.channels) == ["ding"]
    clock = Clock()
    reading(county, "SEW-1", "cod", 72.5, clock.now)
    Evaluator(county, config, clock).evaluate()
    deliver(county, config.channels, clock)
    (ding,) = recorder.at("/robot/send")
    assert ding.body["at"]["isAtAll"] is False and not recorder.at("/sms")
    with pytest.raises(Exception, match=r"at_all：应为 true 或 false，不是 'maybe'"):
        load_alerts(path, {"DING_AT_ALL": "maybe", "SMS_ENABLED": "false"})


def test_data_and_notes_reach_the_group_robots_as_text(county, tmp_path, recorder):
    device = "SEW-1 [查看处置单](http://evil.example/login)"
    note = "收到\n\n### 【已消除】污水COD超标\n\n区划：甲村 情况已恢复正常"
    robots = f'[channels.ding]\ntype = "dingtalk"\nurl = "{recorder.url("/robot/send")}?access_token=abc"\n'
    robots += f'[channels.wecom]\ntype = "wecom"\nurl = "{recorder.url("/cgi-bin/webhook/send")}?key=k"\n'
    config = alerts_file(tmp_path, COD + robots)
    clock = Clock()
    reading(county, device, "cod", 72.5, clock.now)
    service = AlertService(county, config, clock)
    service.evaluator.evaluate()
    with county.begin() as connection:
        (alert,) = open_alerts(connection, VILLAGE_A1)
        clerk = User("cun", "甲村文书", "village", VILLAGE_A1)
        acknowledge(connection, alert.id, clerk, note, clock.now + timedelta(minutes=1))
    service.deliver()
    service.deliver()  # the acknowledgement follows the opening in the next round
    ding = [item.body["markdown"]["text"] for item in recorder.at("/robot/send")]
    wecom = [item.body["markdown"]["content"] for item in recorder.at("/cgi-bin/webhook/send")]
    assert len(ding) == len(wecom) == 2
    for text in ding + wecom:
        assert "](http://evil.example" not in text and "\n### 【已消除】" not in text
        assert text.startswith("### 【")  # the message's own heading stays
    assert any("SEW-1 ［查看处置单］（http://evil.example/login）" in text for text in ding)


def test_a_batch_behind_a_slow_channel_is_sent_once(county, tmp_path):
    # The lease was stamped once for a whole claimed batch: behind a slow channel it ran out, a second `etl watch`
    # took every row still 'sending' and sent it, then the first sent it too (9 of 16 DingTalk messages twice).
    receiver = SlowReceiver(slow={"/dead"}, delay=3.0)
    try:
        dead = f'[channels.dead]\ntype = "webhook"\nurl = "{receiver.url("/dead")}"\n'
        ding = f'[channels.ding]\ntype = "dingtalk"\nurl = "{receiver.url("/robot/send")}?access_token=abc"\n'
        config = alerts_file(tmp_path, COD + dead + ding)
        clock = Clock()
        for number in range(16):
            reading(county, f"SEW-{number}", "cod", 72.5, clock.now)
        Evaluator(county, config, clock).evaluate()
        first = threading.Thread(target=deliver, args=(county, config.channels, clock))
        first.start()
        time.sleep(1.0)  # its eight senders wait on /dead
        clock.advance(minutes=6)  # as after a few hundred time-outs
        deliver(county, config.channels, clock)  # another process's round
        first.join()
        sent = Counter(
            body["markdown"]["text"].split("告警编号：")[1].split()[0] for body in receiver.at("/robot/send")
        )
        assert len(sent) == 16 and set(sent.values()) == {1}, sent
    finally:
        receiver.close()


def test_a_receiver_answering_a_byte_at_a_time_is_given_up_on_in_time(county, tmp_path):
    # requests' timeout bounds each read: a webhook answering a byte every two seconds held the sender, and every
    # alert behind it, as long as it liked.
    receiver = SlowReceiver(dribble={"/drip": (30.0, 2.0)})
    try:
        drip = f'[channels.drip]\ntype = "webhook"\nurl = "{receiver.url("/drip")}"\n'
        config = alerts_file(tmp_path, COD + drip)
        clock = Clock()
        reading(county, "SEW-1", "cod", 72.5, clock.now)
        Evaluator(county, config, clock).evaluate()
        assert deliver(county, config.channels, clock).retried == 1
        with county.connect() as connection:
            error = connection.execute(select(notifications.c.error)).scalar()
        assert error.startswith("超时：10 秒内没有收完答复")
    finally:
        receiver.close()


def test_etl_watch_with_a_broken_alerts_file_names_the_mistake(tmp_path, monkeypatch):
    # AlertConfigError escaped `etl watch` as a traceback.
    broken = tmp_path / "alerts.toml"
    broken.write_text(COD.replace('fire = "> 60"', 'fire = "above sixty"'), encoding="utf-8")
    monkeypatch.setenv("ALERTS_FILE", str(broken))
    said = CliRunner().invoke(main, ["--var-dir", str(tmp_path / "var"), "etl", "watch"])
    assert said.exit_code == 1 and "告警配置有误：" in said.output and "rules.cod" in said.output, said.output
    assert "Traceback" not in said.output and isinstance(said.exception, SystemExit)


def test_a_notification_given_up_on_is_said_on_the_watchs_error_output(county, tmp_path, recorder, capsys):
    # A robot refusing every message ("sign not match") left a critical alert's notification failed in the log,
    # with nothing on stdout or stderr and no command listing it.
    hook = f'[channels.hook]\ntype = "webhook"\nurl = "{recorder.url("/hook")}"\n'
    config = alerts_file(tmp_path, COD + hook + 'retry = { attempts = 2, backoff = "30s" }\n')
    clock = Clock()
    reading(county, "SEW-1", "cod", 72.5, clock.now)
    service = AlertService(county, config, clock)
    service.evaluator.evaluate()
    recorder.failures["/hook"] = 10
    assert service.deliver().retried == 1 and "已放弃" not in capsys.readouterr().err
    clock.advance(minutes=5)
    assert service.deliver().failed == 1
    said = capsys.readouterr().err
    assert (
        "告警：已放弃发送：渠道 hook 的通知“【" in said
        and "污水COD超标”" in said
        and "在 2 次尝试后仍失败：HTTP 500" in said
    )


def test_a_retry_keeps_the_channels_quiet_hours(county, tmp_path, recorder):
    # Quiet hours were applied when a notification was planned only: a major alert failing at 21:59 went out at 22:04.
    hook = f'[channels.hook]\ntype = "webhook"\nurl = "{recorder.url("/hook")}"\nquiet_hours = "22:00-07:00"\n'
    config = alerts_file(tmp_path, COD + 'severity = "major"\n' + hook + 'retry = { attempts = 5, backoff = "5m" }\n')
    clock = Clock()
    clock.now = clock.now.replace(hour=13, minute=59)  # 21:59 local
    recorder.failures["/hook"] = 1
    reading(county, "SEW-1", "cod", 72.5, clock.now)
    Evaluator(county, config, clock).evaluate()
    assert deliver(county, config.channels, clock).retried == 1
    with county.connect() as connection:
        due = as_utc(connection.execute(select(notifications.c.due_at)).scalar()).astimezone(BEIJING)
    assert (due.hour, due.minute) == (7, 0) and due.date() > clock.now.astimezone(BEIJING).date()


class Gateway:
    """An SMS gateway that reaches 13900000001 and answers 500 for 13900000002 (every time, or its first
    ``refusals`` times)."""

    def __init__(self, refusals: int | None = None):
        self.delivered: list[str] = []
        self.refusals = refusals
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                reached = body["mobile"] != "13900000002" or gateway.refusals == 0
                if not reached and gateway.refusals is not None:
                    gateway.refusals -= 1
                if reached:
                    gateway.delivered.append(body["mobile"])
                answer = json.dumps({"code": 0 if reached else 1}).encode()
                self.send_response(200 if reached else 500)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _per_phone_sms(gateway: Gateway) -> str:
    sms = f'[channels.sms]\ntype = "sms"\nurl = "http://127.0.0.1:{gateway.server.server_address[1]}/sms"\n'
    sms += 'phones = ["13900000001", "13900000002"]\nper_phone = true\n'
    sms += 'body = { mobile = "{phone}", content = "{text}" }\nsuccess_field = "code"\nsuccess_value = 0\n'
    return sms + 'retry = { attempts = 3, backoff = "30s" }\n'


def test_an_sms_sent_one_phone_at_a_time_reaches_each_phone_once(county, tmp_path):
    # The second phone's refusal retried the whole message: the first phone got it again on every retry.
    gateway = Gateway()
    try:
        config = alerts_file(tmp_path, COD + _per_phone_sms(gateway))
        clock = Clock()
        reading(county, "SEW-1", "cod", 72.5, clock.now)
        Evaluator(county, config, clock).evaluate()
        for _ in range(3):
            deliver(county, config.channels, clock)
            clock.advance(hours=1)
        assert gateway.delivered == ["13900000001"]
    finally:
        gateway.server.shutdown()
        gateway.server.server_close()


def test_an_sms_retried_by_another_process_skips_the_phones_it_reached(county, tmp_path):
    # The phones a message had reached were kept in the sending process: a retry taken up by another `etl watch`,
    # or by the same one after a restart, sent the message again to the phones already reached.
    gateway = Gateway(refusals=1)  # the second phone is refused once
    try:
        clock = Clock()
        reading(county, "SEW-1", "cod", 72.5, clock.now)
        first = alerts_file(tmp_path, COD + _per_phone_sms(gateway))
        Evaluator(county, first, clock).evaluate()
        assert deliver(county, first.channels, clock).retried == 1
        assert gateway.delivered == ["13900000001"]
        clock.advance(seconds=30)
        another = alerts_file(tmp_path, COD + _per_phone_sms(gateway))  # a new process: its own senders
        assert deliver(county, another.channels, clock).sent == 1
        assert gateway.delivered == ["13900000001", "13900000002"]
        with county.connect() as connection:
            row = connection.execute(select(notifications.c.status, notifications.c.attempts)).one()
        assert (row.status, row.attempts) == ("sent", 2)
    finally:
        gateway.server.shutdown()
        gateway.server.server_close()


def test_an_alerts_notifications_reach_a_channel_in_the_order_of_its_events(county, tmp_path, recorder):
    # The receiver failed once: 新告警 waited out its backoff while 已消除, due at once, went first, and whoever read
    # the channel saw the alert open.
    config = alerts_file(tmp_path, COD + f'[channels.hook]\ntype = "webhook"\nurl = "{recorder.url("/hook")}"\n')
    clock = Clock()
    evaluator = Evaluator(county, config, clock)
    recorder.failures["/hook"] = 1
    reading(county, "SEW-1", "cod", 72.5, clock.now)
    evaluator.evaluate()
    deliver(county, config.channels, clock)  # refused: tried again in 30 s
    reading(county, "SEW-1", "cod", 40.0, clock.advance(seconds=10))
    evaluator.evaluate()
    deliver(county, config.channels, clock)
    for _ in range(3):
        clock.advance(seconds=30)
        deliver(county, config.channels, clock)
    assert [item.body["alert"]["event"] for item in recorder.at("/hook")] == ["opened", "resolved"]


def _escalating(recorder: Recorder, extra: str = "") -> str:
    """The COD rule escalating after 30 minutes at the village, a webhook keeping quiet 22:00–07:00 (and more)."""
    hook = f'[channels.hook]\ntype = "webhook"\nurl = "{recorder.url("/hook")}"\nquiet_hours = "22:00-07:00"\n'
    return COD + 'severity = "major"\nescalate = { village = "30m" }\n' + hook + extra


def _level(county) -> str:
    with county.connect() as connection:
        return connection.execute(select(alerts.c.level)).scalar()


def test_escalation_counts_from_the_end_of_the_quiet_hours(county, tmp_path, recorder):
    # Escalation counted from the opening: an alert opened at 23:00, its notification held back by quiet hours
    # until 07:00, escalated at 07:00 at once, before anyone at the village could have read it.
    config = alerts_file(tmp_path, _escalating(recorder))
    clock = Clock()
    clock.now = clock.now.replace(hour=15)  # 23:00 local
    reading(county, "SEW-1", "cod", 72.5, clock.now)
    service = AlertService(county, config, clock)
    service.evaluator.evaluate()
    service.deliver()
    assert recorder.at("/hook") == []  # quiet
    clock.advance(hours=8)  # 07:00: the notification goes out
    service.evaluator.sweep()
    service.deliver()
    assert _level(county) == "village"
    assert [item.body["alert"]["event"] for item in recorder.at("/hook")] == ["opened"]
    clock.advance(minutes=29)
    service.evaluator.sweep()
    assert _level(county) == "village"
    clock.advance(minutes=1)  # 07:30: thirty minutes since the village was told
    service.evaluator.sweep()
    service.deliver()
    assert _level(county) == "township"
    assert [item.body["alert"]["event"] for item in recorder.at("/hook")] == ["opened", "escalated"]


def test_escalation_counts_from_the_opening_when_a_channel_told_the_village_at_once(county, tmp_path, recorder):
    # A channel without quiet hours (or a critical alert) reaches the village at once: its thirty minutes run then.
    awake = f'[channels.duty]\ntype = "webhook"\nurl = "{recorder.url("/duty")}"\nlevels = ["village"]\n'
    config = alerts_file(tmp_path, _escalating(recorder, awake))
    clock = Clock()
    clock.now = clock.now.replace(hour=15)  # 23:00 local
    reading(county, "SEW-1", "cod", 72.5, clock.now)
    service = AlertService(county, config, clock)
    service.evaluator.evaluate()
    service.deliver()
    assert [item.body["alert"]["event"] for item in recorder.at("/duty")] == ["opened"]
    clock.advance(minutes=30)
    service.evaluator.sweep()
    assert _level(county) == "township"
