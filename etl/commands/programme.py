"""`ruralbrain programme …`: import a pilot programme (pilots, milestones, indicator catalogue), see how its pilots
resolved and stand, and score them."""

from __future__ import annotations

import click

from etl.cli_context import engine
from etl.warehouse.settings import Settings

MONTH_HELP = "月份 YYYY-MM（默认：本月，北京时间）。"


@click.group("programme")
def COMMAND() -> None:  # noqa: N802 - the name the command registry looks for
    """试点方案：导入（试点、里程碑、参考指标）、查看状态、评分。"""


def checked_month(month: str | None) -> str:
    """A month given as YYYY-MM (default: the current local month) from 2000 to the current local month, or a
    usage error in Chinese: a future month was scored and stored, and 9999-12 or 0001-01 ended in a traceback."""
    from datetime import UTC, datetime

    from etl.datasets.pilot_status import MONTH
    from etl.warehouse.pilots import month_text

    current = month_text(datetime.now(UTC))
    if month is None:
        return current
    match = MONTH.match(month.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise click.BadParameter(f"'{month}' 不是月份（应写作 2023-11）", param_hint="--month")
    chosen = f"{match.group(1)}-{int(match.group(2)):02d}"
    if chosen > current:
        raise click.BadParameter(f"{chosen} 还没有到（本月是 {current}，北京时间）", param_hint="--month")
    if chosen < "2000-01":
        raise click.BadParameter(f"{chosen} 早于 2000 年，不是试点方案的月份", param_hint="--month")
    return chosen


def scored_text(connection, programme_id: str, month: str | None = None, asked: bool = True) -> str:
    """Score a programme's month in the caller's transaction and say so in one line; a month the programme cannot
    be scored for (before its first) is a usage error in Chinese (of --month when ``asked``: it was given)."""
    from etl.programmes.scoring import MonthError, score_month

    try:
        return describe_scored(score_month(connection, programme_id, month))
    except MonthError as error:
        if asked:
            raise click.BadParameter(str(error), param_hint="--month") from None
        raise click.ClickException(str(error)) from None


def describe_scored(scored) -> str:
    """A scoring in one line (Chinese)."""
    from etl.warehouse.pilots import LOCAL, SCORE_NAMES, SCORE_ORDER

    counts = "，".join(f"{SCORE_NAMES[s]} {scored.counts.get(s, 0)}" for s in SCORE_ORDER)
    moment = scored.as_of.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    return f"{scored.programme_id} {scored.month}：{scored.pilots} 个试点（截至 {moment}）：{counts}"


def _ways(resolutions) -> str:
    """How many pilots resolved each way, in the order code, name, ancestor, unresolved."""
    from etl.warehouse.pilots import RESOLUTION_NAMES

    return "，".join(f"{name} {resolutions[key]}" for key, name in RESOLUTION_NAMES.items() if key in resolutions)


@COMMAND.command("import", short_help="导入方案目录（试点、里程碑、参考指标），随后评分本月。")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--no-score", is_flag=True, help="导入后不立即评分。")
@click.option(
    "--force", is_flag=True, help="新名单去掉了已导入的试点时也导入（它们的评分、进度和资金记录不再对应试点）。"
)
@click.pass_obj
def import_command(settings: Settings, directory: str, no_score: bool, force: bool) -> None:
    """导入方案目录（programme.toml、pilots.toml、indicators.toml），试点按已导入的区划对应，随后评分本月。"""
    from datetime import UTC, datetime

    from etl.programmes.catalogue import ProgrammeError, load_programme
    from etl.programmes.store import import_programme
    from etl.warehouse.pilots import first_month, month_text

    try:
        programme = load_programme(directory)
    except ProgrammeError as error:
        raise click.ClickException(f"{directory}：{error}") from None
    warehouse = engine(settings)
    try:
        with warehouse.begin() as connection:
            imported = import_programme(connection, programme, force=force)
    except ProgrammeError as error:
        raise click.ClickException(f"{directory}：{error}") from None
    ways = _ways(imported.resolutions)
    click.echo(
        f"已导入方案 {programme.programme_id}（{programme.name}）：{imported.pilots} 个试点（{ways}），"
        f"{imported.milestones} 个里程碑，{imported.items} 项参考指标"
    )
    for name, note in imported.ancestors:
        click.echo(f"  按上级区划统计：{name}：{note}")
    for name, note in imported.unresolved:
        click.echo(f"  未对应区划（不评分）：{name}：{note}", err=True)
    if not no_score:
        with warehouse.begin() as connection:
            first, current = first_month(connection, programme.programme_id), month_text(datetime.now(UTC))
            if first and current < first:
                click.echo(f"方案自 {first} 起，届时开始评分")
            else:
                click.echo(scored_text(connection, programme.programme_id))


@COMMAND.command("score")
@click.option("--programme", "programme_id", help="方案编号（默认：全部已导入的方案）。")
@click.option("--month", help=MONTH_HELP)
@click.pass_obj
def score_command(settings: Settings, programme_id: str | None, month: str | None) -> None:
    """按证据规则为试点评分（某月：按月末的数据；本月：按现在的数据），保存为该月的评分。"""
    from etl.warehouse.pilots import first_month, list_programmes

    asked = month is not None
    month = checked_month(month)
    warehouse = engine(settings)
    with warehouse.connect() as connection:
        known = [p.programme_id for p in list_programmes(connection)]
    chosen = [programme_id] if programme_id else known
    if programme_id and programme_id not in known:
        raise click.ClickException(f"没有方案 {programme_id}；已导入：{'、'.join(known) or '无'}")
    for name in chosen:
        with warehouse.begin() as connection:
            first = first_month(connection, name)
            if first and month < first and not asked and not programme_id:
                # Scoring every programme this month: one imported ahead of its start waits, the others are scored.
                click.echo(f"{name}：方案自 {first} 起，届时开始评分")
                continue
            click.echo(scored_text(connection, name, month, asked))


@COMMAND.command("status")
@click.option("--programme", "programme_id", help="方案编号（默认：列出所有方案）。")
@click.option("--month", help=MONTH_HELP)
@click.pass_obj
def status_command(settings: Settings, programme_id: str | None, month: str | None) -> None:
    """方案的试点对应情况、里程碑进度与逾期、资金、本月评分，以及未能对应的报送。"""
    from collections import Counter

    from etl.warehouse import pilots as reads

    month = checked_month(month)
    with engine(settings).connect() as connection:
        listed = reads.list_programmes(connection)
        if not programme_id:
            if not listed:
                click.echo("还没有方案：用 ruralbrain programme import data/programmes/<方案> 导入")
            for programme in listed:
                count = len(reads.pilots(connection, programme.programme_id))
                click.echo(f"{programme.programme_id}  {programme.name}  {count} 个试点")
            return
        if reads.get_programme(connection, programme_id) is None:
            raise click.ClickException(f"没有方案 {programme_id}")
        chosen = reads.pilots(connection, programme_id)
        view = reads.overview(connection, programme_id, month)
        unmatched = reads.unmatched_reports(connection, programme_id)
    ways = Counter(p.resolution for p in chosen)
    click.echo(f"{programme_id}（{month}）：{len(chosen)} 个试点，" + _ways(ways))
    for pilot in chosen:
        if pilot.resolution in ("ancestor", "unresolved"):
            click.echo(f"  {pilot.county}{pilot.name}：{reads.RESOLUTION_NAMES[pilot.resolution]}：{pilot.note}")
    click.echo(f"里程碑：已完成 {view['milestones_done']} 项，逾期 {view['milestones_overdue']} 项")
    click.echo(f"资金（万元）：下达 {view['allocated']:g}，拨付 {view['disbursed']:g}，支出 {view['spent']:g}")
    click.echo("评分：" + "，".join(f"{reads.SCORE_NAMES[k]} {n}" for k, n in view["scores"].items()))
    for what, pilot, milestone, period in unmatched:
        click.echo(f"  未能对应的{what}报送：试点 {pilot} {milestone} {period}", err=True)
