"""Photos as hostile or broken phones send them, through the re-encoding every 诉求 photo and notice image takes:
malformed EXIF is no server error, a JPEG comment is metadata too, and a JPEG padded with thousands of scans is
refused before it is decoded."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from dashboard.household import uploads
from dashboard.household.uploads import Busy, draft_size, reencoded
from etl.warehouse.intake import IntakeError


def _jpeg(**save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), "orange").save(out, "JPEG", **save)
    return out.getvalue()


def test_a_photo_whose_exif_pillow_cannot_turn_upright_is_still_taken():
    # Orientation 6 with a tag of another type than Pillow's table gives it (cheap phones, editing apps): turning it
    # upright raised AttributeError, a 500 to the household, what it typed lost, every retry the same.
    entries = [(0x010F, 5, 1, struct.pack("<I", 38)), (0x0112, 3, 1, struct.pack("<HH", 6, 0))]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHI", t, k, n) + v for t, k, n, v in entries)
    exif = b"Exif\0\0II*\0" + struct.pack("<I", 8) + ifd + b"\0\0\0\0" + struct.pack("<II", 1, 2)
    stored = reencoded(_jpeg(exif=exif), "IMG_2001.jpg")
    with Image.open(io.BytesIO(stored.data)) as image:
        assert image.format == "JPEG" and not image.getexif()


def test_a_jpeg_comment_is_not_served_back():
    secret = b"GPS 30.86871N 119.92430E 13800001111"
    stored = reencoded(_jpeg(comment=secret), "IMG_1.jpg")
    assert secret not in stored.data
    with Image.open(io.BytesIO(stored.data)) as image:
        assert "comment" not in image.info


def _scans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each scan (SOS segment and its entropy-coded data) of a JPEG."""
    i, found = 2, []
    while data[i + 1] != 0xD9:
        end = i + 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
        if data[i + 1] == 0xDA:
            while data[end] != 0xFF or data[end + 1] == 0 or 0xD0 <= data[end + 1] <= 0xD7:
                end += 1
            found.append((i, end))
        i = end
    return found


def test_a_jpeg_padded_with_scans_is_refused_before_it_is_decoded():
    # A 6 MP progressive JPEG with its last scan repeated: 63 KB, every cap passed, 8 s of CPU to decode (an 8 MB one
    # would take half an hour). A camera's progressive JPEG has about ten scans.
    out = io.BytesIO()
    Image.new("L", (2500, 2500), 128).save(out, "JPEG", progressive=True, quality=50, optimize=True)
    honest = out.getvalue()
    assert reencoded(honest, "progressive.jpg").content_type == "image/jpeg"
    start, end = _scans(honest)[-1]
    padded = honest[:end] + honest[start:end] * ((63 * 1024 - len(honest)) // (end - start)) + honest[end:]
    with pytest.raises(IntakeError, match="扫描段过多"):  # counted from its markers, before any decoding
        reencoded(padded, "IMG_0001.jpg")


def test_a_phones_motion_photo_is_taken_whatever_its_video_holds():
    # Counted over the whole file, the scans of a motion photo included its appended video's bytes: a 7 MB photo
    # was refused as "not a camera's".
    out = io.BytesIO()
    Image.new("RGB", (800, 600), "green").save(out, "JPEG", progressive=True)
    video = b"\x00\x00\x00\x18ftypmp42" + b"\x17\xff\xda\x03" * 500  # a video whose bytes happen to hold the pair
    stored = reencoded(out.getvalue() + video, "MVIMG_0001.jpg")
    assert stored.content_type == "image/jpeg"


def test_a_big_jpeg_is_decoded_at_the_smallest_scale_that_still_gives_the_kept_size():
    # libjpeg scales by 1/2, 1/4 or 1/8 while it decodes: a 12 MP photo costs a quarter of the memory and half the CPU.
    assert draft_size(4000, 3000) == (1600, 1200)
    assert draft_size(3000, 4000) == (1200, 1600)
    assert draft_size(9000, 1000) == (1600, 178)
    assert draft_size(1600, 900) == (1600, 900) and draft_size(640, 480) == (640, 480)
    exif = Image.Exif()
    exif[0x0112] = 6  # taken with the phone upright: stored on its side
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), "orange").save(out, "JPEG", exif=exif.tobytes())
    with Image.open(io.BytesIO(reencoded(out.getvalue(), "IMG_3.jpg").data)) as image:
        assert image.size == (1200, 1600)


def test_a_worker_busy_decoding_tells_the_household_to_try_again(monkeypatch):
    monkeypatch.setattr(uploads, "DECODE_WAIT_SECONDS", 0.05)
    assert uploads._decoding.acquire(timeout=5)  # another household's photo being decoded
    try:
        with pytest.raises(Busy) as refused:
            reencoded(_jpeg(), "IMG_4.jpg")
        assert refused.value.status == 503 and "请稍等" in str(refused.value)
    finally:
        uploads._decoding.release()
    assert reencoded(_jpeg(), "IMG_4.jpg").content_type == "image/jpeg"
