"""The ruralbrain command: geo import reports what it skipped and why; geo build writes map files once."""

import json

import orjson
from click.testing import CliRunner

from etl.cli import main

CODES = "code,name\n990199,测试县\n990199001,东镇\n990199002,西镇\n990199001001,甲村\n99019900100X,坏村\n"
OUTLINE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"code": "990199000000", "name": "测试县"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[117, 31], [117.2, 31], [117.2, 31.2], [117, 31.2], [117, 31]]],
            },
        }
    ],
}


def test_geo_import_then_build(tmp_path):
    (tmp_path / "codes.csv").write_text(CODES, encoding="utf-8")
    (tmp_path / "outline.geojson").write_text(json.dumps(OUTLINE), encoding="utf-8")
    runner = CliRunner()
    base = ["--var-dir", str(tmp_path / "var")]
    files = [str(tmp_path / "outline.geojson"), str(tmp_path / "codes.csv")]  # boundaries listed first on purpose
    result = runner.invoke(main, [*base, "geo", "import", *files, "--crs", "wgs84"])
    assert result.exit_code == 0, result.output
    assert "codes.csv: 4 regions imported" in result.output
    assert "skipped: codes.csv, row 6, field 'code': bad code" in result.output
    assert "1 skipped:" in result.output and "1 × bad code" in result.output
    assert "outline.geojson: 1 boundaries imported" in result.output
    assert "schematic boundaries: 3 updated" in result.output

    strict = runner.invoke(main, [*base, "geo", "import", str(tmp_path / "codes.csv"), "--strict"])
    assert strict.exit_code == 1 and "4 unchanged" in strict.output

    built = runner.invoke(main, [*base, "geo", "build"])
    assert built.exit_code == 0 and "built for warehouse version" in built.output
    manifest = orjson.loads((tmp_path / "var" / "geo" / "manifest.json").read_bytes())
    assert manifest["root"] == "990199000000"
    children = orjson.loads((tmp_path / "var" / "geo" / "children" / "990199000000.geojson").read_bytes())
    assert sorted(f["properties"]["name"] for f in children["features"]) == ["东镇", "西镇"]
    assert {f["properties"]["boundary"] for f in children["features"]} == {"schematic"}
    again = runner.invoke(main, [*base, "geo", "build"])
    assert "already up to date" in again.output
