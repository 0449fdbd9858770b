"""Rows of the files counties send (CSV and Unicode text in UTF-8, GBK or UTF-16; XLSX; legacy XLS) streamed
as Records, with rejected rows as Issues, rows that are not data (titles, 合计 and 制表人 footers) as Passed,
and what the reader noticed as Notes, in memory bounded by a row, whatever the file's size.

The header is found by the feed's mapped column names unless ``header_row`` says where it is; every sheet of
a workbook is read unless ``sheet`` names one or a list; cells of a merged range (a category over several
rows) take the range's value; a line that is neither UTF-8 nor GBK is one rejected row, not a rejected file.
"""

from __future__ import annotations

import array
import codecs
import csv
import io
import itertools
import re
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries

from etl.sources.base import UNCACHED_FORMULA, Record
from etl.sources.xlsx_guard import TEXT_RUN_MAX, not_a_workbook, run_reason, zip_refusal
from geo.issues import Issue

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
XLS_SUFFIXES = (".xls",)
SUFFIXES = CSV_SUFFIXES + XLSX_SUFFIXES + XLS_SUFFIXES
# How far down a sheet the header is looked for (title rows, a date line, a blank line, …).
HEADER_SEARCH_ROWS = 50
# Rows whose first filled cell starts with one of these are totals or signatures, not data.
FOOTER_WORDS = ("合计", "总计", "小计", "制表人", "审核人", "填报人", "填表人", "制表时间", "填报时间", "填报日期")
FOOTER_START = tuple({word[0] for word in FOOTER_WORDS})  # a cheap first look before spaces are taken out
DELIMITERS = (",", "\t", ";", "|")
CHUNK = 1 << 20
# A CSV with more unreadable lines than this is not a CSV with a few broken rows: the file is set aside.
CSV_ERRORS_KEPT = 100
LAST_LETTERED = 18278  # column ZZZ, the last a spreadsheet names by letters


@dataclass(frozen=True)
class Layout:
    """Where the data is in a file: the header's first row (1-based; None: found by the expected column
    names), how many rows it spans (2 = a group row over sub-headers), which sheets (None or "*": every
    sheet; a name; a list of names), the CSV delimiter (None: sniffed), and the mapped source columns."""

    header_row: int | None = None
    header_rows: int = 1
    sheet: str | tuple[str, ...] | None = None
    delimiter: str | None = None
    expected: tuple[str, ...] = ()


@dataclass(frozen=True)
class Passed:
    """A row that is not data: a title above the header, a total or a signature below the data."""

    location: str
    why: str


@dataclass(frozen=True)
class Note:
    """Something an operator should know about a file that is not a rejected row (where its header was)."""

    text: str


@dataclass(frozen=True)
class Broken:
    """The file cannot be read (any further): the Issue says where and why; what came before it stands."""

    issue: Issue


Item = Record | Issue | Passed | Note | Broken


@dataclass
class Meter:
    """How a text file is read, and how far in the reader is (CSV and text; a workbook is read whole).

    ``limit``: bytes read at most, the size the file had when it was listed, so what an upload adds while
    the file is read waits for the next run. ``whole()``: asked before a last line without a newline is
    taken; False (the file changed) leaves that line, maybe half-written, to the next run.
    """

    position: Callable[[], int] | None = None
    limit: int | None = None
    whole: Callable[[], bool] = field(default=lambda: True)


def read_items(path: Path, layout: Layout, meter: Meter | None = None) -> Iterator[Item]:
    """Every row of a file as Records, Issues and Passed rows, with Notes, ending in Broken if it breaks."""
    suffix = path.suffix.lower()
    try:
        if suffix in CSV_SUFFIXES:
            yield from _sheet_items(path.name, None, _csv_rows(path, layout, meter), layout, strict_width=True)
        elif suffix in XLSX_SUFFIXES:
            yield from _workbook_items(path.name, _xlsx_sheets(path), layout)
        elif suffix in XLS_SUFFIXES:
            yield from _workbook_items(path.name, _xls_sheets(path), layout)
        else:
            detail = f"不支持 '{suffix}' 文件（可用：{', '.join(SUFFIXES)}）"
            yield Broken(Issue(path.name, "", None, "unsupported file", detail))
    except _Unreadable as error:
        yield Broken(error.issue)
    except Exception as error:  # noqa: BLE001 - any failure of a reader (zlib, XML, xlrd …) is this file's alone
        detail = f"读取中断：{_failure(error)}"
        yield Broken(Issue(path.name, "", None, "unreadable", detail))


def _failure(error: Exception) -> str:
    """A reader's failure in Chinese (the English original after it, for whoever debugs)."""
    kind = type(error).__name__
    if isinstance(error, zipfile.BadZipFile):
        said = "工作簿的压缩结构损坏"
    elif kind in ("ParseError", "XMLSyntaxError", "ExpatError", "SAXParseException"):
        said = "工作簿内的 XML 损坏，无法解析（请在 Excel 中打开并另存为 .xlsx）"
    elif kind == "XLRDError" or type(error).__module__.startswith("xlrd"):
        said = "XLS 文件损坏或格式不受支持（请在 Excel 中另存为 .xlsx）"
    elif isinstance(error, UnicodeDecodeError):
        said = f"文本不是 {error.encoding} 编码"
    else:
        return f"{kind}: {error}"
    return f"{said}（{kind}: {str(error)[:200]}）"


class _Unreadable(Exception):
    """Raised inside a reader for a file (or sheet) that cannot be taken in; ``issue`` says why."""

    def __init__(self, issue: Issue):
        super().__init__(str(issue))
        self.issue = issue


# --- CSV and text -------------------------------------------------------------------------------------------


def _csv_rows(path: Path, layout: Layout, meter: Meter | None) -> Iterator[tuple[int, list[str]] | Issue | Note]:
    """(row number, cells) of a CSV or text export, an Issue for each line that does not decode, a Note for
    each UTF-8 line of a GBK file (read as UTF-8)."""
    meter = meter or Meter()
    with open(path, "rb") as raw:
        handle = _Bounded(raw, meter.limit)
        meter.position = raw.tell
        sample = handle.read(CHUNK)
        handle.seek(0)
        encoding = _encoding(sample, path.name)
        if encoding == "utf-16":  # a BOM says which
            encoding = "utf-16-le" if sample.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
        decoder = _LineDecoder(path.name, encoding)
        lines = decoder.lines(handle, meter.whole)
        sample_text = sample[: len(sample) // decoder.width * decoder.width].decode(
            decoder.encoding or "utf-8", errors="ignore"
        )
        reader = csv.reader(lines, delimiter=layout.delimiter or _sniff(sample_text))
        broken = 0
        read = 0  # lines the reader had taken when its last record ended
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                # The reader starts afresh on the next line. A bad line alone is quarantined and the rows after it
                # still load; a cell that ran on over later lines (a quote never closed) took them with it, and
                # those rows must not vanish: the file is set aside, as when so many lines fail that it is no CSV.
                broken += 1
                skipped = decoder.skipped
                first, last = read + 1 + skipped, reader.line_num + skipped
                where = f"第 {first} 行" if first == last else f"第 {first}–{last} 行"
                reason = _csv_reason(error)
                if first != last:
                    reason += f"：第 {first} 行起的一个单元格一直延续到第 {last} 行，文件的其余部分未导入"
                elif broken > CSV_ERRORS_KEPT:
                    reason += f"，这样的行已超过 {CSV_ERRORS_KEPT} 行：不像 CSV 文件"
                issue = Issue(path.name, where, None, "unreadable", reason)
                if first != last or broken > CSV_ERRORS_KEPT:
                    raise _Unreadable(issue) from None
                read = reader.line_num
                yield issue
                continue
            read = reader.line_num
            if decoder.rejected or decoder.notes:
                yield from decoder.notes
                yield from decoder.rejected
                decoder.notes.clear()
                decoder.rejected.clear()
            yield reader.line_num + decoder.skipped, cells
        yield from decoder.notes
        yield from decoder.rejected


# The csv module's complaints, in Chinese.
CSV_REASONS = {
    "field larger than field limit": f"单元格超过 {csv.field_size_limit():,} 个字符（引号不成对？）",
    "new-line character seen in unquoted field": "未加引号的单元格里有换行符",
    "line contains nul": "行内有 NUL 字符",
}


def _csv_reason(error: csv.Error) -> str:
    """Why a CSV line could not be read, for the quarantine."""
    text = str(error)
    reason = next((said for words, said in CSV_REASONS.items() if text.lower().startswith(words)), text)
    return f"CSV 格式错误：{reason}"


class _Bounded(io.RawIOBase):
    """A binary file read no further than ``limit`` bytes (all of it when None)."""

    def __init__(self, handle, limit: int | None):
        super().__init__()
        self.handle, self.left = handle, limit

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.left is None:
            return self.handle.read(size)
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.handle.read(size)
        self.left -= len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        if (offset, whence) != (0, 0):
            raise io.UnsupportedOperation("a bounded file only rewinds")
        if self.left is not None:
            self.left += self.handle.tell()
        return self.handle.seek(0)


def _encoding(sample: bytes, file: str) -> str:
    """The file's encoding from its first megabyte: a BOM says UTF-8 or UTF-16; else UTF-8 if most of its
    non-ASCII lines decode as UTF-8 (a stray GBK line is then rejected on its own), GB18030 (a superset of
    GBK) if most decode that way, "ascii" while nothing but ASCII has been seen."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = sample[: sample.rfind(b"\n") + 1] if len(sample) == CHUNK else sample
    if head.isascii():
        return "ascii"
    lines = [line for line in head.split(b"\n") if not line.isascii()]
    for encoding in ("utf-8", "gb18030"):
        if 2 * sum(_decodes(line, encoding) for line in lines) > len(lines):
            return encoding
    if _looks_like_utf16(sample):
        return "utf-16-le"
    raise _Unreadable(Issue(file, "", None, "encoding", "既不是 UTF-8、GBK/GB18030 也不是 UTF-16 文本"))


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _looks_like_utf16(sample: bytes) -> bool:
    """UTF-16 LE text without a BOM: ASCII characters leave every second byte zero."""
    return len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4


class _LineDecoder:
    """Lines of an encoded file decoded a megabyte at a time; a line that does not decode becomes an Issue
    naming its line number, and the other lines go on. UTF-16 is split at its own newline (two bytes, at an
    even offset) and goes through the same checks: a half-uploaded last line waits for the next run."""

    def __init__(self, file: str, encoding: str):
        self.file = file
        self.encoding = None if encoding == "ascii" else encoding  # decided at the first non-ASCII line
        self.rejected: list[Issue] = []
        self.skipped = 0  # lines rejected so far: the csv reader's line count leaves them out
        self.notes: list[Note] = []
        self.width = 2 if encoding.startswith("utf-16") else 1
        self.newline = {"utf-16-le": b"\n\x00", "utf-16-be": b"\x00\n"}.get(encoding, b"\n")
        self.bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding)

    def lines(self, handle, whole: Callable[[], bool]) -> Iterator[str]:
        """The decoded lines; a last line without a newline only if ``whole()`` says the file is complete."""
        number, tail = 0, b""
        first = True
        while True:
            chunk = handle.read(CHUNK)
            if first:
                first = False
                if self.bom and chunk.startswith(self.bom):
                    chunk = chunk[len(self.bom) :]
            data = tail + chunk
            if not chunk:
                if data and whole():
                    yield from self._decoded(data, number)
                return
            cut = self._cut(data)
            if not cut:
                tail = data
                continue
            data, tail = data[:cut], data[cut:]
            yield from self._decoded(data, number)
            number += self._count(data)

    def _cut(self, data: bytes) -> int:
        """Where the last whole line of ``data`` ends (0: no newline in it)."""
        if self.width == 1:
            return data.rfind(b"\n") + 1
        at = data.rfind(self.newline)
        while at > 0 and at % 2:  # "\n\x00" across two characters (U+0Axx U+xx00) is not a newline
            at = data.rfind(self.newline, 0, at + 1)
        return at + 2 if at >= 0 and not at % 2 else 0

    def _count(self, data: bytes) -> int:
        """Newlines in ``data``."""
        if self.width == 1:
            return data.count(b"\n")
        units = array.array("H", data[: len(data) // 2 * 2])
        if (sys.byteorder == "little") != (self.newline == b"\n\x00"):
            units.byteswap()
        return units.count(0x0A)

    def _split(self, data: bytes) -> list[bytes]:
        """The lines of ``data``, newlines kept."""
        if self.width == 1:
            return data.splitlines(keepends=True)
        lines, start, at = [], 0, 0
        while (at := data.find(self.newline, at)) >= 0:
            if at % 2:
                at += 1
                continue
            at += 2
            lines.append(data[start:at])
            start = at
        if start < len(data):
            lines.append(data[start:])
        return lines

    def _decoded(self, data: bytes, before: int) -> Iterator[str]:
        # Lines split as the csv module splits them (\n, \r, \r\n), never at other separators str.splitlines
        # knows (\x0c, \u2028 …), which a title copied from a web page may hold.
        if self.encoding is not None:
            try:
                text = data.decode(self.encoding)
            except UnicodeDecodeError:
                pass
            else:
                if self.encoding != "gb18030" or not _has_utf8_line(data):
                    yield from io.StringIO(text, newline="")
                    return
        elif data.isascii():
            yield from io.StringIO(data.decode("ascii"), newline="")
            return
        for offset, line in enumerate(self._split(data), start=1):
            text = self._line(line, before + offset)
            if text is None:
                self.skipped += 1
                self.rejected.append(self._issue(before + offset, line))
            else:
                yield from io.StringIO(text, newline="") if self.width == 2 else (text,)

    def _line(self, line: bytes, number: int) -> str | None:
        """A line decoded in the file's encoding (choosing it at the first line that needs one), else None.
        In a GBK file, a line that is UTF-8 (pasted from elsewhere) is read as UTF-8, with a note."""
        if self.encoding == "gb18030" and not line.isascii() and _has_utf8_line(line):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                self.notes.append(Note(f"{self.file} 第 {number} 行是 UTF-8 文本（文件其余是 GBK），已按 UTF-8 读取"))
                return text
        for encoding in (self.encoding,) if self.encoding else ("utf-8", "gb18030"):
            try:
                text = line.decode(encoding)
            except UnicodeDecodeError:
                continue
            if self.encoding is None and not line.isascii():
                self.encoding = encoding
            return text
        return None

    def _issue(self, number: int, line: bytes) -> Issue:
        shown = line.decode(self.encoding or "utf-8", errors="replace").rstrip("\r\n")
        name = "UTF-16" if self.width == 2 else self.encoding or "UTF-8"
        detail = f"这一行不是 {name} 文本（混入了其他编码或损坏的字符？），原字节已保存"
        raw = {"text": shown, "bytes_hex": line.hex()}
        return Issue(self.file, f"第 {number} 行", None, "encoding", detail, raw)


def _has_utf8_line(data: bytes) -> bool:
    """Whether a line of GBK ``data`` is UTF-8 (non-ASCII, and strict UTF-8 from end to end). Looked for where
    two UTF-8 CJK characters follow each other, or one stands between ASCII bytes (three bytes: no GBK text
    has an odd run); GBK text rarely has the first and never the second, and the look is a byte translation
    and a substring search, cheap beside the decoding."""
    marks = data.translate(_UTF8_MARKS)
    for needle in (b"LccLcc", b"aLcca"):
        at = marks.find(needle)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            if _decodes(data[start:end], "utf-8"):
                return True
            at = marks.find(needle, end)
    return False


# Bytes by what they may be in UTF-8: "a" ASCII, "L" the lead of a 3-byte character (CJK and its punctuation
# start with E2–EF), "c" a continuation byte, "x" anything else.
_UTF8_MARKS = bytes(
    ord("a") if byte < 0x80 else ord("c") if byte < 0xC0 else ord("L") if 0xE2 <= byte <= 0xEF else ord("x")
    for byte in range(256)
)


def _sniff(text: str) -> str:
    """The delimiter of a text export: the candidate that splits some of its first lines the most."""
    lines = text.splitlines()[:20]
    scores = {c: max((line.count(c) for line in lines), default=0) for c in DELIMITERS}
    best = max(DELIMITERS, key=lambda c: scores[c])
    return best if scores[best] else ","


# --- Workbooks ----------------------------------------------------------------------------------------------


@dataclass
class _Sheet:
    """One worksheet: its name, its rows as (number, cells) and its merged ranges (1-based, inclusive)."""

    name: str
    rows: Iterator[tuple[int, list[str]]]
    merges: list[tuple[int, int, int, int]]  # min_col, min_row, max_col, max_row
    uncached: dict[int, list[str]] = field(default_factory=dict)  # row → its formula cells without a value


def _workbook_items(file: str, opened: tuple[list[str], Iterator[_Sheet], list[str]], layout: Layout) -> Iterator[Item]:
    """Items of the chosen sheets of a workbook. When every sheet was asked for, a hidden sheet (a template,
    last year's data) and a sheet without the header (a 说明 sheet, a chart) are noted and passed over; a
    named sheet is read hidden or not, and breaks the file without the header."""
    names, sheets, hidden = opened
    wanted = _wanted_sheets(file, names, layout.sheet)
    named = layout.sheet not in (None, "*")
    if not named and hidden:
        wanted -= set(hidden)
        shown = "、".join(f"「{name}」" for name in hidden)
        yield Note(f"{file} 的隐藏工作表{shown}未读取（要读取请在 sheet 中写明它的名字）")
    read = 0
    for sheet in sheets:
        if sheet.name not in wanted:
            continue
        label = sheet.name if len(names) > 1 or named else None
        try:
            yield from _sheet_items(
                file, label, sheet.rows, layout, strict_width=False, merges=sheet.merges, uncached=sheet.uncached
            )
            read += 1
        except _Unreadable as error:
            if named or error.issue.kind != "header not found":
                raise
            yield Note(f"{file} 工作表「{sheet.name}」没有表头，已跳过")
    if not read:
        hint = f"（隐藏的工作表 {'、'.join(hidden)} 未读取）" if hidden and not named else ""
        detail = f"没有一个工作表含映射的列（工作表：{'、'.join(names)}）{hint}：表头、工作表或映射不对？"
        raise _Unreadable(Issue(file, "", None, "header not found", detail))


def _wanted_sheets(file: str, names: list[str], sheet: str | tuple[str, ...] | None) -> set[str]:
    """The sheets to read: all of them, or the named ones (_Unreadable when one is missing)."""
    if sheet is None or sheet == "*":
        return set(names)
    chosen = (sheet,) if isinstance(sheet, str) else tuple(sheet)
    missing = [name for name in chosen if name not in names]
    if missing:
        detail = f"没有名为「{'、'.join(missing)}」的工作表（现有：{'、'.join(names)}）"
        raise _Unreadable(Issue(file, "", "sheet", "missing sheet", detail))
    return set(chosen)


def _xlsx_sheets(path: Path):
    """The names of an XLSX workbook's sheets and the sheets, streamed in read-only mode; a file that is no
    workbook, or would inflate past xlsx_guard's caps, refused before openpyxl opens it."""
    refusal = zip_refusal(path)
    if refusal:
        raise _Unreadable(Issue(path.name, "", None, "unreadable", refusal))
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        detail = f"不是可读的 XLSX 文件（{type(error).__name__}，文件损坏或是改了扩展名的其他文件）"
        raise _Unreadable(Issue(path.name, "", None, "unreadable", detail)) from None
    names = list(workbook.sheetnames)
    hidden = [name for name in names if getattr(workbook[name], "sheet_state", "visible") != "visible"]

    def sheets() -> Iterator[_Sheet]:
        try:
            for name in names:
                sheet = workbook[name]
                # Some exporters write a wrong <dimension> ("A1"), which makes read-only mode cut rows short.
                sheet.reset_dimensions()
                merges, uncached = _xlsx_prepass(path, sheet._worksheet_path)
                rows = ((n, [_text(v) for v in row]) for n, row in enumerate(sheet.iter_rows(values_only=True), 1))
                yield _Sheet(name, rows, merges, uncached)
        finally:
            workbook.close()  # read-only workbooks keep the zip open until closed

    return names, sheets(), hidden


MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+\d+:[A-Z]+\d+)"')
# A formula cell whose cached value was never computed (a file written by a program, never opened in Excel):
# <c r="D2"><f>50+50</f><v/></c>, <c r="D2"><f>…</f></c>, <c r="D3"><f t="shared" si="0"/></c>.
UNCACHED = re.compile(
    rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]+)(\d+)"[^>]*>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)'
    rb"\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
FORMULA = re.compile(rb"<(?:\w+:)?f\b")


def _xlsx_prepass(path: Path, member: str) -> tuple[list[tuple[int, int, int, int]], dict[int, list[str]]]:
    """The merged ranges of one sheet, and its formula cells without a cached value (row → cell names), read
    from its XML before its rows are streamed: openpyxl gives merges only outside read-only mode, which loads
    the whole sheet, and reads an uncached formula as an empty cell. A byte search, not an XML parse: a
    megabyte at a time, a megabyte without a tag refused (xlsx_guard: no export's cell is that long), so
    what is held stays bounded however far the sheet inflates."""
    ranges: list[tuple[int, int, int, int]] = []
    uncached: dict[int, list[str]] = {}
    tail = b""
    name = member.lstrip("/")
    with zipfile.ZipFile(path) as archive, archive.open(name) as xml:
        while chunk := xml.read(TEXT_RUN_MAX):
            if len(chunk) == TEXT_RUN_MAX and b"<" not in chunk:
                raise _Unreadable(Issue(path.name, "", None, "unreadable", run_reason(name)))
            data = tail + chunk
            # Whole cells only (a cell cut at the chunk's end is looked at with the next), or whole tags past
            # the last cell (the merged ranges follow the cells).
            end = data.rfind(b"</c>")
            cut = end + 4 if end >= 0 and len(data) - end <= TEXT_RUN_MAX else data.rfind(b">") + 1
            whole, tail = data[:cut], data[cut:]
            if len(tail) > 2 * TEXT_RUN_MAX:
                raise _Unreadable(Issue(path.name, "", None, "unreadable", run_reason(name)))
            ranges += [range_boundaries(m.decode()) for m in MERGE.findall(whole)]
            if FORMULA.search(whole):
                for letters, row in UNCACHED.findall(whole):
                    uncached.setdefault(int(row), []).append(f"{letters.decode()}{row.decode()}")
        ranges += [range_boundaries(m.decode()) for m in MERGE.findall(tail)]
    return ranges, uncached


def _xls_sheets(path: Path):
    """The names of a legacy XLS workbook's sheets and the sheets, with their merged ranges (xlrd)."""
    import xlrd

    try:
        book = xlrd.open_workbook(path, formatting_info=True, on_demand=True)
    except xlrd.XLRDError:
        with open(path, "rb") as handle:
            detail = not_a_workbook(handle.read(512), path.suffix)
        raise _Unreadable(Issue(path.name, "", None, "unreadable", detail)) from None
    names = list(book.sheet_names())
    visibility = getattr(book, "_sheet_visibility", [])
    hidden = [name for name, seen in zip(names, visibility, strict=False) if seen]

    def sheets() -> Iterator[_Sheet]:
        try:
            for index, name in enumerate(names):
                sheet = book.sheet_by_index(index)
                merges = [(c0 + 1, r0 + 1, c1, r1) for r0, r1, c0, c1 in sheet.merged_cells]
                rows = (
                    (r + 1, [_xls_text(book, sheet.cell(r, c)) for c in range(sheet.ncols)]) for r in range(sheet.nrows)
                )
                yield _Sheet(name, rows, merges)
                book.unload_sheet(index)
        finally:
            book.release_resources()

    return names, sheets(), hidden


def _xls_text(book, cell) -> str:
    """An XLS cell as the text a CSV export would hold (dates as dates, not day numbers)."""
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        return _text(xlrd.xldate_as_datetime(cell.value, book.datemode))
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return ""
    return _text(cell.value)


def _text(value: Any) -> str:
    """A cell value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- From rows to items -------------------------------------------------------------------------------------


def _where(label: str | None, number: int) -> str:
    return f"工作表「{label}」第 {number} 行" if label else f"第 {number} 行"


def _sheet_items(
    file: str,
    label: str | None,
    rows: Iterator[tuple[int, list[str]] | Issue | Note],
    layout: Layout,
    strict_width: bool,
    merges: list[tuple[int, int, int, int]] = (),
    uncached: dict[int, list[str]] | None = None,
) -> Iterator[Item]:
    """Data rows keyed by the header found; rows above it and footers Passed, bad rows Issues.
    _Unreadable (before any row of the sheet is yielded) when the header is not there."""
    head: list[tuple[int, list[str]]] = []
    filler = _MergeFiller(merges)
    stream = iter(rows)
    for entry in stream:
        if isinstance(entry, (Issue, Note)):
            yield entry
            continue
        head.append(entry)
        if len(head) < HEADER_SEARCH_ROWS + layout.header_rows and not _header_settled(head, layout):
            continue
        names, body = yield from _settle_header(file, label, head, layout)
        rest = itertools.chain(body, stream)
        yield from _rows_under(file, label, rest, names, layout, strict_width, filler, uncached)
        return
    if any(any(cell.strip() for cell in cells) for _, cells in head):
        names, body = yield from _settle_header(file, label, head, layout)
        yield from _rows_under(file, label, iter(body), names, layout, strict_width, filler, uncached)


def _rows_under(
    file: str,
    label: str | None,
    rows: Iterator[tuple[int, list[str]] | Issue | Note],
    names: list[str | None],
    layout: Layout,
    strict_width: bool,
    filler: _MergeFiller,
    uncached: dict[int, list[str]] | None,
) -> Iterator[Item]:
    """The rows below the header. A row naming half of the mapped columns is a header again (a second table
    pasted below the first): the rows after it are read under its names. A row with a formula that was never
    computed under a mapped column is rejected: read as empty, it would load as a missing value."""
    watch = frozenset(layout.expected)
    for entry in rows:
        if isinstance(entry, (Issue, Note)):
            yield entry
            continue
        number, cells = entry
        cells = filler.fill(number, cells)
        if watch and not watch.isdisjoint(cells):
            again = _header_again(file, label, number, cells, names, layout)
            if again is not None:
                names = again[0]
                yield from again[1]
                continue
        if uncached and number in uncached:
            yield from _uncached_row(file, label, number, cells, names, layout, strict_width, uncached[number])
            continue
        yield from _body_row(file, label, number, cells, names, strict_width)


def _header_again(
    file: str, label: str | None, number: int, cells: list[str], names: list[str | None], layout: Layout
) -> tuple[list[str | None], list[Item]] | None:
    """A body row that is a header (None if it is not): the names to read the rows after it by, and the
    Passed row and Note that say so; _Unreadable when the file's header spans two rows (re-keying under one
    row of it would be a guess): the file is read no further."""
    expected = set(layout.expected)
    if len(expected & {cell.strip() for cell in cells}) < max(1, (len(expected) + 1) // 2):
        return None
    where = _where(label, number)
    if layout.header_rows != 1:
        detail = f"{where}又是一行表头（下面粘贴了另一张表？）：两行表头的文件读到这里为止，其后的行未导入"
        raise _Unreadable(Issue(file, where, None, "unreadable", detail))
    found = _checked(file, label, _names_of([cells]), number, 1, layout)
    if found == names:
        return names, [Passed(where, "重复的表头行")]
    note = f"{file} {where}又是一行表头，列与上面的表头不同（下面粘贴了另一张表？）：其后的行按这一行的列名读取"
    return found, [Passed(where, "又一行表头（列不同），其后的行按它读取"), Note(note)]


def _uncached_row(
    file: str,
    label: str | None,
    number: int,
    cells: list[str],
    names: list[str | None],
    layout: Layout,
    strict_width: bool,
    refs: list[str],
) -> Iterator[Item]:
    """A row with formulas that have no cached value: an Issue if one is under a mapped (or, without a
    mapping, any named) column and the row would load; else the row as any other."""
    mapped = set(layout.expected)
    blind = []
    for ref in refs:
        index = column_index_from_string(ref.rstrip("0123456789")) - 1
        name = names[index] if index < len(names) else None
        if name is not None and (not mapped or name in mapped):
            blind.append((ref, name))
    items = list(_body_row(file, label, number, cells, names, strict_width))
    if not blind or not items or not isinstance(items[0], Record):
        yield from items
        return
    shown = "、".join(f"{ref}（{name}）" for ref, name in blind[:5])
    detail = f"{UNCACHED_FORMULA}：{shown}（文件由程序生成、未在 Excel 中计算；请在 Excel 中打开并保存后再放入）"
    raw = {_column(names, i): cell for i, cell in enumerate(cells)}
    yield Issue(file, _where(label, number), blind[0][1], "invalid value", detail, raw)


def _header_settled(head: list[tuple[int, list[str]]], layout: Layout) -> bool:
    """Whether enough rows are in to place the header: at its given row, or at a row matching every
    expected column (a perfect match needs no more looking)."""
    if layout.header_row is not None or not layout.expected:
        first = layout.header_row or 1
        return len(head) >= first + layout.header_rows - 1
    expected = set(layout.expected)
    rows = [cells for _, cells in head]
    return any(
        expected <= set(_names_of(rows[i : i + layout.header_rows])) for i in range(len(rows) - layout.header_rows + 1)
    )


def _settle_header(file: str, label: str | None, head: list[tuple[int, list[str]]], layout: Layout):
    """Yields Passed items for the rows above the header and a Note saying where it was found; returns the
    column names and the rows read after it."""
    names, start = _header_at(file, label, [cells for _, cells in head], layout)
    above = [(number, cells) for number, cells in head[:start] if any(cell.strip() for cell in cells)]
    for number, cells in above:
        text = " ".join(cell.strip() for cell in cells if cell.strip())[:60]
        yield Passed(_where(label, number), f"表头上方的标题行：{text}")
    if above and layout.header_row is None:
        where = f"工作表「{label}」" if label else ""
        yield Note(f"{file} {where}表头在第 {head[start][0]} 行，跳过其上方 {len(above)} 行（标题等）")
    return names, head[start + layout.header_rows :]


def _names_of(header: list[list[str]]) -> list[str | None]:
    """Column names from one or two header rows: each column's lowest non-blank text (a merged group cell
    keeps its text only in its first column, a vertically merged one only in its top row)."""
    width = max((len(row) for row in header), default=0)
    padded = [row + [""] * (width - len(row)) for row in header]
    names: list[str | None] = []
    for column in range(width):
        texts = [row[column].strip() for row in reversed(padded)]
        names.append(next((text for text in texts if text), None))
    return names


def _header_at(file: str, label: str | None, rows: list[list[str]], layout: Layout) -> tuple[list[str | None], int]:
    """The resolved column names and the header's index among ``rows``; _Unreadable when it is not found or
    names a mapped column twice."""
    span = layout.header_rows
    if layout.header_row is not None or not layout.expected:
        start = (layout.header_row or 1) - 1
        if start + span > len(rows):
            raise _Unreadable(Issue(file, _where(label, start + 1), None, "header not found", "表头行之后没有内容"))
    else:
        expected = set(layout.expected)
        scores = [len(expected & set(_names_of(rows[i : i + span]))) for i in range(max(0, len(rows) - span + 1))]
        best = max(scores, default=0)
        # Half of the mapped columns at least: a title row or a data row never names that many.
        if best < max(1, (len(expected) + 1) // 2):
            shown = "、".join(sorted(expected)[:6])
            where = f"工作表「{label}」" if label else "文件"
            detail = (
                f"{where}前 {HEADER_SEARCH_ROWS} 行中没有一行含映射的列（{shown} …）：表头不对、工作表不对或映射不对？"
            )
            raise _Unreadable(Issue(file, "", None, "header not found", detail))
        start = scores.index(best)
    names = _checked(file, label, _names_of(rows[start : start + span]), start + 1, span, layout)
    return names, start


def _checked(
    file: str, label: str | None, names: list[str | None], first_row: int, span: int, layout: Layout
) -> list[str | None]:
    """Names with an interior blank refused; a repeated name refused when it is mapped, else kept apart
    under its column letter (two 备注 columns: neither is lost, neither is taken for the other)."""
    last = max((i for i, name in enumerate(names) if name), default=-1)
    rows = _where(label, first_row) if span == 1 else f"{_where(label, first_row)}–{first_row + span - 1}"
    resolved: list[str | None] = []
    for column, name in enumerate(names[: last + 1]):
        letter = f"{_letter(column + 1)} 列"
        if name is None:
            hint = "（合并的分组表头？设置 header_rows = 2）" if span == 1 else ""
            raise _Unreadable(Issue(file, rows, letter, "blank header", f"{letter}没有列名{hint}"))
        if name in resolved:
            if name in layout.expected:
                first = _letter(resolved.index(name) + 1)
                detail = f"{letter}与 {first} 列同名「{name}」，映射的列不能重复"
                raise _Unreadable(Issue(file, rows, name, "duplicate header", detail))
            name = f"{name} ({_letter(column + 1)})"
        resolved.append(name)
    return resolved + [None] * (len(names) - last - 1)


class _MergeFiller:
    """Fills every cell of a merged range with the range's value (only the top-left cell holds it)."""

    def __init__(self, merges):
        self.by_start: dict[int, list[tuple[int, int, int, int]]] = {}
        for merge in merges:
            if merge[3] > merge[1] or merge[2] > merge[0]:
                self.by_start.setdefault(merge[1], []).append(merge)
        self.active: list[tuple[tuple[int, int, int, int], str]] = []

    def fill(self, number: int, cells: list[str]) -> list[str]:
        if not self.by_start and not self.active:
            return cells
        self.active = [(m, v) for m, v in self.active if m[3] >= number]
        for merge in self.by_start.pop(number, ()):
            column = merge[0] - 1
            self.active.append((merge, cells[column] if column < len(cells) else ""))
        for (min_col, _min_row, max_col, _max_row), value in self.active:
            if len(cells) < max_col:
                cells = cells + [""] * (max_col - len(cells))
            for column in range(min_col - 1, max_col):
                if not cells[column].strip():
                    cells[column] = value
        return cells


def _body_row(
    file: str, label: str | None, number: int, cells: list[str], names: list[str | None], strict_width: bool
) -> Iterator[Item]:
    """One row below the header: nothing (blank), Passed (a footer), a Record, or the Issue rejecting it."""
    first = cells[0].strip() if cells else ""
    if not first:
        first = next((cell.strip() for cell in cells if cell.strip()), None)
        if first is None:
            return  # blank lines and formatted-but-empty sheet rows carry nothing
    if first.startswith(FOOTER_START) and first.replace(" ", "").replace("\u3000", "").startswith(FOOTER_WORDS):
        yield Passed(_where(label, number), f"合计或签名行：{first[:40]}")
        return
    width = len(names)
    if len(cells) == width and None not in names:  # the common case: a full row under named columns
        yield Record(f"{file}，{_where(label, number)}", dict(zip(names, cells, strict=True)))
        return
    yield _uneven_row(file, _where(label, number), cells, names, strict_width)


def _uneven_row(
    file: str, location: str, cells: list[str], names: list[str | None], strict_width: bool
) -> Record | Issue:
    """A row with fewer or more cells than the header has names, or with cells under unnamed columns."""
    width = len(names)
    raw: dict[str, Any] = {_column(names, i): cell for i, cell in enumerate(cells)}
    if strict_width and len(cells) < width:
        missing = _column(names, len(cells))
        detail = f"只有 {len(cells)} 格，表头有 {width} 列（被截断？）"
        return Issue(file, location, missing, "truncated row", detail, raw)
    if strict_width and len(cells) > width:
        detail = f"有 {len(cells)} 格，表头只有 {width} 列"
        return Issue(file, location, f"{_letter(width + 1)} 列", "extra cells", detail, raw)
    for i, cell in enumerate(cells):
        if cell.strip() and (i >= width or names[i] is None):
            letter = f"{_letter(i + 1)} 列"
            return Issue(file, location, letter, "value without header", f"{letter}有值「{cell}」但没有列名", raw)
    if len(cells) < width:
        cells = cells + [""] * (width - len(cells))
    return Record(f"{file}，{location}", {name: cells[i] for i, name in enumerate(names) if name is not None})


def _letter(number: int) -> str:
    """A column's spreadsheet letter (1 → A); past the last one a spreadsheet has (ZZZ), its number."""
    return get_column_letter(number) if number <= LAST_LETTERED else str(number)


def _column(names: list[str | None], index: int) -> str:
    """A column's header name, or its spreadsheet letter when it has none."""
    name = names[index] if index < len(names) else None
    return name or f"{_letter(index + 1)} 列"
