"""A programme imported again, on SQLite and PostgreSQL with 忻州's real codes: a list that drops pilots with
history, or another programme under the same id, is refused without --force, naming the pilots and the rows
they would leave; one place listed twice (by its code and by its names) is refused naming both entries."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from etl.cli import main
from etl.programmes.catalogue import ProgrammeError, load_programme
from etl.programmes.scoring import score_month
from etl.programmes.store import import_programme
from etl.warehouse.db import make_engine
from etl.warehouse.schema import pilot_scores
from tests.xinzhou_programme import HESUO, NOW, PROGRAMME, programme_copy


def test_a_list_dropping_pilots_with_history_is_refused_without_force(xinzhou_url, tmp_path):
    engine = make_engine(xinzhou_url)
    with engine.begin() as connection:
        import_programme(connection, load_programme(PROGRAMME), NOW)
        score_month(connection, "xinzhou-2023", "2023-11", now=NOW)
    corrected = programme_copy(tmp_path)
    listed = (corrected / "pilots.toml").read_text(encoding="utf-8")
    (corrected / "pilots.toml").write_text(listed.replace('"140924103212"', '"140924103213"'), encoding="utf-8")
    with engine.begin() as connection, pytest.raises(ProgrammeError) as raised:
        import_programme(connection, load_programme(corrected), NOW)
    message = str(raised.value)
    assert "已导入的方案 xinzhou-2023 中有 1 个试点不在新名单里" in message
    assert (
        "繁峙县繁城镇平型关村（编号 140924103212，新名单中编号为 140924103213）：评分 18 条，进度 0 条，资金 0 条"
        in message
    )
    assert "--force" in message
    # Another programme imported under this one's id (its own pilots, its own name) replaced all 67.
    another = f'[[pilots]]\nkind = "township"\ncounty = "忻府区"\ntownship = "合索镇"\ncode = "{HESUO}"\n'
    other = programme_copy(
        tmp_path, another, **{'name = "忻州市2023年度数字乡镇、数字村庄建设试点"': 'name = "另一方案"'}
    )
    with engine.begin() as connection, pytest.raises(ProgrammeError) as raised:
        import_programme(connection, load_programme(other), NOW)
    assert "新方案是“另一方案”；已导入的方案 xinzhou-2023 中有 66 个试点不在新名单里" in str(raised.value)
    with engine.begin() as connection:
        assert import_programme(connection, load_programme(corrected), NOW, force=True).pilots == 67
    with engine.connect() as connection:
        kept = connection.execute(select(func.count()).select_from(pilot_scores)).scalar()
    engine.dispose()
    assert kept == 22 * 17 + 45 * 18  # forcing drops no history


def test_the_cli_says_so_and_imports_with_force(tmp_path, real_data):
    var = str(tmp_path / "var")
    runner = CliRunner()
    assert (
        runner.invoke(main, ["--var-dir", var, "geo", "import", str(real_data / "admin_codes_1409.csv")]).exit_code == 0
    )
    assert runner.invoke(main, ["--var-dir", var, "programme", "import", str(PROGRAMME)]).exit_code == 0
    corrected = programme_copy(tmp_path)
    listed = (corrected / "pilots.toml").read_text(encoding="utf-8")
    (corrected / "pilots.toml").write_text(listed.replace('"140924103212"', '"140924103213"'), encoding="utf-8")
    refused = runner.invoke(main, ["--var-dir", var, "programme", "import", str(corrected), "--no-score"])
    assert refused.exit_code == 1 and "平型关村（编号 140924103212" in refused.output, refused.output
    forced = runner.invoke(main, ["--var-dir", var, "programme", "import", str(corrected), "--no-score", "--force"])
    assert forced.exit_code == 0 and "已导入方案 xinzhou-2023" in forced.output, forced.output


def test_one_place_listed_twice_is_refused(xinzhou_url, tmp_path):
    # Once by its code and once by id and within: accepted, scored twice and its money counted twice.
    twice = (
        f'[[pilots]]\nkind = "township"\ncounty = "忻府区"\ntownship = "合索镇"\ncode = "{HESUO}"\n\n'
        '[[pilots]]\nkind = "township"\ncounty = "忻府区"\ntownship = "合索镇"\nid = "hesuo-again"\n'
        'within = "140902"\n\n'
        '[[pilots]]\nkind = "village"\ncounty = "忻府区"\ntownship = "合索镇"\nvillage = "某村"\nid = "v1"\n'
        f'within = "{HESUO}"\n\n'
        '[[pilots]]\nkind = "village"\ncounty = "忻府区"\ntownship = "合索镇"\nvillage = "另村"\nid = "v2"\n'
        f'within = "{HESUO}"\n'
    )
    engine = make_engine(xinzhou_url)
    with engine.begin() as connection, pytest.raises(ProgrammeError) as raised:
        import_programme(connection, load_programme(programme_copy(tmp_path, twice)), NOW)
    assert str(raised.value) == (
        "pilots.toml 第 2 个试点（忻府区合索镇，编号 hesuo-again）与第 1 个试点（忻府区合索镇，编号 140902108000）"
        "都对应区划 合索镇（140902108000）：同一地方只能列一次"
    )
    # Two villages the codes lack, both tracked under their township, are two pilots.
    with engine.begin() as connection:
        imported = import_programme(
            connection, load_programme(programme_copy(tmp_path, twice.split("\n\n", 2)[2])), NOW
        )
    engine.dispose()
    assert imported.pilots == 2 and imported.resolutions == {"ancestor": 2}
