"""The plain server-rendered pages of the login flow and user management: a Chinese shell readable on a phone,
no script at all (they work under the CSP), every value from data escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

STYLE = """
body{margin:0;font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;background:#0b1a2b;color:#e6f0fa}
main{max-width:960px;margin:0 auto;padding:24px 16px}
h1{font-size:22px;margin:0 0 16px}h2{font-size:18px;margin:24px 0 8px}
.card{background:#12283f;border-radius:8px;padding:20px;max-width:420px;margin:8vh auto 0}
label{display:block;margin:12px 0 4px;font-size:15px}
input,select{width:100%;box-sizing:border-box;padding:10px;font-size:16px;border-radius:4px;border:1px solid #355;
background:#0b1a2b;color:#e6f0fa}
button,.button{margin-top:16px;padding:10px 18px;font-size:16px;border:0;border-radius:4px;background:#1f8ef1;
color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
.error{color:#ff8a80;margin:8px 0}.note{color:#9fb3c8;font-size:14px}
table{border-collapse:collapse;width:100%;font-size:14px}th,td{border-bottom:1px solid #234;padding:6px;text-align:left}
.inline{display:inline}.inline button{margin:0 4px 0 0;padding:4px 10px;font-size:13px}
main.wide{max-width:none}nav{margin-bottom:12px}a{color:#9fd0ff}nav a{margin-right:12px}
.scroll{overflow-x:auto;max-width:100%}.nowrap{white-space:nowrap}.code{color:#9fb3c8;font-size:12px}
.filters{display:flex;flex-wrap:wrap;gap:0 12px;align-items:flex-end;margin-bottom:12px}
.filters>div{flex:1 1 10em;max-width:20em}
.alerts td{vertical-align:top}.alerts .name{min-width:7em}.alerts .prose{min-width:14em}.alerts .act{min-width:16em}
.alerts form.inline{display:flex;gap:4px;margin:0 0 4px}.alerts form.inline input{flex:1;min-width:9em;padding:6px;
font-size:14px}.alerts form.inline button{flex:none;margin:0}
@media print{body{background:#fff;color:#000}}
"""


def page(title: str, body: Markup | str, status_note: str = "", wide: bool = False) -> str:
    """A whole page: the title, the body (already escaped Markup), an optional note; ``wide`` for a table that
    takes a desktop's whole width (on a phone it scrolls in a ``scroll`` box of its own)."""
    note = Markup('<p class="note">{}</p>').format(status_note) if status_note else ""
    return str(
        Markup(
            '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'  # no favicon request: the login page is all a browser asks for
            "<title>{}</title><style>{}</style></head><body><main{}>{}{}</main></body></html>"
        ).format(title, Markup(STYLE), Markup(' class="wide"') if wide else "", body, note)
    )


def hidden_csrf(token: str) -> Markup:
    """The form field that carries the CSRF token."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)


def error(message: str) -> Markup:
    """An error line (escaped)."""
    return Markup('<p class="error">{}</p>').format(message) if message else Markup("")


__all__ = ["Markup", "error", "escape", "hidden_csrf", "page"]
