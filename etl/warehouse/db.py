"""Engines for the warehouse (SQLite in WAL mode or PostgreSQL), migrations and the version counter."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, select, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from etl.warehouse.schema import warehouse_version
from etl.warehouse.settings import SettingError

# user:password@ in a URL SQLAlchemy cannot parse: the password is masked in messages all the same.
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def as_utc(moment: datetime | str | None) -> datetime | None:
    """A warehouse time as an aware UTC datetime: SQLite hands them back without a zone (the warehouse stores
    UTC), and the screens' cache may hold them as ISO text."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str, *, autocommit: bool = False) -> Engine:
    """An engine for the warehouse URL; SQLite files get WAL mode, a busy timeout and foreign keys.

    ``autocommit``: every statement commits by itself, for readers (the screens). A connection then neither
    begins a transaction nor rolls it back when returned to the pool, two round trips fewer per query on
    PostgreSQL; under READ COMMITTED each statement saw its own snapshot anyway.
    """
    parsed = _parsed(url)
    options: dict = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    if parsed.get_backend_name() != "sqlite":
        if autocommit and parsed.get_driver_name() == "psycopg":
            # psycopg prepares a statement run five times; PostgreSQL then may keep a generic plan for it, one
            # plan for any region range: the choropleth's children query read a province's buckets that way
            # (255-420 ms instead of 7 ms). The screens' statements are planned with their values each time.
            options["connect_args"] = {"prepare_threshold": None}
        return _created(url, parsed, pool_pre_ping=True, **options)
    engine = _created(url, parsed, connect_args={"timeout": 30}, **options)
    if parsed.database and parsed.database != ":memory:":
        _private_file(Path(parsed.database))  # before the first connection creates it

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        # WAL lets screens read while the ETL writes; NORMAL sync is durable across app crashes in WAL.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # SQLite's default page cache is 2 MB: a load's index pages fall out of it once a table passes a few
        # hundred thousand rows. The loader's staging tables stay in memory instead of a temporary file.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA temp_store=MEMORY")
        # Checkpoint the WAL at 64 MB instead of 4 MB: a big load rewrites the same index and rollup pages on
        # every batch, and each checkpoint copied them back to the database again (a 300,000-row file: 4 % of
        # its run). Readers find pages in the WAL through its index, so a longer WAL costs them nothing.
        cursor.execute("PRAGMA wal_autocheckpoint=16384")
        cursor.close()

    return engine


def masked_url(url: str) -> str:
    """The warehouse URL as it may be shown: its password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return _PASSWORD.sub(r"\1***@", url)


def warehouse_file(url: str) -> Path | None:
    """The SQLite file of a warehouse URL; None for a database server's or one in memory."""
    parsed = _parsed(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def has_schema(engine: Engine) -> bool:
    """Whether the warehouse has been migrated at least once (its tables exist)."""
    with engine.connect() as connection:
        return inspect(connection).has_table("alembic_version")


def _parsed(url: str) -> URL:
    """The warehouse URL parsed, or a SettingError saying it is no URL."""
    try:
        return make_url(url)
    except ArgumentError:
        raise _url_error(url, "无法解析，应形如 postgresql+psycopg://用户@主机/数据库 或 sqlite:///文件路径") from None


def _created(url: str, parsed: URL, **options) -> Engine:
    """The engine of a parsed URL, or a SettingError naming the database type or driver SQLAlchemy lacks."""
    try:
        return create_engine(url, **options)
    except NoSuchModuleError:
        raise _url_error(url, _unknown(parsed)) from None
    except ImportError as error:  # a dialect SQLAlchemy knows, whose driver is not installed
        raise _url_error(url, f"缺少数据库驱动 {error.name or parsed.get_driver_name()}") from None


def _unknown(parsed: URL) -> str:
    """What SQLAlchemy does not know of a URL: its database type, or only its driver."""
    try:
        URL.create(parsed.get_backend_name()).get_dialect()
    except (NoSuchModuleError, ImportError):
        return f"不认识的数据库类型 {parsed.get_backend_name()}"
    return f"不认识的数据库驱动 {parsed.get_driver_name()}"


def _url_error(url: str, reason: str) -> SettingError:
    """The error of a WAREHOUSE_URL that cannot be used, with the reason and the URL without its password."""
    return SettingError(f"WAREHOUSE_URL 不是可用的数据仓库地址（{reason}）：{masked_url(url)}")


def _private_file(path: Path) -> None:
    """Create the SQLite warehouse readable and writable by its owner only (it holds names and phone numbers);
    SQLite gives its -wal and -shm files the database file's mode. A file of an earlier version is narrowed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if name.exists() and name.stat().st_mode & 0o077 and name.stat().st_uid == os.getuid():
                name.chmod(0o600)


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


class MigrationRefused(RuntimeError):
    """A migration that cannot go on with the warehouse's data as it is; the message says what to do (Chinese)."""


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the warehouse schema up to ``revision`` (Alembic)."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def migrations_current(engine: Engine) -> bool:
    """Whether the warehouse is at the newest migration."""
    with engine.connect() as connection:
        heads = set(ScriptDirectory.from_config(_alembic_config(connection)).get_heads())
        return set(MigrationContext.configure(connection).get_current_heads()) == heads


def bump_version(connection: Connection) -> int:
    """Increase the warehouse version inside the caller's transaction; returns the new version."""
    connection.execute(
        update(warehouse_version)
        .where(warehouse_version.c.id == 1)
        .values(version=warehouse_version.c.version + 1, updated_at=datetime.now(UTC))
    )
    return current_version(connection)


def current_version(connection: Connection) -> int:
    """The warehouse version: it increases with every committed write."""
    return connection.execute(select(warehouse_version.c.version).where(warehouse_version.c.id == 1)).scalar_one()


# Constant SQL, read through the driver: the screens ask for the version once per request, and building and
# compiling a Core statement each time cost 75 µs of a ~0.9 ms refresh, the driver's cursor 9 µs. The row's
# updated_at comes with it: every bump sets it, so (version, updated_at) never repeats, even when a warehouse
# restored from a backup counts its versions again from the backup's (see read_version_mark).
_VERSION_SQL = f"SELECT version, updated_at FROM {warehouse_version.name} WHERE id = 1"


def read_version_mark(engine: Engine) -> tuple[int, str]:
    """The warehouse version now, and a mark of this version's bump (its updated_at as text), from a pooled
    connection of ``engine`` (outside any transaction of ours), in one single-row read. A restore from a backup
    takes the version back (402) and the next load bumps it to a number the lost timeline had (403): the mark
    tells the two 403s apart, so a cache keyed on both never serves the lost timeline's answers."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(_VERSION_SQL)
            row = cursor.fetchone()
        finally:
            cursor.close()
    finally:
        connection.close()
    if row is None:
        raise LookupError("warehouse_version 表没有版本行：请先运行 ruralbrain migrate")
    return row[0], str(row[1])


def read_version(engine: Engine) -> int:
    """The warehouse version now, from a pooled connection of ``engine`` (outside any transaction of ours)."""
    return read_version_mark(engine)[0]
