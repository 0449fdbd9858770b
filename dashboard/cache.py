"""The screens' query cache: flask-caching (filesystem, or Redis when CACHE_REDIS_URL is set), keyed by version.

Every key holds the warehouse version, so a load invalidates exactly what it could have changed and no
screen ever shows an answer older than the data; no TTL guesswork.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path

import orjson
from flask import g, has_request_context
from flask_caching import Cache
from sqlalchemy import Engine

from etl.warehouse.db import current_version
from etl.warehouse.settings import Settings

cache = Cache()
# A cached answer lives a day at most: the version in its key, not its age, decides whether it is current.
TIMEOUT = 86400


def cache_config(settings: Settings) -> dict:
    """flask-caching settings for this deployment."""
    if settings.cache_redis_url:
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.cache_redis_url, "CACHE_KEY_PREFIX": "rb:"}
    folder = Path(settings.var_dir) / "cache"
    folder.mkdir(parents=True, exist_ok=True)
    return {"CACHE_TYPE": "dashboard.filecache.SweptFileSystemCache", "CACHE_DIR": str(folder)}


def warehouse_version(engine: Engine) -> int:
    """The warehouse version now: read once per request (one single-row read), then remembered for it."""
    if has_request_context() and "warehouse_version" in g:
        return g.warehouse_version
    with engine.connect() as connection:
        version = current_version(connection)
    if has_request_context():
        g.warehouse_version = version
    return version


def versioned(function: Callable) -> Callable:
    """Cache a query function ``f(engine, *args)`` under its name, arguments and the warehouse version."""

    @functools.wraps(function)
    def wrapper(engine: Engine, *args, **kwargs):
        version = warehouse_version(engine)
        digest = hashlib.sha1(orjson.dumps([args, kwargs], default=str, option=orjson.OPT_SORT_KEYS)).hexdigest()
        key = f"q:{function.__name__}:v{version}:{digest}"
        found = cache.get(key)
        if found is not None:
            return found
        value = function(engine, *args, **kwargs)
        cache.set(key, value, timeout=TIMEOUT)
        return value

    wrapper.uncached = function
    return wrapper
