"""Read-side queries over the region hierarchy (no geometry: maps get that from the geometry files)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from dashboard.auth.viewer import view_scope
from etl.warehouse.schema import regions
from geo.codes import LEVELS, level_rank

COLUMNS = (
    regions.c.code,
    regions.c.name,
    regions.c.level,
    regions.c.parent_code,
    regions.c.households,
    regions.c.population,
    regions.c.boundary,
)


@dataclass(frozen=True)
class Region:
    """A region as screens show it."""

    code: str
    name: str
    level: str
    parent_code: str | None
    households: int | None
    population: int | None
    boundary: str | None


def get_region(engine: Engine, code: str) -> Region | None:
    """One region, or None when the code is unknown."""
    with engine.connect() as connection:
        row = connection.execute(select(*COLUMNS).where(regions.c.code == code)).first()
    return Region(*row) if row else None


def children(engine: Engine, code: str) -> list[Region]:
    """The regions directly below ``code``, by code."""
    with engine.connect() as connection:
        rows = connection.execute(select(*COLUMNS).where(regions.c.parent_code == code).order_by(regions.c.code))
        return [Region(*row) for row in rows]


def ancestors(engine: Engine, code: str, root: str) -> list[Region]:
    """The path from ``root`` down to ``code`` (both included), for the breadcrumb; [] if code is not under root."""
    path = []
    current = get_region(engine, code)
    # Never longer than the levels: a parent loop in the table (a region its own parent) ends the walk.
    while current is not None and len(path) < len(LEVELS):
        path.append(current)
        if current.code == root:
            return list(reversed(path))
        current = get_region(engine, current.parent_code) if current.parent_code else None
    return []


def root_region(engine: Engine, configured: str = "") -> Region | None:
    """The region screens open on: the viewer's scope when the request has one (a township's cadre opens on the
    township, and nothing above it is offered), else the configured one, else the highest region without a
    parent in the table."""
    scope = view_scope()
    if scope:
        return get_region(engine, scope)
    return deployment_root(engine, configured)


def deployment_root(engine: Engine, configured: str = "") -> Region | None:
    """The deployment's top region whoever looks: the configured one, else the highest region without a parent in
    the table."""
    if configured:
        return get_region(engine, configured)
    with engine.connect() as connection:
        codes = set(connection.execute(select(regions.c.code)).scalars())
        rows = connection.execute(
            select(*COLUMNS).where(regions.c.parent_code.not_in(codes) | regions.c.parent_code.is_(None))
        )
        tops = [Region(*row) for row in rows]
    return min(tops, key=lambda r: (level_rank(r.level), r.code), default=None)
