"""A JSON POST that tells delivered from not: what the group robots, webhooks and SMS gateways have in common."""

from __future__ import annotations

import requests

from etl.alerts.channels import DeliveryError

TIMEOUT = 10  # seconds: a notification that cannot go out in that time is tried again later


def post_json(session: requests.Session, url: str, payload: dict, headers: dict | None = None) -> object:
    """POST ``payload`` as JSON; the answer's JSON (or None). DeliveryError for no answer or a non-2xx status."""
    try:
        response = session.post(url, json=payload, headers=headers or {}, timeout=TIMEOUT)
    except requests.RequestException as error:
        raise DeliveryError(f"无法连接：{type(error).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"HTTP {response.status_code}：{response.text[:200]}")
    try:
        return response.json()
    except ValueError:
        return None


def robot_answer(answer: object) -> None:
    """DeliveryError unless a group robot answered errcode 0 (DingTalk and WeCom answer HTTP 200 to refusals)."""
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        detail = answer.get("errmsg") if isinstance(answer, dict) else answer
        raise DeliveryError(f"机器人拒绝：{detail}")
