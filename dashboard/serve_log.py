"""gunicorn's logger writing the county's local time (UTC+8) in its error and access lines, as every screen and
report does, whatever the host's zone, and no secret of an address in its access lines: a household's code
(/h/<code> opens its page, cases and photos) and a screen's token (?token=…) are masked."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from gunicorn.glogging import Logger

from dashboard.panels import LOCAL

HOUSEHOLD_CODE = re.compile(r"(/h/)[^/?#\s\"]+")
TOKEN_PARAMETER = re.compile(r"((?:^|[?&])token=)[^&#\s\"]+")


def masked(text: str) -> str:
    """A request line, path, query or referer with household codes and tokens replaced by …."""
    return TOKEN_PARAMETER.sub(r"\1…", HOUSEHOLD_CODE.sub(r"\1…", text))


class LocalTimeFormatter(logging.Formatter):
    """A formatter whose %(asctime)s is local time with its +0800 offset."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        moment = datetime.fromtimestamp(record.created, LOCAL)
        return moment.strftime(datefmt) if datefmt else moment.isoformat(sep=" ", timespec="seconds")


class LocalTimeLogger(Logger):
    """gunicorn's Logger with local times: the access line's %(t)s and the error log's timestamp."""

    def setup(self, cfg) -> None:
        """gunicorn's setup, then every handler it gave its logs formats time in local time."""
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if handler.formatter is not None:
                    handler.setFormatter(LocalTimeFormatter(handler.formatter._fmt, handler.formatter.datefmt))

    def atoms(self, resp, req, environ, request_time) -> dict:
        """gunicorn's atoms of an access line, every text of the address masked (request line, path, query, headers
        such as the referer)."""
        found = super().atoms(resp, req, environ, request_time)
        for key, value in found.items():
            if isinstance(value, str) and (key in ("r", "U", "q", "f") or key.endswith("}i")):
                found[key] = masked(value)
        return found

    def now(self) -> str:
        """The access line's time, in Apache's format."""
        return datetime.now(LOCAL).strftime("[%d/%b/%Y:%H:%M:%S %z]")
