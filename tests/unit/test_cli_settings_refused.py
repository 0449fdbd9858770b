"""A setting the product cannot use (a malformed number, a WAREHOUSE_URL that is no URL, a TILE_CRS or SECRET_KEY the
screens refuse, a server already running on the folder) ends in a Chinese message naming it, not an English traceback,
and serve refuses it before gunicorn starts."""

import os
import socket

import pytest
from click.testing import CliRunner

from etl.cli import main


def refused(result, *words: str) -> str:
    """The output of a command click ended with a Chinese error (not an exception escaping), checked for words."""
    assert result.exit_code in (1, 2), result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and "Error:" not in result.output, result.output
    for word in words:
        assert word in result.output, result.output
    return result.output


@pytest.fixture
def warehouse(tmp_path) -> list[str]:
    """The options of a command on a warehouse that exists (migrated, empty)."""
    base = ["--var-dir", str(tmp_path / "var")]
    assert CliRunner().invoke(main, [*base, "migrate"]).exit_code == 0
    return base


@pytest.fixture
def no_exec(monkeypatch):
    """serve stops where it would replace itself by gunicorn; a test reaching that point fails."""

    def execve(*arguments):
        raise AssertionError("gunicorn would have started")

    monkeypatch.setattr(os, "execve", execve)


@pytest.mark.parametrize(
    ("name", "value", "command"),
    [("PORT", "abc", ["serve"]), ("LATE_HOURS", "x", ["etl", "status"]), ("WEB_WORKERS", "2.5", ["migrate"])],
)
def test_a_malformed_number_in_a_setting_names_the_variable_and_its_value(warehouse, no_exec, name, value, command):
    result = CliRunner().invoke(main, [*warehouse, *command], env={name: value})
    refused(result, f"环境变量 {name} 的值 '{value}' 不是整数")


def test_a_warehouse_url_that_is_no_url_names_the_variable_and_hides_the_password(tmp_path):
    runner = CliRunner()
    base = ["--var-dir", str(tmp_path / "var")]
    for url, reason in (
        ("nonsense", "无法解析"),
        ("postgresql+nosuchdriver://rb:s3cret@db.example/rb", "不认识的数据库驱动"),
        ("oracle9://rb:s3cret@db.example/rb", "不认识的数据库类型"),
    ):
        for command in (["etl", "status"], ["migrate"], ["demo", "--no-serve"]):
            result = runner.invoke(main, [*base, *command], env={"WAREHOUSE_URL": url})
            output = refused(result, "WAREHOUSE_URL", reason)
            assert "s3cret" not in output, output
    masked = runner.invoke(
        main, [*base, "etl", "status"], env={"WAREHOUSE_URL": "postgresql+nosuchdriver://rb:s3cret@h/d"}
    )
    assert "rb:***@h/d" in masked.output, masked.output


def test_migrate_never_prints_the_warehouse_password(tmp_path):
    from etl.warehouse.db import masked_url

    assert masked_url("postgresql+psycopg://rb:s3cret@db/rb") == "postgresql+psycopg://rb:***@db/rb"
    assert masked_url("weird://rb:s3cret@db/rb?x=1") == "weird://rb:***@db/rb?x=1"
    assert masked_url("no url at all") == "no url at all"
    url = f"sqlite:///{tmp_path / 'w.db'}"
    said = CliRunner().invoke(main, ["--var-dir", str(tmp_path), "--warehouse-url", url, "migrate"])
    assert said.exit_code == 0 and url in said.output


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("TILE_CRS", "foo", ("TILE_CRS 'foo' 不是可用的坐标系", "wgs84", "gcj02")),
        ("SECRET_KEY", "change-me", ("SECRET_KEY 仍是 .env.example 中的占位值",)),
    ],
)
def test_serve_refuses_a_setting_the_screens_refuse_before_gunicorn_starts(warehouse, no_exec, variable, value, words):
    result = CliRunner().invoke(main, [*warehouse, "serve"], env={variable: value})
    output = refused(result, *words)
    assert "乡村大脑屏幕服务：http" not in output  # no address announced that nothing will answer on
    demo = CliRunner().invoke(main, [*warehouse, "demo"], env={variable: value})
    assert "[1/" not in refused(demo, *words)  # nothing built, no simulator or etl watch left running


def test_the_screens_refuse_a_tile_crs_in_chinese():
    from dashboard.basemap import display_crs
    from etl.warehouse.settings import TILE_CRS_CHOICES, SettingError, Settings

    assert display_crs(Settings.load(tile_crs=" GCJ02 ")) == "gcj02"
    with pytest.raises(SettingError, match="TILE_CRS 'foo' 不是可用的坐标系"):
        display_crs(Settings.load(tile_crs="foo"))
    assert TILE_CRS_CHOICES == ("wgs84", "gcj02")


def test_a_second_server_on_the_same_folder_refuses_while_the_first_one_runs(warehouse, tmp_path, no_exec):
    control = tmp_path / "var" / "gunicorn.ctl"
    live = socket.socket(socket.AF_UNIX)
    live.bind(str(control))
    live.listen()
    try:
        result = CliRunner().invoke(main, [*warehouse, "serve"])
        refused(result, "已有屏幕服务", str(control))
        assert control.exists()
    finally:
        live.close()
    # A socket nobody listens on any more (a server killed with SIGKILL) is no reason to refuse.
    with pytest.raises(AssertionError, match="gunicorn would have started"):
        CliRunner().invoke(main, [*warehouse, "serve"], catch_exceptions=False)
