"""Rule kind "silence": a device that has not reported for a while (its newest reading of any metric is older
than ``after``), optionally of some kinds only; a reading clears it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from etl.alerts.errors import AlertConfigError
from etl.alerts.kinds import Observation, Seen, chunks, data_text
from etl.datasets.devices import KINDS
from etl.feeds import FeedConfigError, parse_duration
from etl.runner import local_text
from etl.status import duration_text
from etl.warehouse.db import as_utc
from etl.warehouse.schema import device_latest, devices

KIND = "silence"
SCOPED_BY = "region"
KEYS = ("after", "device_kinds")


@dataclass(frozen=True)
class Params:
    """How long without a reading is silence, and of which kinds of device (empty: every kind)."""

    after: timedelta
    device_kinds: tuple[str, ...]


def parse(entry: dict, where: str) -> Params:
    """The rule's silence and device kinds, checked (kinds as 摄像头 or camera)."""
    try:
        after = parse_duration(entry.get("after", ""), f"{where}.after")
    except FeedConfigError:
        raise AlertConfigError(f"{where}.after：'{entry.get('after')}' 不是时长（例如 30m、3h）") from None
    wanted = entry.get("device_kinds", [])
    chosen = []
    for kind in [wanted] if isinstance(wanted, str) else wanted:
        if kind not in KINDS and kind not in KINDS.values():
            raise AlertConfigError(f"{where}.device_kinds：'{kind}' 不是设备类型（{'、'.join(KINDS)}）")
        chosen.append(KINDS.get(kind, kind))
    return Params(after, tuple(chosen))


def datasets(params: Params) -> frozenset[str]:
    """Loads of readings touch it (a reading ends a silence)."""
    return frozenset({"readings"})


def _newest(params: Params):
    """Each device's region and newest reading time (of the chosen kinds)."""
    latest = device_latest.c
    query = select(latest.device_id, latest.region_code, func.max(latest.event_time).label("newest"))
    if params.device_kinds:
        kinds = select(devices.c.device_id).where(devices.c.kind.in_(params.device_kinds))
        query = query.where(latest.device_id.in_(kinds))
    return query.group_by(latest.device_id, latest.region_code)


def observe(connection, params: Params, now, live: list, scope) -> Observation:
    """The devices silent for longer than ``after``, and the live alerts whose device has reported since."""
    limit = now - params.after
    query = _newest(params).having(func.max(device_latest.c.event_time) < limit)
    if scope.regions is not None:
        query = query.where(device_latest.c.region_code.in_(sorted(scope.regions)))
    seen = Observation()
    for device_id, region_code, newest in connection.execute(query):
        newest = as_utc(newest)
        quiet = duration_text((now - newest).total_seconds())
        detail = f"设备 {data_text(device_id)} 已 {quiet} 未上报（最后 {local_text(newest)}）"
        seen.firing[f"device:{device_id}"] = Seen(region_code, None, detail)
    others = [alert.subject.split(":", 1)[1] for alert in live if alert.subject not in seen.firing]
    for part in chunks(others):
        for device_id, _region, newest in connection.execute(
            _newest(params).where(device_latest.c.device_id.in_(part))
        ):
            if as_utc(newest) >= limit:
                seen.cleared[f"device:{device_id}"] = (
                    f"设备 {data_text(device_id)} 已恢复上报（{local_text(as_utc(newest))}）"
                )
    return seen
