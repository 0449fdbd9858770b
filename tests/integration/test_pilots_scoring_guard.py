"""Scoring a programme's month, on SQLite and PostgreSQL with 忻州's real codes: a month in the future or before
the programme is refused in Chinese (by the CLI too), not stored nor ended in a traceback; two scorers of one
month at once both succeed."""

from __future__ import annotations

import threading
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from etl.cli import main
from etl.programmes import scoring
from etl.programmes.catalogue import load_programme
from etl.programmes.scoring import score_month
from etl.programmes.store import import_programme
from etl.warehouse.db import make_engine
from etl.warehouse.schema import pilot_scores
from tests.xinzhou_programme import NOW, PROGRAMME


def test_a_month_ahead_or_before_the_programme_is_not_scored(xinzhou_url):
    engine = make_engine(xinzhou_url)
    with engine.begin() as connection:
        import_programme(connection, load_programme(PROGRAMME), NOW)
    for month, message in (
        ("2024-01", "2024-01 还没有到（本月是 2023-12，北京时间）"),
        ("9999-12", "9999-12 还没有到"),
        ("2023-01", "2023-01 早于方案 xinzhou-2023 的第一个月 2023-02"),
        ("0001-01", "0001-01 早于方案 xinzhou-2023 的第一个月 2023-02"),
        ("2023-13", "'2023-13' 不是月份"),
    ):
        with engine.begin() as connection, pytest.raises(scoring.MonthError) as raised:
            score_month(connection, "xinzhou-2023", month, now=NOW)
        assert message in str(raised.value), month
    with engine.begin() as connection:
        assert score_month(connection, "xinzhou-2023", "2023-02", now=NOW).pilots == 67
    with engine.connect() as connection:
        assert list(connection.execute(select(pilot_scores.c.month).distinct()).scalars()) == ["2023-02"]
    engine.dispose()


def test_the_cli_refuses_such_months_in_chinese(tmp_path, real_data):
    var = str(tmp_path / "var")
    runner = CliRunner()
    assert (
        runner.invoke(main, ["--var-dir", var, "geo", "import", str(real_data / "admin_codes_1409.csv")]).exit_code == 0
    )
    assert runner.invoke(main, ["--var-dir", var, "programme", "import", str(PROGRAMME), "--no-score"]).exit_code == 0
    report = ["report", "monthly", "--programme", "xinzhou-2023", "--out", str(tmp_path / "r.xlsx"), "--month"]
    for command, message in (
        (["programme", "score", "--month", "2031-05"], "2031-05 还没有到"),
        (["programme", "score", "--month", "9999-12"], "9999-12 还没有到"),
        (["programme", "score", "--month", "2001-01"], "2001-01 早于方案 xinzhou-2023 的第一个月 2023-02"),
        ([*report, "0001-01"], "0001-01 早于 2000 年"),
        ([*report, "2022-12"], "2022-12 早于方案 xinzhou-2023 的第一个月 2023-02"),
    ):
        result = runner.invoke(main, ["--var-dir", var, *command])
        assert result.exit_code == 2 and message in result.output, (command, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'warehouse.db'}")
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(pilot_scores)).scalar() == 0
    engine.dispose()


def test_two_scorers_at_once_both_succeed(xinzhou_url):
    # The CLI, a report and the import scored without the lock etl watch takes: on PostgreSQL the second scorer
    # found the first's new rows where it had deleted the old ones (UniqueViolation on pilot_scores_pkey).
    engine = make_engine(xinzhou_url)
    with engine.begin() as connection:
        import_programme(connection, load_programme(PROGRAMME), NOW)
        score_month(connection, "xinzhou-2023", "2023-11", now=NOW)
    failures: list[BaseException] = []

    def second() -> None:
        try:
            with engine.begin() as connection:
                score_month(connection, "xinzhou-2023", "2023-11", now=NOW)
        except BaseException as error:  # noqa: BLE001 - reported to the test
            failures.append(error)

    with engine.begin() as connection:
        score_month(connection, "xinzhou-2023", "2023-11", now=NOW)
        other = threading.Thread(target=second)
        other.start()
        time.sleep(1.5)  # the second scorer reaches its writes while this one has not committed
    other.join(60)
    assert not other.is_alive() and failures == [], failures
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(pilot_scores)).scalar()
    engine.dispose()
    assert count == 22 * 17 + 45 * 18


def test_scoring_every_programme_passes_over_one_that_has_not_started(tmp_path, real_data):
    """`programme score` with neither --programme nor --month stopped at a programme imported ahead of its first
    month (an error about a --month nobody gave), and the programmes after it were not scored."""
    import re
    import shutil

    future = tmp_path / "future"
    shutil.copytree(PROGRAMME, future)
    text = (future / "programme.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^id = "xinzhou-2023"', 'id = "a-future-2099"', text)  # listed before xinzhou-2023
    (future / "programme.toml").write_text(re.sub(r'"202[34]-(\d\d)', r'"2099-\1', text), encoding="utf-8")
    var = str(tmp_path / "var")
    runner = CliRunner()
    assert (
        runner.invoke(main, ["--var-dir", var, "geo", "import", str(real_data / "admin_codes_1409.csv")]).exit_code == 0
    )
    for programme in (future, PROGRAMME):
        imported = runner.invoke(main, ["--var-dir", var, "programme", "import", str(programme), "--no-score"])
        assert imported.exit_code == 0, imported.output
    scored = runner.invoke(main, ["--var-dir", var, "programme", "score"])
    assert scored.exit_code == 0, scored.output
    assert "a-future-2099：方案自 2099-01 起，届时开始评分" in scored.output
    assert re.search(r"xinzhou-2023 \d{4}-\d\d：67 个试点", scored.output), scored.output
    asked = runner.invoke(main, ["--var-dir", var, "programme", "score", "--programme", "a-future-2099"])
    assert asked.exit_code == 1 and "早于方案 a-future-2099 的第一个月 2099-01" in asked.output
    assert "--month" not in asked.output  # nobody gave one
