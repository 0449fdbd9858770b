"""The registry of screen profiles: every TOML file in layouts/profiles is one profile; adding one is one file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).with_name("profiles")


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Panel:
    """One panel of a screen and its place on the canvas (pixels of the design canvas)."""

    name: str
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Profile:
    """A screen profile: the design canvas, what goes where (panels or slides), how it rotates and refreshes.

    ``kind`` says which route uses it (county, board, stop); ``min_font_px`` is the smallest type the
    screen may show, in canvas pixels, so it stays readable from where people stand.
    """

    name: str
    title: str
    width: int
    height: int
    min_font_px: int
    rotate_seconds: int
    idle_seconds: int
    refresh_seconds: int
    panels: tuple[Panel, ...] = field(default=())
    kind: str = "county"
    slides: tuple[str, ...] = field(default=())

    @property
    def orientation(self) -> str:
        """landscape or portrait."""
        return "portrait" if self.height > self.width else "landscape"


def _profile(path: Path) -> Profile:
    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{where}: {error}") from None
    try:
        canvas = data["canvas"]
        panels = tuple(Panel(name, *place) for name, place in data.get("panels", {}).items())
        profile = Profile(
            name=path.stem,
            title=data["title"],
            width=int(canvas["width"]),
            height=int(canvas["height"]),
            min_font_px=int(data.get("min_font_px", 14)),
            rotate_seconds=int(data.get("rotate_seconds", 30)),
            idle_seconds=int(data.get("idle_seconds", 120)),
            refresh_seconds=int(data.get("refresh_seconds", 30)),
            panels=panels,
            kind=str(data.get("kind", "county")),
            slides=tuple(str(name) for name in data.get("slides", ())),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ProfileError(f"{where}: missing or malformed {error}") from None
    for panel in profile.panels:
        if (
            panel.x < 0
            or panel.y < 0
            or panel.x + panel.width > profile.width
            or panel.y + panel.height > profile.height
        ):
            raise ProfileError(
                f"{where}: panel '{panel.name}' lies outside the {profile.width}×{profile.height} canvas"
            )
    return profile


@cache
def profiles() -> dict[str, Profile]:
    """Every profile by name (the file name without .toml)."""
    return {path.stem: _profile(path) for path in sorted(FOLDER.glob("*.toml"))}


def profile_for(kind: str, name: str | None) -> Profile:
    """The named profile if it is one of ``kind``, else the first profile of that kind (by name)."""
    found = profiles()
    if name in found and found[name].kind == kind:
        return found[name]
    return next(profile for profile in found.values() if profile.kind == kind)
