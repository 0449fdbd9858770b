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
from etl.warehouse.intake import LOCAL, Limits, writing
from etl.warehouse.intake_cases import act, rate, submit
from etl.warehouse.settings import Settings

STREETS = ["幸福路", "和平街", "建设路", "新村路", "向阳路", "团结巷"]
HOUSEHOLDS_PER_GROUP = 40
COUNTY_ITEMS = [("肥皂", 20, "每户每月限 2 块"), ("洗衣液", 50, ""), ("食用油 5 升", 150, ""), ("大米 10 斤", 120, "")]
VILLAGE_ITEMS = [("理发券", 30, "村卫生室旁理发店"), ("毛巾", 25, ""), ("垃圾分类桶", 80, "到村委会领取")]
# What each redeeming household earned in the county's points system in the days before it redeems (62 points): the
# demo's office redeems only what a household can afford, and its first households' pages show points left.
EARNED = [
    ("文明诚信", 10),
    ("垃圾分类", 5),
    ("志愿服务", 20),
    ("垃圾分类", 5),
    ("文明诚信", 10),
    ("平台使用", 2),
    ("志愿服务", 10),
]
REDEEMING = 3  # the first households of the village ask for the office's item; all but the last are confirmed
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
    counts.update(office_history(settings, code, households, universe.rng("households-history"), now, drops))
    return counts


def _local(moment: datetime) -> str:
    """A time as the points files write it (local, to the second), which sorts as it happened."""
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S")


def earned(drops: Path, village: str, codes: list[str], start: datetime) -> int:
    """The points the redeeming households earned before they redeem, as a file of the points drop folder (the
    county's points system, like the simulator's days); rows written."""
    rows = [
        [f"PTHH{code[-4:]}{number:02d}", code, village, _local(start + timedelta(hours=12 + 16 * number)), *entry]
        for code in codes
        for number, entry in enumerate(EARNED)
    ]
    folder = drops / "points"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".points-households-{village}.part"
    with open(partial, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["流水号", "户码", "村代码", "时间", "积分来源", "积分"], *rows])
    partial.replace(folder / f"points-households-{village}.csv")  # the feed sees the file whole
    return len(rows)


def ledger(drops: Path, codes: list[str]) -> dict[str, list[tuple[str, int]]]:
    """The points entries of ``codes`` in the points drop folder, each household's as (local time, points) in time
    order."""
    found: dict[str, list[tuple[str, int]]] = {code: [] for code in codes}
    for path in sorted((drops / "points").rglob("*.csv")):
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["户码"] in found:
                    found[row["户码"]].append((row["时间"], int(row["积分"])))
    return {code: sorted(entries) for code, entries in found.items()}


def affords(entries: list[tuple[str, int]], at: datetime, cost: int) -> bool:
    """Whether a household with these ledger entries can spend ``cost`` at ``at`` and never fall below zero after
    (the county's later entries, a 兑换 of its own system among them, counted)."""
    moment = _local(at)
    balance = sum(points for when, points in entries if when <= moment)
    lowest = balance
    for when, points in entries:
        if when > moment:
            balance += points
            lowest = min(lowest, balance)
    return lowest >= cost


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


def _office_steps(village: str, households: list[str], start: datetime, points: dict) -> list[tuple]:
    """The office's notices, 民主议事 and 民主监督, redemptions (only those the households' ledgers in ``points``
    afford) and a catalogue item, as (time, step) pairs."""
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
    for number, code in enumerate(households[:REDEEMING]):
        household = Household(code, village, "", None, None, None)
        when = start + timedelta(days=6, hours=number)
        if affords(points.get(code, []), when, item["points"]):
            steps.append((when, lambda e, s, t, h=household, n=number: _redeemed(e, s, h, item, n, t)))
    return steps


def _office(state: dict, at: datetime) -> dict:
    return {"uploads_dir": state["uploads"], "author": "demo", "now": at}


def _by(at: datetime) -> dict:
    return {"author": "demo", "now": at}


def _redeemed(engine, state: dict, household: Household, item: dict, number: int, at: datetime) -> None:
    """A redemption of the office's item, confirmed by the office an hour later except for the last. Neither the
    catalogue nor the points are loaded yet, so intake_points.request could not check it: the caller has checked
    against the points files (affords)."""
    with writing(engine, at) as (connection, moment):
        redemption = intake_points.record(connection, moment, household, item, secrets.token_hex(16), None)
    if number < REDEEMING - 1:
        intake_points.decide(
            engine, household.village, redemption, True, None, actor="demo", now=at + timedelta(hours=1)
        )
        state["confirmed"] = state.get("confirmed", 0) + 1


def office_history(
    settings: Settings, village: str, codes: list[str], rng: random.Random, now: datetime, drops: Path
) -> dict:
    """Ten days of a village's 诉求 and office work written through the intake in time order (the points its
    redeeming households earned first, in the points drop folder); rows per feed."""
    start = now - timedelta(days=10)
    households = [Household(code, village, "", None, None, None) for code in codes]
    steps = []
    for number in range(12):
        when = start + timedelta(hours=rng.uniform(0, 190))
        steps += _case_steps(rng, number, rng.choice(households), when)
    earning = earned(drops, village, codes[:REDEEMING], start)
    steps += _office_steps(village, codes, start, ledger(drops, codes[:REDEEMING]))
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
        "qr_redemptions": state.get("confirmed", 0),
        "household_points": earning,
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
