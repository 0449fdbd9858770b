"""A JSON POST that tells delivered from not: what the group robots, webhooks and SMS gateways have in common."""

from __future__ import annotations

import json
import time

import requests
import urllib3

from etl.alerts.channels import DeliveryError

TIMEOUT = 10  # seconds: a notification that cannot go out in that time is tried again later
MOST_ANSWER = 1024 * 1024  # an answer's bytes read at most: a robot answers a few hundred


def post_json(session: requests.Session, url: str, payload: dict, headers: dict | None = None) -> object:
    """POST ``payload`` as JSON; the answer's JSON (or None). DeliveryError for no answer or a non-2xx status, and
    for an answer not complete within TIMEOUT in all: requests' timeout bounds each read, and a receiver that sent
    a byte every two seconds held the sender (and every alert behind it) for as long as it liked."""
    deadline = time.monotonic() + TIMEOUT
    try:
        with session.post(url, json=payload, headers=headers or {}, timeout=TIMEOUT, stream=True) as response:
            body = bytearray()
            # read1: what one receive brings (a read of n bytes waits for all n, each receive within the timeout)
            while chunk := response.raw.read1(4096, decode_content=True):
                body += chunk
                if time.monotonic() > deadline:
                    raise DeliveryError(f"超时：{TIMEOUT} 秒内没有收完答复")
                if len(body) > MOST_ANSWER:
                    break
    except requests.RequestException as error:
        raise DeliveryError(f"无法连接：{type(error).__name__}") from None
    except (OSError, urllib3.exceptions.HTTPError) as error:
        raise DeliveryError(f"连接中断：{type(error).__name__}") from None
    text = bytes(body).decode(response.encoding or "utf-8", errors="replace")
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"HTTP {response.status_code}：{text[:200]}")
    try:
        return json.loads(text)
    except ValueError:
        return None


def robot_answer(answer: object) -> None:
    """DeliveryError unless a group robot answered errcode 0 (DingTalk and WeCom answer HTTP 200 to refusals)."""
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        detail = answer.get("errmsg") if isinstance(answer, dict) else answer
        raise DeliveryError(f"机器人拒绝：{detail}")
