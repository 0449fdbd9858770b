"""What the household and office pages share: the intake engine (transactions, unlike the screens' autocommit
reads), the rate limits and uploads folder from the settings, a page for refusals, and the answer to an intake
error."""

from __future__ import annotations

from flask import Response, current_app, make_response

from dashboard.household.shell import phone_page
from etl.warehouse.db import make_engine
from etl.warehouse.intake import IntakeError, Limits

NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


def intake_engine():
    """The engine intake writes go through: one per process, made at the first write."""
    config = current_app.config
    if "RURALBRAIN_INTAKE_ENGINE" not in config:
        config["RURALBRAIN_INTAKE_ENGINE"] = make_engine(config["RURALBRAIN_SETTINGS"].warehouse_url)
    return config["RURALBRAIN_INTAKE_ENGINE"]


def reader():
    """The screens' read engine (autocommit)."""
    return current_app.config["RURALBRAIN_ENGINE"]


def settings():
    """This deployment's settings."""
    return current_app.config["RURALBRAIN_SETTINGS"]


def limits() -> Limits:
    """The rate limits of this deployment."""
    chosen = settings()
    return Limits(chosen.household_writes_per_hour, chosen.address_writes_per_hour, chosen.office_writes_per_hour)


def private(response) -> Response:
    """A page of one household or one office: never cached anywhere, never indexed."""
    response = make_response(response)
    response.headers.update(NO_STORE)
    return response


def refusal(title: str, message: str, status: int, back: str | None = None) -> Response:
    """A Chinese page saying why a request was refused."""
    return private((phone_page(title, message, back=back), status))


def failed(problem: IntakeError, back: str | None = None) -> Response:
    """The page for a write that was refused (a bad field, a limit, a thing that is not there)."""
    titles = {404: "没有找到", 413: "文件太大", 429: "提交过于频繁"}
    return refusal(titles.get(problem.status, "未能提交"), str(problem), problem.status, back)
