"""Geography pipeline for a city of ~3,000 villages: import, schematic boundaries, per-level map files.

Prints the time of each stage (target: all ≤ 30 s on 2 cores), each view's GeoJSON size raw and gzipped
(target: ≤ 300 KB gzipped per level view), and the same level simplified polygon by polygon with
shapely's ``simplify`` (the baseline): its size and how many gaps and overlaps it opens between neighbours.
"""

from __future__ import annotations

import gzip
import tempfile
import time
from pathlib import Path

import orjson
import shapely

from etl.demo.regions import generate_city, write_csv, write_outline
from etl.geo_build import build_geometry
from etl.regions import fill_schematic, import_codes_file, load_boundaries
from etl.warehouse.db import make_engine, migrate
from geo.boundaries import read_boundaries
from geo.coverage import feature_collection


def _sizes(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    return len(data), len(gzip.compress(data, 6))


def _seams(geometries: list) -> tuple[int, float]:
    """Pairs of neighbours that overlap, and the total area of gaps and overlaps relative to the whole."""
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    pairs = [(a, b) for a, b in zip(left, right, strict=True) if a < b]
    overlapping = sum(1 for a, b in pairs if geometries[a].intersection(geometries[b]).area > 1e-12)
    union = shapely.union_all(geometries)
    total = sum(g.area for g in geometries)
    return overlapping, abs(total - union.area) / union.area


def main() -> None:
    """Run the benchmark once and print its figures."""
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        rows, outline = generate_city()
        write_csv(rows, folder / "codes.csv")
        city = next(r for r in rows if r.level == "city")
        write_outline(outline, city.code, city.name, folder / "outline.geojson")
        villages = sum(r.level == "village" for r in rows)
        engine = make_engine(f"sqlite:///{folder / 'warehouse.db'}")
        migrate(engine)

        stages = {}
        start = time.perf_counter()
        import_codes_file(engine, folder / "codes.csv")
        load_boundaries(engine, read_boundaries(folder / "outline.geojson", crs="wgs84"), source="bench")
        stages["import"] = time.perf_counter() - start
        start = time.perf_counter()
        fill_schematic(engine)
        stages["schematic boundaries"] = time.perf_counter() - start
        start = time.perf_counter()
        build_geometry(engine, folder / "geo")
        stages["per-level simplification"] = time.perf_counter() - start
        total = sum(stages.values())
        print(f"{len(rows)} regions ({villages} villages); " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()))
        print(f"total {total:.1f} s (target ≤ 30 s)")

        manifest = orjson.loads((folder / "geo" / "manifest.json").read_bytes())
        print("view                              raw KB   gzip KB   (target ≤ 300 KB gzipped)")
        for level in ("city", "county", "township", "village"):
            raw, packed = _sizes(folder / "geo" / "levels" / f"{level}.geojson")
            print(f"whole {level:<10} level           {raw / 1024:8.0f}  {packed / 1024:8.0f}")
        level_of = {row.code: row.level for row in rows}
        biggest = {}
        for path in (folder / "geo" / "children").glob("*.geojson"):
            level = level_of.get(path.stem, "above the city")
            biggest[level] = max(biggest.get(level, (0, 0)), _sizes(path))
        for level, (raw, packed) in biggest.items():
            print(f"largest view of one {level:<9}     {raw / 1024:8.0f}  {packed / 1024:8.0f}")

        # Baseline: simplify each village on its own (shapely.simplify) with the same tolerance.
        village_file = orjson.loads((folder / "geo" / "levels" / "village.geojson").read_bytes())
        ours = [shapely.from_geojson(orjson.dumps(f["geometry"])) for f in village_file["features"]]
        raw_cells = [shapely.from_wkb(w) for w in _village_wkb(engine)]
        tolerance = manifest["tolerances"]["village"]
        start = time.perf_counter()
        baseline = [shapely.simplify(cell, tolerance, preserve_topology=True) for cell in raw_cells]
        baseline_time = time.perf_counter() - start
        baseline_bytes = feature_collection([{"geometry": g, "properties": {}} for g in baseline])
        ours_overlaps, ours_seam = _seams(ours)
        base_overlaps, base_seam = _seams(baseline)
        print(
            f"village level, ours (coverage_simplify): {ours_overlaps} overlapping neighbour pairs, "
            f"gaps+overlaps {ours_seam:.2e} of the area"
        )
        print(
            f"village level, baseline (per-polygon simplify, {baseline_time:.2f} s, "
            f"{len(gzip.compress(baseline_bytes)) / 1024:.0f} KB gzipped): {base_overlaps} overlapping pairs, "
            f"gaps+overlaps {base_seam:.2e} of the area"
        )
        ours_packed = len(gzip.compress((folder / "geo" / "levels" / "village.geojson").read_bytes()))
        print(
            f"ratios ours/baseline: gzipped size {ours_packed / len(gzip.compress(baseline_bytes)):.2f}, "
            f"overlapping pairs {ours_overlaps}/{base_overlaps}; total time / 30 s target {total / 30:.2f}"
        )
        engine.dispose()


def _village_wkb(engine) -> list[bytes]:
    from sqlalchemy import select

    from etl.warehouse.schema import regions

    with engine.connect() as connection:
        query = select(regions.c.geometry).where(regions.c.level == "village").order_by(regions.c.code)
        return list(connection.execute(query).scalars())


if __name__ == "__main__":
    main()
