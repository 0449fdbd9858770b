"""`ruralbrain demo --no-serve` leaves the demo programme scored, the way `programme score` would: /pilots showed
every pilot 未评定 until someone scored it (the live demo's etl watch does, a warehouse built alone never was)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from etl.warehouse.db import make_engine
from etl.warehouse.pilots import month_text, score_months
from etl.warehouse.schema import pilot_scores

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_demo_built_without_serving_has_this_months_scores(tmp_path):
    environment = {**os.environ, "VAR_DIR": str(tmp_path), "SIM_PORT": str(free_port())}
    built = subprocess.run(
        [sys.executable, "-m", "etl.cli", "demo", "--no-serve", "--days", "3"],
        env=environment,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    engine = make_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    try:
        with engine.connect() as connection:
            months = score_months(connection, "demo")
            rows = connection.execute(select(func.count()).select_from(pilot_scores)).scalar()
    finally:
        engine.dispose()
    assert rows > 0 and months and months[-1] == month_text(datetime.now(UTC))
    assert "demo " in built.stdout and "个试点" in built.stdout
