"""Notification channels, one module each (``TYPE``), discovered: a new channel is one new file.

A channel module has ``TYPE``, ``KEYS`` (its own keys) and ``build(entry, where)``, which returns a sender: a
callable taking a Message that returns when the message was accepted and raises DeliveryError otherwise. A module
whose messages go out in parts (an SMS one phone at a time) says ``IN_PARTS = True``; its sender also takes a
Reached, the parts delivered already, kept with the notification in the warehouse. Every channel also takes the
routing keys (levels, regions, severities, events), ``quiet_hours``, ``retry`` and ``enabled``. A key
``x_env = "VAR"`` takes ``x`` from the environment; while VAR is unset the channel is off."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from etl.alerts.errors import AlertConfigError
from etl.alerts.routing import QuietHours, Route, parse_quiet_hours, parse_route
from etl.feeds import FeedConfigError, parse_duration

COMMON_KEYS = ("type", "enabled", "levels", "regions", "severities", "events", "quiet_hours", "retry")


class DeliveryError(Exception):
    """A message a channel could not deliver now (it is tried again later); the text says why."""


class Unreachable(DeliveryError):
    """The receiver did not answer (no connection, or no answer in full in time): the channel's other notifications
    wait for the next round rather than each waiting out the same time."""


class Reached:
    """The parts of one notification its channel has delivered (an SMS's phones, as the sender names them). The
    notifier fills it from the notification's row and records each part added there before the sender goes on, so
    a retry, in whichever process, skips what was reached; without a recorder it lasts one call."""

    def __init__(self, parts: Iterable[str] = (), record: Callable[[str], None] | None = None):
        self.parts, self.record = set(parts), record

    def __contains__(self, part: str) -> bool:
        return part in self.parts

    def add(self, part: str) -> None:
        """A part was accepted: kept (in the warehouse first, when there is a recorder)."""
        if self.record is not None:
            self.record(part)
        self.parts.add(part)


@dataclass(frozen=True)
class Channel:
    """A declared channel: how it sends, what it gets, when it keeps quiet, how it retries; ``in_parts``: its sender
    takes a Reached besides the message."""

    name: str
    type: str
    send: Callable
    route: Route
    quiet: QuietHours | None
    attempts: int
    backoff: timedelta
    in_parts: bool = False

    def retry_after(self, attempts: int) -> timedelta:
        """How long to wait after the ``attempts``-th failure: the backoff doubling each time, at most an hour."""
        # The exponent is bounded first: 30 s × 2**42 overflowed a timedelta, and the notification was re-sent
        # every lease for ever. Past 2**20 every backoff is over an hour anyway.
        return min(self.backoff * 2 ** min(attempts - 1, 20), timedelta(hours=1))


@cache
def channel_types() -> dict:
    """Every channel module of this package by its ``TYPE``."""
    modules = (importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__))
    return {module.TYPE: module for module in modules if hasattr(module, "TYPE")}


def _from_environment(entry: dict, environment) -> dict | None:
    """The entry with each ``x_env`` key replaced by ``x`` from the environment; None while one is unset."""
    resolved = {}
    for key, value in entry.items():
        if key.endswith("_env"):
            found = environment.get(str(value), "")
            if not found:
                return None
            resolved[key[:-4]] = found
        else:
            resolved[key] = value
    return resolved


def _retry(entry: dict, where: str) -> tuple[int, timedelta]:
    retry = entry.get("retry", {})
    attempts = retry.get("attempts", 10) if isinstance(retry, dict) else None
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
        raise AlertConfigError(f'{where}.retry：应是 {{ attempts = 10, backoff = "30s" }} 这样的表')
    try:
        backoff = parse_duration(retry.get("backoff", "30s"), f"{where}.retry.backoff")
    except FeedConfigError:
        raise AlertConfigError(f"{where}.retry.backoff：'{retry.get('backoff')}' 不是时长（例如 30s）") from None
    return attempts, backoff


def parse_channel(name: str, entry: dict, where: str, environment) -> Channel | None:
    """A channel from its table in the file, or None when it is off (``enabled = false`` or an ``*_env`` variable
    unset); AlertConfigError naming the key."""
    if not isinstance(entry, dict):
        raise AlertConfigError(f"{where}：应是一个表（[channels.{name}]）")
    module = channel_types().get(entry.get("type"))
    if module is None:
        raise AlertConfigError(
            f"{where}.type：'{entry.get('type')}' 不是通知渠道（{'、'.join(sorted(channel_types()))}）"
        )
    keys = {key[:-4] if key.endswith("_env") else key for key in entry}
    unknown = sorted(keys - set(COMMON_KEYS) - set(module.KEYS))
    if unknown:
        allowed = "、".join((*COMMON_KEYS, *module.KEYS))
        raise AlertConfigError(f"{where}：不认识的键 {'、'.join(unknown)}（{module.TYPE} 渠道可用：{allowed}）")
    route, quiet = parse_route(entry, where), parse_quiet_hours(entry.get("quiet_hours"), where)
    attempts, backoff = _retry(entry, where)
    resolved = _from_environment(entry, environment)
    if resolved is None or not flag(resolved, "enabled", where, True):
        return None
    in_parts = getattr(module, "IN_PARTS", False)
    return Channel(name, module.TYPE, module.build(resolved, where), route, quiet, attempts, backoff, in_parts)


TRUE, FALSE = {"true", "1", "yes", "on", "是"}, {"false", "0", "no", "off", "否"}


def flag(entry: dict, key: str, where: str, default: bool = False) -> bool:
    """A true/false key, from the file (a boolean) or the environment (a text such as "false", which bool() took
    for true: a DingTalk robot told at_all_env = "false" @-ed the whole group on every alert)."""
    value = entry.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise AlertConfigError(f"{where}.{key}：应为 true 或 false，不是 {value!r}")


def required(entry: dict, key: str, where: str) -> str:
    """A key the channel cannot do without; AlertConfigError naming it."""
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise AlertConfigError(f"{where}.{key}：需要填写（或用 {key}_env 指定环境变量）")
    return value.strip()


def header_table(entry: dict, where: str) -> dict[str, str]:
    """The ``headers`` table as HTTP wants it, texts (a number written bare becomes its text: X-App-Id = 10086 was
    taken at load and failed every send as InvalidHeader)."""
    value = entry.get("headers", {})
    if not isinstance(value, dict):
        raise AlertConfigError(f'{where}.headers：应是表，例如 {{ Authorization = "Bearer …" }}')
    found = {}
    for name, text in value.items():
        if isinstance(text, bool) or not isinstance(text, str | int | float):
            raise AlertConfigError(f"{where}.headers.{name}：应是文字，不是 {text!r}")
        found[str(name)] = str(text)
    return found


def text_list(entry: dict, key: str, where: str) -> tuple[str, ...]:
    """A key holding a list of texts (one text is a list of one)."""
    value = entry.get(key, [])
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise AlertConfigError(f"{where}.{key}：应是文本列表")
    return tuple(value)
