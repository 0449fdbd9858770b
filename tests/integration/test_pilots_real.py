"""Real data: with 忻州's 2023 codes imported (`geo import`), the shipped 忻州 programme resolves all 67 pilots to a
region, or to the nearest unit above those the codes lack; a deployment that imported one county resolves its
own pilots and names the rest; a list without codes resolves by name; the monthly report covers every county;
all 67 pilots appear on /pilots."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from dashboard.app import create_app
from etl.cli import main
from etl.warehouse import pilots as reads
from etl.warehouse.accounts import add_user
from etl.warehouse.db import make_engine
from etl.warehouse.schema import regions
from etl.warehouse.settings import Settings
from geo.codes import level_of
from tests.dash_requests import page
from tests.sessions import HTTPS, PASSWORD, logged_in

PROGRAMME = Path(__file__).resolve().parents[2] / "data" / "programmes" / "xinzhou-2023"
COUNTIES = ["忻府区", "定襄县", "原平市", "五台县", "代县", "繁峙县", "宁武县", "静乐县", "神池县", "五寨县"]
COUNTIES += ["岢岚县", "河曲县", "保德县", "偏关县", "五台山景区"]
ANCESTORS = {"驼梁景区": "140922000000", "王村镇下王村": "140926105000", "土沟乡榆岭洼村": "140930203000"}


def cli(var: Path, *arguments: str):
    result = CliRunner().invoke(main, ["--var-dir", str(var), *arguments])
    assert result.exit_code == 0, result.output
    return result


def test_every_pilot_resolves_with_the_real_codes(real_data, tmp_path):
    var = tmp_path / "var"
    cli(var, "geo", "import", str(real_data / "admin_codes_1409.csv"))
    imported = cli(var, "programme", "import", str(PROGRAMME))
    assert "67 个试点（按代码 64，按上级区划 3）" in imported.output
    assert "7 个里程碑，35 项参考指标" in imported.output
    engine = make_engine(f"sqlite:///{var / 'warehouse.db'}")
    with engine.connect() as connection:
        listed = reads.pilots(connection, "xinzhou-2023")
        known = dict(connection.execute(select(regions.c.code, regions.c.level)).all())
    engine.dispose()
    assert len(listed) == 67
    assert sum(p.kind == "township" for p in listed) == 22 and sum(p.kind == "village" for p in listed) == 45
    assert [p.county for p in listed if p.kind == "township"].count("偏关县") == 8  # 偏关县 covers all its townships
    assert sorted({p.county for p in listed}) == sorted(COUNTIES)
    for pilot in listed:
        assert pilot.region_code in known, pilot.name  # every pilot is tracked under a region of the codes
        if pilot.resolution == "code":
            assert pilot.region_code == pilot.code and level_of(pilot.code) == pilot.kind
    assert {p.name: p.region_code for p in listed if p.resolution == "ancestor"} == ANCESTORS
    by_name = {p.name: p for p in listed}
    assert by_name["代县党群服务中心"].region_code == "140923400000"
    assert "平型关镇" in by_name["繁城镇平型关村"].note  # the code's township differs from the list's
    assert "杨坡道" in by_name["台怀镇阳坡道村"].note
    assert "五台县" in by_name["驼梁景区"].note

    status = cli(var, "programme", "status", "--programme", "xinzhou-2023", "--month", "2023-11")
    assert "67 个试点，按代码 64，按上级区划 3" in status.output
    out = tmp_path / "report.xlsx"
    cli(var, "report", "monthly", "--programme", "xinzhou-2023", "--month", "2023-11", "--out", str(out))
    book = load_workbook(out)
    assert book.sheetnames == ["汇总", *COUNTIES, "指标明细", "说明"]
    rows = list(book["汇总"].iter_rows(min_row=4, values_only=True))
    assert [row[1] for row in rows[:-1]] == COUNTIES and rows[-1][0] == "合计"
    assert (rows[-1][2], rows[-1][3]) == (22, 45) and rows[-1][7] == 67 * 45  # 万元 allocated
    # Every milestone of 2023-02 … 2023-11 is due by November's end and none was reported: all overdue.
    assert rows[-1][5] == 67 * 5
    assert book["指标明细"].max_row == 3 + 22 * 17 + 45 * 18


def test_one_county_deployment_resolves_its_own_pilots(real_data, tmp_path):
    """A county that imported only its own codes tracks its pilots; the others are listed as unresolved."""
    with open(real_data / "admin_codes_1409.csv", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["code"].startswith("140923")]
    own = tmp_path / "daixian.csv"
    with open(own, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    var = tmp_path / "var"
    cli(var, "geo", "import", str(own))
    imported = cli(var, "programme", "import", str(PROGRAMME))
    assert "67 个试点（按代码 4，未对应区划 63）" in imported.output
    assert "未对应区划（不评分）：合索镇：已导入的区划中没有忻府区" in imported.output
    engine = make_engine(f"sqlite:///{var / 'warehouse.db'}")
    with engine.connect() as connection:
        resolved = [p.name for p in reads.pilots(connection, "xinzhou-2023") if p.region_code]
        scoped = reads.pilots(connection, "xinzhou-2023", scope="140923")
    engine.dispose()
    assert resolved == ["代县党群服务中心", "上馆镇橙草沟村", "上馆镇西关村", "枣林镇鹿蹄涧村"]
    assert [p.name for p in scoped] == resolved


def test_a_list_without_codes_resolves_by_name(real_data, tmp_path):
    """Names resolve against the imported codes (南肖村委会 is 南肖村; 代 县 is 代县); a name the codes lack falls
    back to the unit above it."""
    folder = tmp_path / "named"
    folder.mkdir()
    (folder / "programme.toml").write_text(
        (PROGRAMME / "programme.toml").read_text(encoding="utf-8").replace('id = "xinzhou-2023"', 'id = "named"'),
        encoding="utf-8",
    )
    (folder / "indicators.toml").write_text((PROGRAMME / "indicators.toml").read_text(encoding="utf-8"))
    (folder / "pilots.toml").write_text(
        """[[pilots]]
kind = "village"
county = "忻府区"
township = "东楼乡"
village = "南肖村"
id = "p1"
within = "140902"
[[pilots]]
kind = "township"
county = "代 县"
township = "代县党群服务中心"
id = "p2"
within = "140923"
[[pilots]]
kind = "village"
county = "定襄县"
township = "晋昌镇"
village = "无名村"
id = "p3"
within = "140921"
""",
        encoding="utf-8",
    )
    var = tmp_path / "var"
    cli(var, "geo", "import", str(real_data / "admin_codes_1409.csv"))
    cli(var, "programme", "import", str(folder), "--no-score")
    engine = make_engine(f"sqlite:///{var / 'warehouse.db'}")
    with engine.connect() as connection:
        found = {p.pilot_id: (p.region_code, p.resolution) for p in reads.pilots(connection, "named")}
    engine.dispose()
    assert found == {
        "p1": ("140902209206", "name"),
        "p2": ("140923400000", "name"),
        "p3": ("140921100000", "ancestor"),
    }


def test_all_67_pilots_appear_on_the_pilots_page(real_data, tmp_path):
    """A city-wide account sees every pilot of the programme on /pilots: in the matrix, the timeline and the funds;
    a county's account its county's pilots alone."""
    var = tmp_path / "var"
    cli(var, "geo", "import", str(real_data / "admin_codes_1409.csv"))
    cli(var, "programme", "import", str(PROGRAMME))
    settings = Settings.load(var_dir=str(var))
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "city", "county", "140900000000", password=PASSWORD)
        add_user(connection, "daixian", "county", "140923000000", password=PASSWORD)
        listed = reads.pilots(connection, "xinzhou-2023")
    engine.dispose()
    app = create_app(settings)

    def shown(name: str) -> list[str]:
        answer = logged_in(app, name).post(f"{HTTPS}/_dash-update-component", json=page("/pilots"))
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        text = json.dumps(answer.json, ensure_ascii=False)
        return re.findall(r'"children": "([^"]+)", "href": "/pilots\?[^"]*pilot=', text)

    links = shown("city")
    assert len(listed) == 67
    assert links.count("代县党群服务中心") == 3  # matrix, funds, timeline
    for pilot in listed:
        assert links.count(pilot.name) >= 3, pilot.name
    assert len(links) == 3 * 67
    daixian = shown("daixian")
    assert sorted(set(daixian)) == sorted(p.name for p in listed if p.region_code.startswith("140923"))
