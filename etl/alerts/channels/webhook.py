"""A generic JSON webhook: the alert's fields, the state change and the text, POSTed with the notification's key
in an Idempotency-Key header, so a receiver can drop a repeat."""

from __future__ import annotations

from etl.alerts.channels import header_table, required
from etl.alerts.channels.http import new_session, post_json

TYPE = "webhook"
KEYS = ("url", "headers")


def build(entry: dict, where: str):
    """A sender POSTing to ``url`` with extra ``headers`` (e.g. an Authorization)."""
    url, headers = required(entry, "url", where), header_table(entry, where)
    session = new_session()

    def send(message) -> None:
        payload = {"key": message.key, "title": message.title, "text": message.text(), "alert": message.alert}
        post_json(session, url, payload, {**headers, "Idempotency-Key": message.key})

    return send
