"""The demo's 一户一码: 门牌 and 组 added to the simulated household register, a redemption catalogue (the county's
and some villages' own), codes for the households of the first village with their printable label sheet, and, live,
households of that village sending 诉求 through their codes (the intake, then the qr_cases feed like any county)."""

from __future__ import annotations

import csv
import random
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from etl.household_sheet import page_address, write_sheet
from etl.warehouse import intake_notices, intake_points, intake_records
from etl.warehouse.db import make_engine
from etl.warehouse.household_tokens import Household, issue
from etl.warehouse.intake import Limits, writing
from etl.warehouse.intake_cases import act, rate, submit
from etl.warehouse.settings import Settings

STREETS = ["幸福路", "和平街", "建设路", "新村路", "向阳路", "团结巷"]
HOUSEHOLDS_PER_GROUP = 40
COUNTY_ITEMS = [("肥皂", 20, "每户每月限 2 块"), ("洗衣液", 50, ""), ("食用油 5 升", 150, ""), ("大米 10 斤", 120, "")]
VILLAGE_ITEMS = [("理发券", 30, "村卫生室旁理发店"), ("毛巾", 25, ""), ("垃圾分类桶", 80, "到村委会领取")]
LIVE_TEXTS = {
    "environment": "村口垃圾桶满了没人清运",
    "roads": "三组路口的路灯不亮了",
    "utilities": "自来水这两天水压很低",
    "neighbours": "邻居家的狗晚上一直叫",
    "policy": "想问一下养老保险怎么续缴",
    "suggestion": "建议在村文化广场加几张长椅",
}


def _register(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def enrich_register(drops: Path) -> list[dict]:
    """Give every household of the simulated register a 门牌 and a 组 (deterministic), in place; the rows."""
    path = drops / "households" / "households.csv"
    rows = _register(path)
    for row in rows:
        village, number = row["户码"].rsplit("-", 1)
        rng = random.Random(village)
        n = int(number)
        row["门牌"] = f"{rng.choice(STREETS)}{n}号"
        row["村民小组"] = f"{(n - 1) // HOUSEHOLDS_PER_GROUP + 1}组"
    partial = path.with_name(".households.csv.part")
    with open(partial, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    partial.replace(path)  # the feed sees the register whole
    return rows


def catalogue(drops: Path, county: str, villages: list[str], today: str) -> int:
    """The county's catalogue (offered in every village) and the first villages' own items; rows written."""
    rows = [
        [f"XS{n:03d}", county, today, name, points, note, "上架"] for n, (name, points, note) in enumerate(COUNTY_ITEMS)
    ]
    for index, village in enumerate(villages[:10]):
        rows += [
            [f"{village}-W{n}", village, today, name, points, note, "上架"]
            for n, (name, points, note) in enumerate(VILLAGE_ITEMS[: 1 + index % 3])
        ]
    folder = drops / "catalogue"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "catalogue.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["编号", "区划代码", "上架日期", "名称", "所需积分", "说明", "状态"], *rows])
    return len(rows)


def codes(settings: Settings, village: str, village_name: str, rows: list[dict]) -> int:
    """Codes for every household of one village, its label sheet and a list of addresses to try them with
    (``<VAR_DIR>/households/<village>.pdf`` and ``.txt``); households coded."""
    households = [
        Household(row["户码"], village, village_name, row["户主"], row["门牌"], row["村民小组"])
        for row in rows
        if row["村代码"] == village
    ]
    folder = Path(settings.var_dir) / "households"
    folder.mkdir(parents=True, exist_ok=True)
    base = f"http://{settings.host}:{settings.port}"
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        labels = [(household, issue(connection, household, "demo")) for household in households]
        write_sheet(folder / f"{village}.pdf", labels, base)
    engine.dispose()
    lines = [
        f"{household.code} {household.group} {household.door_plate} {page_address(base, token)}"
        for household, token in labels
    ]
    (folder / f"{village}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(labels)


def history(settings: Settings, universe, drops: Path, now: datetime) -> dict[str, int]:
    """After the simulator wrote the register: 门牌 and 组, the catalogue, the first village's codes and sheet, and
    ten days of what its households and its office did (through the intake, so the intake feeds have history)."""
    rows = enrich_register(drops)
    code, name, _households = universe.villages[0]
    villages = [village for village, _name, _count in universe.villages]
    today = now.strftime("%Y-%m-%d")
    counts = {"catalogue": catalogue(drops, code[:6] + "000000", villages, today)}
    counts["household_codes"] = codes(settings, code, name, rows)
    households = [row["户码"] for row in rows if row["村代码"] == code]
    counts.update(office_history(settings, code, households, universe.rng("households-history"), now))
    return counts


def _case_steps(rng: random.Random, number: int, household: Household, start: datetime) -> list[tuple]:
    """A 诉求's history as (time, step) pairs: sent, accepted, then perhaps closed and rated, or escalated."""
    topic = rng.choice(list(LIVE_TEXTS))
    form = {"topic": topic, "text": LIVE_TEXTS[topic], "key": secrets.token_hex(16)}
    name = f"case{number}"
    steps = [(start, lambda e, s, t: s.__setitem__(name, _submitted(e, household, form, s["uploads"], t)))]
    steps.append((start + timedelta(hours=2), lambda e, s, t: act(e, s[name], "accept", None, "demo", t)))
    if number % 5 == 4:
        steps.append((start + timedelta(hours=5), lambda e, s, t: act(e, s[name], "escalate", "需乡镇协调", "demo", t)))
    elif number % 3:
        steps.append((start + timedelta(hours=30), lambda e, s, t: act(e, s[name], "close", "已处理完毕", "demo", t)))
        if number % 2:
            score = str(rng.choice([4, 5, 5, 3]))
            steps.append((start + timedelta(hours=40), lambda e, s, t: rate(e, household, s[name], score, **_quiet(t))))
    return steps


def _submitted(engine, household: Household, form: dict, uploads_dir: str, at: datetime) -> str:
    return submit(engine, household, form, photo=None, uploads_dir=uploads_dir, address=None, limits=Limits(), now=at)[
        0
    ]


def _quiet(at: datetime) -> dict:
    return {"address": None, "limits": Limits(), "now": at}


def _office_steps(village: str, households: list[Household], start: datetime) -> list[tuple]:
    """The office's notices, 民主议事 and 民主监督, redemptions and a catalogue item, as (time, step) pairs."""
    notices = [
        {"kind": "village_affairs", "title": "关于开展人居环境整治的通知", "body": "请各户于本周六上午清理房前屋后。"},
        {"kind": "finance", "title": "村道路灯维修支出", "direction": "expense", "amount": "3200"},
        {"kind": "party_affairs", "title": "本月主题党日活动安排", "body": "全体党员参加，地点村党群服务中心。"},
    ]
    matter = {"title": "村集体闲置厂房出租方案", "form": "representatives", "status": "decided", "participants": "31"}
    matter.update(votes_for="27", votes_against="2", outcome="同意出租，租期五年，收益用于村道养护")
    items = [
        {"subject": "finance", "source": "committee", "title": "上半年招待费支出明细", "status": "replied"},
        {"subject": "projects", "source": "villager", "title": "文化广场工程进度", "status": "in_progress"},
    ]
    items[0]["reply"] = "已在财务公开栏公示明细"
    item = {"item_id": f"{village}-W0", "name": VILLAGE_ITEMS[0][0], "points": VILLAGE_ITEMS[0][1]}
    steps = []
    for number, notice in enumerate(notices):
        notice.setdefault("period", f"{start:%Y-%m}")
        when = start + timedelta(days=2 * number + 1)
        steps.append((when, lambda e, s, t, n=notice: intake_notices.publish(e, village, n, [], **_office(s, t))))
    steps.append((start + timedelta(days=3), lambda e, s, t: intake_records.save_matter(e, village, matter, **_by(t))))
    for number, entry in enumerate(items):
        when = start + timedelta(days=4 + number)
        steps.append((when, lambda e, s, t, x=entry: intake_records.save_item(e, village, x, **_by(t))))
    item_form = {"name": "环保购物袋", "points": "10", "status": "on", "note": "村委会领取"}
    steps.append((start + timedelta(days=5), lambda e, s, t: intake_points.save_item(e, village, item_form, **_by(t))))
    for number, code in enumerate(households[:3]):
        household = Household(code, village, "", None, None, None)
        when = start + timedelta(days=6, hours=number)
        steps.append((when, lambda e, s, t, h=household, n=number: _redeemed(e, s, h, item, n, t)))
    return steps


def _office(state: dict, at: datetime) -> dict:
    return {"uploads_dir": state["uploads"], "author": "demo", "now": at}


def _by(at: datetime) -> dict:
    return {"author": "demo", "now": at}


def _redeemed(engine, state: dict, household: Household, item: dict, number: int, at: datetime) -> None:
    """A redemption of the office's item (the catalogue is not loaded yet, so it is recorded as checked), confirmed
    by the office an hour later except for the last."""
    with writing(engine, at) as (connection, moment):
        redemption = intake_points.record(connection, moment, household, item, secrets.token_hex(16), None)
    if number < 2:
        intake_points.decide(
            engine, household.village, redemption, True, None, actor="demo", now=at + timedelta(hours=1)
        )


def office_history(settings: Settings, village: str, codes: list[str], rng: random.Random, now: datetime) -> dict:
    """Ten days of a village's 诉求 and office work written through the intake in time order; rows per feed."""
    start = now - timedelta(days=10)
    households = [Household(code, village, "", None, None, None) for code in codes]
    steps = []
    for number in range(12):
        when = start + timedelta(hours=rng.uniform(0, 190))
        steps += _case_steps(rng, number, rng.choice(households), when)
    steps += _office_steps(village, codes, start)
    engine = make_engine(settings.warehouse_url)
    state = {"uploads": settings.uploads_dir}
    try:
        for when, step in sorted(steps, key=lambda pair: pair[0]):
            if when <= now:
                step(engine, state, when)
    finally:
        engine.dispose()
    return {
        "qr_cases": 12,
        "office_notices": 3,
        "office_deliberations": 1,
        "office_supervision": 2,
        "qr_redemptions": 2,
    }


def live(settings: Settings, universe, now: datetime) -> None:
    """Now and then a household of the first village sends a 诉求 through its code."""
    rng = universe.rng("households-live", now.isoformat())
    if rng.random() >= 0.3:
        return
    village, _name, households = universe.villages[0]
    found = Household(f"{village}-{rng.randrange(1, households + 1):04d}", village, "", None, None, None)
    topic = rng.choice(list(LIVE_TEXTS))
    engine = make_engine(settings.warehouse_url)
    try:
        form = {"topic": topic, "text": LIVE_TEXTS[topic], "key": secrets.token_hex(16)}
        submit(
            engine, found, form, photo=None, uploads_dir=settings.uploads_dir, address=None, limits=Limits(), now=now
        )
    finally:
        engine.dispose()
