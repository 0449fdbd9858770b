"""A pilot's evidence reads in Chinese wherever a person reads it: the 按月调度表's 指标明细, the 评估验收评分表 and
the /pilots page name where each figure comes from by the names of its measures, datasets, fields and coded values
(按期办结 ÷ 办结事件), never by their identifiers (cases.closed_on_time ÷ cases.closed); on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from dashboard.pilots.drill import evidence_lines
from etl.programmes.catalogue import load_programme
from etl.programmes.scoring import score_month
from etl.programmes.store import import_programme
from etl.rollups import day_of, hour_of, month_of
from etl.warehouse import pilots as reads
from etl.warehouse.pilot_reports.acceptance import acceptance_workbook
from etl.warehouse.pilot_reports.monthly import monthly_workbook, read_monthly
from etl.warehouse.schema import cases, rollups
from tests.alert_county import COUNTY, TOWN_A, VILLAGE_A1, county_engine

CATALOGUE = Path(__file__).resolve().parents[2] / "data" / "programmes" / "xinzhou-2023" / "indicators.toml"
AS_OF = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)  # 12:00 local on the 20th
# What an identifier looks like: a measure (cases.closed_on_time), a field or code (received_by_module, qr_code),
# a dataset or a bare code (cases, online): ASCII words in lower case.
IDENTIFIER = re.compile(r"(?<![A-Za-z])[a-z][a-z0-9]*(?:[._][a-z0-9]+)*(?![A-Za-z])")
UNIT = "mg/L"  # the one unit the catalogue writes in letters, as people write it
# The names the shipped catalogue's rules must read by, in their evidence.
NAMED = (
    "按期办结 ÷ 办结事件",  # T1.4: cases.closed_on_time ÷ cases.closed
    "受理事件（按模块） · 线上矛调（条数）",  # V1.3: cases.received_by_module[online_mediation]
    "治理事件（渠道：二维码、电话）：条数",  # V1.4: cases（channel=qr_code/phone）
    "劳动力信息库（学历：已填，特长：已填）：条数",  # V2.4: labour_profiles（education=*，skills=*）
    "土壤墒情+养殖舍氨气+养殖舍二氧化碳（条数）",  # T2.1: reading.soil_moisture+reading.ammonia+reading.co2
    "政务受理 · 网上办、掌上办（条数）",  # T1.2: gov.received[online、mobile]
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = county_engine(url)
    yield engine
    engine.dispose()


def _programme(folder: Path) -> Path:
    """A programme over the test county scored by the shipped 忻州 catalogue: a digital township and a village."""
    folder.mkdir()
    (folder / "indicators.toml").write_text(CATALOGUE.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "programme.toml").write_text(
        'id = "test"\nname = "测试试点"\nregion = "990199"\nfunds_per_pilot = 45\n'
        '[[milestones]]\nid = "plan"\nname = "编制建设方案"\nmonth = "2026-02"\n',
        encoding="utf-8",
    )
    pilot = '[[pilots]]\nkind = "{}"\ncounty = "测试县"\ntownship = "东镇"\n{}code = "{}"\n'
    (folder / "pilots.toml").write_text(
        pilot.format("township", "", TOWN_A) + "\n" + pilot.format("village", 'village = "甲村"\n', VILLAGE_A1),
        encoding="utf-8",
    )
    return folder


def _data(engine) -> None:
    """Cases closed (most on time) and received online, counted in the village, township and county, and a case
    reported by QR code."""
    moment = AS_OF.replace(day=10)
    rows = []
    for measure, dimension, count in (
        ("cases.closed", "", 10),
        ("cases.closed_on_time", "", 8),
        ("cases.received_by_module", "online_mediation", 3),
    ):
        for code in (VILLAGE_A1, TOWN_A, COUNTY):
            for grain, bucket in (("hour", hour_of(moment)), ("day", day_of(moment)), ("month", month_of(moment))):
                key = {"grain": grain, "bucket": bucket, "region_code": code, "measure": measure}
                rows.append({**key, "dimension": dimension, "count": count, "total": float(count)})
    case = {"case_id": "C1", "category": "appeal", "module": "general", "channel": "qr_code", "status": "received"}
    case |= {"region_code": VILLAGE_A1, "event_time": moment, "loaded_at": moment}
    with engine.begin() as connection:
        connection.execute(insert(rollups), rows)
        connection.execute(insert(cases), [case])


def _texts(cells) -> list[str]:
    return [value for value in cells if isinstance(value, str)]


def test_pilot_evidence_names_its_data_in_chinese_in_the_reports_and_on_the_page(engine, tmp_path):
    _data(engine)
    with engine.begin() as connection:
        import_programme(connection, load_programme(_programme(tmp_path / "programme")))
        month = score_month(connection, "test", now=AS_OF).month
    with engine.connect() as connection:
        monthly = monthly_workbook(read_monthly(connection, "test", month), now=AS_OF)
        acceptance = acceptance_workbook(connection, "test", VILLAGE_A1, month, now=AS_OF)
        scored = reads.scores(connection, "test", month)
    details = _texts(row[6] for row in monthly["指标明细"].iter_rows(min_row=4, values_only=True))
    sheet = _texts(value for row in acceptance.active.iter_rows(values_only=True) for value in row)
    page = [
        "".join(str(span.children) for span in line.children)
        for per_pilot in scored.values()
        for score in per_pilot.values()
        for line in evidence_lines(score)
    ]
    assert len(details) == 35 and len(page) > 35  # every item of both pilots, each with its rules
    for where, texts in (("指标明细", details), ("评估验收评分表", sheet), ("/pilots", page)):
        english = sorted({word for text in texts for word in IDENTIFIER.findall(text.replace(UNIT, ""))})
        assert not english, (where, english)
    shown = "\n".join(details)
    for name in NAMED:
        assert name in shown, name
    # The village's own figures, read as it reads them.
    on_time = next(line for line in "\n".join(sheet).splitlines() if line.startswith("近30天按期办结率"))
    assert on_time.startswith("近30天按期办结率：80.0%") and on_time.endswith("数据：按期办结 ÷ 办结事件"), on_time
    assert "近90天网上矛盾调解：3 件" in "\n".join(sheet)
