import socket

import pytest

from tests import shared_fixtures
from tests.shared_fixtures import postgres_url, real_data  # noqa: F401

MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883


@pytest.fixture(scope="session")
def mqtt_broker() -> tuple[str, int]:
    """The local Mosquitto as (host, port); skipped (failed under CI) when nothing listens there."""
    try:
        socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=2).close()
    except OSError as error:
        shared_fixtures.unavailable(f"MQTT broker not reachable at {MQTT_HOST}:{MQTT_PORT} ({error})")
    return MQTT_HOST, MQTT_PORT
