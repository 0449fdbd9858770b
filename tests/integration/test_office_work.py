"""The village office's daily work through the app (Flask's test client over HTTPS), on SQLite and PostgreSQL:
declining a redemption never confirms it, the clerk sees who asked, escalation goes one level at a time, a form sent
twice is one record, a refused form keeps what was typed, free text keeps its lines, the catalogue as the office last
left it, and every decision counted in the office's hour."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import func, select, update

from dashboard.app import create_app
from dashboard.privacy import mask_name
from etl.demo.build import build_demo
from etl.demo.sample import BOARD_VILLAGE, TOWNSHIP, load_screen_data
from etl.runner import run_feed
from etl.warehouse import intake_points
from etl.warehouse.accounts import add_user
from etl.warehouse.db import make_engine
from etl.warehouse.household_tokens import household
from etl.warehouse.intake import IntakeError, Limits
from etl.warehouse.schema import (
    households,
    intake_case_events,
    intake_cases,
    intake_deliberations,
    intake_notices,
    intake_redemptions,
)
from etl.warehouse.settings import Settings
from tests.household_fixtures import add_case, coded, intake_feeds
from tests.sessions import HTTPS, PASSWORD, csrf_of, logged_in

pytestmark = pytest.mark.integration
HOUSEHOLD = "H000"


@pytest.fixture(params=["sqlite", "postgresql"])
def county(request, tmp_path):
    """The demo county on each database with a village clerk and a township cadre: (var dir, engine, app)."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    settings = Settings.load(var_dir=str(tmp_path), warehouse_url=url)
    build_demo(settings, echo=lambda _line: None)
    load_screen_data(tmp_path, settings.warehouse_url)
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "cun", "village", BOARD_VILLAGE, password=PASSWORD)
        add_user(connection, "zhen", "township", TOWNSHIP, password=PASSWORD)
    app = create_app(Settings.load(var_dir=str(tmp_path), warehouse_url=url, household_writes_per_hour=1000))
    app.server.test_client().get("/healthz")
    yield tmp_path, engine, app
    engine.dispose()


def texts(answer) -> str:
    """What a person reads of a page: its text, without markup and styles."""
    html = re.sub(r"<style>.*?</style>", "", answer.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _redeem(engine, code: str = HOUSEHOLD, points: str = "1") -> str:
    """A redemption request of a household for a new item of its village's catalogue; its id."""
    item = intake_points.save_item(
        engine, BOARD_VILLAGE, {"name": f"肥皂{secrets.token_hex(2)}", "points": points}, author="cun"
    )
    with engine.connect() as connection:
        found = household(connection, code)
    form = {"item": item, "key": secrets.token_hex(16)}
    redemption_id, _new = intake_points.request(engine, found, form, address=None, limits=Limits(1000, 1000))
    return redemption_id


def _feeds(var_dir, engine) -> dict:
    return intake_feeds(var_dir, engine.url.render_as_string(hide_password=False))


def _status(engine, redemption_id: str) -> tuple:
    with engine.connect() as connection:
        return connection.execute(
            select(intake_redemptions.c.status, intake_redemptions.c.note).where(
                intake_redemptions.c.redemption_id == redemption_id
            )
        ).one()


def test_enter_in_the_reason_box_declines_and_a_confirmation_never_carries_a_reason(county):
    # The reason box shared one form with 确认兑换 (first) and 不通过: Enter in the box (a phone keyboard's 前往)
    # sent the form's first button and confirmed the redemption, for good, with the reason as its note.
    _var, engine, app = county
    redemption_id = _redeem(engine)
    clerk = logged_in(app, "cun")
    page = clerk.get(f"{HTTPS}/office/points").get_data(as_text=True)
    forms = [form for form in re.findall(r"<form[^>]*>(.*?)</form>", page, flags=re.S) if redemption_id in form]
    confirming = [form for form in forms if 'value="confirm"' in form]
    declining = [form for form in forms if 'value="reject"' in form]
    assert len(confirming) == len(declining) == 1
    assert 'name="note"' not in confirming[0] and "<textarea" not in confirming[0]  # nothing to press Enter in
    assert re.search(r'<input name="note"[^>]*required', declining[0])  # Enter there declines, with a reason
    assert len(re.findall(r"<button", declining[0])) == 1
    # A confirmation carrying a reason (what Enter sent before) is refused, the request still waiting.
    data = {"csrf_token": csrf_of(clerk, "/office/points"), "what": "decide", "id": redemption_id}
    answer = clerk.post(f"{HTTPS}/office/points", data={**data, "decision": "confirm", "note": "库存不足，下月再来"})
    assert answer.status_code == 400 and "确认兑换不需要填写理由" in texts(answer)
    assert _status(engine, redemption_id) == ("requested", None)
    assert "库存不足，下月再来" in answer.get_data(as_text=True)  # the reason is back in the decline box
    answer = clerk.post(f"{HTTPS}/office/points", data={**data, "decision": "reject", "note": "库存不足，下月再来"})
    assert answer.status_code == 200 and "已退回申请" in texts(answer)
    assert _status(engine, redemption_id) == ("rejected", "库存不足，下月再来")


def test_the_office_sees_which_household_asked_and_the_household_its_request_number(county):
    _var, engine, app = county
    with engine.begin() as connection:
        connection.execute(
            update(households)
            .where(households.c.household_code == HOUSEHOLD)
            .values(door_plate="幸福路12号", village_group="3组")
        )
    found, token = coded(engine, HOUSEHOLD)
    redemption_id = _redeem(engine)
    shown = texts(logged_in(app, "cun").get(f"{HTTPS}/office/points"))
    waiting = re.search(r"待确认的兑换(.*?)兑换目录", shown).group(1)
    row = waiting[waiting.index(redemption_id) :]
    assert "3组 · 幸福路12号" in row and mask_name(found.head_name) in row
    assert found.head_name not in waiting  # masked, never the whole name
    mine = texts(app.server.test_client().get(f"{HTTPS}/h/{token}"))
    assert redemption_id in re.search(r"我的兑换(.*?)申请后", mine).group(1)


def test_a_case_goes_up_one_level_at_a_time(county):
    # A village clerk posting 上报乡镇 twice sent the case to the county past its township, where it left every
    # queue (the township lists its level only) while the household waited.
    var_dir, engine, app = county
    case_id = add_case(engine, BOARD_VILLAGE, HOUSEHOLD, str(var_dir / "uploads"))
    address = f"{HTTPS}/office/cases/{case_id}"
    clerk = logged_in(app, "cun")

    def escalation():
        with engine.connect() as connection:
            return connection.execute(
                select(intake_cases.c.escalation).where(intake_cases.c.case_id == case_id)
            ).scalar()

    data = {"csrf_token": csrf_of(clerk, "/office"), "action": "escalate"}
    assert clerk.post(address, data={**data, "note": "需要乡镇协调"}).status_code == 303
    assert escalation() == "township"
    refused = clerk.post(address, data={**data, "note": "再报一次"})
    assert refused.status_code == 400 and "村级账号不能再上报" in texts(refused)
    assert escalation() == "township"
    assert "上报乡镇</option>" not in clerk.get(address).get_data(as_text=True)
    run_feed(engine, _feeds(var_dir, engine)["qr_cases"])
    cadre = logged_in(app, "zhen")
    assert case_id in texts(cadre.get(f"{HTTPS}/office"))  # in the township's queue
    assert "上报乡镇</option>" in cadre.get(address).get_data(as_text=True)  # the township may pass it on
    data = {"csrf_token": csrf_of(cadre, "/office"), "action": "escalate", "note": "涉及县级部门"}
    assert cadre.post(address, data=data).status_code == 303
    assert escalation() == "county"


def test_a_matter_or_a_progress_step_sent_twice_is_recorded_once(county):
    var_dir, engine, app = county
    clerk = logged_in(app, "cun")
    matter = {"csrf_token": csrf_of(clerk, "/office/records"), "record": "matter", "id": ""}
    matter |= {"title": "修建村口桥（两次提交）", "form": "assembly", "status": "consulting"}
    for _ in range(2):
        assert "已保存" in texts(clerk.post(f"{HTTPS}/office/records", data=matter))
    case_id = add_case(engine, BOARD_VILLAGE, HOUSEHOLD, str(var_dir / "uploads"))
    step = {"csrf_token": csrf_of(clerk, "/office"), "action": "update", "note": "已联系电工"}
    for _ in range(2):
        assert clerk.post(f"{HTTPS}/office/cases/{case_id}", data=step).status_code == 303
    progress = select(func.count()).where(
        intake_case_events.c.case_id == case_id, intake_case_events.c.kind == "updated"
    )
    with engine.connect() as connection:
        matters = connection.execute(
            select(func.count()).where(intake_deliberations.c.title == matter["title"])
        ).scalar_one()
        assert (matters, connection.execute(progress).scalar_one()) == (1, 1)
    # Another note is another step.
    assert clerk.post(f"{HTTPS}/office/cases/{case_id}", data={**step, "note": "电工已修好"}).status_code == 303
    with engine.connect() as connection:
        assert connection.execute(progress).scalar_one() == 2


def test_an_item_taken_off_or_repriced_is_not_redeemed_as_it_was(county):
    # The household's 换积分 read only the warehouse's catalogue: until the office_catalogue feed ran, an item the
    # office had taken off could still be asked for, at its old price.
    var_dir, engine, _app = county
    feeds = _feeds(var_dir, engine)
    item = intake_points.save_item(engine, BOARD_VILLAGE, {"name": "食用油", "points": "1"}, author="cun")
    run_feed(engine, feeds["office_catalogue"])
    with engine.connect() as connection:
        found = household(connection, HOUSEHOLD)

    def ask():
        form = {"item": item, "key": secrets.token_hex(16)}
        return intake_points.request(engine, found, form, address=None, limits=Limits(1000, 1000))[0]

    intake_points.save_item(engine, BOARD_VILLAGE, {"item_id": item, "name": "食用油", "points": "2"}, author="cun")
    with engine.connect() as connection:
        assert [
            entry["points"] for entry in intake_points.offered(connection, BOARD_VILLAGE) if entry["item_id"] == item
        ] == [2]
    redemption_id = ask()
    with engine.connect() as connection:
        points = connection.execute(
            select(intake_redemptions.c.points).where(intake_redemptions.c.redemption_id == redemption_id)
        ).scalar_one()
    assert points == 2
    edit = {"item_id": item, "name": "食用油", "points": "2", "status": "off"}
    intake_points.save_item(engine, BOARD_VILLAGE, edit, author="cun")
    with pytest.raises(IntakeError, match="已不在本村兑换目录中"):
        ask()
    with engine.connect() as connection:
        assert item not in {entry["item_id"] for entry in intake_points.offered(connection, BOARD_VILLAGE)}


@pytest.mark.parametrize("county", ["sqlite"], indirect=True)
def test_a_refused_office_form_keeps_what_was_typed(county):
    # After a refusal every office form came back empty: a 300-character finance notice typed again for a wrong
    # 所属期间.
    var_dir, engine, app = county
    clerk = logged_in(app, "cun")
    body = "本月村集体收入明细：\n" + "甲" * 300
    notice = {"csrf_token": csrf_of(clerk, "/office/notices"), "kind": "finance", "title": "十月财务公开"}
    notice |= {"body": body, "direction": "income", "amount": "12,000.50", "period": "2026年10月"}
    html = clerk.post(f"{HTTPS}/office/notices", data=notice).get_data(as_text=True)
    assert "所属期间应写成" in html
    assert 'value="十月财务公开"' in html and f">{body}</textarea>" in html
    assert 'value="12,000.50"' in html and 'value="2026年10月"' in html
    assert '<option value="finance" selected>' in html and '<option value="income" selected>' in html
    # Pasted from a chat with a zero-width space after it, as phones paste: the same month and amount.
    pasted = notice | {"csrf_token": csrf_of(clerk, "/office/notices"), "title": "十月财务公开（续）"}
    pasted |= {"amount": "12,000.50\u200b", "period": "\u20602026-10\u200b"}
    clerk.post(f"{HTTPS}/office/notices", data=pasted)
    with engine.connect() as connection:
        found = select(intake_notices.c.period, intake_notices.c.amount)
        stored = connection.execute(found.where(intake_notices.c.title == "十月财务公开（续）")).one()
    assert tuple(stored) == ("2026-10", 12000.5)
    matter = {"csrf_token": csrf_of(clerk, "/office/records"), "record": "matter", "id": "", "title": "修路议题"}
    matter |= {"form": "assembly", "status": "decided", "participants": "40", "votes_for": "30", "outcome": ""}
    html = clerk.post(f"{HTTPS}/office/records", data=matter).get_data(as_text=True)
    assert "请填写结果" in html
    assert "<details open><summary>新建议题" in html and 'value="修路议题"' in html and 'value="40"' in html
    item = {"csrf_token": csrf_of(clerk, "/office/records"), "record": "item", "subject": "projects"}
    item |= {"source": "committee", "title": "桥梁工程款去向", "status": "replied", "reply": ""}
    html = clerk.post(f"{HTTPS}/office/records", data=item).get_data(as_text=True)
    assert "请填写答复" in html and 'value="桥梁工程款去向"' in html
    assert '<option value="committee" selected>' in html
    offer = {"csrf_token": csrf_of(clerk, "/office/points"), "what": "item", "name": "洗衣液", "points": "五十"}
    html = clerk.post(f"{HTTPS}/office/points", data=offer).get_data(as_text=True)
    assert "所需积分应为" in html and 'value="洗衣液"' in html and 'value="五十"' in html
    offer |= {"csrf_token": csrf_of(clerk, "/office/points"), "points": "\u200b30"}
    clerk.post(f"{HTTPS}/office/points", data=offer)
    with engine.connect() as connection:
        offered = {entry["name"]: entry["points"] for entry in intake_points.offered(connection, BOARD_VILLAGE)}
    assert offered.get("洗衣液") == 30
    case_id = add_case(engine, BOARD_VILLAGE, HOUSEHOLD, str(var_dir / "uploads"))
    step = {"csrf_token": csrf_of(clerk, "/office"), "action": "close", "note": "x" * 501}
    html = clerk.post(f"{HTTPS}/office/cases/{case_id}", data=step).get_data(as_text=True)
    assert "说明最多 500 个字" in html and "x" * 501 + "</textarea>" in html


@pytest.mark.parametrize("county", ["sqlite"], indirect=True)
def test_free_text_on_the_office_case_page_keeps_its_lines_and_wraps(county):
    var_dir, engine, app = county
    link = "https://example.org/" + "a" * 200
    case_id = add_case(engine, BOARD_VILLAGE, HOUSEHOLD, str(var_dir / "uploads"), text=f"第一行\n第二行 {link}")
    clerk = logged_in(app, "cun")
    step = {"csrf_token": csrf_of(clerk, "/office"), "action": "update", "note": "已联系\n电工"}
    clerk.post(f"{HTTPS}/office/cases/{case_id}", data=step)
    html = clerk.get(f"{HTTPS}/office/cases/{case_id}").get_data(as_text=True)
    assert ".text{white-space:pre-wrap;overflow-wrap:anywhere}" in html
    assert f'<p class="text">第一行\n第二行 {link}</p>' in html
    assert '<span class="text">已联系\n电工</span>' in html


@pytest.mark.parametrize("county", ["sqlite"], indirect=True)
def test_redemption_decisions_count_against_the_office_hour(county):
    var_dir, engine, _app = county
    redemption_id = _redeem(engine)
    app = create_app(Settings.load(var_dir=str(var_dir), office_writes_per_hour=0))
    clerk = logged_in(app, "cun")
    data = {"csrf_token": csrf_of(clerk, "/office/points"), "what": "decide", "id": redemption_id}
    answer = clerk.post(f"{HTTPS}/office/points", data={**data, "decision": "reject", "note": "暂无库存"})
    assert answer.status_code == 429 and "本村一小时内已发布或登记 0 次" in texts(answer)
    assert _status(engine, redemption_id) == ("requested", None)


def test_a_case_passed_to_the_township_is_the_townships_to_handle(county):
    """After 上报乡镇 the village clerk could still close the case (or write progress on it) under the township's
    hands: the household was told 已办结 by the office that had passed it on."""
    var_dir, engine, app = county
    case_id = add_case(engine, BOARD_VILLAGE, HOUSEHOLD, str(var_dir / "uploads"))
    address = f"{HTTPS}/office/cases/{case_id}"
    clerk = logged_in(app, "cun")
    data = {"csrf_token": csrf_of(clerk, "/office")}
    assert clerk.post(address, data={**data, "action": "escalate", "note": "需要乡镇协调"}).status_code == 303
    for action in ("close", "update"):
        refused = clerk.post(address, data={**data, "action": action, "note": "村里已处理"})
        assert refused.status_code == 400 and "由乡镇办理" in texts(refused), action
    with engine.connect() as connection:
        status = connection.execute(select(intake_cases.c.status).where(intake_cases.c.case_id == case_id)).scalar()
    assert status != "closed"
    cadre = logged_in(app, "zhen")
    closing = {"csrf_token": csrf_of(cadre, "/office"), "action": "close", "note": "乡镇已协调解决"}
    assert cadre.post(address, data=closing).status_code == 303
    with engine.connect() as connection:
        status = connection.execute(select(intake_cases.c.status).where(intake_cases.c.case_id == case_id)).scalar()
    assert status == "closed"
