"""Checks of what a browser sends to the screens' callbacks: a value out of place is refused with HTTP 400 and a
reason (in Chinese) before it reaches a query or a cache key, so cache keys hold validated values only."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import NoReturn

from sqlalchemy import Engine
from werkzeug.exceptions import BadRequest

from dashboard.auth.viewer import forbid, view_scope
from dashboard.board_queries import stop
from dashboard.cache import version_mark
from dashboard.regions import Region, get_region, root_region
from geo.codes import is_within

CODE = re.compile(r"^[0-9]{12}\Z")
STOP_ID = re.compile(r"^[\w.-]{1,32}\Z")
DIGEST = re.compile(r"^[0-9a-f]{16}\Z")

# Regions looked up for checks, per process and warehouse version: a wall's refreshes ask about the same few
# scopes again and again, and a check should not cost a query each time.
REMEMBERED = 4096
_regions: OrderedDict = OrderedDict()
_lock = threading.Lock()


def refuse(reason: str) -> NoReturn:
    """Answer the request with 400 and ``reason``."""
    raise BadRequest(description=reason)


def _remembered(engine: Engine, key: tuple, look_up):
    """``look_up()`` once per process, engine, warehouse version (with its bump's mark: a restored warehouse counts
    its versions again) and key."""
    key = (engine, version_mark(engine), *key)
    with _lock:
        if key in _regions:
            _regions.move_to_end(key)
            return _regions[key]
    found = look_up()
    with _lock:
        _regions[key] = found
        while len(_regions) > REMEMBERED:
            _regions.popitem(last=False)
    return found


def root_of(engine: Engine, configured: str) -> Region | None:
    """The top region this request may see: the viewer's scope, else the deployment's root (ROOT_REGION, else
    the top of the warehouse)."""
    return _remembered(engine, ("root", configured, view_scope()), lambda: root_region(engine, configured))


def known_region(engine: Engine, code: str) -> Region | None:
    """The region of a 12-digit code, or None when the warehouse has none."""
    return _remembered(engine, ("region", code), lambda: get_region(engine, code))


def known_stop(engine: Engine, stop_id: str) -> dict | None:
    """The stop of a well-formed id (name, region), or None: remembered per process like regions, never in the
    shared cache, so ids made up by a browser cannot fill it."""
    return _remembered(engine, ("stop", stop_id), lambda: stop(engine, stop_id))


def mapping(value, keys: tuple[str, ...], what: str) -> dict:
    """A dict holding at least ``keys``."""
    if not isinstance(value, dict) or any(key not in value for key in keys):
        refuse(f"{what}格式不正确：应包含 {', '.join(keys)}")
    return value


def _placed(engine: Engine, configured_root: str, code: str) -> tuple[Region | None, str]:
    """(the region of a well-formed code, "") when it exists at or below the root, else (None, why not)."""
    region = known_region(engine, code)
    if region is None:
        return None, "不存在"
    root = root_of(engine, configured_root)
    if root is not None and not is_within(code, root.code):
        return None, f"不在{'您的管辖' if view_scope() else '本部署的'}范围（{root.code}）内"
    return region, ""


def region_in_root(engine: Engine, configured_root: str, value, what: str = "区划代码") -> Region:
    """The region of ``value``: a 12-digit code of a region in the warehouse, at or below the deployment's root
    (a wall's refreshes ask the same few times over: the answer is remembered per warehouse version)."""
    if not isinstance(value, str) or not CODE.match(value):
        refuse(f"{what}应为12位数字")
    key = ("placed", configured_root, value, view_scope())
    region, why = _remembered(engine, key, lambda: _placed(engine, configured_root, value))
    if region is None and view_scope() and why != "不存在":
        forbid(value, "区划")  # outside the viewer's scope: 403, audited (``what`` may be a field's English name)
    if region is None:
        refuse(f"{what} {value} {why}")
    return region


def names(values, known, what: str) -> tuple[str, ...]:
    """A list of distinct names, each one of ``known``."""
    if not isinstance(values, list) or len(values) > len(known):
        refuse(f"{what}应为名称列表")
    unknown = [value for value in values if not isinstance(value, str) or value not in known]
    if unknown or len(set(values)) != len(values):
        refuse(f"{what}含有未知或重复的名称")
    return tuple(values)


def digest(value) -> str | None:
    """The digest of the content a screen shows (16 hex digits), or None."""
    if value is not None and not (isinstance(value, str) and DIGEST.match(value)):
        refuse("内容摘要格式不正确")
    return value


def stop_id(value) -> str:
    """A stop id: 1-32 letters, digits, '.', '_' or '-'."""
    if not isinstance(value, str) or not STOP_ID.match(value):
        refuse("站点编号应为1-32位字母、数字、“.”、“_”或“-”")
    return value
