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
    environment = _environment(settings)
    control = Path(settings.var_dir, "gunicorn.ctl")  # Settings made the folder absolute
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
@click.option("--days", default=30, show_default=True, help="Days of history the first run simulates.")
@click.pass_obj
def demo(settings: Settings, then_serve: bool, days: int) -> None:
    """Build the demo warehouse through the real pipeline, then serve it with live data and `etl watch`."""
    from etl.demo.build import build_demo

    build_demo(settings, echo=click.echo)
    if not (Path(settings.var_dir) / "sim" / "api.json").exists():
        _history(settings, days)
    if then_serve:
        import subprocess

        environment = _environment(settings)
        command = [sys.executable, "-m", "etl.cli"]
        # Live data and the feed scheduler run beside the server; Ctrl-C stops the whole process group.
        subprocess.Popen([*command, "simulate", "--days", "0", "--live"], env=environment)
        subprocess.Popen([*command, "etl", "watch"], env=environment)
        base = f"http://{settings.host}:{settings.port}"
        click.echo(f"screens: {base}/screen/county  {base}/board/990101001001  {base}/stop/S01  {base}/ops/screens")
        _serve(settings)


def _environment(settings: Settings) -> dict[str, str]:
    """This process's environment with every setting in it, for a child process of the same deployment."""
    chosen = {name.upper(): str(value) for name, value in settings.__dict__.items() if value is not None}
    return {**os.environ, **chosen}


def _history(settings: Settings, days: int) -> None:
    """Simulate history into the drop folders and the API, then load it through every non-MQTT feed."""
    from etl.demo.simulate import ApiStore, SimulatorServer, simulate_history
    from etl.runner import run_feed

    counts = simulate_history(settings, days=days)
    click.echo(
        f"simulated {days} days: {sum(counts.values())} rows through file drops, the HTTP API and the job platform"
    )
    server = SimulatorServer(ApiStore(Path(settings.var_dir) / "sim" / "api.json"), settings.sim_port).start()
    try:
        engine = _engine(settings)
        for feed in _feeds(settings).values():
            if feed.source["type"] != "mqtt":  # the broker only carries live readings
                click.echo(_describe(run_feed(engine, feed, late_hours=settings.late_hours)))
    finally:
        server.stop()


@main.command()
@click.option("--days", default=30, show_default=True, help="Days of history to write first (0: none).")
@click.option("--live/--no-live", default=False, help="Then keep producing current data until SIGTERM.")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between live updates.")
@click.option("--seed", default=2023, show_default=True)
@click.pass_obj
def simulate(settings: Settings, days: int, live: bool, interval: float, seed: int) -> None:
    """The demo simulator: data for 示范县 through file drops, an HTTP API, a job platform's database and MQTT
    (when a broker answers)."""
    import signal
    import threading

    from etl.demo.simulate import ApiStore, SimulatorServer, simulate_history, simulate_live

    if days:
        counts = simulate_history(settings, days=days, seed=seed)
        click.echo(f"simulated {days} days: " + ", ".join(f"{feed} {n}" for feed, n in sorted(counts.items())))
    if not live:
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = SimulatorServer(ApiStore(Path(settings.var_dir) / "sim" / "api.json"), settings.sim_port).start()
    click.echo(f"simulating live data; the API is on http://127.0.0.1:{settings.sim_port}")
    try:
        simulate_live(settings, stop, seed=seed, interval=interval)
    finally:
        server.stop()


@main.group("etl")
def etl_group() -> None:
    """Feeds: run them, see their state, look at and retry what they quarantined."""


def _feeds(settings: Settings) -> dict:
    from etl.demo.build import DEMO_DIR
    from etl.feeds import FeedConfigError, load_feeds

    path = Path(settings.feeds_file) if settings.feeds_file else DEMO_DIR / "feeds.toml"
    try:
        return load_feeds(path, {"var_dir": settings.var_dir, "sim_port": str(settings.sim_port)})
    except FeedConfigError as error:
        raise click.ClickException(str(error)) from None


def _pick(feeds: dict, names: tuple[str, ...]) -> list:
    unknown = [name for name in names if name not in feeds]
    if unknown:
        raise click.ClickException(f"unknown feed(s) {', '.join(unknown)}; known: {', '.join(sorted(feeds))}")
    return [feeds[name] for name in names] if names else list(feeds.values())


class _Progress:
    """Progress of a run as batches commit: one line redrawn in place on a terminal (rows, batches, rows/s),
    a line per batch when the output goes to a log. Sources stream, so the total is unknown up front."""

    def __init__(self, name: str):
        import time

        self.name, self.clock, self.started, self.batches = name, time.monotonic, time.monotonic(), 0
        self.terminal = sys.stderr.isatty()

    def __call__(self, counts) -> None:
        self.batches += 1
        rate = counts.rows_in / max(self.clock() - self.started, 1e-6)
        spinner = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"[self.batches % 10] if self.terminal else "·"
        line = f"  {spinner} {self.name}: {counts.rows_in:,} rows · {self.batches} batches · {rate:,.0f} rows/s"
        click.echo(f"\r{line}\033[K" if self.terminal else line, err=True, nl=not self.terminal)

    def done(self) -> None:
        if self.terminal and self.batches:
            click.echo("", err=True)


def _describe(report) -> str:
    c = report.counts
    line = (
        f"{report.feed}: {c.rows_in} in = {c.loaded} loaded + {c.duplicates} duplicates + {c.quarantined} "
        f"quarantined ({c.late} late)"
    )
    return line + (f"; error: {report.error}" if report.error else "")


@etl_group.command("run")
@click.argument("names", nargs=-1)
@click.pass_obj
def etl_run(settings: Settings, names: tuple[str, ...]) -> None:
    """Run feeds (all when none is named) from their watermarks; exit 1 if any failed."""
    from etl.runner import run_feed

    engine = _engine(settings)
    failed = False
    for feed in _pick(_feeds(settings), names):
        progress = _Progress(feed.name)
        report = run_feed(engine, feed, late_hours=settings.late_hours, progress=progress)
        progress.done()
        for issue in report.issues[:20]:
            click.echo(f"  quarantined: {issue}", err=True)
        if len(report.issues) > 20:
            click.echo(f"  … and {len(report.issues) - 20} more (ruralbrain etl quarantine list)", err=True)
        click.echo(_describe(report))
        failed = failed or bool(report.error)
    if failed:
        sys.exit(1)


@etl_group.command("status")
@click.pass_obj
def etl_status(settings: Settings) -> None:
    """A table: each feed's last run, its counts, and how fresh its data is against its cadence."""
    from etl.status import feed_status

    rows = feed_status(_engine(settings), _feeds(settings))
    header = ("feed", "last run", "status", "in", "loaded", "dup", "quar", "late", "newest event", "lag", "freshness")
    table = [header] + [tuple("" if v is None else str(v) for v in row) for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@etl_group.group("quarantine")
def quarantine_group() -> None:
    """Rows the feeds could not load, kept with their reason."""


@quarantine_group.command("list")
@click.option("--feed", help="Only this feed (or import source).")
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def quarantine_list(settings: Settings, feed: str | None, limit: int) -> None:
    """The newest quarantined rows: where they came from, which field, why."""
    from sqlalchemy import select

    from etl.warehouse.schema import quarantine

    query = select(quarantine).order_by(quarantine.c.id.desc()).limit(limit)
    if feed:
        query = query.where(quarantine.c.source == feed)
    with _engine(settings).connect() as connection:
        for row in connection.execute(query):
            retried = " (retried)" if row.retried_at else ""
            field = f", field '{row.field}'" if row.field else ""
            click.echo(f"{row.source}: {row.location}{field}: {row.reason}{retried}")


@quarantine_group.command("retry")
@click.argument("names", nargs=-1)
@click.pass_obj
def quarantine_retry(settings: Settings, names: tuple[str, ...]) -> None:
    """Validate quarantined rows of feeds again, e.g. after importing the regions they named."""
    from etl.runner import retry_quarantine

    engine = _engine(settings)
    for feed in _pick(_feeds(settings), names):
        click.echo(_describe(retry_quarantine(engine, feed, late_hours=settings.late_hours)))


@etl_group.command("watch")
@click.argument("names", nargs=-1)
@click.pass_obj
def etl_watch(settings: Settings, names: tuple[str, ...]) -> None:
    """Run feeds on their schedules (MQTT feeds drain the broker) until SIGTERM or Ctrl-C."""
    import signal
    import subprocess
    import threading

    from etl.feeds import worker_number
    from etl.status import lag_text
    from etl.watch import watch

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    feeds = _pick(_feeds(settings), names)
    # Unless feeds were named, every MQTT worker after a feed's first gets a process of its own: one process
    # is bound by paho and the GIL, so workers in one would only take turns. They stop when this one does.
    spread = [] if names else [feed for feed in feeds if worker_number(feed.name) > 1]
    feeds = [feed for feed in feeds if feed not in spread]
    command = [sys.executable, "-m", "etl.cli", "etl", "watch"]
    children = [subprocess.Popen([*command, feed.name], env=_environment(settings)) for feed in spread]
    others = f" (+{len(children)} MQTT worker process{'es' * (len(children) > 1)})" if children else ""
    click.echo(f"watching {len(feeds)} feeds{others}; SIGTERM or Ctrl-C stops after the batch in progress")

    def report(result) -> None:
        if result.counts.rows_in or result.error:
            lag = f" lag {lag_text(result.lag_seconds)}" if result.lag_seconds is not None else ""
            click.echo(_describe(result) + lag)

    def error(feed, problem) -> None:
        click.echo(f"{feed.name}: run failed: {type(problem).__name__}: {problem}", err=True)

    try:
        watch(_engine(settings), feeds, stop, late_hours=settings.late_hours, on_report=report, on_error=error)
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()  # its batch in flight is rolled back and comes again from the broker
    click.echo("stopped")


@main.group(invoke_without_command=True)
@click.pass_context
def screens(context: click.Context) -> None:
    """Every screen: registered or not, last seen, dark for more than 5 minutes."""
    if context.invoked_subcommand:
        return
    from etl.warehouse.screens import screen_states

    with _engine(context.obj).connect() as connection:
        states = screen_states(connection)
    if not states:
        click.echo("no screens yet: register one with `ruralbrain screens register`, or open a screen page")
    for state in states:
        seen = state.last_seen.strftime("%Y-%m-%d %H:%M:%S") if state.last_seen else "never"
        name = state.screen_id if state.registered else f"{state.screen_id} (unknown)"
        where = f" @ {state.location}" if state.location else ""
        click.echo(f"{name}{where}: {state.state}, last seen {seen}, {state.route or ''}".rstrip(", "))


@screens.command("register")
@click.argument("screen_id")
@click.option("--kind", type=click.Choice(["county", "board", "stop", "browser"]), required=True)
@click.option("--region", "region_code", help="12-digit code of the region the screen shows.")
@click.option("--profile", help="Screen profile (layouts/profiles).")
@click.option("--location", help="Where the screen hangs.")
@click.pass_obj
def screens_register(settings: Settings, screen_id, kind, region_code, profile, location) -> None:
    """Register a screen so the ops page knows what and where it is."""
    from datetime import UTC, datetime

    from etl.upsert import upsert
    from etl.warehouse.schema import screens as screens_table

    row = {
        "screen_id": screen_id,
        "kind": kind,
        "region_code": region_code,
        "profile": profile,
        "location": location,
        "registered_at": datetime.now(UTC),
    }
    with _engine(settings).begin() as connection:
        upsert(connection, screens_table, [row], ["screen_id"])
    click.echo(f"registered {screen_id}")


if __name__ == "__main__":
    main()
