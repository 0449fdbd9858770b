"""The household's pages as a phone shows them: a 说明 or notice keeps its line breaks and wraps a long address
instead of widening the page; a refused 诉求 keeps what was typed; the addresses a refused form leaves in the bar
lead back to the page; an attachment downloads under the suffix of what it is."""

from __future__ import annotations

import io
import re
import secrets
from urllib.parse import unquote

import pytest
from sqlalchemy import select, update

from dashboard.household.uploads import PHOTO_BYTES
from etl.demo.sample import BOARD_VILLAGE, build_sample
from etl.runner import run_feed
from etl.warehouse import intake_cases, intake_notices
from etl.warehouse.accounts import add_user
from etl.warehouse.db import make_engine
from etl.warehouse.intake import Limits
from etl.warehouse.schema import intake_files
from etl.warehouse.settings import Settings
from tests.household_fixtures import coded, intake_feeds, jpeg
from tests.integration.test_households import _app, send, texts
from tests.sessions import HTTPS, PASSWORD, csrf_of, logged_in

pytestmark = pytest.mark.integration
HOUSEHOLD = "H000"
LONG_ADDRESS = "https://example.com/" + "a" * 120


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample county on SQLite with a clerk of the board's village."""
    var_dir = tmp_path_factory.mktemp("household-pages")
    settings = build_sample(var_dir)
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "cun", "village", BOARD_VILLAGE, password=PASSWORD)
    return var_dir, engine, intake_feeds(var_dir, settings.warehouse_url)


@pytest.fixture(scope="module")
def app(sample):
    var_dir, _engine, _feeds = sample
    return _app(var_dir, household_writes_per_hour=1000)


def wrapped(html: str, text: str) -> bool:
    """Whether ``text`` stands in an element of class text, whose rule keeps line breaks and breaks a long word."""
    rule = ".text{white-space:pre-wrap;overflow-wrap:anywhere}" in html
    return rule and re.search(rf'class="text">[^<]*{re.escape(text)}', html) is not None


def test_a_text_keeps_its_line_breaks_and_wraps_a_long_address(sample, app):
    var_dir, engine, feeds = sample
    found, token = coded(engine, HOUSEHOLD)
    settings = Settings.load(var_dir=str(var_dir))
    text = f"第一行：村口路灯坏了\n第二行：详见 {LONG_ADDRESS}"
    form = {"topic": "roads", "text": text, "phone": "", "key": secrets.token_hex(16)}
    case_id, _ = intake_cases.submit(
        engine, found, form, photo=None, uploads_dir=settings.uploads_dir, address=None, limits=Limits()
    )
    client = app.server.test_client()
    assert wrapped(client.get(f"{HTTPS}/h/{token}/cases/{case_id}").get_data(as_text=True), text)
    body = f"一、收入\n1. 土地流转费 52,000.00 元\n详见 {LONG_ADDRESS}"
    notice = {"kind": "village_affairs", "title": "收支明细", "body": body}
    intake_notices.publish(engine, BOARD_VILLAGE, notice, [], uploads_dir=settings.uploads_dir, author="cun")
    run_feed(engine, feeds["office_notices"])
    assert wrapped(client.get(f"{HTTPS}/h/{token}").get_data(as_text=True), body)


def test_a_refused_submission_keeps_what_was_typed(sample, app):
    var_dir, engine, _feeds = sample
    _household, token = coded(engine, HOUSEHOLD)
    typed = "桥塌了一半，请尽快处理（打了很久的字）"
    large = jpeg() + b"\0" * PHOTO_BYTES  # over the photo's cap, within the route's body cap
    answer = send(app.server.test_client(), token, text=typed, photo=large)
    assert answer.status_code == 413 and "照片超过 8 MB" in texts(answer) and "请重新选择照片" in texts(answer)
    assert re.search(rf"<textarea[^>]*>{typed}</textarea>", answer.get_data(as_text=True))
    limited = send(_app(var_dir, household_writes_per_hour=0).server.test_client(), token, text=typed)
    assert limited.status_code == 429 and "本户一小时内已提交 0 次" in texts(limited)
    assert re.search(rf"<textarea[^>]*>{typed}</textarea>", limited.get_data(as_text=True))
    assert 'name="csrf_token"' in limited.get_data(as_text=True)  # a form to send again, not a dead end


def test_the_addresses_a_refused_form_leaves_lead_back_to_the_page(sample, app):
    _var, engine, _feeds = sample
    _household, token = coded(engine, HOUSEHOLD)
    client = app.server.test_client()
    redeem = client.get(f"{HTTPS}/h/{token}/redemptions")
    assert redeem.status_code == 303 and redeem.headers["Location"] == f"/h/{token}#redeem"
    rating = client.get(f"{HTTPS}/h/{token}/cases/QR20261208-00000000/rating")
    assert rating.status_code == 303 and rating.headers["Location"] == f"/h/{token}/cases/QR20261208-00000000"


def download_name(answer) -> str:
    """The file name a download is offered under."""
    disposition = answer.headers["Content-Disposition"]
    return unquote(re.search(r"filename\*=UTF-8''([^;]+)", disposition).group(1))


def test_an_attachment_downloads_under_the_suffix_of_what_it_is(sample, app):
    _var, engine, _feeds = sample
    _household, token = coded(engine, HOUSEHOLD)
    clerk = logged_in(app, "cun")
    data = {
        "csrf_token": csrf_of(clerk, "/office/notices"),
        "kind": "village_affairs",
        "title": "附件后缀",
        "files": [
            (io.BytesIO(b"%PDF-1.4\n<html><script>alert(1)</script>"), "报告.html"),
            (io.BytesIO(jpeg()), "现场.png"),
        ],
    }
    answer = clerk.post(f"{HTTPS}/office/notices", data=data, content_type="multipart/form-data")
    assert answer.status_code == 200 and "已发布" in texts(answer)
    with engine.connect() as connection:
        rows = connection.execute(
            select(intake_files.c.file_id, intake_files.c.name, intake_files.c.content_type)
        ).all()
    stored = {row.name: row.file_id for row in rows}
    assert {"报告.pdf", "现场.jpg"} <= set(stored)
    client = app.server.test_client()
    pdf = client.get(f"{HTTPS}/h/{token}/files/{stored['报告.pdf']}")
    assert "attachment" in pdf.headers["Content-Disposition"] and download_name(pdf) == "报告.pdf"
    with engine.begin() as connection:  # a file stored before names took their type
        connection.execute(
            update(intake_files).where(intake_files.c.file_id == stored["报告.pdf"]).values(name="旧报告.html")
        )
    assert download_name(client.get(f"{HTTPS}/h/{token}/files/{stored['报告.pdf']}")) == "旧报告.pdf"
