"""The sample county with chosen texts (HTML/JS payloads, phone and ID numbers) in every text field the screens
show: case titles and reporters, device ids, notices, finance lines, publicity, households' heads, incident
kinds, stop names, routes, weather, services' labels, and (optionally) region names. Loaded through the sample's
own file-drop feeds, as a county's files would arrive."""

from __future__ import annotations

import csv
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from etl.dataset import BEIJING
from etl.demo.sample import BOARD_VILLAGE, COUNTY, TOWNSHIP, build_sample
from etl.feeds import load_feeds
from etl.geo_build import build_geometry
from etl.runner import run_feed
from etl.warehouse.db import make_engine
from etl.warehouse.schema import regions
from etl.warehouse.settings import Settings

STOP = "S77"  # the stop whose name, routes and publicity carry the texts


def _fitting(texts: list[str], length: int) -> list[str]:
    """The texts a column of ``length`` characters holds whole (a cut phone number would test nothing)."""
    return [text for text in texts if len(text) <= length] or [texts[0][:length]]


def _groups(texts: list[str], size: int, count: int, length: int = 10_000) -> list[str]:
    """``count`` texts each joining up to ``size`` of ``texts`` in turn within ``length`` characters (every text
    appears in some group)."""
    cycle, groups = itertools.cycle(texts), []
    pending = next(cycle)
    for _ in range(count):
        group = [pending]
        pending = next(cycle)
        while len(group) < size and len("；".join([*group, pending])) <= length:
            group.append(pending)
            pending = next(cycle)
        groups.append("；".join(group)[:length])
    return groups


def _write(folder: Path, header: list[str], rows: list[list]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "hostile.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])


def hostile_drops(texts: list[str], now: datetime) -> dict[str, tuple[list[str], list[list]]]:
    """Rows for the sample's feeds (by drop folder) that put ``texts`` in every text field a screen shows."""
    many = max(len(texts), 12)
    month = f"{now.astimezone(BEIJING):%Y-%m}"

    def ago(minutes: float) -> str:
        return (now - timedelta(minutes=minutes)).isoformat()

    titles = _groups(texts, 4, many)  # the ticker's 12 newest cases show every text
    short = _fitting(texts, 24)
    return {
        "cases": (
            ["事件编号", "村代码", "受理时间", "类别", "模块", "状态", "办结时间", "期限", "满意度", "评价时间"]
            + ["标题", "反映人", "联系电话"],
            [
                [f"HX{i:03d}", BOARD_VILLAGE, ago(1 + i), "请求", "综合", "受理", "", "", "", "", title, who, phone]
                for i, (title, who, phone) in enumerate(
                    zip(
                        titles, itertools.cycle(_fitting(texts, 50)), itertools.cycle(_fitting(texts, 20)), strict=False
                    )
                )
            ],
        ),
        "devices": (
            ["设备编号", "类型", "村代码", "安装时间"],
            [[text, "垃圾桶", BOARD_VILLAGE, "2025-01-01"] for text in _fitting(texts, 64)],
        ),
        "incidents": (
            ["id", "village", "time", "kind", "status"],
            [[f"HI{i}", BOARD_VILLAGE, ago(30 + i), kind, "已处理"] for i, kind in enumerate(short * 3)],
        ),
        "notices": (
            ["id", "village", "time", "kind", "title", "body", "direction", "amount", "period"],
            [
                [f"HN{i}", BOARD_VILLAGE, ago(2 + i), kind, title, body, "", "", ""]
                for i, (kind, title, body) in enumerate(
                    zip(
                        ["村务", "政务", "党务", "村务", "党务", "政务"] * 2,
                        _groups(texts, 3, 12),
                        _groups(texts[1:] + texts[:1], 2, 12),
                        strict=True,
                    )
                )
            ]
            + [
                [f"HF{i}", BOARD_VILLAGE, ago(2), "财务", text, "", "收入" if i % 2 else "支出", 26268.75, month]
                for i, text in enumerate(texts)
            ],
        ),
        "households": (
            ["户码", "村代码", "登记日期", "户主", "电话"],
            [
                [f"HH{i}", BOARD_VILLAGE, "2023-06-01", text, phone]
                for i, (text, phone) in enumerate(zip(_fitting(texts, 50), itertools.cycle(_fitting(texts, 20))))
            ],
        ),
        "points": (
            ["id", "户码", "村代码", "时间", "来源", "积分"],
            [
                [f"HP{i}", f"HH{i}", BOARD_VILLAGE, ago(3), "文明诚信", 1000 + i]
                for i in range(len(_fitting(texts, 50)))
            ],
        ),
        "weather": (
            ["area", "time", "issued", "weather", "temp"],
            [
                [BOARD_VILLAGE, (now + timedelta(hours=h)).replace(minute=0).isoformat(), ago(5), condition, 12]
                for h, condition in zip(range(-1, 13), itertools.cycle(_fitting(texts, 16)), strict=False)
            ],
        ),
        "publicity": (
            ["id", "area", "time", "title", "body", "until"],
            [
                [f"HX{i}", area, ago(4 + i), title, body, ""]
                for i, (area, title, body) in enumerate(
                    zip(
                        itertools.cycle([TOWNSHIP, COUNTY]),
                        _groups(texts, 7, 6, 200),
                        _groups(texts[2:] + texts[:2], 2, 6),
                        strict=False,
                    )
                )
            ],
        ),
        "stops": (["id", "name", "area", "since"], [[STOP, texts[0][:100], TOWNSHIP, "2023-06-01"]]),
        "buses": (
            ["stop", "route", "direction", "area", "eta", "observed"],
            [
                [STOP, route, direction, TOWNSHIP, (now + timedelta(minutes=5 + i)).isoformat(), ago(1)]
                for i, (route, direction) in enumerate(
                    zip(_fitting(texts, 32)[:6], itertools.cycle(_fitting(texts, 64)), strict=False)
                )
            ],
        ),
    }


def write_services(path: Path, texts: list[str]) -> Path:
    """A services file whose labels are ``texts`` (a county edits this file by hand)."""
    lines = [
        f'[services.s{i}]\nlabel = """{text}"""\nurl = "https://fuwu.example.cn/s{i}?village={{village}}"\n'
        for i, text in enumerate(texts[:8])
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def build_hostile(var_dir: Path, texts: list[str], region_names: bool = False) -> Settings:
    """The sample under ``var_dir`` plus ``texts`` in every text field (and the board's village and township
    named by them when ``region_names``); the settings, with SERVICES_FILE pointing at hostile labels."""
    settings = build_sample(var_dir)
    now = datetime.now(UTC)
    for folder, (header, rows) in hostile_drops(texts, now).items():
        _write(var_dir / "drops" / folder, header, rows)
    feeds = load_feeds(var_dir / "screen-feeds.toml", {"var_dir": str(var_dir)})
    engine = make_engine(settings.warehouse_url)
    for name, feed in feeds.items():
        quarantined = run_feed(engine, feed).counts.quarantined
        assert not quarantined, f"{name}: {quarantined} hostile rows were quarantined, not loaded"
    if region_names:
        with engine.begin() as connection:
            for code, text in ((BOARD_VILLAGE, texts[0]), (TOWNSHIP, texts[1 % len(texts)])):
                connection.execute(update(regions).where(regions.c.code == code).values(name=text[:100]))
        build_geometry(engine, settings.geo_dir, force=True)
    engine.dispose()
    services = write_services(var_dir / "services.toml", texts)
    return Settings.load(var_dir=str(var_dir), services_file=str(services))
