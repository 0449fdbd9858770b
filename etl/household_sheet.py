"""The 一户一码 label sheets: A4 pages of labels (village, 组 and 门牌, the masked head of household, the QR code of
the household's page) for the village committee to cut and hand out. reportlab draws the text with its built-in
CJK font (no font file) and the QR codes as vector runs of modules, so they print sharp at any size."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from etl.warehouse.household_tokens import Household

FONT = "STSong-Light"  # one of reportlab's Adobe CJK fonts: the PDF names it, readers supply it
COLUMNS, ROWS = 3, 4
MARGIN = 10 * mm
QR_SIDE = 40 * mm
QUIET = 4  # modules of white around a code, as the standard asks for reliable scanning
PADDING = 3 * mm  # text keeps this far from a label's cut lines
# A line of a label shrinks to fit its width down to SMALLEST points, then takes two lines of at most that size, then
# shrinks further down to TINIEST (two lines of 4.5 pt hold 70 characters), and only beyond that is cut short with …
SMALLEST, TINIEST = 6.0, 4.5
LEADING = 1.3  # baseline to baseline, in sizes of the larger of two lines: the labels' spacing before text could wrap


def masked(name: str | None) -> str:
    """A head of household's name as a label shows it: 李娜 → 李*, 王建国 → 王*国."""
    name = (name or "").strip()
    return name if len(name) < 2 else name[0] + "*" * max(1, len(name) - 2) + (name[-1] if len(name) > 2 else "")


def page_address(base_url: str, token: str) -> str:
    """The address a household's code opens."""
    return f"{base_url.rstrip('/')}/h/{token}"


def matrix(text: str) -> tuple[bytearray, ...]:
    """The modules of a QR code of ``text`` (error correction M, the mask the standard's evaluation picks)."""
    return segno.make(text, error="m", micro=False).matrix


def _matrices(texts: list[str]) -> list[tuple[bytearray, ...]]:
    """The codes of many texts, on every core: segno's mask evaluation (pure Python) is most of a sheet's time."""
    if len(texts) < 50 or (os.cpu_count() or 1) < 2:
        return [matrix(text) for text in texts]
    with ProcessPoolExecutor() as pool:
        return list(pool.map(matrix, texts, chunksize=25))


def _qr(canvas: Canvas, matrix: tuple[bytearray, ...], x: float, y: float, side: float) -> None:
    """A QR code with its lower-left corner at (x, y): one rectangle per run of dark modules."""
    count = len(matrix) + 2 * QUIET
    module = side / count
    path = canvas.beginPath()
    for row_number, row in enumerate(matrix):
        top = y + side - (row_number + QUIET + 1) * module
        start = None
        for column, dark in enumerate([*row, 0]):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                path.rect(x + (start + QUIET) * module, top, (column - start) * module, module)
                start = None
    canvas.drawPath(path, stroke=0, fill=1)


def _width(text: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, FONT, size)


def _split(text: str) -> tuple[str, str]:
    """Two lines of a text as even as can be, broken at a space (dropped) or between characters, rather not inside a
    run of Latin letters or digits (188号, 阿卜杜热合曼·买买提)."""

    def latin(char: str) -> bool:
        return char.isascii() and char.isalnum()

    def cost(cut: int) -> tuple[bool, float]:
        inside_word = latin(text[cut - 1]) and latin(text[cut])
        return inside_word, max(_width(text[:cut], 10), _width(text[cut:].removeprefix(" "), 10))

    cut = min(range(1, len(text)), key=cost)
    return text[:cut].rstrip(), text[cut:].lstrip()


def fitted(text: str, size: float, room: float) -> tuple[float, list[str]]:
    """The size and lines a label's text takes to fit ``room`` wide: its own size, smaller, two lines, or cut short
    (reportlab's drawCentredString never wraps nor shrinks: long names ran over the cut lines into the next label)."""
    one = min(size, size * room / max(_width(text, size), 1e-6))
    if one >= SMALLEST or len(text) < 2:
        return one, [text]
    lines = list(_split(text))
    longest = max(_width(line, 1) for line in lines)
    two = min(SMALLEST, room / longest)
    if two >= TINIEST:
        return two, lines
    first = lines[0]
    while _width(first, TINIEST) > room:
        first = first[:-1]
    rest = text[len(first) :].lstrip()
    while _width(rest + "…", TINIEST) > room:
        rest = rest[:-1]
    return TINIEST, [first, rest + "…"]


def _label(canvas: Canvas, household: Household, code, x: float, y: float, width: float, height: float) -> None:
    canvas.setStrokeColorRGB(0.75, 0.75, 0.75)
    canvas.setDash(2, 2)
    canvas.rect(x, y, width, height, stroke=1, fill=0)  # where to cut
    centre = x + width / 2
    room = width - 2 * PADDING
    place = " ".join(part for part in (household.group, household.door_plate) if part) or "门牌未登记"
    texts = [(household.village_name, 13), (place, 11), (f"户主 {masked(household.head_name) or '—'}", 10)]
    lines = [(size, line) for text, wanted in texts for size, some in [fitted(text, wanted, room)] for line in some]
    # Laid out upwards from the last line, just above the code, so that a wrapped line takes room above it.
    baseline = y + 9 * mm + QR_SIDE + 1.25 * mm
    below = None
    placed = []
    for size, line in reversed(lines):
        if below is not None:
            baseline += LEADING * max(size, below)
        placed.append((size, line, baseline))
        below = size
    for size, line, at in placed:
        canvas.setFont(FONT, size)
        canvas.drawCentredString(centre, at, line)
    _qr(canvas, code, centre - QR_SIDE / 2, y + 9 * mm, QR_SIDE)
    canvas.setFont(FONT, 8)
    canvas.drawCentredString(centre, y + 5 * mm, "一户一码 · 扫码反映诉求、查积分、看村务")
    canvas.drawCentredString(centre, y + 2 * mm, "请妥善保管，丢失请到村委会换码")


def write_sheet(path: str | Path, labels: list[tuple[Household, str]], base_url: str) -> int:
    """Write the labels (household, token) as A4 pages to ``path`` (whole or not at all); the number of pages."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    path = Path(path)
    partial = path.with_name(f".{path.name}.part")
    # Only its owner may read the sheet: its codes open the households' pages (it was written 0644, as umask gave).
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # a part left by an earlier run keeps its old mode through O_CREAT
    try:
        with os.fdopen(descriptor, "wb") as file:
            pages = _draw(file, labels, base_url)
    except BaseException:
        partial.unlink(missing_ok=True)  # live codes in a half-written file nobody will print
        raise
    os.replace(partial, path)
    return pages


def _draw(file, labels: list[tuple[Household, str]], base_url: str) -> int:
    """Draw the labels as A4 pages into an open file; the number of pages."""
    canvas = Canvas(file, pagesize=A4, pageCompression=1)
    canvas.setTitle("一户一码")
    page_width, page_height = A4
    width = (page_width - 2 * MARGIN) / COLUMNS
    height = (page_height - 2 * MARGIN) / ROWS
    per_page = COLUMNS * ROWS
    pages = 0
    codes = _matrices([page_address(base_url, token) for _household, token in labels])
    for index, ((household, _token), code) in enumerate(zip(labels, codes, strict=True)):
        place = index % per_page
        if place == 0 and index:
            canvas.showPage()
        column, row = place % COLUMNS, place // COLUMNS
        x = MARGIN + column * width
        y = page_height - MARGIN - (row + 1) * height
        _label(canvas, household, code, x, y, width, height)
        pages = index // per_page + 1
    canvas.save()
    return pages
