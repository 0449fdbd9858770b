"""The client's address the audit log, the login lockout and the households' limits count by: the one nginx saw,
which only nginx may tell; a header sent by the client itself counts for nothing."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from dashboard.auth.viewer import address

NGINX = Path(__file__).resolve().parents[2] / "data" / "deploy" / "nginx-ruralbrain.conf"


def _seen(remote: str, headers: dict) -> str:
    app = Flask(__name__)
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": remote}, headers=headers):
        return address()


def test_the_proxys_header_counts_only_from_the_proxy_on_this_host():
    assert _seen("127.0.0.1", {"X-Real-IP": "198.51.100.7"}) == "198.51.100.7"  # nginx, on loopback
    assert _seen("::1", {"X-Real-IP": "198.51.100.7"}) == "198.51.100.7"
    # gunicorn reached directly (HOST=0.0.0.0): the client's own X-Real-IP would pick the address it is counted by
    assert _seen("203.0.113.9", {"X-Real-IP": "198.51.100.7"}) == "203.0.113.9"
    assert _seen("203.0.113.9", {}) == "203.0.113.9"


def test_nginx_sets_the_clients_address_itself_for_every_location():
    # Without it, nginx passed on whatever X-Real-IP the client sent: a new address per login attempt escaped the
    # lockout. A location with a proxy_set_header of its own would drop the server's, so none may have one.
    text = re.sub(r"#.*", "", NGINX.read_text(encoding="utf-8"))
    server = text[text.index("listen 443") :]
    assert re.search(r"^\s*proxy_set_header X-Real-IP \$remote_addr;", server, re.M)
    for body in re.findall(r"location [^{]*\{([^}]*)\}", server):
        assert "proxy_set_header" not in body


def test_nginx_limits_login_attempts_per_address():
    # Each attempt is an audit entry and an Argon2 check: without a limit a script could try and write as fast
    # as the server answered.
    text = re.sub(r"#.*", "", NGINX.read_text(encoding="utf-8"))
    zone = re.search(r"limit_req_zone \$binary_remote_addr zone=rb_login:\w+ rate=(\d+)r/m;", text)
    assert zone and int(zone[1]) <= 30
    login = re.search(r"location = /login \{([^}]*)\}", text)
    assert login and "limit_req zone=rb_login" in login[1]
