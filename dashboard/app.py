"""The Dash app: pages discovered from dashboard/pages, settings and warehouse on the server, gzip on, requests
checked (dashboard/guard.py) and security headers on every response (dashboard/headers.py)."""

from __future__ import annotations

from pathlib import Path

import dash
import plotly.io.json
from flask import Flask
from flask_compress import Compress

from dashboard import alerts_page, auth, guard, headers, household, office, routes
from dashboard.basemap import display_crs
from dashboard.cache import cache, cache_config
from dashboard.geometry import geometry
from dashboard.health import health
from dashboard.heartbeat import build_id, heartbeat
from dashboard.static_gzip import precompress_static
from etl.warehouse.db import make_engine
from etl.warehouse.settings import Settings

HERE = Path(__file__).parent
INDEX = """<!DOCTYPE html>
<html lang="zh-CN">
<head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}</head>
<body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body>
</html>"""


def create_app(settings: Settings | None = None) -> dash.Dash:
    """The screens' Dash app for ``settings`` (default: from the environment)."""
    settings = settings or Settings.load()
    display_crs(settings)  # a TILE_CRS we cannot serve stops the start, not the first map request
    # Dash serializes every callback response through plotly.io.json. Its orjson engine first walks the
    # whole value in Python; the json engine hands it to the C encoder: a refresh serializes 4× faster
    # (bench/screen's refresh throughput).
    plotly.io.json.config.default_engine = "json"
    server = Flask(__name__)
    # Signs Dash's per-page-load endId (and the background-callback handles bound to it) and Flask's session
    # cookies: every worker and host must share one key, and nobody else may know it.
    server.secret_key = settings.ensure_secret_key()
    server.config["RURALBRAIN_SETTINGS"] = settings
    # The screens only read (and a heartbeat upserts one row): no transaction around each query.
    server.config["RURALBRAIN_ENGINE"] = make_engine(settings.warehouse_url, autocommit=True)
    cache.init_app(server, config=cache_config(settings))
    # gzip at level 1 for what is compressed per response (callback answers, pages): a county's ~60 KB content
    # answer costs 0.22 ms instead of 0.51 ms at the default 6, for 8 % more bytes; browsers that accept br get
    # brotli at its default 4, as cheap and smaller. (Static bundles are gzipped once, at 9.)
    server.config.setdefault("COMPRESS_LEVEL", 1)
    Compress(server)
    # Registered after Flask-Compress so it runs first (Flask runs after-request hooks in reverse): static
    # bundles are gzipped once and kept, everything else is compressed per response by Flask-Compress.
    precompress_static(server)
    server.register_blueprint(geometry)
    server.register_blueprint(heartbeat)
    server.register_blueprint(health)
    server.config["RURALBRAIN_BUILD"] = build_id()
    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        title="乡村大脑",
        update_title=None,
        suppress_callback_exceptions=True,
        meta_tags=[
            {"name": "ruralbrain-build", "content": server.config["RURALBRAIN_BUILD"]},
            {"name": "ruralbrain-reload-at", "content": settings.reload_at},
            {"name": "ruralbrain-heartbeat", "content": str(settings.heartbeat_seconds)},
        ],
    )
    app.index_string = INDEX
    routes.read_parameters_once()
    guard.install(app)
    auth.install(app, settings)  # after the guard: a callback request's shape is checked before it is classified
    alerts_page.install(server)
    household.install(server)  # 一户一码 (/h/<token>) and the village office (/office): plain pages, forms
    office.install(server)
    headers.install(app, settings)
    return app
