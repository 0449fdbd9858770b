"""The indicator catalogue and programmes as data: the shipped 忻州 programme holds the notice's 35 items in its own
words, its 67 pilots and seven milestones; a broken file is refused with an error naming the file, the entry and
the key; thresholds, windows and the way rules combine into an item's status."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from etl.programmes.catalogue import ProgrammeError, load_programme
from etl.programmes.rules import RuleError, Window, parse_rule, parse_threshold
from etl.programmes.scoring import as_of_for, combine
from tests.realdata import REAL_DATA
from tests.xinzhou_programme import file_changed

PROGRAMMES = Path(__file__).resolve().parents[2] / "data" / "programmes"
SEEDS = REAL_DATA.parents[1] / "seeds"
SHARED = ["智慧农业", "电子商务", "乡村旅游", "劳务输出", "乡村教育", "乡村医疗", "乡村文化", "乡村素养"]
SHARED += ["垃圾清运", "污水处理", "农厕革命", "疫情防控"]
TOWNSHIP_ITEMS = ["党建引领", "政务服务", "监督管理", "诉求平台", *SHARED, "安全综治"]
VILLAGE_ITEMS = ["乡村党建", "政务服务", "村务管理", "请求诉求", *SHARED, "乡村综治", "乡村出行"]


def test_the_xinzhou_programme_as_the_notice_sets_it():
    programme = load_programme(PROGRAMMES / "xinzhou-2023")
    assert programme.programme_id == "xinzhou-2023" and programme.region == "140900000000"
    assert programme.funds_per_pilot == 45
    township = [item for item in programme.items if item.level == "township"]
    village = [item for item in programme.items if item.level == "village"]
    assert [item.name for item in township] == TOWNSHIP_ITEMS and [item.name for item in village] == VILLAGE_ITEMS
    assert [item.item_id for item in village[:5]] == ["V1.1", "V1.2", "V1.3", "V1.4", "V2.1"]
    assert {item.area for item in township} == {"治理数字化", "产业数字化", "民生数字化", "人居数字化", "安全数字化"}
    assert all(item.rules for item in programme.items)
    assert [(m.name, m.month) for m in programme.milestones] == [
        ("确定试点对象", "2023-02"),
        ("编制建设方案", "2023-03"),
        ("落实支持资金", "2023-04"),
        ("前期手续办理", "2023-05"),
        ("推进项目建设", "2023-11"),
        ("评估验收认定", "2023-12"),
        ("总结提炼推广", "2024-01"),
    ]
    assert programme.milestones[1].due == date(2023, 4, 30)  # the plan is filed by the end of April
    assert programme.milestones[1].due_at == datetime(2023, 4, 30, 15, 59, 59, tzinfo=UTC)  # 23:59:59 local
    kinds = [p.kind for p in programme.pilots]
    assert (kinds.count("township"), kinds.count("village")) == (22, 45)
    assert len({p.pilot_id for p in programme.pilots}) == 67
    without = {p.name: p.within for p in programme.pilots if p.code is None}
    assert without == {"驼梁景区": "140922000000", "王村镇下王村": "140926105000", "土沟乡榆岭洼村": "140930203000"}
    by_name = {p.name: p for p in programme.pilots}
    assert by_name["代县党群服务中心"].code == "140923400000"


def test_the_items_are_in_the_notices_own_words():
    if not SEEDS.is_dir():
        pytest.skip("the seed documents are not at ../shared/seeds")
    # The notice as published online writes half-width commas; the catalogue writes them as the notice's type does.
    notice = next(SEEDS.glob("000_*.txt")).read_text(encoding="utf-8").replace(",", "，")
    township, village = notice.split("附件2\n数字村庄试点建设参考指标")
    township = township.split("附件1\n数字乡镇试点建设参考指标")[1]
    programme = load_programme(PROGRAMMES / "xinzhou-2023")
    for item in programme.items:
        written = township if item.level == "township" else village
        assert f"{item.number}.{item.name}。{item.text}" in written, item.item_id
        assert re.search(rf"、{item.area}\n", written), item.item_id
    for pilot in programme.pilots:  # every pilot's name as 附件3 lists it
        assert pilot.name in notice, pilot.name


def test_the_demo_programme_runs_relative_to_now():
    programme = load_programme(PROGRAMMES / "demo", today=date(2026, 3, 10))
    assert [m.month for m in programme.milestones] == [
        "2025-07",
        "2025-08",
        "2025-09",
        "2025-10",
        "2026-04",
        "2026-05",
        "2026-06",
    ]
    assert len(programme.items) == 35  # scored by the 忻州 catalogue
    assert {p.kind for p in programme.pilots} == {"township", "village"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'window = "30d"\n  per',
            'window = "30x"\n  per',
            "indicators.toml 第 1 项（T1.1 党建引领），规则 1，键 window：'30x' 不是",
        ),
        (
            'measure = "party.activities"',
            'measure = "party.meetings"',
            "第 1 项（T1.1 党建引领），规则 1，键 measure：没有度量",
        ),
        ('meets = ">= 1"', 'meets = "at least 1"', "规则 1，键 meets：'at least 1' 不是阈值"),
        ('partly = ">= 0.3"', 'partly = "<= 0.3"', "规则 1，键 partly：部分达标与达标的比较方向应一致"),
        ('  unit = "次/村"', '  units = "次/村"', "规则 1：不认识的键 units"),
        ('per = "village"\n  meets = ">= 1"', 'per = "county"\n  meets = ">= 1"', "键 per：只能是"),
        ('what = "近30天各村党组织线上记录的党建活动（按村平均）"', 'what = ""', "规则 1，键 what：缺少规则的说明"),
        ('id = "T1.1"', 'id = "T1.2"', "indicators.toml 第 2 项，键 id：'T1.2' 重复或不合规"),
        ('level = "township"', 'level = "village"', "第 1 项（T1.1 党建引领），键 level"),
        (
            'where = { channel = ["二维码", "电话"] }',
            'where = { channel = ["微信"] }',
            "第 21 项（V1.4 请求诉求），规则 1，键 where.channel：'微信' 不是可选值之一",
        ),
        ('where = { channel = ["二维码", "电话"] }', 'where = { colour = ["红"] }', "数据集 cases 没有字段 'colour'"),
        ('  of = "gov.received"', "", "第 2 项（T1.2 政务服务），规则 4，键 of：比例"),
        ('screens = "board"', 'screens = "wall"', "键 screens：屏幕类型应为"),
        # A ratio's threshold without % could never be met; a count's with % was met by 1 件.
        (
            'of = "gov.received"\n  window = "30d"\n  meets = ">= 90%"',
            'of = "gov.received"\n  window = "30d"\n  meets = ">= 90"',
            "键 meets：比例的阈值应写成百分数",
        ),
        (
            'measure = "gov.appointments"\n  window = "30d"\n  meets = ">= 5"',
            'measure = "gov.appointments"\n  window = "30d"\n  meets = ">= 5%"',
            "键 meets：条数不是比例，阈值不能写成百分数",
        ),
    ],
)
def test_a_broken_rule_names_file_item_and_key(tmp_path, old, new, message):
    with pytest.raises(ProgrammeError) as raised:
        load_programme(file_changed(tmp_path, "indicators.toml", old, new))
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("programme.toml", 'month = "2023-03"', 'month = "2023-13"', "第 2 个里程碑，键 month：'2023-13' 不是月份"),
        ("programme.toml", 'due = "2023-04-30"', 'due = "4月底"', "第 2 个里程碑，键 due：'4月底' 不是日期"),
        ("programme.toml", 'region = "140900"', 'region = "14090X"', "programme.toml，键 region：代码 '14090X'"),
        ("pilots.toml", 'code = "140921102000"', 'code = "140921102001"', "第 2 个试点（定襄县宏道镇），键 code"),
        ("pilots.toml", 'within = "140922"\n', "", "第 4 个试点（五台县驼梁景区）：没有代码 code 时须给出"),
        ("pilots.toml", 'code = "140921102000"', 'code = "140902108000"', "键 id：编号 140902108000 与第 1 个试点重复"),
        ("pilots.toml", 'kind = "township"', 'kind = "town"', "第 1 个试点，键 kind：应为 township"),
    ],
)
def test_a_broken_programme_or_pilot_list_names_file_entry_and_key(tmp_path, file, old, new, message):
    with pytest.raises(ProgrammeError) as raised:
        load_programme(file_changed(tmp_path, file, old, new))
    assert message in str(raised.value)


def test_a_missing_file_is_named(tmp_path):
    folder = file_changed(tmp_path, "programme.toml", 'pilots = "pilots.toml"', 'pilots = "list.toml"')
    with pytest.raises(ProgrammeError, match="list.toml：文件不存在"):
        load_programme(folder)


def test_thresholds_and_windows():
    share = parse_threshold(">= 90%", "x", "meets")
    assert share.holds(0.9) and share.holds(0.95) and not share.holds(0.89) and share.text() == "≥ 90%"
    assert parse_threshold("<= 60", "x", "meets").holds(60) and not parse_threshold("< 60", "x", "meets").holds(60)
    assert parse_threshold(3, "x", "meets").text("件") == "≥ 3 件"
    with pytest.raises(RuleError, match="x，键 meets"):
        parse_threshold(True, "x", "meets")
    as_of = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)
    assert Window("days", 30).label(as_of) == "近30天（2026-02-19 至 2026-03-20）"
    assert Window("hours", 24).label(as_of) == "近24小时（2026-03-19 12:00 至 2026-03-20 12:00）"
    assert Window("month").label(as_of) == "2026年03月（03-01 至 03-20）"
    assert Window("ever").label(as_of) == "截至 2026-03-20"
    grain, first, last = Window("month").rollup_range(as_of, days=True)
    assert grain == "day" and first == datetime(2026, 2, 28, 16, 0, tzinfo=UTC) and last.day == 19
    rule = parse_rule({"what": "办结率", "measure": "gov.completed", "aggregate": "ratio", "of": "gov.received",
                       "meets": ">= 90%", "partly": ">= 60%"}, "x")  # fmt: skip
    assert [rule.status(v) for v in (0.95, 0.7, 0.1, None)] == ["met", "partly", "unmet", "no_data"]
    assert rule.value_text(0.956) == "95.6%" and rule.rule_text() == "≥ 90% 为达标，≥ 60% 为部分达标"
    # Shown as its rating reads: 0.8995 was written 90.0% beside "≥ 90% 为达标" and rated 部分达标.
    assert rule.status(0.8995) == "partly" and rule.value_text(0.8995) == "89.95%"
    assert rule.value_text(0.9) == "90.0%"
    mean = parse_rule({"what": "均值", "measure": "gov.completed", "aggregate": "mean", "meets": ">= 25"}, "x")
    assert mean.status(24.996) == "unmet" and mean.value_text(24.996) == "24.996"
    with pytest.raises(RuleError, match="按天计数"):
        parse_rule({"what": "天数", "measure": "waste.tonnage", "aggregate": "days", "window": "24h", "meets": 1}, "x")


def test_rules_combine_into_an_items_status():
    assert combine(["met", "met"], "all") == "met"
    assert combine(["met", "unmet"], "all") == "partly"
    assert combine(["partly", "no_data"], "all") == "partly"
    assert combine(["unmet", "no_data"], "all") == "unmet"
    assert combine(["no_data", "no_data"], "all") == "no_data"
    assert combine(["unmet", "met"], "any") == "met"
    assert combine(["unmet", "partly"], "any") == "partly"
    assert combine(["no_data", "unmet"], "any") == "unmet"


def test_a_past_month_is_read_at_its_last_second_and_the_current_one_now():
    now = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)
    assert as_of_for("2026-03", now) == now
    assert as_of_for("2026-02", now) == datetime(2026, 2, 28, 15, 59, 59, tzinfo=UTC)  # 23:59:59 local


def test_programme_files_as_windows_editors_save_them(tmp_path):
    # UTF-8 with a BOM (older Notepad, WPS) and GBK ("ANSI" on a Chinese Windows) were refused with Python's English
    # parser and codec messages, GBK without a line; pilots = ["…"] ended in a bare AttributeError.
    shipped = load_programme(PROGRAMMES / "xinzhou-2023")
    original = (PROGRAMMES / "xinzhou-2023" / "pilots.toml").read_bytes()
    for name, saved in (("bom", b"\xef\xbb\xbf" + original), ("gbk", original.decode("utf-8").encode("gbk"))):
        folder = tmp_path / name
        shutil.copytree(PROGRAMMES / "xinzhou-2023", folder)
        (folder / "pilots.toml").write_bytes(saved)
        assert load_programme(folder).pilots == shipped.pilots, name
    (folder / "pilots.toml").write_text('pilots = ["忻府区合索镇"]\n', encoding="utf-8")
    with pytest.raises(ProgrammeError, match=r"pilots.toml，键 pilots 第 1 项：应为表"):
        load_programme(folder)
    (folder / "pilots.toml").write_text("[[pilots]]\nkind = township\n", encoding="utf-8")
    with pytest.raises(ProgrammeError, match=r"pilots.toml：第 2 行第 8 列不是正确的 TOML 写法"):
        load_programme(folder)


def test_two_pilots_with_one_code_are_refused(tmp_path):
    # A block copied under a new id imported as 68 pilots on 67, one place counted and scored twice.
    folder = tmp_path / "copied"
    shutil.copytree(PROGRAMMES / "xinzhou-2023", folder)
    listed = (folder / "pilots.toml").read_text(encoding="utf-8")
    copy = (
        '[[pilots]]\nid = "宏道镇2"\nkind = "township"\ncounty = "定襄县"\ntownship = "宏道镇"\ncode = "140921102000"\n'
    )
    (folder / "pilots.toml").write_text(listed + "\n" + copy, encoding="utf-8")
    with pytest.raises(ProgrammeError, match=r"键 code：代码 140921102000 与第 2 个试点相同"):
        load_programme(folder)
