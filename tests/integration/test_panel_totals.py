"""The county screen's numbers add up where a person reads them side by side, on the rendered content of the sample
with more kinds of incidents than the 安全数字化 panel has rows and a tonnage with a fraction: the panel's 治安事件 is
the sum of its bars, and 今日清运 reads the same in the title strip as in 人居环境数字化."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.app import create_app
from dashboard.county_content import profile_panels, screen_content
from etl.demo.sample import COUNTY, VILLAGES, build_sample
from etl.feeds import load_feeds
from etl.runner import run_feed
from layouts.profiles import profiles

pytestmark = pytest.mark.integration

# Incidents of kinds the sample has none of, a minute or more ago: with the sample's 盗窃, 纠纷 and 火情 (two each),
# six kinds this month, more than the panel's three rows.
INCIDENTS = {"交通事故": 3, "邻里纠纷": 2, "走失": 1}
TONNES = 0.6  # one more trip today: with the sample's four of 1.5 t, 6.6 t


def _drop(var_dir, feed: str, header: list[str], rows: list[list], engine) -> None:
    """Rows through one of the sample's file-drop feeds, as a county's file would arrive."""
    folder = var_dir / "drops" / feed
    with open(folder / "totals.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    report = run_feed(engine, load_feeds(var_dir / "screen-feeds.toml", {"var_dir": str(var_dir)})[feed])
    assert report.counts.loaded == len(rows), report.issues


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    """The county's content as the 1080p screen shows it, after the drops above."""
    var_dir = tmp_path_factory.mktemp("totals")
    app = create_app(build_sample(var_dir))
    engine = app.server.config["RURALBRAIN_ENGINE"]
    now = datetime.now(UTC)

    def ago(minutes: float) -> str:
        return (now - timedelta(minutes=minutes)).isoformat()

    kinds = [kind for kind, times in INCIDENTS.items() for _ in range(times)]
    incidents = [[f"TI{i}", VILLAGES[i % 4], ago(1 + i), kind, "已处理"] for i, kind in enumerate(kinds)]
    _drop(var_dir, "incidents", ["id", "village", "time", "kind", "status"], incidents, engine)
    trip = ["TW1", VILLAGES[1], ago(1), TONNES, 0.8]
    _drop(var_dir, "waste", ["id", "village", "time", "t", "share"], [trip], engine)
    names = profile_panels(profiles()["county-1080p"])
    return screen_content.uncached(engine, COUNTY, COUNTY, names, "now", ())


def _nodes(nodes, kind: str) -> list[list]:
    """The compact nodes (dashboard/plain.py) of one class, anywhere under ``nodes``, in order."""
    found = []
    for node in nodes:
        if isinstance(node, list) and node and isinstance(node[0], str):
            if kind in node[0].split(".")[1:]:
                found.append(node)
            found += _nodes(node[1:], kind)
    return found


def _text(node) -> str:
    """The text of a compact node and its children, joined."""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "".join(_text(child) for child in node[1:] if not isinstance(child, dict))
    return ""


def _amount(text: str) -> float:
    """The number in a shown text (separators and units left aside)."""
    return float(re.search(r"-?[\d,]+(?:\.\d+)?", text)[0].replace(",", ""))


def _stat(body: list, label: str) -> str:
    """The number a panel shows under one of its stat labels, without its unit."""
    stats = [s for s in _nodes(body, "stat") if _text(_nodes([s], "stat-label")[0]) == label]
    assert len(stats) == 1, [_text(s) for s in _nodes(body, "stat")]
    value = _nodes(stats, "stat-value")[0]
    return "".join(_text(child) for child in value[1:] if isinstance(child, str))


def test_the_security_panels_bars_add_up_to_its_incident_count(content):
    body = content["panels"]["security"]["body"]
    rows = [(_text(_nodes([r], "bar-label")[0]), _text(_nodes([r], "bar-value")[0])) for r in _nodes(body, "bar-row")]
    shown = _stat(body, "治安事件")
    assert sum(_amount(value) for _, value in rows) == _amount(shown), (shown, rows)
    # Six kinds on three rows: the two largest, then the rest as 其他 with their count.
    assert len(rows) == 3 and rows[-1][0] == "其他", rows
    assert _amount(rows[0][1]) >= _amount(rows[1][1]) and rows[0][0] == "交通事故", rows


def test_todays_tonnage_reads_the_same_in_the_title_strip_and_the_environment_panel(content):
    strip = re.search(r"今日清运([\d,.]+)吨", _text(["div", *content["kpis"]]))
    assert strip, _text(["div", *content["kpis"]])
    panel = _stat(content["panels"]["environment"]["body"], "今日清运")
    assert strip[1] == panel, (strip[1], panel)
    assert panel == "6.6", panel  # the fraction of a tonne shown, not rounded away
