"""Migration 0011 on SQLite and PostgreSQL: day rollups already in a warehouse are summed into local months."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import insert, select

from etl.rollups import day_of, month_of
from etl.warehouse.db import _alembic_config, make_engine, migrate
from etl.warehouse.schema import rollups

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_at_0010(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine, "0010")
    yield engine
    engine.dispose()


def test_upgrade_sums_existing_days_into_their_local_months(engine_at_0010):
    # Days around two month ends: a local day starts at 16:00 UTC the day before, so the day of 1 December
    # (local) begins on 30 November UTC and belongs to December.
    first = day_of(datetime(2026, 10, 28, 12, tzinfo=UTC))
    days = [first + timedelta(days=n) for n in range(40)]
    rows = [
        {
            "grain": "day",
            "bucket": day,
            "region_code": code,
            "measure": "points.earned",
            "dimension": "civility",
            "count": n + 1,
            "total": 2.5 * (n + 1),
            "min": 1.0,
            "max": float(n + 1),
        }
        for n, day in enumerate(days)
        for code in ("990101001001", "990101000000")
    ]
    with engine_at_0010.begin() as connection:
        connection.execute(insert(rollups), rows)
    migrate(engine_at_0010)

    expected: dict[tuple, list] = defaultdict(lambda: [0, 0.0, None, None])
    for row in rows:
        stats = expected[(month_of(row["bucket"]).replace(tzinfo=None), row["region_code"])]
        stats[0] += row["count"]
        stats[1] += row["total"]
        stats[2] = row["min"] if stats[2] is None else min(stats[2], row["min"])
        stats[3] = row["max"] if stats[3] is None else max(stats[3], row["max"])
    with engine_at_0010.connect() as connection:
        months = {
            (r.bucket.replace(tzinfo=None), r.region_code): [r.count, r.total, r.min, r.max]
            for r in connection.execute(select(rollups).where(rollups.c.grain == "month"))
        }
    assert len(expected) == 6  # October, November and December, for the village and the county
    assert months == {
        key: [count, pytest.approx(total), low, high] for key, (count, total, low, high) in expected.items()
    }

    with engine_at_0010.begin() as connection:  # and back: the month rows go, the days stay
        command.downgrade(_alembic_config(connection), "0010")
    with engine_at_0010.connect() as connection:
        grains = set(connection.execute(select(rollups.c.grain).distinct()).scalars())
    assert grains == {"day"}
