"""The demo warehouse: the fictional county of data/demo imported through the real region pipeline."""

from __future__ import annotations

from pathlib import Path

from etl.geo_build import build_geometry
from etl.regions import fill_schematic, import_codes_file, load_boundaries
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.settings import Settings
from geo.boundaries import read_boundaries

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"


def build_demo(settings: Settings, echo=print) -> None:
    """Migrate the warehouse, import the demo county's codes and outline, fill schematic cells, build map files."""
    engine = make_engine(settings.warehouse_url)
    migrate(engine)
    codes = import_codes_file(engine, DEMO_DIR / "regions.csv", source="demo")
    outline = load_boundaries(engine, read_boundaries(DEMO_DIR / "outline.geojson", crs="wgs84"), source="demo")
    cells = fill_schematic(engine)
    geometry = build_geometry(engine, settings.geo_dir)
    engine.dispose()
    state = "已生成" if geometry.built else "已是最新"
    echo(
        f"示范数据仓库：写入 {codes.loaded} 个区划（{codes.unchanged} 个未变），县界 {outline.loaded} 条，"
        f"示意边界更新 {cells.loaded} 个，地图几何{state}（数据版本 {geometry.version}）"
    )
