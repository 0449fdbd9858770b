"""Which Dash page an address shows, and whether it is an error page: the page's own ``problem(**parameters)``
(an unknown village or stop), or no page at all (404). The 404 status and the ops page's 错误 both ask here."""

from __future__ import annotations

import functools
import sys
from urllib.parse import parse_qsl, urlsplit

import dash

NOT_FOUND = "页面不存在（404）"


def page_of(path: str) -> tuple[dict | None, dict]:
    """(the registry entry of the page at ``path``, its path variables), or (None, {}) when no page has it."""
    parts = [part for part in path.strip("/").split("/") if part]
    for page in dash.page_registry.values():
        template = [part for part in (page.get("path_template") or page["path"]).strip("/").split("/") if part]
        if len(template) != len(parts):
            continue
        variables = {}
        for want, got in zip(template, parts, strict=True):
            if want.startswith("<") and want.endswith(">"):
                variables[want[1:-1]] = got
            elif want != got:
                break
        else:
            return page, variables
    return None, {}


def problem_of(route: str) -> str | None:
    """Why the page at ``route`` (path and query, as a screen's heartbeat reports it) is an error page, or None."""
    address = urlsplit(route or "/")
    page, variables = page_of(address.path)
    if page is None:
        return NOT_FOUND
    check = getattr(sys.modules.get(page["module"]), "problem", None)
    return check(**{**first_values(parse_qsl(address.query)), **variables}) if check else None


def first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """A query's parameters, each at its first value (a hand-edited kiosk address repeats one)."""
    values: dict[str, str] = {}
    for key, value in pairs:
        values.setdefault(key, value)
    return values


def _one_value_each(layout):
    """A page layout that gets each query parameter once: Dash passes a repeated one as a list, and a page reading
    it as text answered 500 (a black wall)."""

    @functools.wraps(layout)
    def single(**parameters):
        return layout(**{key: value[0] if isinstance(value, list) else value for key, value in parameters.items()})

    single.one_value_each = True
    return single


def read_parameters_once() -> None:
    """Make every registered page read a repeated query parameter at its first value (once per process)."""
    for entry in dash.page_registry.values():
        layout = entry.get("layout")
        if callable(layout) and not getattr(layout, "one_value_each", False):
            entry["layout"] = _one_value_each(layout)
