"""The query cache on the real Redis: two apps (as two gunicorn workers) share entries; a load invalidates them;
entries are JSON (a pickle planted there is never run) and the namespace is capped."""

from __future__ import annotations

import pickle
import uuid

import pytest
from flask import Flask
from flask_caching import Cache

from dashboard import cache as cache_module
from dashboard.app import create_app
from dashboard.rediscache import INDEX, CappedRedisCache
from etl.demo.sample import BOARD_VILLAGE, TOWNSHIP, build_sample
from etl.warehouse.db import bump_version, make_engine, migrate
from etl.warehouse.settings import Settings
from tests.dash_requests import page
from tests.integration.test_cache_json import Planted
from tests.shared_fixtures import unavailable

pytestmark = pytest.mark.integration
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        unavailable(f"Redis not reachable at 127.0.0.1:6379 ({type(error).__name__})")
    return REDIS_URL


def test_two_workers_share_an_entry_and_a_load_invalidates_it(tmp_path, redis_url, monkeypatch):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    settings = Settings.load(var_dir=str(tmp_path), cache_redis_url=redis_url)
    config = {**cache_module.cache_config(settings), "CACHE_KEY_PREFIX": f"rb-test-{uuid.uuid4().hex}:"}
    assert config["CACHE_TYPE"] == "dashboard.rediscache.CappedRedisCache"
    workers = []
    for _ in range(2):
        app = Flask(__name__)
        shared = Cache()
        shared.init_app(app, config=config)
        workers.append((app, shared))
    calls = []

    def expensive(engine, scope):
        calls.append(scope)
        return {"scope": scope, "n": len(calls)}

    def ask(worker):
        app, shared = worker
        monkeypatch.setattr(cache_module, "cache", shared)
        with app.app_context():
            return cache_module.versioned(expensive)(engine, "990101000000")

    first = ask(workers[0])
    assert ask(workers[1]) == first and len(calls) == 1  # the second worker found the first one's entry
    with engine.begin() as connection:
        bump_version(connection)  # what every committed load does
    fresh = ask(workers[1])
    assert fresh != first and len(calls) == 2
    assert ask(workers[0]) == fresh and len(calls) == 2
    engine.dispose()


def _draw(app, pathnames) -> None:
    client = app.server.test_client()
    for pathname in pathnames:
        answer = client.post("/_dash-update-component", json=page(pathname))
        assert answer.status_code == 200
        answer.close()  # the answers computed are written once the response is done


def test_the_screens_store_json_in_redis_and_never_run_a_planted_pickle(tmp_path, redis_url):
    import redis

    build_sample(tmp_path / "var")
    app = create_app(Settings.load(var_dir=str(tmp_path / "var"), cache_redis_url=redis_url))
    backend = app.server.extensions["cache"][cache_module.cache]
    backend.key_prefix = prefix = f"rb-test-{uuid.uuid4().hex}:"
    client = redis.Redis.from_url(redis_url)
    pages = ["/screen/county", f"/screen/county?region={TOWNSHIP}", f"/board/{BOARD_VILLAGE}", "/stop/S01"]
    try:
        _draw(app, pages)
        keys = [key for key in client.scan_iter(f"{prefix}*") if key != f"{prefix}{INDEX}".encode()]
        assert len(keys) > 20
        for key in keys:
            value = client.get(key)
            assert not value.startswith((b"!", b"\x80")), f"{key} holds a pickle"
            assert 0 < client.ttl(key) <= cache_module.TIMEOUT  # and every entry expires
        # Someone with write access to Redis plants pickles (cachelib's own format): read as misses, never run.
        marker = tmp_path / "ran"
        for key in keys:
            client.set(key, b"!" + pickle.dumps(Planted(str(marker))))
        _draw(app, pages)
        assert not marker.exists(), "a pickle from Redis was run in the web worker"
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


def test_the_namespace_holds_at_most_its_limit_oldest_out_first(redis_url):
    import redis

    prefix = f"rb-test-{uuid.uuid4().hex}:"
    capped = CappedRedisCache(redis.Redis.from_url(redis_url), key_prefix=prefix, limit=5)
    try:
        for n in range(12):
            assert capped.set(f"q:{n}", {"n": n}, timeout=600)
        kept = sorted(key.decode() for key in capped._write_client.scan_iter(f"{prefix}q:*"))
        assert set(kept) == {f"{prefix}q:{n}" for n in range(7, 12)}
        assert capped.get("q:11") == {"n": 11} and capped.get("q:0") is None
        assert capped._write_client.zcard(f"{prefix}{INDEX}") == 5
    finally:
        for key in capped._write_client.scan_iter(f"{prefix}*"):
            capped._write_client.delete(key)
