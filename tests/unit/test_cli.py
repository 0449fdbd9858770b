"""The ruralbrain command: geo import reports what it skipped and why; geo build writes map files once."""

import json

import orjson
from click.testing import CliRunner

from etl.cli import main

CODES = "code,name\n990199,测试县\n990199001,东镇\n990199002,西镇\n990199001001,甲村\n99019900100X,坏村\n"
OUTLINE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"code": "990199000000", "name": "测试县"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[117, 31], [117.2, 31], [117.2, 31.2], [117, 31.2], [117, 31]]],
            },
        }
    ],
}


def test_geo_import_then_build(tmp_path):
    (tmp_path / "codes.csv").write_text(CODES, encoding="utf-8")
    (tmp_path / "outline.geojson").write_text(json.dumps(OUTLINE), encoding="utf-8")
    runner = CliRunner()
    base = ["--var-dir", str(tmp_path / "var")]
    files = [str(tmp_path / "outline.geojson"), str(tmp_path / "codes.csv")]  # boundaries listed first on purpose
    result = runner.invoke(main, [*base, "geo", "import", *files, "--crs", "wgs84"])
    assert result.exit_code == 0, result.output
    assert "codes.csv：导入 4 个区划，0 个未变" in result.output
    skipped = "跳过：codes.csv，第 6 行，字段「code」：区划代码错误 [bad code]：代码 '99019900100X' 含非数字字符 'X'"
    assert skipped in result.output
    assert "跳过 1 项：" in result.output and "1 × 区划代码错误 [bad code]" in result.output
    assert "outline.geojson：导入 1 条边界，0 条未变" in result.output
    assert "示意边界：更新 3 个，未变 0 个" in result.output

    strict = runner.invoke(main, [*base, "geo", "import", str(tmp_path / "codes.csv"), "--strict"])
    assert strict.exit_code == 1 and "codes.csv：导入 0 个区划，4 个未变" in strict.output

    bad_parent = runner.invoke(main, [*base, "geo", "import", str(tmp_path / "outline.geojson"), "--parent", "99x"])
    assert bad_parent.exit_code == 1 and "--parent：代码 '99x' 含非数字字符 'x'" in bad_parent.output

    built = runner.invoke(main, [*base, "geo", "build"])
    assert built.exit_code == 0 and "地图几何已生成（数据版本 " in built.output
    assert "县级 " in built.output and "乡级 " in built.output and "村级 " in built.output
    manifest = orjson.loads((tmp_path / "var" / "geo" / "manifest.json").read_bytes())
    assert manifest["root"] == "990199000000"
    children = orjson.loads((tmp_path / "var" / "geo" / "children" / "990199000000.geojson").read_bytes())
    assert sorted(f["properties"]["name"] for f in children["features"]) == ["东镇", "西镇"]
    assert {f["properties"]["boundary"] for f in children["features"]} == {"schematic"}
    again = runner.invoke(main, [*base, "geo", "build"])
    assert "地图几何已是最新（数据版本 " in again.output


def test_etl_commands_collect_young_objects_less_often(tmp_path):
    """A load frees its rows by reference counting; the collector's walks over them are what `etl` saves."""
    import gc

    from etl.commands.feeds import LOAD_GC_THRESHOLD

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, *before[1:])
        assert CliRunner().invoke(main, ["--var-dir", str(tmp_path / "var"), "migrate"]).exit_code == 0
        result = CliRunner().invoke(main, ["--var-dir", str(tmp_path / "var"), "etl", "status"])
        assert result.exit_code == 0, result.output
        assert gc.get_threshold() == (LOAD_GC_THRESHOLD, *before[1:])
    finally:
        gc.set_threshold(*before)


def _commands(command, path):
    """Every command under ``command`` with its path, the group itself first."""
    import click

    yield " ".join(path), command
    if isinstance(command, click.Group):
        for name, child in command.commands.items():
            yield from _commands(child, [*path, name])


def test_every_command_and_option_explains_itself_in_chinese():
    import re

    import click

    chinese = re.compile(r"[\u4e00-\u9fff]")
    # Three English words in a row are a sentence (a Chinese help with an English one beside it); a command line
    # quoted in a help (etl watch, ruralbrain geo import) is not.
    sentence = re.compile(r"(?<![\w-])(?!ruralbrain )[A-Za-z]+(?: [A-Za-z]+){2,}")
    english = []
    for path, command in _commands(main, ["ruralbrain"]):
        if not chinese.search(command.help or "") or sentence.search(command.help or ""):
            english.append(f"{path}: {command.help!r}")
        for option in command.params:
            if not isinstance(option, click.Option):
                continue
            if not chinese.search(option.help or "") or sentence.search(option.help or ""):
                english.append(f"{path} {option.opts[0]}: {option.help!r}")
    assert not english, "\n".join(english)


def test_a_listing_limit_outside_its_range_is_refused_before_any_query(tmp_path):
    # On SQLite LIMIT -1 means no limit at all: a negative limit would list the whole table.
    runner = CliRunner()
    base = ["--var-dir", str(tmp_path / "var")]
    for command in (["etl", "quarantine", "list"], ["alerts", "list"], ["audit", "list"]):
        result = runner.invoke(main, [*base, *command, "--limit", "-1"])
        assert result.exit_code == 2, (command, result.output)
        assert "--limit" in result.output and "1<=x<=100000" in result.output


def test_a_feed_whose_source_settings_are_wrong_fails_its_run_with_a_chinese_reason_not_a_traceback(tmp_path):
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(
        '[feeds.weather]\ndataset = "weather_forecasts"\n[feeds.weather.source]\ntype = "http"\n'
        'url = "http://127.0.0.1:1/api"\nitems = "data"\ntoken_env = "NO_SUCH_TOKEN"\n'
        '[feeds.weather.mapping]\nregion_code = "c"\nevent_time = "t"\n',
        encoding="utf-8",
    )
    environment = {"FEEDS_FILE": str(feeds), "NO_SUCH_TOKEN": ""}
    result = CliRunner().invoke(main, ["--var-dir", str(tmp_path / "var"), "etl", "run"], env=environment)
    assert result.exit_code == 1 and not isinstance(result.exception, ValueError), result.output
    assert "weather" in result.output and "环境变量 NO_SUCH_TOKEN 未设置" in result.output


def test_a_file_feed_without_its_folder_fails_its_run_with_a_chinese_reason_not_a_traceback(tmp_path):
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(
        '[feeds.visits]\ndataset = "tourism"\n[feeds.visits.source]\ntype = "file"\n'
        '[feeds.visits.mapping]\nrecord_id = "a"\nregion_code = "b"\nevent_time = "c"\nvisitors = "d"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["--var-dir", str(tmp_path / "var"), "etl", "run"], env={"FEEDS_FILE": str(feeds)}
    )
    assert result.exit_code == 1 and not isinstance(result.exception, KeyError), result.output
    assert "visits：未运行：数据源 visits 的来源设置缺少 'path'" in result.output


def test_a_database_that_cannot_be_reached_is_a_chinese_error_not_a_traceback(tmp_path):
    (tmp_path / "w.db").mkdir()  # a folder where the database file should be
    runner = CliRunner()
    for url, reason in (
        (f"sqlite:///{tmp_path / 'w.db'}", "打不开数据库文件"),
        ("postgresql+psycopg://postgres@127.0.0.1:1/none", "连不上数据库"),  # nothing listens on port 1
    ):
        result = runner.invoke(main, ["--var-dir", str(tmp_path / "var"), "--warehouse-url", url, "etl", "status"])
        assert result.exit_code == 1, result.output
        assert f"错误：数据仓库暂时无法访问（{reason}" in result.output, result.output
        assert isinstance(result.exception, SystemExit)  # click's error exit, not an exception escaping


def test_verify_takes_a_window_of_1_to_1000_days(tmp_path):
    # 100,000 days put 2.4 million hours into one statement: "too many SQL variables".
    for days in ("0", "1001"):
        result = CliRunner().invoke(main, ["--var-dir", str(tmp_path / "var"), "etl", "verify", "--days", days])
        assert result.exit_code == 2 and "1<=x<=1000" in result.output, result.output


def test_a_file_that_cannot_be_written_is_a_chinese_error_naming_it(tmp_path, monkeypatch):
    runner = CliRunner()
    base = ["--var-dir", str(tmp_path / "var")]
    codes = tmp_path / "codes.csv"
    codes.write_text("code,name\n990101,示范县\n990101001,东镇\n990101001001,甲村\n", encoding="utf-8")
    assert runner.invoke(main, [*base, "geo", "import", str(codes)]).exit_code == 0
    monkeypatch.setenv("GEO_DIR", str(codes / "geo"))  # a folder asked for inside a file
    result = runner.invoke(main, [*base, "geo", "build"])
    assert result.exit_code == 1, result.output
    assert f"错误：无法访问文件 {codes / 'geo'}：路径中有一段不是目录" in result.output, result.output
