"""What the screens say is true, on the hand-checkable sample: a quiet village is not late data and reference data
is never stale, a board's points total is the sum of its list with one line per household, the village ranking
never shows a negative, air and forecasts come from the nearest region above that has them (and say so), a wrong
address is an error (404 for no page), and the ops page tells which screens show errors, in local time."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime, timedelta

import dash
import pytest
from sqlalchemy import update

from dashboard.app import create_app
from dashboard.board_queries import feed_freshness
from dashboard.county_content import screen_content
from dashboard.freshness import REFERENCE, freshness_label
from dashboard.panels import Window, number, panels
from dashboard.plain import plain
from dashboard.regions import get_region
from dashboard.slides import Context, slides
from etl.datasets import datasets
from etl.demo.sample import BOARD_VILLAGE, VILLAGES, build_sample
from etl.feeds import load_feeds
from etl.runner import run_feed
from etl.warehouse.schema import screen_heartbeats
from etl.warehouse.screens import register
from tests.dash_requests import page

pytestmark = pytest.mark.integration

QUIET = "990101001003"  # 康宁社区: a village of the sample's first township where nothing ever happened
TOWNSHIP = BOARD_VILLAGE[:9] + "000"  # 城关街道


def _drop(var_dir, feed: str, header: list[str], rows: list[list], engine) -> None:
    """Rows through one of the sample's file-drop feeds, as a county's file would arrive."""
    folder = var_dir / "drops" / feed
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"extra-{len(list(folder.iterdir()))}.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    report = run_feed(engine, load_feeds(var_dir / "screen-feeds.toml", {"var_dir": str(var_dir)})[feed])
    assert report.counts.quarantined == 0, report.issues


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample served by an app, with a case received just now in its first village, the households 王建国 and
    王振国 (both 王*国 masked) earning points in the board's village, and a village that only redeemed points."""
    var_dir = tmp_path_factory.mktemp("honest")
    app = create_app(build_sample(var_dir))
    engine = app.server.config["RURALBRAIN_ENGINE"]
    now = datetime.now(UTC)
    _drop(
        var_dir,
        "cases",
        ["事件编号", "村代码", "受理时间", "类别", "模块", "状态", "办结时间", "期限", "满意度", "评价时间", "标题"]
        + ["反映人", "联系电话"],
        [
            ["NOW1", VILLAGES[0], (now - timedelta(minutes=1)).isoformat(), "请求", "综合", "受理"]
            + [""] * 4
            + ["路灯不亮", "", ""]
        ],
        engine,
    )
    _drop(
        var_dir,
        "households",
        ["户码", "村代码", "登记日期", "户主", "电话"],
        [["WJG1", BOARD_VILLAGE, "2023-06-01", "王建国", ""], ["WZG2", BOARD_VILLAGE, "2023-06-01", "王振国", ""]],
        engine,
    )
    earlier = (now - timedelta(hours=2)).isoformat()
    _drop(
        var_dir,
        "points",
        ["id", "户码", "村代码", "时间", "来源", "积分"],
        [
            ["HN1", "WJG1", BOARD_VILLAGE, earlier, "志愿服务", 30],
            ["HN2", "WZG2", BOARD_VILLAGE, earlier, "垃圾分类", 12],
            ["HN3", "H000", BOARD_VILLAGE, earlier, "兑换", -50],  # 李娜 spends points
            ["HN4", "H003", VILLAGES[3], earlier, "兑换", -400],  # a village that only spent points lately
        ],
        engine,
    )
    with app.server.app_context():
        yield app, engine, var_dir, now


def _texts(tree) -> list[str]:
    """Every text of a component tree, in order."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            walk(node.get("props", {}).get("children"))
        elif isinstance(node, list):
            for child in node:
                walk(child)
        elif node is not None:
            found.append(str(node))

    walk(plain(tree))
    return found


def test_a_quiet_village_is_not_late_data_and_a_stopped_feed_is(sample):
    app, engine, _var_dir, now = sample
    names = tuple(name for name in panels() if name == "governance")
    content = screen_content.uncached(engine, QUIET, TOWNSHIP, names, "now", ())
    governance = content["panels"]["governance"]
    # Nothing ever happened in 康宁社区, but the cases feed delivered a minute ago (about another village).
    assert not governance["stale"], governance["asof"]
    assert governance["asof"].startswith("数据截至 ") and "已过" not in governance["asof"]
    assert content["state"] == "数据正常"
    # Three hours on without a delivery, the same feed (cadence 1 h) is late for every village alike.
    label, stale = freshness_label(("cases",), feed_freshness(engine), now + timedelta(hours=3))
    assert stale and "已过 3 小时" in label


def test_reference_data_is_never_stale():
    assert {name for name, dataset in datasets().items() if dataset.reference} == REFERENCE
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    fresh = {
        name: {"last_event_time": long_ago, "last_loaded_at": long_ago, "cadence_seconds": 3600} for name in REFERENCE
    }
    for name in REFERENCE:
        assert freshness_label((name,), fresh, datetime.now(UTC)) == ("", False)


def test_a_boards_points_total_is_the_sum_of_its_list_one_line_per_household(sample):
    app, engine, _var_dir, now = sample
    settings = app.server.config["RURALBRAIN_SETTINGS"]
    village = get_region(engine, BOARD_VILLAGE)
    texts = _texts(slides()["points"].render(Context(engine, village, Window.at(now), settings, "portrait")))
    total = int(texts[texts.index("近30天全村获得积分") + 1])
    redeemed = int(texts[texts.index("近30天兑换积分") + 1])
    lines = re.findall(r"(\S+) (尾号\S+) (\d+)分", " ".join(texts[texts.index("近30天获得积分排行") + 1 :]))
    # 王建国 30, 王振国 12, 王建国 of the sample (H004) 26, 李娜 18: every earner fits, so the list sums to the total.
    assert sum(int(points) for _, _, points in lines) == total == 30 + 12 + 26 + 18
    assert redeemed == 50
    assert len({(name, tail) for name, tail, _ in lines}) == len(lines)  # one line per household
    assert [name for name, _, _ in lines].count("王*国") == 3  # three 王*国, told apart by their codes' ends
    assert "王建国" not in " ".join(texts) and "王振国" not in " ".join(texts)


def test_the_village_ranking_ranks_points_earned_and_never_shows_a_negative(sample):
    app, engine, _var_dir, now = sample
    texts = " ".join(_texts(panels()["rankings"].render(engine, "990101000000", Window.at(now))))
    assert "获得积分" in texts and "近30天" in panels()["rankings"].title
    assert not re.search(r"-\d", texts), texts  # the village that only redeemed points is not ranked below zero


def test_air_and_forecast_come_from_the_nearest_region_above_and_say_so(sample):
    app, engine, _var_dir, now = sample
    window = Window.at(now)
    township = _texts(panels()["environment"].render(engine, TOWNSHIP, window))
    quiet = _texts(panels()["environment"].render(engine, QUIET, window))
    for label in ("AQI", "PM2.5", "预报气温"):  # the village has no monitor and no forecast: its township's
        assert quiet[quiet.index(label) + 1] == township[township.index(label) + 1] != "—"
    assert "空气质量、气温为城关街道数据" in quiet
    assert not any("数据" in text and "为" in text for text in township if text.endswith("数据"))  # its own
    settings = app.server.config["RURALBRAIN_SETTINGS"]
    board = _texts(slides()["environment"].render(Context(engine, get_region(engine, BOARD_VILLAGE), window, settings)))
    assert "天气预报为城关街道数据" in board  # the sample's forecasts are the township's


def test_an_unknown_path_is_404_and_unknown_boards_and_stops_are_error_screens(sample):
    app, _engine, _var_dir, _now = sample
    client = app.server.test_client()
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/screen/county").status_code == 200
    assert client.get("/stop/S99").status_code == 200  # a page, which says what is wrong with its address
    for address, reason in (
        ("/stop/S99", "未找到站点编号 S99 的站点"),
        ("/board/990101999999", "未找到区划代码 990101999999 的村"),
    ):
        answer = client.post("/_dash-update-component", json=page(address))
        assert answer.status_code == 200
        body = json.dumps(answer.json, ensure_ascii=False)
        assert reason in body and "error-reason" in body


def test_the_ops_page_lists_error_screens_apart_from_unregistered_tabs_in_local_time(sample):
    app, engine, _var_dir, _now = sample
    # The page as Dash registered it: importing dashboard.pages.ops_screens would register it a second time, under
    # another module name, and every later app of the test run would refuse its duplicate path.
    ops_layout = next(page["layout"] for page in dash.page_registry.values() if page["path"] == "/ops/screens")
    client = app.server.test_client()
    with engine.begin() as connection:
        token = register(connection, "board-01", "board", region_code=BOARD_VILLAGE, location="村委会门口")
    beats = [
        {"screen": "board-01", "token": token, "route": f"/board/{BOARD_VILLAGE}", "data_version": 7},
        {"screen": "wall-typo", "route": "/board/990101999999"},
        {"screen": "tab-closed", "route": "/screen/county"},
    ]
    for beat in beats:
        assert client.post("/api/heartbeat", json=beat).status_code == 200
    seen = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)  # gone for two hours
    with engine.begin() as connection:
        connection.execute(
            update(screen_heartbeats).where(screen_heartbeats.c.screen_id == "tab-closed").values(last_seen=seen)
        )
    with app.server.test_request_context("/ops/screens"):
        tree = plain(ops_layout())
    tables = {}

    def collect(node):
        if isinstance(node, dict):
            if node.get("type") == "Table":
                tables[node["props"]["id"]] = [" | ".join(_texts(row)) for row in node["props"]["children"]]
            collect(node.get("props", {}).get("children"))
        elif isinstance(node, list):
            for child in node:
                collect(child)

    collect(tree)
    registered, unregistered = tables["screens-table"], tables["screens-unregistered"]
    assert any(row.startswith("board-01 | 村级电子屏 | 村委会门口 | 正常") and " | 7 | " in row for row in registered)
    assert any(row.startswith("wall-typo | 错误：未找到区划代码 990101999999 的村") for row in unregistered)
    # An unregistered tab that went quiet is gone, not a dark screen, and its last heartbeat is in local time.
    county_time = (seen + timedelta(hours=8)).strftime("%m-%d %H:%M:%S")  # UTC+8, computed by hand
    assert any(row.startswith(f"tab-closed | 已离开 | {county_time}") for row in unregistered), unregistered
    assert not any("黑屏" in row for row in unregistered) and not any("tab-closed" in row for row in registered)
    assert number(1_234_567) == "123.5万"  # seven digits as the screens write them
