"""Pilot reports as counties file them, read by the pilot they name: on SQLite and PostgreSQL, with 忻州's real
2023 codes and the shipped programme. A month typed in Excel is a month; a mistyped 试点编号 is not summed into the
totals; a form filed under the county's code, or one row under a neighbour's, neither hides a township's progress
from its leader nor shows its money to the neighbour; a month years ahead is refused."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from etl.feeds import load_feeds
from etl.programmes.catalogue import load_programme
from etl.programmes.store import import_programme
from etl.regions import import_codes_file
from etl.runner import run_feed
from etl.warehouse import pilots as reads
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.pilot_reports.acceptance import acceptance_workbook
from etl.warehouse.pilot_reports.monthly import monthly_workbook, read_monthly
from tests.xinzhou_programme import NOW, PROGRAMME

HEAD_FUNDS = "试点编号,区划代码,填报日期,所属月份,下达资金(万元),已拨付(万元),已支出(万元),备注\n"
HEAD_STATUS = "试点编号,区划代码,填报日期,里程碑,所属月份,进度,备注\n"
FEEDS = """
[feeds.pilot_status]
dataset = "pilot_status"
cadence = "31d"
source = { type = "file", settle_seconds = 0, path = "{var_dir}/drops/pilot_status" }
mapping = { programme_id = "=xinzhou-2023", pilot_id = "试点编号", region_code = "区划代码", event_time = "填报日期", milestone = "里程碑", period = "所属月份", status = "进度", note = "备注" }

[feeds.pilot_funds]
dataset = "pilot_funds"
cadence = "31d"
source = { type = "file", settle_seconds = 0, path = "{var_dir}/drops/pilot_funds" }
mapping = { programme_id = "=xinzhou-2023", pilot_id = "试点编号", region_code = "区划代码", event_time = "填报日期", period = "所属月份", allocated = "下达资金(万元)", disbursed = "已拨付(万元)", spent = "已支出(万元)", note = "备注" }
"""  # noqa: E501
HONGDAO, JINCHANG, DINGXIANG = "140921102000", "140921100000", "140921000000"


@pytest.fixture
def county(xinzhou_url, tmp_path):
    engine = make_engine(xinzhou_url)
    with engine.begin() as connection:
        import_programme(connection, load_programme(PROGRAMME))
    (tmp_path / "feeds.toml").write_text(FEEDS, encoding="utf-8")
    for folder in ("pilot_status", "pilot_funds"):
        (tmp_path / "drops" / folder).mkdir(parents=True)
    feeds = load_feeds(tmp_path / "feeds.toml", {"var_dir": str(tmp_path)})
    yield engine, tmp_path / "drops", lambda name: run_feed(engine, feeds[name], now=lambda: NOW)
    engine.dispose()


def test_a_month_excel_stored_as_a_date_is_read_as_its_month(county):
    _engine, drops, run = county
    book = Workbook()
    book.active.append(HEAD_STATUS.strip().split(","))
    book.active.append([HONGDAO, HONGDAO, datetime(2023, 11, 28), "plan", datetime(2023, 11, 1), "已完成", ""])
    book.save(drops / "pilot_status" / "进度.xlsx")
    report = run("pilot_status")
    assert (report.counts.loaded, report.counts.quarantined) == (1, 0), [issue.detail for issue in report.issues]


def test_funds_and_progress_follow_the_pilot_they_name_not_the_rows_region(county):
    engine, drops, run = county
    (drops / "pilot_status" / "进度.csv").write_text(
        HEAD_STATUS + f"{HONGDAO},{DINGXIANG},2023-04-28,plan,2023-04,已完成,\n", encoding="utf-8"
    )
    (drops / "pilot_funds" / "资金.csv").write_text(
        HEAD_FUNDS + f"{HONGDAO},{JINCHANG},2023-04-28,2023-04,45,45,40,\n"
        "14092110200,140921102000,2023-04-28,2023-04,45,45,44,编号少一位\n",
        encoding="utf-8",
    )
    run("pilot_status"), run("pilot_funds")
    with engine.connect() as connection:
        own = reads.milestone_states(connection, "xinzhou-2023", "2023-04", HONGDAO, NOW)[HONGDAO]["plan"]
        own_funds = reads.funds(connection, "xinzhou-2023", "2023-04", HONGDAO)
        neighbour = reads.overview(connection, "xinzhou-2023", "2023-04", JINCHANG, NOW)
        everything = reads.overview(connection, "xinzhou-2023", "2023-04", now=NOW)
        report = monthly_workbook(read_monthly(connection, "xinzhou-2023", "2023-04", now=NOW), NOW)
    assert own.status == "done" and HONGDAO in own_funds
    assert neighbour["disbursed"] == 0  # 晋昌镇 reported no money of its own
    total = next(row for row in report["汇总"].iter_rows(values_only=True) if row[0] == "合计")
    assert (everything["disbursed"], everything["spent"]) == (total[8], total[9]) == (45, 40)  # not the mistyped id's


def test_a_report_for_a_month_ahead_is_refused(county):
    _engine, drops, run = county
    (drops / "pilot_status" / "进度.csv").write_text(
        HEAD_STATUS + f"{HONGDAO},{HONGDAO},2023-11-28,construction,2032-11,已完成,\n", encoding="utf-8"
    )
    report = run("pilot_status")
    assert report.counts.quarantined == 1 and "晚于本月" in report.issues[0].detail


def test_a_pilot_listed_with_another_countys_code_is_placed_by_its_names(tmp_path, real_data):
    # 宏道镇 (定襄县) written with 三交镇's code (忻府区) imported as "按代码": 定襄县's reports lost it, 忻府区's
    # gained a 定襄县 sheet, and it was scored on 三交镇's data.
    folder = tmp_path / "programme"
    shutil.copytree(PROGRAMME, folder)
    listed = (folder / "pilots.toml").read_text(encoding="utf-8")
    (folder / "pilots.toml").write_text(listed.replace('code = "140921102000"', 'code = "140902102000"'), "utf-8")
    engine = _imported(tmp_path, real_data, folder)
    with engine.connect() as connection:
        (pilot,) = [p for p in reads.pilots(connection, "xinzhou-2023") if p.name == "宏道镇"]
    engine.dispose()
    assert (pilot.region_code, pilot.resolution) == (HONGDAO, "name")
    assert "名单的代码 140902102000 是忻府区三交镇，与名单不符" in pilot.note


def test_a_pilots_score_sheet_is_its_own_when_another_is_tracked_under_its_region(tmp_path, real_data):
    # A village pilot the codes lack, tracked under its township and listed first, took the township's sheet.
    folder = tmp_path / "programme"
    shutil.copytree(PROGRAMME, folder)
    village = 'kind = "village"\ncounty = "静乐县"\ntownship = "王村镇"\nvillage = "下王村"\nid = "140926-下王村"\n'
    township = 'kind = "township"\ncounty = "静乐县"\ntownship = "王村镇"\ncode = "140926105000"\n'
    listed = f'[[pilots]]\n{village}within = "140926105000"\n\n[[pilots]]\n{township}'
    (folder / "pilots.toml").write_text(listed, encoding="utf-8")
    engine = _imported(tmp_path, real_data, folder)
    with engine.connect() as connection:
        sheet = acceptance_workbook(connection, "xinzhou-2023", "140926105000", "2023-11", NOW).active
    engine.dispose()
    cells = [str(value) for row in sheet.iter_rows(max_row=6, values_only=True) for value in row if value]
    assert any("王村镇" in cell for cell in cells) and not any("下王村" in cell for cell in cells), cells


def _imported(tmp_path: Path, real_data: Path, folder: Path):
    """A SQLite warehouse with 忻州's real codes and the programme in ``folder`` imported."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    import_codes_file(engine, real_data / "admin_codes_1409.csv")
    with engine.begin() as connection:
        import_programme(connection, load_programme(folder))
    return engine
