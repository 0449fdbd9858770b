"""/explore/export: any table of the workspace (KPI cards, trend, children compared, breakdown, records) as XLSX or
CSV, streamed as it is written, for the view the address describes and the viewer's scope; every export audited,
none for a viewer (who only looks)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, request, stream_with_context
from werkzeug.exceptions import TooManyRequests

from dashboard.auth.viewer import address, refuse, viewer
from dashboard.workspace.context import Workspace, as_of, open_workspace
from dashboard.workspace.export import csv_stream, xlsx_stream
from dashboard.workspace.periods import LOCAL
from dashboard.workspace.reads import reading
from dashboard.workspace.state import parse
from dashboard.workspace.tables import SHEET_NAMES, SHEETS, record_rows
from etl.warehouse.accounts import record

PATH = "/explore/export"
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
exports = Blueprint("explore_export", __name__)
# Exports a worker streams at once. A big one holds a request thread for a minute: eight at once took every thread
# of the production workers, and the login page waited 59 s. The others are told to try again in a moment.
EXPORTS_AT_ONCE = 1
_exporting = threading.BoundedSemaphore(EXPORTS_AT_ONCE)
BUSY = "服务器正在为其他人导出数据，请一分钟后再试"


def may_export() -> bool:
    """Whether this request's viewer may take data out: a logged-in user who is not a viewer."""
    who = viewer()
    return bool(who and who.kind == "user" and who.role != "viewer")


def title_of(ws: Workspace, part: str, exported: datetime) -> str:
    """The title row of an export: region and code, table, measure, period, filters, 数据截至, export time."""
    pieces = [ws.region_label, SHEET_NAMES[part], ws.info.label, f"时段：{ws.period.label}"]
    applied = applied_filters(ws, part)
    if applied:
        pieces.append(f"筛选：{applied}")
    pieces += [as_of(ws), f"导出时间 {exported.astimezone(LOCAL):%Y-%m-%d %H:%M}"]
    return " · ".join(pieces)


def applied_filters(ws: Workspace, part: str) -> str:
    """The filters a part applies, as a line of text: every one for the records; the measures' own dimension
    (类别：请求) for the KPI cards, trend and children, which 状态 or 渠道 do not limit; none for the breakdown."""
    if part == "records":
        return ws.filter_label
    if part == "breakdown":
        return ""
    measures = ws.area_measures if part == "kpi" else [ws.info]
    return ws.filters_label({info.dimension for info in measures if info.name in ws.dimensions})


def file_name(ws: Workspace, part: str, kind: str, exported: datetime) -> str:
    span = ws.period.current
    return (
        f"{ws.region.name}{ws.region.code}_{ws.info.label}_{SHEET_NAMES[part]}_"
        f"{span.first:%Y%m%d}-{span.last:%Y%m%d}_{exported.astimezone(LOCAL):%Y%m%d%H%M}.{kind}"
    )


@exports.get(PATH)
def export():
    """Stream one table of the view in the address (``part``, ``format``) to the viewer."""
    part, kind = request.args.get("part", "records"), request.args.get("format", "xlsx")
    if part not in SHEET_NAMES or kind not in FORMATS:
        abort(404)
    if not may_export():
        refuse("只读账户不能导出数据")
    settings, engine = current_app.config["RURALBRAIN_SETTINGS"], current_app.config["RURALBRAIN_ENGINE"]
    ws = open_workspace(engine, settings, parse(request.args.to_dict()))
    if ws is None or ws.info is None or (part == "records" and ws.view is None):
        abort(404)
    if not _exporting.acquire(blocking=False):
        raise TooManyRequests(description=BUSY)
    slot = _Slot()
    try:
        response = _streamed(engine, ws, part, kind, slot)
    except BaseException:
        slot.release()
        raise
    # The server closes every response, written to the end or not (a client gone mid-file): the slot comes back then
    # at the latest.
    response.call_on_close(slot.release)
    return response


class _Slot:
    """This request's export slot, given back once however often it is asked to be."""

    def __init__(self) -> None:
        self._held = True
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._held:
                self._held = False
                _exporting.release()

    def around(self, body):
        """The body's pieces, the slot given back as soon as the last is written."""
        try:
            yield from body
        finally:
            self.release()


def _streamed(engine, ws: Workspace, part: str, kind: str, slot: _Slot) -> Response:
    """The export's response, its rows written as the client reads them."""
    exported = datetime.now(UTC)
    title = title_of(ws, part, exported)
    who = viewer()
    with engine.begin() as connection:
        record(connection, "export", who.name, address(), f"{kind.upper()} {title}")
    if part == "records":
        columns = ws.view.columns

        def rows():
            with reading(engine) as connection:
                yield from record_rows(ws, connection)

        found = rows()
    else:
        sheet = SHEETS[part](ws)
        columns, found = sheet.columns, sheet.rows
    body = xlsx_stream(SHEET_NAMES[part], title, columns, found) if kind == "xlsx" else csv_stream(columns, found)
    body = slot.around(body)
    name = file_name(ws, part, kind, exported)
    headers = {
        "Content-Disposition": f"attachment; filename=\"export.{kind}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store",
    }
    return Response(stream_with_context(body), content_type=FORMATS[kind], headers=headers)


def install(server) -> None:
    """Add the export route to a Flask server (once)."""
    if exports.name not in server.blueprints:
        server.register_blueprint(exports)
