"""`ruralbrain report …`: the 按月调度 report of a programme for a month and a pilot's 评估验收 score sheet, as
XLSX workbooks laid out for A4 landscape printing."""

from __future__ import annotations

from pathlib import Path

import click

from etl.cli_context import engine
from etl.commands.programme import MONTH_HELP, checked_month, scored_text
from etl.warehouse.settings import Settings


@click.group("report")
def COMMAND() -> None:  # noqa: N802 - the name the command registry looks for
    """报表：按月调度表、评估验收评分表（XLSX，A4 横向打印）。"""


def _scored(warehouse, programme_id: str, month: str, rescore: bool) -> None:
    """Score the month first when it is the current one, has no scores yet, or ``rescore``; past months keep the
    scores they had (their history)."""
    from datetime import UTC, datetime

    from etl.warehouse.pilots import get_programme, month_text, score_months

    with warehouse.connect() as connection:
        if get_programme(connection, programme_id) is None:
            raise click.ClickException(f"没有方案 {programme_id}（先用 ruralbrain programme import 导入）")
        kept = month in score_months(connection, programme_id)
    if rescore or not kept or month == month_text(datetime.now(UTC)):
        with warehouse.begin() as connection:
            click.echo(scored_text(connection, programme_id, month))


@COMMAND.command("monthly")
@click.option("--programme", "programme_id", required=True, help="方案编号，如 xinzhou-2023。")
@click.option("--month", help=MONTH_HELP)
@click.option("--out", type=click.Path(dir_okay=False), help="输出文件（默认：<方案>-按月调度-<月份>.xlsx）。")
@click.option("--rescore", is_flag=True, help="先按该月月末的数据重新评分（默认只在本月或尚无评分时评分）。")
@click.pass_obj
def monthly(settings: Settings, programme_id: str, month: str | None, out: str | None, rescore: bool) -> None:
    """按月调度表：汇总、各县试点的里程碑进度、资金和指标评定、指标明细。"""
    from etl.warehouse.pilot_reports.monthly import monthly_workbook, read_monthly

    month = checked_month(month)
    warehouse = engine(settings)
    _scored(warehouse, programme_id, month, rescore)
    with warehouse.connect() as connection:
        report = read_monthly(connection, programme_id, month)
    path = Path(out or f"{programme_id}-按月调度-{month}.xlsx")
    monthly_workbook(report).save(path)
    click.echo(f"已生成按月调度表：{path}（{len(report.pilots)} 个试点，{len(report.counties())} 个县）")


@COMMAND.command("acceptance")
@click.option("--programme", "programme_id", required=True, help="方案编号。")
@click.option("--pilot", "pilot_id", required=True, help="试点编号或区划代码。")
@click.option("--month", help=MONTH_HELP)
@click.option("--out", type=click.Path(dir_okay=False), help="输出文件（默认：<方案>-评估验收-<试点>.xlsx）。")
@click.pass_obj
def acceptance(settings: Settings, programme_id: str, pilot_id: str, month: str | None, out: str | None) -> None:
    """一个试点的评估验收评分表：逐项参考指标的评定、得分与依据。"""
    from etl.warehouse.pilot_reports.acceptance import acceptance_workbook
    from etl.warehouse.pilots import pilots

    month = checked_month(month)
    warehouse = engine(settings)
    with warehouse.connect() as connection:
        if not any(pilot_id in (p.pilot_id, p.region_code, p.code) for p in pilots(connection, programme_id)):
            raise click.ClickException(f"方案 {programme_id} 中没有试点 {pilot_id}")
    _scored(warehouse, programme_id, month, rescore=False)
    with warehouse.connect() as connection:
        book = acceptance_workbook(connection, programme_id, pilot_id, month)
    path = Path(out or f"{programme_id}-评估验收-{pilot_id}.xlsx")
    book.save(path)
    click.echo(f"已生成评估验收评分表：{path}")
