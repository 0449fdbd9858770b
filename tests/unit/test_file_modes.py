"""Files with secrets or personal data are their owner's alone: the secret key and the SQLite warehouse (and its
-wal and -shm) are created 0600, older wider ones narrowed; the .env.example placeholder key stops the start."""

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from etl.warehouse.db import make_engine, migrate
from etl.warehouse.settings import SecretKeyError, Settings

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def generous_umask():
    """A umask that would leave new files readable by everyone (022, the usual one)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_generated_secret_key_is_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = Settings.load(var_dir=str(tmp_path / "var"), secret_key=None)
    key = settings.ensure_secret_key()
    path = tmp_path / "var" / "secret_key"
    assert len(key) == 64 and mode(path) == 0o600
    assert settings.ensure_secret_key() == key  # kept: every worker reads the same key
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no partial file left behind
    path.chmod(0o644)  # written by an earlier version
    assert settings.ensure_secret_key() == key and mode(path) == 0o600


def test_the_sqlite_warehouse_and_its_journal_are_readable_by_their_owner_only(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'warehouse.db'}")
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE probe (x)"))
        connection.execute(text("INSERT INTO probe VALUES (1)"))
        files = sorted((tmp_path / "var").iterdir())
        assert {p.name for p in files} >= {"warehouse.db", "warehouse.db-wal", "warehouse.db-shm"}
        assert {p.name: mode(p) for p in files} == dict.fromkeys((p.name for p in files), 0o600)
    engine.dispose()
    older = tmp_path / "old.db"
    older.write_bytes(b"")
    older.chmod(0o644)
    make_engine(f"sqlite:///{older}").dispose()
    assert mode(older) == 0o600


def test_the_placeholder_or_a_short_secret_key_stops_the_start_with_a_clear_message(tmp_path):
    from dashboard.app import create_app

    placeholder = next(
        line.split("=", 1)[1]
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if line.startswith("SECRET_KEY=")
    )
    for key in (placeholder, "short-but-secret"):
        with pytest.raises(SecretKeyError, match="SECRET_KEY .*占位值或少于 32 个字符"):
            Settings.load(secret_key=key).ensure_secret_key()
    with pytest.raises(SecretKeyError):
        create_app(Settings.load(var_dir=str(tmp_path), secret_key=placeholder))  # the app does not start
    good = "k" * 40
    assert Settings.load(secret_key=good).ensure_secret_key() == good
