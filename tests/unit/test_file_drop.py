"""File-drop source against real files: encodings, XLSX headers, bad rows, empty files, moves and order,
settling, companion markers, symbolic links and checkpoints."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from etl.sources import source_from_config
from etl.sources.base import SourceError
from etl.sources.file_drop import Checkpoint, FileDrop

HEADER = "编号,村,诉求内容,受理时间"
ROWS = ["1,城关村,路灯不亮,2024-03-01 08:30", "2,新庄村,垃圾未清运,2024-03-01 09:10"]
RARE = "𫖯"  # a name character GB18030 has and GBK lacks


def drop(tmp_path: Path, columns: tuple[str, ...] = (), **config) -> FileDrop:
    folder = tmp_path / "drop"
    folder.mkdir(exist_ok=True)
    config = {"type": "file", "path": "drop", "settle_seconds": 0, **config}
    source = source_from_config(config, tmp_path, columns=columns)
    assert isinstance(source, FileDrop)
    return source


def write(source: FileDrop, name: str, data: bytes, mtime: float | None = None) -> Path:
    path = source.folder / name
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def only_batch(source: FileDrop):
    batches = list(source.batches(None))
    assert len(batches) == 1
    return batches[0]


def file_of(batch) -> str:
    return Checkpoint.parse(batch.watermark).file


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_each_chinese_encoding_gives_rows_keyed_by_chinese_header(tmp_path, encoding):
    source = drop(tmp_path)
    rows = [*ROWS, f"3,{'王' + RARE if encoding == 'gb18030' else '王五'}村,漏水,2024-03-02"]
    write(source, "cases.csv", "\n".join([HEADER, *rows]).encode(encoding))
    batch = only_batch(source)
    assert batch.issues == []
    first = {"编号": "1", "村": "城关村", "诉求内容": "路灯不亮", "受理时间": "2024-03-01 08:30"}
    assert batch.records[0].data == first
    assert batch.records[1].location == "cases.csv，第 3 行"
    assert Checkpoint.parse(batch.watermark) == Checkpoint("cases.csv", 3, Checkpoint.parse(batch.watermark).head, True)
    if encoding == "gb18030":
        with pytest.raises(UnicodeEncodeError):
            RARE.encode("gbk")
        assert batch.records[2].data["村"] == f"王{RARE}村"


def test_utf16_unicode_text_export_with_tabs_is_read(tmp_path):
    source = drop(tmp_path, pattern="*.txt")
    text = "\r\n".join(line.replace(",", "\t") for line in [HEADER, *ROWS])
    write(source, "cases.txt", text.encode("utf-16"))  # Excel's "Unicode 文本": UTF-16 LE with a BOM, tabs
    batch = only_batch(source)
    assert batch.issues == []
    assert [record.data["诉求内容"] for record in batch.records] == ["路灯不亮", "垃圾未清运"]


def test_wrong_encoding_is_one_issue_for_the_file_and_the_file_goes_to_failed(tmp_path):
    source = drop(tmp_path)
    path = write(source, "cases.csv", b"\x81\x30\xff\xfe" * 40 + bytes(range(0x80, 0x100)) * 4)
    batch = only_batch(source)
    assert batch.records == []
    [issue] = batch.issues
    assert (issue.file, issue.location, issue.kind) == ("cases.csv", "", "encoding")
    assert path.exists()  # nothing moves before the batch is settled
    batch.on_commit()
    assert (source.failed / "cases.csv").exists() and not path.exists()


def test_random_bytes_are_not_taken_for_gbk(tmp_path):
    source = drop(tmp_path)
    write(source, "noise.csv", bytes(range(0x80, 0x100)) * 4)
    assert [issue.kind for issue in only_batch(source).issues] == ["encoding"]


def test_truncated_last_row_is_an_issue_naming_file_row_and_first_missing_field(tmp_path):
    source = drop(tmp_path)
    write(source, "cases.csv", "\n".join([HEADER, *ROWS, "3,东山村,水管"]).encode("utf-8"))
    batch = only_batch(source)
    assert len(batch.records) == 2
    [issue] = batch.issues
    where = (issue.file, issue.location, issue.field, issue.kind)
    assert where == ("cases.csv", "第 4 行", "受理时间", "truncated row")
    assert issue.raw == {"编号": "3", "村": "东山村", "诉求内容": "水管"}
    batch.on_commit()
    assert (source.processed / "cases.csv").exists()


def test_extra_cells_and_values_without_header_are_issues(tmp_path):
    source = drop(tmp_path)
    write(source, "cases.csv", "编号,村,\n1,城关村,\n2,新庄村,多余\n3,东山村,,x\n".encode())
    batch = only_batch(source)
    assert [record.data for record in batch.records] == [{"编号": "1", "村": "城关村"}]
    assert [(i.location, i.field, i.kind) for i in batch.issues] == [
        ("第 3 行", "C 列", "value without header"),
        ("第 4 行", "D 列", "extra cells"),
    ]


@pytest.mark.parametrize("content", [b"", b"\n\n", HEADER.encode() + b"\n", HEADER.encode("gbk") + b"\r\n,,,\r\n"])
def test_empty_or_header_only_file_is_an_empty_file_issue_and_goes_to_processed(tmp_path, content):
    source = drop(tmp_path)
    write(source, "empty.csv", content)
    batch = only_batch(source)
    assert batch.records == []
    assert [(i.file, i.kind) for i in batch.issues] == [("empty.csv", "empty file")]
    batch.on_commit()
    assert (source.processed / "empty.csv").exists()


def test_files_move_only_when_settled_and_never_overwrite(tmp_path):
    source = drop(tmp_path)
    for moved in range(2):
        write(source, "cases.csv", "\n".join([HEADER, *ROWS]).encode())
        batch = only_batch(source)
        assert (source.folder / "cases.csv").exists()
        assert len(list(source.failed.glob("*"))) == moved
        batch.on_failure()
    assert sorted(path.name for path in source.failed.iterdir()) == ["cases.1.csv", "cases.csv"]
    assert list(source.batches(None)) == []


def test_batches_come_oldest_first_then_by_name_and_skip_lock_files(tmp_path):
    source = drop(tmp_path, pattern="*")
    body = "\n".join([HEADER, *ROWS]).encode()
    write(source, "c.csv", body, mtime=1_000)
    write(source, "b.csv", body, mtime=2_000)
    write(source, "a.csv", body, mtime=2_000)
    write(source, "~$cases.xlsx", b"lock", mtime=500)
    (source.folder / "processed").mkdir()
    write(source, "processed/old.csv", body, mtime=100)
    order = []
    for batch in source.batches(None):
        order.append(file_of(batch))
        batch.on_commit()
    assert order == ["c.csv", "a.csv", "b.csv"]
    assert sorted(path.name for path in source.processed.iterdir()) == ["a.csv", "b.csv", "c.csv", "old.csv"]


def two_row_header_workbook(path: Path, title: bool = False) -> None:
    """序号 and 受理时间 merged down two rows, 基本信息 merged across its three sub-headers."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "诉求台账"
    if title:
        sheet.append(["城关镇2024年3月诉求台账"])
        sheet.merge_cells("A1:E1")
    top = sheet.max_row + 1 if title else 1
    sheet.cell(top, 1, "序号")
    sheet.cell(top, 2, "基本信息")
    sheet.cell(top, 5, "受理时间")
    sheet.merge_cells(start_row=top, start_column=1, end_row=top + 1, end_column=1)
    sheet.merge_cells(start_row=top, start_column=2, end_row=top, end_column=4)
    sheet.merge_cells(start_row=top, start_column=5, end_row=top + 1, end_column=5)
    for column, name in enumerate(["姓名", "村", "电话"], start=2):
        sheet.cell(top + 1, column, name)
    sheet.append([1, "张三", "城关村", 13800001111, datetime(2024, 3, 1, 8, 30)])
    sheet.append([2, "李四", "新庄村", None, "2024-03-02"])
    workbook.create_sheet("说明").append(["本表由系统导出，请勿修改格式"])
    workbook.save(path)


def test_xlsx_two_row_merged_header_flattens_to_sub_header_names(tmp_path):
    source = drop(tmp_path, pattern="*.xlsx", header_rows=2)
    two_row_header_workbook(source.folder / "cases.xlsx")
    batch = only_batch(source)
    assert batch.issues == []
    assert batch.records[0].data == {
        "序号": "1",
        "姓名": "张三",
        "村": "城关村",
        "电话": "13800001111",
        "受理时间": "2024-03-01 08:30:00",
    }
    assert batch.records[1].data["电话"] == ""
    assert batch.records[1].location == "cases.xlsx，工作表「诉求台账」第 4 行"  # two sheets: it names the sheet
    assert batch.notes == ["cases.xlsx 工作表「说明」没有表头，已跳过"]


def test_xlsx_title_row_above_header_and_named_sheet(tmp_path):
    source = drop(tmp_path, pattern="*.xlsx", header_row=2, header_rows=2, sheet="诉求台账")
    two_row_header_workbook(source.folder / "cases.xlsx", title=True)
    batch = only_batch(source)
    assert [record.data["姓名"] for record in batch.records] == ["张三", "李四"]
    assert batch.records[0].location == "cases.xlsx，工作表「诉求台账」第 4 行"
    assert batch.passed == 1  # the title row


def test_xlsx_merged_header_read_as_one_row_is_a_clear_issue_and_goes_to_failed(tmp_path):
    source = drop(tmp_path, pattern="*.xlsx", header_row=1)
    two_row_header_workbook(source.folder / "cases.xlsx")
    batch = only_batch(source)
    [issue] = batch.issues
    location = "工作表「诉求台账」第 1 行"
    assert (issue.file, issue.location, issue.field, issue.kind) == ("cases.xlsx", location, "C 列", "blank header")
    assert "header_rows = 2" in issue.detail
    batch.on_commit()
    assert (source.failed / "cases.xlsx").exists()


def test_xlsx_missing_sheet_or_broken_workbook_is_an_issue(tmp_path):
    source = drop(tmp_path, pattern="*.xlsx", sheet="没有")
    two_row_header_workbook(source.folder / "a.xlsx")
    write(source, "b.xlsx", b"PK not really a zip", mtime=os.path.getmtime(source.folder / "a.xlsx") + 10)
    kinds = [(batch.issues[0].file, batch.issues[0].kind) for batch in source.batches(None)]
    assert kinds == [("a.xlsx", "missing sheet"), ("b.xlsx", "unreadable")]


def test_a_mapped_duplicate_header_is_an_issue_an_unmapped_one_is_kept_apart(tmp_path):
    source = drop(tmp_path, columns=("编号", "村"))
    write(source, "cases.csv", "编号,村,村\n1,a,b\n".encode())
    batch = only_batch(source)
    [issue] = batch.issues
    assert (issue.location, issue.field, issue.kind) == ("第 1 行", "村", "duplicate header")
    batch.on_commit()
    write(source, "notes.csv", "编号,村,备注,备注\n1,a,先,后\n".encode())
    batch = only_batch(source)
    assert batch.issues == [] and batch.records[0].data == {"编号": "1", "村": "a", "备注": "先", "备注 (D)": "后"}


def test_a_file_still_changing_is_not_taken_until_it_settles(tmp_path):
    clock = [1_000_000.0]
    source = drop(tmp_path, settle_seconds=10)
    source.clock = lambda: clock[0]
    write(source, "cases.csv", "\n".join([HEADER, *ROWS]).encode(), mtime=clock[0] - 3)
    assert list(source.batches(None)) == []  # written 3 s ago: an upload may still be going on
    clock[0] += 8
    assert len(only_batch(source).records) == 2


def test_a_file_written_just_after_the_clock_was_read_is_not_taken(tmp_path):
    """The run reads its clock, and the upload writes again before the file's time is read: the file looks a
    moment younger than now. That is an upload going on here, not another host's clock (a flaky CI failure:
    a run loaded the first 253 rows of a file still being written)."""
    clock = [1_000_000.0]
    source = drop(tmp_path, settle_seconds=10)
    source.clock = lambda: clock[0]
    write(source, "cases.csv", "\n".join([HEADER, *ROWS]).encode(), mtime=clock[0] + 0.001)
    assert list(source.batches(None)) == []
    clock[0] += 10.002
    assert len(only_batch(source).records) == 2


def test_a_file_from_a_clock_far_ahead_is_taken(tmp_path):
    clock = [1_000_000.0]
    source = drop(tmp_path, settle_seconds=10)
    source.clock = lambda: clock[0]
    write(source, "cases.csv", "\n".join([HEADER, *ROWS]).encode(), mtime=clock[0] + 3600)
    assert len(only_batch(source).records) == 2  # another host's clock, an hour ahead: it would never settle


def test_a_companion_marker_says_a_file_is_complete(tmp_path):
    source = drop(tmp_path, done_suffix=".ok", settle_seconds=3600)
    write(source, "cases.csv", "\n".join([HEADER, *ROWS]).encode())
    assert list(source.batches(None)) == []
    write(source, "cases.csv.ok", b"")
    batch = only_batch(source)
    batch.on_commit()
    assert sorted(path.name for path in source.processed.iterdir()) == ["cases.csv", "cases.csv.ok"]


def test_symbolic_links_in_a_drop_folder_are_not_followed(tmp_path):
    secret = tmp_path / "outside.csv"
    secret.write_text("\n".join([HEADER, *ROWS]), encoding="utf-8")
    source = drop(tmp_path)
    (source.folder / "link.csv").symlink_to(secret)
    assert list(source.batches(None)) == []


def test_big_files_come_in_batches_and_resume_from_their_checkpoint(tmp_path):
    source = drop(tmp_path, batch_rows=2)
    lines = [HEADER] + [f"{n},城关村,事项{n},2024-03-01 08:{n:02d}" for n in range(1, 6)]
    path = write(source, "cases.csv", "\n".join(lines).encode())
    batches = source.batches(None)
    first = next(batches)
    assert [r.data["编号"] for r in first.records] == ["1", "2"] and not first.ends_file
    # The run is killed here: only the first batch committed. The next run goes on after it.
    resumed = list(source.batches(first.watermark))
    assert [[r.data["编号"] for r in b.records] for b in resumed] == [["3", "4"], ["5"]]
    assert resumed[-1].ends_file and path.exists()
    resumed[-1].on_commit()
    assert (source.processed / "cases.csv").exists()


def test_a_file_that_grew_while_read_stays_and_the_rest_is_read_next(tmp_path):
    source = drop(tmp_path, batch_rows=1)
    path = write(source, "cases.csv", ("\n".join([HEADER, *ROWS]) + "\n").encode())
    batches = source.batches(None)
    read = [next(batches)]
    with open(path, "ab") as handle:  # the upload resumes while the file is being read
        handle.write("3,东山村,水管,2024-03-02\n".encode())
    read += list(batches)
    assert read[-1].ends_file and not Checkpoint.parse(read[-1].watermark).done
    read[-1].on_commit()
    assert path.exists()  # not moved: it changed while it was read, and may change again
    read += list(source.batches(read[-1].watermark))  # the next run: settled now, nothing new, moved
    read[-1].on_commit()
    assert [record.data["编号"] for batch in read for record in batch.records] == ["1", "2", "3"]
    assert (source.processed / "cases.csv").exists() and not path.exists()


def test_a_damaged_workbook_goes_to_failed_and_the_next_file_loads(tmp_path):
    source = drop(tmp_path, pattern="*.xlsx", header_rows=2)
    two_row_header_workbook(source.folder / "a.xlsx")
    data = (source.folder / "a.xlsx").read_bytes()
    start = data.index(b"xl/worksheets/sheet1.xml")  # the local header's name; the data follows it
    damaged = bytearray(data)
    for offset in range(start + 60, start + 160):
        damaged[offset] ^= 0x5A
    write(source, "a.xlsx", bytes(damaged), mtime=1_000)
    two_row_header_workbook(source.folder / "b.xlsx")
    os.utime(source.folder / "b.xlsx", (2_000, 2_000))
    outcomes = []
    for batch in source.batches(None):
        outcomes.append((file_of(batch), [i.kind for i in batch.issues], len(batch.records)))
        batch.on_commit()
    assert outcomes[0][0] == "a.xlsx" and outcomes[0][1] == ["unreadable"]
    assert outcomes[1] == ("b.xlsx", [], 2)
    assert (source.failed / "a.xlsx").exists() and (source.processed / "b.xlsx").exists()


def test_missing_folder_is_a_source_error(tmp_path):
    source = source_from_config({"type": "file", "path": "nowhere"}, tmp_path)
    with pytest.raises(SourceError, match="nowhere"):
        list(source.batches(None))


def test_registry_knows_every_transport_and_rejects_unknown_types(tmp_path):
    from etl.sources import source_types

    assert set(source_types()) >= {"file", "http", "mqtt", "sql"}
    with pytest.raises(ValueError, match="未知的来源类型 'ftp'；可用：file, http, mqtt, sql"):
        source_from_config({"type": "ftp"}, tmp_path)


def test_files_settled_more_than_keep_days_ago_are_deleted_and_recent_ones_kept(tmp_path):
    # processed/ and failed/ grew by every file ever dropped (the demo alone: about 2,200 a day). A file goes
    # keep_days after it was settled (moved), however old its own time: an old export dropped today stays.
    from dataclasses import replace

    source = drop(tmp_path, keep_days=90)
    write(source, "old.csv", f"{HEADER}\n1,城关村,x\n".encode(), mtime=time.time() - 400 * 86400)
    write(source, "bad.xlsx", b"PK\x03\x04 not really a workbook")
    for batch in source.batches(None):
        batch.on_commit()
    # Two hours on (past the hourly throttle): settled today, the file stays, though its own time is 400 days old.
    soon = replace(source, clock=lambda: time.time() + 2 * 3600)
    assert soon.forget_old() == 0
    settled = sorted(p.relative_to(source.folder).as_posix() for p in source.folder.rglob("*.*"))
    assert settled == ["failed/bad.xlsx", "processed/old.csv"]
    never = replace(source, keep_days=0, clock=lambda: time.time() + 1000 * 86400)
    assert never.forget_old() == 0 and len(list(source.processed.iterdir())) == 1  # 0 keeps them for ever
    later = replace(source, clock=lambda: time.time() + 91 * 86400)
    write(later, "new.csv", f"{HEADER}\n2,城关村,y\n".encode())
    for batch in later.batches(None):
        batch.on_commit()
    assert sorted(p.relative_to(source.folder).as_posix() for p in source.folder.rglob("*.*")) == ["processed/new.csv"]


def test_a_file_gone_before_it_is_settled_leaves_its_batch_committed_without_an_error(tmp_path):
    # A person deleting or moving the file during the run's last commit: the rows are in, there is nothing to move;
    # this was a FileNotFoundError traceback and a failed run.
    source = drop(tmp_path)
    path = write(source, "a.csv", ("\n".join([HEADER, *ROWS]) + "\n").encode())
    batch = only_batch(source)
    path.unlink()
    batch.on_commit()
    batch.on_failure()  # a failing run reports its own error, not this one
    assert not (source.folder / "processed").exists() or not any((source.folder / "processed").iterdir())


def test_an_unreadable_csv_line_is_quarantined_alone_and_the_rows_after_it_load(tmp_path):
    # One runaway cell (2 MB, past the csv module's limit) set the whole file aside, its good rows with it.
    source = drop(tmp_path)
    runaway = '3,新庄村,"' + "x" * 200_000 + '",2024-03-01 10:00'
    write(source, "a.csv", "\n".join([HEADER, ROWS[0], runaway, ROWS[1]]).encode() + b"\n")
    batch = only_batch(source)
    assert [record.data["编号"] for record in batch.records] == ["1", "2"]
    (issue,) = batch.issues
    assert (issue.location, issue.kind) == ("第 3 行", "unreadable")
    assert "单元格超过 131,072 个字符" in issue.detail


def test_a_file_of_mostly_unreadable_lines_is_set_aside_whole(tmp_path):
    source = drop(tmp_path)
    runaway = '3,新庄村,"' + "x" * 140_000 + '",2024-03-01 10:00'
    write(source, "a.csv", "\n".join([HEADER, *[runaway] * 101, ROWS[0]]).encode() + b"\n")
    batch = only_batch(source)
    assert batch.records == [] and "不像 CSV 文件" in batch.issues[-1].detail
    batch.on_commit()
    assert (source.folder / "failed" / "a.csv").exists()


def test_a_csv_wider_than_a_spreadsheet_names_its_columns_by_number(tmp_path):
    # Column names ran out at ZZZ (18,278): a wider file ended in "ValueError: Invalid column index 18279".
    source = drop(tmp_path)
    header = HEADER + "," + ",".join([""] * 18_280)
    write(source, "a.csv", (header + "\n" + ROWS[0] + "," * 18_279 + ",多\n").encode())
    batch = only_batch(source)
    (issue,) = batch.issues
    assert issue.kind == "value without header" and issue.field == "18284 列", issue


def test_a_quote_never_closed_sets_the_file_aside_instead_of_swallowing_the_rows_after_it(tmp_path):
    # The cell ran on over 2,000 later lines before the csv module gave up: quarantining "one line" lost them all.
    source = drop(tmp_path)
    lines = [
        HEADER,
        ROWS[0],
        '3,新庄村,"路灯不亮,2024-03-01 10:00',
        *[f"{n},城关村,{'x' * 80},2024-03-01 11:00" for n in range(4, 2004)],
    ]
    write(source, "a.csv", ("\n".join(lines) + "\n").encode())
    batch = only_batch(source)
    assert [record.data["编号"] for record in batch.records] == ["1"]  # what came before is kept
    issue = batch.issues[-1]
    assert issue.location.startswith("第 3–") and "一直延续到第" in issue.detail and "其余部分未导入" in issue.detail
    batch.on_commit()
    assert (source.folder / "failed" / "a.csv").exists()
