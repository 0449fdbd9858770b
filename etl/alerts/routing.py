"""Which notifications a channel gets (owner levels, regions, severities, state changes) and when (quiet hours
that defer all but critical alerts to their end), as a channel declares them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from etl.alerts.errors import AlertConfigError
from etl.alerts.owner import OWNER_LEVELS
from etl.dataset import BEIJING
from etl.warehouse.alerts import EVENT_NAMES, SEVERITIES
from geo.codes import CodeError, scope_prefix

HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Route:
    """What a channel gets; an empty tuple means every one."""

    levels: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # code prefixes: a region and everything below it
    severities: tuple[str, ...] = ()
    events: tuple[str, ...] = ()

    def matches(self, level: str, region_code: str, severity: str, event: str) -> bool:
        """Whether a state change of an alert owned at ``level`` in ``region_code`` goes to the channel."""
        return (
            (not self.levels or level in self.levels)
            and (not self.regions or region_code.startswith(self.regions))
            and (not self.severities or severity in self.severities)
            and (not self.events or event in self.events)
        )


@dataclass(frozen=True)
class QuietHours:
    """Local hours (UTC+8) in which a channel gets no notification but critical ones; e.g. 22:00 to 07:00."""

    start: time
    end: time

    def deferred_until(self, moment: datetime) -> datetime | None:
        """The end of the quiet hours ``moment`` falls in (UTC), or None outside them."""
        local = moment.astimezone(BEIJING)
        now = local.time()
        wraps = self.start > self.end
        inside = (now >= self.start or now < self.end) if wraps else (self.start <= now < self.end)
        if not inside:
            return None
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(moment.tzinfo)


def _choices(entry: dict, key: str, allowed: tuple[str, ...], where: str) -> tuple[str, ...]:
    values = entry.get(key, [])
    values = [values] if isinstance(values, str) else list(values)
    wrong = [value for value in values if value not in allowed]
    if wrong:
        raise AlertConfigError(f"{where}.{key}：{'、'.join(map(str, wrong))} 不是 {'、'.join(allowed)} 之一")
    return tuple(values)


def parse_route(entry: dict, where: str) -> Route:
    """A channel's route from its levels, regions, severities and events keys."""
    regions = entry.get("regions", [])
    prefixes = []
    for code in [regions] if isinstance(regions, str) else regions:
        try:
            prefixes.append(scope_prefix(str(code)))
        except CodeError as error:
            raise AlertConfigError(f"{where}.regions：{error}") from None
    return Route(
        _choices(entry, "levels", OWNER_LEVELS, where),
        tuple(prefixes),
        _choices(entry, "severities", SEVERITIES, where),
        _choices(entry, "events", tuple(EVENT_NAMES), where),
    )


def parse_quiet_hours(value: object, where: str) -> QuietHours | None:
    """Quiet hours from "22:00-07:00" (local), or None when not given."""
    if value is None:
        return None
    match = HOURS.match(str(value))
    try:
        start, end = (time(int(match.group(i)), int(match.group(i + 1))) for i in (1, 3)) if match else (None, None)
    except ValueError:
        start = end = None
    if start is None or start == end:
        raise AlertConfigError(f"{where}.quiet_hours：'{value}' 不是免打扰时段（例如 \"22:00-07:00\"，本地时间）")
    return QuietHours(start, end)
