"""Rule kind "reading": a device's latest reading of a metric against a limit (COD > 60, bin fill ≥ 90 %), with a
clear condition apart from it (hysteresis). Every such rule is a range of the (metric, value) index."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from etl.alerts.conditions import Condition, check_hysteresis, check_reachable, parse_condition
from etl.alerts.errors import AlertConfigError
from etl.alerts.kinds import Observation, Seen, chunks, data_text
from etl.datasets.readings import METRIC_RANGES
from etl.warehouse.labels import METRIC_NAMES  # the names the screens use: one table
from etl.warehouse.schema import device_latest

KIND = "reading"
SCOPED_BY = "region"
KEYS = ("metric", "fire", "clear")


@dataclass(frozen=True)
class Params:
    """A metric, when it fires and when it clears."""

    metric: str
    fire: Condition
    clear: Condition


def parse(entry: dict, where: str) -> Params:
    """The rule's metric and conditions, checked."""
    metric = entry.get("metric")
    if metric not in METRIC_RANGES:
        raise AlertConfigError(f"{where}.metric：'{metric}' 不是读数指标（{'、'.join(METRIC_RANGES)}）")
    fire = parse_condition(entry.get("fire"), f"{where}.fire")
    # Readings outside the metric's range are quarantined at load: fill_level "> 150" loaded and never fired.
    check_reachable(fire, *METRIC_RANGES[metric], f"{where}.fire")
    clear = parse_condition(entry["clear"], f"{where}.clear") if "clear" in entry else fire.negated()
    check_hysteresis(fire, clear, f"{where}.clear")
    return Params(metric, fire, clear)


def datasets(params: Params) -> frozenset[str]:
    """Loads of readings touch it."""
    return frozenset({"readings"})


def subject(params: Params, device_id: str) -> str:
    """The alert's subject: the device's metric."""
    return f"device:{params.metric}:{device_id}"


def describe(params: Params, device_id: str, value: float) -> str:
    """What people read: the device, the metric, the value and the limit."""
    name = METRIC_NAMES.get(params.metric, params.metric)
    return f"设备 {data_text(device_id)} {name} {value:g}（告警条件 {params.fire.text()}）"


def observe(connection, params: Params, now, live: list, scope) -> Observation:
    """The devices whose latest reading fires, and the live alerts whose device now reads clear."""
    latest = device_latest.c
    query = select(latest.device_id, latest.region_code, latest.value).where(
        latest.metric == params.metric, params.fire.sql(latest.value)
    )
    if scope.regions is not None:
        query = query.where(latest.region_code.in_(sorted(scope.regions)))
    seen = Observation()
    for device_id, region_code, value in connection.execute(query):
        seen.firing[subject(params, device_id)] = Seen(region_code, value, describe(params, device_id, value))
    others = [alert.subject.split(":", 2)[2] for alert in live if alert.subject not in seen.firing]
    for part in chunks(others):
        values = select(latest.device_id, latest.value).where(
            latest.metric == params.metric, latest.device_id.in_(part)
        )
        for device_id, value in connection.execute(values):
            if params.clear.holds(value):
                name = METRIC_NAMES.get(params.metric, params.metric)
                seen.cleared[subject(params, device_id)] = f"{name} {value:g}（消除条件 {params.clear.text()}）"
    return seen
