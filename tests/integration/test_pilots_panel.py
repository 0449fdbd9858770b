"""The county screen's 试点建设 panel on the sample county with the demo programme imported and scored: the figures
of pilots.overview for the screen's scope (the county, a pilot township), and a scope without pilots says so."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from dashboard.app import create_app
from dashboard.county_content import minute_of, screen_content
from dashboard.panels import Window, panels
from dashboard.pilot_queries import children_pilot_shares
from etl.demo.pilot_data import DEMO_PROGRAMME
from etl.demo.sample import build_sample
from etl.programmes.catalogue import load_programme
from etl.programmes.scoring import score_month
from etl.programmes.store import import_programme
from etl.warehouse import pilots as reads
from etl.warehouse.db import make_engine
from etl.warehouse.schema import pilot_scores, regions

pytestmark = pytest.mark.integration
COUNTY = "990101000000"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    settings = build_sample(tmp_path_factory.mktemp("pilots-panel"))
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        import_programme(connection, load_programme(DEMO_PROGRAMME))
        score_month(connection, "demo")
    app = create_app(settings)  # the panels' registry as the app has it
    with app.server.app_context():  # the map theme's query is cached
        yield engine
    engine.dispose()


def shown(engine, scope: str) -> str:
    tree = panels()["pilots"].render(engine, scope, Window.at(datetime.now(UTC)))
    return json.dumps(
        [part.to_plotly_json() for part in tree], ensure_ascii=False, default=lambda o: o.to_plotly_json()
    )


@pytest.mark.parametrize("scope", ["990101000000", "990101101000"])
def test_the_panel_shows_the_overview_of_its_scope(engine, scope):
    with engine.connect() as connection:
        month = reads.score_months(connection, "demo")[-1]
        seen = reads.overview(connection, "demo", month, scope)
    text = shown(engine, scope)
    rated = sum(seen["scores"].values())
    assert f'"{sum(seen["pilots"].values())}"' in text
    assert f'"{100 * seen["scores"]["met"] / rated:,.1f}"' in text
    assert f'"{seen["allocated"]:,.1f}"' in text
    for count in seen["scores"].values():
        assert f'"{count}项"' in text
    assert "示范县数字乡镇、数字村庄建设试点（演示）" in text


def test_a_scope_without_pilots_says_so(engine):
    assert "本区域没有试点" in shown(engine, "990101001002")


def test_the_map_theme_colours_each_township_by_its_pilots_points_share(engine):
    # Recounted from the score rows themselves: 达标 1, 部分达标 0.5 over every item of the township's pilots.
    with engine.connect() as connection:
        month = reads.score_months(connection, "demo")[-1]
        rows = connection.execute(
            select(pilot_scores.c.region_code, pilot_scores.c.status).where(
                pilot_scores.c.programme_id == "demo", pilot_scores.c.month == month
            )
        ).all()
    points: dict[str, list[float]] = {}
    for region, status in rows:
        if region == COUNTY:
            continue  # a pilot tracked under the county itself colours no township
        points.setdefault(region[:9] + "000", []).append({"met": 1.0, "partly": 0.5}.get(status, 0.0))
    expected = {township: 100 * sum(values) / len(values) for township, values in points.items()}
    content = screen_content(engine, COUNTY, COUNTY, tuple(panels()), minute_of(datetime.now(UTC)))
    theme = next(theme for theme in content["themes"] if "试点建设" in json.dumps(theme["legend"], ensure_ascii=False))
    assert theme["values"] == pytest.approx(expected, abs=1e-4) and len(expected) > 1  # sent to 4 decimals
    # The scale ends at 100 %, whatever the best township has: the last colour starts at 90 %.
    assert theme["max"] == 100 and '"90%"' in json.dumps(theme["legend"], ensure_ascii=False)
    with engine.connect() as connection:
        townships = connection.execute(select(regions.c.code).where(regions.c.parent_code == COUNTY)).scalars().all()
    without = next(code for code in townships if code not in expected)
    assert children_pilot_shares(engine, without, month) == {}  # a township without pilots: no colours
