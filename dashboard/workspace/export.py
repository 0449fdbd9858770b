"""Tables out to XLSX and CSV in constant memory: rows are written as they come and the file leaves in pieces.

The XLSX writer is hand-rolled: a workbook is a zip of a few XML parts, and a sheet's rows are plain XML we can
write ourselves far faster than openpyxl builds cells (bench/workspace measures it against pandas' to_excel and
openpyxl's write-only mode): inline strings (no shared-string table held in memory), a bold title row holding
the region, period, 数据截至 and export time, a frozen header with units, set column widths, typed numbers and
local times. The zip is written to an unseekable sink that hands back what it holds after each batch of rows.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from dashboard.workspace.records import Column
from etl.warehouse.xlsx_text import XML_ILLEGAL

BATCH = 500  # rows written between hand-overs of the file's bytes
EXCEL_EPOCH = datetime(1899, 12, 30)
# Characters XML 1.0 cannot hold are dropped (the table the pilot reports use too). A carriage return is written
# as a character reference, or XML reading turns it into a newline.
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A text cell a spreadsheet would read as a formula (=, @, or a sign before anything but a number): CSV only;
# an XLSX inline string is never a formula.
_FORMULA = re.compile(r"^(?:[=@\t\r]|[+-](?![0-9.,]+(?:%|个百分点)?$))")

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)
# Cell styles: 0 plain, 1 title, 2 header, 3 date and time, 4 date, 5–7 numbers with 0–2 decimals.
STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/><numFmt numFmtId="166" formatCode="#,##0.0"/></numFmts>'
    '<fonts count="3"><font><sz val="11"/><name val="等线"/></font>'
    '<font><b/><sz val="13"/><name val="等线"/></font><font><b/><sz val="11"/><name val="等线"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="8"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def header_text(column: Column) -> str:
    """A column's header with its unit: 受理事件（件）."""
    return f"{column.label}（{column.unit}）" if column.unit else column.label


def _escape(text: str) -> str:
    if not _SPECIAL.search(text):
        return text
    text = text.translate(XML_ILLEGAL).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;")


def _letters(index: int) -> str:
    """The column letters of a 0-based index (A … Z, AA …)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _width(text: str) -> int:
    """Display width of a text in Excel's character units (a CJK character counts two)."""
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


def _serial(moment: datetime | date) -> float:
    if isinstance(moment, datetime):
        return (moment - EXCEL_EPOCH).total_seconds() / 86400
    return float((moment - EXCEL_EPOCH.date()).days)


def _text_cell(ref: str, text: str, style: int = 0) -> str:
    styled = f' s="{style}"' if style else ""
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'


def _inline(text: str) -> str:
    """A data cell holding text, without its reference (cells of a row stand in order)."""
    if text[:1].isspace() or text[-1:].isspace():
        return f'<c t="inlineStr"><is><t xml:space="preserve">{_escape(text)}</t></is></c>'
    return f'<c t="inlineStr"><is><t>{_escape(text)}</t></is></c>'


EMPTY = "<c/>"  # keeps the place of an empty cell among cells written without their references


def _cell_writer(column: Column):
    """A function value → the XML of one data cell of a column, chosen once by the column's kind: it runs for
    every cell of an export. Data cells go without their reference (optional in SpreadsheetML): writing "C2017"
    into each of a million cells was a tenth of the writing."""
    if column.kind in ("time", "date"):

        def write(value) -> str:
            if value is None or value == "":
                return EMPTY
            if isinstance(value, datetime):
                return f'<c s="3"><v>{_serial(value)!r}</v></c>'
            if isinstance(value, date):
                return f'<c s="4"><v>{_serial(value)!r}</v></c>'
            return _inline(str(value))

    elif column.kind == "number":

        def write(value) -> str:
            kind = type(value)
            if kind is int:
                return f'<c s="5"><v>{value}</v></c>'
            if kind is float:
                return f'<c s="{5 if value.is_integer() else 7}"><v>{value!r}</v></c>'
            if value is None or value == "":
                return EMPTY
            return _inline(str(value))

    else:

        def write(value) -> str:
            if value is None or value == "":
                return EMPTY
            return _inline(value if type(value) is str else str(value))

    return write


def xlsx_stream(sheet_name: str, title: str, columns: tuple[Column, ...], rows: Iterable[list]) -> Iterator[bytes]:
    """An XLSX workbook of one sheet, in pieces: a title row, a frozen header row, then the rows."""
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
    archive.writestr("[Content_Types].xml", CONTENT_TYPES)
    archive.writestr("_rels/.rels", ROOT_RELS)
    archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
    archive.writestr("xl/styles.xml", STYLES)
    archive.writestr(
        "xl/workbook.xml",
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{_escape(sheet_name[:31])}" sheetId="1" r:id="rId1"/></sheets></workbook>',
    )
    yield sink.take()
    letters = [_letters(index) for index in range(max(1, len(columns)))]
    writers = [_cell_writer(column) for column in columns]
    widths = "".join(
        f'<col min="{n}" max="{n}" width="{max(column.width, _width(header_text(column)) + 2)}" customWidth="1"/>'
        for n, column in enumerate(columns, start=1)
    )
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft" activeCell="A3" sqref="A3"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{widths}</cols>" if widths else "")
        + "<sheetData>"
        + f'<row r="1">{_text_cell("A1", title, 1)}</row>'
        + '<row r="2">'
        + "".join(
            _text_cell(f"{letter}2", header_text(column), 2) for column, letter in zip(columns, letters, strict=False)
        )
        + "</row>"
    )
    with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
        part.write(head.encode("utf-8"))
        number = 2
        pieces: list[str] = []
        for row in rows:
            number += 1
            pieces.append(
                f'<row r="{number}">'
                + "".join([write(value) for write, value in zip(writers, row, strict=False)])
                + "</row>"
            )
            if len(pieces) >= BATCH:
                part.write("".join(pieces).encode("utf-8"))
                pieces.clear()
                yield sink.take()
        if pieces:
            part.write("".join(pieces).encode("utf-8"))
        merge = f'<mergeCells count="1"><mergeCell ref="A1:{letters[-1]}1"/></mergeCells>' if len(columns) > 1 else ""
        part.write(f"</sheetData>{merge}</worksheet>".encode())
    archive.close()
    yield sink.take()


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    return "'" + text if _FORMULA.match(text) else text


def csv_stream(columns: tuple[Column, ...], rows: Iterable[list]) -> Iterator[bytes]:
    """A CSV file in UTF-8 with a BOM (so Excel reads it as UTF-8), a header with units, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header_text(column) for column in columns])
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, start=1):
        writer.writerow([_csv_cell(value) for value in row])
        if count % BATCH == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


class _Sink:
    """An unseekable file the zip is written to (it then writes data descriptors); hands over what it holds."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data
