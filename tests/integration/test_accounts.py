"""Accounts on SQLite and PostgreSQL: roles and scopes that fit, Argon2 passwords, lockout per account and per
address counted from the audit log, disabled accounts; the users and audit commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from etl.cli import main
from etl.dataset import BEIJING
from etl.regions import load_hierarchy
from etl.warehouse.accounts import (
    AccountError,
    add_user,
    audit_entries,
    authenticate,
    change_user,
    get_user,
    locked_out,
    record,
)
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import users
from geo.hierarchy import HierarchyRead, RegionRecord

COUNTY, TOWN, VILLAGE = "990199000000", "990199001000", "990199001001"
REGIONS = [
    RegionRecord(COUNTY, "测试县", "county", "990100000000"),
    RegionRecord(TOWN, "东镇", "township", COUNTY),
    RegionRecord(VILLAGE, "甲村", "village", TOWN),
]
NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    load_hierarchy(engine, HierarchyRead(REGIONS, []), source="test")
    yield engine
    engine.dispose()


def test_roles_and_scopes_must_fit_and_passwords_are_argon2(engine):
    with engine.begin() as connection:
        user = add_user(connection, "zhen01", "township", "990199001", password="correct horse", display_name="东镇")
        assert (user.role, user.scope, user.display_name) == ("township", TOWN, "东镇")
        stored = connection.execute(select(users.c.password_hash).where(users.c.name == "zhen01")).scalar()
        assert stored.startswith("$argon2id$") and "correct horse" not in stored
        for name, role, scope, password, why in [
            ("cun", "township", VILLAGE, "long enough!", "乡镇级用户的范围应是township级区划"),
            ("cun", "village", "990199009009", "long enough!", "不是数据仓库中的区划"),
            ("cun", "village", VILLAGE, "short", "密码至少 10 个字符"),
            ("坏 名", "village", VILLAGE, "long enough!", "用户名"),
            ("zhen01", "township", TOWN, "long enough!", "已存在"),
            ("cun", "mayor", VILLAGE, "long enough!", "角色 'mayor' 不存在"),
        ]:
            with pytest.raises(AccountError, match=why):
                add_user(connection, name, role, scope, password=password)


def test_login_lockout_per_account_and_per_address_and_disabled_accounts(engine):
    with engine.begin() as connection:
        add_user(connection, "xian", "county", COUNTY, password="county secret")
        add_user(connection, "cun01", "village", VILLAGE, password="village secret")
    # authenticate opens its own short transactions (the lockout's reserve and settle steps).
    user, why = authenticate(engine, "xian", "county secret", "10.0.0.1", NOW)
    assert user is not None and user.scope == COUNTY and why == ""
    for minute in range(1, 6):
        assert authenticate(engine, "xian", "wrong", "10.0.0.2", NOW + timedelta(minutes=minute))[0] is None
    # The right password is refused while the account is locked, from any address.
    user, why = authenticate(engine, "xian", "county secret", "10.0.0.9", NOW + timedelta(minutes=6))
    assert user is None and "15 分钟" in why
    with engine.connect() as connection:
        assert not locked_out(connection, "xian", "10.0.0.9", NOW + timedelta(minutes=25))  # the window passed
    assert authenticate(engine, "xian", "county secret", "10.0.0.9", NOW + timedelta(minutes=25))[0]
    # One address trying five names is locked out as an address; another address is not.
    for number in range(5):
        authenticate(engine, f"guess{number}", "x", "10.0.0.66", NOW + timedelta(minutes=30))
    assert authenticate(engine, "cun01", "village secret", "10.0.0.66", NOW + timedelta(minutes=31))[0] is None
    assert authenticate(engine, "cun01", "village secret", "10.0.0.7", NOW + timedelta(minutes=31))[0]
    with engine.begin() as connection:
        change_user(connection, "cun01", enabled=False, actor="admin")
    user, why = authenticate(engine, "cun01", "village secret", "10.0.0.7", NOW + timedelta(minutes=32))
    assert user is None and "停用" in why
    with engine.connect() as connection:
        events = [(e.event, e.user_name) for e in audit_entries(connection, since=NOW - timedelta(minutes=1))]
    assert ("login", "xian") in events and ("login_failed", "guess3") in events
    assert ("user_changed", "admin") in events and events.count(("login_failed", "xian")) == 6


def test_users_and_audit_commands(tmp_path):
    var = tmp_path / "var"
    runner = CliRunner()
    base = ["--var-dir", str(var)]
    (tmp_path / "codes.csv").write_text(
        "code,name\n990199,测试县\n990199001,东镇\n990199001001,甲村\n", encoding="utf-8"
    )
    assert runner.invoke(main, [*base, "geo", "import", str(tmp_path / "codes.csv")]).exit_code == 0
    empty = runner.invoke(main, [*base, "users", "list"])
    assert "新建第一个管理员" in empty.output
    added = runner.invoke(
        main,
        [*base, "users", "add", "admin", "--role", "admin", "--scope", "990199", "--password-stdin"],
        input="a long admin password\n",
    )
    assert added.exit_code == 0 and "已新建用户 admin" in added.output, added.output
    prompted = runner.invoke(
        main, [*base, "users", "add", "cun01", "--role", "village", "--scope", VILLAGE], input="village secret\n" * 2
    )
    assert prompted.exit_code == 0, prompted.output
    refused = runner.invoke(
        main,
        [*base, "users", "add", "x1", "--role", "township", "--scope", VILLAGE, "--password-stdin"],
        input="a long password\n",
    )
    assert refused.exit_code == 1 and "乡镇级用户的范围" in refused.output
    assert runner.invoke(main, [*base, "users", "disable", "cun01"]).exit_code == 0
    listed = runner.invoke(main, [*base, "users", "list"]).output
    assert "cun01" in listed and "（已停用）" in listed and "admin" in listed
    assert "管理员" in listed and "村级" in listed and "本地账号" in listed and " local" not in listed
    reset = runner.invoke(
        main, [*base, "users", "reset-password", "admin", "--password-stdin"], input="another long one\n"
    )
    assert reset.exit_code == 0
    engine = make_engine(f"sqlite:///{var / 'warehouse.db'}")
    assert authenticate(engine, "admin", "another long one", "127.0.0.1")[0] is not None
    with engine.connect() as connection:
        assert get_user(connection, "cun01").enabled is False
    audit = runner.invoke(main, [*base, "audit", "list", "--since", "1h"])
    lines = audit.output.splitlines()
    assert any("账号变更 [user_changed]" in line and "新建用户 admin" in line for line in lines)
    assert any("登录 [login]" in line and "admin" in line and "127.0.0.1" in line for line in lines)
    local_now = datetime.now(UTC).astimezone(BEIJING).strftime("%Y-%m-%d %H")
    assert any(line.startswith(local_now) for line in lines)  # local time, not UTC
    only = runner.invoke(main, [*base, "audit", "list", "--user", "admin", "--event", "login"]).output.splitlines()
    assert len(only) == 1 and "密码登录" in only[0]
    with engine.begin() as connection:  # a detail from a browser holding a newline (an export's filter)
        record(connection, "export", "admin", "127.0.0.1", "CSV 茶叶\n2026-12-07 23:59:59  登录 [login]  adm  伪造")
    exports = runner.invoke(main, [*base, "audit", "list", "--event", "export"]).output.splitlines()
    assert len(exports) == 1 and "茶叶\\n2026-12-07" in exports[0]


def test_the_audit_log_keeps_its_window_and_forgets_what_is_older(engine):
    # Nothing ever left the audit log: a login flood wrote rows for ever. It keeps AUDIT_KEEP_DAYS (at least the
    # 180 days the Cybersecurity Law asks), and etl watch forgets older entries.
    from etl.warehouse.accounts import forget_old_audit
    from etl.warehouse.schema import audit_log

    now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    with engine.begin() as connection:
        for days in (400, 366, 364, 181, 1):
            record(connection, "login", f"u{days}", "10.0.0.1", "密码登录", now - timedelta(days=days))
    with engine.begin() as connection:
        assert forget_old_audit(connection, now, keep_days=365) == 2
    with engine.connect() as connection:
        left = sorted(connection.execute(select(audit_log.c.user_name)).scalars())
    assert left == ["u1", "u181", "u364"]
    with engine.begin() as connection, pytest.raises(ValueError, match="180"):
        forget_old_audit(connection, now, keep_days=90)  # never below the legal minimum
