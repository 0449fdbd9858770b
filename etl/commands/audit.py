"""`ruralbrain audit list`: the audit log (logins, failures, logouts, scope violations, refused privileged requests,
exports, user changes)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from etl.cli_context import engine
from etl.warehouse.settings import Settings


@click.group("audit")
def COMMAND() -> None:  # noqa: N802 - the name the command registry looks for
    """审计日志：登录、失败、退出、越权访问、无权操作、导出、账号变更（至少保存 180 天）。"""


def since_moment(text: str) -> datetime:
    """A local time (2026-12-01, 2026-12-01 08:00) or a time back from now (7d, 12h) as a UTC moment."""
    from etl.dataset import BEIJING
    from etl.feeds import FeedConfigError, parse_duration

    try:
        return datetime.now(UTC) - parse_duration(text, "--since")
    except FeedConfigError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"'{text}' 不是时间（2026-12-01 08:00）或时长（7d）", param_hint="--since") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)).astimezone(UTC)


@COMMAND.command("list")
@click.option("--user", help="只看这个用户。")
@click.option("--since", help="从这个本地时间起（2026-12-01 或 2026-12-01 08:00），或最近多久（7d、12h）。")
@click.option(
    "--event", help="只看这类事件（login、login_failed、logout、scope_violation、forbidden、export、user_changed）。"
)
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(1, 100_000), help="最多列出的条数（最新的在前）。"
)
@click.pass_obj
def list_command(settings: Settings, user, since, event, limit) -> None:
    """最近的审计记录，时间为本地时间。"""
    from etl.runner import local_text
    from etl.warehouse.accounts import EVENT_NAMES, audit_entries
    from etl.warehouse.db import as_utc

    start = since_moment(since) if since else None
    with engine(settings, existing=True).connect() as connection:
        entries = audit_entries(connection, user=user, since=start, event=event, limit=limit)
    for entry in entries:
        # One line per entry, whatever a detail or a name holds: a newline in one printed as a forged entry of its
        # own (a failed login records the name as typed).
        who, address, detail = (
            _one_line(value) for value in (entry.user_name or "-", entry.address or "-", entry.detail)
        )
        event = f"{EVENT_NAMES.get(entry.event, entry.event)} [{entry.event}]"
        click.echo(f"{local_text(as_utc(entry.at))}  {event:<24} {who:<16} {address:<15} {detail}")


def _one_line(text: str | None) -> str:
    """Text with every character that is not printable (control, format, separators but the space) escaped."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text or "")
