"""The shipped nginx site agrees with the app: each upload route takes what the app's cap allows (the site's 64 KB for
every route refused any phone photo with nginx's English 413), nginx's own error pages speak Chinese, and its access
log masks household codes and screen tokens as the app's does."""

from __future__ import annotations

import re
from pathlib import Path

from dashboard.household.uploads import CASE_BODY, NOTICE_BODY

SITE = (Path(__file__).resolve().parents[2] / "data" / "deploy" / "nginx-ruralbrain.conf").read_text(encoding="utf-8")
UNITS = {"k": 1024, "m": 1024 * 1024}


def _location_cap(pattern: str) -> int:
    """The client_max_body_size of the location block whose header matches ``pattern``."""
    block = re.search(pattern + r"\s*\{(.*?)\}", SITE, flags=re.S)
    assert block, pattern
    size = re.search(r"client_max_body_size\s+(\d+)([km])\s*;", block.group(1))
    assert size, f"{pattern} sets no client_max_body_size"
    return int(size.group(1)) * UNITS[size.group(2)]


def test_each_upload_route_takes_what_the_app_allows():
    assert _location_cap(r"location ~ \^/h/\[\^/\]\+/cases\$") >= CASE_BODY
    assert _location_cap(r"location = /office/notices") >= NOTICE_BODY
    assert re.search(r"^\s+client_max_body_size 64k;", SITE, flags=re.M)  # and every other route stays small


def test_nginx_answers_in_chinese_and_logs_no_secret():
    for status in ("413", "429", "502"):
        named = re.search(rf"error_page [0-9 ]*{status}[0-9 ]* (@\w+);", SITE)
        assert named, status
        page = re.search(rf"location {named.group(1)} \{{(.*?)\}}", SITE, flags=re.S).group(1)
        assert re.search(r"[\u4e00-\u9fff]", page) and "charset=utf-8" in page
    assert re.search(r"access_log \S+ rb_masked;", SITE)
    assert '"$rb_request_masked"' in SITE and "$request " not in SITE.split("log_format rb_masked", 1)[1][:200]
