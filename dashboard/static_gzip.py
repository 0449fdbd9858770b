"""Gzip for static bundles done once per file and kept in memory, instead of on every request."""

from __future__ import annotations

import gzip
import threading

from flask import Flask, Response, request

# Dash's component bundles (plotly.min.js is 4.8 MB) and our assets never change while a server runs.
STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/geo/")
MINIMUM = 500


def precompress_static(server: Flask) -> None:
    """Register an after-request hook that serves static responses gzipped from a per-process cache."""
    cache: dict[tuple[str, str], bytes] = {}
    lock = threading.Lock()

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
        key = (request.full_path, response.headers.get("ETag", "") or str(len(data)))
        with lock:
            packed = cache.get(key)
        if packed is None:
            packed = gzip.compress(data, compresslevel=9)
            with lock:
                cache[key] = packed
        response.set_data(packed)
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Length"] = str(len(packed))
        response.vary.add("Accept-Encoding")
        return response
