"""The screens' cache on Redis: flask-caching's RedisCache with JSON entries (dashboard/codec.py, never pickle)
and a cap on its namespace: at most LIMIT entries, the oldest dropped first.

Every entry also has its TTL (a day). The cap keeps the namespace bounded before the TTL does: a set records
its key in a sorted set by time, in the same round trip, and a set that finds more than LIMIT keys there drops
the oldest. The server's own bound is `maxmemory` with an LRU policy (README, "Deploying").
"""

from __future__ import annotations

import time

from flask_caching.backends.rediscache import RedisCache

from dashboard.codec import JsonSerializer
from dashboard.filecache import LIMIT

INDEX = "_keys"  # under the cache's prefix: rb:_keys


class CappedRedisCache(RedisCache):
    """A RedisCache storing JSON, holding at most ``limit`` entries (see the module)."""

    serializer = JsonSerializer()

    def __init__(self, *args, limit: int = LIMIT, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit = limit

    def set(self, key, value, timeout=None):
        """Store an entry with its TTL and record it; drop the oldest entries beyond the limit."""
        timeout = self._normalize_timeout(timeout)
        name, index = f"{self._get_prefix()}{key}", f"{self._get_prefix()}{INDEX}"
        pipe = self._write_client.pipeline(transaction=False)
        pipe.set(name=name, value=self.serializer.dumps(value), ex=timeout if timeout != -1 else None)
        pipe.zadd(index, {name: time.time()})
        pipe.zcard(index)
        stored, _added, size = pipe.execute()
        if size > self.limit:
            oldest = [member for member, _score in self._write_client.zpopmin(index, size - self.limit)]
            if oldest:
                self._write_client.delete(*oldest)
        return stored
