"""The household's phone pages at /h/<token>: the token is the credential (checked here on every request; an
unknown or revoked one gets a Chinese 403 page), forms carry a CSRF token and an idempotency key, writes go to the
intake through etl.warehouse and are rate-limited per household and per address."""

from __future__ import annotations

import secrets

from flask import Blueprint, redirect, request, send_file
from flask_wtf.csrf import CSRFError, generate_csrf

from dashboard.auth.viewer import Viewer, address, set_viewer
from dashboard.household import pages, queries
from dashboard.household.common import failed, intake_engine, limits, private, reader, refusal, settings
from dashboard.household.uploads import PHOTO_BYTES, photo, typed_name
from dashboard.household.village_part import village_part
from etl.warehouse import intake_cases, intake_points
from etl.warehouse.household_tokens import Household, household_of
from etl.warehouse.intake import IntakeError
from etl.warehouse.intake_files import file_path, file_row, files_of

household = Blueprint("household", __name__)


def _csrf_protect() -> None:
    from dashboard.auth.login import csrf

    csrf.protect()


def _opened(token: str) -> Household | None:
    """The household a token opens, bound to this request as its viewer (scope: its village)."""
    with reader().connect() as connection:
        found = household_of(connection, token)
    if found is not None:
        set_viewer(Viewer("household", found.code, "viewer", found.village), found.village)
    return found


def _revoked():
    return refusal("户码无效", "此户码无效或已停用。请联系村委会领取新的户码。", 403)


def _view(found: Household) -> pages.HouseholdView:
    village = village_part(reader(), found.village, settings().services_file)
    with reader().connect() as connection:
        return pages.HouseholdView(
            household=found,
            balance=intake_points.balance(connection, found.code),
            entries=queries.points_entries(connection, found.code),
            cases=intake_cases.household_cases(connection, found.code),
            notices=list(village.notices),
            attachments=village.attachments,
            catalogue=list(village.catalogue),
            redemptions=intake_points.household_redemptions(connection, found.code),
            services=list(village.services),
        )


def _main(token: str, found: Household, form: dict | None = None, message: str = "", status: int = 200):
    view = _view(found)
    keys = [secrets.token_hex(16) for _ in range(1 + len(view.catalogue))]
    base = f"/h/{token}"
    return private((pages.household_page(base, view, generate_csrf(), keys, form, message), status))


@household.get("/h/<token>")
def page(token: str):
    """The household's page."""
    found = _opened(token)
    return _main(token, found) if found else _revoked()


@household.get("/h/<token>/cases")
def cases_address(token: str):
    """The address a refused 诉求 leaves in the bar: reloading it opens the household's page again (it drew Dash's
    English 404 page)."""
    return redirect(f"/h/{token}#request", code=303)


@household.post("/h/<token>/cases")
def submit(token: str):
    """A new 诉求 (with an optional photo); the same form twice makes one case."""
    _csrf_protect()
    found = _opened(token)
    if found is None:
        return _revoked()
    form = {key: request.form.get(key, "") for key in ("topic", "text", "phone", "key")}
    try:
        case_id, _new = intake_cases.submit(
            intake_engine(),
            found,
            form,
            photo=lambda: photo(request.files.get("photo")),  # decoded once the form and the hour would take it
            uploads_dir=settings().uploads_dir,
            address=address() or None,
            limits=limits(),
        )
    except IntakeError as problem:
        # Every refusal redraws the form with what was typed (a photo cannot be put back): a page of its own for a
        # photo too large or an hour's writes reached lost a 说明 the household may have typed for minutes.
        return _main(token, found, form, _kept(problem), problem.status)
    return redirect(f"/h/{token}/cases/{case_id}", code=303)


def _kept(problem: IntakeError) -> str:
    """The message above a form redrawn after a refusal, saying the photo has to be chosen again when one was sent."""
    if problem.status == 413:
        return f"{problem}（填写的内容已保留，请重新选择照片）"
    if problem.status == 429:
        return f"{problem}（填写的内容已保留）"
    return str(problem)


def _own_case(found: Household, case_id: str):
    with reader().connect() as connection:
        case = intake_cases.get_case(connection, case_id)
        if case is None or case["household_code"] != found.code:
            return None, [], []
        steps = intake_cases.events(connection, case_id)
        photos = files_of(connection, "case", [case_id]).get(case_id, [])
    return case, steps, photos


@household.get("/h/<token>/cases/<case_id>")
def case(token: str, case_id: str, message: str = "", status: int = 200):
    """One of the household's 诉求: its steps, and the rating form once closed."""
    found = _opened(token)
    if found is None:
        return _revoked()
    current, steps, photos = _own_case(found, case_id)
    if current is None:
        return refusal("没有找到", "没有这条诉求。", 404, back=f"/h/{token}")
    html = pages.case_page(f"/h/{token}", found, current, steps, photos, generate_csrf(), message)
    return private((html, status))


@household.post("/h/<token>/cases/<case_id>/rating")
def rating(token: str, case_id: str):
    """The household rates its closed 诉求 (1–5)."""
    _csrf_protect()
    found = _opened(token)
    if found is None:
        return _revoked()
    try:
        intake_cases.rate(
            intake_engine(), found, case_id, request.form.get("score"), address=address() or None, limits=limits()
        )
    except IntakeError as problem:
        if problem.status == 400:
            return case(token, case_id, str(problem), 400)
        return failed(problem, back=f"/h/{token}")
    return redirect(f"/h/{token}/cases/{case_id}", code=303)


@household.get("/h/<token>/redemptions")
def redemptions_address(token: str):
    """The address a refused redemption leaves in the bar: reloading it opens the household's 换积分 again (it drew
    the Dash app's 404 page, with links to the county's screens)."""
    return redirect(f"/h/{token}#redeem", code=303)


@household.get("/h/<token>/cases/<case_id>/rating")
def rating_address(token: str, case_id: str):
    """The address a refused rating leaves in the bar: reloading it opens the 诉求 again."""
    return redirect(f"/h/{token}/cases/{case_id}", code=303)


@household.post("/h/<token>/redemptions")
def redeem(token: str):
    """A request to redeem points for a catalogue item; the same form twice makes one request."""
    _csrf_protect()
    found = _opened(token)
    if found is None:
        return _revoked()
    form = {"item": request.form.get("item", ""), "key": request.form.get("key", "")}
    try:
        intake_points.request(intake_engine(), found, form, address=address() or None, limits=limits())
    except IntakeError as problem:
        return failed(problem, back=f"/h/{token}#redeem")
    return redirect(f"/h/{token}#redeem", code=303)


@household.get("/h/<token>/files/<file_id>")
def file(token: str, file_id: str):
    """A photo of one of the household's 诉求, or an attachment of its village's notices."""
    found = _opened(token)
    if found is None:
        return _revoked()
    with reader().connect() as connection:
        row = file_row(connection, file_id)
        allowed = row is not None and (
            (row["owner"] == "notice" and row["region_code"] == found.village)
            or (
                row["owner"] == "case"
                and (intake_cases.get_case(connection, row["owner_id"]) or {}).get("household_code") == found.code
            )
        )
    if not allowed:
        return refusal("没有找到", "没有这个文件。", 404, back=f"/h/{token}")
    return serve(row)


def serve(row: dict):
    """A stored file: images inline, PDFs only as a download; cached by the phone alone."""
    response = send_file(
        file_path(settings().uploads_dir, row["file_id"]),
        mimetype=row["content_type"],
        as_attachment=row["content_type"] == "application/pdf",
        download_name=typed_name(row["name"], row["content_type"]),  # rows stored before names took their type
        max_age=3600,
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@household.errorhandler(413)
def _too_large(_problem):
    return refusal("文件太大", f"照片不能超过 {PHOTO_BYTES // (1024 * 1024)} MB，请换一张小一些的。", 413)


@household.errorhandler(CSRFError)
def _csrf_refused(_problem):
    return refusal("页面已过期", "页面已过期或来源不明，请返回刷新后重新提交。", 400)
