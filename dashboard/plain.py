"""Dash components as plain JSON: the dicts Dash would send, or a compact form the screens' scripts draw."""

from __future__ import annotations

from dash.development.base_component import Component

# What a compact node keeps besides its class; anything else would be silently lost in the browser: refused.
COMPACT_ATTRIBUTES = ("style", "title")
# What a component holds besides the props it was given (Dash's bookkeeping, the same for every instance).
BOOKKEEPING = frozenset(
    {"_prop_names", "_valid_wildcard_attributes", "available_properties", "available_wildcard_properties"}
)


def plain(value):
    """The JSON form of a component tree, or of any list or dict holding components."""
    if isinstance(value, Component):
        data = value.to_plotly_json()
        return {**data, "props": plain(data["props"])}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def compact(value) -> list:
    """Nodes ``["tag.class.class", {style, title}?, *children]`` (text as strings) of HTML components, for
    assets/ruralbrain.js to build with createElement and textContent: no markup is ever parsed, so no text
    can inject any, and a panel weighs a third of its Dash JSON."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [node for item in value for node in compact(item)]
    if not isinstance(value, Component):
        return [str(value)]
    if value._namespace != "dash_html_components":
        raise ValueError(f"{value._type} is not an HTML component: it cannot be drawn as a compact node")
    # The props as set on the instance: to_plotly_json would test every prop name and wildcard of the type,
    # a third of a panel's rendering. Anything unexpected here is refused below, never silently dropped.
    props = {key: item for key, item in vars(value).items() if key not in BOOKKEEPING}
    unknown = set(props) - {"children", "className", *COMPACT_ATTRIBUTES}
    if unknown:
        raise ValueError(f"{value._type} has attributes a compact node does not keep: {sorted(unknown)}")
    head = ".".join([value._type.lower(), *props.get("className", "").split()])
    attributes = {key: props[key] for key in COMPACT_ATTRIBUTES if key in props}
    return [[head, *([attributes] if attributes else []), *compact(props.get("children"))]]
