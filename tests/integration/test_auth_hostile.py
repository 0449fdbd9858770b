"""What a hostile tester did through the browser's door: a second person at the provider with someone's
preferred_username, a display name forging audit lines, names differing only in case, refused privileged requests
leaving no trace, and an account named ``change`` no button could disable."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from etl.cli import main
from etl.demo.sample import COUNTY, TOWNSHIP, build_sample
from etl.warehouse.accounts import add_user, audit_entries, get_user
from etl.warehouse.db import make_engine
from tests.integration.test_login import Provider, csrf_token, log_in, served, sso

pytestmark = pytest.mark.integration
HTTPS = "https://localhost"
PASSWORD = "a password long enough"
OTHER_TOWNSHIP = "990101101000"


@pytest.fixture(scope="module")
def county_var(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("hostile-auth-var")
    settings = build_sample(var_dir)
    with make_engine(settings.warehouse_url).begin() as connection:
        add_user(connection, "guan", "admin", COUNTY, password=PASSWORD)
        add_user(connection, "zhen", "township", TOWNSHIP, password=PASSWORD)
        add_user(connection, "kan", "viewer", TOWNSHIP, password=PASSWORD)
    return var_dir


def entries(engine, name: str, event: str) -> list:
    with engine.connect() as connection:
        return audit_entries(connection, user=name, event=event, limit=1000)


def errors(answer) -> list[str]:
    return re.findall(r'class="error">([^<]*)', answer.get_data(as_text=True))


def test_a_second_person_with_the_same_preferred_username_is_refused(county_var, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the test provider speaks plain HTTP on loopback
    person_a = {"sub": "a-111", "preferred_username": "li.ming", "name": "李明", "region_code": TOWNSHIP}
    provider = Provider({**person_a, "role": "township"})
    try:
        app, engine = served(county_var, oidc_issuer=provider.issuer, oidc_client_id="rb", oidc_client_secret="s")
        first, answer = sso(app, provider)
        assert answer.status_code == 302, answer.get_data(as_text=True)
        forged = "李明\n2026-12-07 09:00 登录 [login]  admin  127.0.0.1  密码登录"
        provider.claims = {
            **person_a,
            "sub": "b-222",
            "region_code": OTHER_TOWNSHIP,
            "name": forged,
            "role": "township",
        }
        _, clash = sso(app, provider)
        assert clash.status_code == 403 and "li.ming" in clash.get_data(as_text=True)
        assert "另一" in clash.get_data(as_text=True)
        with engine.connect() as connection:
            user = get_user(connection, "li.ming")
        assert (user.role, user.scope, user.display_name) == ("township", TOWNSHIP, "李明")
        assert first.get(f"{HTTPS}/?region={OTHER_TOWNSHIP}").status_code == 403  # A still sees A's township only
        assert any("另一" in entry.detail for entry in entries(engine, "li.ming", "login_failed"))
        # Person A again, display name with a newline: logged in, the name one printable line.
        provider.claims = {**person_a, "name": forged, "role": "township"}
        _, again = sso(app, provider)
        assert again.status_code == 302
        with engine.connect() as connection:
            assert get_user(connection, "li.ming").display_name.isprintable()
        engine.dispose()
    finally:
        provider.stop()


def test_audit_list_prints_one_line_per_entry_whatever_a_name_holds(county_var):
    app, engine = served(county_var)
    client = app.server.test_client()
    log_in(client, "zhen\n2026-12-07 09:00  登录 [login]  guan", password="wrong", address="10.9.0.1")
    listed = CliRunner().invoke(main, ["--var-dir", str(county_var), "audit", "list", "--event", "login_failed"])
    forged = [line for line in listed.output.splitlines() if line.startswith("2026-12-07 09:00")]
    assert listed.exit_code == 0 and forged == [], listed.output
    engine.dispose()


def test_refused_privileged_requests_are_audited_within_the_per_minute_cap(county_var):
    app, engine = served(county_var)
    viewer, cadre = app.server.test_client(), app.server.test_client()
    log_in(viewer, "kan", address="10.9.0.2")
    log_in(cadre, "zhen", address="10.9.0.3")
    assert viewer.get(f"{HTTPS}/explore/export?region={TOWNSHIP}&part=kpi&format=csv").status_code == 403
    assert viewer.get(f"{HTTPS}/pilots/export?region={TOWNSHIP}&kind=monthly").status_code == 403
    refused = [entry.detail for entry in entries(engine, "kan", "forbidden")]
    assert any("/explore/export" in detail for detail in refused) and any("/pilots/export" in d for d in refused)
    token = csrf_token(cadre)
    asked = {"target": "zhen", "role": "admin", "action": "change", "csrf_token": token}
    for address in ("/admin/users/change", "/admin/users/zhen", "/admin/user-edit"):
        assert cadre.post(f"{HTTPS}{address}", data=asked).status_code == 403
    assert cadre.get(f"{HTTPS}/admin/users").status_code == 403
    assert len(entries(engine, "zhen", "forbidden")) == 4
    with engine.connect() as connection:
        assert get_user(connection, "zhen").role == "township"
    for _ in range(30):  # a script trying again and again writes no more than the region refusals would
        cadre.post(f"{HTTPS}/admin/users/change", data=asked)
    assert len(entries(engine, "zhen", "forbidden")) == 20
    engine.dispose()


def test_the_admin_page_refuses_twin_names_and_hidden_characters_and_manages_any_name(county_var):
    app, engine = served(county_var)
    admin = app.server.test_client()
    log_in(admin, "guan", address="10.9.0.4")
    token = csrf_token(admin, "/admin/users")

    def add(name: str, display: str = ""):
        form = {"name": name, "display_name": display, "role": "township", "scope": TOWNSHIP[:9]}
        return admin.post(f"{HTTPS}/admin/users", data=form | {"password": PASSWORD, "csrf_token": token})

    for twin in ("ZHEN", "Zhen"):
        refused = add(twin)
        assert refused.status_code == 400 and any("已存在" in why for why in errors(refused)), twin
    for shown in ("\u202e\u200b假冒\x07\x1b[31m", "x\nline2", "y" * 500):
        refused = add("zhen.b", shown)
        assert refused.status_code == 400 and any("显示名" in why for why in errors(refused)), repr(shown)
    assert add("change", "城关 镇长").status_code == 302
    users_page = admin.get(f"{HTTPS}/admin/users").get_data(as_text=True)
    assert 'action="/admin/users/change"' in users_page  # the row of the account named change
    disabled = admin.post(f"{HTTPS}/admin/users/change", data={"action": "disable", "csrf_token": token})
    assert disabled.status_code == 302, errors(disabled)
    with engine.connect() as connection:
        assert get_user(connection, "change").enabled is False and get_user(connection, "zhen.b") is None
    edit = re.search(r'<h2>修改用户</h2><form method="post" action="([^"]+)"', users_page)[1]
    changed = admin.post(f"{HTTPS}{edit}", data={"target": "change", "role": "viewer", "csrf_token": token})
    assert changed.status_code == 302, errors(changed)
    with engine.connect() as connection:
        assert get_user(connection, "change").role == "viewer"
    engine.dispose()
