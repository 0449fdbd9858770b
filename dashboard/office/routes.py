"""The village office at /office (a login; a village clerk works on their village, a township cadre on the cases
its villages escalated): 诉求 handling, notices with attachments, 民主议事 and 民主监督, redemptions and the catalogue.
Every form is CSRF-checked, every value checked in etl.warehouse, every case and file checked against the scope."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, redirect, request
from flask_wtf.csrf import CSRFError, generate_csrf
from markupsafe import Markup
from werkzeug.exceptions import Forbidden

from dashboard.auth.viewer import forbid, sees, viewer
from dashboard.household.common import intake_engine, limits, private, reader, refusal, settings
from dashboard.household.routes import serve
from dashboard.household.uploads import ATTACHMENT_BYTES, attachment
from dashboard.office import pages
from dashboard.regions import get_region
from etl.warehouse import intake_cases, intake_notices, intake_points, intake_records
from etl.warehouse.case_queue import escalated_cases
from etl.warehouse.household_tokens import household as household_of_code
from etl.warehouse.intake import IntakeError, stamp
from etl.warehouse.intake_files import file_row, files_of

office = Blueprint("office", __name__)
ROLES = ("village", "township")
MOST_FILES = 3


def _csrf_protect() -> None:
    from dashboard.auth.login import csrf

    csrf.protect()


def _who():
    """The logged-in clerk or cadre of this request (the access guard has required a login)."""
    who = viewer()
    if who is None or who.kind != "user" or who.role not in ROLES:
        raise Forbidden(description="村务办公仅限村级、乡镇级账号")
    return who


def _village() -> tuple[object, str]:
    """The clerk and their village, for the pages only a village's clerk uses."""
    who = _who()
    if who.role != "village":
        raise Forbidden(description="此页面仅限村级账号（村务公开、议事监督、积分兑换由各村办理）")
    return who, who.scope


def _label(who) -> Markup:
    """The header's who: the name of the account's village or township (its code on hover), then the account."""
    region = get_region(reader(), who.scope)
    if region is None:
        return Markup("{} · {}").format(who.scope, who.name)
    return Markup('<span title="{}">{}</span> · {}').format(region.code, region.name, who.name)


@office.get("/office")
def home(message: str = "", status: int = 200):
    """The 诉求 queue of the clerk's village, or the township's escalated cases."""
    who = _who()
    with reader().connect() as connection:
        if who.role == "township":
            return private((pages.township_home(_label(who), escalated_cases(connection, who.scope)), status))
        open_cases = intake_cases.village_cases(connection, who.scope)
        done = intake_cases.village_cases(connection, who.scope, ("closed", "rated"), limit=20)
    now_text = stamp(datetime.now(UTC))
    return private((pages.home(_label(who), open_cases, done, now_text, message), status))


def _case_in_scope(case_id: str) -> dict:
    """A case the viewer may open and act on: of their region, and for a township's cadre one its village escalated
    (until then the village handles it; its page shows the household's words and callback number)."""
    with reader().connect() as connection:
        case = intake_cases.get_case(connection, case_id)
    if case is None:
        raise IntakeError(f"诉求 {case_id} 不存在")
    if not sees(case["region_code"]):
        forbid(case["region_code"], "诉求")
    _escalated_for(_who(), case)
    return case


def _escalated_for(who, case: dict) -> None:
    """Forbidden for a township's cadre when the village has not escalated the case."""
    if who.role != "village" and case["escalation"] == "village":
        raise Forbidden(description=f"诉求 {case['case_id']} 未上报乡镇，由村里办理")


@office.get("/office/cases/<case_id>")
def case(case_id: str, message: str = "", status: int = 200, form: dict | None = None):
    """One case with its steps and the form for the next (``form``: what a refused step sent)."""
    who = _who()
    try:
        current = _case_in_scope(case_id)
    except IntakeError as problem:
        return refusal("没有找到", str(problem), 404, back="/office")
    with reader().connect() as connection:
        steps = intake_cases.events(connection, case_id)
        photos = files_of(connection, "case", [case_id]).get(case_id, [])
        household = household_of_code(connection, current["household_code"])
    html = pages.case_page(
        _label(who), current, household, steps, photos, generate_csrf(), message, role=who.role, form=form
    )
    return private((html, status))


@office.post("/office/cases/<case_id>")
def act(case_id: str):
    """Accept, record progress, close or escalate a case."""
    _csrf_protect()
    who = _who()
    try:
        _case_in_scope(case_id)
        form = request.form
        intake_cases.act(
            intake_engine(), case_id, form.get("action", ""), form.get("note"), who.name, limits=limits(), role=who.role
        )
    except IntakeError as problem:
        return case(case_id, str(problem), problem.status, form=request.form)
    return redirect(f"/office/cases/{case_id}", code=303)


def _shown(page, reads, message: str, status: int, done: str, form=None):
    """A page of the clerk's village: each of ``reads`` (a function of a connection and the village) gives one of
    the page's lists; ``form``, the values of a refused form, is drawn back into it."""
    who, village = _village()
    with reader().connect() as connection:
        found = [read(connection, village) for read in reads]
    return private((page(_label(who), *found, generate_csrf(), message, done, form=form), status))


def _notice_files(connection, village: str) -> dict:
    published = intake_notices.village_notices(connection, village)
    return files_of(connection, "notice", [notice["notice_id"] for notice in published])


def _sent(form, **more) -> dict:
    """A refused form's values (each field's first), to draw it again as the clerk filled it."""
    return {key: form.get(key, "") for key in form if key != "csrf_token"} | more


@office.get("/office/notices")
def notices(message: str = "", status: int = 200, done: str = "", form=None):
    """The form to publish, and the village's notices."""
    return _shown(pages.notices_page, (intake_notices.village_notices, _notice_files), message, status, done, form)


@office.post("/office/notices")
def publish():
    """Publish a notice (its attachments checked: images re-encoded, PDFs by their header)."""
    _csrf_protect()
    who, village = _village()
    try:
        chosen = [file for file in request.files.getlist("files") if file and file.filename]
        if len(chosen) > MOST_FILES:
            raise IntakeError(f"附件最多 {MOST_FILES} 个")
        notice_id = intake_notices.publish(
            intake_engine(),
            village,
            request.form,
            # Decoded once the form and the hour would take the notice.
            lambda: [upload for upload in (attachment(file) for file in chosen) if upload is not None],
            uploads_dir=settings().uploads_dir,
            author=who.name,
            limits=limits(),
        )
    except IntakeError as problem:
        return notices(str(problem), problem.status, form=_sent(request.form, files=bool(chosen)))
    return notices(done=f"已发布（编号 {notice_id}），约 1 分钟内出现在村务公开屏上")


@office.get("/office/records")
def records(message: str = "", status: int = 200, done: str = "", form=None):
    """民主议事 and 民主监督 of the village."""
    return _shown(pages.records_page, (intake_records.matters, intake_records.items), message, status, done, form)


@office.post("/office/records")
def save_record():
    """A new or updated 民主议事 matter (record=matter) or 民主监督 item (record=item)."""
    _csrf_protect()
    who, village = _village()
    form, record_id = request.form, request.form.get("id", "").strip() or None
    try:
        if form.get("record") == "matter":
            saved = intake_records.save_matter(
                intake_engine(), village, form, author=who.name, matter_id=record_id, limits=limits()
            )
        elif form.get("record") == "item":
            saved = intake_records.save_item(
                intake_engine(), village, form, author=who.name, item_id=record_id, limits=limits()
            )
        else:
            raise IntakeError("未知的记录类型")
    except IntakeError as problem:
        return records(str(problem), problem.status, form=_sent(form))
    return records(done=f"已保存（编号 {saved}）")


@office.get("/office/points")
def points(message: str = "", status: int = 200, done: str = "", form=None):
    """Redemption requests and the village's catalogue."""
    return _shown(pages.points_page, (intake_points.waiting, intake_points.village_items), message, status, done, form)


@office.post("/office/points")
def save_points():
    """Confirm or decline a request (what=decide), or add or change a catalogue item (what=item)."""
    _csrf_protect()
    who, village = _village()
    form = request.form
    try:
        if form.get("what") == "decide":
            confirm = form.get("decision") == "confirm"
            intake_points.decide(
                intake_engine(), village, form.get("id", ""), confirm, form.get("note"), actor=who.name, limits=limits()
            )
            done = "已确认兑换，积分将在 1 分钟内扣除" if confirm else "已退回申请"
        elif form.get("what") == "item":
            saved = intake_points.save_item(intake_engine(), village, form, author=who.name, limits=limits())
            done = f"已保存物品（编号 {saved}）"
        else:
            raise IntakeError("未知的操作")
    except IntakeError as problem:
        return points(str(problem), problem.status, form=_sent(form))
    return points(done=done)


@office.get("/office/files/<file_id>")
def file(file_id: str):
    """A case's photo or a notice's attachment within the viewer's scope."""
    _who()
    with reader().connect() as connection:
        row = file_row(connection, file_id)
    if row is None:
        return refusal("没有找到", "没有这个文件。", 404, back="/office")
    if not sees(row["region_code"]):
        forbid(row["region_code"], "文件")
    if row["owner"] == "case":
        with reader().connect() as connection:
            owner = intake_cases.get_case(connection, row["owner_id"])
        if owner is not None:
            _escalated_for(viewer(), owner)
    return serve(row)


@office.errorhandler(Forbidden)
def _forbidden(problem: Forbidden):
    return refusal("无权访问", problem.description or "无权执行此操作", 403, back="/office")


@office.errorhandler(413)
def _too_large(_problem):
    return refusal(
        "附件太大", f"每个附件不能超过 {ATTACHMENT_BYTES // (1024 * 1024)} MB。", 413, back="/office/notices"
    )


@office.errorhandler(CSRFError)
def _csrf_refused(_problem):
    return refusal("页面已过期", "页面已过期或来源不明，请返回刷新后重新提交。", 400, back="/office")
