"""Phone and ID numbers in every format (tests/privacy_formats.py) put in every free-text field of the sample
county (case titles and reporters, device ids, notices, finance lines, publicity, households' heads, incident
kinds, stop names, routes, weather, services' labels): every page and every callback response is read by the
tests' own detector, and none of them shows a number whole. No reporter's name appears next to a case."""

from __future__ import annotations

import contextlib
import re

import pytest

from etl.demo.sample import BOARD_VILLAGE, TOWNSHIP
from tests.browser.conftest import serve
from tests.hostile_county import STOP, build_hostile
from tests.privacy_formats import FORMATS, leaks, response_leaks
from tests.sessions import add_admin, browser_log_in

pytestmark = pytest.mark.browser
TEXTS = [written for written, _digits in FORMATS]
PAGES = [
    ("/screen/county?refresh=1", "#ticker span"),
    (f"/screen/county?region={TOWNSHIP}&refresh=1", "#ticker span"),
    (f"/screen/county?region={BOARD_VILLAGE}&refresh=1", "#ticker span"),
    (f"/board/{BOARD_VILLAGE}?refresh=1&rotate=0.5", ".slide.active"),
    (f"/stop/{STOP}?refresh=1&rotate=0.5", ".bus"),
    ("/stop/S01?refresh=1", ".stop-header"),
    (f"/?region={BOARD_VILLAGE}", "#region-info h3"),
    ("/ops/screens", ".ops table"),
]


@pytest.fixture(scope="module")
def numbers_server(tmp_path_factory):
    """The sample county with every format in every free-text field, served by gunicorn."""
    var_dir = tmp_path_factory.mktemp("masking-var")
    settings = build_hostile(var_dir, TEXTS)
    add_admin(var_dir)  # for the ops page
    process, base = serve(var_dir, {"SERVICES_FILE": settings.services_file})
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.parametrize(("address", "ready"), PAGES)
def test_no_page_or_callback_shows_a_number_whole(page, numbers_server, address, ready):
    bodies = []

    def keep(response):
        if response.request.resource_type in ("document", "xhr", "fetch"):
            with contextlib.suppress(Exception):  # redirects and aborted requests have no body
                bodies.append((response.url, response.text()))

    if address == "/ops/screens":  # an admin's page
        browser_log_in(page, numbers_server, "yunwei", address)
    page.on("response", keep)
    page.goto(numbers_server + address)
    page.wait_for_selector(ready)
    page.wait_for_timeout(2500)  # refresh callbacks answer, slides and publicity rotate
    callbacks = [url for url, _body in bodies if "_dash-update-component" in url]
    assert callbacks  # the page's own content (Dash's page router), and refreshes on kiosk pages
    for url, body in bodies:
        assert response_leaks(body) == [], f"{address}: {url} shows {response_leaks(body)}"
    visible = page.locator("body").inner_text()
    assert leaks(visible) == [], f"{address} shows {leaks(visible)}"
    assert page.errors == []


def test_the_numbers_are_there_masked_and_no_reporter_is_named(page, numbers_server):
    page.goto(f"{numbers_server}/screen/county?region={BOARD_VILLAGE}")
    page.wait_for_selector("#ticker span")
    ticker = page.locator("#ticker").text_content()
    assert "138****0001" in ticker and "0572-****0017" in ticker and "330522********0291" in ticker
    # Reporters are names here made of the numbers: a case line never names them, masked or not.
    assert "1*" not in ticker and "(*" not in ticker
    page.goto(f"{numbers_server}/board/{BOARD_VILLAGE}")
    page.wait_for_selector(".ledger")
    ledger = page.locator(".ledger").text_content()
    # The lines the slide holds (the newest) show their numbers masked, amounts whole.
    assert re.search(r"138\*{4}\d{4}", ledger) and re.search(r"0572-\*{4}\d{4}", ledger) and "26,268.75元" in ledger
    assert "其余" in ledger  # more lines than the slide holds: the rest in one sum, none shown whole
