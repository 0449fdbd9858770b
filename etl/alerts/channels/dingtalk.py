"""DingTalk group robot (钉钉群机器人): a markdown message to its webhook, signed when the robot has a signing
secret (加签: timestamp and sign query parameters, HMAC-SHA256 of "timestamp\\nsecret", base64, URL-encoded)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

from etl.alerts.channels import flag, required, text_list
from etl.alerts.channels.http import new_session, post_json, robot_answer

TYPE = "dingtalk"
KEYS = ("url", "secret", "at_mobiles", "at_all")


def sign(secret: str, timestamp_ms: int) -> str:
    """The sign parameter of a signed robot's request, URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str | None, timestamp_ms: int) -> str:
    """The webhook with timestamp and sign appended when there is a secret."""
    if not secret:
        return url
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"


def build(entry: dict, where: str):
    """A sender to the robot's webhook (``url``, the access_token in it) with ``secret`` if the robot signs."""
    url, secret = required(entry, "url", where), entry.get("secret")
    mobiles, everyone = text_list(entry, "at_mobiles", where), flag(entry, "at_all", where)
    session = new_session()

    def send(message) -> None:
        # DingTalk shows an @ only when the mobile number is also in the text.
        mentions = "".join(f" @{mobile}" for mobile in mobiles)
        payload = {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": message.markdown() + mentions},
            "at": {"atMobiles": list(mobiles), "isAtAll": everyone},
        }
        robot_answer(post_json(session, signed_url(url, secret, int(time.time() * 1000)), payload))

    return send
