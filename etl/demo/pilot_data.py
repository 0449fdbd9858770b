"""The demo's pilot programme and the data of the indicators it is scored by: the demo programme imported, and
file drops for 农厕, 疫情防控 (aggregates), 政务服务, 民主议事/监督, 清廉乡村 and 曝光台 cases, 溯源, the labour
pool's people, farm output, weather stations and livestock houses, and the county's monthly status and funds
reports — pilots denser than other villages, deterministic from the simulator's seed, with a few rows naming
unknown villages."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from etl.demo import simulate as sim
from etl.programmes.catalogue import Programme, load_programme
from etl.programmes.store import import_programme
from etl.warehouse.db import make_engine
from etl.warehouse.settings import Settings

DEMO_PROGRAMME = Path(__file__).resolve().parents[2] / "data" / "programmes" / "demo"
UNKNOWN_VILLAGE = "990101999999"  # the exports' own typing errors: quarantined as an unknown region
FOLDERS = (
    "toilets",
    "epidemic",
    "gov_services",
    "deliberations",
    "supervision",
    "traceability",
    "labour_profiles",
    "farm_output",
    "pilot_status",
    "pilot_funds",
)
SERVICES = ["城乡居民医保参保登记", "新生儿落户", "高龄津贴申领", "残疾人证办理", "农村建房审批", "临时救助申请"]
PRODUCTS = [("白茶", "斤"), ("湖羊", "头"), ("青梅", "公斤"), ("笋干", "公斤"), ("板栗", "公斤")]
SKILLS = ["电焊", "驾驶", "厨师", "电商直播", "茶叶加工", "养殖", "建筑瓦工", "家政", ""]
HOBBIES = ["书法", "广场舞", "篮球", "戏曲", "钓鱼", ""]
EDUCATION = ["小学及以下", "初中", "初中", "高中", "中专", "大专", "本科", ""]
MATTERS = ["村道硬化方案", "集体经济收益分配", "人居环境整治公约", "文化礼堂使用办法", "光伏项目选址"]
QUESTIONS = [
    ("财务", "上季度招待费明细"),
    ("工程项目", "村道工程验收情况"),
    ("惠民资金", "补贴发放名单"),
    ("村务", "宅基地审批进度"),
]
READING_HEADER = ["device", "metric", "time", "value"]
DEVICE_HEADER = ["设备编号", "设备类型", "设备名称", "村代码", "安装日期"]


@dataclass(frozen=True)
class Plan:
    """Where the demo's pilot data goes: how busy each village is (pilots most), and the extra devices."""

    intensity: dict[str, float]  # village code → 1.0 pilot village, 0.6 in a pilot township, 0.15 others
    devices: list[sim.Device]
    regions: dict[str, str]  # pilot id → the region its reports carry


def plan(universe: sim.Universe, programme: Programme) -> Plan:
    """Pilot villages (by code, or by name under their township), and weather stations (one per township) and
    livestock houses (pilot villages and every twelfth village)."""
    names = {(code[:9], name): code for code, name, _ in universe.villages}
    intensity = {code: 0.15 for code, _, _ in universe.villages}
    for pilot in programme.pilots:
        if pilot.kind == "township" and pilot.code:
            intensity.update({code: 0.6 for code in intensity if code.startswith(pilot.code[:9])})
    regions = {}
    for pilot in programme.pilots:
        code = pilot.code or names.get(((pilot.within or "")[:9], pilot.village))
        if pilot.kind == "village" and code in intensity:
            intensity[code] = 1.0
        regions[pilot.pilot_id] = code or (pilot.within or "").ljust(12, "0")
    devices = []
    for township in universe.townships:
        seat = next(code for code, _, _ in universe.villages if code.startswith(township[:9]))
        devices.append(
            sim.Device(f"WS-{township[6:9]}", "气象站", seat, ("temperature", "humidity", "wind_speed", "rainfall"))
        )
    for index, (code, _, _) in enumerate(universe.villages):
        if intensity[code] == 1.0 or index % 12 == 5:
            devices.append(sim.Device(f"LH-{code[-6:]}", "养殖舍", code, ("temperature", "ammonia", "co2")))
    return Plan(intensity, devices, regions)


def _drop(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8") -> int:
    """Write a drop file unless there is nothing to write (an empty file is an operator's warning)."""
    return sim._write_csv(path, header, rows, encoding=encoding) if rows else 0


def add(counts: dict[str, int], more: dict[str, int]) -> None:
    """Add rows per feed to the simulator's counts (several writers fill one feed, e.g. devices)."""
    for feed, rows in more.items():
        counts[feed] = counts.get(feed, 0) + rows


def _programme(now: datetime) -> Programme:
    return load_programme(DEMO_PROGRAMME, today=now.astimezone(sim.LOCAL).date())


def prepare(universe: sim.Universe, drops: Path, now: datetime) -> Plan:
    """Every pilot feed's drop folder, and the plan of the demo programme as of ``now``."""
    for folder in FOLDERS:
        (drops / folder).mkdir(parents=True, exist_ok=True)
    return plan(universe, _programme(now))


def _reading(universe: sim.Universe, device: sim.Device, metric: str, moment: datetime) -> float:
    """Weather and livestock-house readings with a daily cycle."""
    rng = universe.rng("pilot-reading", device.device_id, metric, moment.isoformat())
    hour = moment.astimezone(sim.LOCAL).hour
    daily = math.sin((hour - 9) / 24 * 2 * math.pi)
    if metric == "temperature":
        base = 21 if device.kind == "养殖舍" else 12
        return round(base + (3 if device.kind == "养殖舍" else 7) * daily + rng.gauss(0, 1), 1)
    if metric == "humidity":
        return round(min(100.0, max(10.0, 65 - 15 * daily + rng.gauss(0, 5))), 1)
    if metric == "wind_speed":
        return round(max(0.0, 2.5 + 1.5 * daily + rng.gauss(0, 1)), 1)
    if metric == "rainfall":
        return round(rng.uniform(0.2, 6.0), 1) if rng.random() < 0.06 else 0.0
    if metric == "ammonia":  # ppm; above 25 the house needs airing, about 2 % of hours
        return round(rng.uniform(26, 40) if rng.random() < 0.02 else rng.uniform(5, 18), 1)
    return round(1200 + 500 * daily + rng.gauss(0, 120))  # co2, ppm


def _stamp(day: datetime) -> str:
    return day.astimezone(sim.LOCAL).strftime("%Y%m%d")


def _rows_per_village(universe, plan_: Plan, rng, chance: float, boost: float) -> list[str]:
    """The villages that have a row today: each with probability chance + boost × intensity."""
    return [code for code, _, _ in universe.villages if rng.random() < chance + boost * plan_.intensity[code]]


def day_files(universe: sim.Universe, plan_: Plan, drops: Path, day: datetime, until: datetime) -> dict[str, int]:
    """One local day's drops (up to ``until``): readings of the extra devices, epidemic aggregates, government
    services, toilet inspections/faults/desludging, traceability and farm output."""
    stamp, counts = _stamp(day), {}
    rng = universe.rng("pilot-day", stamp)
    hours = [day + timedelta(hours=h) for h in range(24) if day + timedelta(hours=h) <= until]
    readings = [
        [d.device_id, m, moment.isoformat(), _reading(universe, d, m, moment)]
        for d in plan_.devices
        for moment in hours
        for m in d.metrics
    ]
    if hours:
        readings.append(["LH-UNKNOWN", "ammonia", hours[0].isoformat(), 9.5])  # a house nobody registered
    # Named to sort with the day's other readings: a reading file is taken in order of its writing, and its
    # readings must not fall behind what the sensor feed already loaded by more than LATE_HOURS.
    counts["sensor_files"] = _drop(drops / "sensors" / f"readings-{stamp}-pilot.csv", READING_HEADER, readings)
    local_day = day.astimezone(sim.LOCAL).strftime("%Y-%m-%d")
    noon = day + timedelta(hours=12)
    if noon <= until:
        epidemic = []
        for kind, chance, boost, low, high in (
            ("健康监测", 0.1, 0.9, 20, 200),
            ("疫苗接种", 0.05, 0.4, 3, 30),
            ("监测点", 0.05, 0.95, 1, 3),
        ):
            epidemic += [
                [code, local_day, kind, rng.randrange(low, high)]
                for code in _rows_per_village(universe, plan_, rng, chance, boost)
            ]
        epidemic.append([UNKNOWN_VILLAGE, local_day, "健康监测", 12])
        counts["epidemic"] = _drop(
            drops / "epidemic" / f"epidemic-{stamp}.csv", ["村代码", "日期", "类别", "数量"], epidemic
        )
    counts["gov_services"] = _services(universe, plan_, drops, day, until, rng)
    counts["toilets"] = _toilet_events(universe, plan_, drops, day, until, rng)
    counts["traceability"] = _trace(universe, plan_, drops, day, until, rng)
    if day.astimezone(sim.LOCAL).weekday() == 4 and noon <= until:
        output = [
            [f"CL{stamp}{code[-6:]}{n}", code, local_day, product, rng.randrange(50, 2000), unit]
            for code in _rows_per_village(universe, plan_, rng, 0.05, 0.9)
            for n, (product, unit) in enumerate(rng.sample(PRODUCTS, 2))
        ] + [[f"CL{stamp}BAD", UNKNOWN_VILLAGE, local_day, "白茶", 100, "斤"]]
        counts["farm_output"] = _drop(
            drops / "farm_output" / f"output-{stamp}.csv", ["编号", "村代码", "日期", "品种", "产量", "单位"], output
        )
    return counts


def _services(universe, plan_: Plan, drops: Path, day: datetime, until: datetime, rng) -> int:
    """Applications at village service points and township halls, with their lifecycle as far as it got."""
    stamp, rows = _stamp(day), []
    places = _rows_per_village(universe, plan_, rng, 0.03, 0.5) + [
        t for t in universe.townships for _ in range(rng.randrange(1, 4))
    ]
    for number, place in enumerate(places):
        applied = day + timedelta(hours=rng.uniform(8, 17))
        if applied > until:
            continue
        appointment = applied if rng.random() < 0.4 else None
        received = applied + timedelta(hours=rng.uniform(0.2, 24)) if appointment else applied
        received = received if received <= until else None
        completed = received + timedelta(hours=rng.uniform(2, 96)) if received and rng.random() < 0.9 else None
        completed = completed if completed and completed <= until else None
        feedback = completed + timedelta(hours=rng.uniform(1, 48)) if completed and rng.random() < 0.6 else None
        feedback = feedback if feedback and feedback <= until else None
        status = "已办结" if completed else "办理中" if received else "已预约"
        rows.append(
            [
                f"ZW{stamp}{number:04d}",
                place,
                sim._local(applied),
                rng.choice(SERVICES),
                rng.choice(["网上办", "掌上办", "掌上办", "窗口", "代办"]),
                "并联审批" if rng.random() < 0.15 else "单独办理",
                status,
                sim._local(appointment) if appointment else "",
                sim._local(received) if received else "",
                sim._local(completed) if completed else "",
                sim._local(feedback) if feedback else "",
                rng.choice([5, 5, 4, 3]) if feedback else "",
            ]
        )
    if rows:
        rows[-1] = [rows[-1][0] + "X", UNKNOWN_VILLAGE, *rows[-1][2:]]
    header = ["办件编号", "受理点代码", "申请时间", "事项名称", "办理渠道", "办理方式", "办件状态"]
    header += ["预约时间", "受理时间", "办结时间", "反馈时间", "满意度"]
    return _drop(drops / "gov_services" / f"services-{stamp}.csv", header, rows, encoding="gbk")


def _toilet_events(universe, plan_: Plan, drops: Path, day: datetime, until: datetime, rng) -> int:
    stamp, rows = _stamp(day), []
    for kind, chance, boost in (("巡检", 0.02, 0.3), ("故障", 0.01, 0.06), ("粪污清运", 0.01, 0.1)):
        for code in _rows_per_village(universe, plan_, rng, chance, boost):
            moment = day + timedelta(hours=rng.uniform(8, 18))
            if moment > until:
                continue
            repaired = moment + timedelta(hours=rng.uniform(4, 72)) if kind == "故障" and rng.random() < 0.9 else None
            repaired = repaired if repaired and repaired <= until else None
            toilet = f"{code}-{rng.randrange(1, 400):04d}"
            detail = "化粪池满溢" if kind == "故障" else ""
            rows.append(
                [
                    f"NC{stamp}{len(rows):04d}",
                    code,
                    sim._local(moment),
                    toilet,
                    kind,
                    sim._local(repaired) if repaired else "",
                    detail,
                ]
            )
    header = ["记录编号", "村代码", "日期", "户厕编号", "类型", "修复时间", "说明"]
    return _drop(drops / "toilets" / f"toilets-{stamp}.csv", header, rows)


def _trace(universe, plan_: Plan, drops: Path, day: datetime, until: datetime, rng) -> int:
    """Codes issued to product batches on Mondays in busy villages, and consumers' scans every day."""
    stamp, rows = _stamp(day), []
    evening = day + timedelta(hours=20)
    for code in (c for c, _, _ in universe.villages if plan_.intensity[c] >= 0.6):
        product, _unit = PRODUCTS[int(code[-2:]) % len(PRODUCTS)]
        batch = (
            f"{code[-6:]}-{(day.astimezone(sim.LOCAL) - timedelta(days=day.astimezone(sim.LOCAL).weekday())):%Y%m%d}"
        )
        if day.astimezone(sim.LOCAL).weekday() == 0 and day + timedelta(hours=9) <= until:
            rows.append(
                [
                    f"SY{stamp}{code[-6:]}I",
                    code,
                    sim._local(day + timedelta(hours=9)),
                    "赋码",
                    product,
                    batch,
                    rng.randrange(200, 1000),
                ]
            )
        if evening <= until:
            rows.append(
                [f"SY{stamp}{code[-6:]}S", code, sim._local(evening), "扫码", product, batch, rng.randrange(0, 60)]
            )
    if rows:
        rows.append([f"SY{stamp}BAD", UNKNOWN_VILLAGE, rows[-1][2], "扫码", "白茶", "", 3])
    header = ["流水号", "村代码", "时间", "操作", "产品", "批次", "数量"]
    return _drop(drops / "traceability" / f"trace-{stamp}.csv", header, rows)


def history(
    settings: Settings, universe: sim.Universe, plan_: Plan, drops: Path, now: datetime, days: int = 50
) -> dict[str, int]:
    """The demo programme imported, and what is not daily: the extra devices, toilet renovations, the labour
    pool's people, deliberations and supervision of the last months, the monthly status and funds, and the pilot
    villages' integrity cases of the ``days`` simulated."""
    programme = _programme(now)
    engine = make_engine(settings.warehouse_url)
    try:
        with engine.begin() as connection:
            import_programme(connection, programme, now)
    finally:
        engine.dispose()
    rng = universe.rng("pilot-history")
    devices = [[d.device_id, d.kind, f"{d.kind}{d.device_id[-3:]}", d.village, "2023-06-01"] for d in plan_.devices]
    devices.append(["WS-999", "气象站", "气象站999", UNKNOWN_VILLAGE, "2023-06-01"])
    counts = {"devices": _drop(drops / "devices" / "devices-pilot.csv", DEVICE_HEADER, devices)}
    counts["toilets"] = _renovations(universe, plan_, drops, now, rng)
    counts["labour_profiles"] = _labour_profiles(universe, plan_, drops, now, rng)
    counts.update(_democracy(universe, plan_, drops, now, rng))
    # Its own stream: the draws above (and the demo's numbers) stay as they were before these cases were added.
    counts["cases"] = _integrity(universe, plan_, drops, now, universe.rng("pilot-integrity"), days)
    counts.update(_programme_reports(programme, plan_.regions, drops, now, rng))
    return counts


def _renovations(universe, plan_: Plan, drops: Path, now: datetime, rng) -> int:
    rows = []
    for code, _, households in universe.villages:
        share = plan_.intensity[code]
        done = int(households * 0.05 * share) if share >= 0.6 or rng.random() < 0.3 else 0
        for n in range(done):
            moment = now - timedelta(days=rng.uniform(31, 240))
            rows.append(
                [f"GC{code}{n:04d}", code, sim._local(moment), f"{code}-{n + 1:04d}", "改造", "", "三格式化粪池"]
            )
    rows.append(["GC-BAD-1", UNKNOWN_VILLAGE, sim._local(now - timedelta(days=40)), "", "改造", "", ""])
    # A renovation cannot have been repaired: the export's mistake, quarantined by the dataset's check.
    rows.append(
        [
            "GC-BAD-2",
            universe.villages[0][0],
            sim._local(now - timedelta(days=40)),
            "",
            "改造",
            sim._local(now - timedelta(days=39)),
            "",
        ]
    )
    header = ["记录编号", "村代码", "日期", "户厕编号", "类型", "修复时间", "说明"]
    return _drop(drops / "toilets" / "renovations.csv", header, rows)


def _labour_profiles(universe, plan_: Plan, drops: Path, now: datetime, rng) -> int:
    rows = []
    for code, _, _ in universe.villages:
        share = plan_.intensity[code]
        people = (
            rng.randrange(40, 80) if share == 1.0 else rng.randrange(15, 40) if share >= 0.6 else rng.randrange(0, 12)
        )
        for n in range(people):
            registered = now - timedelta(days=rng.uniform(1, 300))
            rows.append(
                [
                    f"LD{code}{n:04d}",
                    code,
                    registered.astimezone(sim.LOCAL).strftime("%Y-%m-%d"),
                    rng.choice(["外出务工", "外出务工", "本地就业", "待业"]),
                    rng.choice(EDUCATION),
                    rng.choice(SKILLS),
                    rng.choice(HOBBIES),
                    rng.choice(["", "电商", "建筑", "餐饮", "物流"]),
                ]
            )
    rows.append(["LD-BAD", UNKNOWN_VILLAGE, now.astimezone(sim.LOCAL).strftime("%Y-%m-%d"), "待业", "初中", "", "", ""])
    header = ["档案编号", "村代码", "登记日期", "就业状态", "学历", "特长", "爱好", "求职意向"]
    return _drop(drops / "labour_profiles" / "profiles.csv", header, rows)


# The columns of the demo's 民主议事 and 民主监督 drops (data/demo/feeds.toml maps them).
DELIBERATION_HEADER = [
    "议事编号",
    "村代码",
    "发起时间",
    "议题",
    "议事形式",
    "状态",
    "参与人数",
    "赞成票",
    "反对票",
    "表决时间",
    "结果",
]
SUPERVISION_HEADER = ["编号", "村代码", "提出时间", "监督事项", "提出方", "内容", "状态", "答复时间", "满意度"]


def _democracy(universe, plan_: Plan, drops: Path, now: datetime, rng) -> dict[str, int]:
    """民主议事 and 民主监督 of the last 90 days."""
    matters, questions = [], []
    for code, _, households in universe.villages:
        share = plan_.intensity[code]
        for n in range(rng.randrange(2, 5) if share == 1.0 else int(rng.random() < share + 0.1)):
            opened = now - timedelta(days=rng.uniform(1, 88))
            decided = opened + timedelta(days=rng.uniform(3, 10))
            decided = decided if decided <= now else None
            turnout = rng.randrange(30, max(31, households // 2))
            votes_for = int(turnout * rng.uniform(0.6, 0.95)) if decided else ""
            matters.append(
                [
                    f"YS{code}{n}",
                    code,
                    sim._local(opened),
                    rng.choice(MATTERS),
                    rng.choice(["线上议事", "线上议事", "村民代表会议"]),
                    "已表决" if decided else "表决中",
                    turnout,
                    votes_for,
                    turnout - votes_for if decided else "",
                    sim._local(decided) if decided else "",
                    "通过" if decided else "",
                ]
            )
        for n in range(rng.randrange(2, 6) if share == 1.0 else int(rng.random() < share)):
            raised = now - timedelta(days=rng.uniform(1, 88))
            replied = raised + timedelta(days=rng.uniform(1, 7))
            replied = replied if replied <= now else None
            subject, title = rng.choice(QUESTIONS)
            questions.append(
                [
                    f"JD{code}{n}",
                    code,
                    sim._local(raised),
                    subject,
                    rng.choice(["村民", "村务监督委员会"]),
                    title,
                    "已答复" if replied else "办理中",
                    sim._local(replied) if replied else "",
                    rng.choice([5, 4, 4, 3]) if replied else "",
                ]
            )
    matters.append(
        [
            "YS-BAD",
            UNKNOWN_VILLAGE,
            sim._local(now - timedelta(days=3)),
            "议题",
            "线上议事",
            "表决中",
            10,
            "",
            "",
            "",
            "",
        ]
    )
    questions.append(
        ["JD-BAD", UNKNOWN_VILLAGE, sim._local(now - timedelta(days=3)), "财务", "村民", "问题", "办理中", "", ""]
    )
    return {
        "deliberations": _drop(drops / "deliberations" / "deliberations.csv", DELIBERATION_HEADER, matters),
        "supervision": _drop(drops / "supervision" / "supervision.csv", SUPERVISION_HEADER, questions),
    }


def _integrity(universe, plan_: Plan, drops: Path, now: datetime, rng, days: int) -> int:
    """清廉乡村 and 曝光台 cases of the simulated days (the last 50 at most) in each pilot village (four to six of
    each), in the case export's columns: the daily cases give a village about one of either a month, so a pilot
    village's board would often show none. Not before the simulated days: the history months end where the
    first case is, and the days between would hold only these."""
    # The first simulated day starts days - 1 days back or less (today's midnight for one day: a few hours back).
    rows, span = [], max(0.2, min(50.0, days - 1.0))
    for code, _, _ in universe.villages:
        if plan_.intensity[code] != 1.0:
            continue
        for module, titles in sim.MODULE_TOPICS.items():
            for n in range(rng.randrange(4, 7)):  # a portrait board holds four
                received = now - timedelta(days=rng.uniform(0.02, span))
                closed = received + timedelta(days=rng.uniform(1, 12))
                closed = closed if closed <= now and rng.random() < 0.7 else None
                name, phone = sim._person(rng)
                rows.append(
                    [
                        f"QL{code}{'QY'[module == '曝光台']}{n}",
                        code,
                        sim._local(received),
                        "诉求" if module == "曝光台" else rng.choice(["请求", "诉求"]),
                        module,
                        rng.choice(sim.CHANNELS),
                        rng.choice(titles),
                        name,
                        phone,
                        "办结" if closed else "处置中",
                        "村",
                        sim._local(received + timedelta(hours=2)),
                        sim._local(closed) if closed else "",
                        "",
                        sim._local(received + timedelta(days=15)),
                        "",
                    ]
                )
    return _drop(drops / "cases" / "integrity.csv", sim.CASE_HEADER, rows, encoding="gbk")


def _months(programme: Programme, now: datetime) -> list[str]:
    """The programme's months from its first milestone's up to the current one."""
    current = now.astimezone(sim.LOCAL).strftime("%Y-%m")
    year, month = map(int, programme.milestones[0].month.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= current:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _reported_at(month: str, now: datetime) -> datetime:
    """When a county files a month's report: the 25th, or an hour ago within the month before then."""
    year, number = map(int, month.split("-"))
    filed = datetime(year, number, 25, 17, 0, tzinfo=sim.LOCAL).astimezone(UTC)
    return min(filed, now - timedelta(hours=1))


def _programme_reports(programme: Programme, regions: dict, drops: Path, now: datetime, rng) -> dict[str, int]:
    """Each pilot's status per milestone and its funds, month by month: a milestone runs from the month after
    the one before it through its own month and is done after it; the fourth pilot finished its 前期手续 a
    month late (overdue meanwhile), the fifth reports its construction 滞后, the sixth is still short of its
    funds (overdue now)."""
    months = _months(programme, now)
    steps = programme.milestones
    status, funds = [], []
    for position, pilot in enumerate(programme.pilots):
        region = regions[pilot.pilot_id]
        for month in months:
            filed = sim._local(_reported_at(month, now))
            for index, step in enumerate(steps):
                begins = steps[index - 1].month if index else step.month
                late = position == 3 and step.milestone_id == "procedures"
                finished = step.month if not late else _next(step.month)
                text = "已完成" if month > finished else "进行中" if month > begins or month == step.month else "未开始"
                if position == 5 and step.milestone_id == "funds" and text == "已完成":
                    text = "进行中"
                if position == 4 and step.milestone_id == "construction" and text == "进行中" and month == months[-1]:
                    text = "滞后"
                status.append([pilot.pilot_id, region, filed, step.name, month, text, ""])
            share = _money_share(steps, month)
            if share is not None:
                disbursed = round(45 * share, 2)
                spent = round(disbursed * rng.uniform(0.5, 0.9), 2)
                funds.append([pilot.pilot_id, region, filed, month, 45, disbursed, spent, ""])
    status.append(
        ["990101999999", UNKNOWN_VILLAGE, sim._local(now - timedelta(days=1)), steps[0].name, months[-1], "已完成", ""]
    )
    # Spending more than was disbursed is a typing error: quarantined by the funds dataset's check.
    funds.append(
        [
            programme.pilots[0].pilot_id,
            programme.pilots[0].code,
            sim._local(now - timedelta(days=1)),
            "2000-01",
            45,
            10,
            20,
            "笔误",
        ]
    )
    header = ["试点编号", "区划代码", "填报日期", "里程碑", "所属月份", "进度", "备注"]
    money = ["试点编号", "区划代码", "填报日期", "所属月份", "下达资金(万元)", "已拨付(万元)", "已支出(万元)", "备注"]
    return {
        "pilot_status": _drop(drops / "pilot_status" / "status.csv", header, status),
        "pilot_funds": _drop(drops / "pilot_funds" / "funds.csv", money, funds),
    }


def _next(month: str) -> str:
    year, number = map(int, month.split("-"))
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def _money_share(steps, month: str) -> float | None:
    """The share of the funds disbursed by a month: none before 落实支持资金, 40 % then, 10 % more a month."""
    start = next((s.month for s in steps if s.milestone_id == "funds"), steps[0].month)
    if month < start:
        return None
    elapsed = 0
    while start < month:
        start, elapsed = _next(start), elapsed + 1
    return min(1.0, 0.4 + 0.1 * elapsed)


def live_readings(universe: sim.Universe, plan_: Plan, drops: Path, now: datetime) -> None:
    """The extra devices' current readings as a file drop (the live simulator calls this each round)."""
    rows = [[d.device_id, m, now.isoformat(), _reading(universe, d, m, now)] for d in plan_.devices for m in d.metrics]
    _drop(drops / "sensors" / f"live-{now:%Y%m%d%H%M%S}-pilot.csv", READING_HEADER, rows)
