"""A loopback HTTP API for the HTTP source tests: a server answering each GET through a test's function."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


class Api:
    """A loopback HTTP server at ``url``: ``answer(path, query, handler)`` gives each GET's (status, headers, body)."""

    def __init__(self, answer: Callable, protocol_version: str = "HTTP/1.0") -> None:
        self.answer, self.seen = answer, []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                api.seen.append((self.path, self.headers.get("Authorization")))
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                answered = api.answer(parts.path, query, self)
                if answered is None:  # the answer wrote the response itself (handler.wfile)
                    return
                status, headers, body = answered
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        Handler.protocol_version = protocol_version
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"


def api_fixture(protocol_version: str = "HTTP/1.0"):
    """A fixture ``api``: ``api(answer)`` starts an Api speaking ``protocol_version``, shut down after the test."""

    @pytest.fixture
    def api() -> Iterator[Callable[..., Api]]:
        started: list[Api] = []

        def start(answer) -> Api:
            started.append(Api(answer, protocol_version))
            return started[-1]

        yield start
        for server in started:
            server.httpd.shutdown()
            server.httpd.server_close()

    return api


def ok(body: object, **headers) -> tuple[int, dict, bytes]:
    """A 200 answer of ``body``: bytes as they are, anything else as UTF-8 JSON."""
    return 200, headers, body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
