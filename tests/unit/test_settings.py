"""Settings: argument > environment variable > default, and every setting documented in the README."""

from pathlib import Path

import pytest

from etl.warehouse.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_argument_beats_environment_beats_default(monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("VAR_DIR", "/srv/rb")
    assert Settings.load().port == 8050
    assert Settings.load().warehouse_url == "sqlite:////srv/rb/warehouse.db"
    assert Settings.load().geo_dir == "/srv/rb/geo"
    monkeypatch.setenv("PORT", "9000")
    assert Settings.load().port == 9000
    assert Settings.load(port=9100).port == 9100
    assert Settings.load(port=None).port == 9000  # an argument not given falls through to the environment
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql+psycopg://db/rb")
    assert Settings.load().warehouse_url == "postgresql+psycopg://db/rb"


def test_relative_folders_are_made_absolute_against_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("VAR_DIR", "GEO_DIR", "WAREHOUSE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.load(var_dir="var")
    assert settings.var_dir == str(tmp_path / "var")
    assert settings.geo_dir == str(tmp_path / "var" / "geo")
    assert settings.warehouse_url == f"sqlite:///{tmp_path / 'var' / 'warehouse.db'}"
    assert Settings.load(geo_dir="maps").geo_dir == str(tmp_path / "maps")


def test_unknown_setting_is_an_error():
    with pytest.raises(TypeError, match="colour"):
        Settings.load(colour="red")


def test_every_setting_is_in_the_readme():
    readme = README.read_text(encoding="utf-8")
    missing = [name for name in Settings.environment_names() if f"`{name}`" not in readme]
    assert missing == [], f"settings missing from README.md: {missing}"


def test_a_malformed_number_names_the_variable_and_its_value(monkeypatch):
    from etl.warehouse.settings import SettingError

    monkeypatch.setenv("LATE_HOURS", "x")
    with pytest.raises(SettingError, match="环境变量 LATE_HOURS 的值 'x' 不是整数"):
        Settings.load()
    monkeypatch.delenv("LATE_HOURS")
    with pytest.raises(SettingError, match="设置 port 的值 'abc' 不是整数"):
        Settings.load(port="abc")
    monkeypatch.setenv("PORT", " 9000 ")
    assert Settings.load().port == 9000
