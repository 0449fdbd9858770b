"""Stored XSS on /pilots: a programme whose name, pilot names and notes, milestone names and the county's reported
status notes and fund remarks carry HTML and script, imported and loaded through the demo's own report feeds, is
shown by a real Chromium (CSP enforced) as text: the matrix, the map's tooltips, the timeline and a pilot's drill.
Any script that runs (a dialog), any element the payloads would make, any CSP report fails the test."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from etl.dataset import BEIJING
from etl.demo.build import DEMO_DIR
from etl.demo.pilot_data import DEMO_PROGRAMME
from etl.demo.sample import build_sample
from etl.feeds import load_feeds
from etl.programmes.catalogue import load_programme
from etl.programmes.scoring import score_month
from etl.programmes.store import import_programme
from etl.runner import run_feed
from etl.warehouse.accounts import add_user
from etl.warehouse.db import make_engine
from tests.browser import test_xss
from tests.browser.conftest import serve
from tests.browser.test_xss import PAYLOADS, check
from tests.sessions import PASSWORD, browser_log_in

pytestmark = pytest.mark.browser
watched = test_xss.watched  # the XSS tests' page: CSP enforced, dialogs recorded
SCRIPT = "<script>alert(7)</script>"
NAME = "xss-pilots"  # a county leader: sees every pilot
# Every text field of the programme a page shows, each with a payload (within the catalogue's lengths).
PROGRAMME_NAME = f"{SCRIPT}试点（{PAYLOADS[3]}）"
TOWNSHIP = f"{PAYLOADS[0]}枣林镇"
VILLAGES = {"990101101201": f"{SCRIPT}马楼村", "990101101202": f"{PAYLOADS[1]}太和村"}
NOTES = [PAYLOADS[2], PAYLOADS[4], SCRIPT]
MILESTONES = [("select", f"{PAYLOADS[0]}确定对象"), ("plan", f"{SCRIPT}编制方案"), ("funds", PAYLOADS[5])]
STATUS_NOTE = f"{SCRIPT}{PAYLOADS[0]}进度说明"
FUND_NOTE = f"{PAYLOADS[1]}资金备注"


def _toml(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def write_programme(folder: Path) -> Path:
    """The demo programme's catalogue under hostile names: a township and two villages of 枣林镇, three milestones."""
    folder.mkdir(parents=True)
    shutil.copy(DEMO_PROGRAMME.parent / "xinzhou-2023" / "indicators.toml", folder / "indicators.toml")
    milestones = "".join(
        f"\n[[milestones]]\nid = {_toml(key)}\nname = {_toml(name)}\nmonth = {month}\n"
        for month, (key, name) in enumerate(MILESTONES)
    )
    (folder / "programme.toml").write_text(
        f'id = "demo"\nname = {_toml(PROGRAMME_NAME)}\nregion = "990101"\nfunds_per_pilot = 45\nstart = -1\n'
        f'pilots = "pilots.toml"\nindicators = "indicators.toml"\n{milestones}',
        encoding="utf-8",
    )
    pilots = [
        f'[[pilots]]\nkind = "township"\ncounty = "示范县"\ntownship = {_toml(TOWNSHIP)}\ncode = "990101101000"\n'
        f"note = {_toml(NOTES[0])}\n"
    ] + [
        f'[[pilots]]\nkind = "village"\ncounty = "示范县"\ntownship = "枣林镇"\nvillage = {_toml(village)}\n'
        f'code = "{code}"\nnote = {_toml(note)}\n'
        for (code, village), note in zip(VILLAGES.items(), NOTES[1:], strict=True)
    ]
    (folder / "pilots.toml").write_text("\n".join(pilots), encoding="utf-8")
    return folder


def _drop(folder: Path, header: list[str], rows: list[list]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "hostile.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])


@pytest.fixture(scope="module")
def hostile_pilots(tmp_path_factory):
    """The sample county with the hostile programme imported, its status and funds reported through the demo's
    feeds and scored for this month, served by gunicorn for a county leader."""
    var_dir = tmp_path_factory.mktemp("pilots-xss")
    settings = build_sample(var_dir)
    now = datetime.now(UTC)
    programme = load_programme(write_programme(var_dir / "programme"), today=now.astimezone(BEIJING).date())
    month, filed = f"{now.astimezone(BEIJING):%Y-%m}", (now - timedelta(hours=1)).isoformat()
    codes = ["990101101000", *VILLAGES]
    _drop(
        var_dir / "drops" / "pilot_status",
        ["试点编号", "区划代码", "填报日期", "里程碑", "所属月份", "进度", "备注"],
        # By the milestones' ids (a report may name either; a name of 42 characters exceeds the column's 32).
        [[code, code, filed, key, month, "进行中", STATUS_NOTE] for code in codes for key, _name in MILESTONES],
    )
    _drop(
        var_dir / "drops" / "pilot_funds",
        ["试点编号", "区划代码", "填报日期", "所属月份", "下达资金(万元)", "已拨付(万元)", "已支出(万元)", "备注"],
        [[code, code, filed, month, 45, 20, 10, FUND_NOTE] for code in codes],
    )
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        import_programme(connection, programme, now)
    feeds = load_feeds(DEMO_DIR / "feeds.toml", {"var_dir": str(var_dir), "sim_port": "0"})
    for name in ("pilot_status", "pilot_funds"):
        counts = run_feed(engine, feeds[name], now=lambda: now).counts
        assert counts.loaded == counts.rows_in > 0, (name, counts)  # every hostile note stored as written
    with engine.begin() as connection:
        score_month(connection, "demo", now=now)
        add_user(connection, NAME, "county", "990101000000", password=PASSWORD)
    engine.dispose()
    process, base = serve(var_dir, {"COOKIE_SECURE": "false"})
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_every_hostile_text_of_a_programme_is_text_on_pilots_and_in_a_drill(hostile_pilots, watched):
    page = watched
    browser_log_in(page, hostile_pilots, NAME, "/pilots")
    page.errors.clear()  # the login page has no icon: Chromium's /favicon.ico is a 404 before the page
    page.wait_for_selector("#pilots-timeline-table")
    page.wait_for_selector("#pilots-map path.leaflet-interactive")
    shown = page.inner_text("body")
    assert PROGRAMME_NAME in shown
    for text in [TOWNSHIP, *(f"枣林镇{village}" for village in VILLAGES.values()), *(name for _, name in MILESTONES)]:
        assert text in shown, text
    # The reported notes are the timeline cells' tooltips (an attribute: never parsed).
    titles = page.eval_on_selector_all("#pilots-timeline-table td[title]", "cells => cells.map(c => c.title)")
    assert titles and all(STATUS_NOTE in title for title in titles)
    circles = page.locator("#pilots-map .leaflet-pilots-pane path")
    assert circles.count() == 3
    tooltips = set()
    for index in range(circles.count()):
        circles.nth(index).dispatch_event("mouseover")  # what Leaflet listens to: the tooltip, a pilot's name
        page.wait_for_timeout(50)
        tooltips |= set(page.locator(".leaflet-tooltip").all_inner_texts())
    assert any(TOWNSHIP in text for text in tooltips) and any(SCRIPT in text for text in tooltips)
    check(page, "/pilots")

    # A pilot's drill: its name and its note (after the resolution's own) in the head, the milestones' names.
    village = next(iter(VILLAGES.values()))
    page.click(f"#pilots-matrix-village a:has-text('{village}')")
    page.wait_for_url("**pilot=990101101201**")
    page.wait_for_selector("#pilots-items-table")
    drill = page.inner_text("body")
    assert f"枣林镇{village}" in drill and NOTES[1] in drill
    check(page, "/pilots drill")
