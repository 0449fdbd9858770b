"""Transports against real peers: a local HTTP server, the local Mosquitto and a fresh PostgreSQL database."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import create_engine, text

from etl.sources import source_from_config
from etl.sources.base import SourceError
from etl.sources.mqtt import Mqtt
from tests.mqtt_county import forget_session, publish_all

pytestmark = pytest.mark.integration

# ---------------------------------------------------------------- HTTP


@dataclass
class Answer:
    status: int = 200
    body: object = None  # JSON-encoded unless bytes
    hang: bool = False


@dataclass
class Server:
    """A real HTTP server on a free loopback port; ``respond`` decides each answer from path and query."""

    respond: Callable[[str, dict[str, str], dict[str, str]], Answer]
    requests: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    servers: list[tuple[ThreadingHTTPServer, Server]] = []

    def start(respond) -> Server:
        server = Server(respond)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                server.requests.append(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                answer = server.respond(parts.path, query, dict(self.headers))
                if answer.hang:
                    server.release.wait(10)
                    return
                body = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "text/html" if isinstance(answer.body, bytes) else "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
        server.url = f"http://127.0.0.1:{httpd.server_port}"
        servers.append((httpd, server))
        return server

    yield start
    for httpd, server in servers:
        server.release.set()
        httpd.shutdown()
        httpd.server_close()


READINGS = [{"id": i, "device": f"bin-{i:04d}", "updated_at": f"2024-03-01T08:0{i}:00"} for i in range(5)]


def paged_api(token: str = "s3cret"):
    """Items newer than ``since``, ``page_size`` per page, only with the right bearer token."""

    def respond(path, query, headers):
        if headers.get("Authorization") != f"Bearer {token}":
            return Answer(401, {"error": "unauthorized"})
        newer = [item for item in READINGS if item["updated_at"] > query.get("since", "")]
        size, page = int(query["page_size"]), int(query["page"])
        return Answer(200, {"code": 0, "data": newer[(page - 1) * size : page * size]})

    return respond


def http_config(server: Server, **extra) -> dict:
    return {
        "type": "http",
        "url": f"{server.url}/api/readings",
        "items": "data",
        "page_param": "page",
        "page_size": 2,
        "since_param": "since",
        "watermark_field": "updated_at",
        "token_env": "SOURCES_TEST_TOKEN",
        "backoff": 0,
        **extra,
    }


def test_http_pages_since_watermark_with_bearer_token(serve, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCES_TEST_TOKEN", "s3cret")
    server = serve(paged_api())
    source = source_from_config(http_config(server), tmp_path)
    batches = list(source.batches(None))
    assert [[record.data["id"] for record in batch.records] for batch in batches] == [[0, 1], [2, 3], [4]]
    assert [batch.watermark for batch in batches] == [
        "2024-03-01T08:01:00",
        "2024-03-01T08:03:00",
        "2024-03-01T08:04:00",
    ]
    assert batches[1].records[1].location == "HTTP 第 2 页第 2 项"
    assert "since" not in server.requests[0]
    # The next run asks only for what is newer than the stored watermark.
    assert [r.data["id"] for b in source.batches("2024-03-01T08:02:00") for r in b.records] == [3, 4]
    assert "since=2024-03-01T08%3A02%3A00" in server.requests[-1]
    assert list(source.batches("2024-03-01T08:04:00")) == []


def test_http_wrong_token_is_a_source_error_naming_url_and_status(serve, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCES_TEST_TOKEN", "wrong")
    server = serve(paged_api())
    with pytest.raises(SourceError, match=r"127\.0\.0\.1.*/api/readings.*HTTP 401"):
        list(source_from_config(http_config(server), tmp_path).batches(None))


def test_http_next_url_paging_and_non_object_items(serve, tmp_path):
    def respond(path, query, headers):
        page = int(query.get("cursor", "1"))
        following = f"/feed?cursor={page + 1}" if page < 3 else None
        return Answer(200, {"items": [{"n": page}, "junk"] if page == 2 else [{"n": page}], "next": following})

    server = serve(respond)
    config = {"type": "http", "url": f"{server.url}/feed", "items": "items", "next": "next"}
    source = source_from_config(config, tmp_path)
    batches = list(source.batches(None))
    assert [[r.data["n"] for r in b.records] for b in batches] == [[1], [2], [3]]
    [issue] = batches[1].issues
    assert (issue.location, issue.field, issue.kind) == ("第 2 页第 2 项", "item", "not an object")
    assert issue.file.endswith("/feed?cursor=2")


def test_http_500_then_recovery_is_retried(serve, tmp_path):
    def respond(path, query, headers):
        failing = len(server.requests) <= 2
        return Answer(500, {"error": "busy"}) if failing else Answer(200, {"data": [{"id": 1}]})

    server = serve(respond)
    source = source_from_config({"type": "http", "url": server.url, "items": "data", "backoff": 0}, tmp_path)
    assert [r.data for b in source.batches(None) for r in b.records] == [{"id": 1}]
    assert len(server.requests) == 3


def test_http_always_500_is_a_source_error_after_retries(serve, tmp_path):
    server = serve(lambda path, query, headers: Answer(500, {"error": "down"}))
    config = {"type": "http", "url": f"{server.url}/api", "items": "data", "retries": 2, "backoff": 0}
    with pytest.raises(SourceError, match=r"127\.0\.0\.1:\d+/api.*HTTP 500，已重试 2 次"):
        list(source_from_config(config, tmp_path).batches(None))
    assert len(server.requests) == 3


def test_http_hanging_server_is_a_source_error_after_the_timeout(serve, tmp_path):
    server = serve(lambda path, query, headers: Answer(hang=True))
    config = {"type": "http", "url": f"{server.url}/slow", "items": "data", "timeout": 0.2, "retries": 1, "backoff": 0}
    with pytest.raises(SourceError, match=r"/slow：超时，已重试 1 次"):
        list(source_from_config(config, tmp_path).batches(None))
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"<html>502 Bad Gateway</html>", "回应不是 JSON"), ({"rows": []}, "回应中没有列表「data」")],
)
def test_http_non_json_or_missing_items_is_a_source_error(serve, tmp_path, body, message):
    server = serve(lambda path, query, headers: Answer(200, body))
    with pytest.raises(SourceError, match=message):
        list(source_from_config({"type": "http", "url": server.url, "items": "data"}, tmp_path).batches(None))


def test_http_unreachable_is_a_source_error(tmp_path):
    config = {"type": "http", "url": "http://127.0.0.1:1/api", "items": "data", "retries": 1, "backoff": 0}
    with pytest.raises(SourceError, match=r"HTTP 数据源 http://127\.0\.0\.1:1/api：无法连接"):
        list(source_from_config(config, tmp_path).batches(None))


# ---------------------------------------------------------------- MQTT


@pytest.fixture
def mqtt_run(mqtt_broker):
    """A unique topic prefix and client id for one test; the broker forgets the test session afterwards."""
    run = uuid.uuid4().hex[:12]
    client_ids: list[str] = []
    host, port = mqtt_broker

    def source(**config) -> Mqtt:
        config = {"type": "mqtt", "host": host, "port": port, "topics": [f"test/{run}/#"], **config}
        config.setdefault("client_id", f"etl-test-{run}")
        config.setdefault("idle_seconds", 1.0)
        config.setdefault("batch_seconds", 0.2)
        config.setdefault("session_expiry", 60)
        client_ids.append(config["client_id"])
        return source_from_config(config, None)

    def publish(topic: str, *payloads: bytes | str) -> None:
        publish_all(host, port, [(f"test/{run}/{topic}", payload) for payload in payloads])

    yield source, publish, run
    for client_id in set(client_ids):
        forget_session(host, port, client_id)


def drain(source: Mqtt, settle: str = "commit") -> list:
    """Every batch until the source goes idle, each committed (acked) or failed."""
    batches = []
    for batch in source.batches(None):
        batches.append(batch)
        (batch.on_commit if settle == "commit" else batch.on_failure)()
        if settle == "fail-once":
            settle = "commit"
    return batches


def payloads(batches) -> list:
    return [(r.data.get("n"), r.data["_topic"]) for b in batches for r in b.records]


def test_mqtt_messages_arrive_as_records_and_bad_payloads_as_issues(mqtt_run):
    make, publish, run = mqtt_run
    source = make()
    source.connect()  # the session's subscription must exist before anything is published
    publish("env/bin/0012", json.dumps({"n": 1, "fill": 80}), json.dumps([{"n": 2}, {"n": 3}, 4]))
    publish("env/air/0001", "{not json", json.dumps({"n": 5, "村": "城关村"}).encode("gbk"))
    batches = drain(source)
    records = [r for b in batches for r in b.records]
    assert sorted(payloads(batches)) == [
        (1, f"test/{run}/env/bin/0012"),
        (2, f"test/{run}/env/bin/0012"),
        (3, f"test/{run}/env/bin/0012"),
        (5, f"test/{run}/env/air/0001"),
    ]
    assert records[0].location == f"MQTT 主题 test/{run}/env/bin/0012"
    assert next(r for r in records if r.data["n"] == 5).data["村"] == "城关村"
    issues = sorted((i.file, i.location, i.field, i.kind) for b in batches for i in b.issues)
    assert issues == [
        (f"MQTT 主题 test/{run}/env/air/0001", "", "payload", "malformed json"),
        (f"MQTT 主题 test/{run}/env/bin/0012", "第 3 项", "payload", "not an object"),
    ]
    assert drain(make()) == []  # acked on commit: a new connection of the session gets nothing again


def test_the_bad_items_of_a_list_payload_are_kept_one_by_one_not_the_whole_message_each(mqtt_run):
    # Each bad item was quarantined with the whole message as its raw input: a 10 KB list of numbers wrote
    # 5,000 rows of 10 KB, 50 MB from one message. Each item is kept once, with its topic.
    make, publish, run = mqtt_run
    source = make()
    source.connect()
    payload = json.dumps([{"n": 1}, *range(2, 1001)])  # within the 1,000 readings a message may carry
    publish("env/bin/0012", payload)
    issues = [issue for batch in drain(source) for issue in batch.issues]
    assert len(issues) == 999
    assert issues[0].location == "第 2 项" and issues[0].raw == {"_topic": f"test/{run}/env/bin/0012", "item": 2}
    assert [issue.raw["item"] for issue in issues] == list(range(2, 1001))  # nothing lost
    assert sum(len(json.dumps(issue.raw)) for issue in issues) < 30 * len(payload)


def test_mqtt_batch_size_caps_each_batch(mqtt_run):
    make, publish, _ = mqtt_run
    source = make(batch_size=2)
    source.connect()
    publish("x", *(json.dumps({"n": n}) for n in range(5)))
    batches = drain(source)
    assert [len(batch.records) for batch in batches] == [2, 2, 1]
    assert sorted(n for n, _ in payloads(batches)) == [0, 1, 2, 3, 4]


def test_mqtt_failed_batch_is_redelivered_in_the_same_run(mqtt_run):
    make, publish, _ = mqtt_run
    source = make()
    source.connect()
    publish("x", *(json.dumps({"n": n}) for n in range(3)))
    batches = drain(source, settle="fail-once")
    first, *rest = [sorted(n for n, _ in payloads([batch])) for batch in batches]
    assert first == [0, 1, 2]
    assert sorted(n for batch in rest for n in batch) == [0, 1, 2]  # again, after the failure
    assert drain(make()) == []


def test_mqtt_unacked_messages_come_back_to_a_new_client_with_the_same_id(mqtt_run):
    make, publish, _ = mqtt_run
    first = make()
    first.connect()
    publish("x", *(json.dumps({"n": n}) for n in range(3)))
    for batch in first.batches(None):
        assert len(batch.records) == 3
        break  # the process "dies" before the load commits: nothing is acked
    assert first._client is None  # leaving the loop closed the connection
    again = drain(make())
    assert sorted(n for n, _ in payloads(again)) == [0, 1, 2]
    assert drain(make()) == []


def test_mqtt_unreachable_broker_is_a_source_error(tmp_path):
    source = source_from_config({"type": "mqtt", "port": 1, "topics": ["x/#"], "client_id": "etl-nowhere"}, tmp_path)
    with pytest.raises(SourceError, match=r"127\.0\.0\.1:1 \(etl-nowhere\)：无法连接代理"):
        next(iter(source.batches(None)))


# ---------------------------------------------------------------- SQL


def test_sql_rows_come_in_chunks_and_the_watermark_progresses(postgres_url, tmp_path):
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE sales (id int, village text, amount numeric, updated_at timestamptz)"))
        connection.execute(
            text("INSERT INTO sales VALUES (:id, :village, :amount, :at)"),
            [
                {"id": i, "village": "城关村", "amount": 10 * i, "at": f"2024-03-0{i} 08:00:00+08"}
                for i in (5, 1, 4, 2, 3)  # out of order on purpose: the source orders by the since column
            ],
        )
    config = {
        "type": "sql",
        "url": postgres_url,
        "query": "SELECT id, village, amount, updated_at FROM sales WHERE updated_at >= :since",
        "since_column": "updated_at",
        "batch_size": 2,
    }
    source = source_from_config(config, tmp_path)
    batches = list(source.batches(None))
    assert [[r.data["id"] for r in b.records] for b in batches] == [[1, 2], [3, 4], [5]]
    assert batches[0].records[0].data["village"] == "城关村"
    assert batches[2].records[0].location == "SQL 第 5 行"
    marks = [batch.watermark for batch in batches]
    assert marks[0] < marks[1] < marks[2] and marks[2].startswith("2024-03-05")
    # Rows at the boundary are read again (>=); new rows after it arrive.
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO sales VALUES (6, '新庄村', 60, '2024-03-06 08:00:00+08')"))
    later = list(source.batches(marks[-1]))
    assert [r.data["id"] for b in later for r in b.records] == [5, 6]
    assert later[-1].watermark.startswith("2024-03-06")
    engine.dispose()


def test_sql_database_down_is_a_source_error_with_the_password_masked(tmp_path):
    config = {
        "type": "sql",
        "url": "postgresql+psycopg://etl:TopSecret9@127.0.0.1:1/warehouse",
        "query": "SELECT 1 AS t WHERE :since IS NOT NULL",
        "since_column": "t",
    }
    with pytest.raises(SourceError) as raised:
        list(source_from_config(config, tmp_path).batches(None))
    assert "TopSecret9" not in str(raised.value)
    assert "etl:***@127.0.0.1:1/warehouse" in str(raised.value)


def test_sql_bad_query_is_a_source_error_naming_the_source(postgres_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCES_TEST_SQL_URL", postgres_url)
    config = {"type": "sql", "url_env": "SOURCES_TEST_SQL_URL", "query": "SELECT * FROM missing", "since_column": "x"}
    with pytest.raises(SourceError, match=r"SQL 数据源 postgresql\+psycopg://.*missing"):
        list(source_from_config(config, tmp_path).batches(None))


def test_http_a_page_larger_than_max_mb_is_refused_without_reading_it_all(serve, tmp_path):
    # An API that forgot its paging answers with the whole table: the run would hold it all in memory.
    server = serve(
        lambda path, query, headers: Answer(200, {"data": [{"id": i, "text": "路灯" * 50} for i in range(5000)]})
    )
    config = {"type": "http", "url": f"{server.url}/all", "items": "data", "max_mb": 0.5}
    with pytest.raises(SourceError, match=r"/all：一页的回应超过 0\.5 MB（max_mb），没有读完"):
        list(source_from_config(config, tmp_path).batches(None))
    config["max_mb"] = 10  # the same page within the limit is read whole
    (batch,) = list(source_from_config(config, tmp_path).batches(None))
    assert len(batch.records) == 5000 and batch.records[-1].data["text"] == "路灯" * 50


def test_http_a_page_that_drips_for_longer_than_page_seconds_is_refused(tmp_path):
    # Each byte comes within the timeout, so only a deadline for the whole page ends it, and only if a read hands
    # over what has arrived instead of waiting for a full chunk.
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()
    dripped_out = threading.Event()  # the server gave up first: the reader only stopped when it closed

    def drip():
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"data": [')
        ends = time.monotonic() + 30  # a reader without a page deadline fails instead of hanging the suite
        while not stop.is_set() and time.monotonic() < ends:
            try:
                connection.sendall(b" ")  # a byte at a time, each well within the read timeout
            except OSError:
                break
            time.sleep(0.2)
        dripped_out.set()
        connection.close()

    threading.Thread(target=drip, daemon=True).start()
    config = {
        "type": "http",
        "url": f"http://127.0.0.1:{listener.getsockname()[1]}/drip",
        "items": "data",
        "page_seconds": 1,
        "timeout": 2,
        "retries": 0,
    }
    try:
        with pytest.raises(SourceError, match=r"/drip：一页读了 1 秒仍未读完（page_seconds）"):
            list(source_from_config(config, tmp_path).batches(None))
        assert not dripped_out.is_set()
    finally:
        stop.set()
        listener.close()
