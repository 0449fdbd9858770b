"""Dash callback requests as the browser sends them, for tests that talk to the server without a browser."""

from __future__ import annotations

PAGES_OUTPUT = ".._pages_content.children..._pages_store.data.."


def callback(output: str, outputs, inputs: list, state: list | None = None) -> dict:
    """The body of a POST to /_dash-update-component for ``output``, its first input the one that changed."""
    first = inputs[0]["id"] if inputs else None
    return {
        "output": output,
        "outputs": outputs,
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": [f"{first}.{inputs[0]['property']}"] if isinstance(first, str) else [],
    }


def page(pathname, search="") -> dict:
    """The request of Dash's page router for an address: the page's layout comes back."""
    return callback(
        PAGES_OUTPUT,
        [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
    )
