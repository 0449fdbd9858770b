"""一户一码 and the village office through the app (Flask's test client over HTTPS): what a household and a clerk
see for double taps, broken and oversized photos, a missing CSRF token, rate limits, a revoked code; 诉求, notices
and redemptions reaching the warehouse through the intake feeds (SQLite and PostgreSQL); an overdue 诉求 raising an
alert; the township's queue."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from dashboard.app import create_app
from etl.alerts.evaluate import Evaluator
from etl.demo.build import build_demo
from etl.demo.sample import BOARD_VILLAGE, TOWNSHIP, VILLAGES, build_sample, load_screen_data
from etl.runner import run_feed
from etl.warehouse.accounts import add_user
from etl.warehouse.case_queue import escalated_cases
from etl.warehouse.db import make_engine
from etl.warehouse.household_tokens import household, issue
from etl.warehouse.intake import stamp
from etl.warehouse.schema import (
    alerts,
    cases,
    catalogue_items,
    disclosures,
    intake_cases,
    intake_catalogue,
    intake_files,
    intake_hits,
    intake_notices,
    intake_supervision,
    points_ledger,
)
from etl.warehouse.settings import Settings
from tests.alert_county import alerts_file
from tests.household_fixtures import coded, intake_feeds, jpeg
from tests.sessions import HTTPS, PASSWORD, csrf_of, logged_in

pytestmark = pytest.mark.integration
HOUSEHOLD = "H000"  # 李娜 of the board's village in the sample


def _app(var_dir, **settings):
    app = create_app(Settings.load(var_dir=str(var_dir), **settings))
    app.server.test_client().get("/healthz")
    return app


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample county on SQLite with a village clerk, a clerk of another village and a township cadre."""
    var_dir = tmp_path_factory.mktemp("households")
    settings = build_sample(var_dir)
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        add_user(connection, "cun", "village", BOARD_VILLAGE, password=PASSWORD)
        add_user(connection, "cun-b", "village", VILLAGES[2], password=PASSWORD)
        add_user(connection, "zhen", "township", TOWNSHIP, password=PASSWORD)
    return var_dir, engine, intake_feeds(var_dir, settings.warehouse_url)


@pytest.fixture(scope="module")
def app(sample):
    var_dir, _engine, _feeds = sample
    return _app(var_dir, household_writes_per_hour=1000)


def form_of(html: str) -> dict:
    """The CSRF token and the 诉求 form's idempotency key of a household's page."""
    return {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
        "key": re.search(r'name="key" value="([0-9a-f]{32})"', html).group(1),
    }


def send(client, token: str, text: str = "村口路灯坏了三天", photo: bytes | None = None, name="p.jpg", **extra):
    """Open the household's page and send a 诉求 from it; the answer."""
    page = client.get(f"{HTTPS}/h/{token}")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    data = {**form_of(page.get_data(as_text=True)), "topic": "roads", "text": text, "phone": "13800001111"}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), name)
    data.update(extra)
    return client.post(f"{HTTPS}/h/{token}/cases", data=data, content_type="multipart/form-data")


def texts(answer) -> str:
    """What a person reads of a page: its text, without markup and styles."""
    html = re.sub(r"<style>.*?</style>", "", answer.get_data(as_text=True), flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def section(answer, name: str) -> str:
    """The text of one section of a household's page (mine, points, redeem, notices …)."""
    html = answer.get_data(as_text=True)
    return re.sub(r"<[^>]+>", " ", re.search(rf'<section id="{name}">(.*?)</section>', html, flags=re.S).group(1))


def warehouse_cases(engine, case_id: str) -> list:
    with engine.connect() as connection:
        return connection.execute(select(cases).where(cases.c.case_id == case_id)).all()


def test_a_double_tap_makes_one_case_which_reaches_the_warehouse_as_qr_code(sample, app):
    _var, engine, feeds = sample
    _household, token = coded(engine, HOUSEHOLD)
    client = app.server.test_client()
    page = client.get(f"{HTTPS}/h/{token}").get_data(as_text=True)
    data = {**form_of(page), "topic": "environment", "text": "河道里有垃圾没人捞"}
    first = client.post(f"{HTTPS}/h/{token}/cases", data=data)
    second = client.post(f"{HTTPS}/h/{token}/cases", data=data)  # the same form again: a double tap
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    case_id = first.headers["Location"].rsplit("/", 1)[1]
    shown = section(client.get(f"{HTTPS}/h/{token}"), "mine")
    assert shown.count("环境卫生") == 1 and "已受理" in shown
    detail = texts(client.get(f"{HTTPS}{first.headers['Location']}"))
    assert "河道里有垃圾没人捞" in detail and "提交诉求" in detail
    report = run_feed(engine, feeds["qr_cases"])
    assert report.counts.loaded >= 1 and report.counts.quarantined == 0
    (row,) = warehouse_cases(engine, case_id)
    assert (row.channel, row.module, row.status, row.region_code, row.title) == (
        "qr_code",
        "general",
        "received",
        BOARD_VILLAGE,
        "环境卫生",
    )
    assert row.due_at is not None and "河道" not in row.title  # the household's words stay off public screens


def test_a_photo_is_reencoded_without_its_metadata(sample, app):
    _var, engine, _feeds = sample
    _household, token = coded(engine, HOUSEHOLD)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = "Camera 1.0"  # Software
    big = jpeg(3000, 2000, exif=exif.tobytes())
    client = app.server.test_client()
    answer = send(client, token, "猪圈气味很大", photo=big)
    assert answer.status_code == 303
    detail = client.get(f"{HTTPS}{answer.headers['Location']}").get_data(as_text=True)
    photo = re.search(r'src="(/h/[^"]+/files/[0-9a-f]{32}\.jpg)"', detail).group(1)
    served = client.get(f"{HTTPS}{photo}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(served.data)) as image:
        assert max(image.size) == 1600 and not image.getexif()
    assert b"PhoneMaker" not in served.data
    # Another household's code does not open it.
    _other, other_token = coded(engine, "H004")
    assert client.get(f"{HTTPS}{photo.replace(token, other_token)}").status_code == 404


def test_a_malformed_photo_is_refused_in_chinese_and_nothing_is_made(sample, app):
    _var, engine, _feeds = sample
    _household, token = coded(engine, HOUSEHOLD)
    with engine.connect() as connection:
        before = connection.execute(select(func.count()).select_from(intake_cases)).scalar_one()
    answer = send(app.server.test_client(), token, photo=b"\xff\xd8\xff\xe0 not really a jpeg", name="坏照片.jpg")
    assert answer.status_code == 400
    assert "“坏照片.jpg”无法识别为图片" in texts(answer)
    assert "村口路灯坏了三天" in answer.get_data(as_text=True)  # what was typed is kept
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(intake_cases)).scalar_one() == before


def test_a_photo_is_decoded_only_for_a_form_that_would_be_taken(sample, app):
    # The photo was decoded before the form was checked or the hour's writes counted: a 39 KB, 40 MP image cost a
    # second of CPU and 400 MB on every POST, of a household over its limit or with an empty form alike. Now the
    # form's and the limit's answers come first (a photo that is no image would otherwise be the complaint).
    var, engine, _feeds = sample
    _household, token = coded(engine, "H001")
    broken = b"\xff\xd8\xff\xe0 not really a jpeg"
    answer = send(app.server.test_client(), token, photo=broken, topic="")
    assert answer.status_code == 400 and "诉求类别" in texts(answer) and "无法识别为图片" not in texts(answer)
    reloaded = app.server.test_client().get(f"{HTTPS}/h/{token}/cases")  # the address the refusal left in the bar
    assert reloaded.status_code == 303 and reloaded.headers["Location"] == f"/h/{token}#request"
    strict = _app(var, household_writes_per_hour=1)
    client = strict.server.test_client()
    page = client.get(f"{HTTPS}/h/{token}").get_data(as_text=True)
    form = {**form_of(page), "topic": "roads", "text": "村口路灯坏了三天", "phone": "13800001111"}
    taken = client.post(f"{HTTPS}/h/{token}/cases", data=form)  # the hour's one write
    assert taken.status_code == 303
    again = client.post(f"{HTTPS}/h/{token}/cases", data=form)  # a double tap at the limit is still its case
    assert again.status_code == 303 and again.headers["Location"] == taken.headers["Location"]
    answer = send(strict.server.test_client(), token, photo=broken)
    assert answer.status_code == 429 and "本户一小时内已提交 1 次" in texts(answer)
    clerk = logged_in(app, "cun")
    data = {"csrf_token": csrf_of(clerk, "/office/notices"), "kind": "village_affairs", "title": ""}
    answer = clerk.post(
        f"{HTTPS}/office/notices",
        data={**data, "files": [(io.BytesIO(broken), "现场.jpg")]},
        content_type="multipart/form-data",
    )
    assert "标题" in texts(answer) and "无法识别为图片" not in texts(answer)


def test_an_oversized_upload_gets_a_chinese_413_and_other_routes_keep_64_kb(sample, app):
    _var, engine, _feeds = sample
    _household, token = coded(engine, HOUSEHOLD)
    client = app.server.test_client()
    answer = send(client, token, photo=b"\xff" * (9 * 1024 * 1024))
    assert answer.status_code == 413 and "照片不能超过 8 MB" in texts(answer)
    page = client.get(f"{HTTPS}/h/{token}").get_data(as_text=True)
    padded = {**form_of(page), "item": "x" * (70 * 1024)}
    assert client.post(f"{HTTPS}/h/{token}/redemptions", data=padded).status_code == 413


def test_a_form_without_its_csrf_token_is_refused(sample, app):
    _var, engine, _feeds = sample
    _household, token = coded(engine, HOUSEHOLD)
    client = app.server.test_client()
    page = client.get(f"{HTTPS}/h/{token}").get_data(as_text=True)
    data = {"key": form_of(page)["key"], "topic": "roads", "text": "没有令牌的提交"}
    answer = client.post(f"{HTTPS}/h/{token}/cases", data=data)
    assert answer.status_code == 400 and "页面已过期" in texts(answer)
    clerk = logged_in(app, "cun")
    assert clerk.post(f"{HTTPS}/office/notices", data={"kind": "village_affairs", "title": "无令牌"}).status_code == 400


def test_a_revoked_code_gets_a_chinese_403_page(sample, app):
    _var, engine, _feeds = sample
    found, old = coded(engine, HOUSEHOLD)
    with engine.begin() as connection:
        new = issue(connection, found, "test")
    client = app.server.test_client()
    refused = client.get(f"{HTTPS}/h/{old}")
    assert refused.status_code == 403 and "此户码无效或已停用" in texts(refused)
    assert client.get(f"{HTTPS}/h/not-a-code").status_code == 403
    assert client.get(f"{HTTPS}/h/{new}").status_code == 200


def test_the_office_handles_a_case_and_the_household_rates_it(sample, app):
    _var, engine, feeds = sample
    _household, token = coded(engine, HOUSEHOLD)
    home = app.server.test_client()
    case_page = send(home, token, "垃圾清运车三天没来").headers["Location"]
    case_id = case_page.rsplit("/", 1)[1]
    clerk = logged_in(app, "cun")
    assert case_id in texts(clerk.get(f"{HTTPS}/office"))
    address = f"/office/cases/{case_id}"
    refused = clerk.post(f"{HTTPS}{address}", data={"csrf_token": csrf_of(clerk, address), "action": "close"})
    assert refused.status_code == 400 and "请填写说明" in texts(refused)
    for action, note in (("accept", ""), ("close", "已联系环卫公司，今天已清运")):
        answer = clerk.post(
            f"{HTTPS}{address}", data={"csrf_token": csrf_of(clerk, address), "action": action, "note": note}
        )
        assert answer.status_code == 303
    shown = texts(home.get(f"{HTTPS}{case_page}"))
    assert "已办结" in shown and "已联系环卫公司，今天已清运" in shown and "请为办理结果打分" in shown
    rating = {"csrf_token": csrf_of(home, case_page), "score": "5"}
    assert home.post(f"{HTTPS}{case_page}/rating", data=rating).status_code == 303
    assert "您已评价：5 分" in texts(home.get(f"{HTTPS}{case_page}"))
    again = home.post(f"{HTTPS}{case_page}/rating", data=rating)
    assert again.status_code == 400 and "已经评价过了" in texts(again)
    run_feed(engine, feeds["qr_cases"])
    (row,) = warehouse_cases(engine, case_id)
    assert (row.status, row.satisfaction) == ("rated", 5) and row.closed_at and row.rated_at
    # A clerk of another village gets nothing of it.
    other = logged_in(app, "cun-b")
    assert other.get(f"{HTTPS}{address}").status_code == 403
    assert (
        other.post(f"{HTTPS}{address}", data={"csrf_token": csrf_of(other, "/office"), "action": "accept"}).status_code
        == 403
    )


def test_an_escalated_case_lands_in_the_townships_queue(sample, app):
    _var, engine, feeds = sample
    _household, token = coded(engine, HOUSEHOLD)
    case_id = send(app.server.test_client(), token, "村道塌方需要乡里协调").headers["Location"].rsplit("/", 1)[1]
    clerk = logged_in(app, "cun")
    address = f"/office/cases/{case_id}"
    data = {"csrf_token": csrf_of(clerk, address), "action": "escalate", "note": "需要乡镇协调资金"}
    assert clerk.post(f"{HTTPS}{address}", data=data).status_code == 303
    run_feed(engine, feeds["qr_cases"])
    with engine.connect() as connection:
        queue = escalated_cases(connection, TOWNSHIP)
        assert escalated_cases(connection, VILLAGES[2][:9] + "000") == []
    (entry,) = [entry for entry in queue if entry["case_id"] == case_id]
    assert entry["channel"] == "qr_code" and entry["text"] == "村道塌方需要乡里协调" and not entry["overdue"]
    cadre = logged_in(app, "zhen")
    township = texts(cadre.get(f"{HTTPS}/office"))
    assert case_id in township and "村道塌方需要乡里协调" in township
    assert cadre.get(f"{HTTPS}{address}").status_code == 200


def test_a_township_cadre_cannot_open_or_act_on_a_case_its_village_did_not_escalate(sample, app):
    # The case page, its photo and its actions checked only the region: a cadre read the household's words and its
    # full callback number, and closed the case, though the village handles it until it escalates.
    _var, engine, _feeds = sample
    _household, token = coded(engine, HOUSEHOLD)
    answer = send(app.server.test_client(), token, "院墙裂缝请村里看看", photo=jpeg())
    case_id = answer.headers["Location"].rsplit("/", 1)[1]
    clerk, cadre = logged_in(app, "cun"), logged_in(app, "zhen")
    address = f"/office/cases/{case_id}"
    photo = re.search(r"(/office/files/[0-9a-f]{32}\.jpg)", clerk.get(f"{HTTPS}{address}").get_data(as_text=True))[1]
    refused = cadre.get(f"{HTTPS}{address}")
    assert refused.status_code == 403 and "13800001111" not in refused.get_data(as_text=True)
    assert "未上报乡镇" in texts(refused)
    assert cadre.get(f"{HTTPS}{photo}").status_code == 403
    data = {"csrf_token": csrf_of(cadre, "/office"), "action": "close", "note": "已处理"}
    assert cadre.post(f"{HTTPS}{address}", data=data).status_code == 403
    with engine.connect() as connection:
        status = connection.execute(select(intake_cases.c.status).where(intake_cases.c.case_id == case_id)).scalar()
    assert status == "received"


def test_a_published_notice_reaches_the_disclosures_and_the_households_page(sample, app):
    _var, engine, feeds = sample
    _household, token = coded(engine, HOUSEHOLD)
    client = app.server.test_client()
    # Read now, the village's part of the page is kept (per warehouse version): the load below must renew it.
    assert "村道修缮工程款" not in client.get(f"{HTTPS}/h/{token}").get_data(as_text=True)
    clerk = logged_in(app, "cun")
    pdf = b"%PDF-1.4\n% a test attachment\n"
    data = {
        "csrf_token": csrf_of(clerk, "/office/notices"),
        "kind": "finance",
        "title": "村道修缮工程款",
        "body": "详见附件",
        "direction": "expense",
        "amount": "12,500.5",
        "period": "2026-11",
        "files": [(io.BytesIO(pdf), "工程结算单.pdf"), (io.BytesIO(jpeg()), "现场.jpg")],
    }
    answer = clerk.post(f"{HTTPS}/office/notices", data=data, content_type="multipart/form-data")
    assert answer.status_code == 200 and "已发布" in texts(answer)
    bad = {**data, "csrf_token": csrf_of(clerk, "/office/notices"), "period": "十一月", "files": []}
    assert "所属期间应写成 2026-12 这样的年月" in texts(clerk.post(f"{HTTPS}/office/notices", data=bad))
    run_feed(engine, feeds["office_notices"])
    with engine.connect() as connection:
        row = connection.execute(select(disclosures).where(disclosures.c.title == "村道修缮工程款")).one()
    assert (row.kind, row.direction, row.amount, row.period, row.region_code) == (
        "finance",
        "expense",
        12500.5,
        "2026-11",
        BOARD_VILLAGE,
    )
    page = client.get(f"{HTTPS}/h/{token}").get_data(as_text=True)
    assert "村道修缮工程款" in page and "12,500.50 元" in page and "工程结算单.pdf" in page
    link = re.search(r'href="(/h/[^"]+/files/[0-9a-f]{32}\.pdf)"', page).group(1)
    download = client.get(f"{HTTPS}{link}")
    assert download.data == pdf and "attachment" in download.headers["Content-Disposition"]


def test_an_office_form_sent_twice_makes_one_record(sample, app):
    # A double tap on 发布, or a reload of the page the POST answered, published a finance line twice: the board
    # listed it twice and summed 24,000 元 for 12,000. A 民主监督 item and a catalogue item doubled alike.
    _var, engine, _feeds = sample
    clerk = logged_in(app, "cun")
    token = csrf_of(clerk, "/office/notices")
    notice = {"csrf_token": token, "kind": "finance", "title": "道路硬化支出（两次提交）", "body": "支出明细见附件"}
    notice.update(direction="expense", amount="12000", period="2026-12")
    for _ in range(2):
        files = {"files": (io.BytesIO(jpeg()), "票据.jpg")}
        answer = clerk.post(f"{HTTPS}/office/notices", data={**notice, **files}, content_type="multipart/form-data")
        assert answer.status_code == 200 and "已发布" in texts(answer)
    item = {"csrf_token": token, "record": "item", "subject": "finance", "source": "villager", "status": "received"}
    item["title"] = "道路硬化资金去向（两次提交）"
    offer = {"csrf_token": token, "what": "item", "name": "洗衣液（两次提交）", "points": "50"}
    for _ in range(2):
        clerk.post(f"{HTTPS}/office/records", data=item)
        clerk.post(f"{HTTPS}/office/points", data=offer)
    with engine.connect() as connection:
        count = lambda table, *where: connection.execute(select(func.count()).where(*where)).scalar_one()  # noqa: E731
        published = select(intake_notices.c.notice_id).where(intake_notices.c.title == notice["title"])
        assert count(intake_notices, intake_notices.c.title == notice["title"]) == 1
        assert count(intake_files, intake_files.c.owner_id.in_(published)) == 1
        assert count(intake_supervision, intake_supervision.c.title == item["title"]) == 1
        assert count(intake_catalogue, intake_catalogue.c.name == offer["name"]) == 1
    # The same text with other photos is another notice (its files were dropped, the clerk told it was published).
    other = {"files": (io.BytesIO(jpeg(colour="blue", width=80)), "另一张票据.jpg")}
    clerk.post(f"{HTTPS}/office/notices", data={**notice, **other}, content_type="multipart/form-data")
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).where(intake_notices.c.title == notice["title"])).scalar() == 2
    # Sent again after a while, it is another record.
    with engine.begin() as connection:
        earlier = stamp(datetime.now(UTC) - timedelta(minutes=11))
        connection.execute(
            update(intake_notices).where(intake_notices.c.title == notice["title"]).values(published_at=earlier)
        )
    files = {"files": (io.BytesIO(jpeg()), "票据.jpg")}
    clerk.post(f"{HTTPS}/office/notices", data={**notice, **files}, content_type="multipart/form-data")
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).where(intake_notices.c.title == notice["title"])).scalar() == 3


def test_a_redemption_holds_the_points_and_the_ledger_takes_them_once(sample, app):
    var_dir, engine, feeds = sample
    found, token = coded(engine, HOUSEHOLD)
    clerk = logged_in(app, "cun")
    item = {"csrf_token": csrf_of(clerk, "/office/points"), "what": "item", "name": "洗洁精", "points": "3"}
    assert "已保存物品" in texts(clerk.post(f"{HTTPS}/office/points", data=item))
    run_feed(engine, feeds["office_catalogue"])
    with engine.connect() as connection:
        item_id = connection.execute(
            select(catalogue_items.c.item_id).where(catalogue_items.c.name == "洗洁精")
        ).scalar()

    def balance(client) -> int:
        return int(
            re.search(r'<div class="big">(-?\d+)</div>', client.get(f"{HTTPS}/h/{token}").get_data(as_text=True))[1]
        )

    client = app.server.test_client()
    before = balance(client)
    page = client.get(f"{HTTPS}/h/{token}").get_data(as_text=True)
    key = re.search(rf'name="key" value="([0-9a-f]{{32}})"><input type="hidden" name="item" value="{item_id}"', page)[1]
    data = {"csrf_token": form_of(page)["csrf_token"], "key": key, "item": item_id}
    assert client.post(f"{HTTPS}/h/{token}/redemptions", data=data).status_code == 303
    assert client.post(f"{HTTPS}/h/{token}/redemptions", data=data).status_code == 303  # twice: one request
    assert balance(client) == before - 3 and "洗洁精（3 分）" in texts(client.get(f"{HTTPS}/h/{token}"))
    waiting = clerk.get(f"{HTTPS}/office/points").get_data(as_text=True)
    redemption = sorted(set(re.findall(r'name="id" value="(DH[^"]+)"', waiting)))  # its confirm and decline forms
    assert len(redemption) == 1
    confirm = {
        "csrf_token": csrf_of(clerk, "/office/points"),
        "what": "decide",
        "id": redemption[0],
        "decision": "confirm",
    }
    assert "已确认兑换" in texts(clerk.post(f"{HTTPS}/office/points", data=confirm))
    run_feed(engine, feeds["qr_redemptions"])
    with engine.connect() as connection:
        ledger = connection.execute(select(points_ledger).where(points_ledger.c.entry_id == redemption[0])).one()
    assert (ledger.points, ledger.source, ledger.household_code) == (-3, "redemption", found.code)
    assert balance(client) == before - 3  # in the ledger now, no longer held: spent once


def test_an_overdue_qr_case_raises_an_alert(sample, app, tmp_path):
    _var, engine, feeds = sample
    _household, token = coded(engine, HOUSEHOLD)
    case_id = send(app.server.test_client(), token, "桥栏杆断了很危险").headers["Location"].rsplit("/", 1)[1]
    run_feed(engine, feeds["qr_cases"])
    (row,) = warehouse_cases(engine, case_id)
    rules = alerts_file(tmp_path, '[rules.overdue]\nname = "诉求超期未办结"\nkind = "overdue_case"\n')
    due = row.due_at.replace(tzinfo=UTC) if row.due_at.tzinfo is None else row.due_at

    def alert():
        with engine.connect() as connection:
            return connection.execute(select(alerts).where(alerts.c.subject == f"case:{case_id}")).first()

    Evaluator(engine, rules, lambda: due - timedelta(minutes=1)).evaluate()
    assert alert() is None
    Evaluator(engine, rules, lambda: due + timedelta(minutes=1)).evaluate()
    found = alert()
    assert found.status == "open" and found.region_code == BOARD_VILLAGE and "超过办理时限" in found.detail


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_limits_and_double_taps_hold_across_workers_on_each_database(database, tmp_path, request):
    """Two app instances (two workers) on one database: the limits count every write, a double tap sent to both
    makes one case, and the feed brings each case once."""
    var_dir = tmp_path / "var"
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else ""
    settings = Settings.load(var_dir=str(var_dir), warehouse_url=url or None)
    build_demo(settings, echo=lambda _line: None)
    load_screen_data(var_dir, settings.warehouse_url)
    engine = make_engine(settings.warehouse_url)
    with engine.begin() as connection:
        token = issue(connection, household(connection, HOUSEHOLD), "test")
        second_token = issue(connection, household(connection, "H004"), "test")
    options = {"warehouse_url": url or None, "household_writes_per_hour": 2, "address_writes_per_hour": 3}
    workers = [_app(var_dir, **options).server.test_client() for _ in range(2)]
    page = workers[0].get(f"{HTTPS}/h/{token}").get_data(as_text=True)
    data = {**form_of(page), "topic": "policy", "text": "医保怎么在手机上缴费"}
    first = workers[0].post(f"{HTTPS}/h/{token}/cases", data=data)
    cookie = workers[0].get_cookie("ruralbrain_session", domain="localhost")
    workers[1].set_cookie("ruralbrain_session", cookie.value, domain="localhost")
    again = workers[1].post(f"{HTTPS}/h/{token}/cases", data=data)
    assert first.headers["Location"] == again.headers["Location"]
    assert send(workers[1], token, "第二条诉求").status_code == 303
    limited = send(workers[0], token, "第三条诉求")
    assert limited.status_code == 429 and "本户一小时内已提交 2 次" in texts(limited)
    assert send(workers[1], second_token, "另一户的诉求").status_code == 303  # 3rd from this address
    crowded = send(workers[0], second_token, "同一地址的第四条")
    assert crowded.status_code == 429 and "同一网络一小时内提交过多" in texts(crowded)
    feeds = intake_feeds(var_dir, settings.warehouse_url)
    report = run_feed(engine, feeds["qr_cases"])
    assert (report.counts.loaded, report.counts.quarantined) == (3, 0)
    with engine.connect() as connection:
        assert (
            connection.execute(select(func.count()).select_from(cases).where(cases.c.channel == "qr_code")).scalar_one()
            == 3
        )
    engine.dispose()


def test_every_intake_time_moves_forward_in_commit_order(sample):
    _var, engine, _feeds = sample
    with engine.connect() as connection:
        times = (
            connection.execute(select(intake_cases.c.updated_at).order_by(intake_cases.c.updated_at)).scalars().all()
        )
    assert times == sorted(set(times)) and all(datetime.fromisoformat(text).tzinfo for text in times)


def test_a_village_office_publishes_and_records_within_its_hourly_limit(sample):
    # A clerk's session could publish notices with 30 MB of attachments each as fast as it could post: nothing
    # counted the office's writes. Notices and 民主议事/监督 records count against the village's hour.
    var_dir, engine, _feeds = sample
    with engine.connect() as connection:
        before = connection.execute(
            select(func.count()).select_from(intake_hits).where(intake_hits.c.subject == f"o:{BOARD_VILLAGE}")
        ).scalar_one()
    limited_app = _app(var_dir, office_writes_per_hour=before + 2)
    clerk = logged_in(limited_app, "cun")

    def publish(title: str):
        data = {"csrf_token": csrf_of(clerk, "/office/notices"), "kind": "village_affairs", "title": title}
        return clerk.post(f"{HTTPS}/office/notices", data=data)

    def record(title: str):
        data = {"csrf_token": csrf_of(clerk, "/office/records"), "record": "item", "subject": "finance"}
        data |= {"source": "villager", "title": title, "status": "received"}
        return clerk.post(f"{HTTPS}/office/records", data=data)

    assert publish("第一条通知").status_code == 200
    assert "已保存" in texts(record("第一条监督事项"))
    refused = publish("超出本小时的通知")
    assert refused.status_code == 429 and f"本村一小时内已发布或登记 {before + 2} 次" in texts(refused)
    assert record("超出本小时的监督事项").status_code == 429
    item = {"csrf_token": csrf_of(clerk, "/office/points"), "what": "item", "name": "洗衣粉", "points": "20"}
    assert clerk.post(f"{HTTPS}/office/points", data=item).status_code == 429  # the catalogue counts too
    # A step on a 诉求 counts too (the household's own submission counts against the household, not the office).
    _household, token = coded(engine, HOUSEHOLD)
    case_id = send(limited_app.server.test_client(), token, "路灯又坏了").headers["Location"].rsplit("/", 1)[1]
    step = {"csrf_token": csrf_of(clerk, f"/office/cases/{case_id}"), "action": "accept", "note": "已受理"}
    assert clerk.post(f"{HTTPS}/office/cases/{case_id}", data=step).status_code == 429
    other = logged_in(limited_app, "cun-b")  # another village's office has its own hour
    data = {"csrf_token": csrf_of(other, "/office/notices"), "kind": "village_affairs", "title": "乙村的通知"}
    assert other.post(f"{HTTPS}/office/notices", data=data).status_code == 200
