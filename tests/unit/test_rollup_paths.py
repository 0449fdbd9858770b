"""The two ways a batch's statistics become rollup rows (pandas for a big file, a loop for a live batch) agree."""

from __future__ import annotations

import math
import random

import pandas as pd
import pytest

from etl.rollups import SMALL, _rolled, _rolled_small, epoch_hour, from_epoch_hour

CODES = ["990101001001", "990101001002", "990101002001", "990101001000", "990101000000", "990102001001"]
UPPER = {"990100000000", "990000000000"}


def statistics(rows: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    start = epoch_hour(from_epoch_hour(490_000))
    frame = pd.DataFrame(
        {
            "bucket": [start + rng.randrange(0, 24 * 70) for _ in range(rows)],
            "code": [rng.choice(CODES) for _ in range(rows)],
            "measure": [rng.choice(["a", "b"]) for _ in range(rows)],
            "dimension": [rng.choice(["", "x", "y"]) for _ in range(rows)],
            "count": [rng.randrange(1, 5) for _ in range(rows)],
            "total": [rng.uniform(0, 100) for _ in range(rows)],
            "min": [rng.choice([math.nan, rng.uniform(0, 10)]) for _ in range(rows)],
        }
    )
    return frame.assign(max=frame["min"] + 5)


@pytest.mark.parametrize("grain", ["hour", "day", "month"])
def test_the_pandas_path_and_the_loop_give_the_same_rows_in_key_order(grain):
    stats = statistics(SMALL + 500, seed=len(grain))
    big, small = _rolled(stats, grain, UPPER), _rolled_small(stats, grain, UPPER)
    assert [row[:5] for row in big] == [row[:5] for row in small]
    assert [row[:5] for row in big] == sorted(row[:5] for row in big)
    for left, right in zip(big, small, strict=True):
        assert left[5] == right[5] and left[6] == pytest.approx(right[6])
        assert (left[7], left[8]) == (right[7], right[8])
    regions = {row[2] for row in big}
    assert {"990101000000", "990100000000", "990000000000", "990102000000"} <= regions


def test_a_measure_condition_is_asked_only_of_rows_that_have_its_time():
    """A condition may read the measure's time column (as cases.closed_on_time does): a row without that time is
    never asked, so the condition need not guard against None."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from etl.dataset import Measure
    from etl.datasets import datasets
    from etl.rollups import _hourly

    morning = Measure("test.closed_mornings", time="closed_at", where=lambda row: row["closed_at"].hour < 12)
    dataset = replace(datasets()["cases"], measures=(morning,))
    rows = [
        {"region_code": "990101001001", "closed_at": datetime(2026, 3, 1, 3 + 2 * n, tzinfo=UTC) if n % 2 else None}
        for n in range(10)
    ]
    stats = _hourly(dataset, rows)
    assert stats["count"].sum() == 2  # closed at 05:00, 09:00, 13:00, 17:00 and 21:00: two before noon


@pytest.mark.parametrize("kept", ["all", "even hours"])
def test_hourly_statistics_equal_a_plain_count_of_the_rows(kept):
    """Every measure's statistics by hour, region, measure and dimension, against a count written plainly."""
    from datetime import UTC, datetime, timedelta

    from etl.datasets import datasets
    from etl.rollups import _hourly

    dataset = datasets()["cases"]
    rng = random.Random(len(kept))
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rows = []
    for n in range(SMALL + 700):
        received = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 5))
        closed = received + timedelta(hours=rng.randrange(1, 100)) if rng.random() < 0.6 else None
        rated = closed + timedelta(hours=2) if closed and rng.random() < 0.5 else None
        rows.append(
            {
                "case_id": f"C{n}",
                "region_code": rng.choice(CODES[:3]),
                "event_time": received,
                "category": rng.choice(["conflict", "dispute", "request"]),
                "module": rng.choice(["general", "petition"]),
                "closed_at": closed,
                "due_at": received + timedelta(hours=rng.randrange(10, 90)) if rng.random() < 0.8 else None,
                "rated_at": rated,
                "satisfaction": rng.choice([None, 1, 3, 5]) if rated else None,
            }
        )
    keep = None if kept == "all" else (lambda hour, county: hour % 2 == 0)
    expected: dict[tuple, list] = {}
    for measure in dataset.measures:
        for row in rows:
            moment = row[measure.time]
            if moment is None or (measure.where and not measure.where(row)):
                continue
            hour = epoch_hour(moment)
            if keep and not keep(hour, row["region_code"][:6]):
                continue
            dimension = row[measure.dimension] if measure.dimension else ""
            entry = expected.setdefault((hour, row["region_code"], measure.name, dimension), [0, 0.0, None, None])
            value = row[measure.value] if measure.value else 1
            if value is None:
                continue  # a rating without a score: its bucket is there, and counts nothing
            entry[0] += 1
            entry[1] += value
            if measure.value:
                entry[2] = value if entry[2] is None else min(entry[2], value)
                entry[3] = value if entry[3] is None else max(entry[3], value)
    stats = _hourly(dataset, rows, keep)
    got = {
        (row.bucket, row.code, row.measure, row.dimension): [
            row.count,
            row.total,
            None if math.isnan(row.min) else row.min,
            None if math.isnan(row.max) else row.max,
        ]
        for row in stats.itertuples()
    }
    assert got == expected
    assert len(got) > 1000
