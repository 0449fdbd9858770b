"""What the county screen shows for a scope (panels, 数据截至, ticker, counters, map themes) as compact JSON."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from dash import html

from dashboard.alert_queries import acknowledgement, open_alert_list, since_text
from dashboard.auth.viewer import view_scope
from dashboard.board_queries import feed_freshness
from dashboard.cache import version_mark, versioned, warehouse_version
from dashboard.freshness import freshness_label
from dashboard.panels import LOCAL, Window, number, panels
from dashboard.pilot_queries import children_pilot_shares
from dashboard.plain import compact
from dashboard.queries import children_dimension_values, children_values, latest_cases, measure_totals
from dashboard.recent import Recent
from etl.warehouse.db import as_utc
from layouts.profiles import Profile, profiles

# The map's themes (rotated in kiosk mode): a headline measure per area, over the last 30 days; "value" is the
# rollups' count, total, or mean (total over count), "dimensions" limits a measure to some of its dimensions.
THEMES = [
    {"key": "cases.received", "label": "治理 · 受理事件", "unit": "件", "value": "count"},
    {"key": "ecommerce.sales", "label": "产业 · 电商销售额", "unit": "元", "value": "total"},
    {"key": "livelihood.events", "label": "民生 · 服务场次", "unit": "场", "value": "count"},
    {"key": "waste.tonnage", "label": "人居环境 · 垃圾清运", "unit": "吨", "value": "total"},
    {"key": "security.incidents", "label": "安全 · 治安事件", "unit": "起", "value": "count"},
    # The indicators' 农厕革命, 政务服务, 疫情防控, 溯源 and 气象站 (issue 22). Every record of a toilet counts
    # (改造, 巡查, 故障, 清掏); people served leave out the monitoring points (not people) the measure also sums;
    # traceability counts codes issued, not consumers' scans; rainfall is a mean of hourly readings (a sum would
    # grow with the number of stations in a township).
    {"key": "toilets.records", "label": "农厕革命 · 改造管护记录", "unit": "条", "value": "count"},
    {"key": "gov.received", "label": "政务服务 · 受理", "unit": "件", "value": "count"},
    {
        "key": "epidemic.quantity",
        "label": "疫情防控 · 服务人次",
        "unit": "人次",
        "value": "total",
        "dimensions": ("health_check", "vaccination"),
    },
    {
        "key": "trace.codes",
        "label": "智慧农业 · 追溯赋码",
        "unit": "个",
        "value": "total",
        "dimensions": ("issued",),
    },
    {"key": "reading.rainfall", "label": "气象站 · 时均降雨量", "unit": "mm/时", "value": "mean", "digits": 2},
    # Not a measure: the pilots' points share this month (dashboard/pilot_queries.py), where a programme has pilots;
    # a share's scale ends at 100 %.
    {
        "key": "pilots.points_share",
        "label": "试点建设 · 指标得分率",
        "unit": "%",
        "value": "share",
        "pilots": True,
        "top": 100,
    },
]
CATEGORY_NAMES = {"conflict": "矛盾", "dispute": "纠纷", "request": "请求", "appeal": "诉求"}
STATUS_NAMES = {"received": "受理", "in_progress": "处置中", "closed": "办结", "rated": "已评价"}
# The open alerts a ticker runs through (unacknowledged and most severe first); the security panel counts them all.
TICKER_ALERTS = 20
# (label, measure, field, unit, decimals). Tonnes keep the one decimal the 人居环境 panel prints for the same
# figure: a day's waste is a few tonnes, where rounding to whole ones moves it by up to a tenth, and a wall showing
# 8 吨 above 7.6 吨 for one measure reads as two different numbers.
KPIS = [
    ("今日受理", "cases.received", "count", "件", 0),
    ("今日办结", "cases.closed", "count", "件", 0),
    ("今日游客", "tourism.visitors", "total", "人次", 0),
    ("今日清运", "waste.tonnage", "total", "吨", 1),
]


def profile_panels(profile: Profile) -> tuple[str, ...]:
    """The panels of a county profile whose content the screen shows, in the profile's order."""
    return tuple(place.name for place in profile.panels if place.name in panels())


def panel_lists() -> frozenset[tuple[str, ...]]:
    """Every panel list a county profile shows: the only ones a refresh may ask for, since each list is a content
    (and a cache entry) of its own, and any subset or order of the panels would be one more."""
    return frozenset(profile_panels(profile) for profile in profiles().values() if profile.kind == "county")


def minute_of(now: datetime) -> str:
    """The local minute a content is computed for (ages and alarms are minute-grained)."""
    return f"{now.astimezone(LOCAL):%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class Content:
    """A scope's content, and the same as JSON text: serialized once for every screen that shows it, so a
    refresh response carries one string instead of a tree for Dash to encode again on every request; the
    digest names the text, so a screen that already shows it is told so instead of sent it again."""

    data: dict
    text: str
    digest: str
    version: int | None = None  # the warehouse version it was computed from (the heartbeat reports it)


# The last contents this process served, under the same version and minute as the shared cache.
_recent = Recent(256)


def content_for(
    engine, scope: str, shown: str, names: tuple[str, ...], now: datetime, private: tuple[str, ...] = ()
) -> Content:
    """The content of a scope as of ``now`` (from memory, the shared cache, or rendered); cases about a
    ``private`` topic are shown by their topic only."""
    minute = minute_of(now)
    version = warehouse_version(engine)

    def render() -> Content:
        data = screen_content(engine, scope, shown, names, minute, private)
        text = orjson.dumps(data).decode()
        return Content(data, text, hashlib.sha1(text.encode()).hexdigest()[:16], version)

    # The viewer's scope too, as in every cache key (dashboard/cache.py): no answer made for one viewer is served
    # to another, whatever a content holds now or later.
    return _recent.get((engine, version_mark(engine), view_scope(), scope, shown, names, minute, private), render)


def payload(content: Content, now: datetime, shown: str | None = None) -> dict:
    """What the screen's Store receives: the content's JSON text and digest, or only that it is the one
    the screen shows already (digest ``shown``: between two loads, nearly every refresh), and the time."""
    sent = f"{now.astimezone(LOCAL):%H:%M:%S}"
    if shown == content.digest:
        return {"same": content.digest, "updated": sent}
    return {"content": content.text, "digest": content.digest, "updated": sent}


@versioned
def screen_content(engine, scope: str, shown: str, names: tuple[str, ...], minute: str, private: tuple = ()) -> dict:
    """Everything the screen shows for a scope, the same for every screen on it until the next load or the
    next minute, so a wall of screens costs one render; panels as compact nodes (dashboard/plain.py)."""
    now = datetime.now(UTC)
    window = Window.at(now)
    fresh = feed_freshness(engine)
    shown_panels, stale_count = {}, 0
    for name in names:
        label, stale = freshness_label(panels()[name].datasets, fresh, now)
        stale_count += stale
        body = _panel_body(engine, name, scope, window.today.isoformat())
        shown_panels[name] = {"body": body, "asof": label, "stale": stale}
    return {
        "key": f"{scope}|{','.join(names)}",
        "panels": shown_panels,
        "state": "数据正常" if not stale_count else f"{stale_count} 个板块数据滞后",
        "ticker": compact(html.Div(_ticker(engine, scope, now, private), className="ticker-track")),
        "kpis": compact(_kpis(engine, scope, window)),
        "themes": _themes(engine, shown, window),
    }


@versioned
def _panel_body(engine, name: str, scope: str, today: str) -> list:
    """A panel's content for a scope and local day, cached until the next load changes the warehouse."""
    return compact(panels()[name].render(engine, scope, Window.at(datetime.now(UTC))))


def _ticker(engine, scope: str, now: datetime, private: tuple[str, ...]) -> list:
    """The scope's open alerts first (severity, name, region and subject, since when, acknowledged by whom or
    not), then the latest cases (no reporter; numbers and private topics masked by the query)."""
    alarms = [
        html.Span(
            f"⚠ {alert['severity_name']} {alert['name']} · {alert['region']} {alert['subject']} · "
            f"{since_text(alert)} · {acknowledgement(alert)}",
            className="ticker-item ticker-alarm" + ("" if alert["acknowledged"] else " ticker-unacknowledged"),
        )
        for alert in open_alert_list(engine, scope, limit=TICKER_ALERTS)
    ]
    return alarms + [
        html.Span(
            f"{as_utc(c['time']).astimezone(LOCAL):%m-%d %H:%M} "
            f"{c['village']} {CATEGORY_NAMES.get(c['category'], '')}·{STATUS_NAMES.get(c['status'], '')} "
            f"{c['title']}",
            className="ticker-item",
        )
        for c in latest_cases(engine, scope, private=private)
    ]


def _kpis(engine, scope: str, window: Window) -> list:
    """Today's headline counters for the title bar."""
    totals = measure_totals(engine, scope, [key for _, key, _, _, _ in KPIS], window.today, window.tomorrow)
    items = []
    for label, key, field, unit, digits in KPIS:
        value = sum(v[field] for v in totals[key].values())
        items.append(html.Span([label, html.B(number(value, digits)), unit]))
    return items


def _themes(engine, shown: str, window: Window) -> list[dict]:
    """Each theme's headline number per child region of ``shown`` (the map's colours) and its legend."""
    start, end = window.month_start, window.tomorrow
    measures = [theme["key"] for theme in THEMES if not theme.get("pilots") and not theme.get("dimensions")]
    found = children_values(engine, shown, measures, start, end)

    def values(theme: dict) -> dict:
        if theme.get("pilots"):
            return children_pilot_shares(engine, shown, f"{window.now.astimezone(LOCAL):%Y-%m}")
        if theme.get("dimensions"):
            return children_dimension_values(engine, shown, theme["key"], theme["dimensions"], start, end)
        return found[theme["key"]]

    return [_theme(theme, values(theme)) for theme in THEMES]


def _value(theme: dict, value: dict) -> float:
    """A child region's number for a theme: its count, total or share, or its mean (total over count)."""
    if theme["value"] == "mean":
        return value["total"] / value["count"] if value["count"] else 0.0
    return value[theme["value"]]


# The choropleth's colours, from none to the largest value (assets/ruralbrain.js colours each child by its share
# of the largest value; the legend shows the same colours with the values they stand for).
RAMP = ("#0b2a45", "#0f4470", "#13629b", "#1b83c4", "#33a8e6", "#6fd3ff")


THEME_DECIMALS = 4


def _theme(theme: dict, values: dict) -> dict:
    """A theme's numbers per child region, its colours and its legend: what it shows and in which unit, each
    colour with the value it starts at, from 0 to the largest."""
    # Rounded: a mean or a share written out in full (100/7 = 14.285714285714286) is a run of digits that reads as
    # a phone or ID number, and four decimals are more than a colour or a tooltip needs.
    numbers = {code: round(_value(theme, v), THEME_DECIMALS) for code, v in values.items()}
    top = theme.get("top") or max(numbers.values(), default=0)
    steps = len(RAMP) - 1
    legend = [
        html.Span(theme["label"], className="theme-label"),
        html.Span(
            className="theme-ramp",
            children=[
                html.Span(
                    className="theme-step",
                    children=[
                        html.Span(className="theme-swatch", style={"background": colour}),
                        # A colour stands for the shares around its own (the script rounds to the nearest); each
                        # value with its unit, so a row of them never reads as one long number.
                        html.Span(
                            f"{number(top * max(0, index - 0.5) / steps, theme.get('digits', 0))}{theme['unit']}",
                            className="theme-value",
                        ),
                    ],
                )
                for index, colour in enumerate(RAMP)
            ]
            if numbers and top
            else [html.Span("暂无数据", className="theme-max")],
        ),
    ]
    return {"values": numbers, "max": top, "ramp": RAMP, "legend": compact(legend)}
