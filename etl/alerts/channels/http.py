"""A JSON POST that tells delivered from not: what the group robots, webhooks and SMS gateways have in common."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from functools import cache

import requests
import urllib3
from requests.adapters import HTTPAdapter

from etl.alerts.channels import DeliveryError, Unreachable
from etl.warehouse.text import clean_text

TIMEOUT = 10  # seconds: a notification that cannot go out in that time is tried again later
MOST_ANSWER = 1024 * 1024  # an answer's bytes read at most: a robot answers a few hundred
EXCERPT = 80  # characters of a refusal's answer kept in the log: enough for a gateway's error code and message

# The deadline of the request the current thread is making (its sockets are handed to it as they are used).
_current = threading.local()


class Deadline:
    """A watchdog over one request: when its time is up it shuts the request's socket down, so whatever waits on
    the receiver (connecting through TLS, the status line, the headers, the body) returns at once. requests'
    timeout bounds each read only: a receiver sending its headers a byte every two seconds held the sender, and
    every alert behind it, for as long as it liked."""

    def __init__(self, seconds: float):
        self.lock = threading.Lock()
        self.expired = self.finished = False
        self.socket: socket.socket | None = None  # a duplicate of the request's socket, this watchdog's own
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True

    def __enter__(self) -> Deadline:
        _current.deadline = self
        self.timer.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.finish()

    def watch(self, sock) -> None:
        """The socket the request goes on from now (a new connection's, or a kept-alive one taken again). A
        duplicate of it is kept: shutting that down ends the connection however the original is wrapped (TLS
        takes over the socket's descriptor and leaves the object it came from empty)."""
        try:
            duplicate = socket.socket(fileno=os.dup(sock.fileno()))
        except (OSError, AttributeError, ValueError):
            return
        with self.lock:
            previous, self.socket = self.socket, duplicate
            if self.finished:
                self.socket = None
                previous = duplicate
            elif self.expired:
                _shut(duplicate)
        if previous is not None:
            previous.close()

    def _expire(self) -> None:
        with self.lock:
            if self.finished:
                return
            self.expired = True
            if self.socket is not None:
                _shut(self.socket)

    def finish(self) -> None:
        """The request is over (answered in full or failed): the watchdog lets go of it."""
        self.timer.cancel()
        with self.lock:
            self.finished, held, self.socket = True, self.socket, None
        if held is not None:
            held.close()
        if getattr(_current, "deadline", None) is self:
            _current.deadline = None


def _shut(duplicate: socket.socket) -> None:
    with contextlib.suppress(OSError):  # the connection has ended already
        duplicate.shutdown(socket.SHUT_RDWR)


def _watch(sock) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None and sock is not None:
        deadline.watch(sock)


class _Watched:
    """Mixed into urllib3's connection classes: each socket a request uses is handed to the thread's deadline."""

    def _new_conn(self):
        sock = super()._new_conn()
        _watch(sock)  # before TLS and the request: a handshake dribbled a byte at a time is cut off too
        return sock

    def request(self, *args, **kwargs):
        _watch(self.sock)  # a kept-alive connection taken from the pool (None for a new one: _new_conn has it)
        return super().request(*args, **kwargs)


@cache
def _watched_pool(pool_class: type) -> type:
    """The pool class whose connections hand their sockets to the current deadline."""
    if issubclass(pool_class.ConnectionCls, _Watched):
        return pool_class
    connection = type(f"Watched{pool_class.ConnectionCls.__name__}", (_Watched, pool_class.ConnectionCls), {})
    return type(f"Watched{pool_class.__name__}", (pool_class,), {"ConnectionCls": connection})


def _watch_pools(manager) -> None:
    manager.pool_classes_by_scheme = {
        scheme: _watched_pool(pool_class) for scheme, pool_class in manager.pool_classes_by_scheme.items()
    }


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections (direct or through a proxy) are watched by post_json's deadline."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        _watch_pools(self.poolmanager)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        _watch_pools(manager)
        return manager


def new_session() -> requests.Session:
    """A session for post_json: its connections are cut off at the deadline."""
    session = requests.Session()
    adapter = DeadlineAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def post_json(session: requests.Session, url: str, payload: dict, headers: dict | None = None) -> object:
    """POST ``payload`` as JSON through a session of ``new_session()``; the answer's JSON (or None). DeliveryError
    for no answer or a non-2xx status, and for an answer not complete within TIMEOUT in all, from connecting to the
    body's last byte (requests' timeout bounds each read only)."""
    late = Unreachable(f"超时：{TIMEOUT} 秒内没有收完答复")
    deadline = Deadline(TIMEOUT)
    try:
        # Redirects are not followed: a receiver answering 307 to 127.0.0.1 had the alert and the channel's secret
        # headers (X-Api-Key) POSTed to an internal service, and its answer kept in the log.
        with (
            deadline,
            session.post(
                url, json=payload, headers=headers or {}, timeout=TIMEOUT, stream=True, allow_redirects=False
            ) as answer,
        ):
            body = bytearray()
            # read1: what one receive brings (a read of n bytes waits for all n, each receive within the timeout)
            while chunk := answer.raw.read1(4096, decode_content=True):
                body += chunk
                if len(body) > MOST_ANSWER:
                    break
            deadline.finish()  # before the connection goes back to the pool
    except requests.RequestException as error:
        raise (late if deadline.expired else Unreachable(f"无法连接：{type(error).__name__}")) from None
    except (OSError, urllib3.exceptions.HTTPError) as error:
        raise (late if deadline.expired else Unreachable(f"连接中断：{type(error).__name__}")) from None
    if deadline.expired:  # the socket shut down mid-answer reads as its end
        raise late
    if 300 <= answer.status_code < 400:  # where it points is not said either: the log is no one's address book
        raise DeliveryError(f"接收方要求重定向（HTTP {answer.status_code}），未跟随")
    text = bytes(body).decode(answer.encoding or "utf-8", errors="replace")
    if not 200 <= answer.status_code < 300:
        raise DeliveryError(f"HTTP {answer.status_code}：{excerpt(text)}")
    try:
        return json.loads(text)
    except ValueError:
        return None


def excerpt(answer: object) -> str:
    """The start of a receiver's answer as the log keeps it: one line, without control or invisible characters."""
    # The log and etl watch's output show it: an answer's terminal escapes or line breaks reached the operator.
    text = " ".join(clean_text(str(answer)).split())
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"


def robot_answer(answer: object) -> None:
    """DeliveryError unless a group robot answered errcode 0 (DingTalk and WeCom answer HTTP 200 to refusals)."""
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        detail = answer.get("errmsg") if isinstance(answer, dict) else answer
        raise DeliveryError(f"机器人拒绝：{excerpt(detail)}")
