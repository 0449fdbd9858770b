"""The evaluator: the rules a load touched, over the regions it loaded, right after it commits; every rule, the
escalations and the retired rules in the periodic sweep; each time in one transaction that no other evaluator
shares, ending with the notifications of the state changes planned."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from etl.alerts.config import AlertsConfig
from etl.alerts.kinds import Scope
from etl.alerts.lifecycle import Changes, apply, escalate, live_alerts, retire
from etl.alerts.lock import serialised
from etl.alerts.notify import plan
from etl.alerts.rules import Rule
from etl.warehouse.db import bump_version
from etl.warehouse.schema import feed_freshness

# A load of more regions than this is evaluated over every region: one IN list that long costs more than the
# rules' index ranges over the whole warehouse.
MAX_SCOPED_REGIONS = 1000


def _in_scope(rule: Rule, alert, scope: Scope) -> bool:
    if rule.module.SCOPED_BY == "feed":
        return scope.feed is None or alert.subject == f"feed:{scope.feed}"
    return scope.regions is None or alert.region_code in scope.regions


def with_ancestors(codes) -> frozenset[str] | None:
    """Village codes with their townships and counties (rules may watch any level); None for too many."""
    found = set()
    for code in codes:
        found.update((code, code[:9].ljust(12, "0"), code[:6].ljust(12, "0")))
    return frozenset(found) if len(found) <= MAX_SCOPED_REGIONS else None


class Evaluator:
    """Evaluates a deployment's rules against the warehouse; ``clock`` (UTC) is read once the lock is held.
    ``feeds``: the names its feeds file declares (every one, not only those a process runs); a feed the warehouse
    still keeps state of but the file no longer declares is retired, and feed rules pass over it (None: every
    feed the warehouse knows counts)."""

    def __init__(
        self,
        engine: Engine,
        config: AlertsConfig,
        clock: Callable[[], datetime] | None = None,
        feeds: Collection[str] | None = None,
    ):
        self.engine, self.config = engine, config
        self.clock = clock or (lambda: datetime.now(UTC))
        self.feeds = None if feeds is None else frozenset(feeds)

    def evaluate(self, rules: list[Rule] | None = None, scope: Scope | None = None, sweep: bool = False) -> Changes:
        """Evaluate rules (all by default) within a scope, in one serialised transaction; with ``sweep``, also
        escalate and retire. The notifications of every state change are planned before it commits."""
        changes, scope = Changes(), replace(scope or Scope(), feeds=self.feeds)
        with serialised(self.engine) as connection:
            now = self.clock()
            for rule in self.config.rules.values() if rules is None else rules:
                live = [alert for alert in live_alerts(connection, rule.id) if _in_scope(rule, alert, scope)]
                seen = rule.module.observe(connection, rule.params, now, live, scope)
                changes.add(apply(connection, rule, seen, live, now))
            if sweep:
                changes.escalated += escalate(connection, self.config.rules, now)
                changes.resolved += retire(connection, self.config.rules, now)
            plan(connection, self.config.channels, now)
            if changes.opened or changes.resolved or changes.escalated:
                # The screens cache open alerts by warehouse version: a new version shows them the change.
                bump_version(connection)
        return changes

    def sweep(self) -> Changes:
        """Every rule everywhere (silence, overdue cases and late feeds need no load to fire), escalations, and
        the alerts of rules no longer in the file."""
        return self.evaluate(sweep=True)

    def rules_touched(self, dataset: str) -> list[Rule]:
        """The rules a load of ``dataset`` can change."""
        touched = []
        for rule in self.config.rules.values():
            names = rule.module.datasets(rule.params)
            if names is None or dataset in names:
                touched.append(rule)
        return touched

    def after_load(self, feed: str, dataset: str, since: datetime) -> Changes:
        """The rules a feed's load touched, over the regions it loaded since ``since`` (its freshness rows)."""
        rules = self.rules_touched(dataset)
        if not rules:
            return Changes()
        with self.engine.connect() as connection:
            fresh = feed_freshness.c
            codes = connection.execute(
                select(fresh.region_code).where(fresh.feed == feed, fresh.last_loaded_at >= since)
            ).scalars()
            regions = with_ancestors(codes)
        if regions is not None and not regions:
            return Changes()  # nothing was loaded
        return self.evaluate(rules, Scope(regions, feed))
