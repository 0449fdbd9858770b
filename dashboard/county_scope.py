"""Where the county screen stands for an address (its frame), and what it shows there: content and devices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dashboard import validate
from dashboard.cache import versioned
from dashboard.county_content import Content, content_for, profile_panels
from dashboard.devices import devices_now
from dashboard.privacy import private_topics
from dashboard.regions import ancestors, children, get_region, root_region
from geo.codes import CodeError, normalize_code
from layouts.profiles import Profile, profile_for


@dataclass(frozen=True)
class Scope:
    """The screen of one address: its profile, frame (see screen_frame), panels, time, content and, at village
    level, the village's devices now (dashboard/devices.py)."""

    profile: Profile
    frame: dict
    names: tuple[str, ...]
    now: datetime
    content: Content
    devices: list | None


@versioned
def screen_frame(engine, configured_root: str, region: str | None) -> dict | None:
    """Where the screen stands, as plain data: the root, the selected region and its path from the root, the
    region whose children the map shows and whether any of them has a schematic boundary; None without regions."""
    root = root_region(engine, configured_root)
    if root is None:
        return None
    selected = get_region(engine, region) if region else root
    path = ancestors(engine, selected.code, root.code) if selected else []
    if not path:
        selected, path = root, [root]
    below = children(engine, selected.code)
    shown = selected if below else get_region(engine, selected.parent_code) or selected
    if shown is not selected:
        below = children(engine, shown.code)
    return {
        "root": root.name,
        "selected": selected.code,
        "level": selected.level,
        "shown": shown.code,
        "path": [(r.code, r.name) for r in path],
        "schematic": any(k.boundary == "schematic" for k in below),
    }


def region_code(engine, region: str | None) -> str | None:
    """The 12-digit code of the ``region`` parameter, or None (the root) when it is missing, malformed or names no
    region in the warehouse: checked before anything is cached, so made-up codes all share the root's entries."""
    try:
        code = normalize_code(region) if region else None
    except CodeError:
        return None
    return code if code and validate.known_region(engine, code) is not None else None


def scope_for(settings, engine, region: str | None, profile: str) -> Scope | None:
    """The screen of ``?region=&profile=`` with its content (from memory, the shared cache, or rendered); None
    while the warehouse holds no regions."""
    chosen = profile_for("county", profile)
    frame = screen_frame(engine, settings.root_region, region_code(engine, region))
    if frame is None:
        return None
    names = profile_panels(chosen)
    now = datetime.now(UTC)
    private = private_topics(settings.sensitive_categories)
    content = content_for(engine, frame["selected"], frame["shown"], names, now, private)
    devices = devices_now(engine, frame["selected"], now) if frame["level"] == "village" else None
    return Scope(chosen, frame, names, now, content, devices)
