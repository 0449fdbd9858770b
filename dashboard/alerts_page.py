"""预警处置 (/alerts): the alerts of the viewer's scope, filtered by state, severity and region, each with its
history, and forms to acknowledge one (with a note) or resolve it by hand (a note required) — CSRF-checked,
refused outside the viewer's scope or for a read-only account, every time in local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone
from urllib.parse import urlencode

import flask_login
from flask import Blueprint, Flask, current_app, redirect, request
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from dashboard.auth.html import Markup, error, hidden_csrf, page
from dashboard.auth.viewer import require_within, view_scope
from etl.warehouse.accounts import get_user
from etl.warehouse.alerts import (
    EVENT_NAMES,
    LEVEL_NAMES,
    SEVERITY_NAMES,
    AlertError,
    acknowledge,
    alert_history,
    get_alert,
    list_alerts,
    resolve,
)
from etl.warehouse.db import as_utc
from etl.warehouse.schema import regions
from geo.codes import CodeError, normalize_code

alerts_page = Blueprint("alerts_page", __name__)
LOCAL = timezone(timedelta(hours=8))  # the county's local time


SHOWN = 500  # alerts listed at most; the note says when there are more


def _local(moment) -> str:
    moment = as_utc(moment)
    return moment.astimezone(LOCAL).strftime("%m-%d %H:%M") if moment else "—"


@dataclass(frozen=True)
class Filters:
    """What the listing is filtered by, every value checked (the address is anyone's to write)."""

    open_only: bool
    severity: str | None
    region: str | None

    def query(self, open_only: bool | None = None) -> str:
        """The query string of these filters ('' for none; ``open_only`` changed when given)."""
        open_only = self.open_only if open_only is None else open_only
        pairs = [("severity", self.severity), ("region", self.region), ("state", None if open_only else "all")]
        query = urlencode([(key, value) for key, value in pairs if value])
        return f"?{query}" if query else ""


def _filters() -> Filters:
    """The filters from the address, checked: an unknown level or a region that is not a code is dropped, a region
    outside the scope is 403."""
    state = request.args.get("state", "open")
    severity = request.args.get("severity") or None
    if severity not in (None, *SEVERITY_NAMES):
        severity = None
    region = request.args.get("region") or None
    if region:
        try:
            region = require_within(normalize_code(region))
        except CodeError:
            region = None
    return Filters(state != "all", severity, region)


def _region_names(connection, codes: set[str]) -> dict[str, str]:
    """The names of the regions of ``codes``, by code (a code the warehouse does not know is left out)."""
    if not codes:
        return {}
    query = select(regions.c.code, regions.c.name).where(regions.c.code.in_(sorted(codes)))
    return {code: name for code, name in connection.execute(query)}


def _region_cell(code: str, names: dict[str, str]) -> Markup:
    """The region as people know it, its code under it (what the 区划代码 filter takes)."""
    if code not in names:
        return Markup('<td class="nowrap">{}</td>').format(code)
    return Markup('<td class="nowrap">{}<br><span class="code">{}</span></td>').format(names[code], code)


def _row(alert, token: str, engine, names: dict[str, str], query: str) -> Markup:
    """One alert's row; its forms post with the listing's filters (``query``), which the answer brings back."""
    action = f"/alerts/{alert.id}{query}"
    with engine.connect() as connection:
        history = alert_history(connection, alert.id)
    events = Markup("；").join(
        Markup("{} {}{}").format(_local(at), EVENT_NAMES.get(kind, kind), f"（{actor}）" if actor else "")
        for at, kind, actor, _level, _note in history
    )
    actions = Markup("")
    if alert.status in ("open", "acknowledged"):
        ack = (
            Markup(
                '<form class="inline" method="post" action="{}">{}<input type="hidden" name="action" '
                'value="ack"><input name="note" placeholder="处置说明" maxlength="200" aria-label="处置说明">'
                "<button>确认</button></form>"
            ).format(action, hidden_csrf(token))
            if alert.status == "open"
            else Markup("")
        )
        done = Markup(
            '<form class="inline" method="post" action="{}">{}<input type="hidden" name="action" '
            'value="resolve"><input name="note" placeholder="消除说明（必填）" maxlength="200" required '
            'aria-label="消除说明"><button>消除</button></form>'
        ).format(action, hidden_csrf(token))
        actions = ack + done
    acknowledged = (
        Markup("<br>{} 确认：{}").format(alert.acknowledged_by, alert.ack_note or "") if alert.acknowledged_by else ""
    )
    return Markup(
        '<tr class="alert-{}"><td class="nowrap">{}</td><td class="name">{}</td>{}<td class="nowrap">{}</td>'
        '<td class="prose">{}{}</td><td class="nowrap">{}</td><td class="prose">{}</td><td class="act">{}</td></tr>'
    ).format(
        alert.status,
        SEVERITY_NAMES.get(alert.severity, alert.severity),
        alert.name,
        _region_cell(alert.region_code, names),
        alert.status_name,
        alert.detail or "",
        acknowledged,
        LEVEL_NAMES.get(alert.level, alert.level),
        events,
        actions,
    )


def _filter_form(chosen: Filters) -> Markup:
    """The 级别 and 区划代码 form, showing the filters the listing is made by (筛选 again lists the same)."""
    selected = Markup(" selected")
    options = Markup("").join(
        Markup('<option value="{}"{}>{}</option>').format(key, selected if key == chosen.severity else "", name)
        for key, name in SEVERITY_NAMES.items()
    )
    return Markup(
        '<form class="filters" method="get" action="/alerts"><div><label for="severity">级别</label>'
        '<select id="severity" name="severity"><option value="">全部</option>{}</select></div><div>'
        '<label for="region">区划代码</label><input id="region" name="region" inputmode="numeric" value="{}"></div>'
        '<input type="hidden" name="state" value="{}"><button>筛选</button></form>'
    ).format(options, chosen.region or "", "open" if chosen.open_only else "all")


def _page(message: str = "", status: int = 200):
    """The listing under the address's filters (``message``: why an action was refused)."""
    engine = current_app.config["RURALBRAIN_ENGINE"]
    chosen = _filters()
    with engine.connect() as connection:
        # Filtered in the query: filtered after the first 500, 520 open warnings hid an acknowledged critical alert.
        found = list_alerts(
            connection,
            view_scope() or None,
            open_only=chosen.open_only,
            region=chosen.region,
            severity=chosen.severity,
            limit=SHOWN + 1,
        )
        names = _region_names(connection, {alert.region_code for alert in found[:SHOWN]})
    token = generate_csrf()
    rows = Markup("").join(_row(alert, token, engine, names, chosen.query()) for alert in found[:SHOWN])
    empty = Markup('<p class="note">没有符合条件的告警</p>') if not found else Markup("")
    if len(found) > SHOWN:
        empty = Markup(
            '<p class="note">只列出最前面的 {} 条（未确认、最严重、最新的在前），请按级别或区划筛选</p>'
        ).format(SHOWN)
    body = Markup(
        '<nav><a href="/">地图</a><a href="/alerts{}">未消除</a><a href="/alerts{}">全部</a></nav><h1>预警处置</h1>{}{}'
        '<div class="scroll"><table class="alerts"><tr><th>级别</th><th>告警</th><th>区划</th><th>状态</th>'
        "<th>详情</th><th>责任层级</th><th>经过</th><th></th></tr>{}</table></div>{}"
    ).format(
        chosen.query(open_only=True),
        chosen.query(open_only=False),
        error(message),
        _filter_form(chosen),
        rows,
        empty,
    )
    return page("乡村大脑 · 预警处置", body, wide=True), status


@alerts_page.get("/alerts")
def listing():
    """The alerts of the viewer's scope."""
    return _page()


@alerts_page.post("/alerts/<int:alert_id>")
def act(alert_id: int):
    """Acknowledge or resolve an alert (refused outside the viewer's scope, for a read-only account)."""
    from dashboard.auth.login import csrf

    csrf.protect()
    back = f"/alerts{_filters().query()}"  # the listing as it was filtered, checked before anything is done
    engine = current_app.config["RURALBRAIN_ENGINE"]
    note = request.form.get("note", "").strip()[:200]
    try:
        with engine.begin() as connection:
            alert = get_alert(connection, alert_id)
            if alert is None:
                raise AlertError(f"告警 {alert_id} 不存在")
            require_within(alert.region_code, "告警所在区划")
            user = get_user(connection, flask_login.current_user.name)
            if request.form.get("action") == "resolve":
                resolve(connection, alert_id, user, note)
            else:
                acknowledge(connection, alert_id, user, note)
    except AlertError as problem:
        return _page(str(problem), 400)
    return redirect(back)


def install(server: Flask) -> None:
    """The alerts routes (the access guard lets logged-in users in)."""
    server.register_blueprint(alerts_page)
