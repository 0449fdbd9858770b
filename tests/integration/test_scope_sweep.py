"""The leakage sweep: users of two sibling townships and a village call every route of the Flask URL map and
every Dash callback of the app (discovered from the app itself) with their own and each other's region codes;
no answer holds a region code outside the caller's scope (the regions above it excepted: the parent's outline
is allowed), and a route or callback the sweep cannot classify fails it. Then cache isolation, on the file
cache and on Redis."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from dashboard.app import create_app
from etl.demo.sample import BOARD_VILLAGE, COUNTY, TOWNSHIP, VILLAGES, build_sample
from etl.warehouse.accounts import add_user, audit_entries
from etl.warehouse.db import make_engine
from etl.warehouse.schema import regions
from etl.warehouse.settings import Settings
from geo.codes import is_within
from tests.dash_requests import PAGES_OUTPUT, callback, page
from tests.household_fixtures import sweep_cases
from tests.integration.test_callback_validation import BOARD_OUTPUT, STOP_OUTPUT, board, county, drill, stop
from tests.sessions import HTTPS, PASSWORD, logged_in

pytestmark = pytest.mark.integration
OTHER_TOWNSHIP = VILLAGES[2][:9] + "000"
OTHER_VILLAGE = VILLAGES[2]
NEIGHBOUR = VILLAGES[1]  # a village of the first township, not the board's
CODES = [COUNTY, TOWNSHIP, OTHER_TOWNSHIP, BOARD_VILLAGE, NEIGHBOUR, OTHER_VILLAGE, VILLAGES[3]]
USERS = {"zhen-a": ("township", TOWNSHIP), "zhen-b": ("township", OTHER_TOWNSHIP), "cun": ("village", NEIGHBOUR)}
CODE = re.compile(r"(?<!\d)\d{12}(?!\d)")
SWEEP_CASES: dict[str, str] = {}  # the office's routes are aimed at each village's 诉求 and its photo
SWEEP_FILES: dict[str, str] = {}


@pytest.fixture(scope="module", params=["file", "redis"])
def served(request, tmp_path_factory):
    """The sample county with three accounts, served with the file cache or Redis."""
    var_dir = tmp_path_factory.mktemp(f"sweep-{request.param}")
    build_sample(var_dir)
    redis_url = ""
    if request.param == "redis":
        redis_url = request.getfixturevalue("redis_url")
    settings = Settings.load(var_dir=str(var_dir), cache_redis_url=redis_url)
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        for name, (role, scope) in USERS.items():
            add_user(connection, name, role, scope, password=PASSWORD)
        known = set(connection.execute(select(regions.c.code)).scalars())
    cases, files = sweep_cases(engine, settings.uploads_dir, VILLAGES)  # a 诉求 with a photo in each village
    demo_programme(engine)  # /pilots and its exports have pilots in every township to leak
    SWEEP_CASES.update(cases), SWEEP_FILES.update(files)
    app = create_app(settings)
    app.server.test_client().get("/healthz")  # Dash completes its callbacks (the page router) at the first request
    return app, engine, known


@pytest.fixture(scope="module")
def redis_url():
    import redis

    from tests import shared_fixtures

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except Exception as error:  # noqa: BLE001 - any failure means the service is missing
        shared_fixtures.unavailable(f"Redis not reachable at 127.0.0.1:6379 ({type(error).__name__})")
    redis.Redis.from_url(url).flushdb()
    return url


def demo_programme(engine) -> None:
    """The demo's pilot programme imported over the sample county and scored."""
    from etl.demo.pilot_data import DEMO_PROGRAMME
    from etl.programmes.catalogue import load_programme
    from etl.programmes.scoring import score_month
    from etl.programmes.store import import_programme

    with engine.begin() as connection:
        import_programme(connection, load_programme(DEMO_PROGRAMME))
        score_month(connection, "demo")


def outside(text: str, scope: str, known: set[str]) -> set[str]:
    """The region codes in ``text`` that a viewer of ``scope`` must not see (its ancestors are allowed)."""
    return {
        code
        for code in CODE.findall(text)
        if code in known and not is_within(code, scope) and not is_within(scope, code)
    }


def routes(code: str) -> list[tuple[str, str, dict | None]]:
    """(method, address, JSON body) for every Flask route and Dash page, aimed at ``code`` where one takes it."""
    return [
        ("GET", f"/geo/children/{code}.geojson", None),
        ("GET", f"/geo/regions/{code}.geojson", None),
        ("GET", f"/?region={code}", None),
        ("GET", f"/screen/county?region={code}", None),
        ("GET", f"/board/{code}", None),
        ("GET", "/stop/S01", None),
        ("GET", "/ops/screens", None),
        ("GET", "/admin/users", None),
        ("GET", "/healthz", None),
        ("GET", "/readyz", None),
        ("GET", "/ping", None),
        ("GET", "/404", None),
        ("GET", "/login", None),
        ("POST", "/logout", None),
        ("POST", "/api/heartbeat", {"screen": "sweep-tab", "route": f"/board/{code}"}),
        ("POST", "/admin/users", None),
        ("POST", "/admin/users/zhen-b", None),
        ("POST", "/admin/user-edit", None),
        ("GET", "/auth/oidc/login", None),
        ("GET", f"/alerts?region={code}", None),
        ("GET", "/alerts?state=all", None),
        ("POST", "/alerts/1", None),
        ("GET", "/auth/oidc/callback", None),
        ("GET", "/h/unknownTokenOfSweep1", None),
        ("POST", "/h/unknownTokenOfSweep1/cases", None),
        ("GET", f"/h/unknownTokenOfSweep1/cases/QR-{code}", None),
        ("POST", f"/h/unknownTokenOfSweep1/cases/QR-{code}/rating", None),
        ("POST", "/h/unknownTokenOfSweep1/redemptions", None),
        ("GET", "/h/unknownTokenOfSweep1/files/0.jpg", None),
        ("GET", "/office", None),
        ("GET", f"/office/cases/{SWEEP_CASES.get(code, 'QR-' + code)}", None),
        ("POST", f"/office/cases/{SWEEP_CASES.get(code, 'QR-' + code)}", None),
        ("GET", "/office/notices", None),
        ("POST", "/office/notices", None),
        ("GET", "/office/records", None),
        ("POST", "/office/records", None),
        ("GET", "/office/points", None),
        ("POST", "/office/points", None),
        ("GET", f"/office/files/{SWEEP_FILES.get(code, '0.jpg')}", None),
        ("GET", f"/explore?region={code}", None),
        ("GET", f"/explore/export?region={code}&part=records&format=csv", None),
        ("GET", f"/explore/export?region={code}&part=compare&format=csv", None),
        ("GET", f"/explore/export?region={code}&part=kpi&format=xlsx", None),
        ("GET", f"/pilots?region={code}", None),
        ("GET", f"/pilots?pilot={code}", None),
        ("GET", f"/pilots/export?region={code}&kind=monthly", None),
        ("GET", f"/pilots/export?pilot={code}&kind=acceptance", None),
    ]


def callbacks(code: str) -> dict[str, dict]:
    """A request of every server callback aimed at ``code`` (output → body)."""
    return {
        "screen-content.data": county(scope=code, shown=code),
        BOARD_OUTPUT: board(village=code),
        STOP_OUTPUT: stop({"stop_id": "S01"}),
        "drill-location.search": drill({"properties": {"code": code}}),
        PAGES_OUTPUT: page("/", f"?region={code}"),
        f"{PAGES_OUTPUT} /explore": page("/explore", f"?region={code}&period=year"),
        f"{PAGES_OUTPUT} /pilots": page("/pilots", f"?region={code}"),
        f"{PAGES_OUTPUT} /pilots?pilot": page("/pilots", f"?pilot={code}"),
        "ping-text.title": callback(
            "ping-text.title",
            {"id": "ping-text", "property": "title"},
            [{"id": "ping-interval", "property": "n_intervals", "value": 1}],
        ),
    }


# The Flask rules the sweep covers (each through routes() above); Dash's own bundles and plumbing carry no data.
COVERED_RULES = {
    "/alerts",
    "/alerts/<int:alert_id>",
    "/geo/children/<code>.geojson",
    "/geo/regions/<code>.geojson",
    "/",
    "/<path:path>",
    "/healthz",
    "/readyz",
    "/login",
    "/logout",
    "/api/heartbeat",
    "/admin/users",
    "/admin/users/<name>",
    "/admin/user-edit",
    "/auth/oidc/login",
    "/auth/oidc/callback",
    "/h/<token>",
    "/h/<token>/cases",
    "/h/<token>/cases/<case_id>",
    "/h/<token>/cases/<case_id>/rating",
    "/h/<token>/redemptions",
    "/h/<token>/files/<file_id>",
    "/office",
    "/office/cases/<case_id>",
    "/office/notices",
    "/office/records",
    "/office/points",
    "/office/files/<file_id>",
    "/explore/export",
    "/pilots/export",
}
NO_DATA = {
    "/static/<path:filename>",
    "/assets/<path:filename>",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
    "/_dash-layout",
    "/_dash-dependencies",
    "/_reload-hash",
    "/_favicon.ico",
    "/_dash-update-component",
}


def test_the_sweep_covers_every_route_page_and_callback(served):
    app, _, _ = served
    rules = {rule.rule for rule in app.server.url_map.iter_rules()}
    assert rules - COVERED_RULES - NO_DATA == set(), "a new route: add it to the sweep"
    servers = {output for output, spec in app.callback_map.items() if "callback" in spec}
    assert servers - set(callbacks(COUNTY)) == set(), "a new callback: add it to the sweep"
    import dash

    from dashboard.auth.access import callback_page, page_access

    for output in servers:  # every server callback's components belong to a page (a stray one is a 400)
        parts = [part.rsplit(".", 1)[0] for part in output.strip(".").split("...")]
        ids = [json.loads(part) if part.startswith("{") else part for part in parts]
        if not all(str(i).startswith("_pages") for i in ids):
            assert callback_page([{"id": i} for i in ids]) is not None, output
    swept = {address.split("?")[0].rstrip("/") or "/" for _, address, _ in routes(COUNTY)}
    for entry in dash.page_registry.values():
        page_access(entry)  # every page declares what it needs
        prefix = (entry.get("path_template") or entry["path"]).split("<")[0].rstrip("/") or "/"
        assert any(address.startswith(prefix) for address in swept), f"page {entry['path']} is not swept"


@pytest.mark.parametrize("name", sorted(USERS))
def test_no_answer_holds_a_region_outside_the_callers_scope(served, name):
    app, engine, known = served
    client = logged_in(app, name)
    scope = USERS[name][1]
    leaks, refused = [], 0
    for code in CODES:
        for method, address, body in routes(code):
            answer = client.open(f"{HTTPS}{address}", method=method, json=body)
            text = answer.get_data().decode(errors="replace")  # photos are swept too
            assert answer.status_code < 500, (address, text[:300])
            refused += answer.status_code == 403
            if answer.status_code < 300 and outside(text, scope, known):
                leaks.append((address, sorted(outside(text, scope, known))))
        for output, body in callbacks(code).items():
            answer = client.post(f"{HTTPS}/_dash-update-component", json=body)
            text = answer.get_data(as_text=True)
            assert answer.status_code < 500, (output, text[:300])
            refused += answer.status_code == 403
            if answer.status_code < 300 and outside(text, scope, known):
                leaks.append((output, code, sorted(outside(text, scope, known))))
    assert leaks == [], leaks
    assert refused  # asking for the others' regions was refused, not merely answered empty
    with engine.connect() as connection:
        violations = audit_entries(connection, user=name, event="scope_violation", limit=1000)
    assert violations and all("请求" in entry.detail for entry in violations)


def test_a_sibling_gets_nothing_of_what_was_cached_for_the_other(served):
    app, _, known = served
    first, second = logged_in(app, "zhen-a"), logged_in(app, "zhen-b")
    mine = first.post(f"{HTTPS}/_dash-update-component", json=county(scope=TOWNSHIP, shown=TOWNSHIP))
    assert mine.status_code == 200 and TOWNSHIP in mine.get_data(as_text=True)
    # The same request from the sibling: refused, never the first one's cached answer.
    theirs = second.post(f"{HTTPS}/_dash-update-component", json=county(scope=TOWNSHIP, shown=TOWNSHIP))
    assert theirs.status_code == 403
    own = second.post(f"{HTTPS}/_dash-update-component", json=county(scope=OTHER_TOWNSHIP, shown=OTHER_TOWNSHIP))
    assert own.status_code == 200 and not outside(own.get_data(as_text=True), OTHER_TOWNSHIP, known)
    # The public (anonymous) county screen keeps its own entries: the whole county, not a township's.
    public = app.server.test_client().post("/_dash-update-component", json=county(scope=COUNTY, shown=COUNTY))
    assert public.status_code == 200 and COUNTY in public.get_data(as_text=True)
