"""The screens' access log never holds a secret from an address: a household's code (/h/<code>, which opens its
page, cases and photos) or a screen's token (?token=…), in the request line, the path, the query or the referer.
Both were written in full by `ruralbrain serve` and the systemd unit."""

from __future__ import annotations

import datetime
import logging
import types

from gunicorn.config import Config

from dashboard.serve_log import LocalTimeLogger

CODE = "1MNQb0Z3KTbnV7OIhp1QVQ"
TOKEN = "Zr4m5-qW8sQ2kLx9"


def _line(path: str, query: str, referer: str) -> str:
    config = Config()
    config.set("accesslog", "-")
    logger = LocalTimeLogger(config)
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger.access_log.handlers = [handler]
    uri = path + (f"?{query}" if query else "")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": uri,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_REFERER": referer,
        "REMOTE_ADDR": "10.0.0.1",
    }
    response = types.SimpleNamespace(status="200 OK", sent=10, headers=[])
    request = types.SimpleNamespace(headers=[("REFERER", referer)])
    logger.access(response, request, environ, datetime.timedelta(milliseconds=5))
    return lines[0]


def test_household_codes_and_screen_tokens_are_masked_in_access_lines():
    line = _line(f"/h/{CODE}/files/ab.jpg", "", f"https://host/h/{CODE}")
    assert CODE not in line and '"GET /h/…/files/ab.jpg HTTP/1.1" 200' in line
    line = _line("/screen/county", f"kiosk=1&screen=wall-01&token={TOKEN}", "-")
    assert TOKEN not in line and "screen=wall-01&token=…" in line
