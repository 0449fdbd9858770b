"""MQTT transport: QoS 1 messages from a persistent session, acknowledged only after their batch commits."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from etl.dataset import kind_of_value
from etl.sources import json_numbers, paho_properties
from etl.sources.base import Batch, Issue, Record, SourceError
from geo.textfile import decode

TYPE = "mqtt"
WEEK = 7 * 24 * 3600
POLL = 0.05  # seconds between looks at the inbox while a batch fills
paho_properties.install()  # about twice as many messages per second through paho's network thread


# Messages the inbox holds before QoS 0 ones are dropped (QoS 1 ones are never dropped: the broker holds them back).
INBOX_MESSAGES = 10_000


@dataclass
class Mqtt:
    """Subscribes with a fixed client id over MQTT v5 (clean_start off, a session expiry), so the broker keeps
    the subscription and every unacknowledged message while the ETL is down or a load fails.

    MQTT v5 because its Receive Maximum lets two batches of messages be in flight unacknowledged: the
    broker delivers the next batch while this one loads, instead of waiting for its acks. Mosquitto holds
    v3.1.1 clients to ``max_inflight_messages`` (20), which would cap every batch at 20.
    Messages beyond the in-flight window wait in the broker's queue, whose ``max_queued_messages`` (Mosquitto:
    1000) data/deploy/mosquitto-ruralbrain.conf raises, with persistence on. Delivery is at least once: after a
    failed load or a reconnect the same messages come again, which the idempotent upsert absorbs.
    """

    client_id: str
    topics: list[str]
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    batch_size: int = 500
    batch_seconds: float = 1.0
    idle_seconds: float | None = None
    session_expiry: int = WEEK
    connect_timeout: float = 10.0
    keepalive: int = 60
    # A run ends after this long even when messages keep coming (a live stream is never idle): `etl watch` then runs
    # the feeds waiting behind it, and the next run reads the device registry afresh. The broker keeps the rest.
    run_seconds: float = 60.0
    _client: paho.Client | None = field(default=None, init=False, repr=False)
    # paho's thread appends, collect() takes in bulk: a queue.Queue woke this thread for every message, and
    # the two threads passing the GIL back and forth halved the rate messages came in.
    _inbox: deque[tuple[int, paho.MQTTMessage]] = field(default_factory=deque, init=False, repr=False)
    _full: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _redeliver: bool = field(default=False, init=False, repr=False)
    # Counts (re)connections: a message id is only meaningful on the connection that delivered it.
    _connection: int = field(default=0, init=False, repr=False)
    # QoS 0 messages dropped because the inbox was full, since the last batch said so.
    _dropped: int = field(default=0, init=False, repr=False)

    @classmethod
    def from_config(cls, config: dict[str, Any], base_dir: Path | None = None) -> Mqtt:
        """An MQTT source from a feed's ``[source]``; ``password_env`` names an environment variable."""
        options = {key: value for key, value in config.items() if key in cls.__dataclass_fields__}
        if isinstance(options.get("topics"), str):
            options["topics"] = [options["topics"]]
        if "password_env" in config:
            options["password"] = os.environ.get(config["password_env"])
        if not options.get("client_id") or not options.get("topics"):
            raise ValueError("MQTT 数据源：需要 client_id（固定不变，用于持久会话）和 topics")
        # Checked here, where a mistake is the feed's own: a port of "18x3" was a TypeError deep in paho that ended
        # `etl run` for every feed after it.
        for key, kind in (("port", int), ("keepalive", int), ("batch_size", int), ("session_expiry", int)):
            options[key] = _number(options, key, kind)
        for key in ("batch_seconds", "idle_seconds", "connect_timeout", "run_seconds"):
            options[key] = _number(options, key, float)
        return cls(**options)

    @property
    def name(self) -> str:
        """The source as errors name it."""
        return f"mqtt {self.host}:{self.port} ({self.client_id})"

    def batches(self, watermark: str | None) -> Iterator[Batch]:
        """Batches of up to batch_size messages or batch_seconds; ends after idle_seconds without messages.

        Settle each batch (commit or failure) before asking for the next: acknowledgements go out on
        the live connection, which closes when iteration ends.
        """
        ends = time.monotonic() + self.run_seconds
        try:
            self.connect()
            while time.monotonic() < ends:
                if self._redeliver:
                    self.reconnect()
                messages = self.collect()
                if not messages:
                    return
                yield self.batch(messages)
        finally:
            self.close()

    def connect(self) -> None:
        """Connect, resume the session and wait until the subscription is confirmed; SourceError otherwise."""
        if self._client is not None:
            return
        ready = threading.Event()
        refusal: list[str] = []
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=paho.MQTTv5)
        client.manual_ack_set(True)  # acks are sent by on_commit, never by paho on receipt
        client.connect_timeout = self.connect_timeout
        if self.username:
            client.username_pw_set(self.username, self.password)

        def on_connect(client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
            if reason.is_failure:
                refusal.append(f"连接被拒绝：{reason}")
                ready.set()
            else:
                self._connection += 1
                # Again on every reconnect: harmless when the session kept the subscription. Retained messages only
                # for a subscription that is new: on every run they came again, each counted twice.
                retained = SubscribeOptions.RETAIN_SEND_IF_NEW_SUB
                client.subscribe([(topic, SubscribeOptions(qos=1, retainHandling=retained)) for topic in self.topics])

        def on_subscribe(client: paho.Client, userdata: Any, mid: int, reasons: list, properties: Any) -> None:
            refusal.extend(f"订阅被拒绝：{reason}" for reason in reasons if reason.is_failure)
            ready.set()

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = lambda client, userdata, message: self._received(message)
        # paho reconnects by itself after the broker restarts; the session (clean_start off) resumes and the
        # broker resends what was not acknowledged. Retry quickly at first, then at most every 10 s.
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry
        properties.ReceiveMaximum = max(1, min(2 * self.batch_size, 65535))
        try:
            client.connect(self.host, self.port, self.keepalive, clean_start=False, properties=properties)
        except OSError as error:
            raise SourceError(f"{self.name}：无法连接代理（{error}）") from error
        client.loop_start()
        self._client = client
        if not ready.wait(self.connect_timeout) or refusal:
            self.close()
            raise SourceError(f"{self.name}：{'；'.join(refusal) or '代理没有应答'}")

    def collect(self) -> list[tuple[int, paho.MQTTMessage]]:
        """The next (connection, message) pairs: batch_size of them, or what came within batch_seconds of the
        first; [] when idle."""
        messages: list[tuple[int, paho.MQTTMessage]] = []
        started = time.monotonic()
        first_seen = None
        while True:
            while self._inbox and len(messages) < self.batch_size:
                messages.append(self._inbox.popleft())
            if len(messages) >= self.batch_size:
                break
            now = time.monotonic()
            if messages:
                first_seen = first_seen or now
                wait = first_seen + self.batch_seconds - now
            elif self.idle_seconds is None:
                wait = 1.0  # watching: wait on, a second at a time so Ctrl-C stays responsive
            else:
                wait = started + self.idle_seconds - now
            if wait <= 0:
                break
            self._full.clear()
            if not self._inbox:
                # Woken early when a whole batch is there; otherwise look again every POLL seconds.
                self._full.wait(min(wait, POLL))
        return messages

    def _received(self, message: paho.MQTTMessage) -> None:
        """paho's on_message: keep the message with the connection that delivered it. A QoS 0 message finding
        the inbox full is dropped and counted: the broker holds QoS 1 ones back (ReceiveMaximum), but sends QoS 0
        ones however fast they come, and a flood faster than the load would fill the memory."""
        if message.qos == 0 and len(self._inbox) >= max(INBOX_MESSAGES, 4 * self.batch_size):
            self._dropped += 1
            return
        self._inbox.append((self._connection, message))
        if len(self._inbox) >= self.batch_size:
            self._full.set()

    def batch(self, messages: list[tuple[int, paho.MQTTMessage]]) -> Batch:
        """Records and Issues of some messages; committing acks them all, failing lets the broker redeliver."""
        client = self._client
        records: list[Record] = []
        issues: list[Issue] = []
        for _connection, message in messages:
            parsed, rejected = _parse(message)
            records.extend(parsed)
            issues.extend(rejected)

        def ack() -> None:
            # In receive order, as MQTT requires; malformed messages too, or they would come back forever.
            # Messages of an earlier connection are not acked: after a reconnect the broker resends them (the
            # idempotent load counts them as duplicates) and their ids may already name other messages.
            with _one_wake(client):
                for connection, message in messages:
                    if connection == self._connection:
                        client.ack(message.mid, message.qos)

        def redeliver() -> None:
            self._redeliver = True

        watermark = datetime.now(UTC).isoformat(timespec="seconds")  # when received: for the run log only
        notes = []
        if self._dropped:
            notes.append(f"MQTT 收件队列已满，丢弃了 {self._dropped} 条 QoS 0 消息（传感器应以 QoS 1 发布）")
            self._dropped = 0
        return Batch(
            records, issues, watermark, on_commit=ack, on_failure=redeliver, on_interrupt=redeliver, notes=notes
        )

    def reconnect(self) -> None:
        """A new connection, on which the broker resends what the old one left unacknowledged."""
        self.close()
        self._redeliver = False
        self.connect()

    def close(self) -> None:
        """Disconnect, keeping the session (subscription and unacknowledged messages) on the broker."""
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()
        # Whatever this connection delivered and nobody took comes again on the next one.
        self._inbox.clear()


@contextmanager
def _one_wake(client: paho.Client) -> Iterator[None]:
    """Queue packets from this thread and wake paho's network thread once, to send them all.

    paho wakes its thread for every packet queued from another thread (a byte on a socket pair, then a
    thread switch for the GIL): acking 100,000 messages one wake each took about 5 s of CPU.
    Relies on paho's private socket pair (paho-mqtt 2.x); without it, every ack wakes the thread as before.
    """
    wake = getattr(client, "_sockpairW", None)
    if wake is None:
        yield
        return
    client._sockpairW = None
    try:
        yield
    finally:
        if client._sockpairW is None:  # unless paho reconnected meanwhile and made a new pair
            client._sockpairW = wake
        # BlockingIOError: a wake-up is already pending; other OSErrors: the pair closed with the connection.
        with suppress(OSError):
            wake.send(b"0")


def _number(options: dict[str, Any], key: str, kind: type) -> Any:
    """A numeric setting as ``kind`` (absent stays absent, as None); ValueError naming it otherwise."""
    value = options.get(key)
    if value is None:
        return Mqtt.__dataclass_fields__[key].default
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"MQTT 数据源：{key} 应为正数，而不是 {value!r}")
    return kind(value)


# Readings one message may carry as a JSON list; a longer list is quarantined whole, as one entry: a 180 kB message
# of 90,000 numbers had made 90,000 quarantine rows (five of them 450,000 rows and 1.1 GB of memory).
MESSAGE_READINGS = 1_000
# Positions a grouped reason lists before "等 N 项".
POSITIONS_SHOWN = 5

# What json's errors (English) say, in Chinese, by how they begin.
JSON_ERRORS = (
    ("Expecting value", "缺少值（或有多余的逗号）"),
    ("Expecting ',' delimiter", "缺少逗号"),
    ("Expecting ':' delimiter", "缺少冒号"),
    ("Expecting property name enclosed in double quotes", "键名应是双引号括起的文本（或有多余的逗号）"),
    ("Unterminated string", "文本没有结束的引号"),
    ("Invalid control character", "文本中有控制字符"),
    ("Invalid \\uXXXX escape", "\\u 转义无效"),
    ("Invalid \\escape", "转义无效"),
    ("Extra data", "JSON 之后还有多余的内容"),
)


def _json_error(error: json.JSONDecodeError) -> str:
    """Where and why json refused a text, in Chinese: 第 N 行第 M 列缺少逗号."""
    why = next((chinese for english, chinese in JSON_ERRORS if error.msg.startswith(english)), "格式错误")
    return f"第 {error.lineno} 行第 {error.colno} 列{why}"


def _payload_text(payload: bytes, where: str) -> str:
    """A message as text for the quarantine, whole: decoded as it was read, or with undecodable bytes as \\xNN."""
    try:
        return decode(payload, where)[0]
    except ValueError:
        return payload.decode("utf-8", "backslashreplace")


def _parse(message: paho.MQTTMessage) -> tuple[list[Record], list[Issue]]:
    """A JSON object (or list of objects) payload as Records with ``_topic``; anything else as an Issue."""
    # The broker's message id says nothing to an operator: the topic does (by the feed's mapping, the device too),
    # and the runner adds the device of a record.
    topic, where = message.topic, f"MQTT 主题 {message.topic}"
    if not message.payload:
        return [], []  # an empty message clears a retained one: acknowledged, nothing to load

    def whole_message(kind: str, detail: str) -> tuple[list[Record], list[Issue]]:
        # The whole message, however long (the broker's max_packet_size bounds it): `quarantine retry` and an
        # operator have all of it.
        raw = {"_topic": topic, "payload": _payload_text(message.payload, where)}
        return [], [Issue(where, "", "payload", kind, detail, raw)]

    try:
        payload = orjson.loads(message.payload)  # UTF-8 JSON, the usual case, parsed in C
    except orjson.JSONDecodeError:
        try:  # a BOM, GBK text or a JSON extension orjson refuses (NaN, 1e400, past 64 bits): the tolerant path
            text, _ = decode(message.payload, where)
            # NaN and Infinity a device wrote are no empty cell: they keep their text, and so does 1e400.
            payload = json_numbers.loads(text)
            # What orjson refused for lone surrogates ("\ud800") json takes, and no row holding one can be
            # written: the batch failed, and the broker sent the message back for ever.
            orjson.dumps(payload, default=str)
        except RecursionError:  # nested past the parsers' depth: it had stopped the feed at this message for good
            return whole_message("malformed json", "不是可用的 JSON：嵌套过深")
        except json.JSONDecodeError as error:
            return whole_message("malformed json", f"不是可用的 JSON：{_json_error(error)}")
        except TypeError:
            return whole_message(
                "malformed json", "不是可用的 JSON：含有无效的 Unicode 代理字符（如 \\ud800），无法保存"
            )
        except ValueError as error:  # neither UTF-8 nor GBK: decode's reason names the topic already
            return whole_message("encoding", str(error).removeprefix(f"{where}：") or "编码无法识别")
    if not isinstance(payload, list):
        if isinstance(payload, dict):
            return [Record(where, {**payload, "_topic": topic})], []
        return whole_message("not an object", f"应为 JSON 对象（或对象的列表），收到的是{kind_of_value(payload)}")
    if len(payload) > MESSAGE_READINGS:
        detail = f"一条消息有 {len(payload)} 项，超过每条消息 {MESSAGE_READINGS} 项的上限；整条消息已保留"
        return whole_message("too long", detail)
    records: list[Record] = []
    bad: dict[tuple[str, bytes], list[int]] = {}  # (what it is, the item as JSON) → its positions
    items: dict[bytes, Any] = {}
    for number, item in enumerate(payload, start=1):
        if isinstance(item, dict):
            records.append(Record(f"{where}，第 {number} 项", {**item, "_topic": topic}))
            continue
        key = orjson.dumps(item, default=str)
        items.setdefault(key, item)
        bad.setdefault((kind_of_value(item), key), []).append(number)
    # The same bad item many times over is one entry with its count and positions: each kept once, nothing lost.
    issues = []
    for (kind, key), positions in bad.items():
        detail = f"应为 JSON 对象，收到的是{kind}"
        raw = {"_topic": topic, "item": items[key]}
        if len(positions) > 1:
            detail += f"（同一值共 {len(positions)} 项）"
            raw["count"] = len(positions)
            raw["positions"] = positions
        issues.append(Issue(where, _positions(positions), "payload", "not an object", detail, raw))
    return records, issues


def _positions(positions: list[int]) -> str:
    """第 3 项, 第 2、5 项, 第 2、5、7、8、9 等 12 项."""
    shown = "、".join(map(str, positions[:POSITIONS_SHOWN]))
    more = f" 等 {len(positions)} 项" if len(positions) > POSITIONS_SHOWN else " 项"
    return f"第 {shown}{more}"


SOURCE = Mqtt
