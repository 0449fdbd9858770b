"""The screens' cache on Redis: flask-caching's RedisCache with JSON entries (dashboard/codec.py, never pickle)
and a cap on its namespace: at most LIMIT entries, the oldest dropped first.

Every entry also has its TTL (a day). The cap keeps the namespace bounded before the TTL does: a set records
its key in a sorted set, in the same server-side script, and a set that finds more than LIMIT keys there drops
the oldest. The order is the Redis server's clock (never a web host's: a host whose clock is behind would have its
new entries dropped first), kept increasing by the script. The server's own bound is `maxmemory` with an LRU
policy (README, "Deploying").

The cache only speeds the screens up: Redis down, hung or refusing is a miss on read and nothing on write, told in
the log now and then; after a failure Redis is left alone for BREAKER_SECONDS, so a dead Redis costs one socket
timeout (cache_config's CACHE_OPTIONS) per worker and period instead of one per query.
"""

from __future__ import annotations

import threading
import time

from flask_caching.backends.rediscache import RedisCache
from redis.exceptions import RedisError

from dashboard.codec import JsonSerializer
from dashboard.filecache import LIMIT
from dashboard.flight import warn_rarely

INDEX = "_keys"  # under the cache's prefix: rb:_keys
# How long a worker leaves Redis alone after it failed.
BREAKER_SECONDS = 10.0

# KEYS: the entry, the index. ARGV: the entry's JSON, its TTL in seconds (-1: none), the limit. The score is the
# server's time in microseconds, above every score already there (a server clock stepped back, or scores of an
# earlier version of this script in seconds); the entry just stored is never among those dropped.
_SET_AND_CAP = """
local now = redis.call('TIME')
local score = tonumber(now[1]) * 1000000 + tonumber(now[2])
local top = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if top[2] and tonumber(top[2]) >= score then score = tonumber(top[2]) + 1 end
local stored
if tonumber(ARGV[2]) > 0 then
  stored = redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
else
  stored = redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('ZADD', KEYS[2], score, KEYS[1])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
if excess > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  for _, member in ipairs(oldest) do
    if member ~= KEYS[1] then
      redis.call('ZREM', KEYS[2], member)
      redis.call('DEL', member)
    end
  end
end
return stored and 1 or 0
"""


class CacheUnavailable(RuntimeError):
    """Redis could not be asked (down, hung, or left alone for a while after a failure)."""


class CappedRedisCache(RedisCache):
    """A RedisCache storing JSON, holding at most ``limit`` entries, that fails soft (see the module)."""

    serializer = JsonSerializer()

    def __init__(self, *args, limit: int = LIMIT, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit = limit
        self._set_and_cap = self._write_client.register_script(_SET_AND_CAP)
        self._closed_until = 0.0  # monotonic time before which Redis is not asked
        self._breaker_lock = threading.Lock()
        # What went wrong last, for /readyz; None while Redis answers.
        self.trouble: str | None = None

    def _asked(self, operation, *args):
        """``operation(*args)`` on Redis; CacheUnavailable when Redis failed now or within BREAKER_SECONDS."""
        if time.monotonic() < self._closed_until:
            raise CacheUnavailable(self.trouble or "Redis")
        try:
            answer = operation(*args)
        except (RedisError, OSError) as error:
            with self._breaker_lock:
                self._closed_until = time.monotonic() + BREAKER_SECONDS
                self.trouble = f"{type(error).__name__}: {error}"
            warn_rarely(
                "redis",
                "Redis 缓存不可用（%s）：按未缓存直接计算，%.0f 秒内不再访问 Redis",
                self.trouble,
                BREAKER_SECONDS,
            )
            raise CacheUnavailable(self.trouble) from error
        self.trouble = None
        return answer

    def _soft(self, operation, default, *args):
        """``operation(*args)``, or ``default`` when Redis cannot be asked: the cache only speeds things up."""
        try:
            return self._asked(operation, *args)
        except CacheUnavailable:
            return default

    def get(self, key):
        """The entry, or None (a miss) when there is none or Redis cannot be asked."""
        return self._soft(super().get, None, key)

    def get_many(self, *keys):
        return self._soft(super().get_many, [None] * len(keys), *keys)

    def has(self, key):
        return self._soft(super().has, False, key)

    def delete(self, key):
        return self._soft(super().delete, False, key)

    def delete_many(self, *keys):
        return self._soft(super().delete_many, [], *keys)

    def add(self, key, value, timeout=None):
        """Store an entry only when none is there, with its TTL in the same command (cachelib's SETNX then EXPIRE
        leaves a lock without TTL if the worker dies between them). Raises CacheUnavailable when Redis cannot be
        asked: the single flight (dashboard/flight.py) then computes at once instead of waiting for a lock."""
        timeout = self._normalize_timeout(timeout)
        name, value = f"{self._get_prefix()}{key}", self.serializer.dumps(value)
        ttl = timeout if timeout != -1 else None
        return bool(self._asked(lambda: self._write_client.set(name, value, nx=True, ex=ttl)))

    def set(self, key, value, timeout=None):
        """Store an entry with its TTL and record it; drop the oldest entries beyond the limit. False (nothing
        stored, the caller keeps its answer) when Redis cannot be asked."""
        timeout = self._normalize_timeout(timeout)
        keys = [f"{self._get_prefix()}{key}", f"{self._get_prefix()}{INDEX}"]
        arguments = [self.serializer.dumps(value), timeout if timeout != -1 else 0, self.limit]
        return bool(self._soft(lambda: self._set_and_cap(keys=keys, args=arguments), 0))
