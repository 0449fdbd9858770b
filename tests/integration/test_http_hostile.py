"""The HTTP JSON source against an API that misbehaves, on a real local server: a typo'd future time, a next link to
another host or back to itself, paging ignored, a secret in the URL, text/* and a byte-order mark, a huge page, an
hour-long Retry-After, JSON nested past Python's recursion."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from etl.sources import source_from_config
from etl.sources.base import SourceError
from tests.loopback_http import Api, api_fixture, ok

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 1, 12, 0).timestamp()
api = api_fixture()


def source(server: Api, tmp_path, **extra):
    config = {"type": "http", "url": f"{server.url}/api/orders", "items": "data", "backoff": 0, **extra}
    made = source_from_config(config, tmp_path)
    return type(made)(**{**made.__dict__, "clock": lambda: NOW})


def test_an_item_dated_in_2099_does_not_move_the_watermark_past_now(api, tmp_path):
    # One order typed as 2099 set the watermark to 2099: every later run asked for newer items and got none.
    orders = [{"id": 101, "paid_at": "2026-12-01T09:00:00+08:00"}, {"id": 102, "paid_at": "2099-12-01T10:00:00+08:00"}]

    def answer(path, query, _):
        return ok({"data": [o for o in orders if o["paid_at"] > query.get("since", "")]})

    server = api(answer)
    feed = source(server, tmp_path, since_param="since", watermark_field="paid_at")
    batches = list(feed.batches(None))
    assert batches[-1].watermark == "2026-12-01T09:00:00+08:00"
    assert any("晚于现在" in note and "2099" in note for note in batches[-1].notes)
    orders.append({"id": 103, "paid_at": "2026-12-01T11:00:00+08:00"})  # the next day's order
    later = list(feed.batches(batches[-1].watermark))
    assert sorted(r.data["id"] for b in later for r in b.records) == [102, 103]
    assert later[-1].watermark == "2026-12-01T11:00:00+08:00"
    # Numbers are never held back: an id, a version (2024121101) or 20241211093000 looks like epoch seconds or
    # milliseconds in the future, and holding it back would stop the feed.
    assert [b.watermark for b in source(server, tmp_path, watermark_field="id").batches(None)] == ["103"]
    versions = api(lambda path, query, _: ok({"data": [{"v": 2024121001}, {"v": 2024121101}, {"v": 20241211093000}]}))
    assert [b.watermark for b in source(versions, tmp_path, watermark_field="v").batches(None)] == ["20241211093000"]


def test_the_token_is_never_sent_to_another_host_named_by_a_next_link(api, tmp_path, monkeypatch):
    monkeypatch.setenv("HOSTILE_TOKEN", "TOPSECRET_BEARER")
    thief = api(lambda path, query, _: ok({"data": []}))
    home = api(lambda path, query, _: ok({"data": [{"id": 1}], "next": f"{thief.url}/steal"}))
    feed = source(home, tmp_path, next="next", token_env="HOSTILE_TOKEN")
    with pytest.raises(SourceError, match="不在数据源的主机上"):
        list(feed.batches(None))
    assert thief.seen == [] and home.seen[0][1] == "Bearer TOPSECRET_BEARER"


@pytest.mark.parametrize("mode", ["next to itself", "page ignored"])
def test_an_api_whose_paging_never_ends_stops_the_run_with_a_reason(api, tmp_path, mode):
    # 2,455 requests in 20 s with no end, and every other feed of `etl watch` waiting behind it.
    if mode == "next to itself":
        server = api(lambda path, query, _: ok({"data": [{"id": 1}], "next": "/api/orders"}))
        feed = source(server, tmp_path, next="next")
    else:
        server = api(lambda path, query, _: ok({"data": [{"id": 1}, {"id": 2}]}))
        feed = source(server, tmp_path, page_param="page", page_size=2)
    with pytest.raises(SourceError, match="已经读过|完全相同"):
        list(feed.batches(None))
    assert len(server.seen) <= 2


def test_a_secret_in_the_url_is_masked_in_the_error(api, tmp_path):
    server = api(lambda path, query, _: (500, {}, b"{}"))
    feed = source(server, tmp_path, url=f"{server.url}/api?access_token=SECRET_TOKEN_123&day=1", retries=0)
    feed = type(feed)(**{**feed.__dict__, "params": {"appkey": "APPKEY_456"}})
    with pytest.raises(SourceError) as failed:
        list(feed.batches(None))
    message = str(failed.value)
    assert "SECRET_TOKEN_123" not in message and "APPKEY_456" not in message
    assert "access_token=***" in message and "day=1" in message and "HTTP 500" in message


@pytest.mark.parametrize(
    "content_type", ["text/plain", "text/json", "application/json", "application/json; charset=utf-8"]
)
def test_chinese_json_is_read_as_utf8_whatever_the_content_type_and_with_a_bom(api, tmp_path, content_type):
    # text/* without a charset was decoded as Latin-1 (茶叶 stored as è¶å¶), and a byte-order mark always refused.
    body = "\ufeff" + json.dumps({"data": [{"product": "茶叶"}]}, ensure_ascii=False)
    server = api(lambda path, query, _: ok(body.encode("utf-8"), **{"Content-Type": content_type}))
    assert [r.data["product"] for b in source(server, tmp_path).batches(None) for r in b.records] == ["茶叶"]


def test_a_page_of_too_many_items_is_refused(api, tmp_path):
    server = api(lambda path, query, _: ok(b'{"data": [' + b",".join([b"{}"] * 5001) + b"]}"))
    with pytest.raises(SourceError, match="5001 项，超过 5000 项（max_items）"):
        list(source(server, tmp_path, max_items=5000).batches(None))


def test_json_nested_past_the_recursion_limit_is_a_source_error_not_a_crash(api, tmp_path):
    server = api(lambda path, query, _: ok(b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"))
    with pytest.raises(SourceError, match="回应不是 JSON"):
        list(source(server, tmp_path).batches(None))


def test_a_next_link_that_is_not_text_is_a_source_error(api, tmp_path):
    server = api(lambda path, query, _: ok({"data": [{"id": 1}], "next": 2}))
    with pytest.raises(SourceError, match="不是文本"):
        list(source(server, tmp_path, next="next").batches(None))


def test_an_hour_long_retry_after_is_waited_for_at_most_the_cap(api, tmp_path):
    # urllib3 honoured "Retry-After: 3600" for each of three retries: the run, and `etl watch` behind it, slept hours.
    from etl.sources import http_json

    server = api(lambda path, query, _: ok({"data": []}))
    retry = source(server, tmp_path).session().get_adapter(server.url).max_retries
    answer = type("Answer", (), {"headers": {"Retry-After": "3600"}})()
    assert retry.get_retry_after(answer) == http_json.RETRY_AFTER_CAP <= 60
    assert retry.new(total=1).get_retry_after(answer) == http_json.RETRY_AFTER_CAP  # each retry keeps the cap
