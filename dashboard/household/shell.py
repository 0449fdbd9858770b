"""The plain HTML shell of the household's phone pages and the office: Chinese, readable from 360 px up, no script
(the essentials are forms and links), every value from data escaped by Markup.format."""

from __future__ import annotations

from markupsafe import Markup

STYLE = """
*{box-sizing:border-box}body{margin:0;font:16px/1.6 "Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
background:#f3f5f7;color:#1d2733}main{max-width:720px;margin:0 auto;padding:12px}main.wide{max-width:1100px}
h1{font-size:20px;margin:4px 0}h2{font-size:18px;margin:0 0 8px}h3{font-size:16px;margin:8px 0 4px}
section,.card{background:#fff;border-radius:10px;padding:14px;margin:12px 0;box-shadow:0 1px 2px #0001}
.head{background:#0a6e5c;color:#fff}.head p{margin:0;opacity:.9}.big{font-size:34px;font-weight:700;color:#0a6e5c}
label{display:block;margin:10px 0 4px;font-weight:600}
input,select,textarea{width:100%;font:inherit;padding:10px;border:1px solid #b8c2cc;border-radius:6px;background:#fff}
textarea{min-height:110px}button,.button{display:inline-block;margin-top:12px;padding:11px 18px;font:inherit;
border:0;border-radius:6px;background:#0a6e5c;color:#fff;text-decoration:none;cursor:pointer}
.secondary{background:#5b6b7a}.small{font-size:14px;color:#5b6b7a}.error{color:#b3261e;font-weight:600}
.ok{color:#0a6e5c;font-weight:600}ul.list{list-style:none;margin:0;padding:0}
ul.list li{border-bottom:1px solid #e3e8ed;padding:8px 0}ul.list li:last-child{border:0}
.status{display:inline-block;padding:0 8px;border-radius:10px;font-size:14px;background:#e3e8ed}
.received{background:#fff1c2}.in_progress{background:#d7e9ff}.closed,.rated,.confirmed{background:#d4f2e4}
.rejected{background:#fde2e0}.requested{background:#fff1c2}.overdue{color:#b3261e}
.row{display:flex;justify-content:space-between;gap:8px;align-items:center;flex-wrap:wrap}
.services{display:grid;grid-template-columns:repeat(auto-fill,minmax(96px,1fr));gap:8px}
.services a{display:block;text-align:center;padding:12px 4px;border-radius:8px;background:#e8f4f1;color:#0a6e5c;
text-decoration:none;font-weight:600}details summary{cursor:pointer}img.photo{max-width:100%;border-radius:6px}
.stars{display:flex;gap:4px;flex-wrap:wrap}.stars label{font-weight:400;margin:0;padding:6px 10px;border:1px solid
#b8c2cc;border-radius:6px}.stars input{width:auto}form.inline{display:inline}nav a{margin-right:12px;color:#0a6e5c}
table{border-collapse:collapse;width:100%;font-size:15px}th,td{border-bottom:1px solid #e3e8ed;padding:6px;
text-align:left;vertical-align:top}.text{white-space:pre-wrap;overflow-wrap:anywhere}.date{white-space:nowrap}
"""


def phone_page(title: str, body: Markup | str, back: str | None = None, wide: bool = False) -> str:
    """A whole page: the title and the body (escaped Markup, or text that is escaped here); ``wide`` for the
    office's tables on a desktop."""
    link = Markup('<p><a class="button secondary" href="{}">返回</a></p>').format(back) if back else ""
    if not isinstance(body, Markup):
        body = Markup("<section><h1>{}</h1><p>{}</p>{}</section>").format(title, body, link)
    return str(
        Markup(
            '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">'
            "<title>{}</title><style>{}</style></head><body><main{}>{}</main></body></html>"
        ).format(title, Markup(STYLE), Markup(' class="wide"') if wide else "", body)
    )
