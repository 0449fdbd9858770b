"""Photos and attachments sent from phones and the office, checked on the server: an image must be one Pillow
reads; it is turned upright, re-encoded as JPEG without its metadata (EXIF: GPS position, camera, time) and at
most 1600 px a side. A PDF attachment must start as one and is kept as sent (served only as a download).

A JPEG is decoded at the smallest of libjpeg's scales (1/2, 1/4, 1/8) that still gives 1600 px (Pillow's draft mode),
and a worker decodes one image at a time: a burst of uploads queues instead of taking the server's memory."""

from __future__ import annotations

import io
import math
import re
import threading

from PIL import Image, ImageOps, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from etl.warehouse.intake import IntakeError
from etl.warehouse.intake_files import Upload

PHOTO_BYTES = 8 * 1024 * 1024  # a phone camera's photo is 2–6 MB
ATTACHMENT_BYTES = 10 * 1024 * 1024
# The body caps of the upload routes (dashboard/guard.py UPLOAD_ROUTES): the files and the form around them.
CASE_BODY = PHOTO_BYTES + 64 * 1024
NOTICE_BODY = 3 * ATTACHMENT_BYTES + 64 * 1024
FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"}
MOST_PIXELS = 40_000_000  # 40 MP: beyond any phone camera; a small file claiming more is a decompression bomb
LONGEST_SIDE = 1600
# A camera's progressive JPEG has about ten scans. Each is a pass over every block, so a small file padded with
# thousands of them costs minutes of CPU to decode.
MOST_SCANS = 64
# A 40 MP image takes 120 MB and a core for a second to decode: one at a time in a worker, the others wait their turn
# (a handful of households at once) or are told to try again, their form kept.
DECODES_AT_ONCE = 1
DECODE_WAIT_SECONDS = 15.0
_decoding = threading.BoundedSemaphore(DECODES_AT_ONCE)


class TooLarge(IntakeError):
    """A file over its cap."""

    status = 413


class Busy(IntakeError):
    """Every decoding slot of this worker stayed taken while the upload waited."""

    status = 503


def _read(file: FileStorage | None, cap: int, what: str) -> bytes | None:
    if file is None or not file.filename:
        return None
    data = file.stream.read(cap + 1)
    if not data:
        return None
    if len(data) > cap:
        raise TooLarge(f"{what}超过 {cap // (1024 * 1024)} MB，请换一张小一些的")
    return data


def reencoded(data: bytes, name: str) -> Upload:
    """An image re-encoded as a metadata-free JPEG, or IntakeError when it is not an image we read (Busy when this
    worker is decoding others for too long)."""
    if not _decoding.acquire(timeout=DECODE_WAIT_SECONDS):
        raise Busy("服务器正在处理其他照片，请稍等一分钟再提交（填写的内容已保留）")
    try:
        return _reencoded(data, name)
    finally:
        _decoding.release()


def draft_size(width: int, height: int) -> tuple[int, int]:
    """The smallest size a JPEG may be decoded at that still gives LONGEST_SIDE on its longest side (its own size
    when it is no longer than that)."""
    longest = max(width, height)
    if longest <= LONGEST_SIDE:
        return width, height
    return math.ceil(width * LONGEST_SIDE / longest), math.ceil(height * LONGEST_SIDE / longest)


def _reencoded(data: bytes, name: str) -> Upload:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FORMATS:
                raise IntakeError(f"“{name}”不是常见的图片格式（支持 JPG、PNG、WebP、GIF）")
            if image.width * image.height > MOST_PIXELS:
                raise IntakeError(f"“{name}”的像素过多，请换一张普通照片")
            if image.format in ("JPEG", "MPO") and scans(data) > MOST_SCANS:
                raise IntakeError(f"“{name}”的扫描段过多，不像相机拍的照片，请重新拍照")
            if image.format in ("JPEG", "MPO"):
                image.draft(None, draft_size(image.width, image.height))  # a 12 MP photo decoded as 3 MP
            image.load()
            upright = _upright(image)
            if upright.mode in ("RGBA", "LA", "P"):
                upright = upright.convert("RGBA")
                flat = Image.new("RGB", upright.size, "white")
                flat.paste(upright, mask=upright.getchannel("A"))
                upright = flat
            upright = upright.convert("RGB")
            upright.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
            upright.info = {}  # Pillow writes a JPEG comment kept there (a geotagger's position, a phone number)
            out = io.BytesIO()
            upright.save(out, "JPEG", quality=82, optimize=True)  # no exif= argument: no EXIF is written
    except IntakeError:
        raise  # its own words (a ValueError too, it was taken for "not an image")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise IntakeError(f"“{name}”无法识别为图片，请重新拍照或选择 JPG、PNG 图片") from None
    return Upload(typed_name(name, "image/jpeg"), "image/jpeg", out.getvalue())


def scans(data: bytes) -> int:
    """The scans of a JPEG's first image (up to MOST_SCANS + 1), walked marker by marker to its end: what follows
    it (a phone's motion photo appends its video, counted before: 12 of 40 such photos were refused) and what
    segments hold (an EXIF thumbnail) is not counted."""
    at, size, found = 2, len(data), 0
    while at + 4 <= size and found <= MOST_SCANS:
        if data[at] != 0xFF:
            break  # no marker where one should be: Pillow judges the rest
        marker = data[at + 1]
        if marker == 0xFF:  # a fill byte
            at += 1
            continue
        if marker == 0xD9:  # the image's end
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            at += 2
            continue
        end = at + 2 + int.from_bytes(data[at + 2 : at + 4], "big")
        if marker != 0xDA:
            at = end
            continue
        found += 1
        at = end  # the scan's coded data runs to the next marker: 0xFF not followed by a stuffed 0 or a restart
        while (at := data.find(b"\xff", at)) >= 0 and at + 1 < size:
            following = data[at + 1]
            if following in (0x00, 0xFF) or 0xD0 <= following <= 0xD7:
                at += 1
                continue
            break
        if at < 0:
            break
    return found


def _upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says; as it is when its EXIF cannot be read (a tag of another type
    than Pillow expects made exif_transpose raise, a server error to the household on every retry)."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - AttributeError, TypeError, struct.error … from broken EXIF
        return image


def photo(file: FileStorage | None) -> Upload | None:
    """The optional photo of a 诉求, checked and re-encoded; None when none was chosen."""
    data = _read(file, PHOTO_BYTES, "照片")
    return None if data is None else reencoded(data, _name(file))


def attachment(file: FileStorage | None) -> Upload | None:
    """A notice's attachment: an image (re-encoded) or a PDF; None for an empty file field."""
    data = _read(file, ATTACHMENT_BYTES, "附件")
    if data is None:
        return None
    name = _name(file)
    if data.startswith(b"%PDF-"):
        return Upload(typed_name(name, "application/pdf"), "application/pdf", data)
    return reencoded(data, name)


def _name(file: FileStorage) -> str:
    """The name a file was sent under, without any folder, for people to recognise it."""
    return (file.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:200]


# The suffix a stored file's type gives it (and the suffixes that already say so).
SUFFIXES = {"application/pdf": (".pdf", (".pdf",)), "image/jpeg": (".jpg", (".jpg", ".jpeg"))}
# What a name ends with that is taken for its extension: a dot and up to five letters or digits, not all digits (the
# 09 of 财务公开2026.09 is part of the name).
EXTENSION = re.compile(r"\.(?![0-9]+$)[A-Za-z0-9]{1,5}$")


def typed_name(name: str, content_type: str) -> str:
    """A file's name ending as its stored type does: 报告.html holding a PDF is 报告.pdf, a photo sent as x.png and
    re-encoded is x.jpg (a PDF kept its uploaded extension, so a phone offered to open a download as a web page)."""
    suffix, already = SUFFIXES.get(content_type, ("", ()))
    if not suffix or name.lower().endswith(already):
        return name
    stem = EXTENSION.sub("", name) or "附件"
    return stem[: 200 - len(suffix)] + suffix
