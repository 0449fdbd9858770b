"""/healthz and /readyz against the real PostgreSQL: unready while the warehouse is unreachable, ready after."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from dashboard.app import create_app
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.settings import Settings
from tests.shared_fixtures import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.integration


def test_readyz_follows_the_warehouse(postgres_url, tmp_path):
    migrate(make_engine(postgres_url))
    app = create_app(Settings.load(var_dir=str(tmp_path), warehouse_url=postgres_url))
    client = app.server.test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready" and ready.json["migrations_current"]

    name = postgres_url.rsplit("/", 1)[1]
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
        )
    app.server.config["RURALBRAIN_ENGINE"].dispose()
    down = client.get("/readyz")
    assert down.status_code == 503 and down.json["status"] == "unready" and "unreachable" in down.json["warehouse"]
    assert client.get("/healthz").status_code == 200  # the process itself is fine

    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    again = client.get("/readyz")
    assert again.status_code == 200 and again.json["status"] == "ready"
    app.server.config["RURALBRAIN_ENGINE"].dispose()
    admin.dispose()


def test_readyz_is_unready_before_migrations(tmp_path):
    app = create_app(Settings.load(var_dir=str(tmp_path)))
    answer = app.server.test_client().get("/readyz")
    assert answer.status_code == 503 and answer.json["status"] == "unready"
