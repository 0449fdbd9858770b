"""Pilot programme progress (试点建设进度): each pilot's status per milestone, reported by the county monthly."""

import re
from datetime import date, datetime
from typing import Any

from etl.dataset import BEIJING, Dataset, Field, Invalid, choice, text
from etl.datasets import fact_fields
from etl.warehouse.schema import pilot_status

STATUSES = {"未开始": "not_started", "进行中": "in_progress", "已完成": "done", "完成": "done", "滞后": "delayed"}
# 2023-11, 2023/11, 2023.11, 2023年11月
MONTH = re.compile(r"^(\d{4})\s*[年.\-/]\s*(\d{1,2})\s*月?$")


def _month(raw: Any) -> str:
    """A month as YYYY-MM; Excel turns a typed 2023-11 into a date, which is read as its month."""
    if isinstance(raw, datetime):
        raw = raw.astimezone(BEIJING) if raw.tzinfo else raw
        return raw.strftime("%Y-%m")
    if isinstance(raw, date):
        return raw.strftime("%Y-%m")
    match = MONTH.match(str(raw).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise Invalid(f"'{raw}' 不是月份（应写作 2023-11）")
    return f"{match.group(1)}-{int(match.group(2)):02d}"


def month(required: bool = False) -> Field:
    """A month written YYYY-MM (or 2023年11月, 2023.11, 2023/11), stored as YYYY-MM."""
    return Field(_month, required)


def report_fields(**fields: Field) -> dict[str, Field]:
    """The fields of a county's monthly report on a pilot: which programme, pilot and month, then its own."""
    return fact_fields(
        programme_id=text(required=True), pilot_id=text(required=True), period=month(required=True), **fields
    )


DATASET = Dataset(
    name="pilot_status",
    table=pilot_status,
    fields=report_fields(milestone=text(required=True), status=choice(STATUSES, required=True), note=text()),
)
