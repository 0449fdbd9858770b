"""The demo's employment service platform (就业服务平台, 找工作): a SQLite database of job postings and how many of
each posting's positions were filled, which the simulator keeps and the demo's jobs feed reads over SQL."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from etl.dataset import BEIJING

# (title, the most positions one posting offers)
TITLES = [
    ("茶园采摘工", 12),
    ("湖羊养殖工", 3),
    ("农家乐服务员", 4),
    ("电商直播助理", 2),
    ("快递分拣员", 6),
    ("保洁员", 2),
    ("水电维修工", 1),
    ("竹编手艺人", 3),
]
SCHEMA = """CREATE TABLE IF NOT EXISTS job_postings (
    posting_no TEXT PRIMARY KEY, village_code TEXT NOT NULL, title TEXT NOT NULL, posted_at TEXT NOT NULL,
    headcount INTEGER NOT NULL, matched INTEGER NOT NULL, updated_at TEXT NOT NULL)"""
INSERT = "INSERT INTO job_postings VALUES (?, ?, ?, ?, ?, ?, ?)"
INSERT_NEW = INSERT.replace("INSERT", "INSERT OR IGNORE")  # a live posting's number may come twice in a second
# The platform's own typing errors: about 1 % of postings name a village code the county does not have.
UNKNOWN_VILLAGE = "990101999999"
FILLED_WITHIN = timedelta(days=14)  # most postings are filled within two weeks


def _stamp(moment: datetime) -> str:
    """The platform's time format: UTC ISO 8601 to the second (text that sorts as time does)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=10)
    connection.execute("PRAGMA journal_mode=WAL")  # the feed reads while the simulator writes
    return connection


def _day_postings(rng: random.Random, day: datetime, villages: list[str], now: datetime) -> list[tuple]:
    """The postings of one local day, as they stand at ``now``: every draw is made for every village whatever
    ``now`` is, so a posting number names the same posting on every run."""
    rows = []
    for index, village in enumerate(villages):
        offers, (title, most), pick, minute, share, pause, typo = (
            rng.random(),
            rng.choice(TITLES),
            rng.random(),
            rng.randrange(8 * 60, 18 * 60),
            rng.uniform(0.5, 1.0),  # how much of the posting is ever filled
            rng.uniform(0.5, 1.0),
            rng.random(),
        )
        posted = day + timedelta(minutes=minute)
        if offers >= 0.06 or posted > now:
            continue
        headcount = 1 + int(pick * most)
        settled = min(now, posted + FILLED_WITHIN)
        matched = min(headcount, int(headcount * share * ((settled - posted) / FILLED_WITHIN)))
        # The last match (or the posting itself) happened some time before now, not at it: rows that share the
        # feed's watermark are read again by the next run.
        updated = posted + (settled - posted) * (pause if matched else 0.0)
        code = UNKNOWN_VILLAGE if typo < 0.01 else village
        rows.append((f"JOB{day:%Y%m%d}{index:03d}", code, title, _stamp(posted), headcount, matched, _stamp(updated)))
    return rows


def write_history(
    path: Path, villages: list[str], rng_for: Callable[..., random.Random], now: datetime, days: int
) -> int:
    """The platform as it stands at ``now`` after ``days`` local days of postings, written in one transaction
    over the history of an earlier run (postings added live are kept); each day's postings are the same on
    every run (``rng_for(day)``); returns how many there are. A feed whose watermark is past a rewritten row's
    ``updated_at`` does not read it again: rerunning history on a loaded demo wants a fresh VAR_DIR."""
    first = (now - timedelta(days=days - 1)).astimezone(BEIJING).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        rows += _day_postings(rng_for("jobs", day.date().isoformat()), day, villages, now)
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(_connect(path)) as connection, connection:
        connection.execute(SCHEMA)
        connection.execute("DELETE FROM job_postings WHERE posting_no NOT LIKE 'JOBL%'")
        connection.executemany(INSERT, rows)
    return len(rows)


def live_update(path: Path, villages: list[str], rng: random.Random, now: datetime) -> int:
    """A minute of the platform's life: now and then a new posting, and a worker matched to an open one (its
    ``updated_at`` moves, so the feed reads it again); how many postings changed."""
    changed = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(_connect(path)) as connection, connection:
        connection.execute(SCHEMA)  # a demo folder from before the platform existed starts with an empty one
        if rng.random() < 0.2:
            title, most = rng.choice(TITLES)
            number = f"JOBL{now.astimezone(BEIJING):%Y%m%d%H%M%S}"
            row = (number, rng.choice(villages), title, _stamp(now), rng.randint(1, most), 0, _stamp(now))
            changed += connection.execute(INSERT_NEW, row).rowcount
        open_posting = connection.execute(
            "SELECT posting_no FROM job_postings WHERE matched < headcount AND village_code != ? "
            "ORDER BY posted_at DESC LIMIT 1 OFFSET ?",
            (UNKNOWN_VILLAGE, rng.randrange(20)),
        ).fetchone()
        if open_posting:
            changed += connection.execute(
                "UPDATE job_postings SET matched = matched + 1, updated_at = ? WHERE posting_no = ?",
                (_stamp(now), open_posting[0]),
            ).rowcount
    return changed
