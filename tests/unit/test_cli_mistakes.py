"""An operator's mistakes in files and names end in a Chinese message naming what is wrong, not English, a silent
nothing or a new empty warehouse under a mistyped folder."""

import json

import pytest
from click.testing import CliRunner

from etl.cli import main
from tests.unit.test_cli import CODES, OUTLINE
from tests.unit.test_cli_settings_refused import refused


@pytest.fixture
def warehouse(tmp_path) -> list[str]:
    """The options of a command on a warehouse that exists (migrated, empty)."""
    base = ["--var-dir", str(tmp_path / "var")]
    assert CliRunner().invoke(main, [*base, "migrate"]).exit_code == 0
    return base


def test_a_feeds_file_that_cannot_be_read_is_named_as_given_with_a_chinese_reason(warehouse, tmp_path):
    runner = CliRunner()
    missing = tmp_path / "conf" / "nofeeds.toml"
    result = runner.invoke(main, [*warehouse, "etl", "status"], env={"FEEDS_FILE": str(missing)})
    output = refused(result, f"{missing}：无法读取（文件不存在）")
    assert "Errno" not in output and "No such file" not in output
    bad = tmp_path / "bad.toml"
    bad.write_text('[feeds.a]\ndataset = "weather"\n\n\nsource = { type = "http"\n', encoding="utf-8")
    result = runner.invoke(main, [*warehouse, "etl", "status"], env={"FEEDS_FILE": str(bad)})
    output = refused(result, f"{bad}：无法读取（TOML 语法错误，第 5 行第 ", "内联表没有闭合")
    assert "Unclosed" not in output


def test_a_quarantine_listing_says_why_it_lists_nothing(warehouse):
    runner = CliRunner()
    unknown = runner.invoke(main, [*warehouse, "etl", "quarantine", "list", "--feed", "nosuch"])
    refused(unknown, "nosuch", "没有这个数据源", "cases")  # the declared feeds, to pick the right name from
    known = runner.invoke(main, [*warehouse, "etl", "quarantine", "list", "--feed", "cases"])
    assert known.exit_code == 0 and "数据源 cases 没有被隔离的行" in known.output, known.output
    everything = runner.invoke(main, [*warehouse, "etl", "quarantine", "list"])
    assert everything.exit_code == 0 and "没有被隔离的行" in everything.output, everything.output


@pytest.mark.parametrize(
    "command",
    [
        ["etl", "status"],
        ["etl", "quarantine", "list"],
        ["etl", "quarantine", "retry"],
        ["etl", "verify"],
        ["etl", "verify", "--repair"],
        ["etl", "feeds", "retire", "old"],
        ["alerts", "list"],
        ["households", "list", "--village", "990199001001"],
        ["users", "list"],
    ],
)
def test_a_command_that_only_reads_refuses_a_warehouse_that_is_not_there(tmp_path, command):
    var = tmp_path / "nonexistent" / "x"
    result = CliRunner().invoke(main, ["--var-dir", str(var), *command])
    refused(result, f"数据仓库 {var / 'warehouse.db'} 不存在", "ruralbrain demo", "ruralbrain geo import")
    assert not var.exists()  # no empty warehouse left behind under a mistyped folder


def test_commands_that_build_a_warehouse_still_create_it(tmp_path):
    (tmp_path / "codes.csv").write_text(CODES, encoding="utf-8")
    var = tmp_path / "new"
    result = CliRunner().invoke(main, ["--var-dir", str(var), "geo", "import", str(tmp_path / "codes.csv")])
    assert result.exit_code == 0 and (var / "warehouse.db").exists(), result.output
    assert CliRunner().invoke(main, ["--var-dir", str(var), "etl", "status"]).exit_code == 0


def test_codes_without_a_county_outline_say_why_no_schematic_boundaries_were_drawn(tmp_path):
    (tmp_path / "codes.csv").write_text(CODES, encoding="utf-8")
    (tmp_path / "outline.geojson").write_text(json.dumps(OUTLINE), encoding="utf-8")
    base = ["--var-dir", str(tmp_path / "var")]
    runner = CliRunner()
    alone = runner.invoke(main, [*base, "geo", "import", str(tmp_path / "codes.csv")])
    assert alone.exit_code == 0, alone.output
    assert "示意边界：更新 0 个" not in alone.output
    assert "测试县（990199000000）没有边界，未生成其下区划的示意边界：先导入它的边界" in alone.output, alone.output
    outlined = runner.invoke(main, [*base, "geo", "import", str(tmp_path / "outline.geojson"), "--crs", "wgs84"])
    assert "示意边界：更新 3 个，未变 0 个" in outlined.output and "没有边界" not in outlined.output
