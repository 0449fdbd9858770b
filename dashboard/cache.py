"""The screens' query cache: flask-caching (filesystem, or Redis when CACHE_REDIS_URL is set), keyed by version.

Every key holds the warehouse version, so a load invalidates exactly what it could have changed and no
screen ever shows an answer older than the data; no TTL guesswork. An answer nobody has cached is computed once
at a time (dashboard/flight.py: the threads of a worker and the workers sharing the cache wait for the one
computing it) and stored at once, so that those waiting find it; in a request, answers are kept for the rest of it.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable
from pathlib import Path

import orjson
from flask import g, has_app_context, has_request_context
from flask_caching import Cache
from sqlalchemy import Engine

from dashboard.auth.viewer import forbid, sees, view_scope
from dashboard.codec import decode, encode
from dashboard.flight import once
from etl.warehouse.accounts import scope_holds
from etl.warehouse.db import read_version
from etl.warehouse.settings import Settings

cache = Cache()
# A cached answer lives a day at most: the version in its key, not its age, decides whether it is current.
TIMEOUT = 86400


def cache_config(settings: Settings) -> dict:
    """flask-caching settings for this deployment."""
    if settings.cache_redis_url:
        return {
            "CACHE_TYPE": "dashboard.rediscache.CappedRedisCache",
            "CACHE_REDIS_URL": settings.cache_redis_url,
            "CACHE_KEY_PREFIX": "rb:",
        }
    folder = Path(settings.var_dir) / "cache"
    folder.mkdir(parents=True, exist_ok=True)
    return {"CACHE_TYPE": "dashboard.filecache.SweptFileSystemCache", "CACHE_DIR": str(folder)}


def warehouse_version(engine: Engine) -> int:
    """The warehouse version now: read once per request (one single-row read), then remembered for it."""
    if has_request_context() and "warehouse_version" in g:
        return g.warehouse_version
    version = read_version(engine)
    if has_request_context():
        g.warehouse_version = version
    return version


def _computed_in_request() -> dict | None:
    """The answers this request has had (encoded, as the shared cache holds them: a caller changing its answer
    changes neither what a later caller gets nor the entry), so asking twice in a request reads the cache once;
    None outside a request (the CLI, tests)."""
    if not has_request_context():
        return None
    if "cache_computed" not in g:
        g.cache_computed = {}
    return g.cache_computed


# The parameters through which a query names the region it reads, and how the viewer's scope bounds each:
# "within" (the region and below: the data of a scope), "near" (within, or a region above the scope: weather,
# publicity and the like that a village shares with its county). A query without one reads no region's data.
REGION_PARAMETERS = {"scope": "within", "parent": "within", "village": "within", "region": "near"}


def region_parameter(function: Callable) -> tuple[str, int, str] | None:
    """(parameter, its position after the engine, rule) through which a query names its region, or None."""
    names = list(inspect.signature(function).parameters)
    found = next(((name, rule) for name, rule in REGION_PARAMETERS.items() if name in names), None)
    return (found[0], names.index(found[0]) - 1, found[1]) if found else None


def _checked_region(parameter, args: tuple, kwargs: dict) -> None:
    """Refuse (403, audited) a query for a region the request's viewer may not read."""
    if parameter is None or not view_scope():
        return
    name, position, rule = parameter
    code = args[position] if position < len(args) else kwargs.get(name)
    if not isinstance(code, str):
        return
    if sees(code) or (rule == "near" and scope_holds(code, view_scope())):
        return
    forbid(code)


def versioned(function: Callable) -> Callable:
    """Cache a query function ``f(engine, *args)`` under its name, arguments, the warehouse version and the
    viewer's effective scope, which is in every key by construction: no call site can leave it out, so no
    answer computed for one scope is ever served to another (Superset's row-level-security bug). A region
    argument outside that scope is refused before anything is read."""
    parameter = region_parameter(function)

    @functools.wraps(function)
    def wrapper(engine: Engine, *args, **kwargs):
        _checked_region(parameter, args, kwargs)
        version = warehouse_version(engine)
        digest = hashlib.sha1(orjson.dumps([args, kwargs], default=str, option=orjson.OPT_SORT_KEYS)).hexdigest()
        key = f"q:{function.__name__}:v{version}:s{view_scope() or '*'}:{digest}"
        computed = _computed_in_request()
        if computed is not None and key in computed:
            return decode(computed[key])
        found = _kept(key, lambda: function(engine, *args, **kwargs))
        if computed is not None:
            computed[key] = encode(found)
        return found

    wrapper.uncached = function
    return wrapper


def drawn_once(key: str, draw: Callable[[], str]) -> str:
    """Text that depends on neither the data nor the viewer (a QR code of a configured address), from the
    shared cache, else drawn by one thread of one worker at a time and kept a day: each worker drawing its own
    (a fresh gunicorn worker, every village's codes: about 5 s of CPU each for 200 villages) stalled every
    screen behind it. Drawn directly outside the app (the CLI, tests)."""
    return _kept(key, draw) if has_app_context() else draw()


def _kept(key: str, compute: Callable):
    """The shared cache's answer for ``key``, else ``compute()``'s, computed by one thread of one worker at a time
    and stored at once, so that the threads and workers waiting for it find it."""
    found = cache.get(key)
    if found is None:

        def compute_and_keep():
            answer = compute()
            cache.set(key, answer, timeout=TIMEOUT)
            return answer

        found = once(key, compute_and_keep, lambda: cache.get(key), cache.cache)
    return found
