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
