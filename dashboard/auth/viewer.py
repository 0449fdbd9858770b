"""Who is looking at this request, and the region they may see: a user (role and scope), a registered screen,
or the public of a kiosk page; the effective scope every query and cache key is bound to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from ipaddress import ip_address, ip_network
from typing import NoReturn

from flask import current_app, g, has_request_context, request
from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden

from etl.warehouse.accounts import record, scope_holds
from etl.warehouse.schema import audit_log
from etl.warehouse.settings import Settings

PUBLIC = "public"


@dataclass(frozen=True)
class Viewer:
    """One of: a logged-in user, a registered screen (by its token), or the public of a kiosk page."""

    kind: str  # "user" | "screen" | "public"
    name: str
    role: str
    scope: str  # the region code whose subtree the viewer sees ("" = the whole deployment)

    @property
    def is_admin(self) -> bool:
        """Whether the viewer manages users and sees the operations pages."""
        return self.kind == "user" and self.role == "admin"


def set_viewer(viewer: Viewer, scope: str) -> None:
    """Bind this request to a viewer and its effective scope (the access guard does this once per request)."""
    g.viewer, g.view_scope = viewer, scope


def viewer() -> Viewer | None:
    """The viewer of this request; None outside a request (the CLI, tests calling queries directly)."""
    return g.get("viewer") if has_request_context() else None


def view_scope() -> str:
    """The region code this request's answers are bound to; "" outside a request or for the whole deployment."""
    return g.get("view_scope", "") if has_request_context() else ""


def sees(code: str) -> bool:
    """Whether this request may read data of a region: it lies within the effective scope."""
    scope = view_scope()
    return not scope or scope_holds(scope, code)


@lru_cache(maxsize=8)
def _networks(trusted: str) -> tuple:
    """The networks of a TRUSTED_PROXIES value (unparseable entries left out)."""
    found = []
    for part in trusted.split(","):
        try:
            found.append(ip_network(part.strip(), strict=False))
        except ValueError:
            continue
    return tuple(found)


def _trusted(remote: str, trusted: str) -> bool:
    try:
        ip = ip_address(remote)
    except ValueError:
        return False
    ip = ip.ipv4_mapped or ip if ip.version == 6 else ip
    return any(ip in network for network in _networks(trusted))


def address() -> str:
    """The client's address: the one nginx passes in X-Real-IP when the request came from a trusted proxy
    (TRUSTED_PROXIES: loopback, or nginx's address when gunicorn runs on other hosts), else the connection's own;
    a client's own X-Real-IP never counts."""
    remote = request.remote_addr or ""
    settings = current_app.config.get("RURALBRAIN_SETTINGS") if has_request_context() else None
    trusted = (settings or Settings).trusted_proxies  # outside the app: the setting's default (loopback)
    proxied = _trusted(remote, trusted)
    return ((request.headers.get("X-Real-IP") if proxied else None) or remote)[:64]


def forbid(code: str, what: str = "区划") -> None:
    """Refuse (403) a request for a region outside the viewer's scope, and audit it."""
    audit_refusal("scope_violation", f"{request.path}：请求{what} {code}，范围 {view_scope() or '全部'}")
    raise Forbidden(description=f"无权查看{what} {code}：不在您的管辖范围内")


def refuse(why: str) -> NoReturn:
    """Refuse (403) what the viewer's role may not do (an admin's page, an export), and audit it as forbidden: a
    viewer's export and a cadre's try at the admin role had left no trace."""
    who = viewer()
    audit_refusal("forbidden", f"{request.method} {request.path}：{why}（角色 {who.role if who else '无'}）")
    raise Forbidden(description=why)


# Refusals audited per user and address a minute: a session asking for one region after another (a script, a
# scan) wrote a row each, as fast as the server answered; the first of them tell the story, the rest are refused alike.
AUDITED_REFUSALS_PER_MINUTE = 20
REFUSALS = ("scope_violation", "forbidden")


def audit_refusal(event: str, detail: str) -> None:
    """Audit a refused request of this request's viewer, unless AUDITED_REFUSALS_PER_MINUTE of its refusals were
    audited in the last minute."""
    who = viewer()
    name = who.name if who else None
    with current_app.config["RURALBRAIN_ENGINE"].begin() as connection:
        if not recently_refused(connection, name, address()):
            record(connection, event, name, address(), detail)


def recently_refused(connection, name: str | None, where: str | None) -> bool:
    """Whether this user from this address has had AUDITED_REFUSALS_PER_MINUTE refusals audited in the last minute."""
    since = datetime.now(UTC) - timedelta(minutes=1)
    who = audit_log.c.user_name.is_(None) if name is None else audit_log.c.user_name == name
    at = audit_log.c.address.is_(None) if where is None else audit_log.c.address == where
    count = connection.execute(
        select(func.count()).where(audit_log.c.event.in_(REFUSALS), audit_log.c.at >= since, who, at)
    ).scalar_one()
    return count >= AUDITED_REFUSALS_PER_MINUTE


def require_within(code: str, what: str = "区划") -> str:
    """``code`` when this request may read it, else 403 with an audit entry."""
    if not sees(code):
        forbid(code, what)
    return code
