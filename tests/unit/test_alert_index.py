"""Rules are data, so the index of device_latest serves any limit: every reading rule of the demo's alerts file is
a range of (metric, value)."""

from sqlalchemy import select

from etl.alerts.config import DEMO_FILE, load_alerts
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import device_latest


def _plan(connection, query) -> str:
    compiled = query.compile(connection.engine)
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params.values())).all()
    return " ".join(str(row[-1]) for row in rows)


def test_every_reading_rule_uses_the_metric_value_index(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    latest = device_latest.c
    rules = [rule for rule in load_alerts(DEMO_FILE, {}).rules.values() if rule.kind == "reading"]
    assert {rule.params.metric for rule in rules} >= {"cod", "nh3n", "fill_level", "aqi", "online", "soil_moisture"}
    with engine.connect() as connection:
        for rule in rules:
            query = select(latest.device_id).where(
                latest.metric == rule.params.metric, rule.params.fire.sql(latest.value)
            )
            assert "ix_device_latest_metric_value" in _plan(connection, query), rule.id
    engine.dispose()
