"""The ``ruralbrain`` command: demo, serve, migrate and the geography pipeline (geo import, geo build)."""

from __future__ import annotations

import errno
import os
import shutil
import sys
from pathlib import Path

import click

from etl.cli_context import describe, engine, environment, feeds
from etl.cli_language import speak_chinese
from etl.warehouse.settings import SettingError, Settings

speak_chinese()  # before click parses anything: its usage lines and errors are in Chinese too

BOUNDARY_SUFFIXES = {".geojson", ".json", ".shp", ".gpkg", ".zip"}


class _Commands(click.Group):
    """The command group whose commands end with a Chinese error, not a traceback, when a setting cannot be used or
    the database itself fails (locked past its wait, disk full, connection lost)."""

    def invoke(self, context: click.Context):
        from sqlalchemy.exc import InterfaceError, OperationalError

        try:
            return super().invoke(context)
        except SettingError as error:  # a setting's value that cannot be used: the message names it
            raise click.ClickException(str(error)) from None
        except (OperationalError, InterfaceError) as error:
            from etl.database_trouble import described

            raise click.ClickException(f"数据仓库暂时无法访问{described(error)}，请稍后再试") from None
        except OSError as error:
            if error.filename is None:  # not a file a person named: a socket, a pipe … stays a traceback to report
                raise
            raise click.ClickException(f"无法访问文件 {_shown(error.filename)}：{_file_reason(error)}") from None


# What the operating system's refusals mean, for an operator.
FILE_REASONS = {
    errno.ENOENT: "文件或目录不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.ENOSPC: "磁盘已满",
    errno.EISDIR: "这是一个目录",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.EROFS: "文件系统只读",
    errno.EEXIST: "已经存在",
    errno.ENAMETOOLONG: "文件名太长",
    errno.ELOOP: "符号链接循环",
    errno.EIO: "读写出错（磁盘或网络存储）",
    errno.EMFILE: "打开的文件太多",
}


def _file_reason(error: OSError) -> str:
    return FILE_REASONS.get(error.errno, error.strerror or type(error).__name__)


def _shown(name) -> str:
    """A ``.x.part`` file we write beside the one asked for is named by that one (the name the operator typed)."""
    if not isinstance(name, str | bytes | os.PathLike):
        return str(name)  # a descriptor's number
    path = Path(os.fsdecode(name))
    if path.name.startswith(".") and path.name.endswith(".part"):
        path = path.with_name(path.name[1:-5])
    return str(path)


@click.group(cls=_Commands)
@click.option("--var-dir", help="运行时文件的目录（环境变量 VAR_DIR）。")
@click.option("--warehouse-url", help="数据仓库的 SQLAlchemy URL（环境变量 WAREHOUSE_URL）。")
@click.pass_context
def main(context: click.Context, var_dir: str | None, warehouse_url: str | None) -> None:
    """乡村大脑（Rural Brain）：数据仓库、数据源导入（ETL）和屏幕。"""
    context.obj = Settings.load(var_dir=var_dir, warehouse_url=warehouse_url)


def _add_commands() -> None:
    """Attach every command group of etl/commands (one module each) to ``main``."""
    from etl.commands import commands

    for command in commands():
        main.add_command(command)


_add_commands()
_engine, _environment = engine, environment  # the names the commands of this module were written with


@main.command("migrate")
@click.pass_obj
def migrate_command(settings: Settings) -> None:
    """创建或升级数据仓库的结构。"""
    from etl.warehouse.db import masked_url

    _engine(settings)
    click.echo(f"数据仓库已是最新结构：{masked_url(settings.warehouse_url)}")


@main.group()
def geo() -> None:
    """区划及其边界：导入区划代码和边界文件，生成地图几何。"""


@geo.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--crs",
    type=click.Choice(["gcj02", "wgs84", "cgcs2000"]),
    help="边界文件未声明坐标系时所用的坐标系。",
)
@click.option("--code-field", help="边界文件中存放区划代码的字段（默认：adcode、code 等）。")
@click.option("--name-field", help="边界文件中存放区划名称的字段（默认：name、名称 等）。")
@click.option("--parent", "parent_code", help="没有代码的要素按名称在这个区划的下级中匹配。")
@click.option("--layer", help="GeoPackage 的图层。")
@click.option("--strict", is_flag=True, help="有任何内容被跳过时以状态 1 退出。")
@click.pass_obj
def geo_import(settings: Settings, files, crs, code_field, name_field, parent_code, layer, strict) -> None:
    """导入区划代码 CSV（区划）和边界文件（GeoJSON、Shapefile、GeoPackage），再为其余区划生成示意边界。"""
    from shapely.errors import GEOSException

    from etl.regions import fill_schematic, import_codes_file, load_boundaries
    from geo.boundaries import read_boundaries
    from geo.codes import CodeError, normalize_code
    from geo.issues import summarize

    try:
        parent = normalize_code(parent_code) if parent_code else None
    except CodeError as error:
        raise click.ClickException(f"--parent：{error}") from None
    engine = _engine(settings)
    skipped = 0
    # Codes first, so boundaries given in the same call find their regions.
    for path in sorted(files, key=lambda p: Path(p).suffix.lower() in BOUNDARY_SUFFIXES):
        if Path(path).suffix.lower() in BOUNDARY_SUFFIXES:
            read = read_boundaries(path, crs=crs, code_field=code_field, name_field=name_field, layer=layer)
            report = load_boundaries(engine, read, source="geo import", parent_code=parent)
            unit, what = "条", "边界"
        else:
            report = import_codes_file(engine, path)
            unit, what = "个", "区划"
        for issue in report.issues:
            click.echo(f"跳过：{issue}", err=True)
        for note in report.notes:
            click.echo(f"注意：{note}")
        click.echo(f"{path}：导入 {report.loaded} {unit}{what}，{report.unchanged} {unit}未变")
        click.echo(summarize(report.issues), err=bool(report.issues))
        skipped += len(report.issues)
    try:
        cells = fill_schematic(engine)
    except ValueError as error:  # a parent with no area left for its children's cells
        raise click.ClickException(f"示意边界未能生成：{error}") from None
    except GEOSException as error:  # geometry GEOS cannot compute with (fill_schematic names the region otherwise)
        raise click.ClickException(f"示意边界未能生成：几何运算失败（GEOS：{error}）") from None
    if cells.loaded or cells.unchanged or not cells.notes:
        click.echo(f"示意边界：更新 {cells.loaded} 个，未变 {cells.unchanged} 个")
    for note in cells.notes:
        click.echo(f"注意：{note}")
    if strict and skipped:
        sys.exit(1)


@geo.command("build")
@click.option("--force", is_flag=True, help="即使文件已与数据仓库的区划一致也重新生成。")
@click.pass_obj
def geo_build(settings: Settings, force: bool) -> None:
    """为地图按层级生成简化的 GeoJSON（保存在磁盘上，区划变化后才重新生成）。"""
    from etl.geo_build import build_geometry
    from geo.codes import LEVEL_NAMES

    report = build_geometry(_engine(settings), settings.geo_dir, force=force)
    sizes = "、".join(
        f"{LEVEL_NAMES.get(level, level)} {size / 1024:.0f} KB" for level, size in report.level_bytes.items()
    )
    state = "已生成" if report.built else "已是最新"
    click.echo(f"地图几何{state}（数据版本 {report.version}）：{settings.geo_dir}，{sizes or '没有带边界的区划'}")


@main.command()
@click.option("--host", help="监听地址（环境变量 HOST）。")
@click.option("--port", type=int, help="端口（环境变量 PORT）。")
@click.option("--workers", type=int, help="gunicorn 工作进程数（环境变量 WEB_WORKERS）。")
@click.pass_obj
def serve(settings: Settings, host, port, workers) -> None:
    """用 gunicorn 提供屏幕服务。"""
    _serve(Settings.load(**{**settings.__dict__, "host": host, "port": port, "web_workers": workers}))


def _can_serve(settings: Settings) -> Path:
    """gunicorn's control socket for ``settings``, once nothing stops the screens from starting with them."""
    # What the screens' app refuses to start with is refused here, before the address is announced: in a worker
    # it ended in gunicorn's English "Worker failed to boot" (a SettingError, which the command group words).
    settings.display_crs()
    settings.ensure_secret_key()
    control = Path(settings.var_dir, "gunicorn.ctl")  # Settings made the folder absolute
    if _listening(control):
        # gunicorn replaces the socket, and deletes it when it exits: a second server, even one that failed to
        # bind its port, left the running one without its control socket.
        raise click.ClickException(
            f"已有屏幕服务在使用这个 VAR_DIR（控制套接字 {control} 有进程在监听）：先停止它，或另用一个 VAR_DIR"
        )
    return control


def _serve(settings: Settings) -> None:
    control = _can_serve(settings)
    # The schema first, as every command does: on a new folder each page's callback failed on a missing table.
    _engine(settings).dispose()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    # Settings reach the workers through the environment: explicit arguments were merged in already.
    environment = _environment(settings)
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
        "--logger-class",
        "dashboard.serve_log.LocalTimeLogger",  # the county's local time in the server's lines
    ]
    click.echo(f"乡村大脑屏幕服务：http://{settings.host}:{settings.port}")
    os.execve(gunicorn, arguments, environment)


def _listening(path: Path) -> bool:
    """Whether a process listens on the Unix socket at ``path`` (not merely a file left by a killed server)."""
    import socket

    if not path.is_socket():
        return False
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:  # refused: nobody listens any more
            return False
    return True


@main.command()
@click.option("--serve/--no-serve", "then_serve", default=True, help="建好后提供屏幕服务（--no-serve：只建数据仓库）。")
@click.option("--days", default=30, show_default=True, help="首次运行时模拟的历史天数。")
@click.pass_obj
def demo(settings: Settings, then_serve: bool, days: int) -> None:
    """示范县：经真实流程建好示范数据仓库，然后连同实时模拟和 etl watch 一起提供屏幕服务。"""
    from etl.demo.build import build_demo
    from etl.demo.summary import demo_summary

    if then_serve:
        _can_serve(settings)  # before the demo is built and the simulator and etl watch are started
    fresh = not (Path(settings.var_dir) / "sim" / "api.json").exists()
    stages = 4 if fresh else 2
    click.echo(f"[1/{stages}] 导入示范县区划与边界，生成示意边界和地图……")
    build_demo(settings, echo=lambda line: click.echo(f"      {line}"))
    if fresh:
        _history(settings, days, stages)
    else:
        click.echo(f"      示范数据已存在于 {settings.var_dir}（重新开始：make clean）")
    base = f"http://{settings.host}:{settings.port}"
    for line in demo_summary(engine(settings), base):
        click.echo(line)
    if then_serve:
        import subprocess

        click.echo(f"[{stages}/{stages}] 启动实时模拟、etl watch 和屏幕服务（Ctrl-C 全部停止）……")
        environment = _environment(settings)
        command = [sys.executable, "-m", "etl.cli"]
        # Live data and the feed scheduler run beside the server; Ctrl-C stops the whole process group.
        subprocess.Popen([*command, "simulate", "--days", "0", "--live"], env=environment)
        subprocess.Popen([*command, "etl", "watch"], env=environment)
        _serve(settings)


def _history(settings: Settings, days: int, stages: int) -> None:
    """Simulate history into the drop folders and the API, then load it through every non-MQTT feed, showing
    each stage's progress."""
    from etl.commands.feeds import Progress
    from etl.demo.history_months import add_history
    from etl.demo.simulate import ApiStore, SimulatorServer, simulate_history
    from etl.runner import run_feed

    click.echo(f"[2/{stages}] 模拟 {days} 天的历史数据（文件投递、HTTP 接口、就业平台数据库）……")
    with click.progressbar(length=days, label="      模拟", show_pos=True, file=sys.stderr) as bar:
        counts = simulate_history(settings, days=days, progress=lambda done: bar.update(done - bar.pos))
    click.echo(f"      共 {sum(counts.values()):,} 行")
    chosen = [feed for feed in feeds(settings).values() if feed.source["type"] != "mqtt"]  # MQTT: live only
    click.echo(f"[3/{stages}] 经 {len(chosen)} 个数据源导入（与正式部署相同的校验、隔离和汇总）……")
    server = SimulatorServer(ApiStore(Path(settings.var_dir) / "sim" / "api.json"), settings.sim_port).start()
    try:
        warehouse = engine(settings)
        for number, feed in enumerate(chosen, start=1):
            progress = Progress(f"({number}/{len(chosen)}) {feed.name}")
            report = run_feed(warehouse, feed, late_hours=settings.late_hours, progress=progress)
            progress.done()
            click.echo(f"      {describe(report)}")
        click.echo(f"      {add_history(warehouse)}")
    finally:
        server.stop()
    # Scored as `programme score` would (and the previous month): a demo built without serving has no etl watch
    # to score it, and /pilots showed every pilot 未评定.
    from etl.commands.programme import describe_scored
    from etl.programmes.refresh import rescore

    for scored in rescore(warehouse):
        click.echo(f"      评分 {describe_scored(scored)}")


@main.command()
@click.option("--days", default=30, show_default=True, help="先写入的历史天数（0：不写）。")
@click.option("--live/--no-live", default=False, help="随后持续产生实时数据，直到 SIGTERM。")
@click.option("--interval", default=60.0, show_default=True, help="两次实时更新之间的秒数。")
@click.option("--seed", default=2023, show_default=True, help="随机数种子：同一种子产生同样的数据。")
@click.pass_obj
def simulate(settings: Settings, days: int, live: bool, interval: float, seed: int) -> None:
    """示范县的模拟器：经文件投递、HTTP 接口、就业平台数据库和 MQTT（代理可连接时）产生数据。"""
    import signal
    import threading

    from etl.demo.simulate import ApiStore, SimulatorServer, simulate_history, simulate_live

    if days:
        counts = simulate_history(settings, days=days, seed=seed)
        click.echo(f"已模拟 {days} 天：" + "，".join(f"{feed} {n} 行" for feed, n in sorted(counts.items())))
    if not live:
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = SimulatorServer(ApiStore(Path(settings.var_dir) / "sim" / "api.json"), settings.sim_port).start()
    click.echo(f"正在模拟实时数据；模拟接口：http://127.0.0.1:{settings.sim_port}")
    try:
        simulate_live(settings, stop, seed=seed, interval=interval)
    finally:
        server.stop()


@main.group(invoke_without_command=True)
@click.pass_context
def screens(context: click.Context) -> None:
    """所有屏幕：登记与否、最后心跳、超过 5 分钟无心跳即为黑屏。"""
    if context.invoked_subcommand:
        return
    from etl.dataset import BEIJING
    from etl.warehouse.screens import STATE_NAMES, screen_states

    with _engine(context.obj, existing=True).connect() as connection:
        states = screen_states(connection)
    if not states:
        click.echo("还没有屏幕：用 `ruralbrain screens register` 登记一块，或打开一个屏幕页面")
    for state in states:
        seen = state.last_seen.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") if state.last_seen else "无"
        name = state.screen_id if state.registered else f"{state.screen_id}（未登记）"
        where = f" @ {state.location}" if state.location else ""
        click.echo(f"{name}{where}：{STATE_NAMES[state.state]}，最后心跳 {seen}，{state.route or ''}".rstrip("，"))


@screens.command("register")
@click.argument("screen_id")
@click.option(
    "--kind",
    type=click.Choice(["county", "board", "stop", "browser"]),
    required=True,
    help="屏幕类型：county 县级大屏、board 村级电子屏、stop 公交站屏、browser 浏览器。",
)
@click.option("--region", "region_code", help="屏幕显示的区划的 12 位代码（村级电子屏：它的村）。")
@click.option("--stop", "stop_id", help="公交站屏显示的站点（bus_stops 数据源中的编号）。")
@click.option("--profile", help="屏幕规格（layouts/profiles）。")
@click.option("--location", help="屏幕的安装位置。")
@click.option("--base-url", help="屏幕终端访问本服务的地址（默认：http://HOST:PORT）。")
@click.pass_obj
def screens_register(settings: Settings, screen_id, kind, region_code, stop_id, profile, location, base_url) -> None:
    """登记一块屏幕（再次登记即换新令牌），打印它的终端要打开的地址（含令牌）。"""
    from urllib.parse import urlencode

    from etl.warehouse.screens import register

    paths = {"county": "/screen/county", "board": f"/board/{region_code}", "stop": f"/stop/{stop_id}", "browser": "/"}
    if (kind == "board" and not region_code) or (kind == "stop" and not stop_id):
        raise click.UsageError("村级电子屏须给出 --region 村代码，公交站屏须给出 --stop 站点编号")
    try:
        with _engine(settings).begin() as connection:
            token = register(
                connection,
                screen_id,
                kind,
                region_code=region_code,
                stop_id=stop_id,
                profile=profile,
                location=location,
            )
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    query = {"kiosk": "1"} if kind == "county" else {}
    query |= {"region": region_code} if kind == "county" and region_code else {}
    query |= {"profile": profile} if profile else {}
    query |= {"screen": screen_id, "token": token}
    base = (base_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    click.echo(f"已登记屏幕 {screen_id}。令牌只显示这一次（仓库只保存其哈希），请让该屏幕打开：")
    click.echo(f"{base}{paths[kind]}?{urlencode(query)}")


if __name__ == "__main__":
    main()
