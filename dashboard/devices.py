"""Devices of a scope with their status and alarms now, for panels, the ticker and the village map."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from dashboard.alarms import device_status
from dashboard.queries import alarm_devices, devices_in


def _with_status(found: list[dict], now: datetime) -> list[dict]:
    """Each device with "status" (ok | alarm | silent) and "alarms" (names) as of now."""
    result = []
    for device in found:
        status, alarms = device_status(device["latest"], now)
        result.append({**device, "status": status, "alarms": alarms})
    return result


def devices_now(engine, scope: str, now: datetime) -> list[dict]:
    """Every device of the scope with its status now (a village's map)."""
    return _with_status(devices_in(engine, scope), now)


def alarms_now(engine, scope: str, now: datetime) -> list[dict]:
    """The devices of the scope that raise an alarm now; a device that has fallen silent raises none."""
    return [device for device in _with_status(alarm_devices(engine, scope), now) if device["status"] == "alarm"]


def alarm_counts(devices: list[dict]) -> Counter:
    """How many devices raise each alarm."""
    return Counter(name for device in devices for name in device["alarms"])
