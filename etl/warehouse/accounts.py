"""Accounts and the audit log: users with a role and a region scope, Argon2 passwords, lockout after repeated
failures (counted from the audit log, so every worker and host agrees), and audit entries."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from etl.warehouse.db import as_utc
from etl.warehouse.schema import ROLES, audit_log, regions, users
from geo.codes import CodeError, level_of, normalize_code, scope_range

NAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
DISPLAY_MAX = 100
# What a display name must not hold: control characters (a newline in one forged lines of `audit list`), format
# characters (bidi overrides reorder what follows them, zero-width ones hide that two names differ), surrogates,
# and line and paragraph separators.
HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")
IDENTITY_MAX = 255  # an issuer's or a subject's length (OpenID Connect: a subject of at most 255 ASCII characters)
PASSWORD_MIN = 10
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
# The level a role's scope must be at: a township's cadres see a township, a village clerk a village.
ROLE_LEVELS = {"county": ("province", "city", "county"), "township": ("township",), "village": ("village",)}
ROLE_NAMES = {"admin": "管理员", "county": "县级", "township": "乡镇级", "village": "村级", "viewer": "只读"}
SOURCE_NAMES = {"local": "本地账号", "oidc": "统一身份认证"}
EVENT_NAMES = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出登录",
    "scope_violation": "越权访问",
    "forbidden": "无权操作",
    "export": "导出",
    "user_changed": "账号变更",
    "household_code": "签发户码",
}
_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """An account operation that cannot be done; the message says why, in Chinese."""


@dataclass(frozen=True)
class User:
    """Who is looking: a login name, how to greet them, their role and the region they see."""

    name: str
    display_name: str
    role: str
    scope: str
    enabled: bool = True
    source: str = "local"
    session_epoch: int = 0  # a session begun at another epoch is over (end_sessions)

    @property
    def is_admin(self) -> bool:
        """Whether the user manages users and sees the operations pages."""
        return self.role == "admin"

    @property
    def may_export(self) -> bool:
        """Whether the user may take data out (exports); a viewer only looks."""
        return self.role != "viewer"


def _user(row) -> User:
    return User(row.name, row.display_name, row.role, row.scope, bool(row.enabled), row.source, row.session_epoch or 0)


def checked_name(name: str) -> str:
    """A login name as given, or AccountError."""
    if not NAME.match(name or ""):
        raise AccountError(f"用户名 '{name}' 不合规：2–64 个字母、数字或 _ . @ -")
    return name


def checked_display_name(text: str) -> str:
    """A display name as given, outer spaces trimmed, or AccountError: one printable line of at most DISPLAY_MAX
    characters."""
    text = (text or "").strip()
    if any(unicodedata.category(char) in HIDDEN_CATEGORIES for char in text):
        raise AccountError("显示名不能含换行、控制字符或不可见的格式字符（如方向控制符、零宽字符）")
    if len(text) > DISPLAY_MAX:
        raise AccountError(f"显示名最多 {DISPLAY_MAX} 个字符")
    return text


def cleaned_display_name(text: str) -> str:
    """A display name from elsewhere (an ID token's claim) made fit: hidden characters dropped, every run of
    whitespace one space, at most DISPLAY_MAX characters. A provider's odd claim is no reason to refuse a login."""
    visible = "".join(" " if char.isspace() else char for char in str(text or ""))
    visible = "".join(char for char in visible if unicodedata.category(char) not in HIDDEN_CATEGORIES)
    return " ".join(visible.split())[:DISPLAY_MAX]


def checked_scope(connection: Connection, role: str, scope: str) -> str:
    """The 12-digit code of a scope that suits the role and names a region of the warehouse, or AccountError."""
    if role not in ROLES:
        raise AccountError(f"角色 '{role}' 不存在（可选：{'、'.join(ROLES)}）")
    try:
        code = normalize_code(scope)
    except CodeError as error:
        raise AccountError(f"范围 {error}") from None
    known = connection.execute(select(regions.c.name).where(regions.c.code == code)).scalar()
    if known is None:
        raise AccountError(f"范围 {code} 不是数据仓库中的区划（先用 ruralbrain geo import 导入区划）")
    allowed = ROLE_LEVELS.get(role)
    if allowed and level_of(code) not in allowed:
        raise AccountError(f"{ROLE_NAMES[role]}用户的范围应是{'或'.join(allowed)}级区划，{code}（{known}）不是")
    return code


def checked_password(password: str) -> str:
    """A password long enough, or AccountError."""
    if len(password or "") < PASSWORD_MIN:
        raise AccountError(f"密码至少 {PASSWORD_MIN} 个字符")
    return password


def add_user(
    connection: Connection,
    name: str,
    role: str,
    scope: str,
    *,
    display_name: str | None = None,
    password: str | None = None,
    source: str = "local",
    identity: tuple[str, str] | None = None,
    actor: str | None = None,
    address: str | None = None,
) -> User:
    """Create an account (a local one needs a password; a single sign-on one may carry its (issuer, subject)
    ``identity``); audited as user_changed."""
    name = checked_name(name)
    display_name = checked_display_name(display_name or "") or name
    scope = checked_scope(connection, role, scope)
    existing = get_user_folded(connection, name)
    if existing is not None:
        same = "" if existing.name == name else f"（{existing.name}：用户名不区分大小写）"
        raise AccountError(f"用户 {name} 已存在{same}")
    if source == "local":
        checked_password(password or "")
    now = datetime.now(UTC)
    issuer, subject = identity or (None, None)
    try:
        connection.execute(
            insert(users).values(
                name=name,
                display_name=display_name,
                role=role,
                scope=scope,
                enabled=1,
                password_hash=_hasher.hash(password) if password else None,
                source=source,
                created_at=now,
                updated_at=now,
                oidc_issuer=issuer,
                oidc_subject=subject,
            )
        )
    except IntegrityError:  # a concurrent request added this name (in any case) or this identity a moment ago
        raise AccountError(f"用户 {name} 已存在（刚被同时新建）") from None
    record(connection, "user_changed", actor, address, f"新建用户 {name}：角色 {role}，范围 {scope}")
    return get_user(connection, name)


def get_user(connection: Connection, name: str) -> User | None:
    """The account of that name, or None."""
    row = connection.execute(select(users).where(users.c.name == name)).first()
    return _user(row) if row else None


def get_user_folded(connection: Connection, name: str) -> User | None:
    """The account whose name is ``name`` in any case (zhen for Zhen), or None."""
    row = connection.execute(select(users).where(func.lower(users.c.name) == name.lower())).first()
    return _user(row) if row else None


def list_users(connection: Connection) -> list[User]:
    """Every account, by name."""
    return [_user(row) for row in connection.execute(select(users).order_by(users.c.name))]


def change_user(
    connection: Connection,
    name: str,
    *,
    role: str | None = None,
    scope: str | None = None,
    display_name: str | None = None,
    enabled: bool | None = None,
    password: str | None = None,
    actor: str | None = None,
    address: str | None = None,
) -> User:
    """Change what is given of an account; audited as user_changed (never with the password)."""
    current = get_user(connection, name)
    if current is None:
        raise AccountError(f"用户 {name} 不存在")
    values: dict = {}
    changes = []
    # What is given as it already is changes nothing and is not audited (a single sign-on login restates its claims).
    if role is not None or scope is not None:
        new_role = role or current.role
        new_scope = checked_scope(connection, new_role, scope or current.scope)
        if (new_role, new_scope) != (current.role, current.scope):
            values.update(role=new_role, scope=new_scope)
            changes.append(f"角色 {new_role}，范围 {new_scope}")
    if display_name is not None:
        shown = checked_display_name(display_name) or name
        if shown != current.display_name:
            values["display_name"] = shown
            changes.append(f"显示名 {shown}")
    if enabled is not None:
        values["enabled"] = int(enabled)
        changes.append("启用" if enabled else "停用")
    if password is not None:
        values["password_hash"] = _hasher.hash(checked_password(password))
        changes.append("重设密码")
    if password is not None or enabled is False:  # whoever held a session of it (a stolen cookie too) is out
        values["session_epoch"] = NEXT_EPOCH
    if not values:
        return current
    values["updated_at"] = datetime.now(UTC)
    connection.execute(update(users).where(users.c.name == name).values(**values))
    record(connection, "user_changed", actor, address, f"用户 {name}：{'；'.join(changes)}")
    return get_user(connection, name)


NEXT_EPOCH = func.coalesce(users.c.session_epoch, 0) + 1


def end_sessions(connection: Connection, name: str) -> None:
    """End every session of an account (a logout: a copy of its cookie must not go on working)."""
    connection.execute(update(users).where(users.c.name == name).values(session_epoch=NEXT_EPOCH))


# --- Single sign-on: an account is its person's (issuer, subject) at the provider, never the preferred_username
# a provider lets anyone pick (or gives again to the next person of that name).


def checked_identity(issuer: str, subject: str) -> tuple[str, str]:
    """An ID token's (issuer, subject) as given, or AccountError: both present, printable, of at most IDENTITY_MAX
    characters."""
    for part, what in ((issuer, "认证服务器（iss）"), (subject, "用户标识（sub）")):
        if not part or len(part) > IDENTITY_MAX or not part.isprintable():
            raise AccountError(f"统一身份认证的身份无效：{what}缺失或不合规")
    return issuer, subject


def user_of_identity(connection: Connection, issuer: str, subject: str) -> User | None:
    """The account bound to a single sign-on identity, or None."""
    bound = users.c.oidc_issuer == issuer, users.c.oidc_subject == subject
    row = connection.execute(select(users).where(*bound)).first()
    return _user(row) if row else None


def sso_account(
    connection: Connection,
    issuer: str,
    subject: str,
    preferred: str | None,
    *,
    role: str,
    scope: str,
    display_name: str,
    address: str | None = None,
) -> User:
    """The account of a single sign-on identity, brought up to date from its claims (role, scope, display name) or
    created under its preferred_username; AccountError when that name is a local account or another identity's, or
    the account is disabled."""
    issuer, subject = checked_identity(issuer, subject)
    display = cleaned_display_name(display_name)
    user = user_of_identity(connection, issuer, subject)
    if user is None:
        name, user = _unbound_name(connection, issuer, subject, preferred, address)
    if user is None:
        identity = (issuer, subject)
        fields = {"display_name": display or name, "source": "oidc", "identity": identity, "address": address}
        return add_user(connection, name, role, scope, actor="oidc", **fields)
    if not user.enabled:
        raise AccountError("账号已停用，请联系管理员")
    fields = {"role": role, "scope": scope, "display_name": display or user.name, "address": address}
    return change_user(connection, user.name, actor="oidc", **fields)


def _unbound_name(
    connection: Connection, issuer: str, subject: str, preferred: str | None, address: str | None
) -> tuple[str, User | None]:
    """(the name of a new account for an identity no account is bound to, None), or (its name, the account) for an
    SSO account made before identities were kept, now bound to this one. A preferred_username another account holds
    is refused; a name made from the subject takes the next form until one is free."""
    preferred = preferred if preferred and NAME.match(preferred) else None
    candidates = [preferred] if preferred else _subject_names(issuer, subject)
    for number, candidate in enumerate(candidates):
        taken = get_user_folded(connection, candidate)
        if taken is None:
            return candidate, None
        if number == 0 and _bind(connection, taken, candidate, issuer, subject, address):
            return candidate, taken
        if preferred:
            raise AccountError(_taken_why(taken))
    raise AccountError("无法为该统一身份认证用户分配用户名，请联系管理员")


def _taken_why(user: User) -> str:
    """Why a preferred_username an account holds is refused, in Chinese."""
    if user.source != "oidc":
        return f"本地账号 {user.name} 已存在，不能经统一身份认证登录"
    return f"账号 {user.name} 已属于统一身份认证的另一用户，不能以此身份登录；如确为本人，请联系管理员"


def _subject_names(issuer: str, subject: str) -> list[str]:
    """Names for a person whose provider gives no usable preferred_username, best first: the subject when it is a
    name (as before), oidc- and the subject with what a name cannot hold replaced, then that with a digest of the
    identity (two subjects differing only where replaced, in case or past the 64th character are two people)."""
    safe = re.sub(r"[^A-Za-z0-9_.@-]", "_", subject)
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:12]
    return ([subject] if NAME.match(subject) else []) + [f"oidc-{safe}"[:64], f"oidc-{safe[:45]}-{digest}"]


def _bind(connection: Connection, user: User, name: str, issuer: str, subject: str, address: str | None) -> bool:
    """Whether ``user`` is the SSO account called exactly ``name`` made before identities were kept, now bound to the
    identity of its first login since (the previous version kept nothing to know its person by)."""
    if user.name != name or user.source != "oidc":
        return False
    unbound = users.c.name == user.name, users.c.oidc_subject.is_(None)
    bound = connection.execute(
        update(users).where(*unbound).values(oidc_issuer=issuer, oidc_subject=subject, updated_at=datetime.now(UTC))
    )
    if bound.rowcount != 1:
        return False
    record(connection, "user_changed", "oidc", address, f"用户 {user.name}：绑定统一身份认证身份 {issuer} {subject}")
    return True


def locked_out(connection: Connection, name: str, address: str | None, now: datetime | None = None) -> bool:
    """Whether logins are refused for now: LOCKOUT_FAILURES failures within LOCKOUT_WINDOW for this account
    (since its last successful login) or from this address."""
    now = now or datetime.now(UTC)
    since = now - LOCKOUT_WINDOW
    last_login = connection.execute(
        select(func.max(audit_log.c.at)).where(audit_log.c.event == "login", audit_log.c.user_name == name)
    ).scalar()
    account_since = max(since, as_utc(last_login)) if last_login else since
    failures = select(func.count()).select_from(audit_log).where(audit_log.c.event == "login_failed")
    by_account = connection.execute(
        failures.where(audit_log.c.user_name == name, audit_log.c.at > account_since)
    ).scalar_one()
    by_address = (
        connection.execute(failures.where(audit_log.c.address == address, audit_log.c.at > since)).scalar_one()
        if address
        else 0
    )
    return by_account >= LOCKOUT_FAILURES or by_address >= LOCKOUT_FAILURES


# The detail of a login's reserved attempt: a failure until it is settled, so a request killed during the
# verification (or a crashed worker) still counts against the account and the address.
ATTEMPT = "登录校验中（未完成即按失败计）"
LOCKED = "已锁定：15 分钟内失败次数过多"
# PostgreSQL's advisory locks of the reserve step, (key space, key): one per account name and one per address.
_LOGIN_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:space), hashtext(:key))")


@contextmanager
def _login_transaction(engine: Engine, name: str | None = None, address: str | None = None) -> Iterator[Connection]:
    """A short transaction of its own, whatever ``engine`` is (the screens' engine autocommits): on SQLite with
    the write lock from its start (BEGIN IMMEDIATE), on PostgreSQL holding the advisory locks of the account
    name and of the address when given (the account's first, always: two logins never deadlock)."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if not sqlite:
            connection.execution_options(isolation_level="READ COMMITTED")
        with connection.begin():
            if sqlite:
                driver = connection.connection.driver_connection
                if not driver.in_transaction:
                    driver.execute("BEGIN IMMEDIATE")
            else:
                if name is not None:
                    connection.execute(_LOGIN_LOCK, {"space": "ruralbrain:login:account", "key": name})
                if address:
                    connection.execute(_LOGIN_LOCK, {"space": "ruralbrain:login:address", "key": address})
            yield connection


def authenticate(
    engine: Engine, name: str, password: str, address: str | None, now: datetime | None = None
) -> tuple[User | None, str]:
    """(the user, "") for a right name and password of an enabled account not locked out, else (None, why).
    Every outcome is audited; a wrong name costs as much time as a wrong password.

    Concurrent logins cannot outrun the lockout: a short transaction, under a lock per account and address
    (SQLite's write lock), counts the recent failures and, unless they reach LOCKOUT_FAILURES, reserves the
    attempt as a failure (ATTEMPT) before anything is verified; Argon2 then runs outside any lock or
    transaction, and a second short transaction settles the attempt (a success turns it into the login). An
    attempt never settled stays a failure. ``engine`` is used for transactions of its own: do not call this
    while holding a write transaction on an SQLite warehouse."""
    name = (name or "").strip()[:64]
    with _login_transaction(engine, name, address) as connection:
        now = now or datetime.now(UTC)
        if locked_out(connection, name, address, now):
            record(connection, "login_failed", name, address, LOCKED, now)
            return None, "登录失败次数过多，请 15 分钟后再试"
        row = connection.execute(select(users).where(users.c.name == name)).first()
        attempt = record(connection, "login_failed", name, address, ATTEMPT, now)
    try:
        _hasher.verify(row.password_hash if row is not None and row.password_hash else _DUMMY, password or "")
        right = row is not None and row.password_hash is not None
    except (VerificationError, InvalidHashError):
        right = False
    if not right:
        _settle(engine, attempt, "login_failed", "用户名或密码错误")
        return None, "用户名或密码错误"
    if not row.enabled:
        _settle(engine, attempt, "login_failed", "账号已停用")
        return None, "账号已停用，请联系管理员"
    values = {"last_login_at": now}
    if _hasher.check_needs_rehash(row.password_hash):
        values["password_hash"] = _hasher.hash(password)
    if not _settle_login(engine, attempt, row, values):
        return None, "账号刚被管理员更改，请重新登录"
    return _user(row), ""


def _settle(engine: Engine, attempt: int, event: str, detail: str) -> None:
    """Give a reserved attempt its outcome."""
    with _login_transaction(engine) as connection:
        connection.execute(update(audit_log).where(audit_log.c.id == attempt).values(event=event, detail=detail))


def _settle_login(engine: Engine, attempt: int, row, values: dict) -> bool:
    """Settle a right password as the login and write the account's ``values``, unless an administrator changed its
    password or disabled it while Argon2 ran: then the attempt stays a failure (the login had written the old
    password's rehash back over the new one, and opened a session of a disabled account). Whether it logged in."""
    with _login_transaction(engine) as connection:
        unchanged = users.c.name == row.name, users.c.password_hash == row.password_hash, users.c.enabled == 1
        logged_in = connection.execute(update(users).where(*unchanged).values(**values)).rowcount == 1
        outcome = ("login", "密码登录") if logged_in else ("login_failed", "验证密码时账号被更改")
        connection.execute(
            update(audit_log).where(audit_log.c.id == attempt).values(event=outcome[0], detail=outcome[1])
        )
    return logged_in


def record(
    connection: Connection,
    event: str,
    user_name: str | None,
    address: str | None,
    detail: str | None = None,
    at: datetime | None = None,
) -> int:
    """Add an entry to the audit log; its id."""
    added = connection.execute(
        insert(audit_log).values(
            at=at or datetime.now(UTC),
            event=event[:32],
            user_name=(user_name or None) and user_name[:64],
            address=(address or None) and address[:64],
            detail=detail,
        )
    )
    return added.inserted_primary_key[0]


# The least the audit log keeps: China's Cybersecurity Law asks network logs be kept at least six months.
AUDIT_LEAST_DAYS = 180


def forget_old_audit(connection: Connection, now: datetime, keep_days: int) -> int:
    """Delete the audit entries older than ``keep_days`` (AUDIT_KEEP_DAYS, never below AUDIT_LEAST_DAYS); how
    many."""
    if keep_days < AUDIT_LEAST_DAYS:
        raise ValueError(f"审计日志至少保存 {AUDIT_LEAST_DAYS} 天（AUDIT_KEEP_DAYS = {keep_days}）")
    gone = connection.execute(delete(audit_log).where(audit_log.c.at < now - timedelta(days=keep_days)))
    return gone.rowcount or 0


def audit_entries(
    connection: Connection,
    *,
    user: str | None = None,
    since: datetime | None = None,
    event: str | None = None,
    limit: int = 100,
) -> list:
    """The newest audit entries, optionally of one user, one event, since a time."""
    conditions = []
    if user:
        conditions.append(audit_log.c.user_name == user)
    if since:
        conditions.append(audit_log.c.at >= since)
    if event:
        conditions.append(audit_log.c.event == event)
    query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit)
    if conditions:
        query = query.where(and_(*conditions))
    return connection.execute(query).all()


def scope_holds(scope: str, code: str) -> bool:
    """Whether a region code lies within a scope (the scope's region or below it)."""
    low, high = _range(scope)
    return low <= code <= high


@lru_cache(maxsize=4096)
def _range(scope: str) -> tuple[str, str]:
    """A scope's code range, remembered: every query of a logged-in request asks it."""
    return scope_range(scope)
