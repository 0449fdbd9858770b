"""The screens' engine on the real PostgreSQL: its queries run outside any transaction (autocommit), so a
connection never waits in one and returning it to the pool needs no ROLLBACK."""

from __future__ import annotations

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import text

from dashboard.app import create_app
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.settings import Settings

pytestmark = pytest.mark.integration


def _status_after_a_query(engine) -> TransactionStatus:
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM regions"))
        return connection.connection.driver_connection.info.transaction_status


def test_screen_queries_leave_no_transaction_open(postgres_url, tmp_path):
    writer = make_engine(postgres_url)
    migrate(writer)
    app = create_app(Settings.load(var_dir=str(tmp_path), warehouse_url=postgres_url))
    screens = app.server.config["RURALBRAIN_ENGINE"]

    assert _status_after_a_query(screens) == TransactionStatus.IDLE
    # The ETL's engine keeps its transactions: the same query leaves one open until commit or rollback.
    assert _status_after_a_query(writer) == TransactionStatus.INTRANS
    screens.dispose()
    writer.dispose()


def _prepared_after_repeats(engine) -> int:
    """Server-side prepared statements of a session that ran one parameterised query ten times."""
    with engine.connect() as connection:
        for n in range(10):
            connection.execute(text("SELECT count(*) FROM regions WHERE code >= :low"), {"low": str(n)})
        return connection.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()


def test_screen_queries_are_planned_with_their_values(postgres_url, tmp_path):
    # A prepared statement may get a generic plan, one for any region range, which read a province's buckets
    # for a village's choropleth; the screens' engine never prepares, the ETL's (writes) still does.
    writer = make_engine(postgres_url)
    migrate(writer)
    screens = create_app(Settings.load(var_dir=str(tmp_path), warehouse_url=postgres_url)).server.config[
        "RURALBRAIN_ENGINE"
    ]
    assert _prepared_after_repeats(screens) == 0
    assert _prepared_after_repeats(writer) >= 1
    screens.dispose()
    writer.dispose()
