"""The demo's pilot programme through the real pipeline, on SQLite and PostgreSQL: every new dataset arrives through
its demo feed with its bad rows quarantined (file, row, field, reason), the measures roll up, the demo programme
is scored with a mix of results, and the monthly report and a score sheet opened with openpyxl equal the
warehouse; etl watch's hook rescores after loads, throttled."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, inspect, select, text

from etl.cli import main
from etl.demo import pilot_data
from etl.demo.build import build_demo
from etl.demo.simulate import ApiStore, SimulatorServer, simulate_history
from etl.feeds import load_feeds
from etl.programmes import refresh
from etl.programmes.refresh import after_run, rescore
from etl.runner import RunCounts, RunReport, run_feed
from etl.warehouse import pilots as reads
from etl.warehouse import village_records
from etl.warehouse.db import as_utc, make_engine
from etl.warehouse.pilot_reports.acceptance import POINTS
from etl.warehouse.schema import cases, pilot_scores, quarantine, rollups
from etl.warehouse.settings import Settings
from tests.browser.conftest import free_port

NOW = datetime(2026, 3, 10, 4, 30, tzinfo=UTC)
MONTH = "2026-03"
FEEDS = Path(__file__).resolve().parents[2] / "data" / "demo" / "feeds.toml"
NEW_FEEDS = pilot_data.FOLDERS  # a drop folder and a feed each
NEW_MEASURES = (
    "toilets.records",
    "toilets.repaired",
    "epidemic.quantity",
    "gov.appointments",
    "gov.received",
    "gov.joint",
    "gov.completed",
    "gov.feedback",
    "democracy.deliberations",
    "democracy.supervision",
    "trace.codes",
    "labour.registered",
    "farm.output",
    "reading.ammonia",
    "reading.co2",
    "reading.wind_speed",
    "reading.rainfall",
)


def build(settings: Settings, days: int = 8) -> tuple:
    """The demo county with ``days`` of simulated history loaded through every feed but MQTT, scored at NOW."""
    build_demo(settings, echo=lambda _line: None)
    simulate_history(settings, days=days, now=NOW)
    port = free_port()
    feeds = load_feeds(FEEDS, {"var_dir": settings.var_dir, "sim_port": str(port)})
    server = SimulatorServer(ApiStore(Path(settings.var_dir) / "sim" / "api.json"), port).start()
    engine = make_engine(settings.warehouse_url)
    try:
        reports = {name: run_feed(engine, feed, now=lambda: NOW) for name, feed in feeds.items() if name != "sensors"}
    finally:
        server.stop()
    return settings, engine, reports, rescore(engine, now=NOW)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo on SQLite, built once for the module."""
    built = build(Settings.load(var_dir=str(tmp_path_factory.mktemp("demo"))))
    yield built
    built[1].dispose()


def test_on_postgresql(postgres_url, tmp_path):
    """The feeds, the scores and the monthly report alike on PostgreSQL."""
    built = build(Settings.load(var_dir=str(tmp_path / "var"), warehouse_url=postgres_url), days=5)
    engine = built[1]
    try:
        check_feeds(built)
        check_monthly(built, tmp_path)
        with engine.begin() as holder:  # another watch process scoring: this one leaves it to it
            holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": refresh.SCORING_LOCK})
            assert rescore(engine, now=NOW) == []
        assert [scored.month for scored in rescore(engine, now=NOW)] == [MONTH]
    finally:
        engine.dispose()


def test_every_new_dataset_arrives_through_its_feed_with_bad_rows_quarantined(demo):
    check_feeds(demo)


def check_feeds(demo) -> None:
    """Every new feed loaded, quarantined its bad rows with file, row, field and reason; the measures roll up."""
    _settings, engine, reports, _scored = demo
    for name in NEW_FEEDS:
        counts = reports[name].counts
        assert reports[name].error is None, (name, reports[name].error)
        assert counts.loaded > 0 and counts.quarantined > 0, (name, counts)
        assert counts.rows_in == counts.loaded + counts.duplicates + counts.quarantined, name
    kinds = {name: Counter(issue.kind for issue in reports[name].issues) for name in reports}
    for name in NEW_FEEDS:
        assert set(kinds[name]) <= {"unknown region", "invalid value"}, (name, kinds[name])
    assert kinds["pilot_funds"]["invalid value"] == 1  # spending above disbursement
    assert kinds["toilets"]["invalid value"] == 1  # a renovation with a repair time
    assert kinds["epidemic"]["unknown region"] >= 1
    assert any(
        issue.kind == "unknown device" and "LH-UNKNOWN" in issue.detail for issue in reports["sensor_files"].issues
    )
    funds = next(issue for issue in reports["pilot_funds"].issues if issue.kind == "invalid value")
    assert funds.file.startswith("funds.csv，第 ") and funds.field == "spent" and "大于拨付" in funds.detail
    with engine.connect() as connection:
        kept = connection.execute(
            select(quarantine.c.location, quarantine.c.field, quarantine.c.reason, quarantine.c.raw).where(
                quarantine.c.source == "gov_services"
            )
        ).first()
        measures = set(
            connection.execute(select(rollups.c.measure).where(rollups.c.region_code == "990101000000")).scalars()
        )
        columns = {column["name"] for column in inspect(connection).get_columns("epidemic")}
    assert kept.location.startswith("services-") and kept.field == "受理点代码" and "990101999999" in kept.raw
    assert set(NEW_MEASURES) <= measures
    # 疫情防控 holds aggregates only: nothing in it could name a person.
    assert columns == {"region_code", "event_time", "kind", "quantity", "loaded_at", "run_id"}


def test_the_demo_programme_is_scored_with_milestones_and_funds(demo):
    _settings, engine, _reports, scored = demo
    assert [s.month for s in scored] == ["2026-02", MONTH]
    with engine.connect() as connection:
        listed = reads.pilots(connection, "demo")
        scores = reads.scores(connection, "demo", MONTH)
        states = reads.milestone_states(connection, "demo", MONTH, now=NOW)
        money = reads.funds(connection, "demo", MONTH)
        view = reads.overview(connection, "demo", MONTH, now=NOW)
        unmatched = reads.unmatched_reports(connection, "demo")
        weather = village_records.latest_of_kind(connection, "990101", "weather")
        exposure = village_records.exposure_board(connection, "990101", 5)
        matters = village_records.recent_deliberations(connection, "990101101", 5)
    assert len(listed) == 8 and {p.resolution for p in listed} == {"code", "name", "ancestor"}
    items = {p.pilot_id: len(scores[p.pilot_id]) for p in listed}
    assert items == {p.pilot_id: 17 if p.kind == "township" else 18 for p in listed}
    statuses = Counter(score.status for per in scores.values() for score in per.values())
    assert statuses["met"] and statuses["partly"] and statuses["unmet"]  # a programme under way, not uniform
    # The sixth pilot is still short of its funds two months after they were due; one pilot reports 滞后.
    sixth = listed[5].pilot_id
    assert states[sixth]["funds"].overdue and view["overdue_pilots"] == [sixth]
    assert any(state.status == "delayed" for per in states.values() for state in per.values())
    assert set(money) == {p.pilot_id for p in listed} and all(f.spent <= f.disbursed for f in money.values())
    assert view["allocated"] == 8 * 45 and view["scores"] == {s: statuses.get(s, 0) for s in reads.SCORE_ORDER}
    assert unmatched == []  # the bad status row named an unknown region and was quarantined, not loaded
    assert len(weather) == 12 and {"temperature", "wind_speed", "rainfall"} <= set(
        next(iter(weather.values()))["values"]
    )
    assert all("reporter_name" not in case and "reporter_phone" not in case for case in exposure)
    assert matters and all(m["region_code"].startswith("990101101") for m in matters)


def test_the_monthly_report_equals_the_warehouse(demo, tmp_path):
    check_monthly(demo, tmp_path)


def check_monthly(demo, tmp_path) -> None:
    """The monthly report's sheets, totals and scores equal what the read functions give."""
    settings, engine, _reports, _scored = demo
    out = tmp_path / "monthly.xlsx"
    arguments = ["--var-dir", settings.var_dir, "--warehouse-url", settings.warehouse_url]
    result = CliRunner().invoke(
        main, [*arguments, "report", "monthly", "--programme", "demo", "--month", MONTH, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with engine.connect() as connection:
        listed = reads.pilots(connection, "demo")
        scores = reads.scores(connection, "demo", MONTH)
        states = reads.milestone_states(connection, "demo", MONTH)
        money = reads.funds(connection, "demo", MONTH)
        steps = reads.milestones(connection, "demo")
    book = load_workbook(out)
    assert book.sheetnames == ["汇总", "示范县", "指标明细", "说明"]

    summary = book["汇总"]
    assert summary.page_setup.orientation == "landscape" and int(summary.page_setup.paperSize) == 9  # A4
    assert summary.print_title_rows == "$3:$3" and summary.freeze_panes == "C4"
    assert summary.cell(3, 8).value == "下达资金（万元）"
    county, total = (list(row) for row in summary.iter_rows(min_row=4, max_row=5, values_only=True))
    statuses = Counter(score.status for per in scores.values() for score in per.values())
    disbursed = sum(f.disbursed for f in money.values())
    spent = sum(f.spent for f in money.values())
    expected = [3, 5, sum(s.status == "done" for per in states.values() for s in per.values())]
    expected += [sum(s.overdue for per in states.values() for s in per.values())]
    assert county[1] == "示范县" and county[2:6] == expected
    assert county[7] == 8 * 45 and county[8] == pytest.approx(disbursed) and county[9] == pytest.approx(spent)
    assert county[11:15] == [statuses.get(s, 0) for s in reads.SCORE_ORDER]
    assert county[15] == pytest.approx(statuses["met"] / sum(statuses.values()))
    assert total[0] == "合计" and total[2:] == county[2:]  # one county: the totals are its figures

    sheet = book["示范县"]
    header = [cell.value for cell in sheet[3]]
    assert header[:5] == ["序号", "试点名称", "类型", "区划代码", "统计区划说明"]
    assert header[5 : 5 + len(steps)] == [f"{m.name}\n（{m.month}）" for m in steps]
    for number, pilot in enumerate(listed, start=1):
        row = [cell.value for cell in sheet[3 + number]]
        assert row[1] == pilot.name and row[3] == pilot.region_code
        for offset, step in enumerate(steps, start=5):
            state = states[pilot.pilot_id][step.milestone_id]
            assert (
                row[offset].startswith(reads.MILESTONE_NAMES[state.status]) and ("逾期" in row[offset]) == state.overdue
            )
        funds_at = 5 + len(steps)
        assert row[funds_at : funds_at + 3] == [45, money[pilot.pilot_id].disbursed, money[pilot.pilot_id].spent]
        counted = Counter(score.status for score in scores[pilot.pilot_id].values())
        assert row[funds_at + 4 : funds_at + 8] == [counted.get(s, 0) for s in reads.SCORE_ORDER]

    details = list(book["指标明细"].iter_rows(min_row=4, values_only=True))
    assert len(details) == sum(len(per) for per in scores.values())
    names = {p.name: p.pilot_id for p in listed}
    for _county, name, item, _area, _item_name, status, evidence in details:
        score = scores[names[name]][item]
        assert status == reads.SCORE_NAMES[score.status]
        assert all(entry["what"] in evidence for entry in score.evidence)


def test_the_acceptance_sheet_scores_one_pilot(demo, tmp_path):
    settings, engine, _reports, _scored = demo
    out = tmp_path / "acceptance.xlsx"
    pilot = "990101101201"
    arguments = ["--var-dir", settings.var_dir, "--warehouse-url", settings.warehouse_url]
    command = ["report", "acceptance", "--programme", "demo", "--pilot", pilot, "--month", MONTH, "--out", str(out)]
    result = CliRunner().invoke(main, [*arguments, *command])
    assert result.exit_code == 0, result.output
    with engine.connect() as connection:
        found = reads.scores(connection, "demo", MONTH)[pilot]
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(min_row=8, values_only=True))
    items = [row for row in rows if isinstance(row[0], int)]
    assert len(items) == 18 and [row[2] for row in items][:4] == ["乡村党建", "政务服务", "村务管理", "请求诉求"]
    total = next(row for row in rows if row[0] == "合计")
    assert total[5] == pytest.approx(sum(POINTS[score.status] for score in found.values()))
    assert sheet.page_setup.orientation == "landscape"
    missing = CliRunner().invoke(main, [*arguments, "report", "acceptance", "--programme", "demo", "--pilot", "x"])
    assert missing.exit_code == 1 and "方案 demo 中没有试点 x" in missing.output


def test_watch_rescoring_after_loads_is_throttled_and_never_raises(demo, monkeypatch):
    _settings, engine, _reports, _scored = demo
    loaded = RunReport("toilets", 1, RunCounts(rows_in=1, loaded=1))
    calls = []
    monkeypatch.setattr(refresh, "rescore", lambda used: calls.append(used))
    monkeypatch.setattr(refresh, "_last", {})
    idle = RunReport("toilets", 1, RunCounts())
    after_run(engine, idle)  # the first run of the process scores, loaded or not
    after_run(engine, idle)  # then only runs that loaded rows
    after_run(engine, loaded)  # within PILOT_SCORE_SECONDS of the first
    assert calls == [engine]
    monkeypatch.setenv("PILOT_SCORE_SECONDS", "0")
    monkeypatch.setattr(refresh, "rescore", lambda used: 1 / 0)
    after_run(engine, loaded)  # a failure is reported, the feeds go on


def test_scoring_keeps_one_row_per_month_and_pilot_item(demo):
    _settings, engine, _reports, _scored = demo
    rescore(engine, now=NOW + timedelta(minutes=5))
    with engine.connect() as connection:
        rows = connection.execute(select(pilot_scores.c.month, pilot_scores.c.pilot_id, pilot_scores.c.item_id)).all()
    assert len(rows) == len(set(rows)) == 2 * (3 * 17 + 5 * 18)


def test_the_pilot_villages_cases_start_where_the_simulated_days_start(demo):
    # They went 50 days back: the demo's history months then ended 50 days back, and the 20-odd days between held
    # only these few cases, a trough in every trend of cases and a 同比 against it.
    _settings, engine, _reports, _scored = demo
    with engine.connect() as connection:
        first = connection.execute(select(func.min(cases.c.event_time)).where(cases.c.case_id.like("QL%"))).scalar()
    assert as_utc(first) >= NOW - timedelta(days=8), first
