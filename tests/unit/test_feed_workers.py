"""An MQTT feed with ``workers = N`` becomes N worker feeds on one shared subscription, each with a session
of its own; a wrong ``workers`` is refused with the file, feed and key named."""

from __future__ import annotations

import pytest

from etl.feeds import FeedConfigError, load_feeds, worker_number

FEED = """
[feeds.sensors]
dataset = "readings"
cadence = "1m"
mapping = {{ device_id = "device", metric = "metric", event_time = "time", value = "value" }}
[feeds.sensors.source]
type = "{type}"
client_id = "county-etl"
topics = {topics}
{extra}
"""


def _feeds(tmp_path, *, type="mqtt", topics='["sensors/#", "plants/#"]', extra=""):
    path = tmp_path / "feeds.toml"
    path.write_text(FEED.format(type=type, topics=topics, extra=extra), encoding="utf-8")
    return load_feeds(path)


def test_workers_share_one_subscription_with_sessions_of_their_own(tmp_path):
    feeds = _feeds(tmp_path, extra="workers = 3")
    assert list(feeds) == ["sensors@1", "sensors@2", "sensors@3"]
    assert [feed.source["client_id"] for feed in feeds.values()] == ["county-etl-1", "county-etl-2", "county-etl-3"]
    assert {tuple(feed.source["topics"]) for feed in feeds.values()} == {
        ("$share/sensors/sensors/#", "$share/sensors/plants/#")
    }
    assert [worker_number(name) for name in feeds] == [1, 2, 3]


def test_one_worker_is_the_feed_itself_and_a_group_can_be_named(tmp_path):
    assert list(_feeds(tmp_path)) == ["sensors"] and worker_number("sensors") == 1
    feeds = _feeds(tmp_path, topics='"sensors/#"', extra='workers = 2\nshare_group = "county"')
    assert feeds["sensors@2"].source["topics"] == ["$share/county/sensors/#"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"extra": "workers = 0"}, "workers：'0' 应为不小于 1 的整数"),
        ({"extra": 'workers = "two"'}, "workers：'two' 应为不小于 1 的整数"),
        ({"extra": "workers = 2", "type": "http"}, "只有 MQTT 来源可以有多个工作进程（这个是 http）"),
        ({"extra": "workers = 2", "topics": '["$share/g/sensors/#"]'}, "自己的 client_id 和 topics（不能用 $share/…）"),
    ],
)
def test_wrong_workers_are_refused_naming_the_file_feed_and_key(tmp_path, options, message):
    with pytest.raises(FeedConfigError) as refused:
        _feeds(tmp_path, **options)
    assert "feeds.toml [feeds.sensors].source" in str(refused.value) and message in str(refused.value)


def test_a_flood_of_qos0_messages_cannot_grow_the_inbox_without_end_and_the_drop_is_told():
    # QoS 1 messages are held back by the broker (ReceiveMaximum); QoS 0 ones kept coming while a batch loaded,
    # all kept in memory: a flood faster than the load grew the process until it died.
    from types import SimpleNamespace

    from etl.sources.mqtt import Mqtt

    source = Mqtt(client_id="flood", topics=["sensors/#"], batch_size=100)
    for number in range(20_000):
        source._received(SimpleNamespace(qos=0, mid=number, topic="sensors/x", payload=b"{}"))
    source._received(SimpleNamespace(qos=1, mid=20_000, topic="sensors/x", payload=b"{}"))  # never dropped
    assert len(source._inbox) <= 10_001
    assert source._inbox[-1][1].mid == 20_000
    batch = source.batch([])
    assert any("丢弃" in note and "QoS 0" in note for note in batch.notes), batch.notes
    assert source.batch([]).notes == []  # told once
