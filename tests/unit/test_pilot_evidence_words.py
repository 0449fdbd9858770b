"""Where an evidence rule's figure comes from reads in Chinese for every rule a catalogue may write: every measure,
metric and dataset has a name in etl/warehouse/labels.py, every field of every dataset a Chinese header and every
coded value a Chinese label, and the shipped catalogue's rules name none by its identifier."""

import re
from pathlib import Path

import pytest

from etl.datasets import datasets
from etl.datasets.readings import METRIC_RANGES
from etl.programmes.catalogue import load_programme
from etl.programmes.rules import parse_rule
from etl.warehouse.labels import DATASET_NAMES, MEASURE_NAMES, column_label, measure_name, value_label

CHINESE = re.compile(r"[\u4e00-\u9fff]")
IDENTIFIER = re.compile(r"(?<![A-Za-z])[a-z][a-z0-9]*(?:[._][a-z0-9]+)*(?![A-Za-z])")
SHIPPED = Path(__file__).resolve().parents[2] / "data" / "programmes" / "xinzhou-2023"


def test_every_measure_metric_dataset_field_and_code_has_a_chinese_name():
    declared = {measure.name for dataset in datasets().values() for measure in dataset.measures}
    templated = {name for name in declared if "{" in name}
    assert set(MEASURE_NAMES) == declared - templated
    assert all(CHINESE.search(measure_name(f"reading.{metric}")) or metric == "pm25" for metric in METRIC_RANGES)
    assert set(DATASET_NAMES) == set(datasets())
    unnamed = [
        f"{dataset.name}.{name}{'=' + code if code else ''}"
        for dataset in datasets().values()
        for name, field in dataset.fields.items()
        for code in ("", *field.codes)
        if not CHINESE.search(
            value_label(dataset.table.name, name, code) if code else column_label(dataset.table.name, name)
        )
    ]
    assert unnamed == []


def test_the_shipped_catalogues_rules_name_their_data_in_chinese():
    rules = [rule for item in load_programme(SHIPPED).items for rule in item.rules]
    english = {rule.source_text(): IDENTIFIER.findall(rule.source_text()) for rule in rules}
    assert {text: words for text, words in english.items() if words} == {}
    assert len(rules) > 40


@pytest.mark.parametrize(
    ("table", "source"),
    [
        (
            {"measure": "cases.closed_on_time", "aggregate": "ratio", "of": "cases.closed", "meets": ">= 90%"},
            "按期办结 ÷ 办结事件",
        ),
        ({"measure": "reading.cod", "aggregate": "mean", "meets": "<= 60"}, "污水COD（平均）"),
        (
            {"measure": "toilets.repaired", "aggregate": "ratio", "of": "toilets.records", "of_dimension": "fault"}
            | {"meets": ">= 90%"},
            "农厕修复 ÷ 农厕记录 · 故障",
        ),
        (
            {"measure": "farm.output", "dimension": "白茶", "aggregate": "total", "meets": ">= 1"},
            "农产品产量 · 白茶（合计）",
        ),
        (
            {"facts": "cases", "where": {"channel": ["二维码", "phone"]}, "meets": ">= 3"},
            "治理事件（渠道：二维码、电话）：条数",
        ),
        ({"facts": "jobs", "aggregate": "total", "value": "matched", "meets": ">= 3"}, "招聘岗位：已对接合计"),
        ({"screens": "stop", "meets": ">= 1"}, "已登记的公交站屏（15 分钟内有心跳）"),
    ],
)
def test_each_kind_of_rule_names_its_source(table, source):
    assert parse_rule({"what": "测试", **table}, "测试规则").source_text() == source
