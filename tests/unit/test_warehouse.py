"""Warehouse: migrations build exactly the schema module, SQLite runs in WAL mode, the version only goes up."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from etl.warehouse.db import bump_version, current_version, make_engine, migrate, migrations_current
from etl.warehouse.schema import metadata


def test_migrations_create_exactly_the_schema_module(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    assert not migrations_current(engine)
    migrate(engine)
    assert migrations_current(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_sqlite_wal_and_version_counter(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert current_version(connection) == 0
    with engine.begin() as connection:
        assert bump_version(connection) == 1
    try:
        with engine.begin() as connection:
            bump_version(connection)
            raise RuntimeError("load failed")
    except RuntimeError:
        pass
    with engine.connect() as connection:
        assert current_version(connection) == 1  # a rolled-back load leaves the version as it was
