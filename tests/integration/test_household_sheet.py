"""The 一户一码 label sheet: `ruralbrain households qr` prints one readable QR code per household (pages rendered
with pdfium, codes decoded with zxing-cpp), each opening its own household's page; printing again revokes the
earlier codes; `households revoke` gives one household a new code."""

from __future__ import annotations

import re
import stat
from datetime import UTC, datetime

import pypdfium2
import pytest
import zxingcpp
from click.testing import CliRunner
from reportlab.lib.pagesizes import A4
from sqlalchemy import insert, select

from etl.cli import main
from etl.demo.sample import BOARD_VILLAGE, build_sample
from etl.household_sheet import COLUMNS, MARGIN, write_sheet
from etl.warehouse.db import make_engine
from etl.warehouse.household_tokens import Household, household_of, village_households
from etl.warehouse.schema import household_tokens, households

pytestmark = pytest.mark.integration
BASE = "https://ruralbrain.example.gov.cn"
MORE = 30  # with the sample's two: three pages of twelve labels


def decoded(path) -> list[str]:
    """The text of every QR code on every page of a PDF, page by page."""
    document = pypdfium2.PdfDocument(str(path))
    try:
        found = []
        for page in document:
            image = page.render(scale=150 / 72).to_pil()
            found += [
                code.text for code in zxingcpp.read_barcodes(image) if code.format == zxingcpp.BarcodeFormat.QRCode
            ]
        return found
    finally:
        document.close()


@pytest.fixture(scope="module")
def village(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("sheet")
    settings = build_sample(var_dir)
    engine = make_engine(settings.warehouse_url)
    rows = [
        {
            "household_code": f"S{n:03d}",
            "region_code": BOARD_VILLAGE,
            "event_time": datetime(2024, 1, 1, tzinfo=UTC),
            "loaded_at": datetime(2024, 1, 1, tzinfo=UTC),
            "head_name": "欧阳小明",
            "door_plate": f"幸福路{n}号",
            "village_group": f"{n % 3 + 1}组",
        }
        for n in range(MORE)
    ]
    with engine.begin() as connection:
        connection.execute(insert(households), rows)
    return var_dir, engine


def run(var_dir, *arguments) -> str:
    result = CliRunner().invoke(main, list(arguments), env={"VAR_DIR": str(var_dir)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_sheet_has_one_readable_code_per_household_each_opening_its_own_page(village, tmp_path):
    var_dir, engine = village
    sheet = tmp_path / "labels.pdf"
    output = run(var_dir, "households", "qr", "--village", BOARD_VILLAGE, "--out", str(sheet), "--base-url", BASE)
    assert f"{MORE + 2} 户" in output and "3 页 A4" in output
    addresses = decoded(sheet)
    with engine.connect() as connection:
        expected = {household.code for household in village_households(connection, BOARD_VILLAGE)}
        opened = [household_of(connection, address.rsplit("/", 1)[1]) for address in addresses]
    assert all(address.startswith(f"{BASE}/h/") for address in addresses)
    assert len(addresses) == len(expected) == MORE + 2
    assert {found.code for found in opened if found} == expected  # one code per household, each its own
    page_text = pypdfium2.PdfDocument(str(sheet))[0].get_textpage().get_text_range()
    assert "复兴社区" in page_text and "欧**明" in page_text and "幸福路" in page_text and "欧阳小明" not in page_text

    again = tmp_path / "again.pdf"
    run(var_dir, "households", "qr", "--village", BOARD_VILLAGE, "--out", str(again), "--base-url", BASE)
    with engine.connect() as connection:
        assert household_of(connection, addresses[0].rsplit("/", 1)[1]) is None  # the earlier labels are void
    assert "各户都已有户码" in run(
        var_dir, "households", "qr", "--village", BOARD_VILLAGE, "--out", str(sheet), "--only-new", "--base-url", BASE
    )


def test_revoke_gives_one_household_a_new_code(village, tmp_path):
    var_dir, engine = village
    label = tmp_path / "one.pdf"
    output = run(var_dir, "households", "revoke", "S001", "--out", str(label), "--base-url", BASE)
    token = re.search(rf"{BASE}/h/([A-Za-z0-9_-]+)", output).group(1)
    (address,) = decoded(label)
    assert address == f"{BASE}/h/{token}"
    with engine.connect() as connection:
        assert household_of(connection, token).code == "S001"
    refused = CliRunner().invoke(main, ["households", "revoke", "NOBODY"], env={"VAR_DIR": str(var_dir)})
    assert refused.exit_code == 1 and "没有户码为 NOBODY 的住户" in refused.output
    path_only = run(var_dir, "households", "revoke", "S001")  # no label: the page's path, for the clerk to complete
    assert re.search(r"新地址（本平台地址之后的路径）：/h/[A-Za-z0-9_-]+$", path_only.strip())


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ([], "请用 --base-url 给出村民手机打开的地址"),
        (["--base-url", "https://"], "缺少主机名"),
        (["--base-url", "http://127.0.0.1:8050"], "应以 https:// 开头"),
        (["--base-url", "https://127.0.0.1:8050", "--allow-http"], "是本机地址"),
        (["--base-url", "https://localhost/"], "是本机地址"),
        (["--base-url", "https://[::1]"], "是本机地址"),
        (["--base-url", "https://rb.example.gov.cn:port"], "不是有效的地址"),
        (["--base-url", "https://rb.example.gov.cn/?x=1"], "只应包含协议、主机名、端口和路径"),
        (["--base-url", "ruralbrain.example.gov.cn"], "应以 https:// 开头"),
    ],
)
def test_labels_are_printed_only_for_an_address_phones_can_open(village, tmp_path, given, message):
    # Without --base-url the labels opened http://127.0.0.1:8050 (the server's own address) and https:// gave
    # https:/h/…: a village's labels to print again, its earlier ones already void.
    var_dir, engine = village
    sheet = tmp_path / "labels.pdf"
    with engine.connect() as connection:
        before = connection.execute(select(household_tokens)).all()
    for command in (["qr", "--village", BOARD_VILLAGE], ["revoke", "S002"]):
        refused = CliRunner().invoke(
            main, ["households", *command, "--out", str(sheet), *given], env={"VAR_DIR": str(var_dir)}
        )
        assert refused.exit_code == 1 and message in refused.output, refused.output
    assert not sheet.exists()
    with engine.connect() as connection:
        assert connection.execute(select(household_tokens)).all() == before  # no code voided nor issued


def test_plain_http_is_taken_only_when_asked_for(village, tmp_path):
    var_dir, _engine = village
    label = tmp_path / "one.pdf"
    run(
        var_dir,
        "households",
        "revoke",
        "S003",
        "--out",
        str(label),
        "--base-url",
        "http://10.1.2.3:8050/",
        "--allow-http",
    )
    (address,) = decoded(label)
    assert address.startswith("http://10.1.2.3:8050/h/")


def test_long_names_stay_inside_their_label_and_the_sheet_is_private(tmp_path):
    # drawCentredString never wraps nor shrinks: a long village name, 组 and 门牌 or head's name ran over the cut
    # lines into the neighbouring label; and the PDF, whose codes are live, was readable by everyone (0644).
    long = Household(
        "L001",
        BOARD_VILLAGE,
        "城关镇新农村建设示范区幸福里村民委员会",
        "阿卜杜热合曼·买买提艾力·吐尔逊" * 3,
        "幸福大道东段188号附3号院" * 3,
        "第十二村民小组",
    )
    sheet = tmp_path / "long.pdf"
    write_sheet(sheet, [(long, "T" * 22)], BASE)
    assert stat.S_IMODE(sheet.stat().st_mode) == 0o600
    document = pypdfium2.PdfDocument(str(sheet))
    try:
        text = document[0].get_textpage()
        boxes = [text.get_charbox(index) for index in range(text.count_chars())]
        written = text.get_text_range()
    finally:
        document.close()
    label_width = (A4[0] - 2 * MARGIN) / COLUMNS
    assert boxes and all(left >= MARGIN and right <= MARGIN + label_width for left, _bottom, right, _top in boxes)
    assert "城关镇新农村建设示范区幸福里村民委员会" in written and "第十二村民小组" in written
