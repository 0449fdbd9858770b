"""用户管理 for admins: every account with its role and scope, and forms to add one, change its role or scope,
disable or enable it and reset its password (CSRF-checked, audited, only within the admin's own scope)."""

from __future__ import annotations

import flask_login
from flask import Blueprint, Flask, current_app, redirect, request
from flask_wtf.csrf import generate_csrf

from dashboard.auth.html import Markup, error, hidden_csrf, page
from dashboard.auth.login import forget
from dashboard.auth.viewer import address, view_scope
from etl.warehouse.accounts import (
    ROLE_NAMES,
    SOURCE_NAMES,
    AccountError,
    add_user,
    change_user,
    get_user,
    list_users,
    scope_holds,
)
from etl.warehouse.schema import ROLES

admin = Blueprint("admin", __name__)
# The edit form's address: outside /admin/users/<name>, where it had taken the account named "change" (whose row's
# 停用 button then posted to the form and did nothing).
EDIT_PATH = "/admin/user-edit"


def _role_options(selected: str = "viewer") -> Markup:
    return Markup("").join(
        Markup('<option value="{}"{}>{}（{}）</option>').format(
            role, Markup(" selected") if role == selected else "", ROLE_NAMES[role], role
        )
        for role in ROLES
    )


def _row(user, token: str) -> Markup:
    state = "启用" if user.enabled else "已停用"
    toggle = "disable" if user.enabled else "enable"
    return Markup(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>"
        '<form class="inline" method="post" action="/admin/users/{}">{}'
        '<input type="hidden" name="action" value="{}"><button type="submit">{}</button></form>'
        "</td></tr>"
    ).format(
        user.name,
        user.display_name,
        ROLE_NAMES.get(user.role, user.role),
        user.scope,
        SOURCE_NAMES.get(user.source, user.source),
        state,
        user.name,
        hidden_csrf(token),
        toggle,
        "停用" if user.enabled else "启用",
    )


def _page(message: str = "", status: int = 200):
    token = generate_csrf()
    with current_app.config["RURALBRAIN_ENGINE"].connect() as connection:
        accounts = [user for user in list_users(connection) if _manageable(user.scope)]
    rows = Markup("").join(_row(user, token) for user in accounts)
    body = Markup(
        '<nav><a href="/">地图</a><a href="/ops/screens">屏幕运行</a></nav><h1>用户管理</h1>{}'
        "<table><tr><th>用户名</th><th>显示名</th><th>角色</th><th>范围</th><th>来源</th><th>状态</th><th></th></tr>"
        "{}</table>"
        '<h2>新建用户</h2><form method="post" action="/admin/users">{}'
        '<label for="name">用户名</label><input id="name" name="name" required>'
        '<label for="display_name">显示名</label><input id="display_name" name="display_name">'
        '<label for="role">角色</label><select id="role" name="role">{}</select>'
        '<label for="scope">所管区划代码</label><input id="scope" name="scope" required inputmode="numeric">'
        '<label for="password">初始密码（至少 10 个字符）</label><input id="password" name="password" type="password" '
        'autocomplete="new-password" required><button type="submit">新建</button></form>'
        '<h2>修改用户</h2><form method="post" action="{}">{}'
        '<label for="target">用户名</label><input id="target" name="target" required>'
        '<label for="new_role">新角色</label><select id="new_role" name="role">'
        '<option value="">（不变）</option>{}</select>'
        '<label for="new_scope">新范围</label><input id="new_scope" name="scope" inputmode="numeric">'
        '<label for="new_password">新密码</label><input id="new_password" name="password" type="password" '
        'autocomplete="new-password"><input type="hidden" name="action" value="change">'
        '<button type="submit">保存</button></form>'
    ).format(
        error(message), rows, hidden_csrf(token), _role_options(), EDIT_PATH, hidden_csrf(token), _role_options("")
    )
    return page("乡村大脑 · 用户管理", body), status


def _manageable(scope: str) -> bool:
    """Whether the admin of this request manages accounts of that scope (within their own)."""
    return not view_scope() or scope_holds(view_scope(), scope)


@admin.get("/admin/users")
def users_page():
    """Every account the admin manages, and the forms."""
    return _page()


@admin.post("/admin/users")
def add():
    """Create an account from the form."""
    from dashboard.auth.login import csrf

    csrf.protect()
    form = request.form
    if form.get("scope") and not _manageable(form["scope"].strip().ljust(12, "0")):
        return _page("只能在自己的管辖范围内新建用户", 403)
    try:
        with current_app.config["RURALBRAIN_ENGINE"].begin() as connection:
            add_user(
                connection,
                form.get("name", "").strip(),
                form.get("role", ""),
                form.get("scope", "").strip(),
                display_name=form.get("display_name", "").strip() or None,
                password=form.get("password", ""),
                actor=flask_login.current_user.name,
                address=address(),
            )
    except AccountError as problem:
        return _page(str(problem), 400)
    return redirect("/admin/users")


@admin.post("/admin/users/<name>")
def change(name: str):
    """Disable or enable the account of the address (its row's button), or change its role, scope or password:
    whatever its name, ``change`` included."""
    return _changed(name)


@admin.post(EDIT_PATH)
def edit():
    """The edit form: change the role, scope or password of the account it names."""
    return _changed(request.form.get("target", "").strip())


def _changed(target: str):
    """The change the form asks of ``target`` done (CSRF-checked, within the admin's scope), then the page again."""
    from dashboard.auth.login import csrf

    csrf.protect()
    form = request.form
    try:
        with current_app.config["RURALBRAIN_ENGINE"].begin() as connection:
            current = get_user(connection, target)
            if current is None or not _manageable(current.scope):
                raise AccountError(f"用户 {target} 不存在或不在您的管辖范围内")
            new_scope = form.get("scope", "").strip() or None
            if new_scope and not _manageable(new_scope.ljust(12, "0")):
                raise AccountError("只能把用户的范围设在自己的管辖范围内")
            action = form.get("action")
            changes = {"actor": flask_login.current_user.name, "address": address()}
            if action in ("disable", "enable"):
                change_user(connection, target, enabled=action == "enable", **changes)
            else:
                change_user(
                    connection,
                    target,
                    role=form.get("role") or None,
                    scope=new_scope,
                    password=form.get("password") or None,
                    **changes,
                )
    except AccountError as problem:
        return _page(str(problem), 400)
    forget(target)
    return redirect("/admin/users")


def install(server: Flask) -> None:
    """The user management routes (the access guard lets admins alone in)."""
    server.register_blueprint(admin)
