"""Worksheets laid out for printing on A4 landscape: a title, a header row repeated on every page and frozen
on screen, Chinese headers with units, column widths, borders, and score colours."""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from etl.warehouse.xlsx_text import put, xml_text

THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E2F3")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
# 达标 green, 部分达标 amber, 未达标 red, 无数据 grey: the colours of the scores wherever they are printed.
SCORE_FILLS = {
    "met": PatternFill("solid", fgColor="C6EFCE"),
    "partly": PatternFill("solid", fgColor="FFEB9C"),
    "unmet": PatternFill("solid", fgColor="FFC7CE"),
    "no_data": PatternFill("solid", fgColor="E7E6E6"),
}
OVERDUE_FILL = PatternFill("solid", fgColor="FFC7CE")
FONT = "宋体"
# Sheet names: at most 31 characters, none of these.
FORBIDDEN = str.maketrans({character: "_" for character in "[]:*?/\\"})


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unused worksheet name for ``name``."""
    base = xml_text(name).translate(FORBIDDEN)[:31] or "表"
    candidate, number = base, 2
    while candidate in taken:
        suffix = f"({number})"
        candidate, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(candidate)
    return candidate


def title(sheet: Worksheet, text: str, subtitle: str, width: int) -> int:
    """A bold title over ``width`` columns and a line under it; returns the next free row (the header's)."""
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    put(sheet, 1, 1, text).font = Font(name=FONT, size=16, bold=True)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 28
    put(sheet, 2, 1, subtitle).font = Font(name=FONT, size=10)
    sheet.cell(2, 1).alignment = Alignment(horizontal="left", vertical="center")
    return 3


def header(sheet: Worksheet, row: int, names: Sequence[str], widths: Sequence[float] | None) -> None:
    """A header row (wrapped, shaded, bordered) and the columns' widths (None: a second table under the first
    keeps the widths the first set)."""
    for column, name in enumerate(names, start=1):
        cell = put(sheet, row, column, name)
        cell.font = Font(name=FONT, size=10 if widths else 9, bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if widths:
            sheet.column_dimensions[get_column_letter(column)].width = widths[column - 1]
    sheet.row_dimensions[row].height = 32


def caption(sheet: Worksheet, row: int, text: str) -> None:
    """A bold line over a table."""
    put(sheet, row, 1, text).font = Font(name=FONT, size=11, bold=True)


def note(sheet: Worksheet, row: int, text: str) -> None:
    """A wrapped line of text in the first column."""
    cell = put(sheet, row, 1, text)
    cell.font = Font(name=FONT, size=10)
    cell.alignment = Alignment(wrap_text=True, vertical="top")


def body_row(sheet: Worksheet, row: int, values: Sequence, *, wrap: Sequence[int] = (), fill=None) -> None:
    """A bordered data row; ``wrap``: the 1-based columns whose text wraps (and aligns left)."""
    for column, value in enumerate(values, start=1):
        cell = put(sheet, row, column, value)
        cell.border = BORDER
        cell.font = Font(name=FONT, size=10, bold=fill is TOTAL_FILL)
        wrapped = column in wrap
        cell.alignment = Alignment(horizontal="left" if wrapped else "center", vertical="center", wrap_text=wrapped)
        if fill is not None:
            cell.fill = fill


def for_print(sheet: Worksheet, header_row: int, columns: int, freeze_columns: int = 0) -> None:
    """A4 landscape, one page wide, the header repeated on every page and frozen on screen, page numbers."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.print_options.horizontalCentered = True
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.print_area = f"A1:{get_column_letter(columns)}{max(sheet.max_row, header_row)}"
    sheet.freeze_panes = sheet.cell(header_row + 1, freeze_columns + 1)
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"


def share(part: float, whole: float) -> float | None:
    """part / whole, or None when there is no whole."""
    return part / whole if whole else None


def percent(sheet: Worksheet, row: int, column: int) -> None:
    """Show a cell as a percentage with one decimal."""
    sheet.cell(row, column).number_format = "0.0%"


def money(sheet: Worksheet, row: int, columns: Sequence[int]) -> None:
    """Show cells as 万元 with two decimals."""
    for column in columns:
        sheet.cell(row, column).number_format = "#,##0.00"
