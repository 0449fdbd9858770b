"""Security headers from the app itself (tests and a host without nginx get them too): on every response nosniff;
on every page (HTML) a Content Security Policy Dash runs under, no referrer, no framing except kiosk pages a
configured signage player frames. Callback answers, bundles and geometry are not documents: a policy for them
would be some 900 bytes on each of the thousands of refreshes a minute that a county's screens send."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import dash
from flask import Response, request
from markupsafe import escape

from etl.warehouse.settings import Settings

# Pages a signage player may show in a frame (FRAME_ANCESTORS); every other page is never framed.
KIOSK_PAGES = ("/screen/", "/board/", "/stop/")
DOCUMENT = {
    # Screen addresses carry a screen's token: no page tells another site where it came from.
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# Dash's icon (its address ends in ?v=<Dash's version>), kept by browsers for a day.
FAVICON = "/_favicon.ico"
FAVICON_SECONDS = 86400


def tile_origin(tile_url: str) -> str:
    """The origin a basemap's tiles come from (``{s}`` subdomains become a wildcard), or "" without one."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url)
    host = re.sub(r"\{[^}]*\}", "*", parts.netloc)
    return f"{parts.scheme}://{host}"


def policy(app: dash.Dash, settings: Settings, frame_ancestors: str) -> str:
    """The CSP: scripts from this server and Dash's own inline scripts (by their hashes: the renderer, the
    clientside callbacks), styles from here (plus the style attributes Dash and Leaflet set), images from here,
    data: URIs (the QR codes) and the basemap's server, requests to this server only."""
    images = " ".join(filter(None, ["'self'", "data:", tile_origin(settings.tile_url)]))
    directives = [
        "default-src 'self'",
        "script-src 'self' " + " ".join(app.csp_hashes()),
        "style-src 'self' 'unsafe-inline'",
        f"img-src {images}",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ]
    return "; ".join(directives)


def redirect_page(location: str) -> str:
    """The body of a redirect in Chinese (werkzeug writes an English "Redirecting..." page, which a browser never
    shows but curl, a proxy's log or a slow link do)."""
    target = escape(location)
    return (
        '<!doctype html>\n<html lang="zh-CN"><meta charset="utf-8"><title>正在跳转</title>'
        f'<p>正在跳转到 <a href="{target}">{target}</a>。</p></html>\n'
    )


def install(app: dash.Dash, settings: Settings) -> None:
    """Add the headers to the responses of ``app``'s server."""
    players = " ".join(settings.frame_ancestors.replace(",", " ").split())
    policies: dict[bool, str] = {}

    @app.server.after_request
    def _security_headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.path.endswith(FAVICON) and response.status_code == 200:
            # Its address carries Dash's version. Uncached, a browser fetched it again at every drill (pushState),
            # a request beside the drill's own on the two workers.
            response.cache_control.public = True
            response.cache_control.max_age = FAVICON_SECONDS
        if response.mimetype != "text/html":
            return response
        framed = bool(players) and request.path.startswith(KIOSK_PAGES)
        if framed not in policies:
            # Dash registers its page router's inline script at the first request: the hashes are taken after it.
            policies[framed] = policy(app, settings, players if framed else "'none'")
        response.headers["Content-Security-Policy"] = policies[framed]
        response.headers.update(DOCUMENT)
        if not framed:
            response.headers["X-Frame-Options"] = "DENY"
        if 300 <= response.status_code < 400 and response.location:
            response.set_data(redirect_page(response.location))
        return response
