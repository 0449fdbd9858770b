"""`ruralbrain alerts …`: list the alerts, acknowledge or resolve one as a user, and show the loaded rules."""

from __future__ import annotations

import click

from etl.cli_context import engine
from etl.warehouse.settings import Settings

# An alert id the warehouse can hold (its id column is a 32-bit integer on PostgreSQL: 9999999999 was a traceback).
ALERT_ID = click.IntRange(1, 2**31 - 1)


@click.group("alerts")
def COMMAND() -> None:  # noqa: N802 - the name the command registry looks for
    """告警：列出、确认、手工消除，查看告警规则（ALERTS_FILE）。"""


def _config(settings: Settings):
    """The deployment's alerts file, or a ClickException naming what is wrong in it."""
    from etl.alerts.errors import AlertConfigError
    from etl.alerts.service import configured

    try:
        return configured(settings)
    except AlertConfigError as error:
        raise click.ClickException(str(error)) from None


def _one_line(text: str) -> str:
    """Text with every character that is not printable (control, format, separators but the space) escaped."""
    # As `audit list` does: a device id from data reached the terminal as it was, an ANSI escape clearing it and a
    # line end forging a second alert line.
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _line(alert) -> str:
    """The alert on one line for the terminal, what data and people wrote in it escaped."""
    from etl.runner import local_text
    from etl.warehouse.alerts import LEVEL_NAMES

    when = local_text(alert.opened_at) if alert.opened_at else ""
    line = (
        f"#{alert.id} [{alert.status_name}] {alert.severity_name} {alert.name}：{alert.detail or ''}"
        f"（{alert.region_code}，责任{LEVEL_NAMES.get(alert.level, alert.level)} {alert.owner_code}，{when}）"
    )
    if alert.acknowledged_by:
        line += f" 确认：{alert.acknowledged_by} {local_text(alert.acknowledged_at)}"
    if alert.resolved_at:
        line += f" 消除：{alert.resolved_by or '自动'} {local_text(alert.resolved_at)}"
    return _one_line(line)


@COMMAND.command("list")
@click.option("--open", "open_only", is_flag=True, help="只列未消除的告警。")
@click.option("--region", help="只列这个区划（及其下级）的告警（6、9 或 12 位代码）。")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000), help="最多列出的告警条数。")
@click.pass_obj
def list_command(settings: Settings, open_only: bool, region: str | None, limit: int) -> None:
    """列出告警（严重、未确认的在前）。"""
    from etl.warehouse.alerts import list_alerts
    from geo.codes import CodeError, normalize_code

    try:
        region = normalize_code(region) if region else None
    except CodeError as error:
        raise click.ClickException(f"--region：{error}") from None
    with engine(settings, existing=True).connect() as connection:
        found = list_alerts(connection, None, open_only=open_only, region=region, limit=limit)
    if not found:
        click.echo("没有未消除的告警" if open_only else "没有告警")
    for alert in found:
        click.echo(_line(alert))


def _act(settings: Settings, alert_id: int, user_name: str, action) -> None:
    """Run an acknowledgement or resolution as a user; an unknown user or an AlertError is a one-line error."""
    from etl.warehouse.accounts import get_user
    from etl.warehouse.alerts import AlertError

    with engine(settings).begin() as connection:
        user = get_user(connection, user_name)
        if user is None:
            raise click.ClickException(f"用户 {user_name} 不存在（ruralbrain users list）")
        try:
            alert = action(connection, user)
        except AlertError as error:
            raise click.ClickException(str(error)) from None
    click.echo(_line(alert))


@COMMAND.command("ack")
@click.argument("alert_id", type=ALERT_ID)
@click.option("--user", "user_name", required=True, help="确认人的用户名（须在其范围内）。")
@click.option("--note", help="说明，例如已派人处理。")
@click.pass_obj
def ack(settings: Settings, alert_id: int, user_name: str, note: str | None) -> None:
    """确认告警：不再升级；条件消除后自动消除。通知由运行中的 etl watch 发出。"""
    from etl.warehouse.alerts import acknowledge

    _act(settings, alert_id, user_name, lambda connection, user: acknowledge(connection, alert_id, user, note))


@COMMAND.command("resolve")
@click.argument("alert_id", type=ALERT_ID)
@click.option("--user", "user_name", required=True, help="处理人的用户名（须在其范围内）。")
@click.option("--note", required=True, help="消除原因（必填）。")
@click.pass_obj
def resolve_command(settings: Settings, alert_id: int, user_name: str, note: str) -> None:
    """手工消除告警（条件仍成立时，下次评估会产生新的告警）。"""
    from etl.warehouse.alerts import resolve

    _act(settings, alert_id, user_name, lambda connection, user: resolve(connection, alert_id, user, note))


@COMMAND.command("rules")
@click.pass_obj
def rules_command(settings: Settings) -> None:
    """列出告警规则文件中的规则和已启用的通知渠道。"""
    from etl.alerts.describe import describe_rule
    from etl.status import duration_text
    from etl.warehouse.alerts import SEVERITY_NAMES

    config = _config(settings)
    every = duration_text(config.sweep.total_seconds())
    click.echo(f"告警规则文件：{config.source}（每 {every} 全面检查一次）")
    for rule in config.rules.values():
        click.echo(f"{rule.id}  {rule.name}  {SEVERITY_NAMES[rule.severity]}  {describe_rule(rule)}")
    channels = "、".join(f"{name}（{channel.type}）" for name, channel in config.channels.items())
    click.echo(f"通知渠道：{channels or '无（未配置或未启用）'}")
