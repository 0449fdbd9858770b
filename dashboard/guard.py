"""What every request must be before the app reads it: a body of at most 64 KB, and a Dash callback request of
the shape Dash's protocol has (else 400 with the reason instead of a 500 from deep inside Dash); errors as JSON in
Chinese, or a Chinese page when a browser asked for a page."""

from __future__ import annotations

import functools

import dash
from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from dashboard.auth.html import Markup, page
from dashboard.validate import refuse

# nginx (data/deploy) sets this on every request it passes: 1 from the operations network, 0 from anywhere else.
# The ops page is drawn through the callback path, which nginx cannot tell apart, so the app checks it too. A
# request without it did not come through nginx: gunicorn listens on loopback (HOST), so it came from the host.
OPS_HEADER = "X-RuralBrain-Ops"
# A screen sends heartbeats and callback requests of a few hundred bytes; nothing on the screens uploads.
MAX_BODY = 64 * 1024
# Routes that take a photo or attachments, each with its own cap (their blueprints add them); all others: MAX_BODY.
UPLOAD_ROUTES: dict[str, int] = {}
CALLBACK_PATH = "/_dash-update-component"
# The page router Dash adds (dash.page_container): its inputs are the address bar's path and query.
PAGES_ROUTER = "_pages_content.children"
MESSAGES = {
    400: "请求无效",
    401: "请先登录",
    403: "无权执行此操作",
    404: "没有找到",
    405: "不支持此请求方式",
    413: f"请求体超过 {MAX_BODY // 1024} KB",
    429: "请求过多，请稍后再试",
    500: "服务器出错，请稍后再试",
    503: "服务暂时不可用，请稍后再试",
}


def _entries(body: dict, key: str) -> list:
    """The flat list of input, state or output entries of a callback request (pattern-matching ones are lists;
    a callback with one output names it alone)."""
    entries = body.get(key, [])
    if key == "outputs" and isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list) or (key == "outputs" and not entries):
        refuse(f"回调请求的 {key} 应为列表")
    flat = []
    for entry in entries:
        flat += entry if isinstance(entry, list) else [entry]
    for entry in flat:
        if not isinstance(entry, dict) or not isinstance(entry.get("property"), str) or "id" not in entry:
            refuse(f"回调请求的 {key} 项应含 id 与 property")
        if not isinstance(entry["id"], (str, dict)):
            refuse(f"回调请求的 {key} 项 id 格式不正确")
    return flat


def from_operations() -> bool:
    """Whether this request may see the operations pages (/ops/…, /readyz): see OPS_HEADER."""
    return request.headers.get(OPS_HEADER, "1") == "1"


def check_callback_request(app: dash.Dash) -> None:
    """Refuse (400) a callback request that is not a JSON object naming a known callback with well-formed inputs."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        refuse("回调请求应为 JSON 对象")
    output = body.get("output")
    if not isinstance(output, str) or output not in app.callback_map:
        refuse("回调请求的 output 不是本应用的回调")
    _entries(body, "outputs")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(item, str) for item in changed):
        refuse("回调请求的 changedPropIds 应为字符串列表")
    inputs = _entries(body, "inputs")
    _entries(body, "state")
    if PAGES_ROUTER in output and not all(isinstance(e.get("value"), (str, type(None))) for e in inputs):
        refuse("页面地址应为文本")


def install(app: dash.Dash) -> None:
    """Cap request bodies, check callback requests before Dash dispatches them, and answer errors in Chinese."""
    server: Flask = app.server
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY

    @server.before_request
    def _refuse_large_bodies():
        # Before anything reads the body: a declared length over the cap is refused unread (chunked bodies
        # are cut at the cap by MAX_CONTENT_LENGTH while they are read).
        cap = UPLOAD_ROUTES.get(request.url_rule.rule, MAX_BODY) if request.url_rule else MAX_BODY
        request.max_content_length = cap
        if request.content_length is not None and request.content_length > cap:
            raise RequestEntityTooLarge()

    dispatch = server.view_functions[CALLBACK_PATH]

    @functools.wraps(dispatch)
    def checked_dispatch(*args, **kwargs):
        check_callback_request(app)
        return dispatch(*args, **kwargs)

    server.view_functions[CALLBACK_PATH] = checked_dispatch

    def answer(error: HTTPException):
        reason = error.description if error.description != type(error).description else MESSAGES[error.code]
        allow = {key: value for key, value in error.get_headers() if key in ("Allow", "Retry-After")}
        browsing = request.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html"
        if browsing and request.path != CALLBACK_PATH:
            return error_page(MESSAGES[error.code], reason), error.code, allow
        return jsonify(error=reason), error.code, allow

    for code in MESSAGES:
        server.register_error_handler(code, answer)


def error_page(title: str, reason: str) -> str:
    """A Chinese page for a browser whose request was refused or failed: what happened, and the ways on."""
    said = Markup("<p>{}</p>").format(reason) if reason != title else ""  # a bare 404 says 没有找到 once
    body = Markup(
        '<div class="card"><h1>{}</h1>{}<p><a href="/login">登录</a> · <a href="/">首页</a></p></div>'
    ).format(title, said)
    return page(f"乡村大脑 · {title}", body)
