"""Cases (矛盾/纠纷/请求/诉求) as records: status, due date and whether they are overdue (超期: past the due date
while open, or closed after it), filtered by category, module, status, channel and overdue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, not_

from dashboard.workspace.records import Column, Filter, View, equals, region_columns
from etl.warehouse.db import as_utc
from etl.warehouse.labels import CASE_CATEGORIES, CASE_CHANNELS, CASE_MODULES, CASE_STATUSES, ESCALATIONS
from etl.warehouse.schema import cases, regions

OVERDUE = {"1": "超期", "0": "未超期"}


def _late(now: datetime):
    """The SQL condition of an overdue case as of ``now``."""
    return and_(cases.c.due_at.is_not(None), cases.c.due_at < func.coalesce(cases.c.closed_at, now))


def _overdue(value: str, now: datetime):
    return _late(now) if value == "1" else not_(_late(now))


def _derive(values: dict, now: datetime) -> dict:
    due, closed = as_utc(values["due_at"]), as_utc(values["closed_at"])
    values["overdue"] = "" if due is None else ("是" if (closed or now) > due else "否")
    return values


def VIEW() -> View:  # noqa: N802 - the name the records registry looks for
    """The cases view."""
    region_cols, region_selected = region_columns()
    columns = (
        Column("case_id", "事件编号", "plain", width=14),
        *region_cols,
        Column("event_time", "受理时间", "time", width=17),
        Column("category", "类别", "label", width=8, coded=("cases", "category")),
        Column("module", "模块", "label", width=10, coded=("cases", "module")),
        Column("channel", "渠道", "label", width=8, coded=("cases", "channel")),
        Column("title", "标题", "title", width=36, sortable=False),
        Column("reporter_name", "反映人", "name", width=8, sortable=False),
        Column("reporter_phone", "联系电话", "phone", width=14, sortable=False),
        Column("status", "状态", "label", width=8, coded=("cases", "status")),
        Column("escalation", "层级", "label", width=6, coded=("cases", "escalation")),
        Column("due_at", "办理期限", "time", width=17),
        Column("overdue", "是否超期", "flag", width=8, sortable=False),
        Column("closed_at", "办结时间", "time", width=17),
        Column("satisfaction", "满意度", "number", "分", width=8),
    )
    selected = (
        cases.c.case_id.label("case_id"),
        *region_selected,
        cases.c.region_code.label("region_code"),
        *(
            cases.c[key].label(key)
            for key in (
                "event_time",
                "category",
                "module",
                "channel",
                "title",
                "reporter_name",
                "reporter_phone",
                "status",
                "escalation",
                "due_at",
                "closed_at",
                "satisfaction",
            )
        ),
    )
    return View(
        name="cases",
        table=cases,
        columns=columns,
        selected=selected,
        source=cases.join(regions, regions.c.code == cases.c.region_code),
        region=cases.c.region_code,
        filters={
            "category": Filter("category", "类别", CASE_CATEGORIES, equals(cases.c.category)),
            "module": Filter("module", "模块", CASE_MODULES, equals(cases.c.module)),
            "status": Filter("status", "状态", CASE_STATUSES, equals(cases.c.status)),
            "channel": Filter("channel", "渠道", CASE_CHANNELS, equals(cases.c.channel)),
            "overdue": Filter("overdue", "是否超期", OVERDUE, _overdue),
            # 层级: the township's queue is the open cases escalated to it (status 受理/处置中, 层级 镇).
            "escalation": Filter("escalation", "层级", ESCALATIONS, equals(cases.c.escalation)),
        },
        default_sort="event_time",
        tiebreak=(cases.c.case_id,),
        related=("module",),
        derive=_derive,
    )
