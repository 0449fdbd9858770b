"""Numbers measured or forecast for a few places only (air stations, weather forecasts): those of the nearest
region above that has them, and a note naming that region, so a village never shows "—" for its county's air."""

from __future__ import annotations

from dashboard.board_queries import lineage
from dashboard.cache import versioned
from dashboard.panels import average
from dashboard.queries import measure_totals
from dashboard.regions import get_region


def nearest_totals(engine, scope: str, measures: list[str], start, end) -> tuple[dict, str | None]:
    """The totals of ``measures`` in [start, end) for the scope, else for the nearest region above it that has
    any of the first measure: (totals, the code of the region they are from, None when no region has them)."""
    for code in lineage(scope):
        totals = _totals_near(engine, code, measures, start, end)
        if average(totals, measures[0]) is not None:
            return totals, code
    return {measure: {} for measure in measures}, None


@versioned
def _totals_near(engine, region: str, measures: list[str], start, end) -> dict:
    """The totals of ``measures`` in [start, end) for a region at, below or above the viewer's scope: a county's air
    and weather are its townships' too (the cache's "near" rule), where its cases (``measure_totals``) are not, and
    a township cadre's screen was refused (403) for the county's air its environment panel borrows."""
    return measure_totals.uncached(engine, region, measures, start, end)


def borrowed_from(engine, scope: str, sources: dict[str, str | None]) -> list[str]:
    """One sentence per region some numbers were borrowed from ({what: region code}), e.g. 空气质量、气温为示范县数据;
    nothing for numbers that are the scope's own."""
    named: dict[str, list[str]] = {}
    for label, code in sources.items():
        if code is not None and code != scope:
            region = get_region(engine, code)
            named.setdefault(region.name if region else code, []).append(label)
    return [f"{'、'.join(labels)}为{name}数据" for name, labels in named.items()]
