"""Rule kind "measure": a rolled-up measure of a region in the current hour or local day (cases received in a
village today, a township's mean AQI this hour) against a limit, with a clear condition apart from it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, select

from etl.alerts.conditions import Condition, check_hysteresis, parse_condition
from etl.alerts.errors import AlertConfigError
from etl.alerts.kinds import Observation, Seen
from etl.alerts.owner import OWNER_LEVELS
from etl.datasets import datasets as all_datasets
from etl.rollups import day_of, hour_of
from etl.warehouse.labels import measure_name
from etl.warehouse.schema import regions, rollups

KIND = "measure"
SCOPED_BY = "region"
KEYS = ("measure", "dimension", "grain", "statistic", "level", "fire", "clear")
STATISTICS = ("count", "total", "mean", "min", "max")
STATISTIC_NAMES = {"count": "条数", "total": "合计", "mean": "均值", "min": "最小值", "max": "最大值"}
GRAINS = {"hour": hour_of, "day": day_of}
GRAIN_NAMES = {"hour": "本小时", "day": "今日"}


@dataclass(frozen=True)
class Params:
    """A measure (and dimension), of which bucket, which statistic, at which level, when it fires and clears."""

    measure: str
    dimension: str
    grain: str
    statistic: str
    level: str
    fire: Condition
    clear: Condition


def _patterns() -> dict[str, list[re.Pattern]]:
    """Per dataset, its measures' names as patterns ("reading.{metric}" matches reading.cod)."""
    return {
        name: [re.compile("^" + re.sub(r"\\\{\w+\\\}", r"[^.]+", re.escape(m.name)) + "$") for m in dataset.measures]
        for name, dataset in all_datasets().items()
    }


def parse(entry: dict, where: str) -> Params:
    """The rule's measure, bucket, statistic, level and conditions, checked."""
    measure = str(entry.get("measure", ""))
    if not any(p.match(measure) for patterns in _patterns().values() for p in patterns):
        raise AlertConfigError(f"{where}.measure：'{measure}' 不是任何数据集的汇总指标")
    choices = {"grain": tuple(GRAINS), "statistic": STATISTICS, "level": OWNER_LEVELS}
    defaults = {"grain": "hour", "statistic": "count", "level": "village"}
    chosen = {key: entry.get(key, defaults[key]) for key in choices}
    for key, allowed in choices.items():
        if chosen[key] not in allowed:
            raise AlertConfigError(f"{where}.{key}：'{chosen[key]}' 不是 {'、'.join(allowed)} 之一")
    fire = parse_condition(entry.get("fire"), f"{where}.fire")
    clear = parse_condition(entry["clear"], f"{where}.clear") if "clear" in entry else fire.negated()
    check_hysteresis(fire, clear, f"{where}.clear")
    return Params(measure, str(entry.get("dimension", "")), **chosen, fire=fire, clear=clear)


def datasets(params: Params) -> frozenset[str]:
    """The datasets whose measures it names."""
    return frozenset(name for name, patterns in _patterns().items() if any(p.match(params.measure) for p in patterns))


def _value(params: Params, count, total, low, high) -> float | None:
    """The statistic of a bucket; a region without a row has a count and total of 0 and no mean, min or max."""
    count, total = count or 0, total or 0.0
    if params.statistic in ("count", "total"):
        return float(count if params.statistic == "count" else total)
    if not count:
        return None
    return {"mean": total / count, "min": low, "max": high}[params.statistic]


def observe(connection, params: Params, now, live: list, scope) -> Observation:
    """The regions of the rule's level whose statistic in the current bucket fires, and the live alerts whose
    region's statistic now clears."""
    r = rollups.c
    bucket = GRAINS[params.grain](now)
    joined = regions.outerjoin(
        rollups,
        and_(
            r.region_code == regions.c.code,
            r.grain == params.grain,
            r.bucket == bucket,
            r.measure == params.measure,
            r.dimension == params.dimension,
        ),
    )
    query = select(regions.c.code, r.count, r.total, r.min, r.max).select_from(joined)
    query = query.where(regions.c.level == params.level)
    if scope.regions is not None:
        query = query.where(regions.c.code.in_(sorted(scope.regions)))
    live_subjects = {alert.subject for alert in live}
    label = f"{GRAIN_NAMES[params.grain]} {measure_name(params.measure)} {STATISTIC_NAMES[params.statistic]}"
    seen = Observation()
    for code, *stats in connection.execute(query):
        value = _value(params, *stats)
        if value is None:
            continue
        subject = f"region:{params.measure}:{params.dimension}:{code}"
        if params.fire.holds(value):
            seen.firing[subject] = Seen(code, value, f"{label} {value:g}（告警条件 {params.fire.text()}）")
        elif subject in live_subjects and params.clear.holds(value):
            seen.cleared[subject] = f"{label} {value:g}（消除条件 {params.clear.text()}）"
    return seen
