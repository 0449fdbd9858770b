"""The household's pages as HTML: its points, its 诉求 and their status, the form to send one, 换积分, the village's
notices and the 便民服务; a 诉求's page with its steps and the rating form. Everything from data is escaped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup, escape

from dashboard.auth.html import error, hidden_csrf
from dashboard.household.shell import phone_page
from dashboard.privacy import mask_name
from etl.warehouse.household_tokens import Household
from etl.warehouse.intake import LOCAL, local_text
from etl.warehouse.intake_cases import EVENT_NAMES, STATUS_NAMES, TEXT_LONGEST, TOPICS
from etl.warehouse.intake_points import STATUS_NAMES as REDEMPTION_NAMES

EMPTY = Markup("")


@dataclass
class HouseholdView:
    """Everything the household's page shows."""

    household: Household
    balance: int = 0
    entries: list[dict] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)
    notices: list[dict] = field(default_factory=list)
    attachments: dict[str, list[dict]] = field(default_factory=dict)
    catalogue: list[dict] = field(default_factory=list)
    redemptions: list[dict] = field(default_factory=list)
    services: list[tuple[str, str]] = field(default_factory=list)


def _day(moment: datetime | None) -> str:
    return f"{moment.astimezone(LOCAL):%m-%d}" if moment else ""


# The household's page is the hot path (a village's phones at once): it is written with f-strings over escape(),
# which is several times faster than Markup.format; every value from data goes through e().
e = escape


def _status(status: str, names: dict[str, str]) -> str:
    return f'<span class="status {e(status)}">{e(names.get(status, status))}</span>'


def who(household: Household) -> Markup:
    """The page's head: village, 门牌 and 组, the masked head of household."""
    place = " · ".join(part for part in (household.group, household.door_plate) if part) or "门牌未登记"
    head = mask_name(household.head_name) or "—"
    return Markup(
        f'<section class="head"><h1>{e(household.village_name)}</h1><p>{e(place)}</p><p>户主 {e(head)}</p></section>'
    )


def _points(view: HouseholdView) -> str:
    rows = "".join(
        f'<li class="row"><span><span class="date">{e(_day(entry["time"]))}</span> {e(entry["source"])}</span>'
        f"<span>{int(entry['points']):+d}</span></li>"
        for entry in view.entries
    )
    empty = "" if rows else '<p class="small">还没有积分记录</p>'
    return (
        f'<section id="points"><h2>我的积分</h2><div class="big">{int(view.balance)}</div>'
        f'<p class="small">可用积分（已扣除待确认的兑换）</p><ul class="list">{rows}</ul>{empty}'
        '<a class="button" href="#redeem">去换积分</a></section>'
    )


def _request_form(base: str, csrf: str, key: str, form: dict, message: str) -> str:
    chosen = form.get("topic", "")
    options = "".join(
        f'<option value="{e(topic)}"{" selected" if topic == chosen else ""}>{e(label)}</option>'
        for topic, (label, _category) in TOPICS.items()
    )
    return (
        f'<section id="request"><h2>我要反映</h2>{error(message)}'
        f'<form method="post" action="{e(base)}/cases" enctype="multipart/form-data">{hidden_csrf(csrf)}'
        f'<input type="hidden" name="key" value="{e(key)}">'
        '<label for="topic">类别</label><select id="topic" name="topic" required>'
        f'<option value="">请选择</option>{options}</select>'
        '<label for="text">说明（村里会看到，公开屏只显示类别）</label>'
        f'<textarea id="text" name="text" maxlength="{TEXT_LONGEST}" required>{e(form.get("text", ""))}</textarea>'
        '<label for="photo">照片（可不传）</label><input id="photo" name="photo" type="file" accept="image/*">'
        '<label for="phone">回电号码（可不填）</label>'
        f'<input id="phone" name="phone" type="tel" inputmode="tel" maxlength="20" value="{e(form.get("phone", ""))}">'
        '<button type="submit">提交</button></form></section>'
    )


def _cases(base: str, cases: list[dict]) -> str:
    if not cases:
        return '<section id="mine"><h2>我的诉求</h2><p class="small">还没有提交过诉求</p></section>'
    rows = "".join(
        f'<li class="row"><a href="{e(base)}/cases/{e(case["case_id"])}">'
        f'<span class="date">{e(local_text(case["created_at"], "%m-%d"))}</span> '
        f"{e(case['title'])}</a>{_status(case['status'], STATUS_NAMES)}</li>"
        for case in cases
    )
    return f'<section id="mine"><h2>我的诉求</h2><ul class="list">{rows}</ul></section>'


def _redeem(base: str, csrf: str, keys: list[str], view: HouseholdView) -> str:
    token = hidden_csrf(csrf)
    items = "".join(
        f'<li class="row"><span>{e(item["name"])}<br><span class="small">{e(item["note"] or "")}</span></span>'
        f'<form class="inline" method="post" action="{e(base)}/redemptions">{token}'
        f'<input type="hidden" name="key" value="{e(key)}">'
        f'<input type="hidden" name="item" value="{e(item["item_id"])}">'
        f'<button type="submit"{"" if item["points"] <= view.balance else " class=secondary disabled"}>'
        f"{int(item['points'])} 分兑换</button></form></li>"
        for item, key in zip(view.catalogue, keys, strict=False)
    )
    asked = "".join(
        f'<li class="row"><span><span class="date">{e(local_text(entry["requested_at"], "%m-%d"))}</span> '
        f"{e(entry['item_name'])}"
        f"（{int(entry['points'])} 分）<br><span class=small>编号 {e(entry['redemption_id'])}</span></span>"
        f"{_status(entry['status'], REDEMPTION_NAMES)}</li>"
        for entry in view.redemptions
    )
    offered = f'<ul class="list">{items}</ul>' if items else '<p class="small">本村暂未上架兑换物品</p>'
    mine = f'<ul class="list">{asked}</ul>' if asked else '<p class="small">暂无</p>'
    return (
        f'<section id="redeem"><h2>换积分</h2>{offered}<h3>我的兑换</h3>{mine}'
        '<p class="small">申请后到村委会领取，工作人员确认后扣除积分。</p></section>'
    )


def _notice(base: str, notice: dict, files: list[dict]) -> str:
    amount = (
        f"<p>{e(notice['direction'])} {notice['amount']:,.2f} 元（{e(notice['period'] or '')}）</p>"
        if notice["amount"] is not None
        else ""
    )
    links = "".join(f'<li><a href="{e(base)}/files/{e(item["file_id"])}">{e(item["name"])}</a></li>' for item in files)
    return (
        f'<li><details><summary class="text">【{e(notice["kind"])}】{e(notice["title"])} <span class="small date">'
        f"{e(_day(notice['time']))}</span></summary>{amount}"
        f'<p class="text">{e(notice["body"] or "")}</p>'
        f"{f'<ul>{links}</ul>' if links else ''}</details></li>"
    )


def _notices(base: str, view: HouseholdView) -> str:
    rows = "".join(_notice(base, notice, view.attachments.get(notice["id"], [])) for notice in view.notices)
    body = f'<ul class="list">{rows}</ul>' if rows else '<p class="small">暂无</p>'
    return f'<section id="notices"><h2>村务公开</h2>{body}</section>'


def _services(services: list[tuple[str, str]]) -> str:
    if not services:
        return ""
    links = "".join(f'<a href="{e(url)}" rel="noopener noreferrer">{e(label)}</a>' for label, url in services)
    return f'<section id="services"><h2>便民服务</h2><div class="services">{links}</div></section>'


def household_page(
    base: str, view: HouseholdView, csrf: str, keys: list[str], form: dict | None = None, message: str = ""
) -> str:
    """The household's page; ``keys``: a fresh idempotency key for the request form and each catalogue item."""
    body = "".join(
        [
            who(view.household),
            _points(view),
            _request_form(base, csrf, keys[0], form or {}, message),
            _cases(base, view.cases),
            _redeem(base, csrf, keys[1:], view),
            _notices(base, view),
            _services(view.services),
        ]
    )
    return phone_page(f"{view.household.village_name} · 一户一码", Markup(body))


def case_page(
    base: str, household: Household, case: dict, steps: list[dict], photos: list[dict], csrf: str, message: str = ""
) -> str:
    """One 诉求 of the household: what was sent, each step with its note, and the rating form once it is closed."""
    timeline = Markup("").join(
        Markup('<li><span class="small">{}</span> {}{}</li>').format(
            local_text(step["at"]),
            EVENT_NAMES.get(step["kind"], step["kind"]),
            Markup('：<span class="text">{}</span>').format(step["note"]) if step["note"] else EMPTY,
        )
        for step in steps
    )
    pictures = Markup("").join(
        Markup('<img class="photo" src="{}/files/{}" alt="诉求照片">').format(base, item["file_id"]) for item in photos
    )
    rating = EMPTY
    if case["status"] == "closed":
        stars = Markup("").join(
            Markup('<label><input type="radio" name="score" value="{}" required> {} 分</label>').format(n, n)
            for n in range(5, 0, -1)
        )
        rating = Markup(
            '<section><h2>请为办理结果打分</h2><form method="post" action="{}/cases/{}/rating">{}'
            '<div class="stars">{}</div><button type="submit">提交评价</button></form></section>'
        ).format(base, case["case_id"], hidden_csrf(csrf), stars)
    elif case["status"] == "rated":
        rating = Markup('<section><p class="ok">您已评价：{} 分，谢谢！</p></section>').format(case["satisfaction"])
    body = Markup(
        '{}{}<section><div class="row"><h2>{}</h2>{}</div><p class="small">编号 {} · {} 提交 · 办理时限 {}</p>'
        '<p class="text">{}</p>{}</section><section><h2>办理进度</h2><ul>{}</ul></section>{}'
        '<p><a class="button secondary" href="{}#mine">返回首页</a></p>'
    ).format(
        who(household),
        error(message),
        case["title"],
        Markup(_status(case["status"], STATUS_NAMES)),
        case["case_id"],
        local_text(case["created_at"]),
        local_text(case["due_at"]),
        case["text"],
        pictures,
        timeline,
        rating,
        base,
    )
    return phone_page(f"诉求 {case['case_id']}", body)
