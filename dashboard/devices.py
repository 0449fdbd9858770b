"""Devices of a scope with their status and alarms now, for panels, the ticker and the village map."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from dashboard.alarms import device_status
from dashboard.queries import devices_in


def devices_now(engine, scope: str, now: datetime) -> list[dict]:
    """Each device with "status" (ok | alarm | silent) and "alarms" (names) as of now."""
    found = []
    for device in devices_in(engine, scope):
        status, alarms = device_status(device["latest"], now)
        found.append({**device, "status": status, "alarms": alarms})
    return found


def alarm_counts(devices: list[dict]) -> Counter:
    """How many devices raise each alarm."""
    return Counter(name for device in devices for name in device["alarms"])
