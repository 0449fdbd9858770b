"""Accounts a hostile tester pushed on, on SQLite and PostgreSQL: a single sign-on account is its provider's
(issuer, subject), not the preferred_username anyone at the provider may pick; names differing only in case are one
name (the database refuses the second spelling too); display names hold no control or format characters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from etl.cli import main
from etl.regions import load_hierarchy
from etl.warehouse.accounts import AccountError, add_user, audit_entries, change_user, get_user, sso_account
from etl.warehouse.db import MigrationRefused, make_engine, migrate
from etl.warehouse.schema import users
from geo.hierarchy import HierarchyRead, RegionRecord

COUNTY, TOWN, OTHER_TOWN = "990199000000", "990199001000", "990199002000"
REGIONS = [
    RegionRecord(COUNTY, "测试县", "county", "990100000000"),
    RegionRecord(TOWN, "东镇", "township", COUNTY),
    RegionRecord(OTHER_TOWN, "西镇", "township", COUNTY),
]
IDP, OTHER_IDP = "https://idp.example", "https://other-idp.example"
PASSWORD = "a password long enough"
# What reached the audit log and the user pages as written: a newline forging an audit line, bidi overrides and
# zero-width characters making one name look like another, a bell and a terminal escape, a line separator.
HIDDEN = [
    "李明\n2026-12-07 09:00 login admin 127.0.0.1 密码登录",
    "李明\r伪造",
    "\u202e\u200b假冒",
    "铃\x07",
    "\x1b[31m红",
    "甲\u2028乙",
    "零\u200d宽",
    "\ufeff李明",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    return f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(url):
    engine = make_engine(url)
    migrate(engine)
    load_hierarchy(engine, HierarchyRead(REGIONS, []), source="test")
    yield engine
    engine.dispose()


def raw_user(name: str, **values) -> dict:
    """A users row as written behind add_user's back (what a concurrent request may have inserted meanwhile)."""
    now = datetime.now(UTC)
    row = {"name": name, "display_name": name, "role": "township", "scope": TOWN, "enabled": 1, "source": "local"}
    return row | {"created_at": now, "updated_at": now} | values


def test_a_second_person_with_the_same_preferred_username_gets_no_account(engine):
    with engine.begin() as connection:
        first = sso_account(connection, IDP, "a-111", "li.ming", role="township", scope=TOWN, display_name="李明")
    assert (first.name, first.scope, first.source) == ("li.ming", TOWN, "oidc")
    with engine.begin() as connection, pytest.raises(AccountError, match="li.ming.*另一"):
        sso_account(connection, IDP, "b-222", "li.ming", role="township", scope=OTHER_TOWN, display_name="李明")
    with engine.begin() as connection, pytest.raises(AccountError, match="li.ming.*另一"):
        sso_account(connection, OTHER_IDP, "a-111", "li.ming", role="county", scope=COUNTY, display_name="李明")
    with engine.begin() as connection, pytest.raises(AccountError, match="li.ming.*另一"):
        sso_account(connection, IDP, "c-333", "LI.MING", role="township", scope=OTHER_TOWN, display_name="李明")
    with engine.connect() as connection:
        assert get_user(connection, "li.ming").scope == TOWN  # nobody re-scoped it
    # The same person comes back under another preferred_username: the same account, brought up to date.
    with engine.begin() as connection:
        again = sso_account(connection, IDP, "a-111", "ming.li", role="township", scope=OTHER_TOWN, display_name="李明")
    assert (again.name, again.scope) == ("li.ming", OTHER_TOWN)
    with engine.connect() as connection:
        assert get_user(connection, "ming.li") is None


def test_a_local_account_is_never_taken_and_a_name_from_the_subject_does_not_collide(engine):
    with engine.begin() as connection:
        add_user(connection, "zhen", "township", TOWN, password=PASSWORD)
        add_user(connection, "oidc-u_1", "township", TOWN, password=PASSWORD)
    with engine.begin() as connection, pytest.raises(AccountError, match="本地账号 zhen 已存在"):
        sso_account(connection, IDP, "s-1", "zhen", role="county", scope=COUNTY, display_name="")
    names = set()
    for subject in ("zhen", "Zhen", "u 1", "u/1", "u_1"):  # no preferred_username: the name comes from the subject
        with engine.begin() as connection:
            user = sso_account(connection, IDP, subject, None, role="township", scope=TOWN, display_name="")
        assert user.name not in {"zhen", "oidc-u_1"} and user.source == "oidc", subject
        names.add(user.name)
    assert len(names) == 5  # five people, five accounts
    with engine.connect() as connection:
        assert get_user(connection, "zhen").source == "local" and get_user(connection, "zhen").role == "township"
    with engine.begin() as connection:  # each of them comes back to their own account
        assert sso_account(connection, IDP, "u/1", None, role="township", scope=TOWN, display_name="").name in names
    for subject in ("", "a\nb", "x" * 256):
        with engine.begin() as connection, pytest.raises(AccountError, match="身份"):
            sso_account(connection, IDP, subject, "someone", role="township", scope=TOWN, display_name="")


def test_an_sso_account_from_before_the_subject_was_kept_is_bound_to_its_first_login(engine):
    with engine.begin() as connection:  # made by the previous version: no issuer, no subject
        add_user(connection, "wang", "township", TOWN, source="oidc", actor="oidc")
    with engine.begin() as connection:
        assert (
            sso_account(connection, IDP, "w-1", "wang", role="township", scope=TOWN, display_name="王").name == "wang"
        )
    with engine.begin() as connection, pytest.raises(AccountError, match="另一"):
        sso_account(connection, IDP, "w-2", "wang", role="township", scope=TOWN, display_name="王")
    with engine.connect() as connection:
        bound = connection.execute(select(users.c.oidc_issuer, users.c.oidc_subject).where(users.c.name == "wang"))
        assert tuple(bound.one()) == (IDP, "w-1")
        assert any("绑定" in (entry.detail or "") for entry in audit_entries(connection, user="oidc"))


def test_one_identity_is_one_account_even_written_concurrently(engine):
    with engine.begin() as connection:
        sso_account(connection, IDP, "a-111", "li.ming", role="township", scope=TOWN, display_name="李明")
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(users).values(raw_user("li.ming2", oidc_issuer=IDP, oidc_subject="a-111")))
    with engine.begin() as connection:  # the same subject at another provider is another person
        connection.execute(insert(users).values(raw_user("li.ming3", oidc_issuer=OTHER_IDP, oidc_subject="a-111")))


def test_names_differing_only_in_case_are_one_name(engine):
    with engine.begin() as connection:
        add_user(connection, "zhen", "township", TOWN, password=PASSWORD)
        for twin in ("Zhen", "ZHEN"):
            with pytest.raises(AccountError, match="已存在"):
                add_user(connection, twin, "township", TOWN, password=PASSWORD)
    # What add_user checks, the database holds too: a second spelling written by a concurrent request is refused.
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(users).values(raw_user("ZHEN")))
    with engine.connect() as connection:
        spellings = connection.execute(select(users.c.name).where(text("lower(name) = 'zhen'"))).scalars().all()
    assert spellings == ["zhen"]


def test_display_names_hold_no_control_or_format_characters(engine):
    with engine.begin() as connection:
        user = add_user(connection, "zhen", "township", TOWN, password=PASSWORD, display_name="城关 镇长")
        assert user.display_name == "城关 镇长"
        for shown in [*HIDDEN, "y" * 101]:
            with pytest.raises(AccountError, match="显示名"):
                add_user(connection, "cun", "township", TOWN, password=PASSWORD, display_name=shown)
            with pytest.raises(AccountError, match="显示名"):
                change_user(connection, "zhen", display_name=shown)
        assert get_user(connection, "cun") is None and get_user(connection, "zhen").display_name == "城关 镇长"
    # A provider's claim is not refused but cleaned: the login goes on under a display name of one printable line.
    for number, shown in enumerate([*HIDDEN, "y" * 500]):
        with engine.begin() as connection:
            user = sso_account(
                connection, IDP, f"s-{number}", f"p{number}", role="township", scope=TOWN, display_name=shown
            )
        assert user.display_name.isprintable() and 0 < len(user.display_name) <= 100, repr(user.display_name)
        assert "\u200b" not in user.display_name and "\ufeff" not in user.display_name


def test_the_migration_names_the_accounts_differing_only_in_case_and_cleans_display_names(url):
    # Made by the previous version, which compared names as written: the migration cannot choose which to keep.
    engine = make_engine(url)
    migrate(engine, "0022")
    with engine.begin() as connection:
        forged = raw_user("cun", display_name="x\n2026-12-07 09:00 login admin\u202e")
        connection.execute(insert(users).values([raw_user("zhen"), raw_user("Zhen"), forged]))
    with pytest.raises(MigrationRefused, match="zhen、Zhen|Zhen、zhen"):
        migrate(engine)
    # Any command says so in Chinese, without a traceback, and leaves the warehouse as it was.
    upgraded = CliRunner().invoke(main, ["--warehouse-url", url, "etl", "status"])
    assert (
        upgraded.exit_code == 1
        and "数据仓库无法升级到最新结构" in upgraded.output
        and "Traceback" not in upgraded.output
    )
    with engine.begin() as connection:
        connection.execute(users.update().where(users.c.name == "Zhen").values(name="zhen-2"))
    migrate(engine)
    with engine.connect() as connection:
        assert sorted(connection.execute(select(users.c.name)).scalars()) == ["cun", "zhen", "zhen-2"]
        assert get_user(connection, "cun").display_name == "x 2026-12-07 09:00 login admin"  # one printable line
    engine.dispose()


def test_a_single_sign_on_login_with_the_same_claims_changes_and_audits_nothing(engine):
    """Every SSO login wrote a user_changed entry (角色 …，范围 …；显示名 …) though nothing had changed: the audit log
    of a county with daily logins filled with changes that were none."""
    with engine.begin() as connection:
        sso_account(connection, IDP, "a-111", "li.ming", role="township", scope=TOWN, display_name="李明")
        created = audit_entries(connection, event="user_changed")
        assert len(created) == 1 and "新建用户" in created[0].detail
        for _ in range(3):
            sso_account(connection, IDP, "a-111", "li.ming", role="township", scope=TOWN, display_name="李明")
        assert audit_entries(connection, event="user_changed") == created
        sso_account(connection, IDP, "a-111", "li.ming", role="township", scope=OTHER_TOWN, display_name="李明")
        changed = [entry for entry in audit_entries(connection, event="user_changed") if entry not in created]
    assert len(changed) == 1 and OTHER_TOWN in changed[0].detail and "显示名" not in changed[0].detail
