"""/healthz and /readyz against the real PostgreSQL: unready while the warehouse is unreachable, ready after."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dashboard.app import create_app
from etl.regions import import_codes_file
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.settings import Settings
from tests.shared_fixtures import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.integration
REGIONS = Path(__file__).resolve().parents[2] / "data" / "demo" / "regions.csv"


def test_readyz_follows_the_warehouse(postgres_url, tmp_path):
    engine = make_engine(postgres_url)
    migrate(engine)
    import_codes_file(engine, REGIONS)  # without regions every screen is an error screen: unready
    engine.dispose()
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


def test_readyz_is_unready_until_the_warehouse_has_regions(tmp_path):
    # Every screen shows 数据仓库中还没有区划 then: a load balancer must not send them there yet.
    settings = Settings.load(var_dir=str(tmp_path))
    engine = make_engine(settings.warehouse_url)
    migrate(engine)
    client = create_app(settings).server.test_client()
    empty = client.get("/readyz")
    assert empty.status_code == 503 and empty.json["status"] == "unready" and empty.json["migrations_current"]
    assert "还没有区划" in empty.json["regions"]

    import_codes_file(engine, REGIONS)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready" and ready.json["regions"] == "ok"
    engine.dispose()


def test_readyz_is_unready_when_the_configured_root_is_missing(tmp_path):
    settings = Settings.load(var_dir=str(tmp_path), root_region="990101999000")
    engine = make_engine(settings.warehouse_url)
    migrate(engine)
    import_codes_file(engine, REGIONS)
    answer = create_app(settings).server.test_client().get("/readyz")
    assert answer.status_code == 503 and "990101999000" in answer.json["regions"]
    engine.dispose()
