"""The same answer is never computed twice at once: threads of a worker, and worker processes sharing the file
cache or Redis, asking together for an answer nobody has cached, compute it once and all get it."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask_caching import Cache

from dashboard import cache as cache_module
from etl.warehouse.db import make_engine, migrate
from etl.warehouse.settings import Settings

pytestmark = pytest.mark.integration
REDIS_URL = "redis://127.0.0.1:6379/0"


def _config(var_dir: Path, redis_url: str, prefix: str) -> dict:
    settings = Settings.load(var_dir=str(var_dir), cache_redis_url=redis_url)
    return {**cache_module.cache_config(settings), "CACHE_KEY_PREFIX": prefix}


def _slow_answer(engine, scope: str, count_file: str):
    """An answer that takes a while, counting its computations in a file (shared by processes)."""
    with open(count_file, "a") as handle:
        handle.write("x")
    time.sleep(0.4)
    return {"scope": scope}


def _ask(var_dir: str, redis_url: str, prefix: str, count_file: str, start: float, answers) -> None:
    """One worker: wait for the common start, then ask for the answer from 4 threads."""
    engine = make_engine(f"sqlite:///{Path(var_dir) / 'w.db'}")
    app = Flask(__name__)
    shared = Cache()
    shared.init_app(app, config=_config(Path(var_dir), redis_url, prefix))
    cache_module.cache = shared
    query = cache_module.versioned(_slow_answer)
    got = []

    def thread() -> None:
        with app.app_context():
            got.append(query(engine, "990101000000", count_file))

    threads = [threading.Thread(target=thread) for _ in range(4)]
    time.sleep(max(0.0, start - time.time()))
    for each in threads:
        each.start()
    for each in threads:
        each.join()
    answers.extend(got)


@pytest.mark.parametrize("backend", ["file", "redis"])
def test_workers_and_threads_asking_at_once_compute_once(tmp_path, backend):
    redis_url = ""
    if backend == "redis":
        import redis

        from tests.shared_fixtures import unavailable

        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError as error:
            unavailable(f"Redis not reachable at 127.0.0.1:6379 ({type(error).__name__})")
        redis_url = REDIS_URL
    migrate(make_engine(f"sqlite:///{tmp_path / 'w.db'}"))
    count_file = str(tmp_path / "computations")
    prefix = f"rb-flight-{uuid.uuid4().hex}:"
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        answers = manager.list()
        start = time.time() + 3  # both workers (spawned: a second or two to import) begin together
        workers = [
            context.Process(target=_ask, args=(str(tmp_path), redis_url, prefix, count_file, start, answers))
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert [worker.exitcode for worker in workers] == [0, 0]
        assert list(answers) == [{"scope": "990101000000"}] * 8
    assert Path(count_file).read_text() == "x"  # eight askers, one computation
