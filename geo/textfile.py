"""Text of files exported by Chinese government systems: UTF-8 (with or without BOM), else GBK/GB18030."""

from __future__ import annotations

ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 is a superset of GBK and GB2312


def decode(data: bytes, file: str) -> tuple[str, str]:
    """The text of a file and the encoding that decoded it; ValueError naming the file when neither fits."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{file}：既不是 UTF-8 也不是 GBK/GB18030 文本")
