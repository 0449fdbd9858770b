"""Pilot programme progress (试点建设进度): each pilot's status per milestone, reported by the county monthly."""

import re
from datetime import date, datetime, timedelta
from typing import Any

from etl.dataset import BEIJING, Dataset, Field, Invalid, choice, text
from etl.datasets import fact_fields
from etl.warehouse.schema import pilot_status

STATUSES = {"未开始": "not_started", "进行中": "in_progress", "已完成": "done", "完成": "done", "滞后": "delayed"}
# 2023-11, 2023/11, 2023.11, 2023年11月
MONTH = re.compile(r"^(\d{4})\s*[年.\-/]\s*(\d{1,2})\s*月?$")
# A day of the month, as a sheet's date cell reads: 2023-11-01, 2023-11-01 00:00:00, 2023/11/1
DAY = re.compile(r"^(\d{4})[\-/.](\d{1,2})[\-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
# An Excel date left unformatted: days since 1899-12-30 (1982 to 2119)
SERIAL = re.compile(r"^[3-7]\d{4}(?:\.0+)?$")
EXCEL_EPOCH = datetime(1899, 12, 30)


def _month(raw: Any) -> str:
    """A month as YYYY-MM, never after the current local month; Excel turns a typed 2023-11 into a date (which the
    sheet reader hands over as 2023-11-01 00:00:00, or an unformatted serial such as 45231), read as its month."""
    found = _month_of(raw)
    current = datetime.now(BEIJING).strftime("%Y-%m")
    if found > current:  # a typo (2032-11) would be stored as a month nobody reaches, its report never seen
        raise Invalid(f"'{raw}' 晚于本月（{current}），不能填报将来的月份")
    return found


def _month_of(raw: Any) -> str:
    if isinstance(raw, datetime):
        raw = raw.astimezone(BEIJING) if raw.tzinfo else raw
        return raw.strftime("%Y-%m")
    if isinstance(raw, date):
        return raw.strftime("%Y-%m")
    written = str(raw).strip()
    if SERIAL.match(written):
        return (EXCEL_EPOCH + timedelta(days=int(float(written)))).strftime("%Y-%m")
    match = MONTH.match(written) or DAY.match(written)
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
