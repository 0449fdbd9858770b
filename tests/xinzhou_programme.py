"""The 忻州 programme as the pilot tests use it: its folder, a moment in its year, a warehouse of 忻州's real codes
on SQLite and PostgreSQL, and copies of the programme with lines of it replaced."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from etl.regions import import_codes_file
from etl.warehouse.db import make_engine, migrate

PROGRAMME = Path(__file__).resolve().parents[1] / "data" / "programmes" / "xinzhou-2023"
NOW = datetime(2023, 12, 5, tzinfo=UTC)
HESUO = "140902108000"  # 合索镇, a township pilot


@pytest.fixture(params=["sqlite", "postgresql"])
def xinzhou_url(request, tmp_path, real_data):
    """A warehouse at the newest schema holding 忻州's 2023 codes, on SQLite and on the real PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    import_codes_file(engine, real_data / "admin_codes_1409.csv")
    engine.dispose()
    return url


def programme_copy(tmp_path: Path, pilots: str | None = None, **replaced: str) -> Path:
    """A copy of the 忻州 programme, with its own pilot list and programme.toml lines replaced."""
    folder = tmp_path / f"p{len(list(tmp_path.glob('p*')))}"
    shutil.copytree(PROGRAMME, folder)
    if pilots is not None:
        (folder / "pilots.toml").write_text(pilots, encoding="utf-8")
    main_file = folder / "programme.toml"
    text = main_file.read_text(encoding="utf-8")
    for old, new in replaced.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    main_file.write_text(text, encoding="utf-8")
    return folder


def file_changed(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the 忻州 programme with the first ``old`` in one of its files replaced by ``new``."""
    folder = tmp_path / "p"
    shutil.copytree(PROGRAMME, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder
