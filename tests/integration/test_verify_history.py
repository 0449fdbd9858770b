"""`etl verify` leaves history kept without its raw rows alone (a county's imported statistics, the demo's past year):
before, every such rollup was a "difference", and --repair deleted the year the workspace compares with (同比)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from etl.demo.history_months import add_history
from etl.rollups import day_of
from etl.verify import verify_rollups
from etl.warehouse.db import as_utc
from etl.warehouse.schema import cases, rollups
from tests.recent_demo import build_recent


def test_the_demo_history_verifies_clean_and_a_repair_keeps_it(tmp_path):
    _settings, engine = build_recent(tmp_path / "var", ("cases",), days=3)
    now = datetime.now(UTC)
    try:
        assert "历史月度汇总" in add_history(engine, now=now)
        with engine.connect() as connection:
            first_case = day_of(as_utc(connection.execute(select(func.min(cases.c.event_time))).scalar()))
            history = connection.execute(
                select(func.count()).where(rollups.c.measure.like("cases.%"), rollups.c.bucket < first_case)
            ).scalar()
        assert history > 0
        # Every measure's history ends the day before the first case, whatever the measure is timed by (cases are
        # rated days later): from that day on the rollups are the raw rows' alone, so nothing differs.
        found = verify_rollups(engine, days=400, now=now, repair=True)
        assert found.differences == [], found.differences[:5]
        assert found.history_until["cases"] >= first_case
        with engine.connect() as connection:
            kept = connection.execute(
                select(func.count()).where(rollups.c.measure.like("cases.%"), rollups.c.bucket < first_case)
            ).scalar()
        assert kept == history
    finally:
        engine.dispose()
