"""The overview of /pilots: header with pickers and exports, the figures, the milestone timeline, the pilots ×
items matrix and the funds, all for the view's scope and month."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from urllib.parse import quote, urlencode

from dash import dcc, html

from dashboard.pilots.tables import amount, number_cell, share, table
from dashboard.pilots.view import PilotsView, local_time, month_label
from etl.warehouse.pilots import KIND_NAMES, LOCAL, MILESTONE_NAMES, SCORE_NAMES, SCORE_ORDER

NOTICE = {"color": "#9a3412", "background": "#fff7ed", "padding": "6px 10px", "borderRadius": "4px"}


def pilot_link(view: PilotsView, pilot) -> dcc.Link:
    """A pilot's name, linking to its drill."""
    return dcc.Link(pilot.name, href=view.address(pilot=pilot.pilot_id), className="pilots-pilot-link")


def header(view: PilotsView, person: str, allowed: bool, pilot_id: str | None = None) -> html.Header:
    """Title, programme and month pickers (links: the address is the view), the exports, 数据截至."""
    programme_chips = [
        dcc.Link(
            p.name,
            href=f"/pilots?programme={quote(p.programme_id)}",
            className="pilots-chip" + (" pilots-chip-on" if p.programme_id == view.programme.programme_id else ""),
        )
        for p in view.programmes
    ]
    months = view.months or [view.month]
    month_chips = [
        dcc.Link(
            month_label(month),
            href=view.address(month=month, pilot=pilot_id),
            id=f"pilots-month-{month}",
            className="pilots-chip" + (" pilots-chip-on" if month == view.month else ""),
        )
        for month in months
    ]
    exports = []
    if allowed:
        base = {"programme": view.programme.programme_id, "month": view.month}
        if view.scope:
            base["region"] = view.scope
        exports = [
            html.A(
                "导出按月调度表",
                href=export_address(base, "monthly"),
                id="pilots-export-monthly",
                className="pilots-export",
            ),
            html.A(
                "导出评估验收评分表",
                href=export_address({**base, "pilot": pilot_id} if pilot_id else base, "acceptance"),
                id="pilots-export-acceptance",
                className="pilots-export",
            ),
        ]
    return html.Header(
        className="pilots-header",
        children=[
            html.Div(
                className="pilots-title",
                children=[
                    html.H1("试点建设"),
                    html.Span(view.programme.name, id="pilots-programme", className="pilots-programme"),
                    html.Span(person, className="pilots-who"),
                ],
            ),
            html.Div([html.Span("方案", className="pilots-label"), *programme_chips], className="pilots-row")
            if len(view.programmes) > 1
            else None,
            html.Div(
                [html.Span("月份", className="pilots-label"), *month_chips], className="pilots-row", id="pilots-months"
            ),
            html.Div(
                f"{view.notice}；显示的是{month_label(view.month)}。",
                id="pilots-month-notice",
                className="pilots-row pilots-notice",
                style=NOTICE,
            )
            if view.notice
            else None,
            html.Div(
                className="pilots-row pilots-meta",
                children=[
                    html.Span(f"数据截至 {local_time(view.as_of)}（北京时间）", id="pilots-as-of"),
                    *exports,
                    dcc.Link("领导工作台", href="/explore", className="pilots-home"),
                ],
            ),
        ],
    )


def export_address(params: dict, kind: str) -> str:
    """The export route's address for a view and a kind of report."""
    return "/pilots/export?" + urlencode({**params, "kind": kind})


def figures(view: PilotsView) -> html.Div:
    """The scope's pilots, item scores, milestones and funds at a glance."""
    kinds = Counter(p.kind for p in view.pilots)
    counted = Counter(s.status for per in view.scores.values() for s in per.values())
    scored = sum(counted.values())
    flat = [state for per in view.states.values() for state in per.values()]
    overdue_pilots = sum(any(s.overdue for s in per.values()) for per in view.states.values())
    allocated = sum(view.allocated(p) for p in view.pilots)
    disbursed = sum(f.disbursed for f in view.funds.values())
    spent = sum(f.spent for f in view.funds.values())
    cards = [
        ("试点", f"{len(view.pilots)}", f"数字乡镇 {kinds.get('township', 0)} · 数字村庄 {kinds.get('village', 0)}"),
        (
            "达标率",
            share(counted.get("met", 0), scored),
            " · ".join(f"{SCORE_NAMES[s]} {counted.get(s, 0)}" for s in SCORE_ORDER),
        ),
        (
            "逾期里程碑",
            f"{sum(s.overdue for s in flat)}",
            f"有逾期的试点 {overdue_pilots} 个 · 已完成 {sum(s.status == 'done' for s in flat)} 项",
        ),
        ("资金（万元）", amount(allocated), f"已拨付 {amount(disbursed)} · 已支出 {amount(spent)}"),
    ]
    return html.Div(
        id="pilots-figures",
        className="pilots-cards",
        children=[
            html.Div(
                className="pilots-card",
                children=[
                    html.Div(label, className="pilots-card-label"),
                    html.Div(value, className="pilots-card-value"),
                    html.Div(note, className="pilots-card-note"),
                ],
            )
            for label, value, note in cards
        ],
    )


def panel(title: str, children, panel_id: str, note: str = "") -> html.Section:
    """A titled box of the page."""
    head = [html.H2(title)] + ([html.Span(note, className="pilots-note")] if note else [])
    return html.Section([html.Div(head, className="pilots-bar"), *children], id=panel_id, className="pilots-panel")


def milestone_cell(state) -> html.Td:
    """A pilot's status of a milestone, marked when overdue."""
    if state is None:
        return html.Td("")
    text = MILESTONE_NAMES[state.status] + ("（逾期）" if state.overdue else "")
    classes = f"pilots-m pilots-m-{state.status}" + (" pilots-overdue" if state.overdue else "")
    return html.Td(text, className=classes, title=f"{state.period or '未填报'} {state.note or ''}".strip())


def due_day(step) -> str:
    """The last local day of a milestone (its due moment is the end of that day)."""
    return (step.due_at - timedelta(seconds=1)).astimezone(LOCAL).strftime("%Y-%m-%d")


def step_summary(view: PilotsView, milestone_id: str) -> html.Td:
    """How many pilots have done a milestone, and how many are overdue on it."""
    states = [per[milestone_id] for per in view.states.values() if milestone_id in per]
    done, late = sum(s.status == "done" for s in states), sum(s.overdue for s in states)
    return html.Td(
        f"完成 {done}/{len(states)}" + (f" · 逾期 {late}" if late else ""),
        className="pilots-total" + (" pilots-overdue" if late else ""),
    )


def timeline(view: PilotsView) -> html.Section:
    """The milestones in order with their due months, and each pilot's latest status of each."""
    steps = view.milestones
    current = view.month
    header = ["试点", "类型"] + [
        html.Th(
            [html.Div(step.name), html.Div(f"{due_day(step)} 前", className="pilots-due")],
            className="pilots-step" + (" pilots-step-now" if step.month == current else ""),
        )
        for step in steps
    ]
    rows = [
        [html.Td(pilot_link(view, pilot)), KIND_NAMES[pilot.kind]]
        + [milestone_cell(view.states.get(pilot.pilot_id, {}).get(step.milestone_id)) for step in steps]
        for pilot in view.pilots
    ]
    rows.append(
        [html.Td("合计", className="pilots-total"), f"{len(view.pilots)} 个"]
        + [step_summary(view, step.milestone_id) for step in steps]
    )
    overdue = [
        f"{pilot.name}："
        + "、".join(
            step.name
            for step in steps
            if view.states.get(pilot.pilot_id, {}).get(step.milestone_id)
            and view.states[pilot.pilot_id][step.milestone_id].overdue
        )
        for pilot in view.pilots
        if any(s.overdue for s in view.states.get(pilot.pilot_id, {}).values())
    ]
    listing = (
        html.Ul([html.Li(line) for line in overdue], id="pilots-overdue", className="pilots-overdue-list")
        if overdue
        else html.Div("本月没有逾期的里程碑。", id="pilots-overdue", className="pilots-empty")
    )
    return panel(
        "里程碑进度",
        [table(header, rows, "pilots-timeline", "pilots-timeline-table"), html.H3("逾期事项"), listing],
        "pilots-timeline",
        f"各试点截至{month_label(view.month)}报送的最新进度；截止日已过仍未完成的为逾期",
    )


def score_cell(score) -> html.Td:
    """达标 / 部分达标 / 未达标 / 无数据 as text and colour; 未评定 without a score."""
    if score is None:
        return html.Td("未评定", className="pilots-s pilots-s-none")
    return html.Td(SCORE_NAMES[score.status], className=f"pilots-s pilots-s-{score.status}")


def matrix(view: PilotsView) -> html.Section:
    """The pilots × items matrix, one table per level."""
    parts = []
    for level in ("township", "village"):
        chosen = [p for p in view.pilots if p.kind == level]
        if not chosen:
            continue
        level_items = view.level_items(level)
        header = (
            ["试点"]
            + [html.Th([html.Div(item.item_id), html.Div(item.name)], title=item.text) for item in level_items]
            + ["达标"]
        )
        rows = []
        for pilot in chosen:
            found = view.scores.get(pilot.pilot_id, {})
            met = sum(1 for item in level_items if item.item_id in found and found[item.item_id].status == "met")
            rows.append(
                [html.Td(pilot_link(view, pilot))]
                + [score_cell(found.get(item.item_id)) for item in level_items]
                + [number_cell(f"{met}/{len(level_items)}")]
            )
        parts += [
            html.H3(f"{KIND_NAMES[level]}（{len(chosen)}个）"),
            table(header, rows, "pilots-matrix", f"pilots-matrix-{level}"),
        ]
    legend = html.Div(
        [html.Span(SCORE_NAMES[s], className=f"pilots-s pilots-s-{s} pilots-key") for s in SCORE_ORDER],
        className="pilots-legend",
    )
    return panel(
        "参考指标评定",
        [legend, *parts] if parts else [html.Div("范围内没有试点。", className="pilots-empty")],
        "pilots-matrix",
        f"{month_label(view.month)}的评定，按数据仓库中的证据规则",
    )


def funds(view: PilotsView) -> html.Section:
    """Allocated, disbursed and spent by pilot, with the totals."""
    rows, totals = [], [0.0, 0.0, 0.0]
    for pilot in view.pilots:
        money = view.funds.get(pilot.pilot_id)
        allocated = view.allocated(pilot)
        disbursed, spent = (money.disbursed, money.spent) if money else (None, None)
        totals[0] += allocated
        totals[1] += disbursed or 0
        totals[2] += spent or 0
        bar = html.Span(
            html.I(style={"width": f"{min(100, 100 * (spent or 0) / allocated) if allocated else 0:.0f}%"}),
            className="pilots-progress",
        )
        rows.append(
            [
                html.Td(pilot_link(view, pilot)),
                number_cell(amount(allocated)),
                number_cell(amount(disbursed)),
                number_cell(amount(spent)),
                html.Td([bar, share(spent, allocated)], className="pilots-number"),
                money.period if money else "未报送",
            ]
        )
    rows.append(
        [
            html.Td("合计", className="pilots-total"),
            *(number_cell(amount(v)) for v in totals),
            number_cell(share(totals[2], totals[0])),
            "",
        ]
    )
    header = ["试点", "下达（万元）", "已拨付（万元）", "已支出（万元）", "支出进度", "报送月份"]
    return panel(
        "资金",
        [table(header, rows, "pilots-funds", "pilots-funds-table")],
        "pilots-funds",
        "累计数；未报送下达数的按方案每个试点的金额计",
    )
