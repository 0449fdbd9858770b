"""The office files counties really send, each generated here, through a real feed run: Chinese and dotted
dates and Excel serials, merged category cells, empty markers, UTF-16 text, two 备注 columns, every sheet, a
title above the header, 合计 and 制表人 footers, a stray GBK line, legacy .xls, a file whose every row fails."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest
import xlwt
from sqlalchemy import select

from etl.feeds import load_feeds
from etl.regions import load_hierarchy
from etl.runner import run_feed
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import cases, feed_runs, quarantine
from geo.hierarchy import HierarchyRead, RegionRecord
from geo.issues import kind_of

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
VILLAGE = "990199001001"
FEEDS = """
[feeds.cases]
dataset = "cases"
cadence = "1d"
[feeds.cases.source]
type = "file"
path = "drops"
settle_seconds = 0
[feeds.cases.mapping]
case_id = "编号"
region_code = "村代码"
event_time = "受理时间"
category = "类别"
module = "=综合"
status = "状态"
satisfaction = "满意度"
"""
HEADER = ["编号", "村代码", "受理时间", "类别", "状态", "满意度"]


@pytest.fixture
def county(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    regions = [
        RegionRecord("990199000000", "测试县", "county", "990100000000"),
        RegionRecord("990199001000", "东镇", "township", "990199000000"),
        RegionRecord(VILLAGE, "甲村", "village", "990199001000"),
    ]
    load_hierarchy(engine, HierarchyRead(regions, []), source="test")
    (tmp_path / "feeds.toml").write_text(FEEDS, encoding="utf-8")
    (tmp_path / "drops").mkdir()
    feed = load_feeds(tmp_path / "feeds.toml")["cases"]
    yield engine, feed, tmp_path / "drops"
    engine.dispose()


def load(county):
    engine, feed, _ = county
    report = run_feed(engine, feed, now=lambda: NOW)
    assert report.error is None
    with engine.connect() as connection:
        stored = {row.case_id: row for row in connection.execute(select(cases))}
        kept = connection.execute(select(quarantine)).all()
    return report, stored, kept


def utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def write_csv(path, rows, encoding="utf-8", delimiter=","):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def test_chinese_and_dotted_dates_and_excel_serials(county):
    _, _, drops = county
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["A1", VILLAGE, "2026年11月3日", "矛盾", "受理", ""])
    sheet.append(["A2", VILLAGE, "2026年11月3日 14:30", "矛盾", "受理", ""])
    sheet.append(["A3", VILLAGE, "2026.11.03", "矛盾", "受理", ""])
    sheet.append(["A4", VILLAGE, 46329.5, "矛盾", "受理", ""])  # an unformatted date cell: 2026-11-03 12:00
    sheet.append(["A5", VILLAGE, "2026/11/3 8:05", "矛盾", "受理", ""])
    workbook.save(drops / "dates.xlsx")
    report, stored, kept = load(county)
    assert kept == [] and report.counts.loaded == 5
    local = {key: utc(row.event_time).astimezone().isoformat() for key, row in stored.items()}
    assert utc(stored["A1"].event_time) == datetime(2026, 11, 2, 16, 0, tzinfo=UTC), local  # 00:00 in UTC+8
    assert utc(stored["A2"].event_time) == datetime(2026, 11, 3, 6, 30, tzinfo=UTC)
    assert utc(stored["A3"].event_time) == datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
    assert utc(stored["A4"].event_time) == datetime(2026, 11, 3, 4, 0, tzinfo=UTC)
    assert utc(stored["A5"].event_time) == datetime(2026, 11, 3, 0, 5, tzinfo=UTC)


def test_merged_category_cells_and_empty_markers(county):
    _, _, drops = county
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for number, satisfaction in enumerate(["—", "/", "无", "-", "5"], start=1):
        sheet.append([f"M{number}", VILLAGE, "2026-11-03 09:00", "纠纷" if number == 1 else None, "办结", satisfaction])
    sheet.merge_cells("D2:D6")  # 类别 written once for five rows, as a merged cell
    workbook.save(drops / "merged.xlsx")
    report, stored, kept = load(county)
    assert kept == [] and report.counts.loaded == 5
    assert {row.category for row in stored.values()} == {"dispute"}
    assert [stored[f"M{n}"].satisfaction for n in range(1, 6)] == [None, None, None, None, 5]


def test_utf16_text_export_and_two_unmapped_columns_of_one_name(county):
    _, _, drops = county
    rows = [[*HEADER, "备注", "备注"], ["U1", VILLAGE, "2026-11-03 09:00", "请求", "受理", "", "先", "后"]]
    write_csv(drops / "export.txt", rows, encoding="utf-16", delimiter="\t")  # Excel's "Unicode 文本"
    report, stored, kept = load(county)
    assert kept == [] and list(stored) == ["U1"] and stored["U1"].category == "request"


def test_every_sheet_is_read_and_a_sheet_without_the_header_is_noted(county):
    _, _, drops = county
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "东镇"
    first.append(HEADER)
    first.append(["S1", VILLAGE, "2026-11-03 09:00", "矛盾", "受理", ""])
    second = workbook.create_sheet("西镇")
    second.append(HEADER)
    second.append(["S2", VILLAGE, "2026-11-04 09:00", "诉求", "受理", ""])
    workbook.create_sheet("填表说明").append(["本表每月 5 日前报送"])
    workbook.save(drops / "sheets.xlsx")
    report, stored, kept = load(county)
    assert kept == [] and sorted(stored) == ["S1", "S2"]
    assert any("「填表说明」没有表头" in note for note in report.notes)


def test_title_rows_above_the_header_and_footer_rows_are_passed_over_and_counted(county):
    engine, _, drops = county
    rows = [
        ["东镇2026年11月诉求台账"],
        ["填报单位：东镇综治中心", "", "", "", "", ""],
        HEADER,
        ["T1", VILLAGE, "2026-11-03 09:00", "矛盾", "受理", ""],
        ["T2", VILLAGE, "2026-11-03 10:00", "矛盾", "受理", ""],
        ["合计", "", "", "", "", "2"],
        ["制表人：王五", "", "审核人：李六", "", "", ""],
    ]
    write_csv(drops / "ledger.csv", rows, encoding="gbk")
    report, stored, kept = load(county)
    assert kept == [] and sorted(stored) == ["T1", "T2"]
    assert (report.counts.rows_in, report.counts.skipped) == (2, 4)  # two titles and two footers, not data
    assert any("表头在第 3 行" in note for note in report.notes)
    with engine.connect() as connection:
        assert connection.execute(select(feed_runs.c.skipped)).scalar() == 4


def test_one_gbk_line_in_a_utf8_file_is_quarantined_by_its_line_number(county):
    _, _, drops = county
    good = [",".join(HEADER), f"G1,{VILLAGE},2026-11-03 09:00,矛盾,受理,", f"G3,{VILLAGE},2026-11-03 11:00,纠纷,受理,"]
    stray = f"G2,{VILLAGE},2026-11-03 10:00,请求,受理,".encode("gbk")
    data = "\n".join(good[:2]).encode() + b"\n" + stray + b"\n" + good[2].encode() + b"\n"
    (drops / "mixed.csv").write_bytes(data)
    report, stored, kept = load(county)
    assert sorted(stored) == ["G1", "G3"]
    [issue] = kept
    assert issue.location == "mixed.csv，第 3 行" and kind_of(issue.reason) == "encoding"
    assert bytes.fromhex(__import__("json").loads(issue.raw)["bytes_hex"]) == stray + b"\n"
    assert report.counts.rows_in == report.counts.loaded + report.counts.quarantined == 3


def test_legacy_xls_with_a_merged_column(county):
    _, _, drops = county
    book = xlwt.Workbook()
    sheet = book.add_sheet("台账")
    for column, name in enumerate(HEADER):
        sheet.write(0, column, name)
    for row in (1, 2):
        for column, value in enumerate([f"X{row}", VILLAGE, f"2026-11-0{row} 09:00", None, "受理", ""]):
            if value is not None:
                sheet.write(row, column, value)
    sheet.write_merge(1, 2, 3, 3, "诉求")
    book.save(str(drops / "legacy.xls"))
    report, stored, kept = load(county)
    assert kept == [] and {key: row.category for key, row in stored.items()} == {"X1": "appeal", "X2": "appeal"}


def test_a_file_whose_every_row_fails_says_what_is_probably_wrong(county):
    _, _, drops = county
    rows = [HEADER, *[[f"W{n}", "990199009009", "2026-11-03 09:00", "矛盾", "受理", ""] for n in range(3)]]
    write_csv(drops / "wrong.csv", rows)
    report, stored, kept = load(county)
    assert stored == {} and len(kept) == 3
    assert any("wrong.csv 的 3 行全部被隔离" in note and "区划代码" in note for note in report.notes), report.notes
    assert any("3 行的原因是 区划未知 [unknown region]" in note for note in report.notes), report.notes


def test_a_file_without_the_mapped_header_goes_to_failed_with_the_reason(county):
    engine, _, drops = county
    write_csv(drops / "other.csv", [["姓名", "电话"], ["王五", "13800000000"]])
    report, stored, kept = load(county)
    assert stored == {} and [kind_of(row.reason) for row in kept] == ["header not found"]
    assert kept[0].location == "other.csv" and (drops / "failed" / "other.csv").exists()


def messy_rows(count: int) -> list[list]:
    """A long export where every kind of value a county writes turns up, good and bad, many times over."""
    times = ["2026-11-03 14:30:05", "2026年11月3日 9:05", "2026.11.03", "46329.5", "2026-02-30 10:00:00", "", "昨天"]
    categories = ["矛盾", "纠纷", "请求", "", "其他", " 诉求 "]
    statuses = ["受理", "办结", "—", "处置中"]
    scores = ["", "—", "无", "5", "3.0", "2.5", "9", "x"]
    codes = [VILLAGE, VILLAGE, "990199001999", "abc", f" {VILLAGE} "]
    rows = []
    for n in range(count):
        when = times[n % len(times)] if n % 11 else f"2026-11-{1 + n % 19:02d} {n % 24:02d}:{n % 60:02d}:07"
        case_id = f"R{n}" if n % 17 else "超长编号" * 20
        rows.append([case_id, codes[n % 5], when, categories[n % 6], statuses[n % 4], scores[n % 8]])
    return rows


def test_a_long_batch_cleaned_by_columns_loads_and_quarantines_as_row_by_row(tmp_path, monkeypatch):
    """Batches of at least COLUMNWISE rows have their fields cleaned a column at a time: the same rows load with
    the same values, and the same rows are quarantined naming the same row, field and reason."""
    import etl.runner

    outcomes = []
    for columnwise in (etl.runner.COLUMNWISE, 10**9):
        monkeypatch.setattr(etl.runner, "COLUMNWISE", columnwise)
        folder = tmp_path / f"at-{columnwise}"
        folder.mkdir()
        fixture = county.__wrapped__(folder)
        try:
            place = next(fixture)
            write_csv(place[2] / "messy.csv", [HEADER, *messy_rows(700)])
            report, stored, kept = load(place)
            outcomes.append(
                (
                    vars(report.counts),
                    {key: tuple(row._mapping.values())[:-2] for key, row in stored.items()},
                    sorted((entry.location, entry.field, entry.reason) for entry in kept),
                )
            )
        finally:
            fixture.close()
    (counts, stored, kept), row_by_row = outcomes
    assert (counts, stored, kept) == row_by_row
    assert counts["loaded"] > 50 and counts["quarantined"] > 300
    reasons = " ".join(entry[2] for entry in kept)
    assert all(kind in reasons for kind in ("invalid value", "too long", "unknown region")), reasons[:500]
