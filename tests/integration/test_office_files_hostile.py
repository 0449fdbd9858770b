"""Office files a hostile reviewer made, each generated here: a zip bomb named .xlsx, a UTF-16 upload cut
mid-row and one with a broken character, a second table pasted under the first, a UTF-8 line in a GBK file,
a CSV named .xlsx or .xls, formulas never computed, a hidden template sheet."""

from __future__ import annotations

import codecs
import json
import zipfile

import openpyxl
import pytest
from sqlalchemy import select

from etl.sources import tables
from etl.sources.tables import Layout, Meter, Note, read_items
from etl.warehouse.schema import feed_runs
from geo.issues import kind_of
from tests.integration.test_office_files import HEADER, VILLAGE, load, write_csv
from tests.integration.test_office_files import county as office_county  # noqa: F401 - the shared fixture

ROW = ["R1", VILLAGE, "2026-11-03 09:00", "矛盾", "受理", "4"]


@pytest.fixture
def county(office_county):  # noqa: F811
    return office_county


def workbook_bytes_with_cell(drops, text_bytes: int) -> None:
    """bomb.xlsx: a real workbook whose one cell holds ``text_bytes`` of "A", deflated as tight as it goes."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(ROW)
    sheet.append(["PLACEHOLDER", VILLAGE, "2026-11-03 09:00", "矛盾", "受理", ""])
    book.save(drops / "src.xlsx")
    with zipfile.ZipFile(drops / "src.xlsx") as source:
        members = [(item, source.read(item.filename)) for item in source.infolist()]
    (drops / "src.xlsx").unlink()
    with zipfile.ZipFile(drops / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for item, data in members:
            if item.filename == "xl/worksheets/sheet1.xml":
                before, after = data.split(b"PLACEHOLDER")
                out.writestr(item.filename, before + b"A" * text_bytes + after)
            else:
                out.writestr(item, data)


def opened_by_openpyxl(monkeypatch) -> list:
    opened = []
    real = openpyxl.load_workbook
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(a) or real(*a, **k))
    return opened


def test_a_zip_bomb_named_xlsx_is_refused_before_openpyxl_inflates_it(county, monkeypatch):
    engine, _, drops = county
    workbook_bytes_with_cell(drops, 40 << 20)  # 40 MB of one letter: about 40 KB on disk
    assert (drops / "bomb.xlsx").stat().st_size < 200_000
    opened = opened_by_openpyxl(monkeypatch)
    report, stored, kept = load(county)
    assert stored == {} and opened == []
    [issue] = kept
    assert kind_of(issue.reason) == "unreadable" and "压缩炸弹" in issue.reason and "100:1" in issue.reason
    assert (drops / "failed" / "bomb.xlsx").exists()


def test_a_cell_longer_than_excel_allows_is_refused_by_a_bounded_pass(county, monkeypatch):
    # 3 MB under the ratio check's floor: the sheet's pre-pass refuses it, a megabyte at a time.
    _, _, drops = county
    workbook_bytes_with_cell(drops, 3 << 20)
    read = []
    real_read = zipfile.ZipExtFile.read
    monkeypatch.setattr(zipfile.ZipExtFile, "read", lambda self, n=-1: read.append(n) or real_read(self, n))
    report, stored, kept = load(county)
    assert stored == {} and all(n <= 1 << 20 for n in read if n and n > 0)
    [issue] = kept
    assert kind_of(issue.reason) == "unreadable" and "Excel 单元格最多 32,767 个字符" in issue.reason
    assert (drops / "failed" / "bomb.xlsx").exists()


def test_a_genuine_workbook_passes_the_guard(county):
    _, _, drops = county
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    for number in range(2000):
        book.active.append([f"G{number}", VILLAGE, "2026-11-03 09:00", "矛盾", "受理", "4"])
    book.save(drops / "big.xlsx")
    report, stored, kept = load(county)
    assert kept == [] and len(stored) == 2000


def utf16_rows(rows: list[str]) -> str:
    return "\r\n".join(["\t".join(HEADER), *rows]) + "\r\n"


def test_a_utf16_upload_cut_mid_row_leaves_the_half_line_for_the_next_run(tmp_path):
    text = utf16_rows([f"U{n}\t{VILLAGE}\t2026-11-03 09:00\t矛盾\t受理\t{n}5" for n in range(1, 4)])
    cut = text[: text.rindex("\t35") + 2]  # "…\t3" of "35"
    path = tmp_path / "u.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + cut.encode("utf-16-le"))
    layout = Layout(expected=tuple(HEADER))
    growing = [item for item in read_items(path, layout, Meter(whole=lambda: False)) if not isinstance(item, Note)]
    assert [item.data["编号"] for item in growing] == ["U1", "U2"]  # the half row is not taken, nor rejected
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    done = [item for item in read_items(path, layout, Meter()) if not isinstance(item, Note)]
    assert [(item.data["编号"], item.data["满意度"]) for item in done] == [("U1", "15"), ("U2", "25"), ("U3", "35")]


def test_a_utf16_last_line_without_newline_is_read_when_the_file_is_whole(tmp_path):
    text = utf16_rows([f"U1\t{VILLAGE}\t2026-11-03 09:00\t矛盾\t受理\t上一"]).rstrip("\r\n")
    path = tmp_path / "u.txt"
    path.write_bytes(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))  # "上" is 0x4E0A: a \n byte, not a newline
    [record] = [item for item in read_items(path, Layout(expected=tuple(HEADER))) if not isinstance(item, Note)]
    assert record.data["满意度"] == "上一"


def test_a_utf16_line_with_a_lone_surrogate_is_quarantined_alone(county):
    _, _, drops = county
    data = codecs.BOM_UTF16_LE + ("\t".join(HEADER) + "\r\n").encode("utf-16-le")
    data += f"B1\t{VILLAGE}\t2026-11-03 09:00\t矛盾\t受理\t4\r\n".encode("utf-16-le")
    bad = f"B2\t{VILLAGE}\t2026-11-03 09:00\t矛盾\t受理\t".encode("utf-16-le")
    bad += b"\x00\xd8" + "\r\n".encode("utf-16-le")  # a lone high surrogate
    data += bad
    for number in range(3, 6):
        data += f"B{number}\t{VILLAGE}\t2026-11-03 09:00\t矛盾\t受理\t4\r\n".encode("utf-16-le")
    (drops / "unicode.txt").write_bytes(data)
    report, stored, kept = load(county)
    assert sorted(stored) == ["B1", "B3", "B4", "B5"]
    [issue] = kept
    assert issue.location == "unicode.txt，第 3 行" and kind_of(issue.reason) == "encoding"
    assert bytes.fromhex(json.loads(issue.raw)["bytes_hex"]) == bad
    assert (drops / "processed" / "unicode.txt").exists()


def test_a_second_table_pasted_below_with_its_columns_swapped_is_read_by_its_own_header(county):
    _, _, drops = county
    swapped = ["编号", "村代码", "受理时间", "类别", "满意度", "状态"]
    rows = [
        HEADER,
        ["P1", VILLAGE, "2026-11-03 09:00", "矛盾", "受理", "4"],
        [],
        swapped,
        ["P2", VILLAGE, "2026-11-04 09:00", "纠纷", "5", "办结"],
        HEADER,  # the first order again, repeated as is
        ["P3", VILLAGE, "2026-11-05 09:00", "纠纷", "办结", "3"],
    ]
    write_csv(drops / "two.csv", rows)
    report, stored, kept = load(county)
    assert kept == [], [row.reason for row in kept]
    assert {key: row.satisfaction for key, row in stored.items()} == {"P1": 4, "P2": 5, "P3": 3}
    assert any("第 4 行又是一行表头" in note for note in report.notes), report.notes


def test_a_utf8_line_in_a_gbk_file_is_read_as_utf8_with_a_note(county):
    _, _, drops = county
    gbk = "\n".join([",".join(HEADER), f"K1,{VILLAGE},2026-11-03 09:00,矛盾,受理,4"]).encode("gbk") + b"\n"
    utf8 = f"K2张三,{VILLAGE},2026-11-03 09:00,纠纷,受理,5\n".encode()
    tail = f"K3李四,{VILLAGE},2026-11-03 09:00,请求,受理,3\n".encode("gbk")
    (drops / "mixed.csv").write_bytes(gbk + utf8 + tail)
    report, stored, kept = load(county)
    assert kept == [] and sorted(stored) == ["K1", "K2张三", "K3李四"]
    assert stored["K2张三"].category == "dispute"
    assert any("mixed.csv 第 3 行是 UTF-8 文本" in note for note in report.notes), report.notes


@pytest.mark.parametrize("name", ["g.xlsx", "g.xls"])
def test_a_csv_named_as_a_workbook_is_refused_in_chinese(county, name):
    _, _, drops = county
    write_csv(drops / name, [HEADER, ROW])
    report, stored, kept = load(county)
    [issue] = kept
    assert stored == {} and "可能是改了扩展名的 CSV" in issue.reason and "BadZipFile" not in issue.reason
    assert "XLRDError" not in issue.reason and (drops / "failed" / name).exists()


def test_formulas_without_a_cached_value_are_rejected_not_read_as_empty(county):
    engine, _, drops = county
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["F1", VILLAGE, "2026-11-03 09:00", "矛盾", "受理", "=2+2"])  # an optional field
    sheet.append(["F2", VILLAGE, "2026-11-03 09:00", "矛盾", "受理", 4])
    sheet.append(['=CONCAT("F",3)', VILLAGE, "2026-11-03 09:00", "矛盾", "受理", 4])  # the required id
    sheet.append(["合计", None, None, None, None, "=SUM(F2:F4)"])  # a footer: passed over, not rejected
    book.save(drops / "formulas.xlsx")
    report, stored, kept = load(county)
    assert sorted(stored) == ["F2"]
    assert sorted(row.location for row in kept) == ["formulas.xlsx，第 2 行", "formulas.xlsx，第 4 行"]
    assert all("公式没有计算结果" in row.reason and "请在 Excel 中打开并保存后再放入" in row.reason for row in kept)
    assert any("F2（满意度）" in row.reason for row in kept) and any("A4（编号）" in row.reason for row in kept)
    with engine.connect() as connection:
        assert connection.execute(select(feed_runs.c.skipped)).scalar() == 1


def test_a_hidden_template_sheet_is_not_read_when_every_sheet_is(county):
    _, _, drops = county
    book = openpyxl.Workbook()
    shown = book.active
    shown.title = "11月"
    shown.append(HEADER)
    shown.append(ROW)
    template = book.create_sheet("模板（勿删）")
    template.sheet_state = "hidden"
    template.append(HEADER)
    template.append(["H900", VILLAGE, "2025-01-01 09:00", "矛盾", "受理", "1"])
    book.save(drops / "hidden.xlsx")
    report, stored, kept = load(county)
    assert kept == [] and sorted(stored) == ["R1"]
    assert any("隐藏工作表「模板（勿删）」未读取" in note for note in report.notes), report.notes


def test_the_guard_caps_let_a_genuine_export_through():
    # A 200,000-row sheet of 30 columns written with inline strings is about 360 MB: under the member cap.
    assert tables.TEXT_RUN_MAX >= 200_000  # an Excel cell at its longest, escaped
    from etl.sources import xlsx_guard

    assert xlsx_guard.MEMBER_MAX >= 400 << 20 and xlsx_guard.RATIO_MAX >= 50
