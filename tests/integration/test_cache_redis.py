"""The query cache on the real Redis: two apps (as two gunicorn workers) share entries; a load invalidates them."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask_caching import Cache

from dashboard import cache as cache_module
from etl.warehouse.db import bump_version, make_engine, migrate
from etl.warehouse.settings import Settings
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
    assert config["CACHE_TYPE"] == "RedisCache"
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
