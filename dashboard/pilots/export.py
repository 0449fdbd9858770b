"""/pilots/export: the 按月调度 report (kind=monthly) or the 评估验收 score sheets (kind=acceptance; one pilot's with
?pilot=, else every pilot's in the scope) as XLSX for the viewer's scope, streamed in chunks; every export
audited, none for a viewer (who only looks), a region or pilot outside the scope refused (403, audited)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, request

from dashboard.auth.viewer import address, refuse, viewer
from dashboard.pilots.view import MONTH, open_view, pilot_in_view
from dashboard.workspace.download import may_export
from etl.warehouse.accounts import record
from etl.warehouse.pilot_reports.acceptance import acceptance_book, acceptance_workbook
from etl.warehouse.pilot_reports.monthly import monthly_workbook, read_monthly
from etl.warehouse.pilots import LOCAL

PATH = "/pilots/export"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KINDS = {"monthly": "按月调度表", "acceptance": "评估验收评分表"}
CHUNK = 64 * 1024
exports = Blueprint("pilots_export", __name__)

__all__ = ["install", "may_export"]


def _chunks(data: bytes):
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


@exports.get(PATH)
def export():
    """Stream the report the address asks for (programme, month, kind, region, pilot)."""
    kind = request.args.get("kind", "monthly")
    if kind not in KINDS or (request.args.get("month") and not MONTH.match(request.args["month"])):
        abort(404)
    if not may_export():
        refuse("只读账户不能导出数据")
    engine = current_app.config["RURALBRAIN_ENGINE"]
    view = open_view(engine, request.args.to_dict())
    if view is None:
        abort(404)
    if view.notice:
        abort(404, description=view.notice)  # the page shows another month; a file must not pass for the one asked
    pilot_id = request.args.get("pilot")
    pilot = pilot_in_view(engine, view, pilot_id) if pilot_id else None
    if pilot_id and pilot is None:
        abort(404)
    programme_id, month = view.programme.programme_id, view.month
    exported = datetime.now(UTC)
    what = f"{KINDS[kind]} {programme_id} {month} 范围 {view.scope or '全部'}" + (f" 试点 {pilot_id}" if pilot else "")
    with engine.begin() as connection:
        record(connection, "export", viewer().name, address(), f"XLSX {what}")
    with engine.connect() as connection:
        if kind == "monthly":
            book = monthly_workbook(read_monthly(connection, programme_id, month, scope=view.scope), exported)
        elif pilot is not None:
            book = acceptance_workbook(connection, programme_id, pilot.pilot_id, month, exported)
        else:
            book = acceptance_book(connection, programme_id, month, view.scope, exported)
    buffer = io.BytesIO()
    book.save(buffer)
    name = f"{view.programme.name}_{KINDS[kind]}_{pilot.name + '_' if pilot else ''}{month}_"
    name += f"{exported.astimezone(LOCAL):%Y%m%d%H%M}.xlsx"
    headers = {
        "Content-Disposition": f"attachment; filename=\"pilots.xlsx\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store",
    }
    return Response(_chunks(buffer.getvalue()), content_type=XLSX, headers=headers)


def install(server) -> None:
    """Add the export route to a Flask server (once)."""
    if exports.name not in server.blueprints:
        server.register_blueprint(exports)
