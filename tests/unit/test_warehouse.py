"""Warehouse: migrations build exactly the schema module, SQLite runs in WAL mode, the version only goes up."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from etl.warehouse.db import bump_version, current_version, make_engine, migrate, migrations_current, read_version
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
        assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 16384  # 64 MB: see db.py
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


def test_screens_read_of_the_version_follows_every_commit(tmp_path):
    """The screens' driver-level read sees each committed bump at once, and never an uncommitted one."""
    path = tmp_path / "w.db"
    migrate(make_engine(f"sqlite:///{path}"))
    screens = make_engine(f"sqlite:///{path}", autocommit=True)
    loader = make_engine(f"sqlite:///{path}")
    assert read_version(screens) == 0
    with loader.begin() as connection:
        bump_version(connection)
        assert read_version(screens) == 0  # not committed yet
    assert read_version(screens) == 1
    with loader.begin() as connection:
        bump_version(connection)
    assert read_version(screens) == read_version(loader) == 2


def test_version_read_names_the_missing_row(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM warehouse_version"))
    with pytest.raises(LookupError, match="ruralbrain migrate"):
        read_version(engine)
