"""HTTP JSON transport: pages of items newer than the watermark, one batch per page."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
import urllib3
import urllib3.connection
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as UrllibTimeout
from urllib3.util.retry import Retry

from etl.sources import json_numbers
from etl.sources.base import Batch, Issue, Record, SourceError
from etl.sources.watermark import FUTURE_SLACK, SECRET_PARAMETER, Mark

TYPE = "http"
RETRY_STATUSES = (429, 500, 502, 503, 504)
CHUNK = 64 * 1024  # bytes read at a time from a response
# A server's Retry-After is honoured up to this: "3600" from an overloaded gateway held `etl watch`, and every other
# feed behind it, for three hours of retries.
RETRY_AFTER_CAP = 30.0
# Pages read in one run when the feed sets no max_pages; the watermark is kept per page, so the next run goes on.
PAGES_PER_RUN = 1000
MAX_REDIRECTS = 10  # redirects followed for one page, each on the source's own origin


@dataclass
class HttpJson:
    """A paged JSON API: ``page_param`` counts pages up, or ``next`` names the key holding the next page's URL.

    The watermark is the largest ``watermark_field`` seen so far (numbers compared as numbers, anything
    else as text, so ISO timestamps work); it is sent as ``since_param``. Pages should come oldest first:
    a page's watermark covers every page before it.
    """

    url: str
    items: str
    page_param: str | None = None
    first_page: int = 1
    next: str | None = None
    since_param: str | None = None
    watermark_field: str | None = None
    initial_since: str | None = None
    page_size: int | None = None
    page_size_param: str = "page_size"
    max_pages: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    timeout: float = 10.0
    # A page larger than this, or still arriving after page_seconds, is refused: an API that forgot its paging (a
    # whole table in one answer) or drips bytes for ever would otherwise hold the run and its memory without end.
    max_mb: float = 50.0
    page_seconds: float = 120.0
    retries: int = 3
    backoff: float = 0.5
    verify: bool | str = True
    max_items: int = 100_000  # items of one page: 10 MB of "{}" items were 3.5 million records, 1 GB
    future_tolerance: timedelta = FUTURE_SLACK  # the feed's: how far past now the watermark may move
    clock: Callable[[], float] = field(default=time.time, repr=False)

    @classmethod
    def from_config(
        cls, config: dict[str, Any], base_dir: Path | None = None, future_tolerance: timedelta = FUTURE_SLACK
    ) -> HttpJson:
        """An HTTP source from a feed's ``[source]``; ``token_env`` names an environment variable with the token."""
        options = {key: value for key, value in config.items() if key in cls.__dataclass_fields__}
        options["future_tolerance"] = future_tolerance  # a setting of the feed, not of its [source]
        if "token_env" in config:
            name = config["token_env"]
            if not os.environ.get(name):
                raise ValueError(f"HTTP 数据源 {shown(str(config['url']))}：环境变量 {name} 未设置")
            options["token"] = os.environ[name]
        if config.get("page_param") and config.get("next"):
            raise ValueError(f"HTTP 数据源 {shown(str(config['url']))}：page_param 与 next 只能用一个")
        return cls(**options)

    def session(self) -> requests.Session:
        """A session that retries connection errors, timeouts, 429 and 5xx with exponential backoff."""
        retry = _CappedRetry(
            total=self.retries,
            backoff_factor=self.backoff,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=["GET"],
            raise_on_status=False,  # the last answer is returned, so the error can name its status
        )
        session = requests.Session()
        watch = _Watch()
        adapter = HTTPAdapter(max_retries=retry)
        # The connections register their sockets, so that fetch's watchdog can shut them: urllib3's timeout is
        # per read, and a server sending its headers a byte every few seconds held the run without end.
        adapter.poolmanager.pool_classes_by_scheme = watch.pools
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.watch = watch
        if self.token:
            session.headers["Authorization"] = f"Bearer {self.token}"
        session.verify = self.verify
        return session

    def batches(self, watermark: str | None) -> Iterator[Batch]:
        """One batch per page until a page is empty or short, there is no next URL, or max_pages (PAGES_PER_RUN)
        is reached. A next URL must stay on the source's own scheme, host and port (the token goes with it) and
        never come back; a page the same as the one before is an API ignoring its paging: both are SourceErrors."""
        since = watermark if watermark is not None else self.initial_since
        params = dict(self.params)
        if self.since_param and since is not None:
            params[self.since_param] = since
        if self.page_size:
            params[self.page_size_param] = self.page_size
        url: str | None = self.url
        horizon = datetime.fromtimestamp(self.clock(), UTC) + self.future_tolerance
        mark = Mark(watermark, horizon)
        ahead = refused = 0
        seen: set[str] = set()
        last_digest = None
        with self.session() as session:
            for number in itertools.count(1):
                if self.page_param:
                    params[self.page_param] = self.first_page + number - 1
                page, page_url, digest = self.fetch(session, url, params)
                if digest == last_digest:
                    raise SourceError(
                        f"HTTP 数据源 {shown(page_url)}：第 {number} 页与上一页完全相同，接口似乎没有按页返回"
                        f"（{self.page_param or self.next}），已停止"
                    )
                last_digest = digest
                items = page[self.items]
                records, issues = _records(items, number, page_url)
                notes = []
                if self.watermark_field:
                    values = [record.data.get(self.watermark_field) for record in records]
                    mark.settle(values)
                    accepted: list[Any] = []
                    for record, value in zip(records, values, strict=True):
                        why = mark.refusal(value)
                        if why == "晚于现在":
                            ahead += 1
                            if ahead == 1:
                                notes.append(
                                    f"HTTP 数据源 {shown(self.url)}：{record.location} 的 {self.watermark_field} 是 "
                                    f"{value}，晚于现在：水位没有越过现在，这样的项每次运行都会再读到"
                                )
                        elif why:
                            refused += 1
                            if refused == 1:
                                notes.append(
                                    f"HTTP 数据源 {shown(self.url)}：{record.location} 的 {self.watermark_field} 是 "
                                    f"{_quoted(value)}，{why}：水位没有因它移动"
                                )
                        else:
                            accepted.append(value)
                    full = bool(self.page_size and len(items) >= self.page_size)
                    more = full or bool(self.next and page.get(self.next))
                    self._ascending(number, accepted, mark, page_url, more)
                    for value in accepted:
                        mark.offer(value)
                newest = mark.value
                if records or issues:  # nothing new is no batch, not an empty one
                    yield Batch(records, issues, None if newest is None else str(newest), notes=notes)
                if number >= (self.max_pages or PAGES_PER_RUN):
                    if watermark is not None and newest is not None and str(newest) == str(watermark):
                        raise SourceError(
                            f"HTTP 数据源 {shown(self.url)}：读了 {number} 页（max_pages），水位没有前进（仍是 "
                            f"{watermark}）：{self.watermark_field} 相同的项比一次运行能读的还多，每次运行都只会再读到"
                            "它们；请调大 max_pages 或 page_size"
                        )
                    return
                if self.next:
                    url = self._next_url(page, page_url, seen)
                    params = {}  # the next URL carries its own query
                    if url is None:
                        return
                elif not self.page_param or not items or (self.page_size and len(items) < self.page_size):
                    return

    def _ascending(self, number: int, values: list[Any], mark: Mark, page_url: str, more: bool) -> None:
        """SourceError for a page that shows the API does not page oldest first: one older than the watermark the
        pages before it reached, or one running newest to oldest (more pages follow with older items). Its
        watermark would pass over those older items, and the next run, asking since it, would never see them."""
        if not values:
            return
        older = number > 1 and mark.value is not None and any(mark.later(mark.value, value) for value in values)
        descending = more and len(values) > 1 and mark.later(values[0], values[-1])
        descending = descending and all(not mark.later(b, a) for a, b in itertools.pairwise(values))
        if older or descending:
            raise SourceError(
                f"HTTP 数据源 {shown(page_url)}：接口未按水位升序返回（第 {number} 页的 {self.watermark_field} "
                f"{'早于前面各页' if older else '从新到旧'}），已停止，水位不随这一页移动：请让接口按 "
                f"{self.watermark_field} 从旧到新排序"
            )

    def _next_url(self, page: dict, page_url: str, seen: set[str]) -> str | None:
        """The next page's URL from a page, or None at the end; SourceError for one that leaves the source's
        origin, is not text, or was read already in this run."""
        link = page.get(self.next)
        if not link:
            return None
        if not isinstance(link, str):
            raise SourceError(f"HTTP 数据源 {shown(page_url)}：下一页地址「{self.next}」不是文本：{str(link)[:80]}")
        url = urljoin(page_url, link)
        if _origin(url) != _origin(self.url):
            raise SourceError(
                f"HTTP 数据源 {shown(self.url)}：下一页地址 {shown(url)} 不在数据源的主机上，已拒绝（令牌只发给数据源）"
            )
        seen.add(page_url)
        if url in seen:
            raise SourceError(f"HTTP 数据源 {shown(self.url)}：下一页地址 {shown(url)} 已经读过，分页没有前进，已停止")
        return url

    def fetch(self, session: requests.Session, url: str, params: dict[str, Any]) -> tuple[dict, str, str]:
        """One page as parsed JSON, the URL it came from and a digest of its bytes; SourceError when it cannot be
        had or used. A watchdog shuts the connection after page_seconds, however slowly headers or body come."""
        watch = getattr(session, "watch", None) or _Watch()
        timer = threading.Timer(self.page_seconds, watch.fire)
        timer.daemon = True
        timer.start()
        try:
            try:
                response = self._get(session, url, params)
            except requests.RequestException as error:
                if watch.fired:
                    raise self._overdue(url) from None
                reason = _scrubbed(_reason(error), url)
                raise SourceError(f"HTTP 数据源 {shown(url)}：{reason}，已重试 {self.retries} 次") from error
            with response:
                if response.status_code >= 400:
                    retried = f"，已重试 {self.retries} 次" if response.status_code in RETRY_STATUSES else ""
                    raise SourceError(f"HTTP 数据源 {shown(response.url)}：HTTP {response.status_code}{retried}")
                try:
                    body = self._body(response)
                except (SourceError, OSError):
                    if watch.fired:
                        raise self._overdue(response.url) from None
                    raise
            if watch.fired:  # cut in its headers, http.client may take what came for a response with no body
                raise self._overdue(response.url)
        finally:
            timer.cancel()
            watch.reset()
        kind = response.headers.get("Content-Type", "没有内容类型")
        try:
            page = json_numbers.loads(_decoded(body, kind, shown(response.url)))
        except (ValueError, LookupError, RecursionError):
            raise SourceError(f"HTTP 数据源 {shown(response.url)}：回应不是 JSON（{kind[:80]}）") from None
        if not isinstance(page, dict) or not isinstance(page.get(self.items), list):
            raise SourceError(f"HTTP 数据源 {shown(response.url)}：回应中没有列表「{self.items}」")
        if len(page[self.items]) > self.max_items:
            raise SourceError(
                f"HTTP 数据源 {shown(response.url)}：一页有 {len(page[self.items])} 项，超过 {self.max_items} 项"
                "（max_items）：请让接口分页（page_size），或调大 max_items"
            )
        return page, response.url, hashlib.blake2b(body, digest_size=16).hexdigest()

    def _get(self, session: requests.Session, url: str, params: dict[str, Any]) -> requests.Response:
        """The answer to a GET, redirects followed only on the source's own scheme, host and port: a redirect
        elsewhere (another host, an internal address) is a SourceError, as a next link there is."""
        response = session.get(url, params=params, timeout=self.timeout, stream=True, allow_redirects=False)
        for _ in range(MAX_REDIRECTS):
            location = response.headers.get("Location")
            if not response.is_redirect or not location:
                return response
            target = urljoin(response.url, location)
            response.close()
            if _origin(target) != _origin(self.url):
                raise SourceError(
                    f"HTTP 数据源 {shown(self.url)}：回应重定向到 {shown(target)}，不在数据源的主机上，已拒绝"
                    "（令牌只发给数据源）"
                )
            response = session.get(target, timeout=self.timeout, stream=True, allow_redirects=False)
        response.close()
        raise SourceError(f"HTTP 数据源 {shown(self.url)}：重定向超过 {MAX_REDIRECTS} 次，已停止")

    def _overdue(self, url: str) -> SourceError:
        return SourceError(
            f"HTTP 数据源 {shown(url)}：一页读了 {self.page_seconds:g} 秒仍未读完（page_seconds）："
            "回应头也算在内，已断开"
        )

    def _body(self, response: requests.Response) -> bytes:
        """A page's bytes, read no further than max_mb and no longer than page_seconds (SourceError past either)."""
        limit = int(self.max_mb * 1024 * 1024)
        deadline = time.monotonic() + self.page_seconds
        chunks: list[bytes] = []
        size = 0
        try:
            # read1 hands over what has arrived (at most CHUNK): a read that waited for a full chunk let a server
            # dripping a byte within each timeout hold the page for days.
            while chunk := response.raw.read1(CHUNK, decode_content=True):
                size += len(chunk)
                if size > limit:
                    raise SourceError(
                        f"HTTP 数据源 {shown(response.url)}：一页的回应超过 {self.max_mb:g} MB（max_mb），没有读完："
                        "请让接口分页（page_size），或调大 max_mb"
                    )
                if time.monotonic() > deadline:
                    raise SourceError(
                        f"HTTP 数据源 {shown(response.url)}：一页读了 {self.page_seconds:g} 秒仍未读完（page_seconds）"
                    )
                chunks.append(chunk)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            reason = _scrubbed(_reason(error), response.url)
            raise SourceError(f"HTTP 数据源 {shown(response.url)}：读取回应时{reason}") from error
        return b"".join(chunks)

    def close(self) -> None:
        """Nothing to release: each run opens and closes its own session."""


class _Watch:
    """The sockets of a session's connections, and the watchdog that shuts them (``fire``)."""

    def __init__(self) -> None:
        self.sockets: weakref.WeakSet = weakref.WeakSet()
        self.fired = False
        self.lock = threading.Lock()
        watch = self

        class Watched:
            def connect(self) -> None:
                super().connect()
                with watch.lock:
                    watch.sockets.add(self.sock)
                    if watch.fired:  # a retry after the watchdog fired: no new wait
                        _shut(self.sock)

        class Http(Watched, urllib3.connection.HTTPConnection):
            pass

        class Https(Watched, urllib3.connection.HTTPSConnection):
            pass

        class HttpPool(urllib3.HTTPConnectionPool):
            ConnectionCls = Http

        class HttpsPool(urllib3.HTTPSConnectionPool):
            ConnectionCls = Https

        self.pools = {"http": HttpPool, "https": HttpsPool}

    def fire(self) -> None:
        with self.lock:
            self.fired = True
            for sock in list(self.sockets):
                _shut(sock)

    def reset(self) -> None:
        with self.lock:
            self.fired = False


def _shut(sock: socket.socket | None) -> None:
    with contextlib.suppress(OSError, AttributeError):
        sock.shutdown(socket.SHUT_RDWR)


def _records(items: list[Any], page: int, url: str) -> tuple[list[Record], list[Issue]]:
    """A page's items as Records; an item that is not a JSON object is an Issue."""
    records: list[Record] = []
    issues: list[Issue] = []
    for number, item in enumerate(items, start=1):
        location = f"HTTP 第 {page} 页第 {number} 项"
        if isinstance(item, dict):
            records.append(Record(location, item))
        else:
            detail = f"应为 JSON 对象，收到的是 {type(item).__name__}"
            issues.append(Issue(url, f"第 {page} 页第 {number} 项", "item", "not an object", detail, {"item": item}))
    return records, issues


def _quoted(value: Any) -> str:
    """A watermark value as a note quotes it: its type shows (20261208 and "20261208"), at most 80 characters."""
    return (json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, float) else str(value))[:80]


class _CappedRetry(Retry):
    """urllib3's retries, a server's Retry-After honoured up to RETRY_AFTER_CAP seconds."""

    def get_retry_after(self, response) -> float | None:
        after = super().get_retry_after(response)
        return None if after is None else min(after, RETRY_AFTER_CAP)


def shown(url: str) -> str:
    """A URL as messages show it: a password in it (http://user:pass@host/) and the values of query parameters named
    like secrets as ***."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        userinfo, _, host = parts.netloc.rpartition("@")
        if ":" in userinfo:
            parts = parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{host}")
    if not parts.query:
        return urlunsplit(parts)
    query = [(name, "***" if SECRET_PARAMETER.search(name) else value) for name, value in parse_qsl(parts.query, True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def _scrubbed(message: str, url: str) -> str:
    """A message (a driver's, which may quote the address) with the URL's password and secret query values as ***."""
    parts = urlsplit(url)
    secrets = [parts.password or ""]
    secrets += [value for name, value in parse_qsl(parts.query, True) if SECRET_PARAMETER.search(name)]
    for secret in sorted((secret for secret in secrets if len(secret) >= 3), key=len, reverse=True):
        message = message.replace(secret, "***")
    return message


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _decoded(body: bytes, content_type: str, where: str) -> str:
    """An answer's text: by its declared charset, else UTF-8, else GBK (a Chinese API that declares none); a
    SourceError naming the first byte that is neither."""
    charset = _charset(content_type)
    try:
        return body.decode(charset)
    except UnicodeDecodeError as error:
        if "charset" not in content_type.lower():
            with contextlib.suppress(UnicodeDecodeError):
                return body.decode("gb18030")
        raise SourceError(
            f"HTTP 数据源 {where}：回应不是 UTF-8 编码（第 {error.start + 1} 字节），也不是 GBK；"
            "请让接口以 UTF-8 回应，或在 Content-Type 中声明 charset"
        ) from None


def _charset(content_type: str) -> str:
    """How to decode a JSON answer: its declared charset, else UTF-8 (JSON's own; requests takes text/* without a
    charset for Latin-1 and garbled 茶叶), a byte-order mark allowed either way."""
    match = re.search(r"charset\s*=\s*\"?([\w.:-]+)", content_type, re.IGNORECASE)
    declared = match.group(1).lower() if match else "utf-8"
    return "utf-8-sig" if declared.replace("_", "-") in ("utf-8", "utf8") else declared


def _reason(error: requests.RequestException) -> str:
    """A short cause: 超时, or 无法连接 with the connection error that urllib3 gave up on."""
    # Once retries are exhausted requests wraps urllib3's MaxRetryError, whose reason is the real cause.
    cause = getattr(error.args[0], "reason", error) if error.args else error
    # NewConnectionError subclasses urllib3's TimeoutError, yet a refused connection did not time out.
    timed_out = isinstance(error, requests.Timeout) or isinstance(cause, UrllibTimeout)
    if timed_out and not isinstance(cause, NewConnectionError):
        return "超时"
    return f"无法连接（{cause}）"


SOURCE = HttpJson
