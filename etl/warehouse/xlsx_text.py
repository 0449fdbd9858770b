"""Text as a spreadsheet cell may hold it: without the characters XML 1.0 cannot carry, and never a formula.

Names, notes and evidence come from files and feeds that counties edit: a pilot named "=HYPERLINK(…)" became a live
formula in the 按月调度表, and a control character in a township's name made openpyxl refuse the whole workbook.
Both the reports written with openpyxl (etl/warehouse/pilot_reports) and the workspace's hand-written XLSX
(dashboard/workspace/export.py) clean their text here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the workspace's export takes the table alone and never loads openpyxl
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

# Characters XML 1.0 cannot hold (control characters but tab, newline, carriage return; lone surrogates; U+FFFE and
# U+FFFF, which one record holding made the whole workbook unreadable): dropped (a str.translate table).
XML_ILLEGAL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), *range(0xD800, 0xE000), 0xFFFE, 0xFFFF])
# How a spreadsheet starts a formula (or, after a tab or carriage return, starts one when the text is pasted).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def xml_text(text: str) -> str:
    """``text`` without the characters XML cannot hold."""
    return text.translate(XML_ILLEGAL)


def put(sheet: Worksheet, row: int, column: int, value: Any) -> Cell:
    """The cell at (row, column) holding ``value``: text cleaned for XML and kept as text when it reads like a
    formula (a string cell marked to stay one when edited), other values as they are."""
    cell = sheet.cell(row, column)
    if not isinstance(value, str):
        cell.value = value
        return cell
    text = xml_text(value)
    cell.value = text
    if text.startswith(FORMULA_STARTS):
        # openpyxl makes a formula of any text starting with "="; a string cell is shown as written, and the
        # quote prefix keeps Excel from reading it as a formula (or a sum) once someone edits the cell.
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell
