"""`ruralbrain households …`: household codes (一户一码): label sheets of a village, a new code for one household."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import click

from etl.cli_context import engine
from etl.warehouse.settings import Settings


@click.group("households")
def COMMAND() -> None:  # noqa: N802 - the name the command registry looks for
    """一户一码：打印村里各户的二维码标签，为丢失户码的人家换码。"""


def _base_url(base_url: str | None, allow_http: bool) -> str:
    """The address prefix the labels' codes open, checked: a QR code printed for a wrong one is a village's labels
    to print again (they defaulted to http://HOST:PORT, the server's own 127.0.0.1:8050, and https:// made
    https:/h/…)."""
    if not base_url:
        raise click.ClickException("请用 --base-url 给出村民手机打开的地址，如 https://ruralbrain.example.gov.cn")
    try:
        parts = urlsplit(base_url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise click.ClickException(f"--base-url '{base_url}' 不是有效的地址") from None
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        hint = "" if allow_http else "（仅在内网试用时可加 --allow-http 使用 http://）"
        raise click.ClickException(f"--base-url '{base_url}' 应以 https:// 开头{hint}")
    if not host:
        raise click.ClickException(f"--base-url '{base_url}' 缺少主机名，应写成 https://本平台的域名")
    if _loopback(host):
        raise click.ClickException(f"--base-url '{base_url}' 是本机地址，村民的手机打不开，请写本平台对外的域名")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise click.ClickException(f"--base-url '{base_url}' 只应包含协议、主机名、端口和路径")
    return base_url.strip().rstrip("/")


def _loopback(host: str) -> bool:
    """Whether a host names this machine (localhost, 127.0.0.0/8, ::1, 0.0.0.0)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


HTTP_HELP = "允许 http:// 的 --base-url（仅限内网试用：户码将明文在网络上传输）。"


@COMMAND.command("qr")
@click.option("--village", required=True, help="村的 12 位区划代码。")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="写入的 PDF 文件。")
@click.option("--base-url", help="村民手机打开的地址前缀，如 https://ruralbrain.example.gov.cn（必填）。")
@click.option("--allow-http", is_flag=True, help=HTTP_HELP)
@click.option("--only-new", is_flag=True, help="只为还没有户码的户签发（已发的码继续有效）。")
@click.pass_obj
def qr(settings: Settings, village, out, base_url, allow_http, only_new) -> None:
    """为一个村的各户签发新户码，并把标签排成 A4 页写入 PDF（此前印发的码即刻失效；--only-new 除外）。"""
    from etl.household_sheet import write_sheet
    from etl.warehouse.household_tokens import issue, village_households, with_codes

    url = _base_url(base_url, allow_http)
    with engine(settings).begin() as connection:
        found = village_households(connection, village)
        if not found:
            raise click.ClickException(f"村 {village} 没有住户数据（先导入户籍：households 数据源）")
        if only_new:
            have = with_codes(connection, village)
            found = [household for household in found if household.code not in have]
            if not found:
                click.echo(f"村 {village} 各户都已有户码，没有要打印的")
                return
        labels = [(household, issue(connection, household, "cli")) for household in found]
        # Written before the transaction commits: if the sheet cannot be written, no code changes.
        pages = write_sheet(out, labels, url)
    click.echo(f"已为 {found[0].village_name} {len(labels)} 户签发户码，写入 {out}（{pages} 页 A4）")
    if not only_new:
        click.echo("此前印发的本村户码已失效；PDF 内含有效户码，打印分发后请删除该文件。")


@COMMAND.command("revoke")
@click.argument("household_code")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="把新户码的标签写入这个 PDF。")
@click.option("--base-url", help="村民手机打开的地址前缀，如 https://ruralbrain.example.gov.cn（写标签时必填）。")
@click.option("--allow-http", is_flag=True, help=HTTP_HELP)
@click.pass_obj
def revoke(settings: Settings, household_code, out, base_url, allow_http) -> None:
    """停用一户的户码并签发新码（户码丢失或被他人拿到时）。"""
    from etl.household_sheet import page_address, write_sheet
    from etl.warehouse.household_tokens import household, issue

    # Without a label to print, the new address may be given as its path alone (the clerk adds the platform's).
    url = _base_url(base_url, allow_http) if out or base_url else ""
    with engine(settings).begin() as connection:
        found = household(connection, household_code)
        if found is None:
            raise click.ClickException(f"没有户码为 {household_code} 的住户")
        token = issue(connection, found, "cli")
        if out:
            write_sheet(out, [(found, token)], url)
    where = "" if url else "（本平台地址之后的路径）"
    click.echo(f"户 {household_code} 的旧户码已停用，新地址{where}：{page_address(url, token)}")
    if out:
        click.echo(f"新标签已写入 {out}")


@COMMAND.command("list")
@click.option("--village", required=True, help="村的 12 位区划代码。")
@click.pass_obj
def list_command(settings: Settings, village) -> None:
    """列出一个村的各户及是否已有户码。"""
    from etl.warehouse.household_tokens import village_households, with_codes

    with engine(settings, existing=True).connect() as connection:
        found = village_households(connection, village)
        have = with_codes(connection, village)
    for household in found:
        place = " ".join(part for part in (household.group, household.door_plate) if part) or "门牌未登记"
        click.echo(f"{household.code}  {place}  {'已发码' if household.code in have else '未发码'}")
    click.echo(f"共 {len(found)} 户，已发码 {len(have & {household.code for household in found})} 户")
