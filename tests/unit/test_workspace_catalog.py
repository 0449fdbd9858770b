"""The workspace's measure catalog and labels agree with the datasets that declare the measures (etl/datasets):
every measure has a Chinese label, its table, time column and dimension are the declaration's, a count is
counted and a value summed or averaged, and every coded value's label is one the dataset's feed accepts."""

import pytest

from dashboard.workspace.catalog import AREAS, METRICS, measure_info, ordered
from dashboard.workspace.records import view_named
from etl.dataset import Invalid
from etl.datasets import datasets
from etl.datasets.readings import METRIC_RANGES
from etl.warehouse.labels import VALUES, value_label

DECLARED = [(dataset, measure) for dataset in datasets().values() for measure in dataset.measures]


@pytest.mark.parametrize(("dataset", "measure"), DECLARED, ids=[m.name for _, m in DECLARED])
def test_every_declared_measure_is_in_the_catalog_as_declared(dataset, measure):
    name = measure.name.replace("{metric}", "pm25")
    info = measure_info(name)
    assert info.area != "other" and info.label != name, f"{measure.name}: add it to dashboard/workspace/catalog.py"
    assert info.table == dataset.table.name and info.dataset_name == dataset.name
    assert info.time == measure.time and info.dimension == measure.dimension
    if dataset.reference:
        assert info.aggregate == "stock"
    elif measure.value is None:
        assert info.aggregate == "count"
    else:
        assert info.aggregate in ("sum", "mean", "latest")


def test_every_metric_of_the_readings_is_labelled():
    assert set(METRIC_RANGES) <= set(METRICS)
    assert measure_info("reading.cod").label == "污水COD" and measure_info("reading.cod").unit == "mg/L"
    assert measure_info("reading.online").scale == 100  # a camera online share shows as a percentage


def test_coded_values_are_labelled_as_the_feeds_write_them():
    """Each code is one the dataset's field accepts, and a label the feed accepts too reads back as that code."""
    by_table = {dataset.table.name: dataset for dataset in datasets().values()}
    checked = 0
    for (table, column), labels in VALUES.items():
        dataset = by_table.get(table)
        if dataset is None or column not in dataset.fields:
            continue
        field = dataset.fields[column]
        for code, label in labels.items():
            assert field.clean(code) == code, (table, column, code)
            try:
                parsed = field.clean(label)
            except Invalid:
                continue  # a label of our own (未办结 for 未处理 and 处理中)
            assert parsed == code, (table, column, code, label)
            checked += 1
    assert checked > 40
    assert value_label("cases", "category", "request") == "请求" and value_label("incidents", "kind", "盗窃") == "盗窃"


def test_an_unlabelled_measure_still_appears_by_its_name_and_the_order_follows_the_areas():
    found = ordered(["security.incidents", "cases.received", "something.new", "reading.pm25"])
    assert [info.name for info in found] == ["cases.received", "reading.pm25", "security.incidents", "something.new"]
    assert found[-1].area == "other" and AREAS[found[-1].area] == "其他"


def test_every_measure_with_a_table_has_a_records_view():
    for _dataset, measure in DECLARED:
        info = measure_info(measure.name.replace("{metric}", "pm25"))
        view = view_named(info.record_view, info.dimension)
        assert view is not None, info.name
        assert all(column.label for column in view.columns)


def test_every_records_column_and_coded_value_reads_in_chinese():
    """What a leader reads in the records and their exports: no column header is the warehouse's English name,
    and no value a feed writes as a code shows as that code."""
    import re

    chinese = re.compile(r"[\u4e00-\u9fff]")
    english, uncoded = set(), set()
    for dataset, measure in DECLARED:
        info = measure_info(measure.name.replace("{metric}", "pm25"))
        view = view_named(info.record_view, info.dimension)
        english |= {f"{view.name}.{column.key}" for column in view.columns if not chinese.search(column.label)}
        if info.dimension and not chinese.search(info.dimension_label):  # 分项构成 · 按…
            english.add(f"{info.name} by {info.dimension}")
        for name, field in dataset.fields.items():
            missing = [code for code in field.codes if value_label(dataset.table.name, name, code) == code]
            uncoded |= {f"{dataset.table.name}.{name}={code}" for code in missing}
    assert not english, sorted(english)
    assert not uncoded, sorted(uncoded)
