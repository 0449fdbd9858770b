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
