"""The household's pages as HTML: its points, its 诉求 and their status, the form to send one, 换积分, the village's
notices and the 便民服务; a 诉求's page with its steps and the rating form. Everything from data is escaped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup

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


def _status(status: str, names: dict[str, str]) -> Markup:
    return Markup('<span class="status {}">{}</span>').format(status, names.get(status, status))


def who(household: Household) -> Markup:
    """The page's head: village, 门牌 and 组, the masked head of household."""
    place = " · ".join(part for part in (household.group, household.door_plate) if part) or "门牌未登记"
    head = mask_name(household.head_name) or "—"
    return Markup('<section class="head"><h1>{}</h1><p>{}</p><p>户主 {}</p></section>').format(
        household.village_name, place, head
    )


def _points(view: HouseholdView) -> Markup:
    rows = Markup("").join(
        Markup('<li class="row"><span>{} {}</span><span>{:+d}</span></li>').format(
            _day(entry["time"]), entry["source"], entry["points"]
        )
        for entry in view.entries
    )
    return Markup(
        '<section id="points"><h2>我的积分</h2><div class="big">{}</div>'
        '<p class="small">可用积分（已扣除待确认的兑换）</p>'
        '<ul class="list">{}</ul>{}<a class="button" href="#redeem">去换积分</a></section>'
    ).format(view.balance, rows, EMPTY if rows else Markup('<p class="small">还没有积分记录</p>'))


def _request_form(base: str, csrf: str, key: str, form: dict, message: str) -> Markup:
    chosen = form.get("topic", "")
    options = Markup("").join(
        Markup('<option value="{}"{}>{}</option>').format(topic, Markup(" selected") if topic == chosen else "", label)
        for topic, (label, _category) in TOPICS.items()
    )
    return Markup(
        '<section id="request"><h2>我要反映</h2>{}'
        '<form method="post" action="{}/cases" enctype="multipart/form-data">{}'
        '<input type="hidden" name="key" value="{}">'
        '<label for="topic">类别</label><select id="topic" name="topic" required>'
        '<option value="">请选择</option>{}</select>'
        '<label for="text">说明（村里会看到，公开屏只显示类别）</label>'
        '<textarea id="text" name="text" maxlength="{}" required>{}</textarea>'
        '<label for="photo">照片（可不传）</label><input id="photo" name="photo" type="file" accept="image/*">'
        '<label for="phone">回电号码（可不填）</label>'
        '<input id="phone" name="phone" type="tel" inputmode="tel" maxlength="20" value="{}">'
        '<button type="submit">提交</button></form></section>'
    ).format(
        error(message), base, hidden_csrf(csrf), key, options, TEXT_LONGEST, form.get("text", ""), form.get("phone", "")
    )


def _cases(base: str, cases: list[dict]) -> Markup:
    if not cases:
        return Markup('<section id="mine"><h2>我的诉求</h2><p class="small">还没有提交过诉求</p></section>')
    rows = Markup("").join(
        Markup('<li class="row"><a href="{}/cases/{}">{} {}</a>{}</li>').format(
            base,
            case["case_id"],
            local_text(case["created_at"], "%m-%d"),
            case["title"],
            _status(case["status"], STATUS_NAMES),
        )
        for case in cases
    )
    return Markup('<section id="mine"><h2>我的诉求</h2><ul class="list">{}</ul></section>').format(rows)


def _redeem(base: str, csrf: str, keys: list[str], view: HouseholdView) -> Markup:
    items = Markup("").join(
        Markup(
            '<li class="row"><span>{}<br><span class="small">{}</span></span>'
            '<form class="inline" method="post" action="{}/redemptions">{}'
            '<input type="hidden" name="key" value="{}"><input type="hidden" name="item" value="{}">'
            '<button type="submit"{}>{} 分兑换</button></form></li>'
        ).format(
            item["name"],
            item["note"] or "",
            base,
            hidden_csrf(csrf),
            key,
            item["item_id"],
            EMPTY if item["points"] <= view.balance else Markup(' class="secondary" disabled'),
            item["points"],
        )
        for item, key in zip(view.catalogue, keys, strict=False)
    )
    asked = Markup("").join(
        Markup('<li class="row"><span>{} {}（{} 分）</span>{}</li>').format(
            local_text(entry["requested_at"], "%m-%d"),
            entry["item_name"],
            entry["points"],
            _status(entry["status"], REDEMPTION_NAMES),
        )
        for entry in view.redemptions
    )
    return Markup(
        '<section id="redeem"><h2>换积分</h2>{}<h3>我的兑换</h3>{}'
        '<p class="small">申请后到村委会领取，工作人员确认后扣除积分。</p></section>'
    ).format(
        Markup('<ul class="list">{}</ul>').format(items)
        if items
        else Markup('<p class="small">本村暂未上架兑换物品</p>'),
        Markup('<ul class="list">{}</ul>').format(asked) if asked else Markup('<p class="small">暂无</p>'),
    )


def _notices(base: str, view: HouseholdView) -> Markup:
    rows = []
    for notice in view.notices:
        amount = (
            Markup("<p>{} {:,.2f} 元（{}）</p>").format(notice["direction"], notice["amount"], notice["period"] or "")
            if notice["amount"] is not None
            else EMPTY
        )
        files = Markup("").join(
            Markup('<li><a href="{}/files/{}">{}</a></li>').format(base, item["file_id"], item["name"])
            for item in view.attachments.get(notice["id"], [])
        )
        rows.append(
            Markup(
                '<li><details><summary>【{}】{} <span class="small">{}</span></summary>{}<p>{}</p>{}</details></li>'
            ).format(
                notice["kind"],
                notice["title"],
                _day(notice["time"]),
                amount,
                notice["body"] or "",
                Markup("<ul>{}</ul>").format(files) if files else EMPTY,
            )
        )
    body = (
        Markup('<ul class="list">{}</ul>').format(Markup("").join(rows))
        if rows
        else Markup('<p class="small">暂无</p>')
    )
    return Markup('<section id="notices"><h2>村务公开</h2>{}</section>').format(body)


def _services(services: list[tuple[str, str]]) -> Markup:
    if not services:
        return EMPTY
    links = Markup("").join(
        Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(url, label) for label, url in services
    )
    return Markup('<section id="services"><h2>便民服务</h2><div class="services">{}</div></section>').format(links)


def household_page(
    base: str, view: HouseholdView, csrf: str, keys: list[str], form: dict | None = None, message: str = ""
) -> str:
    """The household's page; ``keys``: a fresh idempotency key for the request form and each catalogue item."""
    body = Markup("").join(
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
    return phone_page(f"{view.household.village_name} · 一户一码", body)


def case_page(
    base: str, household: Household, case: dict, steps: list[dict], photos: list[dict], csrf: str, message: str = ""
) -> str:
    """One 诉求 of the household: what was sent, each step with its note, and the rating form once it is closed."""
    timeline = Markup("").join(
        Markup('<li><span class="small">{}</span> {}{}</li>').format(
            local_text(step["at"]),
            EVENT_NAMES.get(step["kind"], step["kind"]),
            Markup("：{}").format(step["note"]) if step["note"] else EMPTY,
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
        "<p>{}</p>{}</section><section><h2>办理进度</h2><ul>{}</ul></section>{}"
        '<p><a class="button secondary" href="{}#mine">返回首页</a></p>'
    ).format(
        who(household),
        error(message),
        case["title"],
        _status(case["status"], STATUS_NAMES),
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
