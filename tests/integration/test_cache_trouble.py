"""The screens' cache in trouble only slows the screens down, never stops or misleads them: a full cache folder, a
dead or hung Redis, a warehouse restored from a backup, two deployments sharing one Redis, hosts whose clocks
disagree. Against the real filesystem and the real Redis (each test in a key prefix of its own)."""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import shutil
import signal
import socket
import threading
import time
import types
import uuid
from unittest import mock

import pytest
from flask import Flask
from flask_caching import Cache
from sqlalchemy import select, update

from dashboard import cache as cache_module
from dashboard import flight, rediscache
from dashboard.app import create_app
from dashboard.filecache import SweptFileSystemCache
from dashboard.rediscache import CappedRedisCache
from etl.warehouse.db import bump_version, make_engine, migrate
from etl.warehouse.schema import warehouse_version
from etl.warehouse.settings import Settings
from tests.shared_fixtures import unavailable

pytestmark = pytest.mark.integration
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable(f"Redis not reachable at 127.0.0.1:6379 ({type(error).__name__})")
    return client


@pytest.fixture
def prefix(redis_client):
    """A key prefix of this test's own, emptied afterwards."""
    own = f"rb-trouble-{uuid.uuid4().hex}:"
    yield own
    for key in redis_client.scan_iter(f"{own}*"):
        redis_client.delete(key)


def _counted_sleeps(monkeypatch, on_sleep=None) -> list[int]:
    """Count the single flight's waits (each really POLL_SECONDS long); ``on_sleep(n)`` runs before the n-th."""
    sleeps: list[int] = []
    real = time.sleep

    def sleep(seconds):
        sleeps.append(1)
        if on_sleep:
            on_sleep(len(sleeps))
        real(seconds)

    monkeypatch.setattr(flight, "time", types.SimpleNamespace(monotonic=time.monotonic, sleep=sleep))
    return sleeps


def _app_with(config: dict, monkeypatch) -> Flask:
    app = Flask(__name__)
    shared = Cache()
    shared.init_app(app, config=config)
    monkeypatch.setattr(cache_module, "cache", shared)
    return app


# 1. A full cache folder: the lock cannot be written, so nobody holds it and nobody may wait for it.


def _ask_on_a_full_disk(folder: str, wait_seconds: float, sender) -> None:
    """In a child process whose files cannot grow (RLIMIT_FSIZE 0: a write fails with EFBIG as on a full disk,
    while creating a file still works): ask for an uncached answer; send (answer, computations, waits)."""
    import logging

    logging.disable(logging.CRITICAL)  # stderr may be a file here too, and could not grow either
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    flight.WAIT_SECONDS = wait_seconds
    sleeps = []
    flight.time = types.SimpleNamespace(monotonic=time.monotonic, sleep=lambda s: (sleeps.append(1), time.sleep(s)))
    app = Flask(__name__)
    shared = Cache()
    shared.init_app(app, config={"CACHE_TYPE": "dashboard.filecache.SweptFileSystemCache", "CACHE_DIR": folder})
    cache_module.cache = shared
    computations = []
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
    with app.app_context():
        answer = cache_module._kept("q:full", lambda: computations.append(1) or {"n": 1})
    sender.send((answer, len(computations), len(sleeps)))


def test_a_full_cache_folder_computes_at_once_instead_of_waiting(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_ask_on_a_full_disk, args=(str(folder), 2.0, sender))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    answer, computations, waits = receiver.recv()
    # Before: add returned False on ENOSPC, read as "another worker holds the lock": WAIT_SECONDS of polling.
    assert (answer, computations, waits) == ({"n": 1}, 1, 0)


def test_the_file_lock_still_refuses_a_second_taker(tmp_path):
    folder = tmp_path / "cache"
    backend = SweptFileSystemCache(str(folder))
    assert backend.add("flight:k", 1, timeout=10) is True
    assert backend.add("flight:k", 1, timeout=10) is False  # held: "exists" is the only False
    shutil.rmtree(folder)
    with pytest.raises(OSError):
        backend.add("flight:other", 1, timeout=10)  # a folder gone is no lock held by anyone


# 1b. A lock let go without an answer (its holder could not store it, or gave up): the waiters stop waiting.


@pytest.fixture(params=["file", "redis"])
def backend_config(request, tmp_path):
    if request.param == "file":
        return {"CACHE_TYPE": "dashboard.filecache.SweptFileSystemCache", "CACHE_DIR": str(tmp_path / "cache")}
    request.getfixturevalue("redis_client")
    return {
        "CACHE_TYPE": "dashboard.rediscache.CappedRedisCache",
        "CACHE_REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": request.getfixturevalue("prefix"),
    }


def _hold_lock(config: dict, lock: str, pipe) -> None:
    """Another worker: take ``lock`` as the single flight does, say so, let it go when told (or be killed)."""
    backend = Cache(Flask(__name__), config=config).cache
    pipe.send(flight._locked(backend, lock))
    pipe.recv()
    flight._let_go(backend, lock)
    pipe.send("let go")
    pipe.recv()


@contextlib.contextmanager
def _held_by_another_worker(config: dict, lock: str):
    """A process holding ``lock`` in the shared cache; yields (process, pipe: send anything to make it let go)."""
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    holder = context.Process(target=_hold_lock, args=(config, lock, theirs))
    holder.start()
    try:
        assert ours.recv() is True
        yield holder, ours
    finally:
        holder.kill()
        holder.join(timeout=10)


def test_a_waiter_stops_waiting_once_the_lock_is_let_go_without_an_answer(backend_config, monkeypatch):
    app = _app_with(backend_config, monkeypatch)
    monkeypatch.setattr(flight, "WAIT_SECONDS", 2.0)  # 100 polls: what the waiter spent before
    with _held_by_another_worker(backend_config, "flight:q:gone") as (_holder, pipe):  # another worker computes...

        def let_go(count):  # ...and stores nothing
            if count == 3:
                pipe.send("let go")
                assert pipe.recv() == "let go"

        sleeps = _counted_sleeps(monkeypatch, let_go)
        computations = []
        with app.app_context():
            answer = cache_module._kept("q:gone", lambda: computations.append(1) or {"n": 2})
    assert answer == {"n": 2} and computations == [1]
    assert 3 <= len(sleeps) <= 4  # it waited while the lock was held, and no longer
    assert cache_module.cache.get("q:gone") == {"n": 2}  # the waiter took the lock and stored the answer


def test_a_lock_left_by_a_killed_worker_delays_an_answer_at_most_wait_seconds(backend_config, monkeypatch):
    app = _app_with(backend_config, monkeypatch)
    monkeypatch.setattr(flight, "WAIT_SECONDS", 0.3)
    with _held_by_another_worker(backend_config, "flight:q:killed") as (holder, _pipe):
        holder.kill()  # killed -9 while it held the lock
        holder.join(timeout=10)
        sleeps = _counted_sleeps(monkeypatch)
        with app.app_context():
            answer = cache_module._kept("q:killed", lambda: {"n": 3})
    assert answer == {"n": 3}
    if "Redis" in backend_config["CACHE_TYPE"]:  # the lock stays until its TTL: the waiter gives up waiting
        assert 0 < len(sleeps) <= flight.WAIT_SECONDS / flight.POLL_SECONDS + 1
    else:  # the system let go of the dead process's file lock
        assert sleeps == []


def test_a_redis_lock_expires_by_itself(redis_client, prefix):
    capped = CappedRedisCache(redis_client, key_prefix=prefix)
    assert capped.add("flight:q:ttl", 1, timeout=flight.LOCK_SECONDS)
    assert not capped.add("flight:q:ttl", 1, timeout=flight.LOCK_SECONDS)
    # Set with its TTL in one command: a worker killed between SETNX and EXPIRE left a lock for ever.
    assert 0 < redis_client.ttl(f"{prefix}flight:q:ttl") <= flight.LOCK_SECONDS


# 2. Redis down or hung: a miss, the answer computed and shown, Redis left alone for a while.


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _HungRedis:
    """A "Redis" that accepts connections and never answers; it counts them, and lets them go after ``seconds``
    (so that code without a socket timeout fails instead of hanging the test)."""

    def __init__(self, seconds: float = 5.0):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(50)
        self.server.settimeout(0.1)
        self.accepted: list[socket.socket] = []
        self.seconds, self.stop = seconds, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.server.getsockname()[1]}/7"

    def _run(self) -> None:
        started = time.monotonic()
        while not self.stop.is_set() and time.monotonic() - started < self.seconds:
            try:
                self.accepted.append(self.server.accept()[0])
            except TimeoutError:
                continue
        for connection in self.accepted:
            connection.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.server.close()


def _screens_on(redis_url: str, tmp_path, monkeypatch):
    """An app as the screens have it on ``redis_url``, a warehouse, and a query counting its computations."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    settings = Settings.load(var_dir=str(tmp_path), cache_redis_url=redis_url)
    app = _app_with(cache_module.cache_config(settings), monkeypatch)
    calls = []

    def answer(engine, scope):
        calls.append(scope)
        return {"scope": scope}

    return app, engine, cache_module.versioned(answer), calls


def test_redis_down_is_a_miss_and_every_answer_still_comes(tmp_path, monkeypatch):
    app, engine, query, calls = _screens_on(f"redis://127.0.0.1:{_free_port()}/7", tmp_path, monkeypatch)
    scopes = [f"99010100{n}000" for n in range(5)]
    for scope in scopes:
        with app.test_request_context("/"):
            assert query(engine, scope) == {"scope": scope}  # before: redis ConnectionError, a 500
    assert calls == scopes
    assert cache_module.cache.cache.trouble and "ConnectionError" in cache_module.cache.cache.trouble
    engine.dispose()


def test_a_hung_redis_costs_one_socket_timeout_then_is_left_alone(tmp_path, monkeypatch):
    hung = _HungRedis()
    try:
        monkeypatch.setattr(rediscache, "BREAKER_SECONDS", 600.0, raising=False)
        app, engine, query, calls = _screens_on(hung.url, tmp_path, monkeypatch)
        scopes = [f"99010100{n}000" for n in range(5)]
        for scope in scopes:
            with app.test_request_context("/"):
                assert query(engine, scope) == {"scope": scope}
        assert calls == scopes
        assert len(hung.accepted) == 1  # one attempt, timed out; the other queries did not try Redis
        pool = cache_module.cache.cache._write_client.connection_pool
        assert pool.connection_kwargs["socket_timeout"] == cache_module.REDIS_SOCKET_SECONDS
        assert pool.connection_kwargs["socket_connect_timeout"] == cache_module.REDIS_SOCKET_SECONDS
        engine.dispose()
    finally:
        hung.close()


def test_redis_is_asked_again_after_the_breaker_period(redis_client, prefix, monkeypatch):
    capped = CappedRedisCache(redis_client, key_prefix=prefix)
    capped._closed_until = time.monotonic() + 600  # as after a failure
    capped.trouble = "ConnectionError: down"
    assert capped.set("k", {"n": 1}) is False and capped.get("k") is None  # left alone: nothing stored, a miss
    with pytest.raises(rediscache.CacheUnavailable):
        capped.add("flight:k", 1)  # cannot lock: the single flight computes at once
    capped._closed_until = 0.0  # the period is over
    assert capped.set("k", {"n": 1}) is True and capped.get("k") == {"n": 1} and capped.trouble is None


def test_readyz_tells_a_dead_redis_and_healthz_stays_up(tmp_path):
    settings = Settings.load(var_dir=str(tmp_path), cache_redis_url=f"redis://127.0.0.1:{_free_port()}/7")
    migrate(make_engine(settings.warehouse_url))
    client = create_app(settings).server.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["cache"].startswith("unreachable: ConnectionError")
    assert client.get("/healthz").status_code == 200


# 3. A warehouse restored from a backup counts its versions again: the keys must not repeat.


def test_answers_of_a_timeline_lost_to_a_restore_are_never_served(engine, tmp_path, monkeypatch):
    app = _app_with(cache_module.cache_config(Settings.load(var_dir=str(tmp_path / "var"))), monkeypatch)
    names = ["甲村"]
    calls = []

    def village_name(engine, village):
        calls.append(village)
        return names[0]

    query = cache_module.versioned(village_name)

    def ask():
        with app.test_request_context("/"):
            return query(engine, "990101001001")

    with engine.connect() as connection:  # the nightly backup, as far as the version row goes
        backup = connection.execute(select(warehouse_version.c.version, warehouse_version.c.updated_at)).one()
    with engine.begin() as connection:
        lost = bump_version(connection)  # a load after the backup
    assert ask() == "甲村"
    with engine.begin() as connection:  # restore from the backup
        connection.execute(update(warehouse_version).values(version=backup.version, updated_at=backup.updated_at))
    names[0] = "乙村"
    with engine.begin() as connection:
        assert bump_version(connection) == lost  # the same version number again
    assert ask() == "乙村" and len(calls) == 2  # before: 甲村, from the lost timeline's entry


def test_a_process_remembers_nothing_of_a_timeline_lost_to_a_restore(engine, tmp_path, monkeypatch):
    # The in-process memos (regions checked, a county's content, a board, a village's part) were keyed on the
    # version number alone: a worker running through the restore served the lost timeline's until restarted.
    from dashboard import validate

    app = _app_with(cache_module.cache_config(Settings.load(var_dir=str(tmp_path / "var"))), monkeypatch)
    names = ["甲村"]

    def remembered():
        with app.test_request_context("/"):
            return validate._remembered(engine, ("restore-test", str(tmp_path)), lambda: names[0])

    with engine.connect() as connection:
        backup = connection.execute(select(warehouse_version.c.version, warehouse_version.c.updated_at)).one()
    with engine.begin() as connection:
        lost = bump_version(connection)
    assert remembered() == "甲村"
    with engine.begin() as connection:
        connection.execute(update(warehouse_version).values(version=backup.version, updated_at=backup.updated_at))
    names[0] = "乙村"
    with engine.begin() as connection:
        assert bump_version(connection) == lost
    assert remembered() == "乙村"


# 4. Two deployments on one Redis.


def test_two_deployments_sharing_redis_never_read_each_others_answers(redis_client, tmp_path, monkeypatch):
    first = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    migrate(first)
    first.dispose()  # its WAL checkpointed into the file
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")  # a staging copy: same version, same bump
    answers = {}
    prefixes = []
    try:
        for name, data in (("a", "production"), ("b", "staging")):
            settings = Settings.load(
                var_dir=str(tmp_path / name), warehouse_url=f"sqlite:///{tmp_path / name}.db", cache_redis_url=REDIS_URL
            )
            config = cache_module.cache_config(settings)
            prefixes.append(config["CACHE_KEY_PREFIX"])
            app = _app_with(config, monkeypatch)
            engine = make_engine(settings.warehouse_url)

            def which(engine, scope, data=data):
                return data

            with app.test_request_context("/"):
                answers[name] = cache_module.versioned(which)(engine, "990101000000")
            engine.dispose()
        assert answers == {"a": "production", "b": "staging"}  # before: staging showed production's answer
        assert prefixes[0] != prefixes[1] and all(each.startswith("rb:") for each in prefixes)
    finally:
        for each in prefixes:
            for key in redis_client.scan_iter(f"{each}*"):
                redis_client.delete(key)


def test_the_deployment_prefix_holds_no_password_and_is_stable():
    prefix = cache_module.deployment_prefix
    url = "postgresql+psycopg://rb:secret@db.example/ruralbrain"
    assert prefix(url) == prefix(url.replace("secret", "rotated"))  # a new password keeps the cache
    assert "secret" not in prefix(url)
    assert prefix(url) != prefix(url.replace("ruralbrain", "staging"))
    assert prefix("sqlite:////srv/a/warehouse.db") != prefix("sqlite:////srv/b/warehouse.db")


# 5. Hosts whose clocks disagree share one capped namespace.


@pytest.mark.parametrize(("earlier", "later"), [(3600, 0), (0, -3600)], ids=["earlier-ahead", "later-behind"])
def test_a_host_with_a_skewed_clock_never_gets_the_newest_entry_dropped(redis_client, prefix, earlier, later):
    first, second = (CappedRedisCache(redis_client, key_prefix=prefix, limit=4) for _ in range(2))
    real = time.time
    with mock.patch("time.time", lambda: real() + earlier):
        for n in range(4):
            first.set(f"old-{n}", n)  # one host writes first
    with mock.patch("time.time", lambda: real() + later):
        second.set("new", "fresh")  # another writes later
    assert second.get("new") == "fresh"  # before: dropped at once, the oldest by the hosts' clocks
    kept = sorted(key.decode()[len(prefix) :] for key in redis_client.scan_iter(f"{prefix}*"))
    assert kept == ["_keys", "new", "old-1", "old-2", "old-3"]


def test_the_entry_just_stored_is_never_the_one_dropped(redis_client, prefix):
    capped = CappedRedisCache(redis_client, key_prefix=prefix, limit=1)
    for n in range(5):
        assert capped.set(f"q:{n}", n)
        assert capped.get(f"q:{n}") == n
    assert redis_client.zcard(f"{prefix}_keys") == 1
