"""Which request needs what, decided once before the app reads it: kiosk pages are public (or need a login or a
registered screen's token when PUBLIC_SCREENS is off), the drill-down map and what later issues add need a login,
operations and user management need an admin. Every route of the Flask URL map and every Dash callback is
classified here (a test fails on one it cannot classify); the request's viewer and effective scope are set."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from datetime import UTC, datetime

import dash
import flask_login
from dash._pages import _path_to_page  # the page router's own matching
from flask import Flask, current_app, redirect, request, session
from sqlalchemy import select
from werkzeug.exceptions import BadRequest, Unauthorized

from dashboard.auth.viewer import PUBLIC, Viewer, refuse, require_within, set_viewer
from etl.warehouse.schema import screens
from etl.warehouse.screens import token_matches

# What a page or route needs. "screen": a kiosk page, public while PUBLIC_SCREENS is on. "static": code and
# styles, never data. "self": the route checks its caller itself (a heartbeat its screen's token, /readyz the
# operations network, the login forms their CSRF token).
ACCESS = ("static", "public", "self", "screen", "login", "admin")
ROUTES = {
    "/static/<path:filename>": "static",
    "/assets/<path:filename>": "static",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": "static",
    "/_dash-layout": "static",
    "/_dash-dependencies": "static",
    "/_reload-hash": "static",
    "/_favicon.ico": "static",
    "/healthz": "public",
    "/readyz": "self",
    "/api/heartbeat": "self",
    "/login": "self",
    "/logout": "self",
    "/auth/oidc/login": "self",
    "/auth/oidc/callback": "self",
    "/geo/children/<code>.geojson": "screen",
    "/geo/regions/<code>.geojson": "screen",
    "/admin/users": "admin",
    "/alerts": "login",
    "/alerts/<int:alert_id>": "login",
    "/admin/users/<name>": "admin",
    "/admin/user-edit": "admin",
    "/explore/export": "login",
    "/pilots/export": "login",
    # 一户一码: the household's token in the address is its credential, checked by the handlers.
    "/h/<token>": "self",
    "/h/<token>/cases": "self",
    "/h/<token>/cases/<case_id>": "self",
    "/h/<token>/cases/<case_id>/rating": "self",
    "/h/<token>/redemptions": "self",
    "/h/<token>/files/<file_id>": "self",
    # The village office: clerks (village) and township cadres, each within their scope (checked by the handlers).
    "/office": "login",
    "/office/cases/<case_id>": "login",
    "/office/notices": "login",
    "/office/records": "login",
    "/office/points": "login",
    "/office/files/<file_id>": "login",
}
DASH_INDEX = ("/", "/<path:path>")
CALLBACK_PATH = "/_dash-update-component"
# A registered screen's token and region, as this process last read them (they change when it is registered again).
RELOAD_SECONDS = 30
MAX_REMEMBERED_SCREENS = 10_000
_screens: dict[str, tuple[float, tuple[str, str] | None]] = {}
_screens_lock = threading.Lock()
ROUTER = "_pages_content"
ROUTER_LOCATION = "_pages_location"  # the dcc.Location whose pathname and search the router takes
# A callback that only a timer fires is not the user doing something: it must not keep a login alive.
TIMERS = ("n_intervals",)
CODE = re.compile(r"^[0-9]{12}$")


def page_for(path: str) -> dict | None:
    """The Dash page a path opens (its registry entry), found exactly as Dash's page router finds it: slashes
    stripped, templates matched by pattern. Matched any other way, `/explore/` was no page (public) to the guard
    while Dash drew the workspace."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise BadRequest(description="页面地址不正确")  # Dash's router would fail on it too
    page, _variables = _path_to_page(path.strip("/"))
    return page or None


def router_path(inputs) -> str:
    """The path a page-router request opens: its first input, which Dash's router takes as the pathname whatever
    the request labels it, so the request must label its inputs as the router declares them."""
    declared = [(ROUTER_LOCATION, "pathname"), (ROUTER_LOCATION, "search")]
    if not isinstance(inputs, list) or len(inputs) < 2 or not all(isinstance(entry, dict) for entry in inputs[:2]):
        raise BadRequest(description="页面请求的 inputs 格式不正确")
    if [(entry.get("id"), entry.get("property")) for entry in inputs[:2]] != declared:
        raise BadRequest(description="页面请求的 inputs 与页面路由不符")
    path = inputs[0].get("value")
    return path if isinstance(path, str) else "/"


def page_access(page: dict | None) -> str:
    """What a page needs: its declared ``access`` (register_page(access=…)); a path that is no page is public
    (the 404 page)."""
    if page is None:
        return "public"
    access = page.get("access")
    if access not in ACCESS:
        raise LookupError(f"page {page['module']} declares no access (register_page(..., access=…))")
    return access


def _id_name(component_id) -> str:
    """A component id as the registry's prefixes know it: a string id, or a pattern id's first key."""
    if isinstance(component_id, dict):
        return next(iter(component_id), "")
    return str(component_id)


def callback_page(outputs: list[dict]) -> dict | None:
    """The page whose components a callback updates, by the id prefixes pages declare (register_page(ids=…))."""
    names = [_id_name(output.get("id")) for output in outputs]
    for page in dash.page_registry.values():
        prefixes = page.get("ids") or ()
        if names and all(name.startswith(tuple(prefixes)) for name in names):
            return page
    # A hostile or stale browser can name any id: a 400, never a 500 (the sweep checks every page declares its ids).
    raise BadRequest(description=f"回调的组件不属于任何页面：{[name[:40] for name in names[:3]]}")


def callback_access(body: dict) -> tuple[str, dict | None]:
    """(what a callback request needs, its page); the page router needs what the page it opens needs. A body
    Dash could not read is refused here with 400, before anything is decided from it."""
    if not isinstance(body, dict) or not isinstance(body.get("output", ""), str):
        raise BadRequest(description="回调请求格式不正确")
    output = body.get("output", "")
    if output.startswith(f"..{ROUTER}.") or output.startswith(f"{ROUTER}."):
        page = page_for(router_path(body.get("inputs")))
        return page_access(page), page
    outputs = body.get("outputs", [])
    outputs = [outputs] if isinstance(outputs, dict) else outputs
    if not isinstance(outputs, list):
        raise BadRequest(description="回调请求的 outputs 格式不正确")
    flat = [entry for item in outputs for entry in (item if isinstance(item, list) else [item])]
    if not all(isinstance(entry, dict) and isinstance(entry.get("id"), (str, dict)) for entry in flat):
        raise BadRequest(description="回调请求的 outputs 缺少组件编号")
    if all(_id_name(entry.get("id")).startswith("_pages") for entry in flat):
        return "static", None  # Dash's own page plumbing (its dummy): no data
    page = callback_page(flat)
    return page_access(page), page


def route_access() -> tuple[str, dict | None]:
    """What this request needs, and the Dash page it concerns (None for Flask routes)."""
    if request.routing_exception is not None:
        return "static", None  # no route (404) or not this method (405): Flask answers that, nothing is read
    rule = request.url_rule.rule if request.url_rule else None
    if rule == CALLBACK_PATH:
        return callback_access(request.get_json(silent=True) or {})
    if rule in DASH_INDEX:
        page = page_for(request.path)
        return page_access(page), page
    if rule not in ROUTES:
        raise LookupError(f"route {rule} is not classified in dashboard/auth/access.py")
    return ROUTES[rule], None


def _screen(settings) -> Viewer | None:
    """A registered screen proving itself with its token (from its address, or remembered in the session as long
    as that token is the screen's: registering it again ends the sessions the old token opened)."""
    screen_id = request.args.get("screen") or session.get("screen")
    token = request.args.get("token")
    if not screen_id:
        return None
    if token is None and session.get("screen") == screen_id:
        found = registered_screen(screen_id)
        if found is None or session.get("screen_token") != _token_mark(found[0]):
            # This worker's copy may be older than the session (registered again, opened on another worker).
            found = registered_screen(screen_id, fresh=True)
        if found is None or session.get("screen_token") != _token_mark(found[0]):
            for key in ("screen", "screen_token"):
                session.pop(key, None)
            return None
        return Viewer("screen", screen_id, "viewer", found[1])
    found = registered_screen(screen_id, fresh=True)  # a screen registered a moment ago opens at once
    if found is None or not token_matches(token, found[0]):
        return None
    session["screen"], session["screen_token"] = screen_id, _token_mark(found[0])
    return Viewer("screen", screen_id, "viewer", found[1])


def _token_mark(token_hash: str) -> str:
    """What a session keeps of its screen's token: enough to tell it was replaced, nothing to find it by."""
    return hashlib.sha256(token_hash.encode()).hexdigest()[:16]


def registered_screen(screen_id: str, fresh: bool = False) -> tuple[str, str] | None:
    """(token hash, region) of a registered screen, read from the warehouse at most every RELOAD_SECONDS per
    process unless ``fresh``; None for a screen not registered."""
    now = time.monotonic()
    with _screens_lock:
        remembered = _screens.get(screen_id)
    if remembered and not fresh and now - remembered[0] < RELOAD_SECONDS:
        return remembered[1]
    with current_app.config["RURALBRAIN_ENGINE"].connect() as connection:
        row = connection.execute(
            select(screens.c.token_hash, screens.c.region_code).where(screens.c.screen_id == screen_id)
        ).first()
    found = (row.token_hash, row.region_code or "") if row else None
    with _screens_lock:
        if len(_screens) >= MAX_REMEMBERED_SCREENS:
            _screens.clear()  # screen ids come from addresses: a flood of made-up ones must not grow this
        _screens[screen_id] = (now, found)
    return found


def forget_screen(screen_id: str) -> None:
    """Drop what this process remembers of a screen (it was just registered again here)."""
    with _screens_lock:
        _screens.pop(screen_id, None)


def _user() -> Viewer | None:
    user = flask_login.current_user
    if not user.is_authenticated:
        return None
    return Viewer("user", user.name, user.role, user.scope)


def _idle(settings) -> bool:
    """Whether the logged-in user has been idle too long (then logged out); marks activity otherwise."""
    now = datetime.now(UTC).timestamp()
    seen = session.get("seen")
    if seen is not None and now - seen > settings.idle_minutes * 60:
        flask_login.logout_user()
        session.clear()
        return True
    body = request.get_json(silent=True) if request.path == CALLBACK_PATH else None
    changed = body.get("changedPropIds", []) if isinstance(body, dict) else []
    timer_only = bool(changed) and all(str(item).endswith(TIMERS) for item in changed)
    if not timer_only:
        session["seen"] = now
    return False


def check_request() -> object | None:
    """The before-request hook: classify, identify, decide; a redirect to the login page, 401/403, or None."""
    settings = current_app.config["RURALBRAIN_SETTINGS"]
    access, _page = route_access()
    if access == "static":
        return None
    expired = flask_login.current_user.is_authenticated and _idle(settings)
    user = _user()
    public_screens = settings.flag(settings.public_screens)
    if user is None and (access in ("public", "self") or (access == "screen" and public_screens)):
        set_viewer(Viewer(PUBLIC, "", "viewer", ""), "")  # the public of a kiosk: the whole deployment's screens
        return None
    if user is not None and access in ("public", "self"):
        set_viewer(user, user.scope)  # a logged-in user sees their scope everywhere, public pages included
        return None
    who = user or (_screen(settings) if access == "screen" else None)
    if who is None:
        if request.method == "GET" and request.path != CALLBACK_PATH:
            reason = "?expired=1" if expired else ""
            return redirect(f"/login{reason}{'&' if reason else '?'}next={request.full_path.rstrip('?')}")
        raise Unauthorized(description="登录已过期，请刷新页面重新登录" if expired else "请先登录")
    set_viewer(who, who.scope)
    if access == "admin" and not who.is_admin:
        refuse("此页面仅限管理员")  # audited: a cadre posting the admin role to the user forms is worth knowing of
    for asked in _asked_regions(_page):
        require_within(asked)  # another township's code in an address: 403 and an audit entry, at once
    return None


def _asked_regions(page: dict | None) -> list[str]:
    """The region codes an address names: ?region=, a page's region variable (/board/<village>) and the regions
    of what else the page says its address names (register_page(asks=…): /pilots' ?pilot=)."""
    asked = [request.args.get("region", "")]
    template = (page or {}).get("path_template") or ""
    if request.path != CALLBACK_PATH and "<" in template:
        prefix = template.split("<", 1)[0]
        asked.append(request.path[len(prefix) :].split("/", 1)[0])
    if request.path != CALLBACK_PATH and (page or {}).get("asks"):
        asked += page["asks"](request.args)
    return [code for code in asked if CODE.match(code)]


def install(server: Flask) -> None:
    """Run the check before every request."""
    server.before_request(check_request)
