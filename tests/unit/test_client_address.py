"""The client's address the audit log, the login lockout and the households' limits count by: the one nginx saw,
which only nginx may tell; a header sent by the client itself counts for nothing."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from dashboard.auth.viewer import address
from etl.warehouse.settings import Settings

NGINX = Path(__file__).resolve().parents[2] / "data" / "deploy" / "nginx-ruralbrain.conf"


def _seen(remote: str, headers: dict, trusted: str | None = None) -> str:
    app = Flask(__name__)
    if trusted is not None:
        app.config["RURALBRAIN_SETTINGS"] = Settings.load(var_dir="var", trusted_proxies=trusted)
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": remote}, headers=headers):
        return address()


def test_the_proxys_header_counts_only_from_the_proxy_on_this_host():
    assert _seen("127.0.0.1", {"X-Real-IP": "198.51.100.7"}) == "198.51.100.7"  # nginx, on loopback
    assert _seen("::1", {"X-Real-IP": "198.51.100.7"}) == "198.51.100.7"
    # gunicorn reached directly (HOST=0.0.0.0): the client's own X-Real-IP would pick the address it is counted by
    assert _seen("203.0.113.9", {"X-Real-IP": "198.51.100.7"}) == "203.0.113.9"
    assert _seen("203.0.113.9", {}) == "203.0.113.9"
    assert _seen("::ffff:127.0.0.1", {"X-Real-IP": "198.51.100.7"}) == "198.51.100.7"


def test_app_hosts_behind_nginx_on_the_network_trust_nginxs_address_only():
    # A second gunicorn host sees every request come from nginx's LAN address: without TRUSTED_PROXIES every user
    # would share that one address (one user's wrong passwords locking out everyone).
    nginx = "10.0.0.5,10.0.0.6"
    assert _seen("10.0.0.5", {"X-Real-IP": "198.51.100.7"}, nginx) == "198.51.100.7"
    assert _seen("10.0.0.9", {"X-Real-IP": "198.51.100.7"}, nginx) == "10.0.0.9"  # another LAN host: its own
    assert _seen("10.0.0.9", {"X-Real-IP": "198.51.100.7"}, "10.0.0.0/24") == "198.51.100.7"
    # A careless value: what cannot be read as an address or network is left out, the rest still counts.
    assert _seen("10.0.0.5", {"X-Real-IP": "198.51.100.7"}, "nginx, 10.0.0.5 ,,300.1.1.1") == "198.51.100.7"
    assert _seen("10.0.0.5", {"X-Real-IP": "198.51.100.7"}, "nginx") == "10.0.0.5"
    assert _seen("not an address", {"X-Real-IP": "198.51.100.7"}, "10.0.0.0/8") == "not an address"


def test_nginx_sets_the_clients_address_itself_for_every_location():
    # Without it, nginx passed on whatever X-Real-IP the client sent: a new address per login attempt escaped the
    # lockout. A location with a proxy_set_header of its own would drop the server's, so none may have one.
    text = re.sub(r"#.*", "", NGINX.read_text(encoding="utf-8"))
    server = text[text.index("listen 443") :]
    assert re.search(r"^\s*proxy_set_header X-Real-IP \$remote_addr;", server, re.M)
    bodies = _blocks(server, "location")
    assert len(bodies) >= 6 and any("ops" in body for body in bodies)  # nested if blocks read whole
    for body in bodies:
        assert "proxy_set_header" not in body


def _blocks(text: str, keyword: str) -> list[str]:
    """The body of every ``keyword … { … }`` block, nested braces included."""
    bodies = []
    for found in re.finditer(rf"\b{keyword}\b[^{{;]*\{{", text):
        depth, start = 1, found.end()
        for position in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[position], 0)
            if depth == 0:
                bodies.append(text[start:position])
                break
    return bodies


def test_nginx_limits_login_attempts_per_address():
    # Each attempt is an audit entry and an Argon2 check: without a limit a script could try and write as fast
    # as the server answered.
    text = re.sub(r"#.*", "", NGINX.read_text(encoding="utf-8"))
    key = re.search(r"map \$request_method \$rb_login_key \{([^}]*)\}", text)
    assert key and re.search(r"POST\s+\$binary_remote_addr;", key[1]) and re.search(r'default\s+"";', key[1])
    zone = re.search(r"limit_req_zone \$rb_login_key zone=rb_login:\w+ rate=(\d+)r/m;", text)
    assert zone and int(zone[1]) <= 30
    login = re.search(r"location = /login \{([^}]*)\}", text)
    assert login and "limit_req zone=rb_login" in login[1]
    assert re.search(r"error_page 429 @rb_too_many;", text) and "请求过于频繁" in text  # nginx's own 429 in Chinese
