"""Rule kind "overdue_case": a case whose due time has passed and that is not closed (受理 or 处置中), optionally
of some modules or categories; closing it (or a later due time) clears it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from etl.alerts.errors import AlertConfigError
from etl.alerts.kinds import Observation, Seen, chunks, data_text
from etl.datasets.cases import CATEGORIES, MODULES
from etl.runner import local_text
from etl.warehouse.db import as_utc
from etl.warehouse.schema import cases

KIND = "overdue_case"
SCOPED_BY = "region"
KEYS = ("modules", "categories")
OPEN = ("received", "in_progress")  # the statuses migration 0018's index of open cases by due time holds


@dataclass(frozen=True)
class Params:
    """The modules and categories watched (empty: all)."""

    modules: tuple[str, ...]
    categories: tuple[str, ...]


def _chosen(entry: dict, key: str, labels: dict[str, str], where: str) -> tuple[str, ...]:
    wanted = entry.get(key, [])
    chosen = []
    for value in [wanted] if isinstance(wanted, str) else wanted:
        if value not in labels and value not in labels.values():
            raise AlertConfigError(f"{where}.{key}：'{value}' 不是 {'、'.join(labels)} 之一")
        chosen.append(labels.get(value, value))
    return tuple(chosen)


def parse(entry: dict, where: str) -> Params:
    """The rule's modules and categories (as 信访投诉 or petition), checked."""
    return Params(_chosen(entry, "modules", MODULES, where), _chosen(entry, "categories", CATEGORIES, where))


def datasets(params: Params) -> frozenset[str]:
    """Loads of cases touch it (a case closed, a due time moved)."""
    return frozenset({"cases"})


def observe(connection, params: Params, now, live: list, scope) -> Observation:
    """The open cases past their due time, and the live alerts whose case is closed or due later now."""
    c = cases.c
    query = select(c.case_id, c.region_code, c.due_at).where(c.due_at <= now, c.status.in_(OPEN))
    if params.modules:
        query = query.where(c.module.in_(params.modules))
    if params.categories:
        query = query.where(c.category.in_(params.categories))
    if scope.regions is not None:
        query = query.where(c.region_code.in_(sorted(scope.regions)))
    seen = Observation()
    for case_id, region_code, due_at in connection.execute(query):
        detail = f"事件 {data_text(case_id)} 已超过办理时限（{local_text(as_utc(due_at))}）仍未办结"
        seen.firing[f"case:{case_id}"] = Seen(region_code, None, detail)
    others = [alert.subject.split(":", 1)[1] for alert in live if alert.subject not in seen.firing]
    for part in chunks(others):
        found = dict.fromkeys(part)
        for case_id, status, due_at in connection.execute(
            select(c.case_id, c.status, c.due_at).where(c.case_id.in_(part))
        ):
            found[case_id] = (status, as_utc(due_at))
        for case_id, state in found.items():
            if state is None:
                seen.cleared[f"case:{case_id}"] = f"事件 {data_text(case_id)} 已不在数据中"
            elif state[0] not in OPEN:
                seen.cleared[f"case:{case_id}"] = f"事件 {data_text(case_id)} 已办结"
            elif state[1] is None or state[1] > now:
                seen.cleared[f"case:{case_id}"] = (
                    f"事件 {data_text(case_id)} 的办理时限已延至 {local_text(state[1]) if state[1] else '无'}"
                )
    return seen
