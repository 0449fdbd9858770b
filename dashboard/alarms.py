"""Device status and open alarms from each device's latest reading: thresholds screens and rules agree on."""

from __future__ import annotations

import operator
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_

# metric → (comparison, threshold, alarm name); data, so Python and SQL apply the same rule.
# Sewage limits: GB 18918-2002 class 1B (COD 60 mg/L, NH3-N 8 mg/L).
RULES = {
    "fill_level": (operator.ge, 90, "垃圾桶满溢"),
    "cod": (operator.gt, 60, "污水COD超标"),
    "nh3n": (operator.gt, 8, "污水氨氮超标"),
    "online": (operator.lt, 0.5, "摄像头离线"),
    "aqi": (operator.gt, 150, "空气重度污染"),
}
# A device whose latest reading is older than this has stopped reporting.
SILENT_AFTER = timedelta(hours=3)


def device_status(latest: dict[str, tuple[datetime, float]], now: datetime) -> tuple[str, list[str]]:
    """("ok" | "alarm" | "silent", alarm names) for one device from {metric: (time, value)}."""
    if not latest or now - max(moment for moment, _ in latest.values()) > SILENT_AFTER:
        return "silent", []
    alarms = [
        name
        for metric, (_, value) in latest.items()
        if metric in RULES
        for compare, limit, name in [RULES[metric]]
        if compare(value, limit)
    ]
    return ("alarm" if alarms else "ok"), alarms


def breaks_a_rule(metric: ColumnElement, value: ColumnElement) -> ColumnElement:
    """A SQL condition true for a (metric, value) row that some rule flags."""
    return or_(*(and_(metric == name, compare(value, limit)) for name, (compare, limit, _) in RULES.items()))
