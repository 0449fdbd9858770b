"""One view of the workspace resolved against the warehouse and the viewer: the region (within the viewer's
scope, else 403), the period, the measures the region has, the one chosen, its records view and filters, how
personal fields are masked. The page and the exports both start from it, so a file holds what the page shows."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import Engine

from dashboard.auth.viewer import require_within, viewer
from dashboard.privacy import private_topics
from dashboard.queries import freshness
from dashboard.regions import Region, ancestors, get_region, root_region
from dashboard.workspace import queries
from dashboard.workspace.catalog import MeasureInfo, ordered
from dashboard.workspace.masking import masking_for
from dashboard.workspace.periods import LOCAL, Period, local_today, resolve
from dashboard.workspace.queries import measures_in
from dashboard.workspace.records import View, view_named
from dashboard.workspace.state import DEFAULT_PERIOD, State
from etl.warehouse.db import as_utc
from etl.warehouse.labels import value_label
from etl.warehouse.settings import Settings


@dataclass(frozen=True)
class Workspace:
    """Everything a view of the workspace is drawn from."""

    engine: Engine
    settings: Settings
    state: State
    root: Region
    region: Region
    path: list[Region]
    period: Period
    measures: list[MeasureInfo]
    info: MeasureInfo | None
    grain: str
    filters: dict[str, str]
    view: View | None
    masking: str
    topics: tuple[str, ...]
    now: datetime
    notice: str = ""
    dimensions: dict[str, str] = field(default_factory=dict)

    @property
    def spans(self) -> dict:
        """The period's spans as the queries take them (ISO dates)."""
        period = self.period
        return {
            "current": [period.current.first.isoformat(), period.current.last.isoformat()],
            "previous": [period.previous.first.isoformat(), period.previous.last.isoformat()]
            if period.previous
            else None,
            "last_year": [period.last_year.first.isoformat(), period.last_year.last.isoformat()],
        }

    @property
    def area_measures(self) -> list[MeasureInfo]:
        """The measures of the chosen measure's area (the KPI cards)."""
        return [info for info in self.measures if self.info and info.area == self.info.area]

    @property
    def dimension(self) -> str | None:
        """The dimension value the chosen measure is limited to by a filter, if any."""
        return self.dimensions.get(self.info.name) if self.info else None

    def dimensions_for(self, infos: list[MeasureInfo]) -> dict[str, str]:
        """{measure: dimension value} for measures of the filtered records' table split by a column a filter is set
        on: matched by column name alone, kind=bin of the devices zeroed the 农厕 card (a `kind` of its own table)."""
        table = self.view.table.name if self.view is not None else None
        return {
            info.name: self.filters[info.dimension]
            for info in infos
            if info.dimension and info.dimension in self.filters and info.table == table
        }

    @property
    def region_label(self) -> str:
        return f"{self.region.name}（{self.region.code}）"

    @property
    def filter_label(self) -> str:
        """The filters set, as a line of text (类别：请求；状态：办结)."""
        return self.filters_label()

    def filters_label(self, keys=None) -> str:
        """The filters set among ``keys`` (every one when None), as a line of text (类别：请求；状态：办结)."""
        if not self.view:
            return ""
        parts = []
        for key, value in self.filters.items():
            if keys is not None and key not in keys:
                continue
            chosen = self.view.filters[key]
            parts.append(f"{chosen.label}：{(chosen.options or {}).get(value, value)}")
        return "；".join(parts)


def open_workspace(engine: Engine, settings: Settings, state: State, now: datetime | None = None) -> Workspace | None:
    """The view a state describes for this request's viewer (None when the warehouse has no regions); a region
    outside the viewer's scope is refused (403, audited)."""
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    root = root_region(engine, settings.root_region)
    if root is None:
        return None
    region = (get_region(engine, state.region) if state.region else None) or root
    require_within(region.code)
    path = ancestors(engine, region.code, root.code) or [region]
    notice = ""
    today = local_today(now)
    if state.period == "custom" and state.first and state.last and state.first <= today < state.last:
        # 本月 picked as the 1st to the 31st: the days so far are what there is to show.
        state = replace(state, last=today)
        notice = "结束日期晚于今天，已截至今天"
    try:
        period = resolve(state.period, today, state.first, state.last)
    except ValueError as error:
        notice = f"{error}，已改为近30天"  # what a cut range said no longer holds: 近30天 is shown instead
        state = replace(state, period=DEFAULT_PERIOD)
        period = resolve(DEFAULT_PERIOD, today)
    grain, refused = period.grain_for(state.grain)
    notice = "；".join(part for part in (notice, refused) if part)
    measures = ordered(measures_in(engine, region.code))
    info = next((m for m in measures if m.name == state.measure), None)
    info = info or next((m for m in measures if m.area == state.area), None) or (measures[0] if measures else None)
    view = view_named(info.record_view, info.dimension) if info else None
    filters = _valid_filters(view, state.filter_map)
    who = viewer()
    workspace = Workspace(
        engine=engine,
        settings=settings,
        state=state,
        root=root,
        region=region,
        path=path,
        period=period,
        measures=measures,
        info=info,
        grain=grain,
        filters=filters,
        view=view,
        masking=masking_for(who.role if who else None),
        topics=private_topics(settings.sensitive_categories),
        now=now,
        notice=notice,
    )
    workspace = replace(workspace, dimensions=workspace.dimensions_for(workspace.area_measures))
    return _by_part(workspace)


def _by_part(ws: Workspace) -> Workspace:
    """The workspace with each measure whose parts do not add up (收入 and 支出, 公斤 and 头) limited to one part,
    named and with its unit: the one a filter chose, else the catalog's or the largest. Their sum, shown as one
    number, meant nothing."""
    dimensions, infos, chosen = dict(ws.dimensions), [], ws.info
    for info in ws.measures:
        if info.per_part and info.dimension:
            part = dimensions.get(info.name) or info.part or _largest_part(ws, info)
            if part is not None:
                dimensions[info.name] = part
                unit = queries.part_units(ws.engine, ws.region.code, info.name).get(part, info.unit)
                label = f"{info.label}·{value_label(info.table, info.dimension, part)}"
                info = replace(info, label=label, unit=unit)
        infos.append(info)
        chosen = info if ws.info and info.name == ws.info.name else chosen
    return replace(ws, measures=infos, info=chosen, dimensions=dimensions)


def _largest_part(ws: Workspace, info: MeasureInfo) -> str | None:
    """The part of a measure with the largest number in the period (the first shown when none is chosen)."""
    found = queries.breakdown(ws.engine, ws.region.code, info.name, ws.spans["current"])
    return found[0]["dimension"] if found else None


def _valid_filters(view: View | None, asked: dict[str, str]) -> dict[str, str]:
    """The filters of the address the records view knows, with values it offers (free text for a dimension)."""
    if view is None:
        return {}
    found = {}
    for key, value in asked.items():
        chosen = view.filters.get(key)
        if chosen is not None and (chosen.options is None or value in chosen.options):
            found[key] = value
    return found


def as_of(ws: Workspace) -> str:
    """数据截至: the newest data of the chosen measure's dataset in the region (its feeds' freshness)."""
    found = freshness(ws.engine, ws.region.code).get(ws.info.dataset_name) if ws.info else None
    if not found:
        return "数据截至 —"
    newest = min(as_utc(found["last_event_time"]), as_utc(found["last_loaded_at"]))
    return f"数据截至 {newest.astimezone(LOCAL):%Y-%m-%d %H:%M}"
