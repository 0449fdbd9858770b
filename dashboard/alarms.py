"""Device status and open alarms from each device's latest reading: thresholds screens and rules agree on."""

from __future__ import annotations

from datetime import datetime, timedelta

# metric → (test, alarm name). Sewage limits: GB 18918-2002 class 1B (COD 60 mg/L, NH3-N 8 mg/L).
RULES = {
    "fill_level": (lambda v: v >= 90, "垃圾桶满溢"),
    "cod": (lambda v: v > 60, "污水COD超标"),
    "nh3n": (lambda v: v > 8, "污水氨氮超标"),
    "online": (lambda v: v < 0.5, "摄像头离线"),
    "aqi": (lambda v: v > 150, "空气重度污染"),
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
        if metric in RULES and RULES[metric][0](value)
        for name in [RULES[metric][1]]
    ]
    return ("alarm" if alarms else "ok"), alarms
