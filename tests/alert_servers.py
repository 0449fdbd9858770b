"""Local servers that alert notifications go to in tests and benchmarks: an HTTP server recording every request
(webhooks, group robots, an SMS gateway) with scripted failures, and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.browser.conftest import free_port


@dataclass
class Received:
    """One request as the server saw it."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: object
    at: float  # time.monotonic() on arrival (benchmarks only)


@dataclass
class Recorder:
    """An HTTP server on a free loopback port: every POST is recorded; ``failures[path]`` answers that many
    requests with HTTP 500 first; robots' paths answer {"errcode": 0} like DingTalk and WeCom."""

    failures: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self):
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                at = time.monotonic()
                length = int(self.headers.get("Content-Length", 0))
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
                # The raw query too: DingTalk's sign must arrive URL-encoded.
                query["_raw"] = parsed.query
                body = json.loads(self.rfile.read(length) or b"null")
                with recorder.arrived:
                    failing = recorder.failures.get(parsed.path, 0)
                    if failing:
                        recorder.failures[parsed.path] = failing - 1
                    else:
                        recorder.received.append(Received(parsed.path, query, dict(self.headers), body, at))
                        recorder.arrived.notify_all()
                answer = json.dumps({"errcode": 0, "errmsg": "ok", "code": 0}).encode()
                self.send_response(500 if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        """What arrived at a path."""
        with self.arrived:
            return [item for item in self.received if item.path == path]

    def wait_for(self, count: int, timeout: float = 30) -> bool:
        """Wait until ``count`` requests have arrived in all."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.arrived.wait(left)
        return True

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """An SMTP server (aiosmtpd) on a free loopback port keeping every message it accepts."""

    def __init__(self):
        self.messages: list = []
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                mailbox.messages.append(envelope)
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


class SlowReceiver:
    """An HTTP receiver of group-robot and webhook POSTs that answers each path in ``slow`` after ``delay`` seconds,
    and each in ``dribble`` one byte every ``gap`` seconds for ``seconds`` (an overloaded host), the rest at once."""

    def __init__(self, slow=(), delay: float = 3.0, dribble: dict[str, tuple[float, float]] | None = None):
        self.received: list[tuple[str, object, float]] = []
        self.lock = threading.Lock()
        receiver, dribble = self, dribble or {}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's name
                path = self.path.split("?")[0]
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
                with receiver.lock:
                    receiver.received.append((path, body, time.monotonic()))
                answer = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
                padding = int(dribble[path][0] / dribble[path][1]) if path in dribble else 0
                if path in slow:
                    time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer) + padding))
                self.end_headers()
                for _ in range(padding):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(dribble[path][1])
                self.wfile.write(answer)

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def at(self, path: str) -> list:
        """The bodies POSTed to a path, in arrival order."""
        with self.lock:
            return [body for arrived, body, _ in self.received if arrived == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
