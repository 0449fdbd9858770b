"""The screens' query cache: flask-caching (filesystem, or Redis when CACHE_REDIS_URL is set), keyed by version.

Every key holds the warehouse version, so a load invalidates exactly what it could have changed and no
screen ever shows an answer older than the data; no TTL guesswork. The version comes with a mark of its bump (the
warehouse_version row's updated_at), since a warehouse restored from a backup counts its versions again. An answer
nobody has cached is computed once at a time (dashboard/flight.py: the threads of a worker and the workers sharing
the cache wait for the one computing it) and stored at once, so that those waiting find it; in a request, answers
are kept for the rest of it. The answers computed inside another one's computation (a screen's thirty queries inside
its content) are waited for by nobody but through that one: they are stored once the response is sent, not before
it (creating a file each cost a cold drill some 8 ms).

The cache only speeds the screens up: a cache that fails (Redis down or hung, a full cache folder) is a miss on read
and nothing on write, and the answer is computed and shown all the same.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import threading
from collections.abc import Callable
from pathlib import Path

import orjson
from flask import after_this_request, g, has_app_context, has_request_context
from flask_caching import Cache
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dashboard.auth.viewer import forbid, sees, view_scope
from dashboard.codec import decode, encode
from dashboard.flight import once, warn_rarely
from etl.warehouse.accounts import scope_holds
from etl.warehouse.db import masked_url, read_version_mark
from etl.warehouse.settings import Settings

cache = Cache()
# A cached answer lives a day at most: the version in its key, not its age, decides whether it is current.
TIMEOUT = 86400
# How long a Redis command or connection may take before the cache counts as failed (then the answer is computed:
# dashboard/rediscache.py). Redis answers in well under a millisecond; a hung one held every worker 5 s per query.
REDIS_SOCKET_SECONDS = 0.5


def deployment_prefix(warehouse_url: str) -> str:
    """The Redis key prefix of a deployment: "rb:" and a short hash of its warehouse URL without the password
    (a SQLite file by its absolute path). Two deployments sharing one Redis (staging and production, two counties)
    may have the same warehouse version, and must never read each other's answers."""
    try:
        url = make_url(warehouse_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            url = url.set(database=str(Path(url.database).resolve()))
        identity = url.render_as_string(hide_password=True)
    except ArgumentError:
        identity = masked_url(warehouse_url)
    return f"rb:{hashlib.sha256(identity.encode()).hexdigest()[:12]}:"


def cache_config(settings: Settings) -> dict:
    """flask-caching settings for this deployment."""
    if settings.cache_redis_url:
        return {
            "CACHE_TYPE": "dashboard.rediscache.CappedRedisCache",
            "CACHE_REDIS_URL": settings.cache_redis_url,
            "CACHE_KEY_PREFIX": deployment_prefix(settings.warehouse_url),
            "CACHE_OPTIONS": {
                "socket_timeout": REDIS_SOCKET_SECONDS,
                "socket_connect_timeout": REDIS_SOCKET_SECONDS,
            },
        }
    folder = Path(settings.var_dir) / "cache"
    folder.mkdir(parents=True, exist_ok=True)
    return {"CACHE_TYPE": "dashboard.filecache.SweptFileSystemCache", "CACHE_DIR": str(folder)}


def warehouse_version(engine: Engine) -> int:
    """The warehouse version now: read once per request (one single-row read), then remembered for it."""
    return _version_and_mark(engine)[0]


def version_mark(engine: Engine) -> str:
    """The warehouse version and a short mark of its bump, as the cache keys hold it ("403.1a2b3c4d"): the version
    alone repeats after a restore from a backup (etl/warehouse/db.py, read_version_mark)."""
    version, mark = _version_and_mark(engine)
    return f"{version}.{hashlib.sha1(mark.encode()).hexdigest()[:8]}"


def _version_and_mark(engine: Engine) -> tuple[int, str]:
    """(version, mark) now: read once per request, then remembered for it."""
    if has_request_context() and "warehouse_version" in g and "warehouse_mark" in g:
        return g.warehouse_version, g.warehouse_mark
    version, mark = read_version_mark(engine)
    if has_request_context():
        g.warehouse_version, g.warehouse_mark = version, mark
    return version, mark


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
        version = version_mark(engine)
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


def scope_checked(function: Callable) -> Callable:
    """A query function ``f(engine, *args)`` that refuses a region outside the viewer's scope as ``versioned`` does,
    without caching: for answers keyed by free text a viewer types, each of which would be an entry of its own in
    the capped shared cache (a session typing could push every screen's answers out)."""
    parameter = region_parameter(function)

    @functools.wraps(function)
    def wrapper(engine: Engine, *args, **kwargs):
        _checked_region(parameter, args, kwargs)
        return function(engine, *args, **kwargs)

    return wrapper


def drawn_once(key: str, draw: Callable[[], str]) -> str:
    """Text that depends on neither the data nor the viewer (a QR code of a configured address), from the
    shared cache, else drawn by one thread of one worker at a time and kept a day: each worker drawing its own
    (a fresh gunicorn worker, every village's codes: about 5 s of CPU each for 200 villages) stalled every
    screen behind it. Drawn directly outside the app (the CLI, tests)."""
    return _kept(key, draw) if has_app_context() else draw()


# How deep this thread is in computations of answers (an answer computed inside another's is an inner one).
_computing = threading.local()


def _kept(key: str, compute: Callable):
    """The shared cache's answer for ``key``, else ``compute()``'s, computed by one thread of one worker at a time
    and stored at once (an inner answer: once the response is sent), so that the threads and workers waiting for it
    find it. A cache that fails is a miss."""

    def looked_up():
        try:
            return cache.get(key)
        except Exception as error:  # noqa: BLE001 - the cache only speeds the screens up
            warn_rarely("cache-get", "读取查询缓存失败（%s: %s）：按未缓存计算", type(error).__name__, error)
            return None

    found = looked_up()
    if found is None:
        inner = getattr(_computing, "depth", 0) > 0

        def compute_and_keep():
            _computing.depth = getattr(_computing, "depth", 0) + 1
            try:
                answer = compute()
            finally:
                _computing.depth -= 1
            if not (inner and _stored_after_response(key, answer)):
                _store(key, answer)
            return answer

        found = once(key, compute_and_keep, looked_up, cache.cache)
    return found


def _store(key: str, answer) -> None:
    """Put an answer in the shared cache; a cache that fails only logs (an answer not stored is still the answer)."""
    try:
        cache.set(key, answer, timeout=TIMEOUT)
    except Exception as error:  # noqa: BLE001 - an answer not stored is still the answer
        warn_rarely("cache-set", "写入查询缓存失败（%s: %s）：本次结果照常返回", type(error).__name__, error)


def _stored_after_response(key: str, answer) -> bool:
    """Whether the answer will be stored once this request's response is sent (False outside a request)."""
    if not has_request_context():
        return False
    if "cache_pending" not in g:
        pending = g.cache_pending = []

        @after_this_request
        def _after_sending(response):
            # Run once the server has sent the body (closed its iterable).
            response.call_on_close(lambda: _store_all(pending))
            return response

    g.cache_pending.append((key, answer))
    return True


def _store_all(pending: list) -> None:
    """Store the answers a request left for after its response (each once: the list is emptied)."""
    while pending:
        _store(*pending.pop(0))


def store_pending() -> None:
    """Store now what this request left for after its response: a request context that sends no response (the
    warm-up's) would otherwise never store them."""
    if has_request_context() and g.get("cache_pending"):
        _store_all(g.cache_pending)
