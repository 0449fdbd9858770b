"""Programme files as a careless or hostile editor writes them: control characters in names, codes of another
province, dimension values a measure does not have, funds of inf or 1e308, and rules or lists too long to print
or score are refused at import, each with a Chinese error naming the file, the entry and the key; the shipped
programmes stay within every limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.programmes import catalogue
from etl.programmes.catalogue import ProgrammeError, load_programme
from etl.programmes.rules import RuleError, parse_rule
from tests.xinzhou_programme import file_changed

PROGRAMMES = Path(__file__).resolve().parents[2] / "data" / "programmes"


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        # A control character (TOML's \u0001) was imported, then the monthly report died with IllegalCharacterError.
        (
            "pilots.toml",
            'township = "宏道镇"',
            'township = "宏道镇\\u0001"',
            "pilots.toml 第 2 个试点，键 township：含不可见的控制字符 U+0001",
        ),
        (
            "pilots.toml",
            'county = "定襄县"',
            'county = "定襄\\u200b县"',
            "第 2 个试点，键 county：含不可见的控制字符 U+200B",
        ),
        ("programme.toml", 'name = "确定试点对象"', 'name = "确定\\u0007试点对象"', "第 1 个里程碑，键 name：含不可见"),
        (
            "indicators.toml",
            'name = "党建引领"',
            'name = "党建\\u001b引领"',
            "indicators.toml 第 1 项，键 name：含不可见",
        ),
        (
            "indicators.toml",
            'what = "近30天各村党组织线上记录的党建活动（按村平均）"',
            'what = "近30天\\u0000党建活动"',
            "第 1 项（T1.1 党建引领），规则 1，键 what：含不可见的控制字符 U+0000",
        ),
        # Another province's code (长兴 330522…) in 忻州's list was taken silently.
        (
            "pilots.toml",
            'code = "140921102000"',
            'code = "330522101000"',
            "pilots.toml 第 2 个试点（定襄县宏道镇），键 code：330522101000 不在方案的区划 140900000000 之内",
        ),
        (
            "pilots.toml",
            'within = "140922"',
            'within = "330522"',
            "第 4 个试点（五台县驼梁景区），键 within：330522000000 不在方案的区划",
        ),
        # inf and nan are TOML numbers; 1e308 万元 per pilot overflowed every total.
        ("programme.toml", "funds_per_pilot = 45", "funds_per_pilot = inf", "键 funds_per_pilot：应为每个试点的资金"),
        ("programme.toml", "funds_per_pilot = 45", "funds_per_pilot = nan", "键 funds_per_pilot：应为每个试点的资金"),
        ("programme.toml", "funds_per_pilot = 45", "funds_per_pilot = 1e308", "键 funds_per_pilot：应为每个试点的资金"),
        # A typo in a dimension value counted nothing: every pilot 未达标.
        (
            "indicators.toml",
            'dimension = ["online", "mobile"]',
            'dimension = ["onlnie", "mobile"]',
            "第 2 项（T1.2 政务服务），规则 2，键 dimension：度量 gov.received 没有维度值 'onlnie'",
        ),
        (
            "indicators.toml",
            'of_dimension = "fault"',
            'of_dimension = "faults"',
            "键 of_dimension：度量 toilets.records 没有维度值 'faults'",
        ),
        # An 80,000-character what was stored in every score row and cut in the report's cell.
        (
            "indicators.toml",
            'what = "近30天各村党组织线上记录的党建活动（按村平均）"',
            'what = "' + "很长" * 60 + '"',
            "第 1 项（T1.1 党建引领），规则 1，键 what：长 120 个字符，超过 100",
        ),
        ("indicators.toml", 'unit = "次/村"', 'unit = "' + "次" * 11 + '"', "规则 1，键 unit：长 11 个字符，超过 10"),
    ],
)
def test_a_hostile_programme_file_is_refused_naming_file_entry_and_key(tmp_path, file, old, new, message):
    with pytest.raises(ProgrammeError) as raised:
        load_programme(file_changed(tmp_path, file, old, new))
    assert message in str(raised.value)


def test_a_dimension_written_as_the_feed_labels_it_is_read_as_its_code(tmp_path):
    # The feed's own label (网上办) was accepted as a value no rollup holds: 0, 未达标.
    folder = file_changed(
        tmp_path, "indicators.toml", 'dimension = ["online", "mobile"]', 'dimension = ["网上办", "mobile"]'
    )
    item = next(item for item in load_programme(folder).items if item.item_id == "T1.2")
    assert item.rules[1].dimensions == ("online", "mobile")
    rule = {"what": "产量", "measure": "farm.output", "aggregate": "total", "dimension": "小米", "meets": ">= 1"}
    assert parse_rule(rule, "x").dimensions == ("小米",)  # products are free text: any value
    with pytest.raises(RuleError, match="x，键 dimension：度量 gov.appointments（政务预约）不分维度"):
        parse_rule({"what": "预约", "measure": "gov.appointments", "dimension": "online", "meets": ">= 1"}, "x")


def test_too_many_pilots_items_or_bytes_are_refused(tmp_path, monkeypatch):
    folder = file_changed(tmp_path, "pilots.toml", "[[pilots]]", "[[pilots]]")
    listed = (folder / "pilots.toml").read_text(encoding="utf-8")
    many = "".join(
        f'[[pilots]]\nid = "p{n}"\nkind = "township"\ncounty = "忻府区"\ntownship = "合索镇"\nwithin = "140902"\n'
        for n in range(1001)
    )
    (folder / "pilots.toml").write_text(many, encoding="utf-8")
    with pytest.raises(ProgrammeError, match="pilots.toml：有 1001 个试点，超过 1000 个的上限"):
        load_programme(folder)
    (folder / "pilots.toml").write_text(listed + "#" * (2 * 1024 * 1024), encoding="utf-8")
    with pytest.raises(ProgrammeError, match="pilots.toml：文件有 2.0 MB，超过 2 MB 的上限"):
        load_programme(folder)
    (folder / "pilots.toml").write_text(listed, encoding="utf-8")
    monkeypatch.setattr(catalogue, "MAX_ITEMS", 34)
    with pytest.raises(ProgrammeError, match="indicators.toml：有 35 项指标，超过 34 项的上限"):
        load_programme(folder)


def test_the_shipped_programmes_stay_well_within_the_limits():
    for name in ("xinzhou-2023", "demo"):
        programme = load_programme(PROGRAMMES / name)
        assert len(programme.pilots) <= catalogue.MAX_PILOTS // 10 and len(programme.items) <= catalogue.MAX_ITEMS // 5
        assert max(len(rule.what) for item in programme.items for rule in item.rules) <= 50
        assert max(len(item.rules) for item in programme.items) <= catalogue.MAX_RULES // 2
    for path in (PROGRAMMES / "xinzhou-2023").iterdir():
        assert path.stat().st_size <= catalogue.MAX_FILE_BYTES // 50, path.name


def test_a_denominator_dimension_without_a_denominator_is_refused_naming_the_key():
    """of_dimension without of ended `programme import` in a KeyError traceback."""
    rule = {"what": "网上办件", "measure": "gov.received", "aggregate": "count", "window": "30d", "meets": ">= 1"}
    with pytest.raises(RuleError, match="indicators.toml 第 1 项，规则 1，键 of_dimension"):
        parse_rule(rule | {"of_dimension": "online"}, "indicators.toml 第 1 项，规则 1")
