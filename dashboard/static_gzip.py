"""Gzip for static bundles done once per file and kept in memory, instead of on every request.

Entries are keyed by what is served, never by what was asked: the path without its query string, with Dash's
cache-busting fingerprint taken out of component-suite paths (plotly.v4_4_1m17.min.js and plotly.v9m9.min.js
are the same file), and the content's ETag or size. So ``?bust=N`` or a made-up fingerprint costs one
compression at most, and the cache is bounded in bytes, least recently used out first.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict

from dash.fingerprint import check_fingerprint
from flask import Flask, Response, request

# Dash's component bundles (plotly.min.js is 4.8 MB) and our assets never change while a server runs.
STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/geo/")
SUITES = "/_dash-component-suites/"
MINIMUM = 500
# Compressed bytes a worker keeps: every bundle a screen loads is far below this (plotly.min.js is 1.4 MB).
BUDGET = 32 * 1024 * 1024


class GzipCache:
    """Compressed bodies by key, at most ``budget`` bytes of them, least recently used dropped first."""

    def __init__(self, budget: int = BUDGET):
        self.budget = budget
        self.size = 0
        self._entries: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple) -> bytes | None:
        """The compressed body of ``key``, or None."""
        with self._lock:
            packed = self._entries.get(key)
            if packed is not None:
                self._entries.move_to_end(key)
            return packed

    def put(self, key: tuple, packed: bytes) -> None:
        """Keep a compressed body (not one larger than the whole budget)."""
        if len(packed) > self.budget:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = packed
            self.size += len(packed)
            while self.size > self.budget:
                _key, dropped = self._entries.popitem(last=False)
                self.size -= len(dropped)


def served_path(path: str) -> str:
    """The file a static path serves: Dash's fingerprint (``.v1_2_3m1700000000``) taken out of suite paths."""
    if not path.startswith(SUITES):
        return path
    folder, _, name = path.rpartition("/")
    return f"{folder}/{check_fingerprint(name)[0]}"


def precompress_static(server: Flask) -> GzipCache:
    """Register an after-request hook that serves static responses gzipped from a per-process cache (also kept
    as ``server.extensions["ruralbrain_gzip"]``)."""
    cache = server.extensions["ruralbrain_gzip"] = GzipCache()

    @server.after_request
    def _gzip_static(response: Response) -> Response:
        if (
            request.method != "GET"
            or not request.path.startswith(STATIC_PREFIXES)
            or response.status_code != 200
            or "gzip" not in request.headers.get("Accept-Encoding", "")
            or "Content-Encoding" in response.headers
        ):
            return response
        response.direct_passthrough = False
        data = response.get_data()
        if len(data) < MINIMUM:
            return response
        key = (served_path(request.path), response.headers.get("ETag", ""), len(data))
        packed = cache.get(key)
        if packed is None:
            packed = gzip.compress(data, compresslevel=9)
            cache.put(key, packed)
        response.set_data(packed)
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Length"] = str(len(packed))
        response.vary.add("Accept-Encoding")
        return response

    return cache
