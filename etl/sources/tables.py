"""Rows of a CSV or XLSX file as text keyed by header, with rejected rows and unreadable files as Issues."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from etl.sources.base import Record
from geo.issues import Issue
from geo.textfile import decode

CSV_SUFFIXES = (".csv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
# What openpyxl raises for a file that is not a workbook, or one whose XML is damaged.
BROKEN_XLSX = (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, SyntaxError)


class Unreadable(Exception):
    """The file as a whole cannot be taken in; ``issue`` says where and why."""

    def __init__(self, issue: Issue):
        super().__init__(str(issue))
        self.issue = issue


@dataclass
class Table:
    """What one file yielded: its data rows as Records and the rows it rejected."""

    records: list[Record] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


@dataclass(frozen=True)
class Layout:
    """Where the header is: its first row (1-based) and how many rows it spans (2 = group row over sub-headers)."""

    header_row: int = 1
    header_rows: int = 1
    sheet: str | None = None
    delimiter: str = ","


def read_table(path: Path, layout: Layout) -> Table:
    """Every data row of a CSV or XLSX file; Unreadable when the file itself is unusable (encoding, header)."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _records(path.name, _csv_rows(path, layout), layout, strict_width=True)
    if suffix in XLSX_SUFFIXES:
        # openpyxl pads short rows, so a cell count says nothing about truncation in a workbook.
        return _records(path.name, _xlsx_rows(path, layout), layout, strict_width=False)
    raise Unreadable(Issue(path.name, "", None, "unsupported file", f"'{suffix}' is neither CSV nor XLSX"))


def _csv_rows(path: Path, layout: Layout) -> Iterator[list[str]]:
    """The rows of a UTF-8 or GBK/GB18030 CSV file, as the csv module splits them."""
    try:
        text, _ = decode(path.read_bytes(), path.name)
    except ValueError as error:
        raise Unreadable(Issue(path.name, "", None, "encoding", str(error))) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter)
    try:
        yield from reader
    except csv.Error as error:
        raise Unreadable(Issue(path.name, f"row {reader.line_num}", None, "unreadable", str(error))) from None


def _xlsx_rows(path: Path, layout: Layout) -> Iterator[list[str]]:
    """The rows of one worksheet as text, streamed in read-only mode."""
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except BROKEN_XLSX as error:
        raise Unreadable(Issue(path.name, "", None, "unreadable", f"not a readable XLSX workbook ({error})")) from None
    try:
        if layout.sheet is not None and layout.sheet not in workbook.sheetnames:
            detail = f"no sheet named '{layout.sheet}' (sheets: {', '.join(workbook.sheetnames)})"
            raise Unreadable(Issue(path.name, "", "sheet", "missing sheet", detail))
        sheet = workbook[layout.sheet] if layout.sheet is not None else workbook.worksheets[0]
        # Some exporters write a wrong <dimension> ("A1"), which makes read-only mode cut rows short.
        sheet.reset_dimensions()
        for row in sheet.iter_rows(values_only=True):
            yield [_text(value) for value in row]
    except BROKEN_XLSX as error:
        raise Unreadable(Issue(path.name, "", None, "unreadable", f"damaged worksheet ({error})")) from None
    finally:
        # Read-only workbooks keep the zip open until closed.
        workbook.close()


def _text(value: Any) -> str:
    """A cell value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _records(file: str, rows: Iterator[list[str]], layout: Layout, strict_width: bool) -> Table:
    """Data rows keyed by the resolved header; short, long or header-less rows become Issues."""
    table = Table()
    header: list[list[str]] = []
    names: list[str | None] = []
    for number, cells in enumerate(rows, start=1):
        if number < layout.header_row:
            continue  # title rows above the header
        if len(header) < layout.header_rows:
            header.append(cells)
            if len(header) == layout.header_rows:
                names = _names(file, header, layout.header_row)
            continue
        if not any(cell.strip() for cell in cells):
            continue  # blank lines and formatted-but-empty sheet rows carry nothing
        record, issue = _row(file, number, cells, names, strict_width)
        if issue is not None:
            table.issues.append(issue)
        else:
            table.records.append(record)
    return table


def _names(file: str, header: list[list[str]], first_row: int) -> list[str | None]:
    """Column names from a one- or two-row header; Unreadable on an interior blank or a duplicate name.

    In a two-row header a merged group cell ("基本信息" over three columns) keeps its text only in its
    first column, so each column takes its sub-header, or the top cell when that column is merged
    vertically ("序号" over both rows). Trailing blank names are columns without a header.
    """
    width = max(len(row) for row in header)
    padded = [row + [""] * (width - len(row)) for row in header]
    names: list[str | None] = []
    for column in range(width):
        texts = [row[column].strip() for row in reversed(padded)]
        names.append(next((text for text in texts if text), None))
    last = max((i for i, name in enumerate(names) if name), default=-1)
    rows = f"row {first_row}" if len(header) == 1 else f"rows {first_row}-{first_row + len(header) - 1}"
    for column, name in enumerate(names[: last + 1]):
        letter = f"column {get_column_letter(column + 1)}"
        if name is None:
            hint = " (a merged group header? set header_rows = 2)" if len(header) == 1 else ""
            raise Unreadable(Issue(file, rows, letter, "blank header", f"{letter} has no name{hint}"))
        if name in names[:column]:
            first = get_column_letter(names.index(name) + 1)
            raise Unreadable(Issue(file, rows, name, "duplicate header", f"{letter} repeats column {first}"))
    return names[: last + 1] + [None] * (width - last - 1)


def _row(
    file: str, number: int, cells: list[str], names: list[str | None], strict_width: bool
) -> tuple[Record | None, Issue | None]:
    """One data row as a Record, or the Issue that rejects it (with the cells kept in ``raw``)."""
    location = f"row {number}"
    width = len(names)
    raw: dict[str, Any] = {_column(names, i): cell for i, cell in enumerate(cells)}
    if strict_width and len(cells) < width:
        missing = _column(names, len(cells))
        detail = f"{len(cells)} cells where the header has {width} (cut off?)"
        return None, Issue(file, location, missing, "truncated row", detail, raw)
    if strict_width and len(cells) > width:
        detail = f"{len(cells)} cells where the header has {width}"
        return None, Issue(file, location, f"column {get_column_letter(width + 1)}", "extra cells", detail, raw)
    for i, cell in enumerate(cells):
        if cell.strip() and (i >= width or names[i] is None):
            letter = f"column {get_column_letter(i + 1)}"
            return None, Issue(file, location, letter, "value without header", f"{letter} holds '{cell}'", raw)
    padded = cells + [""] * (width - len(cells))
    data = {name: padded[i] for i, name in enumerate(names) if name is not None}
    return Record(f"{file}, {location}", data), None


def _column(names: list[str | None], index: int) -> str:
    """A column's header name, or its spreadsheet letter when it has none."""
    name = names[index] if index < len(names) else None
    return name or f"column {get_column_letter(index + 1)}"
