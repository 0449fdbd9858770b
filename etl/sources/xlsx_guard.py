"""What a workbook's zip says about it, checked before openpyxl opens it: an .xlsx that is no zip (a renamed
CSV), and a zip bomb (a few hundred KB that inflate to gigabytes: one 400 MB cell once took 4.6 GB of memory).

zipfile inflates a member no further than the size its directory declares (a member that lies fails its
CRC), so the declared sizes bound what openpyxl can take in; they are checked against these caps:

- ``MEMBER_MAX`` and ``TOTAL_MAX``: a genuine 200,000-row export of 13 columns is a sheet of about 60 MB
  (Excel's shared strings) to 160 MB (inline strings, as programs write); 30 columns, about 360 MB. Excel
  itself stops at 1,048,576 rows.
- ``RATIO_MAX`` for members over ``RATIO_FLOOR``: sheet XML deflates 5–30 to 1 (its tags repeat, its values
  do not); deflate's own limit is about 1,030 to 1, which is what a bomb of repeated bytes reaches.
- ``TEXT_RUN_MAX``: no stretch of a sheet or of the shared strings goes this far without a tag. An Excel
  cell holds 32,767 characters at most (under 200 KB of XML, escaped), so a longer text is no export; checked
  a megabyte at a time, by the shared strings' pass here (openpyxl loads them whole when it opens the file)
  and by the sheets' pre-pass in tables.py.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

MEMBER_MAX = 512 << 20
TOTAL_MAX = 1 << 30
RATIO_MAX = 100
RATIO_FLOOR = 8 << 20
TEXT_RUN_MAX = 1 << 20  # a chunk of this many bytes with no "<" in it: a text run of at least this long
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a legacy .xls (and other OLE files)


def _mb(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MB"


def not_a_workbook(head: bytes, suffix: str) -> str:
    """Why a file whose first bytes are ``head`` is not a workbook of its suffix, in Chinese."""
    if head.startswith(OLE_MAGIC):
        return f"不是 {suffix.upper().lstrip('.')} 文件：是旧版 XLS（Excel 97–2003）文件，请把扩展名改为 .xls"
    if head.startswith(b"PK"):
        return f"不是 {suffix.upper().lstrip('.')} 文件：是 XLSX 文件，请把扩展名改为 .xlsx"
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n").lower()
    if text.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta")):
        return f"不是 {suffix.upper().lstrip('.')} 文件（可能是网页或 XML 另存的，请在 Excel 中另存为 .xlsx）"
    return f"不是 {suffix.upper().lstrip('.')} 文件（可能是改了扩展名的 CSV 或文本文件）"


def zip_refusal(path: Path) -> str | None:
    """Why an .xlsx must not be opened (not a zip, a member or the whole too big, a bomb), else None."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    if not head.startswith(b"PK"):
        return not_a_workbook(head, path.suffix)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            total = 0
            for member in members:
                size = member.file_size
                total += size
                if size > MEMBER_MAX:
                    said = f"解压后有 {_mb(size)}，超过上限 {_mb(MEMBER_MAX)}"
                    return f"工作簿中的 {member.filename} {said}：不像正常导出的表格，未读取"
                if size > RATIO_FLOOR and size > RATIO_MAX * max(member.compress_size, 1):
                    ratio = size // max(member.compress_size, 1)
                    return (
                        f"工作簿中的 {member.filename} 压缩比 {ratio}:1（解压后 {_mb(size)}），"
                        f"超过上限 {RATIO_MAX}:1：疑似压缩炸弹，未读取"
                    )
            if total > TOTAL_MAX:
                return f"工作簿解压后共 {_mb(total)}，超过上限 {_mb(TOTAL_MAX)}：不像正常导出的表格"
            names = {member.filename for member in members}
            for name in ("xl/sharedStrings.xml", "xl/SharedStrings.xml"):
                if name in names and (said := text_run_refusal(archive, name)):
                    return said
    except zipfile.BadZipFile:
        return "不是 XLSX 文件（zip 结构损坏，或是改了扩展名的其他文件）"
    return None


def text_run_refusal(archive: zipfile.ZipFile, name: str) -> str | None:
    """Why a member's XML is no export's (a text run of a megabyte or more), else None; read in bounded chunks."""
    with archive.open(name) as xml:
        while chunk := xml.read(TEXT_RUN_MAX):
            if len(chunk) == TEXT_RUN_MAX and b"<" not in chunk:
                return run_reason(name)
    return None


def run_reason(name: str) -> str:
    return (
        f"工作簿中的 {name} 有一段超过 {_mb(TEXT_RUN_MAX)} 的文字（Excel 单元格最多 32,767 个字符）："
        "不像正常导出的表格，未读取"
    )
