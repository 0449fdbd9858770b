"""The devices of a village with their status now, for the village map: red with the names of their open alerts,
grey when they have stopped reporting, green otherwise."""

from __future__ import annotations

from datetime import datetime, timedelta

from dashboard.alert_queries import open_alert_list
from dashboard.queries import devices_in

# A device whose latest reading is older than this has stopped reporting (无信号 on the map).
SILENT_AFTER = timedelta(hours=3)
# A village's open alerts are few; a device's are among them.
VILLAGE_ALERTS = 200


def device_status(latest: dict[str, tuple[datetime, float]], alerts: list[str], now: datetime) -> str:
    """ "alarm" (it has open alerts), "silent" (nothing reported for SILENT_AFTER) or "ok" for one device."""
    if alerts:
        return "alarm"
    if not latest or now - max(moment for moment, _ in latest.values()) > SILENT_AFTER:
        return "silent"
    return "ok"


def devices_now(engine, scope: str, now: datetime) -> list[dict]:
    """Every device of the scope with "status" and "alarms" (the names of its open alerts) as of now."""
    names: dict[str, list[str]] = {}
    for alert in open_alert_list(engine, scope, limit=VILLAGE_ALERTS):
        if alert["device"] and alert["name"] not in names.setdefault(alert["device"], []):
            names[alert["device"]].append(alert["name"])
    return [
        {
            **device,
            "status": device_status(device["latest"], names.get(device["device_id"], []), now),
            "alarms": names.get(device["device_id"], []),
        }
        for device in devices_in(engine, scope)
    ]
