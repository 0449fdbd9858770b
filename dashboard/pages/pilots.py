"""试点建设 (/pilots): the pilot programme within the viewer's scope. The address is the view (programme, month,
region, pilot): a map of the pilots coloured by score, the milestone timeline with what is overdue, the pilots ×
items matrix, funds by pilot, and a pilot's items, evidence and monthly trend; the 按月调度 report and the
评估验收 score sheets as XLSX (/pilots/export, dashboard/pilots/export.py)."""

from __future__ import annotations

import dash
from dash import dcc, html
from flask import current_app

from dashboard.auth.viewer import viewer
from dashboard.pilots import drill, export, sections
from dashboard.pilots.pilot_map import pilot_map
from dashboard.pilots.view import month_label, open_view, pilot_in_view, pilot_region


def _asked(args) -> list[str]:
    """The region of the pilot an address drills into: the access guard refuses it (403) outside the scope."""
    return pilot_region(current_app.config["RURALBRAIN_ENGINE"], args)


dash.register_page(__name__, path="/pilots", title="乡村大脑 · 试点建设", access="login", ids=("pilots-",), asks=_asked)
export.install(dash.get_app().server)  # /pilots/export (dashboard/auth/access.py: ROUTES)

ROLES = {"admin": "管理员", "county": "县级", "township": "乡镇", "village": "村级", "viewer": "只读"}


def layout(**query) -> html.Div:
    """The view the address describes: the overview, or one pilot's drill."""
    settings, engine = current_app.config["RURALBRAIN_SETTINGS"], current_app.config["RURALBRAIN_ENGINE"]
    query = {key: value for key, value in query.items() if isinstance(value, str)}
    view = open_view(engine, query)
    if view is None:
        message = "还没有导入试点方案。请先运行 ruralbrain programme import 或 ruralbrain demo。"
        return html.Div(html.Div(message, className="pilots-empty"), className="pilots")
    who = viewer()
    person = f"{who.name}（{ROLES.get(who.role, who.role)}）" if who else ""
    pilot_id = query.get("pilot")
    pilot = pilot_in_view(engine, view, pilot_id) if pilot_id else None
    head = sections.header(view, person, export.may_export(), pilot.pilot_id if pilot else None)
    if pilot_id and pilot is None:
        body = [html.Div("方案中没有这个试点。", className="pilots-empty", id="pilots-missing")]
    elif pilot is not None:
        back = dcc.Link("‹ 返回全部试点", href=view.address(), id="pilots-back", className="pilots-back")
        body = [back, drill.particulars(view, pilot), drill.item_table(view, pilot), drill.trend(engine, view, pilot)]
    else:
        body = [
            sections.figures(view),
            html.Div([pilot_map(view, settings), sections.funds(view)], className="pilots-two"),
            sections.matrix(view),
            sections.timeline(view),
        ]
    footer = html.Footer(
        f"乡村大脑 · 试点建设 · {view.programme.name} · {month_label(view.month)}", className="pilots-footer"
    )
    return html.Div([head, html.Main(body, className="pilots-main"), footer], className="pilots")
