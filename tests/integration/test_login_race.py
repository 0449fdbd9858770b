"""Lockout against concurrent guesses, on SQLite and the real PostgreSQL: many wrong-password logins at once for
one account (or from one address) get LOCKOUT_FAILURES Argon2 verifications between them, not one each (through
the login page as the dashboard's workers meet them, and through authenticate on a transactional engine); an
attempt that never finished counts as a failure; Argon2 runs outside every lock and transaction."""

from __future__ import annotations

import re
import threading
from functools import partial

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from dashboard.app import create_app
from etl.regions import load_hierarchy
from etl.warehouse import accounts
from etl.warehouse.accounts import LOCKOUT_FAILURES, add_user, audit_entries, authenticate, locked_out
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.schema import audit_log
from etl.warehouse.settings import Settings
from geo.hierarchy import HierarchyRead, RegionRecord

pytestmark = pytest.mark.integration
HTTPS = "https://localhost"
COUNTY, TOWN, VILLAGE = "990199000000", "990199001000", "990199001001"
REGIONS = [
    RegionRecord(COUNTY, "测试县", "county", "990100000000"),
    RegionRecord(TOWN, "东镇", "township", COUNTY),
    RegionRecord(VILLAGE, "甲村", "village", TOWN),
]
PASSWORD = "county secret"
GUESSES = 30


class CountingHasher(PasswordHasher):
    """Argon2 as it is, counting the verifications (each one is a guess the attacker got evaluated); ``during``,
    when set, runs inside each verification, before the hash is checked."""

    def __init__(self):
        super().__init__()
        self.verified = 0
        self.during = None
        self._lock = threading.Lock()

    def verify(self, hash, password):  # noqa: A002 - PasswordHasher's own parameter name
        with self._lock:
            self.verified += 1
        if self.during is not None:
            self.during()
        return super().verify(hash, password)


class Killed(BaseException):
    """A request ended in the middle of its verification (a worker killed, a timeout)."""


def at_once(calls: list) -> list:
    """Make the calls each in a thread of its own, released together; their answers, or the exception each raised."""
    count = len(calls)
    start = threading.Barrier(count, timeout=60)
    answers: list = []

    def run(number: int) -> None:
        start.wait()
        try:
            answers.append(calls[number]())
        except Exception as error:  # noqa: BLE001 - the test looks at what each thread met
            answers.append(error)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.fixture
def hasher(monkeypatch):
    counting = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", counting)
    return counting


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """A warehouse with the test county and an account ``xian``, on SQLite (a file) and on PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    load_hierarchy(engine, HierarchyRead(REGIONS, []), source="test")
    with engine.begin() as connection:
        add_user(connection, "xian", "county", COUNTY, password=PASSWORD)
    engine.dispose()
    return url


def failures(engine, detail: str) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).where(audit_log.c.event == "login_failed", audit_log.c.detail == detail)
        ).scalar_one()


@pytest.mark.parametrize("autocommit", [False, True], ids=["transactional", "autocommit"])
def test_concurrent_wrong_passwords_for_one_account_get_five_verifications(url, hasher, autocommit):
    engine = make_engine(url, autocommit=autocommit)
    answers = at_once(
        [partial(authenticate, engine, "xian", f"guess {number}", f"10.1.0.{number}") for number in range(GUESSES)]
    )
    assert all(isinstance(answer, tuple) and answer[0] is None for answer in answers), answers
    assert hasher.verified == LOCKOUT_FAILURES
    assert sorted(why for _, why in answers) == sorted(
        ["用户名或密码错误"] * LOCKOUT_FAILURES + ["登录失败次数过多，请 15 分钟后再试"] * (GUESSES - LOCKOUT_FAILURES)
    )
    assert failures(engine, "用户名或密码错误") == LOCKOUT_FAILURES and failures(engine, accounts.ATTEMPT) == 0
    # Locked: the right password is refused as well, and not even verified.
    assert authenticate(engine, "xian", PASSWORD, "10.3.0.1") == (None, "登录失败次数过多，请 15 分钟后再试")
    assert hasher.verified == LOCKOUT_FAILURES
    engine.dispose()


def test_an_attempt_that_never_finished_counts_as_a_failure(url, hasher):
    # A request killed while Argon2 ran (after its attempt was reserved) cannot be used to guess for free.
    engine = make_engine(url)

    def killed():
        raise Killed

    hasher.during = killed
    for number in range(LOCKOUT_FAILURES):
        with pytest.raises(Killed):
            authenticate(engine, "xian", f"guess {number}", f"10.4.0.{number}")
    hasher.during = None
    assert failures(engine, accounts.ATTEMPT) == LOCKOUT_FAILURES
    with engine.connect() as connection:
        assert locked_out(connection, "xian", None)
    assert authenticate(engine, "xian", PASSWORD, "10.4.0.99") == (None, "登录失败次数过多，请 15 分钟后再试")
    assert hasher.verified == LOCKOUT_FAILURES
    engine.dispose()


def test_argon2_runs_outside_every_lock_and_a_success_settles_its_attempt(url, hasher):
    # Two logins of the same account verify at the same moment: neither holds a lock (PostgreSQL's advisory
    # lock, SQLite's write lock) while it hashes, and the warehouse takes writes meanwhile.
    engine = make_engine(url)
    inside = threading.Barrier(2, timeout=30)

    def meet():
        inside.wait()
        with engine.begin() as connection:  # another writer, while both verifications are under way
            accounts.record(connection, "export", "someone", "10.5.0.9", "导出")

    hasher.during = meet
    answers = at_once([partial(authenticate, engine, "xian", PASSWORD, f"10.5.0.{number}") for number in range(2)])
    assert all(isinstance(answer, tuple) and answer[0] is not None for answer in answers), answers
    with engine.connect() as connection:
        entries = [(entry.event, entry.detail) for entry in audit_entries(connection, user="xian")]
    assert entries == [("login", "密码登录")] * 2  # the reserved attempts became the logins, no failure left
    engine.dispose()


@pytest.mark.parametrize("change", [{"password": "a brand new secret"}, {"enabled": False}])
def test_an_account_changed_while_its_password_is_verified_does_not_log_in(url, hasher, change):
    # An administrator's reset or disabling that landed during Argon2 was written over: the login wrote the old
    # password's rehash back, or opened a session of the disabled account.
    engine = make_engine(url)

    def administrator():
        hasher.during = None
        with engine.begin() as connection:
            accounts.change_user(connection, "xian", actor="admin", **change)

    hasher.during = administrator
    assert authenticate(engine, "xian", PASSWORD, "10.6.0.1") == (None, "账号刚被管理员更改，请重新登录")
    with engine.connect() as connection:
        entries = [(entry.event, entry.detail) for entry in audit_entries(connection, user="xian")]
    assert ("login_failed", "验证密码时账号被更改") in entries and ("login", "密码登录") not in entries
    if "password" in change:
        assert authenticate(engine, "xian", "a brand new secret", "10.6.0.2")[0] is not None
        assert authenticate(engine, "xian", PASSWORD, "10.6.0.3") == (None, "用户名或密码错误")
    engine.dispose()


def login_form(app, name: str, password: str, address: str):
    """A client of the app with the login form filled in (its CSRF token from the login page), ready to post."""
    client = app.server.test_client()
    form = client.get(f"{HTTPS}/login").get_data(as_text=True)
    data = {"name": name, "password": password, "next": "/"}
    data["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', form)[1]
    return lambda: client.post(f"{HTTPS}/login", data=data, environ_base={"REMOTE_ADDR": address})


def test_concurrent_wrong_logins_through_the_login_page_get_five_verifications(url, tmp_path, hasher):
    # The dashboard's own engine (it autocommits) and route, as gunicorn's workers and threads run it.
    app = create_app(Settings.load(var_dir=str(tmp_path / "var"), warehouse_url=url))
    # One account from many addresses (a botnet), then many names from one address (a scan).
    for name, address in [(lambda n: "xian", lambda n: f"10.1.0.{n}"), (lambda n: f"guess{n}", lambda n: "10.2.0.1")]:
        hasher.verified = 0
        posts = [login_form(app, name(number), f"guess {number}", address(number)) for number in range(GUESSES)]
        answers = [(answer.status_code, answer.get_data(as_text=True)) for answer in at_once(posts)]
        assert len(answers) == GUESSES and all(status == 401 for status, _ in answers)
        assert hasher.verified == LOCKOUT_FAILURES, "every concurrent guess was evaluated, not five"
        assert sum("用户名或密码错误" in body for _, body in answers) == LOCKOUT_FAILURES
        assert sum("15 分钟" in body for _, body in answers) == GUESSES - LOCKOUT_FAILURES

    engine = app.server.config["RURALBRAIN_ENGINE"]
    assert failures(engine, "用户名或密码错误") == 2 * LOCKOUT_FAILURES
    # Locked: the right password is refused too, without an Argon2 verification.
    hasher.verified = 0
    locked = login_form(app, "xian", PASSWORD, "10.3.0.1")()
    assert locked.status_code == 401 and "15 分钟" in locked.get_data(as_text=True)
    assert hasher.verified == 0
    engine.dispose()
