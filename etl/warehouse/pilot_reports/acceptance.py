"""The 评估验收 score sheet of one pilot: its particulars, every reference indicator in the programme's words
with its rating, points (达标 1, 部分达标 0.5) and evidence, the total, and lines for the evaluators to sign."""

from __future__ import annotations

from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import Connection

from etl.warehouse import pilots as reads
from etl.warehouse.pilot_reports import sheets
from etl.warehouse.pilot_reports.monthly import evidence_text
from etl.warehouse.pilots import KIND_NAMES, LOCAL, SCORE_NAMES
from etl.warehouse.xlsx_text import put

POINTS = {"met": 1.0, "partly": 0.5, "unmet": 0.0, "no_data": 0.0}
HEADER = ["序号", "领域", "指标", "指标内容（参考指标原文）", "评定", "得分", "依据（数据、数值、期间、规则）"]
WIDTHS = [5, 12, 9, 48, 8, 6, 62]


def acceptance_workbook(
    connection: Connection, programme_id: str, pilot_id: str, month: str, now: datetime | None = None
) -> Workbook:
    """The score sheet of ``pilot_id`` (its id, or its region code) with the scores of ``month``."""
    now = now or datetime.now(UTC)
    programme = reads.get_programme(connection, programme_id)
    if programme is None:
        raise LookupError(f"没有方案 {programme_id}（先用 ruralbrain programme import 导入）")
    listed = reads.pilots(connection, programme_id)
    # Its id first, then its own code, then the region it is tracked under: a village pilot tracked under its
    # township (listed before the township's own pilot) took the township's sheet when any of the three would do.
    pilot = next(
        (p for key in ("pilot_id", "code", "region_code") for p in listed if getattr(p, key) == pilot_id), None
    )
    if pilot is None:
        raise LookupError(f"方案 {programme_id} 中没有试点 {pilot_id}")
    book = Workbook()
    book.active.title = "评估验收评分表"
    found = reads.scores(connection, programme_id, month).get(pilot.pilot_id, {})
    money = reads.funds(connection, programme_id, month).get(pilot.pilot_id)
    _write(book.active, programme, pilot, reads.items(connection, programme_id, pilot.kind), found, money, month, now)
    return book


def acceptance_book(
    connection: Connection, programme_id: str, month: str, scope: str | None = None, now: datetime | None = None
) -> Workbook:
    """The score sheets of every pilot tracked within ``scope`` (all resolved pilots without one), a worksheet
    each named after the pilot, with the scores of ``month``."""
    now = now or datetime.now(UTC)
    programme = reads.get_programme(connection, programme_id)
    if programme is None:
        raise LookupError(f"没有方案 {programme_id}")
    listed = [pilot for pilot in reads.pilots(connection, programme_id, scope) if pilot.region_code]
    scored = reads.scores(connection, programme_id, month, scope)
    money = reads.funds(connection, programme_id, month, scope)
    levels = {level: reads.items(connection, programme_id, level) for level in ("township", "village")}
    book = Workbook()
    taken: set[str] = set()
    for number, pilot in enumerate(listed):
        sheet = book.active if number == 0 else book.create_sheet()
        sheet.title = sheets.sheet_name(f"{pilot.county}{pilot.name}", taken)
        found = scored.get(pilot.pilot_id, {})
        _write(sheet, programme, pilot, levels[pilot.kind], found, money.get(pilot.pilot_id), month, now)
    if not listed:
        book.active.title = "评估验收评分表"
        put(book.active, 1, 1, "范围内没有试点。")
    return book


def _write(sheet, programme, pilot, chosen: list, found: dict, money, month: str, now: datetime) -> None:
    """One pilot's score sheet on ``sheet``: its particulars, ``chosen`` items rated, the total and signatures."""
    year, number = month.split("-")
    row = sheets.title(
        sheet,
        f"{programme.name}评估验收评分表",
        f"评估依据：{programme.document or programme.name}　数据截至：{year}年{int(number)}月"
        f"　制表：{now.astimezone(LOCAL):%Y-%m-%d}",
        len(HEADER),
    )
    allocated = money.allocated if money and money.allocated is not None else programme.funds_per_pilot
    particulars = [
        ("试点名称", f"{pilot.county}{pilot.name}", "试点类型", KIND_NAMES[pilot.kind]),
        ("区划代码", pilot.region_code or "未对应区划", "统计说明", pilot.note or "—"),
        (
            "资金（万元）",
            f"下达 {allocated or 0:g}，拨付 {money.disbursed if money else 0:g}，支出 {money.spent if money else 0:g}",
            "资金报送月份",
            money.period if money else "未报送",
        ),
    ]
    for label, value, label2, value2 in particulars:
        put(sheet, row, 1, label).font = Font(name=sheets.FONT, bold=True)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        put(sheet, row, 3, value)
        sheet.merge_cells(start_row=row, start_column=3, end_row=row, end_column=4)
        put(sheet, row, 5, label2).font = Font(name=sheets.FONT, bold=True)
        sheet.merge_cells(start_row=row, start_column=5, end_row=row, end_column=6)
        put(sheet, row, 7, value2).alignment = Alignment(wrap_text=True)
        row += 1
    header_row = row + 1
    sheets.header(sheet, header_row, HEADER, WIDTHS)
    total = 0.0
    for number, item in enumerate(chosen, start=1):
        score = found.get(item.item_id)
        points = POINTS[score.status] if score else 0.0
        total += points
        rating = SCORE_NAMES[score.status] if score else "未评定"
        values = [number, item.area, item.name, item.text, rating, points, evidence_text(score)]
        sheets.body_row(sheet, header_row + number, values, wrap=(2, 4, 7))
        if score:
            sheet.cell(header_row + number, 5).fill = sheets.SCORE_FILLS[score.status]
    end = header_row + len(chosen) + 1
    sheets.body_row(
        sheet, end, ["合计", "", "", f"共 {len(chosen)} 项", "", total, ""], fill=sheets.TOTAL_FILL, wrap=(4,)
    )
    sheets.body_row(sheet, end + 1, ["得分率", "", "", "", "", sheets.share(total, len(chosen)), ""])
    sheets.percent(sheet, end + 1, 6)
    put(sheet, end + 3, 1, "评分说明：达标 1 分，部分达标 0.5 分，未达标与无数据 0 分；评定依据为数据仓库中的数据。")
    put(sheet, end + 5, 1, "评估组成员（签字）：")
    put(sheet, end + 5, 5, "日期：　　年　　月　　日")
    sheets.for_print(sheet, header_row, len(HEADER), freeze_columns=3)
