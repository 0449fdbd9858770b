"""Who owns an alert: the level responsible for its region (village, then township, then county), read from the
12-digit code, and the level an unacknowledged alert escalates to."""

from __future__ import annotations

from geo.codes import level_of

OWNER_LEVELS = ("village", "township", "county")
_DIGITS = {"village": 12, "township": 9, "county": 6}


def owner_level(region_code: str) -> str:
    """The level that first owns an alert of a region: the region's own level, and the county for regions above
    a county (the county command center is the top owner)."""
    level = level_of(region_code)
    return level if level in OWNER_LEVELS else "county"


def owner_code(region_code: str, level: str) -> str:
    """The region that owns an alert of ``region_code`` at ``level``: the region itself or its ancestor."""
    return region_code[: _DIGITS[level]].ljust(12, "0")


def level_up(level: str) -> str | None:
    """The level above (village → township → county), or None at the county."""
    index = OWNER_LEVELS.index(level)
    return OWNER_LEVELS[index + 1] if index + 1 < len(OWNER_LEVELS) else None


def common_region(low: str, high: str) -> str:
    """The smallest region holding every code between two codes (the lowest and highest of a set)."""
    for digits in (12, 9, 6, 4, 2):
        if low[:digits] == high[:digits]:
            return low[:digits].ljust(12, "0")
    return low[:2].ljust(12, "0")
