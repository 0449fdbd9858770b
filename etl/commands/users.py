"""`ruralbrain users …`: accounts with a role and a region scope (the first admin is created here)."""

from __future__ import annotations

import sys

import click

from etl.cli_context import engine
from etl.warehouse.schema import ROLES
from etl.warehouse.settings import Settings


@click.group("users")
def COMMAND() -> None:  # noqa: N802 - the name the command registry looks for
    """账号：角色（admin 管理员、county 县级、township 乡镇级、village 村级、viewer 只读）和所管区划。"""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("密码", hide_input=True, confirmation_prompt="再输入一次")


def _run(change):
    """Run an account change in a transaction; an AccountError is a one-line error (exit 1)."""
    from etl.warehouse.accounts import AccountError

    try:
        return change()
    except AccountError as error:
        raise click.ClickException(str(error)) from None


@COMMAND.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="角色。")
@click.option("--scope", required=True, help="所管区划的代码（6、9 或 12 位）：看得到它和它以下的一切。")
@click.option("--display-name", help="显示名（默认：用户名）。")
@click.option("--password-stdin", is_flag=True, help="从标准输入读密码（一行），不提示。")
@click.pass_obj
def add(settings: Settings, name, role, scope, display_name, password_stdin) -> None:
    """新建账号（提示输入密码，或 --password-stdin）。"""
    from etl.warehouse.accounts import ROLE_NAMES, add_user

    password = _password(password_stdin)
    with engine(settings).begin() as connection:
        user = _run(
            lambda: add_user(connection, name, role, scope, display_name=display_name, password=password, actor="cli")
        )
    role = f"{ROLE_NAMES.get(user.role, user.role)}（{user.role}）"
    click.echo(f"已新建用户 {user.name}（{user.display_name}）：角色 {role}，范围 {user.scope}")


@COMMAND.command("list")
@click.pass_obj
def list_command(settings: Settings) -> None:
    """列出所有账号。"""
    from etl.warehouse.accounts import ROLE_NAMES, SOURCE_NAMES, list_users

    with engine(settings, existing=True).connect() as connection:
        accounts = list_users(connection)
    if not accounts:
        click.echo("还没有账号：用 ruralbrain users add NAME --role admin --scope <本县代码> 新建第一个管理员")
    for user in accounts:
        state = "" if user.enabled else "（已停用）"
        role, source = ROLE_NAMES.get(user.role, user.role), SOURCE_NAMES.get(user.source, user.source)
        click.echo(f"{user.name}  {user.display_name}  {role}（{user.role}）  {user.scope}  {source}{state}")


@COMMAND.command("disable")
@click.argument("name")
@click.pass_obj
def disable(settings: Settings, name) -> None:
    """停用账号（不删除：审计记录仍指向它）。"""
    from etl.warehouse.accounts import change_user

    with engine(settings).begin() as connection:
        _run(lambda: change_user(connection, name, enabled=False, actor="cli"))
    click.echo(f"已停用用户 {name}")


@COMMAND.command("enable")
@click.argument("name")
@click.pass_obj
def enable(settings: Settings, name) -> None:
    """重新启用账号。"""
    from etl.warehouse.accounts import change_user

    with engine(settings).begin() as connection:
        _run(lambda: change_user(connection, name, enabled=True, actor="cli"))
    click.echo(f"已启用用户 {name}")


@COMMAND.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="从标准输入读新密码（一行），不提示。")
@click.pass_obj
def reset_password(settings: Settings, name, password_stdin) -> None:
    """重设账号的密码。"""
    from etl.warehouse.accounts import change_user

    password = _password(password_stdin)
    with engine(settings).begin() as connection:
        _run(lambda: change_user(connection, name, password=password, actor="cli"))
    click.echo(f"已重设用户 {name} 的密码")


@COMMAND.command("set")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), help="新角色。")
@click.option("--scope", help="新的所管区划代码。")
@click.option("--display-name", help="新的显示名。")
@click.pass_obj
def set_command(settings: Settings, name, role, scope, display_name) -> None:
    """修改账号的角色、范围或显示名。"""
    from etl.warehouse.accounts import ROLE_NAMES, change_user

    with engine(settings).begin() as connection:
        changes = {"role": role, "scope": scope, "display_name": display_name}
        user = _run(lambda: change_user(connection, name, **changes, actor="cli"))
    role = f"{ROLE_NAMES.get(user.role, user.role)}（{user.role}）"
    click.echo(f"用户 {user.name}：角色 {role}，范围 {user.scope}，显示名 {user.display_name}")
