"""The shared cache's encoding: JSON that gives back exactly what was stored (tuples, datetimes, dates, decimals,
non-finite floats, dicts with keys of any of these), never pickle: whoever can write to Redis or the cache folder
can then change what a screen shows, but cannot run code in the web workers.

A value is JSON with one extension: an object whose only key starts with "$" stands for a value JSON lacks,
{"$t": [...]} a tuple, {"$dt": "…"} a datetime, {"$d": "…"} a date, {"$n": "…"} a Decimal, {"$f": "nan"} a
non-finite float, {"$m": [[key, value], …]} a dict whose keys are not all plain strings (or start with "$").
Anything else (a class instance, bytes, a set) cannot be cached: encode raises TypeError.
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime
from decimal import Decimal

import orjson
from cachelib.serializers import BaseSerializer

PLAIN = (str, int, bool, type(None))


def _tagged(value):
    """``value`` as plain JSON data with the tags above."""
    kind = type(value)
    if kind in PLAIN:
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$f": repr(value)}
    if kind is list:
        return [_tagged(item) for item in value]
    if kind is dict:
        if all(type(key) is str and not key.startswith("$") for key in value):
            return {key: _tagged(item) for key, item in value.items()}
        return {"$m": [[_tagged(key), _tagged(item)] for key, item in value.items()]}
    if kind is tuple:
        return {"$t": [_tagged(item) for item in value]}
    if kind is datetime:
        return {"$dt": value.isoformat()}
    if kind is date:
        return {"$d": value.isoformat()}
    if kind is Decimal:
        return {"$n": str(value)}
    raise TypeError(f"a {kind.__name__} cannot be kept in the screens' cache (JSON only)")


UNTAG = {
    "$t": lambda items: tuple(_untagged(item) for item in items),
    "$dt": datetime.fromisoformat,
    "$d": date.fromisoformat,
    "$n": Decimal,
    "$f": float,
    "$m": lambda pairs: {_untagged(key): _untagged(item) for key, item in pairs},
}


def _untagged(value):
    """The value ``_tagged`` was given."""
    kind = type(value)
    if kind is list:
        return [_untagged(item) for item in value]
    if kind is dict:
        if len(value) == 1:
            ((key, item),) = value.items()
            if key in UNTAG:
                return UNTAG[key](item)
        return {key: _untagged(item) for key, item in value.items()}
    return value


def encode(value) -> bytes:
    """The bytes the cache stores for ``value``."""
    return orjson.dumps(_tagged(value))


def decode(data: bytes):
    """The value ``encode`` was given for ``data``."""
    return _untagged(orjson.loads(data))


class JsonSerializer(BaseSerializer):
    """cachelib's serializer interface over this encoding, for the Redis and filesystem caches. What cannot be
    decoded (a pickle someone wrote, a torn file) is a miss, never executed."""

    def dumps(self, value, protocol=None) -> bytes:
        """Bytes for Redis."""
        return encode(value)

    def loads(self, data: bytes | None):
        """The value of bytes from Redis, or None."""
        if data is None:
            return None
        try:
            return decode(data)
        except (orjson.JSONDecodeError, TypeError, ValueError, ArithmeticError):
            logging.getLogger(__name__).warning("a cache entry that is not this cache's JSON was ignored")
            return None

    def dump(self, value, f, protocol=None) -> None:
        """Write a value to a cache file."""
        f.write(encode(value))

    def load(self, f):
        """The value of a cache file, or None."""
        return self.loads(f.read())
