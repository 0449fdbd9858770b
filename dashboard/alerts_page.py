"""预警处置 (/alerts): the alerts of the viewer's scope, filtered by state, severity and region, each with its
history, and forms to acknowledge one (with a note) or resolve it by hand (a note required) — CSRF-checked,
refused outside the viewer's scope or for a read-only account, every time in local time."""

from __future__ import annotations

from datetime import timedelta, timezone

import flask_login
from flask import Blueprint, Flask, current_app, redirect, request
from flask_wtf.csrf import generate_csrf

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
from geo.codes import CodeError, normalize_code

alerts_page = Blueprint("alerts_page", __name__)
LOCAL = timezone(timedelta(hours=8))  # the county's local time


SHOWN = 500  # alerts listed at most; the note says when there are more


def _local(moment) -> str:
    moment = as_utc(moment)
    return moment.astimezone(LOCAL).strftime("%m-%d %H:%M") if moment else "—"


def _filters() -> tuple[bool, str | None, str | None]:
    """(open only, severity, region) from the address, checked: a region outside the scope is 403."""
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
    return state != "all", severity, region


def _row(alert, token: str, engine) -> Markup:
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
                '<form class="inline" method="post" action="/alerts/{}">{}<input type="hidden" name="action" '
                'value="ack"><input name="note" placeholder="处置说明" maxlength="200"><button>确认</button></form>'
            ).format(alert.id, hidden_csrf(token))
            if alert.status == "open"
            else Markup("")
        )
        done = Markup(
            '<form class="inline" method="post" action="/alerts/{}">{}<input type="hidden" name="action" '
            'value="resolve"><input name="note" placeholder="消除说明（必填）" maxlength="200" required>'
            "<button>消除</button></form>"
        ).format(alert.id, hidden_csrf(token))
        actions = ack + done
    acknowledged = (
        Markup("<br>{} 确认：{}").format(alert.acknowledged_by, alert.ack_note or "") if alert.acknowledged_by else ""
    )
    return Markup(
        '<tr class="alert-{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td>'
        "<td>{}</td><td>{}</td></tr>"
    ).format(
        alert.status,
        SEVERITY_NAMES.get(alert.severity, alert.severity),
        alert.name,
        alert.region_code,
        alert.status_name,
        alert.detail or "",
        acknowledged,
        LEVEL_NAMES.get(alert.level, alert.level),
        events,
        actions,
    )


def _page(message: str = "", status: int = 200):
    engine = current_app.config["RURALBRAIN_ENGINE"]
    open_only, severity, region = _filters()
    with engine.connect() as connection:
        # Filtered in the query: filtered after the first 500, 520 open warnings hid an acknowledged critical alert.
        found = list_alerts(
            connection, view_scope() or None, open_only=open_only, region=region, severity=severity, limit=SHOWN + 1
        )
    token = generate_csrf()
    rows = Markup("").join(_row(alert, token, engine) for alert in found[:SHOWN])
    empty = Markup('<p class="note">没有符合条件的告警</p>') if not found else Markup("")
    if len(found) > SHOWN:
        empty = Markup(
            '<p class="note">只列出最前面的 {} 条（未确认、最严重、最新的在前），请按级别或区划筛选</p>'
        ).format(SHOWN)
    body = Markup(
        '<nav><a href="/">地图</a><a href="/alerts">未消除</a><a href="/alerts?state=all">全部</a></nav>'
        "<h1>预警处置</h1>{}"
        '<form method="get" action="/alerts"><label for="severity">级别</label><select id="severity" name="severity">'
        '<option value="">全部</option>{}</select><label for="region">区划代码</label>'
        '<input id="region" name="region" inputmode="numeric"><input type="hidden" name="state" value="{}">'
        "<button>筛选</button></form>"
        '<div class="wide"><table><tr><th>级别</th><th>告警</th><th>区划</th><th>状态</th><th>详情</th>'
        "<th>责任层级</th><th>经过</th><th></th></tr>{}</table></div>{}"
    ).format(
        error(message),
        Markup("").join(Markup('<option value="{}">{}</option>').format(k, v) for k, v in SEVERITY_NAMES.items()),
        "open" if open_only else "all",
        rows,
        empty,
    )
    return page("乡村大脑 · 预警处置", body), status


@alerts_page.get("/alerts")
def listing():
    """The alerts of the viewer's scope."""
    return _page()


@alerts_page.post("/alerts/<int:alert_id>")
def act(alert_id: int):
    """Acknowledge or resolve an alert (refused outside the viewer's scope, for a read-only account)."""
    from dashboard.auth.login import csrf

    csrf.protect()
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
    return redirect("/alerts")


def install(server: Flask) -> None:
    """The alerts routes (the access guard lets logged-in users in)."""
    server.register_blueprint(alerts_page)
