"""预警处置 (/alerts) keeps the filter it lists by: the form opened from an address with a 级别 and a 区划 shows them
(so 筛选 pressed again lists the same rows), the 未消除 and 全部 links keep them, and a value from the address that
is not a level or a code of the viewer's scope is shown nowhere (the address is anyone's to write)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard.app import create_app
from etl.demo.sample import COUNTY, TOWNSHIP, VILLAGES, build_sample
from etl.warehouse.accounts import add_user
from etl.warehouse.db import make_engine
from etl.warehouse.settings import Settings
from tests.alert_county import open_alert
from tests.sessions import HTTPS, PASSWORD, logged_in

pytestmark = pytest.mark.integration
HOSTILE = '"><script>alert(1)</script>'


class Form(HTMLParser):
    """What a browser would show of /alerts' form and links: the 级别 options, the 区划代码 box and the hidden state,
    the links by their text."""

    def __init__(self, html: str):
        super().__init__()
        self.options, self.inputs, self.links = {}, {}, {}
        self._select, self._option, self._link = None, None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "select":
            self._select = found.get("name")
        elif tag == "option" and self._select == "severity":
            self._option = (found.get("value"), "selected" in found)
        elif tag == "input" and found.get("name") in ("region", "state"):
            self.inputs[found["name"]] = found.get("value", "")
        elif tag == "a":
            self._link = found.get("href")

    def handle_data(self, data):
        if self._option is not None:
            self.options[data] = self._option
            self._option = None
        if self._link is not None and data.strip():
            self.links[data.strip()] = self._link
            self._link = None

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "a":
            self._link = None

    def chosen(self) -> str:
        """The text of the 级别 option the browser shows: the one marked selected, else the first."""
        marked = [text for text, (_value, selected) in self.options.items() if selected]
        return marked[0] if marked else next(iter(self.options))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """An admin of the sample county, logged in, with alerts of two levels in two townships."""
    var_dir = tmp_path_factory.mktemp("alerts-filters")
    settings = build_sample(var_dir)
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "guan", "admin", COUNTY, password=PASSWORD)
        open_alert(connection, VILLAGES[0], "城关重要", "major")
        open_alert(connection, VILLAGES[0], "城关提示", "warning")
        open_alert(connection, VILLAGES[2], "枣林重要", "major")
    yield logged_in(create_app(Settings.load(var_dir=str(var_dir))), "guan")
    engine.dispose()


def _page(client, address: str) -> tuple[str, Form]:
    answer = client.get(f"{HTTPS}{address}")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    html = answer.get_data(as_text=True)
    return html, Form(html)


def test_the_form_shows_the_filter_the_list_is_made_by(client):
    html, form = _page(client, f"/alerts?severity=major&region={TOWNSHIP}&state=all")
    assert "城关重要" in html and "城关提示" not in html and "枣林重要" not in html
    assert form.chosen() == "重要"
    assert form.inputs == {"region": TOWNSHIP, "state": "all"}
    # 筛选 pressed again sends what the form holds: the same list.
    again = {"severity": form.options[form.chosen()][0], **form.inputs}
    assert again == {"severity": "major", "region": TOWNSHIP, "state": "all"}


def test_the_state_links_keep_the_other_filters(client):
    _html, form = _page(client, f"/alerts?severity=major&region={TOWNSHIP}")
    for text, state in (("未消除", ["open"]), ("全部", ["all"])):
        query = parse_qs(urlsplit(form.links[text]).query)
        assert query.get("severity") == ["major"] and query.get("region") == [TOWNSHIP], (text, form.links[text])
        assert query.get("state", ["open"]) == state, (text, form.links[text])
    following = client.get(f"{HTTPS}{form.links['全部']}").get_data(as_text=True)
    assert "城关重要" in following and "城关提示" not in following and "枣林重要" not in following


def test_without_a_filter_the_form_is_empty(client):
    html, form = _page(client, "/alerts")
    assert all(name in html for name in ("城关重要", "城关提示", "枣林重要"))
    assert form.chosen() == "全部" and form.inputs == {"region": "", "state": "open"}
    assert parse_qs(urlsplit(form.links["全部"]).query) == {"state": ["all"]}


def test_values_from_the_address_that_are_not_filters_are_not_shown(client):
    html, form = _page(client, f"/alerts?severity={HOSTILE}&region={HOSTILE}&state={HOSTILE}")
    assert "<script>alert(1)" not in html and "alert(1)" not in html
    assert form.chosen() == "全部" and form.inputs == {"region": "", "state": "open"}
    assert all("alert(1)" not in link for link in form.links.values())
    assert all(name in html for name in ("城关重要", "城关提示", "枣林重要"))  # no filter: everything listed
