"""Fixtures for real data and real services: skip with a reason on a newcomer's machine, fail under CI=true."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.realdata import REAL_DATA

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def unavailable(reason: str) -> None:
    """Fail under CI (every service must be there) or skip with a one-line reason elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def real_data():
    """The shared real public data folder; tests skip when ../shared is not beside the repository."""
    if not REAL_DATA.is_dir():
        pytest.skip("real data not found at ../shared/data/real (clone with ../shared beside it)")
    return REAL_DATA


@pytest.fixture
def postgres_url():
    """A fresh, empty database on the local PostgreSQL, dropped afterwards."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"ruralbrain_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any connection failure means the service is missing
        admin.dispose()
        unavailable(f"PostgreSQL not reachable at 127.0.0.1:5432 ({type(error).__name__})")
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
