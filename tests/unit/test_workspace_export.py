"""The exports as a spreadsheet opens them: an XLSX with its title row, frozen header with units, column widths,
typed numbers and local times, read back by openpyxl; a CSV in UTF-8 with a BOM; written in pieces as rows come."""

import csv
import io
from datetime import date, datetime

import openpyxl

from dashboard.workspace.export import csv_stream, xlsx_stream
from dashboard.workspace.records import Column

COLUMNS = (
    Column("name", "区划名称", width=14),
    Column("code", "区划代码", "code", width=14),
    Column("time", "受理时间", "time", width=17),
    Column("day", "日期", "date", width=12),
    Column("value", "受理事件", "number", "件", width=10),
    Column("title", "标题", "title", width=30),
)
ROWS = [
    ["复兴社区", "990101001001", datetime(2026, 12, 1, 8, 30), date(2026, 12, 1), 12, "反映 <问题> & 建议"],
    ["长安社区", "990101001002", None, None, 4.25, '=HYPERLINK("x")'],
    ["康宁社区", "990101001003", datetime(2026, 12, 2, 0, 5), date(2026, 12, 2), None, " 前后有空格 "],
]


def test_xlsx_opens_with_title_frozen_header_units_widths_and_typed_cells(tmp_path):
    pieces = list(xlsx_stream("明细", "城关街道（990101001000）· 明细 · 时段：近30天", COLUMNS, iter(ROWS * 400)))
    assert len(pieces) > 2  # handed over as it was written, not at the end
    path = tmp_path / "out.xlsx"
    path.write_bytes(b"".join(pieces))
    sheet = openpyxl.load_workbook(path).active
    assert sheet.title == "明细"
    assert sheet["A1"].value == "城关街道（990101001000）· 明细 · 时段：近30天" and sheet["A1"].font.b
    assert [cell.value for cell in sheet[2]] == ["区划名称", "区划代码", "受理时间", "日期", "受理事件（件）", "标题"]
    assert sheet.freeze_panes == "A3" and "A1:F1" in {str(merged) for merged in sheet.merged_cells.ranges}
    assert sheet.column_dimensions["F"].width == 30 and sheet.column_dimensions["E"].width >= 14
    as_read = [[datetime(*v.timetuple()[:3]) if type(v) is date else v for v in row] for row in ROWS]
    assert [cell.value for cell in sheet[3]] == as_read[0]  # a date reads back as its midnight
    assert [cell.value for cell in sheet[4]] == as_read[1]  # a formula-like title stays text in a workbook
    assert [cell.value for cell in sheet[5]] == as_read[2]
    assert (
        sheet["B3"].data_type == "s"
        and sheet["E3"].data_type == "n"
        and sheet["C3"].number_format == "yyyy-mm-dd hh:mm"
    )
    assert sheet.max_row == 2 + 1200


def test_csv_is_utf8_with_a_bom_and_a_formula_is_never_one():
    data = b"".join(csv_stream(COLUMNS, iter(ROWS)))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["区划名称", "区划代码", "受理时间", "日期", "受理事件（件）", "标题"]
    assert rows[1] == ["复兴社区", "990101001001", "2026-12-01 08:30", "2026-12-01", "12", "反映 <问题> & 建议"]
    assert rows[2][4] == "4.25" and rows[2][5] == '\'=HYPERLINK("x")'
    assert rows[3][4] == ""


def test_characters_xml_cannot_hold_are_dropped_and_a_carriage_return_is_kept(tmp_path):
    # One title holding U+FFFE made the whole workbook unreadable ("invalid token"); a carriage return came back as
    # a newline.
    rows = [["复兴社区", "990101001001", None, None, 1, "甲\ufffe乙\uffff丙\ud800丁\r\n戊"], *ROWS]
    path = tmp_path / "out.xlsx"
    path.write_bytes(b"".join(xlsx_stream("明细", "标题", COLUMNS, iter(rows))))
    sheet = openpyxl.load_workbook(path).active
    assert sheet["F3"].value == "甲乙丙丁\r\n戊"
    assert sheet["F4"].value == ROWS[0][5]
