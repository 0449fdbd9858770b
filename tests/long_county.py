"""The sample county with the longest data a screen must hold: the longest region, stop and household names in use,
long titles and texts, more notices, finance lines, cases, households, forecasts, publicity, services and open
alerts (long rule names, long device ids) than any slide shows, and seven-digit numbers in every panel. Texts
arrive through the sample's own file-drop feeds; the numbers are the rollups' counts and totals scaled up (a
million facts through the feeds would take minutes to load and show no more than the rollups they end in)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from etl.alerts.config import load_alerts
from etl.alerts.evaluate import Evaluator
from etl.dataset import BEIJING
from etl.demo.build import DEMO_DIR
from etl.demo.pilot_data import DELIBERATION_HEADER, SUPERVISION_HEADER
from etl.demo.sample import BOARD_VILLAGE, COUNTY, TOWNSHIP, VILLAGES, build_sample
from etl.feeds import load_feeds
from etl.geo_build import build_geometry
from etl.runner import run_feed
from etl.warehouse.db import make_engine
from etl.warehouse.schema import regions, rollups
from etl.warehouse.settings import Settings

STOP = "S88"
# Among the longest names of their level in China's statistical codes (积石山…自治县 has 15 characters).
NAMES = {
    COUNTY: "积石山保安族东乡族撒拉族自治县",
    TOWNSHIP: "鲁能晋北铝业工矿区街道办事处",
    "990101101000": "额尔古纳蒙古族民族乡人民政府",
    "990101201000": "大通回族土族自治县城关镇",
    BOARD_VILLAGE: "胜利路第二社区居民委员会",
    VILLAGES[1]: "鲁能晋北铝业工矿区虚拟社区",
    VILLAGES[2]: "黄河村第三村民小组居民委员会",
    VILLAGES[3]: "新农村建设示范点西北片区村委会",
}
TITLE = "关于{n}号村集体经济项目收益分配方案及村级公益事业建设项目实施情况的公示"
BODY = (
    "根据村民代表会议决议，现将本村集体经济项目收益分配方案、村级公益事业建设项目实施情况及资金使用明细予以公示，"
    "公示期为七个工作日。公示期间如有异议，请以书面形式向村务监督委员会反映，或拨打乡镇纪委监督电话反映问题。"
    "公示内容包括项目名称、建设地点、资金来源、投资规模、施工单位、验收结果和资金拨付进度等，欢迎广大村民监督。"
)
# A villager's question as typed: markup and a phone number in it reach a board as text, the number masked.
QUESTION = "<b>请答复</b>回电13812345678：" + TITLE + "的资金去向"
# 清廉乡村 and 曝光台 cases as long as their lists hold; a named problem carries markup and a phone number too.
INTEGRITY = "关于{n}号村集体资产出租未公开招标、村级工程项目资金使用情况的廉情反映及核查结果公示"
EXPOSED = "<b>曝光</b>举报电话13812345678：{n}号村道两侧乱堆乱放建筑垃圾和生活垃圾，长期未清理影响村容村貌"
HEADS = ["阿卜杜热合曼·买买提明", "欧阳振国", "司马建国", "王建国", "王振国", "李娜", "热依拉·艾尔肯", "诸葛明亮"]
SERVICES = [
    "农村产权交易服务",
    "新型农村合作医疗",
    "农业技术推广咨询",
    "农村电商物流服务",
    "法律援助在线咨询",
    "养老保险缴费查询",
    "惠农补贴资金查询",
    "宅基地审批进度查询",
    "农村危房改造申请",
    "就业创业政策咨询",
    "村级事务预约办理",
    "积分兑换商品目录",
    "防汛抗旱信息发布",
    "村民议事网上平台",
]
SEVEN_DIGITS = 9_500_000  # the county's largest number of each family of measures after scaling
# Bins with long ids, each over three rules with long names: more open alerts than the board's slide holds.
LONG_DEVICE = "积石山县城关片区垃圾分类智能桶第{n}号-GB2023-000{n}"
LONG_ALERTS = "".join(
    f'[rules.long{n}]\nname = "{name}"\nkind = "reading"\nmetric = "fill_level"\nfire = ">= 90"\nclear = "< 80"\n'
    f'severity = "{severity}"\n'
    for n, (name, severity) in enumerate(
        [
            ("垃圾分类智能桶满溢告警（请网格员通知保洁员及时清运处置）", "critical"),
            ("生活垃圾收集点满溢超过规定时限未清运", "major"),
            ("智能垃圾桶满溢", "warning"),
        ]
    )
)


def _write(folder: Path, header: list[str], rows: list[list]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "long.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])


def long_drops(now: datetime) -> dict[str, tuple[list[str], list[list]]]:
    """Rows for the sample's feeds (by drop folder) with long texts and more items than a slide holds."""
    month = f"{now.astimezone(BEIJING):%Y-%m}"
    hour = now.replace(minute=0, second=0, microsecond=0)

    def ago(minutes: float) -> str:
        return (now - timedelta(minutes=minutes)).isoformat()

    kinds = ["村务", "政务", "党务"]
    return {
        "notices": (
            ["id", "village", "time", "kind", "title", "body", "direction", "amount", "period"],
            [
                [f"LN{i}", BOARD_VILLAGE, ago(1 + i), kinds[i % 3], TITLE.format(n=i + 1), BODY, "", "", ""]
                for i in range(18)
            ]
            + [
                [
                    f"LF{i}",
                    BOARD_VILLAGE,
                    ago(1),
                    "财务",
                    f"村集体经济组织经营性资产租赁收入（光伏电站第{i + 1}期）",
                    "",
                    "收入" if i % 2 else "支出",
                    9_876_543.21 - i,
                    month,
                ]
                for i in range(16)
            ],
        ),
        "cases": (
            ["事件编号", "村代码", "受理时间", "类别", "模块", "状态", "办结时间", "期限", "满意度", "评价时间"]
            + ["标题", "反映人", "联系电话"],
            [
                [f"LC{i}", BOARD_VILLAGE, ago(1 + i), "诉求", "综合", "处置中", "", "", "", ""]
                + [f"反映{NAMES[BOARD_VILLAGE]}第{i + 1}组村道路灯长期损坏、排水沟堵塞，雨天积水严重影响出行", "", ""]
                for i in range(12)
            ]
            # Older than the requests above, so the 诉求办理 slide shows the same cases as before them.
            + [
                [f"{prefix}{i}", BOARD_VILLAGE, ago(100 + i), "诉求", module, "办结" if i % 2 else "处置中"]
                + [ago(30) if i % 2 else "", "", "", "", title.format(n=i + 1), "", ""]
                for prefix, module, title in (("LK", "清廉乡村", INTEGRITY), ("LE", "曝光台", EXPOSED))
                for i in range(6)
            ],
        ),
        "households": (
            ["户码", "村代码", "登记日期", "户主", "电话"],
            [[f"LH{i:03d}", BOARD_VILLAGE, "2023-06-01", HEADS[i % len(HEADS)], ""] for i in range(16)],
        ),
        "points": (
            ["id", "户码", "村代码", "时间", "来源", "积分"],
            [[f"LP{i}", f"LH{i:03d}", BOARD_VILLAGE, ago(2), "志愿服务", 99_000 - i] for i in range(16)],
        ),
        "weather": (
            ["area", "time", "issued", "weather", "temp"],
            [
                [BOARD_VILLAGE, (hour + timedelta(hours=h)).isoformat(), ago(5), "雷阵雨转中到大雨", -38.5]
                for h in range(24)
            ],
        ),
        "publicity": (
            ["id", "area", "time", "title", "body", "until"],
            [
                [
                    f"LX{i}",
                    TOWNSHIP,
                    ago(3 + i),
                    f"乡村振兴战略实施与农村人居环境整治提升五年行动方案宣传第{i + 1}期",
                    BODY,
                    "",
                ]
                for i in range(5)
            ],
        ),
        "incidents": (
            ["id", "village", "time", "kind", "status"],
            [[f"LI{i}", BOARD_VILLAGE, ago(10 + i), f"非法占用农用地建房{i}", "已处理"] for i in range(4)],
        ),
        "devices": (
            ["设备编号", "类型", "村代码", "安装时间"],
            [[LONG_DEVICE.format(n=i), "垃圾桶", BOARD_VILLAGE, "2025-01-01"] for i in range(8)],
        ),
        "readings": (
            ["device", "metric", "time", "value"],
            [[LONG_DEVICE.format(n=i), "fill_level", ago(5), 95 + i % 5] for i in range(8)],
        ),
        "deliberations": (
            DELIBERATION_HEADER,
            [
                [f"LY{i}", BOARD_VILLAGE, ago(60 + i), f"关于{TITLE.format(n=i + 1)[2:]}的议题", "村民代表会议"]
                + (
                    ["已表决", 1_234_567, 1_200_000, 34_567, ago(30), "通过"]
                    if i % 2
                    else ["表决中", 987, "", "", "", ""]
                )
                for i in range(6)
            ],
        ),
        "supervision": (
            SUPERVISION_HEADER,
            [
                [f"LJ{i}", BOARD_VILLAGE, ago(50 + i), "财务", "村务监督委员会", QUESTION.format(n=i + 1)]
                + (["已答复", ago(20), 5] if i % 2 else ["办理中", "", ""])
                for i in range(6)
            ],
        ),
        "stops": (
            ["id", "name", "area", "since"],
            [[STOP, "积石山县人民医院门诊楼东侧公交站", TOWNSHIP, "2023-06-01"]],
        ),
        "buses": (
            ["stop", "route", "direction", "area", "eta", "observed"],
            [
                [STOP, f"K80{i}路区间", "县城汽车站—积石山保安族东乡族撒拉族自治县高级中学", TOWNSHIP]
                + [(now + timedelta(minutes=5 + 9 * i)).isoformat(), ago(1)]
                for i in range(8)
            ],
        ),
    }


def scale_numbers(engine, now: datetime) -> None:
    """Multiply every family of measures' counts and totals (cases.*, reading.* …) by one factor, so that the
    county's largest number of the family over the last 30 days has seven digits; shares and averages keep."""
    since = now - timedelta(days=31)
    with engine.begin() as connection:
        largest: dict[str, float] = {}
        query = (
            select(rollups.c.measure, func.sum(rollups.c.count), func.sum(rollups.c.total))
            .where(rollups.c.region_code == COUNTY, rollups.c.bucket >= since)
            .group_by(rollups.c.measure, rollups.c.grain)
        )
        for measure, count, total in connection.execute(query):
            family = measure.split(".")[0]
            largest[family] = max(largest.get(family, 0), count or 0, abs(total or 0))
        for family, top in largest.items():
            factor = max(1, int(SEVEN_DIGITS // top)) if top else 1
            connection.execute(
                update(rollups)
                .where(rollups.c.measure.startswith(f"{family}."))
                .values(count=rollups.c.count * factor, total=rollups.c.total * factor)
            )


def write_services(path: Path) -> Path:
    """More services, with longer labels, than a board's slide holds."""
    lines = [
        f'[services.s{i}]\nlabel = "{label}"\nurl = "https://fuwu.example.cn/s{i}?village={{village}}"\n'
        for i, label in enumerate(SERVICES)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def build_long(var_dir: Path) -> Settings:
    """The sample under ``var_dir`` with the long data; the settings, with SERVICES_FILE pointing at its services."""
    settings = build_sample(var_dir)
    now = datetime.now(UTC)
    for folder, (header, rows) in long_drops(now).items():
        _write(var_dir / "drops" / folder, header, rows)
    feeds = load_feeds(var_dir / "screen-feeds.toml", {"var_dir": str(var_dir)})
    # The board's 民主议事 · 民主监督, which the sample does not feed: the demo's own feeds over these drops.
    demo = load_feeds(DEMO_DIR / "feeds.toml", {"var_dir": str(var_dir), "sim_port": "0"})  # no HTTP feed runs
    feeds |= {name: demo[name] for name in ("deliberations", "supervision")}
    engine = make_engine(settings.warehouse_url)
    for name, feed in feeds.items():
        quarantined = run_feed(engine, feed).counts.quarantined
        assert not quarantined, f"{name}: {quarantined} long rows were quarantined, not loaded"
    with engine.begin() as connection:
        for code, name in NAMES.items():
            connection.execute(update(regions).where(regions.c.code == code).values(name=name))
    rules = var_dir / "long-alerts.toml"
    rules.write_text(LONG_ALERTS, encoding="utf-8")
    Evaluator(engine, load_alerts(rules, {})).evaluate()  # as `etl watch` would after the readings' load
    scale_numbers(engine, now)
    build_geometry(engine, settings.geo_dir, force=True)
    engine.dispose()
    services = write_services(var_dir / "services.toml")
    return Settings.load(var_dir=str(var_dir), services_file=str(services))
