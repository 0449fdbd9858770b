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
    """One panel of a screen and its place on the design canvas (design pixels)."""

    name: str
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Profile:
    """A screen profile: the display it is made for, the design drawn on it, what goes where (panels or
    slides), how it rotates and refreshes.

    ``width`` × ``height`` is the target display in its own pixels; the design canvas is that divided by
    ``scale`` (a 4K wall shows the 1920×1080 design at ×2), and panel places are design pixels. The browser
    zooms the design canvas to whatever window it gets. ``kind`` says which route uses it (county, board,
    stop); ``min_font_px`` is the smallest type the screen may show, in pixels of the target display, so it
    stays readable from where people stand.
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
    scale: float = 1.0

    @property
    def orientation(self) -> str:
        """landscape or portrait."""
        return "portrait" if self.height > self.width else "landscape"

    @property
    def design_width(self) -> int:
        """The design canvas's width in design pixels."""
        return round(self.width / self.scale)

    @property
    def design_height(self) -> int:
        """The design canvas's height in design pixels."""
        return round(self.height / self.scale)


def _profile(path: Path) -> Profile:
    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{where}: {error}") from None
    try:
        canvas = data["canvas"]
        panels = tuple(Panel(name, *place) for name, place in data.get("panels", {}).items())
        if "design" in data:  # another profile's arrangement, drawn at this profile's scale
            base = _profile(path.with_name(f"{data['design']}.toml"))
            panels = panels or base.panels
            data.setdefault("slides", base.slides)
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
            scale=float(data.get("scale", 1)),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ProfileError(f"{where}: missing or malformed {error}") from None
    if "design" in data and (base.design_width, base.design_height) != (profile.design_width, profile.design_height):
        raise ProfileError(
            f"{where}: the design of {data['design']} is not a {profile.design_width}×{profile.design_height} canvas"
        )
    if profile.scale <= 0 or (profile.design_width * profile.scale, profile.design_height * profile.scale) != (
        profile.width,
        profile.height,
    ):
        raise ProfileError(
            f"{where}: scale {profile.scale} does not divide the {profile.width}×{profile.height} canvas"
        )
    for panel in profile.panels:
        if (
            panel.x < 0
            or panel.y < 0
            or panel.x + panel.width > profile.design_width
            or panel.y + panel.height > profile.design_height
        ):
            raise ProfileError(
                f"{where}: panel '{panel.name}' lies outside the "
                f"{profile.design_width}×{profile.design_height} design canvas"
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
