"""The ``ruralbrain`` command: demo, serve, migrate and the geography pipeline (geo import, geo build)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from etl.warehouse.settings import Settings

BOUNDARY_SUFFIXES = {".geojson", ".json", ".shp", ".gpkg", ".zip"}


@click.group()
@click.option("--var-dir", help="Folder for runtime files (env VAR_DIR).")
@click.option("--warehouse-url", help="SQLAlchemy URL of the warehouse (env WAREHOUSE_URL).")
@click.pass_context
def main(context: click.Context, var_dir: str | None, warehouse_url: str | None) -> None:
    """乡村大脑 (Rural Brain): warehouse, ETL and screens."""
    context.obj = Settings.load(var_dir=var_dir, warehouse_url=warehouse_url)


def _engine(settings: Settings):
    from etl.warehouse.db import make_engine, migrate

    engine = make_engine(settings.warehouse_url)
    migrate(engine)
    return engine


@main.command("migrate")
@click.pass_obj
def migrate_command(settings: Settings) -> None:
    """Create or upgrade the warehouse schema."""
    _engine(settings)
    click.echo(f"warehouse at the newest schema: {settings.warehouse_url}")


@main.group()
def geo() -> None:
    """Regions and their geometry."""


@geo.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--crs",
    type=click.Choice(["gcj02", "wgs84", "cgcs2000"]),
    help="CRS of boundary files that declare none.",
)
@click.option("--code-field", help="Boundary field holding the region code (default: adcode, code, …).")
@click.option("--name-field", help="Boundary field holding the region name (default: name, 名称, …).")
@click.option("--parent", "parent_code", help="Match features without a code by name under this region.")
@click.option("--layer", help="Layer of a GeoPackage.")
@click.option("--strict", is_flag=True, help="Exit with status 1 when anything was skipped.")
@click.pass_obj
def geo_import(settings: Settings, files, crs, code_field, name_field, parent_code, layer, strict) -> None:
    """Import code CSVs (regions) and boundary files (GeoJSON, Shapefile, GeoPackage), then fill schematic cells."""
    from etl.regions import fill_schematic, import_codes_file, load_boundaries
    from geo.boundaries import read_boundaries
    from geo.codes import normalize_code
    from geo.issues import summarize

    engine = _engine(settings)
    parent = normalize_code(parent_code) if parent_code else None
    skipped = 0
    # Codes first, so boundaries given in the same call find their regions.
    for path in sorted(files, key=lambda p: Path(p).suffix.lower() in BOUNDARY_SUFFIXES):
        if Path(path).suffix.lower() in BOUNDARY_SUFFIXES:
            read = read_boundaries(path, crs=crs, code_field=code_field, name_field=name_field, layer=layer)
            report = load_boundaries(engine, read, source="geo import", parent_code=parent)
            what = "boundaries"
        else:
            report = import_codes_file(engine, path)
            what = "regions"
        for issue in report.issues:
            click.echo(f"skipped: {issue}", err=True)
        click.echo(f"{path}: {report.loaded} {what} imported, {report.unchanged} unchanged")
        click.echo(summarize(report.issues), err=bool(report.issues))
        skipped += len(report.issues)
    cells = fill_schematic(engine)
    click.echo(f"schematic boundaries: {cells.loaded} updated, {cells.unchanged} unchanged")
    if strict and skipped:
        sys.exit(1)


@geo.command("build")
@click.option("--force", is_flag=True, help="Rebuild even if the files match the warehouse version.")
@click.pass_obj
def geo_build(settings: Settings, force: bool) -> None:
    """Write per-level simplified GeoJSON for the maps (cached on disk until the warehouse changes)."""
    from etl.geo_build import build_geometry

    report = build_geometry(_engine(settings), settings.geo_dir, force=force)
    sizes = ", ".join(f"{level} {size / 1024:.0f} KB" for level, size in report.level_bytes.items())
    state = "built" if report.built else "already up to date"
    click.echo(f"map geometry {state} for warehouse version {report.version} in {settings.geo_dir}: {sizes}")


@main.command()
@click.option("--host", help="Address to listen on (env HOST).")
@click.option("--port", type=int, help="Port (env PORT).")
@click.option("--workers", type=int, help="gunicorn workers (env WEB_WORKERS).")
@click.pass_obj
def serve(settings: Settings, host, port, workers) -> None:
    """Serve the screens with gunicorn."""
    _serve(Settings.load(**{**settings.__dict__, "host": host, "port": port, "web_workers": workers}))


def _serve(settings: Settings) -> None:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    # Settings reach the workers through the environment: explicit arguments were merged in already.
    environment = {**os.environ, **{name.upper(): str(value) for name, value in settings.__dict__.items()}}
    control = Path(settings.var_dir, "gunicorn.ctl").resolve()
    arguments = [
        gunicorn,
        "dashboard.wsgi:server",
        "--bind",
        f"{settings.host}:{settings.port}",
        "--workers",
        str(settings.web_workers),
        "--control-socket",
        str(control),  # gunicorn 27 shares one in $HOME by default
        "--access-logfile",
        "-",
    ]
    click.echo(f"serving 乡村大脑 on http://{settings.host}:{settings.port}")
    os.execve(gunicorn, arguments, environment)


@main.command()
@click.option("--serve/--no-serve", "then_serve", default=True, help="Serve the screens after building.")
@click.pass_obj
def demo(settings: Settings, then_serve: bool) -> None:
    """Build the demo warehouse through the real pipeline, then serve the screens."""
    from etl.demo.build import build_demo

    build_demo(settings, echo=click.echo)
    if then_serve:
        _serve(settings)
