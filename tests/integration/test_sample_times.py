"""The screens' sample holds today's and this month's facts at any hour: tests also run just after midnight."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.panels import Window, average
from dashboard.queries import measure_totals, village_ranking
from etl.demo.build import build_demo
from etl.demo.sample import COUNTY, load_screen_data
from etl.warehouse.db import make_engine
from etl.warehouse.settings import Settings


def test_just_after_midnight_on_the_first_today_and_this_month_have_the_samples_facts(tmp_path):
    now = datetime(2026, 11, 30, 16, 10, tzinfo=UTC)  # 00:10 on 1 December in the county (UTC+8)
    settings = Settings.load(var_dir=str(tmp_path / "var"))
    build_demo(settings, echo=lambda _line: None)
    load_screen_data(tmp_path / "var", settings.warehouse_url, now=now)
    window = Window.at(now)
    engine = make_engine(settings.warehouse_url)
    try:
        today = measure_totals.uncached(
            engine, COUNTY, ["reading.soil_moisture", "reading.aqi"], window.today, window.tomorrow
        )
        ranking = village_ranking.uncached(engine, COUNTY, "points.earned", window.calendar_month)
    finally:
        engine.dispose()
    # Six hourly readings of both soil sensors (35 % and 45 %), all of them within today.
    assert sum(v["count"] for v in today["reading.soil_moisture"].values()) == 12
    assert average(today, "reading.soil_moisture") == 40
    assert ranking, "no village has points this month"
