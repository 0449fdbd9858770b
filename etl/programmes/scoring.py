"""Scores of every pilot × item for a month (达标 / 部分达标 / 未达标 / 无数据) with their evidence, read from the
warehouse as of the month's end (or now, in the current month) and kept as that month's row."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, insert, text

from etl.programmes.catalogue import parse_item_rules
from etl.programmes.evidence import read_rule, villages_in
from etl.programmes.rules import Rule
from etl.warehouse.db import bump_version
from etl.warehouse.pilots import SCORE_NAMES, first_month, items, month_end, month_text, pilots
from etl.warehouse.schema import pilot_scores

# pg_advisory_xact_lock's key for scoring: two scorers never replace a month's scores at once (the second found
# the first's new rows where it had deleted the old ones: UniqueViolation). SQLite's write lock does this itself.
SCORING_LOCK = 0x70696C6F
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class MonthError(ValueError):
    """A month that cannot be scored (after the current one, before the programme's first); the message says why."""


@dataclass(frozen=True)
class Scored:
    """What one scoring wrote: the month, the moment read at, and items by status."""

    programme_id: str
    month: str
    as_of: datetime
    counts: Counter
    pilots: int


def combine(statuses: list[str], mode: str) -> str:
    """An item's status from its rules': 无数据 when no rule had data; else with ``all`` 达标 only when every
    rule is met and 部分达标 when some rule is at least partly met; with ``any`` the best rule counts."""
    if all(status == "no_data" for status in statuses):
        return "no_data"
    known = ["unmet" if status == "no_data" else status for status in statuses]
    if mode == "any":
        return next((s for s in ("met", "partly") if s in known), "unmet")
    if all(status == "met" for status in known):
        return "met"
    return "partly" if any(status in ("met", "partly") for status in known) else "unmet"


def as_of_for(month: str, now: datetime) -> datetime:
    """The moment a month is read at: its last second, or now while it runs."""
    return min(now, month_end(month) - timedelta(seconds=1))


def check_month(connection: Connection, programme_id: str, month: str, now: datetime) -> None:
    """MonthError (in Chinese) unless ``month`` is a month from the programme's first to the current local one: a
    future month was scored and stored (and shown for ever as the latest), years ago read nothing, and 9999-12
    overflowed."""
    if not isinstance(month, str) or not MONTH.match(month):
        raise MonthError(f"'{month}' 不是月份（应写作 2023-11）")
    current = month_text(now)
    if month > current:
        raise MonthError(f"{month} 还没有到（本月是 {current}，北京时间），不能评分")
    first = first_month(connection, programme_id)
    if first is not None and month < first:
        raise MonthError(f"{month} 早于方案 {programme_id} 的第一个月 {first}，不能评分")


def evidence_of(rule: Rule, value: float | None, as_of: datetime) -> dict:
    """One rule's evidence as stored and shown: what, where from, value, period, thresholds, status."""
    status = rule.status(value)
    return {
        "what": rule.what,
        "source": rule.source_text(),
        "value": value,
        "value_text": rule.value_text(value),
        "period": rule.window.label(as_of),
        "rule": rule.rule_text(),
        "status": status,
        "status_text": SCORE_NAMES[status],
    }


def score_month(
    connection: Connection, programme_id: str, month: str | None = None, now: datetime | None = None
) -> Scored:
    """Score every resolved pilot on its level's items for ``month`` (default: the current local month) in the
    caller's transaction, replacing that month's scores; bumps the warehouse version. MonthError for a month
    after the current one or before the programme's first."""
    now = now or datetime.now(UTC)
    month = month or month_text(now)
    check_month(connection, programme_id, month, now)
    as_of = as_of_for(month, now)
    if connection.dialect.name == "postgresql":
        # Waits for another scorer (etl watch, a report, a CLI run) to commit; held to the end of the transaction.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCORING_LOCK})
        # The rules' statements repeat with other regions and times; a plan cached for them (psycopg prepares
        # a statement from its fifth run) scanned a province's buckets where these regions' index ranges do.
        connection.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    listed = [pilot for pilot in pilots(connection, programme_id) if pilot.region_code]
    codes = sorted({pilot.region_code for pilot in listed})
    villages = villages_in(connection, codes)
    rows, counts = [], Counter()
    for item in items(connection, programme_id):
        mode, rules = parse_item_rules(item.rules, f"{programme_id} {item.item_id} {item.name}")
        level_pilots = [pilot for pilot in listed if pilot.kind == item.level]
        level_codes = sorted({pilot.region_code for pilot in level_pilots})
        readings = [read_rule(connection, rule, level_codes, as_of, villages) for rule in rules]
        for pilot in level_pilots:
            evidence = []
            for rule, found in zip(rules, readings, strict=True):
                reading = found[pilot.region_code]
                evidence.append(evidence_of(rule, reading.value if reading.has_data else None, as_of))
            status = combine([entry["status"] for entry in evidence], mode)
            counts[status] += 1
            rows.append(
                {
                    "programme_id": programme_id,
                    "month": month,
                    "pilot_id": pilot.pilot_id,
                    "item_id": item.item_id,
                    "region_code": pilot.region_code,
                    "status": status,
                    "evidence": json.dumps(evidence, ensure_ascii=False),
                    "as_of": as_of,
                    "computed_at": now,
                }
            )
    connection.execute(
        delete(pilot_scores).where(pilot_scores.c.programme_id == programme_id, pilot_scores.c.month == month)
    )
    if rows:
        connection.execute(insert(pilot_scores), rows)
    bump_version(connection)
    return Scored(programme_id, month, as_of, counts, len(listed))
