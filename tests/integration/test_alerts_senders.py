"""Alert senders as a hostile review met them, on SQLite and PostgreSQL: a receiver's redirect is not followed and
its answer stays out of the log, an SMTP server cannot hold a sender past its deadline, a killed sender's claim
runs out soon, and an unresponsive receiver does not hold the other channels back."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
from sqlalchemy import select, update

from etl.alerts import notify
from etl.alerts.channels import email as email_channel
from etl.alerts.channels import http
from etl.alerts.evaluate import Evaluator
from etl.alerts.notify import deliver
from etl.warehouse.db import as_utc
from etl.warehouse.schema import notifications
from tests.alert_county import COD_RULE, Clock, alerts_file, reading
from tests.alert_county import county as warehouse  # noqa: F401 - the shared fixture

COD = COD_RULE


@pytest.fixture
def county(warehouse):  # noqa: F811
    return warehouse


class Scripted:
    """An HTTP server on a loopback port answering every request with ``answer(handler)``; what came is kept."""

    def __init__(self, answer):
        self.seen: list[tuple[str, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                server.seen.append((self.path, dict(self.headers)))
                status, headers, body = answer(self)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _any  # noqa: N815 - http.server's names

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _errors(engine) -> list[tuple[str, str | None]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(notifications.c.status, notifications.c.error))]


@pytest.mark.parametrize("kind", ["webhook", "sms"])
def test_a_redirect_is_not_followed_and_its_target_never_hears_the_secret(county, tmp_path, kind):
    # requests followed a 307 to any host: the alert and the channel's X-Api-Key reached an internal service, and
    # its answer ("internal_secret") was kept in the log and said on etl watch's output.
    internal = Scripted(lambda _handler: (403, {}, b'{"internal_secret":"db-password-123"}'))
    outside = Scripted(lambda _handler: (307, {"Location": internal.url("/admin/drop")}, b""))
    try:
        extra = 'phones = ["13800000000"]\n' if kind == "sms" else ""
        channel = (
            f'[channels.out]\ntype = "{kind}"\nurl = "{outside.url("/send")}"\n{extra}'
            'headers = { X-Api-Key = "SECRET-KEY-42" }\nretry = { attempts = 1 }\n'
        )
        config = alerts_file(tmp_path, COD + channel)
        clock = Clock()
        reading(county, "SEW-1", "cod", 72.5, clock.now)
        Evaluator(county, config, clock).evaluate()
        done = deliver(county, config.channels, clock)
        assert internal.seen == [] and len(outside.seen) == 1
        [(status, error)] = _errors(county)
        assert status == "failed" and error.startswith("接收方要求重定向（HTTP 307），未跟随")
        assert "SECRET" not in error and "internal" not in error and "127.0.0.1" not in error
        assert all("internal" not in said for said in done.given_up)
    finally:
        internal.close()
        outside.close()


def test_a_refusals_answer_reaches_the_log_as_a_short_clean_excerpt(county, tmp_path):
    # The answer's first 200 characters went into the log as they came: terminal escapes and lines included.
    body = ("\x1b[2J\x1b[31m拒绝\r\n伪造行\u202e" + "x" * 500).encode()
    receiver = Scripted(lambda _handler: (500, {"Content-Type": "text/plain; charset=utf-8"}, body))
    try:
        config = alerts_file(
            tmp_path,
            COD + f'[channels.hook]\ntype = "webhook"\nurl = "{receiver.url("/h")}"\nretry = {{ attempts = 1 }}\n',
        )
        clock = Clock()
        reading(county, "SEW-1", "cod", 72.5, clock.now)
        Evaluator(county, config, clock).evaluate()
        deliver(county, config.channels, clock)
        [(status, error)] = _errors(county)
        assert status == "failed" and error.startswith("HTTP 500：")
        assert "\x1b" not in error and "\n" not in error and "\r" not in error and "\u202e" not in error
        assert "拒绝 伪造行" in error and len(error) < 140
    finally:
        receiver.close()


class DribblingSmtp:
    """An SMTP server sending its greeting a byte every ``gap`` seconds; ``closed`` is set when the client hangs up."""

    def __init__(self, gap: float = 0.5):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = threading.Event()
        threading.Thread(target=self._serve, args=(gap,), daemon=True).start()

    def _serve(self, gap: float) -> None:
        with contextlib.suppress(OSError):
            connection, _ = self.listener.accept()
            with connection:
                for byte in b"220 " + b"x" * 400:
                    connection.send(bytes([byte]))
                    time.sleep(gap)
        self.closed.set()

    def close(self) -> None:
        self.listener.close()


def test_an_smtp_server_dribbling_its_greeting_is_hung_up_on_at_the_deadline(county, tmp_path, monkeypatch):
    # smtplib's timeout bounds each read: a greeting sent a byte every 3 s held deliver() for as long as the server
    # liked, and past the lease a second sender sent the same email again.
    monkeypatch.setattr(email_channel, "DEADLINE", 2, raising=False)
    server = DribblingSmtp()
    try:
        mail = (
            f'[channels.mail]\ntype = "email"\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'
            'sender = "alerts@example.cn"\nto = ["duty@example.cn"]\n'
        )
        config = alerts_file(tmp_path, COD + mail)
        clock = Clock()
        reading(county, "SEW-1", "cod", 72.5, clock.now)
        Evaluator(county, config, clock).evaluate()
        done: list = []
        sender = threading.Thread(target=lambda: done.append(deliver(county, config.channels, clock)), daemon=True)
        sender.start()
        sender.join(60)  # the server would dribble for 200 s
        assert not sender.is_alive() and done[0].retried == 1
        assert server.closed.wait(30)  # the sender hung up
        [(status, error)] = _errors(county)
        assert status == "pending" and error.startswith("超时：SMTP 会话 2 秒内没有完成")
    finally:
        server.close()


def _webhook(name: str, url: str) -> str:
    return f'[channels.{name}]\ntype = "webhook"\nurl = "{url}"\n'


CRITICAL = """
[rules.nh3n]
name = "氨氮严重超标"
kind = "reading"
metric = "nh3n"
fire = "> 20"
clear = "<= 10"
severity = "critical"
"""


def test_a_killed_senders_claim_runs_out_soon(county, tmp_path):
    # Every claimed row was given the full five-minute lease: a process killed mid-round held its whole batch, the
    # healthy channels' rows included, from every other sender for five minutes.
    receiver = Scripted(lambda _handler: (200, {}, b"{}"))
    try:
        config = alerts_file(tmp_path, COD + _webhook("good", receiver.url("/good")))
        clock = Clock()
        for number in range(5):
            reading(county, f"SEW-{number}", "cod", 72.5, clock.now)
        Evaluator(county, config, clock).evaluate()
        claimed, _lease = notify._claim(county, config.channels, clock(), getattr(notify, "CLAIM_BATCH", 500))
        assert len(claimed) == 5  # then the process is killed: none of them started
        clock.advance(minutes=1)
        assert deliver(county, config.channels, clock).sent == 5 and len(receiver.seen) == 5
    finally:
        receiver.close()


def test_an_unresponsive_receiver_is_left_alone_for_the_round_and_critical_alerts_go_first(
    county, tmp_path, monkeypatch
):
    # A receiver accepting connections and never answering cost 10 s for every one of its notifications, 8 at a
    # time, and every other channel's waited behind them: 48 s for a critical alert to reach a healthy robot.
    monkeypatch.setattr(http, "TIMEOUT", 2)
    hole = socket.create_server(("127.0.0.1", 0), backlog=100)  # connects, never answers
    receiver = Scripted(lambda _handler: (200, {}, b"{}"))
    try:
        dead = _webhook("dead", f"http://127.0.0.1:{hole.getsockname()[1]}/hook")
        config = alerts_file(tmp_path, COD + CRITICAL + dead + _webhook("good", receiver.url("/good")))
        clock = Clock()
        for number in range(30):
            reading(county, f"SEW-{number}", "cod", 72.5, clock.now)
        Evaluator(county, config, clock).evaluate()
        clock.advance(seconds=1)
        reading(county, "NH-1", "nh3n", 30.0, clock.now)
        Evaluator(county, config, clock).evaluate()
        claimed, _lease = notify._claim(county, config.channels, clock(), 2)  # a claim of two rows
        messages = [orjson.loads(row.message) for row in claimed]
        assert [message["severity"] for message in messages] == ["critical", "critical"]
        with county.begin() as connection:  # given back, as by a sender stopping
            connection.execute(update(notifications).values(status="pending", lease_until=None))

        done = deliver(county, config.channels, clock)
        assert len(receiver.seen) == 31 and done.sent == 31
        with county.connect() as connection:
            tried = connection.execute(
                select(notifications.c.attempts, notifications.c.status, notifications.c.due_at).where(
                    notifications.c.channel == "dead"
                )
            ).all()
        attempted = [row for row in tried if row.attempts]
        assert 1 <= len(attempted) <= notify.SENDERS and all(row.status == "pending" for row in tried)
        waiting = [row for row in tried if not row.attempts]
        assert len(waiting) == 31 - len(attempted) and all(as_utc(row.due_at) <= clock.now for row in waiting)
    finally:
        hole.close()
        receiver.close()
