"""The county screen's 试点建设 panel on the sample county with the demo programme imported and scored: the figures
of pilots.overview for the screen's scope (the county, a pilot township), and a scope without pilots says so."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dashboard.app import create_app
from dashboard.panels import Window, panels
from etl.demo.pilot_data import DEMO_PROGRAMME
from etl.demo.sample import build_sample
from etl.programmes.catalogue import load_programme
from etl.programmes.scoring import score_month
from etl.programmes.store import import_programme
from etl.warehouse import pilots as reads
from etl.warehouse.db import make_engine

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    settings = build_sample(tmp_path_factory.mktemp("pilots-panel"))
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        import_programme(connection, load_programme(DEMO_PROGRAMME))
        score_month(connection, "demo")
    create_app(settings)  # the panels' registry as the app has it
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
