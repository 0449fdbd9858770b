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
