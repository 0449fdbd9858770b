"""SMS through an HTTP gateway: a JSON POST whose body is the configured template with {phones} (comma-joined),
{phone} and {text} filled in, one per phone when ``per_phone``; success is a 2xx answer and, if configured, a
field of its JSON equal to a value (gateways answer 200 with an error code)."""

from __future__ import annotations

from etl.alerts.channels import DeliveryError, Reached, flag, header_table, required, text_list
from etl.alerts.channels.http import excerpt, new_session, post_json
from etl.alerts.errors import AlertConfigError

TYPE = "sms"
IN_PARTS = True  # one phone at a time when per_phone: the phones reached are kept with the notification
KEYS = ("url", "phones", "body", "headers", "per_phone", "success_field", "success_value", "max_length")


def _filled(template, values: dict):
    """The template with {placeholders} in its texts filled in, tables and lists alike."""
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template
    if isinstance(template, dict):
        return {key: _filled(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [_filled(value, values) for value in template]
    return template


def build(entry: dict, where: str):
    """A sender POSTing the ``body`` template to the gateway at ``url`` for ``phones``."""
    url, phones = required(entry, "url", where), text_list(entry, "phones", where)
    body = entry.get("body", {"phones": "{phones}", "text": "{text}"})
    if not phones or not isinstance(body, dict):
        raise AlertConfigError(f"{where}：需要 phones（手机号列表）和 body（请求体模板，表）")
    headers, per_phone = header_table(entry, where), flag(entry, "per_phone", where)
    field, expected, length = entry.get("success_field"), entry.get("success_value"), int(entry.get("max_length", 300))
    session = new_session()

    def send(message, reached: Reached | None = None) -> None:
        # ``reached``: the phones this notification reached before (its row in the warehouse), so that a retry
        # after another phone's refusal does not send it to them again, whichever process retries it (kept in the
        # process, a retry taken up by another `etl watch` or after a restart sent it anew to every phone).
        reached = Reached() if reached is None else reached
        text = message.text()[:length]
        for group in [[phone] for phone in phones] if per_phone else [list(phones)]:
            part = ",".join(group)
            if part in reached:
                continue
            payload = _filled(body, {"phones": part, "phone": group[0], "text": text})
            answer = post_json(session, url, payload, headers)
            if field and (not isinstance(answer, dict) or answer.get(field) != expected):
                raise DeliveryError(f"短信网关拒绝：{excerpt(answer)}")
            reached.add(part)

    return send
