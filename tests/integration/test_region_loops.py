"""A warehouse whose regions loop (a region its own parent, stored before imports refused it): the breadcrumb's walk
up to the root ends instead of running for ever."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from dashboard.regions import ancestors
from etl.warehouse.schema import regions

pytestmark = pytest.mark.integration


def test_the_walk_to_the_root_ends_on_a_parent_loop(engine):
    now = datetime.now(UTC)
    rows = [
        ("330522000000", "长兴县", "county", None),
        ("330522001000", "雉城街道", "township", "330522000000"),
        ("330522001004", "自指", "village", "330522001004"),
        ("330522001005", "甲", "village", "330522001006"),
        ("330522001006", "乙", "village", "330522001005"),
    ]
    with engine.begin() as connection:
        connection.execute(
            insert(regions),
            [{"code": c, "name": n, "level": lv, "parent_code": p, "updated_at": now} for c, n, lv, p in rows],
        )
    assert ancestors(engine, "330522001004", "330522000000") == []
    assert ancestors(engine, "330522001005", "330522000000") == []
    assert [r.code for r in ancestors(engine, "330522001000", "330522000000")] == ["330522000000", "330522001000"]
