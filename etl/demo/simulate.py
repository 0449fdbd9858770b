"""The demo simulator: realistic data for 示范县 written through the real transports (file drops, an HTTP API,
MQTT, a job platform's SQL database), deterministic from a seed, with daily and weekly cycles, alarms, and about
1 % bad rows."""

from __future__ import annotations

import csv
import json
import math
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from openpyxl import Workbook
from sqlalchemy import select

from etl.demo import households_demo, job_platform, pilot_data
from etl.feeds import installation_id
from etl.warehouse.db import make_engine
from etl.warehouse.schema import regions
from etl.warehouse.settings import Settings

LOCAL = timezone(timedelta(hours=8))
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国"
CASE_TOPICS = {
    "矛盾": ["邻里宅基地边界争议", "家庭赡养矛盾", "土地流转租金争议"],
    "纠纷": ["工钱拖欠纠纷", "交通事故赔偿纠纷", "承包合同纠纷"],
    "请求": ["路灯损坏请求维修", "申请低保帮扶", "请求清理河道垃圾"],
    "诉求": ["反映自来水水压不足", "反映垃圾清运不及时", "建议增设公交站点"],
}
MODULES = ["综合", "综合", "线上矛调", "信访投诉", "曝光台", "清廉乡村"]
# What a case of 清廉乡村 or 曝光台 is about (a case of another module is about one of CASE_TOPICS).
MODULE_TOPICS = {
    "清廉乡村": [
        "村级工程项目招投标结果公示",
        "村干部廉洁履职承诺公开",
        "反映村集体资产出租未公开招标",
        "反映惠民补贴发放名单不透明",
        "村务监督委员会季度履职情况通报",
    ],
    "曝光台": [
        "村道两侧乱堆乱放长期未清理",
        "河塘水面漂浮垃圾未及时打捞",
        "违规占用耕地堆放建材",
        "公共厕所保洁不到位",
        "垃圾收集点污水外溢",
    ],
}
CHANNELS = ["二维码", "电话", "来访", "网格员"]
PRODUCTS = [("白茶", 168), ("湖羊肉", 88), ("青梅", 36), ("笋干", 45), ("板栗", 30)]
STOPS = [("S01", "城关站"), ("S02", "枣林站"), ("S03", "白沙站")]
ROUTES = [("1路", "县城—枣林"), ("1路", "枣林—县城"), ("5路", "县城—白沙"), ("5路", "白沙—县城")]
WEATHER = ["晴", "多云", "阴", "小雨"]
# What the demo villages publish on their boards (村务, 政务, 党务公开).
NOTICES = [
    ("村务", "{village}关于开展人居环境整治的通知", "请各户做好门前三包，垃圾分类投放，每周六上午集中清理房前屋后。"),
    (
        "村务",
        "{village}村民代表会议决议公示",
        "经村民代表会议表决通过村道硬化项目，公示期七天，如有异议请向村委会反映。",
    ),
    ("政务", "城乡居民医保参保缴费通知", "明年度城乡居民医保个人缴费已开始，请于年底前通过手机或到村便民服务点缴纳。"),
    ("党务", "{village}党支部主题党日活动安排", "本月主题党日开展党员志愿服务，请全体党员按时参加。"),
]
# 政策宣传 items of the demo county's content platform (written for the demo).
PUBLICITY = [
    ("垃圾分类 从我做起", "厨余垃圾、可回收物、有害垃圾、其他垃圾分类投放，做得好的农户可获积分兑换日用品。"),
    ("防范电信网络诈骗", "不轻信陌生来电，不点击不明链接，转账汇款前多核实。遇到可疑情况请拨打96110咨询。"),
    ("农房改造补助政策", "符合条件的困难家庭农房改造可申请补助，详情请咨询村便民服务中心。"),
    ("护林防火 人人有责", "秋冬季节天干物燥，进山不带火种，不在林区焚烧秸秆和垃圾。"),
]
# The columns of a 基层治理四平台 case export.
CASE_HEADER = [
    "事件编号",
    "所属村社代码",
    "受理时间",
    "事件类别",
    "来源模块",
    "反映渠道",
    "事件标题",
    "反映人",
    "联系电话",
    "办理状态",
    "处置层级",
    "处置时间",
    "办结时间",
    "评价时间",
    "办理时限",
    "满意度",
]


@dataclass(frozen=True)
class Device:
    """A simulated IoT device."""

    device_id: str
    kind: str  # the Chinese device type the registry export uses
    village: str
    metrics: tuple[str, ...]


class Universe:
    """The demo county as the simulator sees it: villages, townships and the devices placed in them."""

    def __init__(self, settings: Settings, seed: int):
        engine = make_engine(settings.warehouse_url)
        with engine.connect() as connection:
            rows = connection.execute(
                select(regions.c.code, regions.c.name, regions.c.level, regions.c.households).order_by(regions.c.code)
            ).all()
        engine.dispose()
        self.villages = [(r.code, r.name, r.households or 300) for r in rows if r.level == "village"]
        self.townships = [r.code for r in rows if r.level == "township"]
        self.seed = seed
        self.devices: list[Device] = []
        for index, (code, _name, _households) in enumerate(self.villages):
            if index % 2 == 0:
                self.devices.append(Device(f"BIN-{code[-6:]}", "垃圾桶", code, ("fill_level",)))
            if index % 4 == 0:
                self.devices.append(Device(f"CAM-{code[-6:]}", "摄像头", code, ("online",)))
            if index % 8 == 3:
                self.devices.append(Device(f"SOIL-{code[-6:]}", "土壤墒情", code, ("soil_moisture",)))
        for township in self.townships:
            first = next(v for v, _, _ in self.villages if v.startswith(township[:9]))
            self.devices.append(Device(f"SEW-{township[6:9]}", "污水处理站", first, ("cod", "nh3n", "flow")))
            self.devices.append(Device(f"AIR-{township[6:9]}", "空气监测", first, ("pm25", "aqi")))

    def rng(self, *parts: object) -> random.Random:
        """A random stream for one purpose and moment, the same on every run."""
        return random.Random(f"{self.seed}:" + ":".join(map(str, parts)))


def _person(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return name, f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"


def _until(rows: list[list], until: datetime, column: int) -> list[list]:
    """Only the rows whose time (local text in ``column``) has already happened."""
    limit = _local(until)
    return [row for row in rows if row[column] <= limit]


def _write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8") -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part")
    with open(temporary, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    temporary.rename(path)  # a file appears whole in the drop folder
    return len(rows)


def _module_topic(module: str, category: str, topic: str) -> str:
    """A case's title fitting its module: a 清廉乡村 or 曝光台 case's picked from the topic already drawn, with no
    draw of its own, so every other number of the demo stays as it was."""
    titles = MODULE_TOPICS.get(module)
    if titles is None:
        return topic
    return titles[(3 * list(CASE_TOPICS).index(category) + CASE_TOPICS[category].index(topic)) % len(titles)]


def _local(moment: datetime) -> str:
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S")


def _value(universe: Universe, device: Device, metric: str, moment: datetime) -> float:
    """A reading with daily (and, for air, weekly) cycles and occasional alarms."""
    rng = universe.rng("reading", device.device_id, metric, moment.isoformat())
    hour = moment.astimezone(LOCAL).hour
    if metric == "fill_level":  # fills during the day, emptied by the morning trip
        level = min(100.0, max(0.0, (hour - 6) % 24 * 4.5 + rng.gauss(0, 5)))
        return round(97.0 if rng.random() < 0.01 else level, 1)
    if metric == "online":
        return 0.0 if rng.random() < 0.03 else 1.0
    if metric == "soil_moisture":
        return round(35 + 8 * math.sin(moment.timestamp() / 86400) + rng.gauss(0, 2), 1)
    if metric == "cod":  # GB 18918 class 1B limit is 60 mg/L; about 2 % of hours exceed it
        return round(rng.uniform(62, 90) if rng.random() < 0.02 else rng.uniform(25, 50), 1)
    if metric == "nh3n":
        return round(rng.uniform(8.5, 14) if rng.random() < 0.02 else rng.uniform(1.5, 6), 2)
    if metric == "flow":
        return round(120 + 60 * math.sin((hour - 8) / 24 * 2 * math.pi) + rng.gauss(0, 10), 1)
    night = 1.3 if hour < 6 or hour > 20 else 1.0
    weekend = 0.85 if moment.astimezone(LOCAL).weekday() >= 5 else 1.0
    pm25 = max(3.0, 32 * night * weekend + rng.gauss(0, 6))
    return round(pm25 if metric == "pm25" else min(500.0, pm25 * 1.4 + 10), 1)


def _corrupt(rng: random.Random, row: list, region_index: int, value_index: int) -> list:
    """About 1 % of rows come out bad, as real exports do: a mistyped code or a value that is not a number."""
    if rng.random() >= 0.01:
        return row
    row = list(row)
    if rng.random() < 0.5:
        row[region_index] = str(row[region_index])[:-1] + "X"
    else:
        row[value_index] = rng.choice(["N/A", "", "--"])
    return row


def _affordable(entries: list[list], balances: dict[str, int]) -> list[list]:
    """The points entries (in time order) a household's balance allows: a 兑换 it cannot pay for is left out (a
    household drawn at random was redeemed 100 with nothing earned, and its page stood below zero)."""
    kept = []
    for entry in entries:
        household, points = entry[1], entry[5]
        if balances.get(household, 0) + points < 0:
            continue
        balances[household] = balances.get(household, 0) + points
        kept.append(entry)
    return kept


def _day_files(
    universe: Universe, drops: Path, day: datetime, until: datetime, balances: dict[str, int] | None = None
) -> dict[str, int]:
    """Every file drop of one local day (up to ``until``); ``balances``, each household's points so far, follow
    the day's points entries."""
    balances = {} if balances is None else balances
    counts: dict[str, int] = {}
    stamp = day.astimezone(LOCAL).strftime("%Y%m%d")
    hours = [day + timedelta(hours=h) for h in range(24) if day + timedelta(hours=h) <= until]
    rng = universe.rng("day", stamp)

    readings = []
    for device in universe.devices:
        for moment in hours:
            for metric in device.metrics:
                row = [device.device_id, metric, moment.isoformat(), _value(universe, device, metric, moment)]
                readings.append(_corrupt(rng, row, 0, 3) if rng.random() < 0.5 else row)
    late = [r for r in readings[: len(readings) // 50]]  # a few readings arrive again later (late duplicates)
    counts["sensor_files"] = _write_csv(
        drops / "sensors" / f"readings-{stamp}.csv", ["device", "metric", "time", "value"], readings + late
    )

    cases = []
    for number in range(int(40 * (0.5 if day.astimezone(LOCAL).weekday() >= 5 else 1.0))):
        village = rng.choice(universe.villages)[0]
        received = day + timedelta(hours=rng.uniform(8, 18))
        if received > until:
            continue
        category = rng.choice(list(CASE_TOPICS))
        name, phone = _person(rng)
        progress = rng.random()
        # Most cases close within their three days; some overrun, more in some villages than in others, so
        # 按期办结率 differs between regions (4 % to 28 % of closures late, by the village's code).
        late = rng.random() < 0.04 + 0.06 * (int(village[-3:]) % 5)
        closed = received + timedelta(hours=rng.uniform(76, 160) if late else rng.uniform(2, 72))
        closed = closed if progress < 0.75 else None
        closed = closed if closed and closed <= until else None
        rated = closed + timedelta(hours=rng.uniform(1, 24)) if closed and progress < 0.5 else None
        rated = rated if rated and rated <= until else None
        status = "评价" if rated else "办结" if closed else "处置中" if progress < 0.9 else "受理"
        module, channel, topic = rng.choice(MODULES), rng.choice(CHANNELS), rng.choice(CASE_TOPICS[category])
        cases.append(
            _corrupt(
                rng,
                [
                    f"SF{stamp}{number:04d}",
                    village,
                    _local(received),
                    category,
                    module,
                    channel,
                    _module_topic(module, category, topic),
                    name,
                    phone,
                    status,
                    rng.choice(["村", "村", "镇", "县"]),
                    _local(received + timedelta(hours=1)) if status != "受理" else "",
                    _local(closed) if closed else "",
                    _local(rated) if rated else "",
                    _local(received + timedelta(days=3)),
                    rng.choice([4, 5, 5, 3]) if rated else "",
                ],
                1,
                3,
            )
        )
    counts["cases"] = _write_csv(drops / "cases" / f"cases-{stamp}.csv", CASE_HEADER, cases, encoding="gbk")

    morning = day + timedelta(hours=7)
    if morning <= until:
        trips = [
            [
                f"WT{stamp}{i:03d}",
                code,
                _local(morning + timedelta(minutes=5 * i)),
                round(rng.uniform(0.3, 1.2), 2),
                round(rng.uniform(0.72, 0.95), 3),
            ]
            for i, (code, _, _) in enumerate(universe.villages[::3])
        ]
        counts["waste"] = _write_csv(
            drops / "waste" / f"waste-{stamp}.csv", ["趟次编号", "村代码", "清运时间", "重量(吨)", "分类准确率"], trips
        )
        weekend = day.astimezone(LOCAL).weekday() >= 5
        visits = [
            [
                f"TV{stamp}{i:03d}",
                code,
                day.astimezone(LOCAL).strftime("%Y-%m-%d"),
                int(rng.uniform(80, 300) * (2.2 if weekend else 1.0)),
                rng.randrange(0, 12),
            ]
            for i, (code, _, _) in enumerate(universe.villages[::10])
        ]
        counts["tourism"] = _write_csv(
            drops / "tourism" / f"tourism-{stamp}.csv", ["编号", "村代码", "日期", "游客人次", "农家乐预订"], visits
        )
        kinds = ["远程会诊", "线上课堂", "培训", "文化活动"]
        events = [
            [
                f"LV{stamp}{i:02d}",
                rng.choice(universe.villages)[0],
                _local(day + timedelta(hours=9 + i % 8)),
                kinds[i % 4],
                f"{kinds[i % 4]}第{i + 1}场",
                rng.randrange(8, 60),
            ]
            for i in range(rng.randrange(6, 14))
        ]
        counts["livelihood"] = _write_csv(
            drops / "livelihood" / f"livelihood-{stamp}.csv",
            ["编号", "村代码", "时间", "类型", "名称", "参与人数"],
            _until(events, until, 2),
        )
        incidents = [
            [
                f"IN{stamp}{i:02d}",
                rng.choice(universe.villages)[0],
                _local(day + timedelta(hours=rng.uniform(0, 20))),
                rng.choice(["盗窃", "邻里纠纷", "火情", "交通事故"]),
                rng.choice(["已处理", "已处理", "处理中"]),
            ]
            for i in range(rng.randrange(1, 5))
        ]
        counts["incidents"] = _write_csv(
            drops / "incidents" / f"incidents-{stamp}.csv",
            ["编号", "村代码", "发生时间", "类型", "状态"],
            _until(incidents, until, 2),
        )
        entries = []
        for i in range(120):
            code, _, households = rng.choice(universe.villages)
            source = rng.choice(["文明诚信", "垃圾分类", "垃圾分类", "平台使用", "志愿服务", "兑换"])
            points = -rng.choice([20, 50, 100]) if source == "兑换" else rng.choice([2, 5, 10])
            entries.append(
                [
                    f"PT{stamp}{i:04d}",
                    f"{code}-{rng.randrange(1, households + 1):04d}",
                    code,
                    _local(day + timedelta(hours=rng.uniform(8, 20))),
                    source,
                    points,
                ]
            )
        counts["points"] = _write_csv(
            drops / "points" / f"points-{stamp}.csv",
            ["流水号", "户码", "村代码", "时间", "积分来源", "积分"],
            _affordable(sorted(_until(entries, until, 3), key=lambda entry: entry[3]), balances),
        )
        if day.astimezone(LOCAL).weekday() == 2:
            party = [
                [
                    f"PA{stamp}{i:03d}",
                    code,
                    _local(day + timedelta(hours=15)),
                    rng.choice(["支部党员大会", "党课", "党小组会"]),
                    "学习贯彻会议精神",
                    rng.randrange(10, 40),
                ]
                for i, (code, _, _) in enumerate(universe.villages[::4])
            ]
            counts["party"] = _write_csv(
                drops / "party" / f"party-{stamp}.csv",
                ["编号", "村代码", "时间", "类型", "主题", "参加人数"],
                _until(party, until, 2),
            )
    return counts


def _labour_and_registry(universe: Universe, drops: Path, now: datetime) -> dict[str, int]:
    today = now.astimezone(LOCAL).strftime("%Y-%m-%d")
    rng = universe.rng("labour", today)
    labour = []
    for code, _, households in universe.villages:
        people = int(households * 1.6)
        migrant = int(people * rng.uniform(0.3, 0.5))
        unemployed = int(people * rng.uniform(0.02, 0.06))
        labour += [
            [code, today, "外出务工", migrant],
            [code, today, "本地就业", people - migrant - unemployed],
            [code, today, "待业", unemployed],
        ]
    devices = [[d.device_id, d.kind, f"{d.kind}{d.device_id[-3:]}", d.village, "2023-06-01"] for d in universe.devices]
    register = universe.rng("households")
    households = [
        [f"{code}-{n:04d}", code, "2023-06-01", *_person(register), register.randrange(1, 7)]
        for code, _, count in universe.villages
        for n in range(1, count + 1)
    ]
    stops = [[stop, name, universe.townships[0], "2023-06-01"] for stop, name in STOPS]
    return {
        "households": _write_csv(
            drops / "households" / "households.csv",
            ["户码", "村代码", "登记日期", "户主", "联系电话", "人口"],
            households,
        ),
        "stops": _write_csv(drops / "stops" / "stops.csv", ["站点编号", "站点名称", "所属区划", "启用日期"], stops),
        "labour": _write_csv(
            drops / "labour" / f"labour-{today.replace('-', '')}.csv", ["村代码", "日期", "就业状态", "人数"], labour
        ),
        "devices": _write_csv(
            drops / "devices" / "devices.csv", ["设备编号", "设备类型", "设备名称", "村代码", "安装日期"], devices
        ),
    }


def _finance_and_notices(universe: Universe, drops: Path, now: datetime, days: int) -> dict[str, int]:
    rng = universe.rng("finance")
    months = sorted({(now - timedelta(days=d)).astimezone(LOCAL).strftime("%Y-%m") for d in range(days)})
    # Villages publish a month's accounts on its 5th: before then, this month's export does not exist yet.
    today = now.astimezone(LOCAL).strftime("%Y-%m-%d")
    months = [month for month in months if f"{month}-05" <= today]
    written = 0
    for month in months:
        book = Workbook()
        sheet = book.active
        sheet.append(["编号", "村代码", "公开日期", "科目", "收支", "金额", "所属期间"])
        for code, _, _ in universe.villages:
            for n, (item, direction) in enumerate(
                [("集体经营收入", "收入"), ("上级补助收入", "收入"), ("村干部报酬", "支出"), ("公益事业支出", "支出")]
            ):
                sheet.append(
                    [
                        f"CW{code}{month.replace('-', '')}{n}",
                        code,
                        f"{month}-05",
                        item,
                        direction,
                        round(rng.uniform(2000, 60000), 2),
                        month,
                    ]
                )
                written += 1
        path = drops / "finance" / f"finance-{month}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        book.save(path)
    notices = []
    for code, name, _ in universe.villages:
        for n, (kind, title, body) in enumerate(NOTICES):
            notices.append(
                [
                    f"GG{code}{n}",
                    code,
                    _local(now - timedelta(days=rng.randrange(1, 25), hours=rng.randrange(8, 17))),
                    kind,
                    title.format(village=name),
                    body,
                ]
            )
    county = universe.villages[0][0][:6] + "000000"
    publicity = [
        [f"XC{n:02d}", county, _local(now - timedelta(days=2 + 3 * n)), title, body, _local(now + timedelta(days=60))]
        for n, (title, body) in enumerate(PUBLICITY)
    ]
    # One campaign that has ended: screens must no longer show it.
    publicity.append(
        [
            "XC99",
            county,
            _local(now - timedelta(days=40)),
            "国庆假期出行提示",
            "假期已结束。",
            _local(now - timedelta(days=30)),
        ]
    )
    return {
        "finance": written,
        "notices": _write_csv(
            drops / "notices" / "notices.csv", ["编号", "村代码", "发布时间", "类别", "标题", "正文"], notices
        ),
        "publicity": _write_csv(
            drops / "publicity" / "publicity.csv",
            ["编号", "发布范围代码", "发布时间", "标题", "内容", "有效期至"],
            publicity,
        ),
    }


class ApiStore:
    """What the simulated HTTP API serves: orders, weather forecasts, bus arrivals (a JSON file under var/)."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()

    def read(self) -> dict:
        with self.lock:
            return json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}

    def write(self, data: dict) -> None:
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".part")
            temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            temporary.replace(self.path)


# Days of orders the simulated shop's API keeps: `simulate --live` adds one a minute, and the file is rewritten each
# time, so it must not grow for as long as a demo runs. The feed reads from its watermark, days back at most.
API_ORDER_DAYS = 45


def with_order(orders: list[dict], order: dict, now: datetime) -> list[dict]:
    """The shop's orders with a new one, those paid more than API_ORDER_DAYS before ``now`` left out."""
    since = (now - timedelta(days=API_ORDER_DAYS)).isoformat()
    return [kept for kept in orders if kept["paid_at"] >= since] + [order]


def _api_data(universe: Universe, now: datetime, days: int) -> dict:
    rng = universe.rng("orders")
    orders = []
    for hour in range(days * 24):
        moment = now - timedelta(hours=days * 24 - hour)
        for n in range(rng.randrange(0, 6)):
            product, price = rng.choice(PRODUCTS)
            quantity = rng.randrange(1, 5)
            orders.append(
                {
                    "order_no": f"DS{moment:%Y%m%d%H}{n}",
                    "village_code": rng.choice(universe.villages)[0],
                    "paid_at": moment.replace(minute=rng.randrange(60)).isoformat(),
                    "product": product,
                    "qty": quantity,
                    "amount": price * quantity,
                }
            )
    return {"orders": orders, **_rolling(universe, now)}


def _rolling(universe: Universe, now: datetime) -> dict:
    """Weather forecasts for the next 24 hours and the next buses at each stop, as of now."""
    rng = universe.rng("rolling", now.strftime("%Y%m%d%H%M"))
    issued = now.replace(minute=0, second=0, microsecond=0)
    forecasts = [
        {
            "area_code": township,
            "time": (issued + timedelta(hours=h)).isoformat(),
            "issued": issued.isoformat(),
            "weather": rng.choice(WEATHER),
            "temp": round(12 + 6 * math.sin((h + issued.hour - 9) / 24 * 2 * math.pi), 1),
            "pop": round(rng.random() * 0.6, 2),
        }
        for township in universe.townships[:4]
        for h in range(1, 25)
    ]
    arrivals = [
        {
            "stop": stop,
            "route": route,
            "direction": direction,
            "area_code": universe.townships[0],
            "eta": (now + timedelta(minutes=rng.randrange(2, 40))).isoformat(),
            "observed": now.isoformat(),
        }
        for stop, _ in STOPS
        for route, direction in ROUTES
    ]
    return {"forecasts": forecasts, "arrivals": arrivals}


class _Handler(BaseHTTPRequestHandler):
    store: ApiStore

    def log_message(self, *_args) -> None:  # quiet: the ETL logs what it fetched
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        data = self.store.read()
        if url.path == "/api/orders":
            since = query.get("since", "")
            items = sorted((o for o in data.get("orders", []) if o["paid_at"] > since), key=lambda o: o["paid_at"])
            size, page = int(query.get("page_size", 500)), int(query.get("page", 1))
            body = {"data": items[(page - 1) * size : page * size], "page": page}
        elif url.path == "/api/weather":
            body = {"forecasts": data.get("forecasts", [])}
        elif url.path == "/api/buses":
            body = {"arrivals": data.get("arrivals", [])}
        else:
            self.send_error(404)
            return
        payload = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class SimulatorServer:
    """The simulated platforms' HTTP API on 127.0.0.1, served from an ApiStore in a background thread."""

    def __init__(self, store: ApiStore, port: int):
        handler = type("Handler", (_Handler,), {"store": store})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> SimulatorServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def simulate_history(
    settings: Settings, days: int = 30, seed: int = 2023, now: datetime | None = None, progress=None
) -> dict[str, int]:
    """Write ``days`` days of history up to ``now`` into the drop folders and the API store; rows per feed.
    ``progress(days done)`` is called after each simulated day."""
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    universe = Universe(settings, seed)
    drops = Path(settings.var_dir) / "drops"
    for folder in (
        "cases",
        "devices",
        "finance",
        "notices",
        "sensors",
        "waste",
        "tourism",
        "livelihood",
        "incidents",
        "points",
        "labour",
        "party",
        "households",
        "publicity",
        "stops",
        "catalogue",
    ):
        (drops / folder).mkdir(parents=True, exist_ok=True)  # every feed finds its folder, even before data
    counts: dict[str, int] = {}
    first_day = (now - timedelta(days=days - 1)).astimezone(LOCAL).replace(hour=0, minute=0)
    pilots = pilot_data.prepare(universe, drops, now)
    balances: dict[str, int] = {}  # each household's points in the daily files so far: none is ever overdrawn
    for offset in range(days):
        day_start = (first_day + timedelta(days=offset)).astimezone(UTC)
        for feed, n in _day_files(universe, drops, day_start, now, balances).items():
            counts[feed] = counts.get(feed, 0) + n
        day = (first_day + timedelta(days=offset)).astimezone(UTC)
        pilot_data.add(counts, pilot_data.day_files(universe, pilots, drops, day, now))
        if progress:
            progress(offset + 1)
    counts.update(_labour_and_registry(universe, drops, now))
    counts.update(households_demo.history(settings, universe, drops, now))  # 门牌, 组, catalogue, codes
    counts.update(_finance_and_notices(universe, drops, now, days))
    pilot_data.add(counts, pilot_data.history(settings, universe, pilots, drops, now, days))
    villages = [code for code, _, _ in universe.villages]
    counts["jobs"] = job_platform.write_history(_jobs_path(settings), villages, universe.rng, now, days)
    data = _api_data(universe, now, days)
    ApiStore(Path(settings.var_dir) / "sim" / "api.json").write(data)
    counts.update(orders=len(data["orders"]), weather=len(data["forecasts"]), buses=len(data["arrivals"]))
    return counts


def _jobs_path(settings: Settings) -> Path:
    """The job platform's database, which the demo's jobs feed reads."""
    return Path(settings.var_dir) / "sim" / "jobs.db"


def _publisher(host: str, port: int, installation: str):
    """A connected MQTT client, or None when no broker answers (the simulator then drops files instead)."""
    import paho.mqtt.client as paho

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"ruralbrain-demo-sensors-{installation}")
    try:
        client.connect(host, port, keepalive=30)
    except OSError:
        return None
    client.loop_start()
    return client


def simulate_live(
    settings: Settings,
    stop: threading.Event,
    seed: int = 2023,
    interval: float = 60.0,
    mqtt_host: str = "127.0.0.1",
    mqtt_port: int = 1883,
) -> None:
    """Keep producing current data until ``stop``: sensors (MQTT, else file drops), cases, orders, buses, weather,
    job postings and matches."""
    universe = Universe(settings, seed)
    villages = [code for code, _, _ in universe.villages]
    drops = Path(settings.var_dir) / "drops"
    store = ApiStore(Path(settings.var_dir) / "sim" / "api.json")
    installation = installation_id(settings.var_dir)
    client = _publisher(mqtt_host, mqtt_port, installation)
    pilots = pilot_data.prepare(universe, drops, datetime.now(UTC))
    try:
        while not stop.is_set():
            now = datetime.now(UTC).replace(microsecond=0)
            rng = universe.rng("live", now.isoformat())
            readings = [
                [d.device_id, m, now.isoformat(), _value(universe, d, m, now)]
                for d in universe.devices
                for m in d.metrics
            ]
            if client is not None:
                for device_id, metric, moment, value in readings:
                    kind = next(d.kind for d in universe.devices if d.device_id == device_id)
                    payload = json.dumps({"metric": metric, "time": moment, "value": value})
                    client.publish(f"ruralbrain/{installation}/{kind}/{device_id}", payload, qos=1)
            else:
                _write_csv(
                    drops / "sensors" / f"live-{now:%Y%m%d%H%M%S}.csv", ["device", "metric", "time", "value"], readings
                )
            pilot_data.live_readings(universe, pilots, drops, now)
            households_demo.live(settings, universe, now)  # 诉求 through household codes, via the intake
            if rng.random() < 0.5:
                category = rng.choice(list(CASE_TOPICS))
                name, phone = _person(rng)
                row = [
                    f"LIVE{now:%Y%m%d%H%M%S}",
                    rng.choice(universe.villages)[0],
                    _local(now),
                    category,
                    "综合",
                    rng.choice(CHANNELS),
                    rng.choice(CASE_TOPICS[category]),
                    name,
                    phone,
                    "受理",
                    "村",
                    "",
                    "",
                    "",
                    _local(now + timedelta(days=3)),
                    "",
                ]
                _write_csv(drops / "cases" / f"live-{now:%Y%m%d%H%M%S}.csv", CASE_HEADER, [row], encoding="gbk")
            data = store.read()
            product, price = rng.choice(PRODUCTS)
            order = {
                "order_no": f"LIVE{now:%Y%m%d%H%M%S}",
                "village_code": rng.choice(universe.villages)[0],
                "paid_at": now.isoformat(),
                "product": product,
                "qty": 1,
                "amount": price,
            }
            data["orders"] = with_order(data.get("orders", []), order, now)
            data.update(_rolling(universe, now))
            store.write(data)
            job_platform.live_update(_jobs_path(settings), villages, rng, now)
            stop.wait(interval)
    finally:
        if client is not None:
            client.loop_stop()
            client.disconnect()
