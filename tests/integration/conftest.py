import socket

import pytest

from etl.warehouse.db import make_engine, migrate
from tests import shared_fixtures
from tests.shared_fixtures import postgres_url, real_data  # noqa: F401
from tests.xinzhou_programme import xinzhou_url  # noqa: F401

MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883


@pytest.fixture(scope="session")
def mqtt_broker() -> tuple[str, int]:
    """The local Mosquitto as (host, port); skipped (failed under CI) when nothing listens there."""
    try:
        socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=2).close()
    except OSError as error:
        shared_fixtures.unavailable(f"MQTT broker not reachable at {MQTT_HOST}:{MQTT_PORT} ({error})")
    return MQTT_HOST, MQTT_PORT


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    """An empty warehouse at the newest schema, on SQLite and on the real PostgreSQL (a module that needs regions
    or data in it defines its own ``engine``)."""
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def source_url(request, tmp_path) -> str:
    """An empty source database for the SQL transport: a fresh PostgreSQL database or a SQLite file."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'source.db'}"
