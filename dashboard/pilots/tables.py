"""Plain HTML tables of /pilots: every value from data is a text child (Dash escapes it), never markup."""

from __future__ import annotations

from dash import html


def table(header: list, rows: list[list], class_name: str = "", table_id: str | None = None) -> html.Div:
    """A table in a box that scrolls sideways on a narrow screen; a cell is a value or an html.Td."""
    head = html.Thead(html.Tr([cell if isinstance(cell, html.Th) else html.Th(cell) for cell in header]))
    body = html.Tbody([html.Tr([cell if isinstance(cell, html.Td) else html.Td(cell) for cell in row]) for row in rows])
    attributes = {"id": table_id} if table_id else {}
    return html.Div(
        html.Table([head, body], className=f"pilots-table {class_name}".strip(), **attributes),
        className="pilots-scroll",
    )


def amount(value: float | None) -> str:
    """万元 with two decimals; — when not reported."""
    return "—" if value is None else f"{value:,.2f}"


def share(part: float | None, whole: float | None) -> str:
    """A percentage with one decimal; — without a whole."""
    return "—" if not whole or part is None else f"{100 * part / whole:.1f}%"


def number_cell(text: str) -> html.Td:
    """A right-aligned number."""
    return html.Td(text, className="pilots-number")
