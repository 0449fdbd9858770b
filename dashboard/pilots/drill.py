"""One pilot of /pilots (?pilot=<id>): its particulars, milestones and funds, every item of its level with its
rating and the evidence read for it (what, source, value, period, rule), and its monthly trend."""

from __future__ import annotations

from dash import dcc, html
from sqlalchemy import Engine

from dashboard.pilots.sections import milestone_cell, panel, score_cell
from dashboard.pilots.tables import amount, number_cell, share, table
from dashboard.pilots.view import PilotsView, month_label
from etl.warehouse import pilots as reads
from etl.warehouse.pilots import KIND_NAMES, RESOLUTION_NAMES, SCORE_NAMES, SCORE_ORDER

TREND_COLOURS = {"met": "#2e9d57", "partly": "#e0a21b", "unmet": "#d64545", "no_data": "#b8c2cc"}


def particulars(view: PilotsView, pilot: reads.Pilot) -> html.Section:
    """Name, kind, region, how it was resolved, milestones this month and funds."""
    money = view.funds.get(pilot.pilot_id)
    allocated = view.allocated(pilot)
    states = view.states.get(pilot.pilot_id, {})
    lines = [
        ("试点", f"{pilot.county} · {pilot.name}"),
        ("类型", KIND_NAMES[pilot.kind]),
        ("区划代码", pilot.region_code or "未对应区划"),
        (
            "对应方式",
            RESOLUTION_NAMES.get(pilot.resolution, pilot.resolution) + (f"（{pilot.note}）" if pilot.note else ""),
        ),
        (
            "资金（万元）",
            f"下达 {amount(allocated)} · 已拨付 {amount(money.disbursed if money else None)} · "
            f"已支出 {amount(money.spent if money else None)} · 支出进度 "
            f"{share(money.spent if money else None, allocated)}",
        ),
    ]
    facts = html.Dl(
        [part for label, value in lines for part in (html.Dt(label), html.Dd(value))],
        className="pilots-facts",
        id="pilots-pilot-facts",
    )
    steps = table(
        [step.name for step in view.milestones],
        [[milestone_cell(states.get(step.milestone_id)) for step in view.milestones]],
        "pilots-timeline",
    )
    return panel(
        pilot.name,
        [facts, html.H3("里程碑"), steps],
        "pilots-pilot",
        f"{month_label(view.month)} · {view.programme.name}",
    )


def evidence_lines(score) -> list:
    """Each rule's evidence as text lines: what and where from, value, period, rule, result."""
    if score is None:
        return ["未评定（试点未对应区划，或本月尚未评分）"]
    return [
        html.Div(
            className="pilots-evidence",
            children=[
                html.Span(entry.get("what", ""), className="pilots-evidence-what"),
                html.Span(f"数值：{entry.get('value_text', '')}"),
                html.Span(f"期间：{entry.get('period', '')}"),
                html.Span(f"规则：{entry.get('rule', '')}"),
                html.Span(f"结论：{entry.get('status_text', '')}"),
                html.Span(f"数据：{entry.get('source', '')}", className="pilots-evidence-source"),
            ],
        )
        for entry in score.evidence
    ]


def item_table(view: PilotsView, pilot: reads.Pilot) -> html.Section:
    """The pilot's items with rating and evidence."""
    found = view.scores.get(pilot.pilot_id, {})
    rows = [
        [
            item.item_id,
            item.area,
            html.Td(item.name, title=item.text),
            score_cell(found.get(item.item_id)),
            html.Td(evidence_lines(found.get(item.item_id)), className="pilots-evidence-cell"),
        ]
        for item in view.level_items(pilot.kind)
    ]
    return panel(
        "参考指标与依据",
        [
            table(
                ["编号", "领域", "指标", "评定", "依据（数据、数值、期间、规则）"],
                rows,
                "pilots-items",
                "pilots-items-table",
            )
        ],
        "pilots-items",
        f"{month_label(view.month)}的评定",
    )


def trend(engine: Engine, view: PilotsView, pilot: reads.Pilot) -> html.Section:
    """Items by rating month by month: stacked bars and the same figures as a table."""
    with engine.connect() as connection:
        months = reads.pilot_trend(connection, view.programme.programme_id, pilot.pilot_id)
    if not months:
        return panel("月度趋势", [html.Div("尚无评分记录。", className="pilots-empty")], "pilots-trend")
    bars = []
    for month, counted in months:
        whole = sum(counted.values()) or 1
        bars.append(
            html.Div(
                className="pilots-trend-row",
                children=[
                    html.Span(month_label(month), className="pilots-trend-month"),
                    html.Span(
                        className="pilots-trend-bar",
                        children=[
                            html.I(
                                style={
                                    "width": f"{100 * counted.get(s, 0) / whole:.1f}%",
                                    "background": TREND_COLOURS[s],
                                },
                                title=f"{SCORE_NAMES[s]} {counted.get(s, 0)}",
                            )
                            for s in SCORE_ORDER
                            if counted.get(s, 0)
                        ],
                    ),
                ],
            )
        )
    rows = [
        [dcc.Link(month_label(month), href=view.address(month=month, pilot=pilot.pilot_id))]
        + [number_cell(str(counted.get(s, 0))) for s in SCORE_ORDER]
        + [number_cell(share(counted.get("met", 0), sum(counted.values())))]
        for month, counted in months
    ]
    header = ["月份", *(SCORE_NAMES[s] for s in SCORE_ORDER), "达标率"]
    return panel(
        "月度趋势",
        [html.Div(bars, className="pilots-trend-bars"), table(header, rows, "pilots-trend", "pilots-trend-table")],
        "pilots-trend",
        "每月末的评定（本月为最新一次）",
    )
