"""The village office's pages as HTML: the 诉求 queue and a case with its action form, notices, 民主议事 and 民主监督,
redemptions and the catalogue; the township's queue of escalated cases. Everything from data is escaped."""

from __future__ import annotations

from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from dashboard.auth.html import error, hidden_csrf
from dashboard.household.shell import phone_page
from dashboard.privacy import mask_name
from etl.warehouse.intake import LOCAL, local_text
from etl.warehouse.intake_cases import ACTION_NAMES, ACTIONS, ESCALATION_NAMES, EVENT_NAMES, STATUS_NAMES
from etl.warehouse.intake_notices import DIRECTIONS, KINDS
from etl.warehouse.intake_points import ITEM_STATUSES
from etl.warehouse.intake_records import FORMS, MATTER_STATUSES, SOURCES, SUBJECTS
from etl.warehouse.intake_records import ITEM_STATUSES as SUPERVISION_STATUSES

EMPTY = Markup("")
NAV = Markup(
    '<nav><a href="/office">诉求办理</a><a href="/office/notices">村务公开</a><a href="/office/records">议事与监督</a>'
    '<a href="/office/points">积分兑换</a></nav>'
)


def _options(choices: dict[str, str], chosen: str = "") -> Markup:
    return Markup("").join(
        Markup('<option value="{}"{}>{}</option>').format(key, Markup(" selected") if key == chosen else "", label)
        for key, label in choices.items()
    )


def _shell(title: str, who: str, body: Markup, message: str = "", done: str = "") -> str:
    logout = Markup(
        '<form class="inline" method="post" action="/logout">{}<button class="secondary">退出</button></form>'
    ).format(hidden_csrf(generate_csrf()))
    head = Markup('<section class="head"><div class="row"><h1>{}</h1><span>{}</span></div></section>').format(
        title, who
    )
    note = Markup('<p class="ok">{}</p>').format(done) if done else EMPTY
    return phone_page(title, Markup("{}{}{}{}{}{}").format(head, NAV, error(message), note, body, logout), wide=True)


def _status(status: str) -> Markup:
    return Markup('<span class="status {}">{}</span>').format(status, STATUS_NAMES.get(status, status))


def case_rows(found: list[dict], now_text: str) -> Markup:
    """A table of intake cases, each linking to its page."""
    rows = Markup("").join(
        Markup(
            '<tr><td><a href="/office/cases/{}">{}</a></td><td>{}</td><td>{}</td><td class="{}">{}</td><td>{}</td>'
            "<td>{}</td></tr>"
        ).format(
            case["case_id"],
            case["case_id"],
            case["title"],
            local_text(case["created_at"]),
            "overdue" if case["status"] in ("received", "in_progress") and case["due_at"] < now_text else "",
            local_text(case["due_at"]),
            _status(case["status"]),
            ESCALATION_NAMES.get(case["escalation"], case["escalation"]),
        )
        for case in found
    )
    if not rows:
        return Markup('<p class="small">暂无</p>')
    return Markup(
        "<table><tr><th>编号</th><th>类别</th><th>提交</th><th>时限</th><th>状态</th><th>办理层级</th></tr>{}</table>"
    ).format(rows)


def home(who: str, open_cases: list[dict], done_cases: list[dict], now_text: str, message: str = "") -> str:
    """A village clerk's queue: open 诉求 (the oldest due first) and the latest closed."""
    body = Markup("<section><h2>待办诉求</h2>{}</section><section><h2>近期办结</h2>{}</section>").format(
        case_rows(open_cases, now_text), case_rows(done_cases, now_text)
    )
    return _shell("村务办公", who, body, message)


def township_home(who: str, queue: list[dict]) -> str:
    """A township cadre's queue: open cases its villages escalated (from every channel)."""
    rows = Markup("").join(
        Markup(
            '<tr><td>{}</td><td>{}</td><td>{}</td><td class="text">{}</td><td class="{}">{}</td><td>{}</td>'
            "<td>{}</td></tr>"
        ).format(
            Markup('<a href="/office/cases/{}">{}</a>').format(entry["case_id"], entry["case_id"])
            if entry["channel"] == "qr_code"
            else entry["case_id"],
            entry["village"],
            entry["title"] or "",
            entry["text"] or "",
            "overdue" if entry["overdue"] else "",
            f"{entry['due_at'].astimezone(LOCAL):%Y-%m-%d %H:%M}" if entry["due_at"] else "",
            _status(entry["status"]),
            "二维码" if entry["channel"] == "qr_code" else (entry["channel"] or ""),
        )
        for entry in queue
    )
    table = (
        Markup(
            "<table><tr><th>编号</th><th>村</th><th>类别</th><th>内容</th>"
            "<th>时限</th><th>状态</th><th>渠道</th></tr>{}</table>"
        ).format(rows)
        if rows
        else Markup('<p class="small">暂无上报乡镇的诉求</p>')
    )
    return _shell("乡镇待办", who, Markup("<section><h2>各村上报的诉求</h2>{}</section>").format(table))


def case_page(
    who: str,
    case: dict,
    household,
    steps: list[dict],
    photos: list[dict],
    csrf: str,
    message="",
    *,
    role: str = "village",
    form: dict | None = None,
) -> str:
    """One case: what the household sent, its steps, and the form for the next step (``role``: the viewer's level,
    which escalates only a case at its level; ``form``: the values a refused step sent, drawn back into it)."""
    form = form or {}
    timeline = Markup("").join(
        Markup("<li>{} {} {}{}</li>").format(
            local_text(step["at"]),
            EVENT_NAMES.get(step["kind"], step["kind"]),
            step["actor"] or "",
            Markup('：<span class="text">{}</span>').format(step["note"]) if step["note"] else EMPTY,
        )
        for step in steps
    )
    pictures = Markup("").join(
        Markup('<img class="photo" src="/office/files/{}" alt="诉求照片">').format(item["file_id"]) for item in photos
    )
    possible = {action: ACTION_NAMES[action] for action, spec in ACTIONS.items() if case["status"] in spec[0]}
    if case["escalation"] != role:
        possible.pop("escalate", None)
    form = (
        Markup(
            '<section><h2>办理</h2><form method="post" action="/office/cases/{}">{}'
            '<label for="action">操作</label><select id="action" name="action">{}</select>'
            '<label for="note">说明（进展、办结、上报时必填）</label>'
            '<textarea id="note" name="note" maxlength="500">{}</textarea>'
            '<button type="submit">提交</button></form></section>'
        ).format(case["case_id"], hidden_csrf(csrf), _options(possible, form.get("action", "")), form.get("note", ""))
        if possible
        else EMPTY
    )
    place = " · ".join(part for part in (household.group, household.door_plate) if part) if household else ""
    body = Markup(
        '<section><div class="row"><h2>{} {}</h2>{}</div><p class="small">提交 {} · 时限 {} · 办理层级 {}</p>'
        '<p class="text">{}</p>{}<p>户：{} {} · 回电 {}</p>{}</section>'
        "<section><h2>办理记录</h2><ul>{}</ul></section>{}"
    ).format(
        case["case_id"],
        case["title"],
        _status(case["status"]),
        local_text(case["created_at"]),
        local_text(case["due_at"]),
        ESCALATION_NAMES.get(case["escalation"], ""),
        case["text"],
        pictures,
        place or "门牌未登记",
        mask_name(household.head_name) if household else "",
        case["callback_phone"] or "未留",
        Markup("<p>满意度：{} 分</p>").format(case["satisfaction"]) if case["satisfaction"] else EMPTY,
        timeline,
        form,
    )
    return _shell(f"诉求 {case['case_id']}", who, body, message)


def _open(is_open: bool) -> Markup:
    return Markup(" open") if is_open else EMPTY


def notices_page(
    who: str, notices: list[dict], files: dict, csrf: str, message: str = "", done: str = "", form: dict | None = None
) -> str:
    """The form to publish a notice (``form``: the values a refused one sent, drawn back into it), and what the
    village published."""
    form = form or {}
    rows = Markup("").join(
        Markup("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>").format(
            local_text(notice["published_at"]),
            KINDS.get(notice["kind"], notice["kind"]),
            notice["title"],
            Markup("、").join(
                Markup('<a href="/office/files/{}">{}</a>').format(item["file_id"], item["name"])
                for item in files.get(notice["notice_id"], [])
            ),
        )
        for notice in notices
    )
    body = Markup(
        '<section><h2>发布公开</h2><form method="post" action="/office/notices" enctype="multipart/form-data">{}'
        '<label for="kind">类别</label><select id="kind" name="kind">{}</select>'
        '<label for="title">标题</label><input id="title" name="title" maxlength="200" value="{}" required>'
        '<label for="body">正文</label><textarea id="body" name="body" maxlength="5000">{}</textarea>'
        "<fieldset><legend>财务公开（收支明细时填写）</legend>"
        '<label for="direction">收支</label><select id="direction" name="direction">'
        '<option value=""></option>{}</select>'
        '<label for="amount">金额（元）</label><input id="amount" name="amount" inputmode="decimal" value="{}">'
        '<label for="period">所属期间（如 2026-12）</label>'
        '<input id="period" name="period" maxlength="7" value="{}"></fieldset>'
        '<label for="files">附件（图片或 PDF，最多 3 个，每个不超过 10 MB）{}</label>'
        '<input id="files" name="files" type="file" multiple accept="image/*,application/pdf">'
        '<button type="submit">发布</button></form></section>'
        "<section><h2>已发布</h2><table><tr><th>时间</th><th>类别</th>"
        "<th>标题</th><th>附件</th></tr>{}</table></section>"
    ).format(
        hidden_csrf(csrf),
        _options(KINDS, form.get("kind", "")),
        form.get("title", ""),
        form.get("body", ""),
        _options(DIRECTIONS, form.get("direction", "")),
        form.get("amount", ""),
        form.get("period", ""),
        # A browser never draws chosen files back into a form.
        Markup('<span class="error">（请重新选择附件）</span>') if form.get("files") else EMPTY,
        rows,
    )
    return _shell("村务公开", who, body, message, done)


def _matter_form(csrf: str, matter: dict | None = None) -> Markup:
    matter = matter or {}
    action = "/office/records"
    return Markup(
        '<form method="post" action="{}">{}<input type="hidden" name="record" value="matter">'
        '<input type="hidden" name="id" value="{}">'
        '<label>议题</label><input name="title" maxlength="200" value="{}" required>'
        '<label>议事形式</label><select name="form">{}</select><label>状态</label><select name="status">{}</select>'
        '<label>参与人数</label><input name="participants" inputmode="numeric" value="{}">'
        '<label>赞成票</label><input name="votes_for" inputmode="numeric" value="{}">'
        '<label>反对票</label><input name="votes_against" inputmode="numeric" value="{}">'
        '<label>结果</label><textarea name="outcome" maxlength="2000">{}</textarea>'
        '<button type="submit">保存</button></form>'
    ).format(
        action,
        hidden_csrf(csrf),
        matter.get("matter_id", ""),
        matter.get("title", ""),
        _options(FORMS, matter.get("form", "")),
        _options(MATTER_STATUSES, matter.get("status", "")),
        matter.get("participants") if matter.get("participants") is not None else "",
        matter.get("votes_for") if matter.get("votes_for") is not None else "",
        matter.get("votes_against") if matter.get("votes_against") is not None else "",
        matter.get("outcome") or "",
    )


MATTER_FIELDS = ("title", "form", "status", "participants", "votes_for", "votes_against", "outcome")


def _item_form(csrf: str, item: dict) -> Markup:
    """The reply form of a 民主监督 item."""
    return Markup(
        '<form method="post" action="/office/records">{}'
        '<input type="hidden" name="record" value="item"><input type="hidden" name="id" value="{}">'
        '<label>状态</label><select name="status">{}</select><label>答复</label>'
        '<textarea name="reply" maxlength="2000">{}</textarea>'
        '<button type="submit">保存</button></form>'
    ).format(hidden_csrf(csrf), item["item_id"], _options(SUPERVISION_STATUSES, item["status"]), item["reply"] or "")


def records_page(
    who: str, matters: list[dict], items: list[dict], csrf: str, message="", done="", form: dict | None = None
) -> str:
    """民主议事 and 民主监督: the forms for new ones and each one's record with its update form; ``form``: the values
    a refused form sent, drawn back (and opened) in the form that sent them."""
    form = form or {}
    record, sent_id = form.get("record"), form.get("id", "")
    matter_sent = {key: form.get(key, "") for key in MATTER_FIELDS} if record == "matter" else {}
    item_sent = {key: form.get(key, "") for key in ("subject", "source", "title", "status", "reply")}
    if record != "item":
        item_sent = {}
    matter_list = Markup("").join(
        Markup('<li><details{}><summary>{} {}（{}）</summary><div class="text">{}</div>{}</details></li>').format(
            _open(record == "matter" and sent_id == matter["matter_id"]),
            local_text(matter["started_at"], "%Y-%m-%d"),
            matter["title"],
            MATTER_STATUSES.get(matter["status"], matter["status"]),
            matter["outcome"] or "",
            _matter_form(csrf, {**matter, **matter_sent} if sent_id == matter["matter_id"] else matter),
        )
        for matter in matters
    )
    item_list = Markup("").join(
        Markup('<li><details{}><summary>{} 【{}】{}（{}）</summary><div class="text">{}</div>{}</details></li>').format(
            _open(record == "item" and sent_id == item["item_id"]),
            local_text(item["raised_at"], "%Y-%m-%d"),
            SUBJECTS.get(item["subject"], item["subject"]),
            item["title"],
            SUPERVISION_STATUSES.get(item["status"], item["status"]),
            item["reply"] or "",
            _item_form(csrf, {**item, **item_sent} if sent_id == item["item_id"] else item),
        )
        for item in items
    )
    new_item = item_sent if not sent_id else {}
    body = Markup(
        '<section><h2>民主议事</h2><details{}><summary>新建议题</summary>{}</details><ul class="list">{}</ul></section>'
        "<section><h2>民主监督</h2><details{}><summary>新建监督事项</summary>"
        '<form method="post" action="/office/records">{}'
        '<input type="hidden" name="record" value="item"><label>监督事项</label><select name="subject">{}</select>'
        '<label>提出方</label><select name="source">{}</select><label>内容</label>'
        '<input name="title" maxlength="200" value="{}" required><label>状态</label><select name="status">{}</select>'
        '<label>答复</label><textarea name="reply" maxlength="2000">{}</textarea><button type="submit">保存</button>'
        '</form></details><ul class="list">{}</ul></section>'
    ).format(
        _open(record == "matter" and not sent_id),
        _matter_form(csrf, matter_sent if not sent_id else None),
        matter_list,
        _open(record == "item" and not sent_id),
        hidden_csrf(csrf),
        _options(SUBJECTS, new_item.get("subject", "")),
        _options(SOURCES, new_item.get("source", "")),
        new_item.get("title", ""),
        _options(SUPERVISION_STATUSES, new_item.get("status", "")),
        new_item.get("reply", ""),
        item_list,
    )
    return _shell("议事与监督", who, body, message, done)


def _asker(entry: dict) -> Markup:
    """Who asked for a redemption, as the clerk hands the goods over: 组, 门牌 and the masked head of household."""
    place = " · ".join(part for part in (entry.get("village_group"), entry.get("door_plate")) if part)
    head = mask_name(entry.get("head_name")) or ""
    return Markup("{}{}").format(place or "门牌未登记", Markup("<br>户主 {}").format(head) if head else EMPTY)


def _decision_forms(entry: dict, csrf: str, form: dict) -> Markup:
    """Two forms: 确认兑换 alone (no text, so Enter cannot send it with a reason), 不通过 with its required reason
    (Enter in the reason box declines)."""
    redemption_id = entry["redemption_id"]
    note = form.get("note", "") if form.get("what") == "decide" and form.get("id") == redemption_id else ""
    return Markup(
        '<form class="inline" method="post" action="/office/points">{}<input type="hidden" name="what" value="decide">'
        '<input type="hidden" name="id" value="{}"><button name="decision" value="confirm">确认兑换</button></form>'
        '<form method="post" action="/office/points">{}<input type="hidden" name="what" value="decide">'
        '<input type="hidden" name="id" value="{}"><input type="hidden" name="decision" value="reject">'
        '<input name="note" value="{}" placeholder="不通过的理由" maxlength="200" required aria-label="不通过的理由">'
        '<button class="secondary" type="submit">不通过</button></form>'
    ).format(hidden_csrf(csrf), redemption_id, hidden_csrf(csrf), redemption_id, note)


def points_page(
    who: str, waiting: list[dict], items: list[dict], csrf: str, message="", done="", form: dict | None = None
) -> str:
    """Redemption requests to confirm or decline, and the village's catalogue with its edit forms; ``form``: the
    values a refused form sent, drawn back into it."""
    form = form or {}
    requests = Markup("").join(
        Markup("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>").format(
            entry["redemption_id"],
            local_text(entry["requested_at"]),
            _asker(entry),
            entry["item_name"],
            entry["points"],
            _decision_forms(entry, csrf, form),
        )
        for entry in waiting
    )
    edited = form.get("item_id", "") if form.get("what") == "item" else None

    def shown(item: dict) -> dict:
        if edited and item["item_id"] == edited:
            return {**item, **{key: form.get(key, "") for key in ("name", "points", "note", "status")}}
        return item

    catalogue = Markup("").join(
        Markup(
            '<li><form method="post" action="/office/points">{}<input type="hidden" name="what" value="item">'
            '<input type="hidden" name="item_id" value="{}">'
            '<div class="row"><input name="name" value="{}" maxlength="100">'
            '<input name="points" value="{}" inputmode="numeric"><select name="status">{}</select></div>'
            '<input name="note" value="{}" maxlength="200" placeholder="说明">'
            '<button type="submit">保存</button></form></li>'
        ).format(
            hidden_csrf(csrf),
            item["item_id"],
            item["name"],
            item["points"],
            _options(ITEM_STATUSES, item["status"]),
            item["note"] or "",
        )
        for item in map(shown, items)
    )
    new = form if edited == "" else {}
    body = Markup(
        "<section><h2>待确认的兑换</h2>{}</section>"
        '<section><h2>兑换目录</h2><ul class="list">{}</ul><h3>上架新物品</h3>'
        '<form method="post" action="/office/points">{}<input type="hidden" name="what" value="item">'
        '<label for="name">物品名称</label><input id="name" name="name" maxlength="100" value="{}" required>'
        '<label for="points">所需积分</label><input id="points" name="points" inputmode="numeric" value="{}" required>'
        '<label for="note">说明</label><input id="note" name="note" maxlength="200" value="{}">'
        '<button type="submit">上架</button></form></section>'
    ).format(
        Markup(
            "<table><tr><th>编号</th><th>申请时间</th><th>申请户</th><th>物品</th><th>积分</th><th></th></tr>{}</table>"
        ).format(requests)
        if requests
        else Markup('<p class="small">暂无</p>'),
        catalogue,
        hidden_csrf(csrf),
        new.get("name", ""),
        new.get("points", ""),
        new.get("note", ""),
    )
    return _shell("积分兑换", who, body, message, done)
