"""What a notification says about a state change of an alert, in Chinese with local times: a title, lines, and
the alert's fields for JSON webhooks; rendered once when planned and kept in the notifications log."""

from __future__ import annotations

from dataclasses import dataclass

from etl.runner import local_text
from etl.warehouse.alerts import EVENT_NAMES, LEVEL_NAMES, SEVERITY_NAMES
from etl.warehouse.db import as_utc
from etl.warehouse.text import clean_text


@dataclass(frozen=True)
class Message:
    """A notification's content; ``key`` identifies it (alert, state change, channel) to whoever receives it."""

    key: str
    title: str
    lines: tuple[str, ...]
    severity: str
    alert: dict

    def text(self) -> str:
        """Plain text: the title, then a line each."""
        return "\n".join((self.title, *self.lines))

    def markdown(self) -> str:
        """Markdown for the group robots: a heading, then a line each, what they say kept as text."""
        return "\n\n".join((f"### {_as_text(self.title)}", *map(_as_text, self.lines)))

    def as_json(self) -> dict:
        """What the notifications log keeps."""
        return {
            "key": self.key,
            "title": self.title,
            "lines": list(self.lines),
            "severity": self.severity,
            "alert": self.alert,
        }

    @classmethod
    def from_json(cls, data: dict) -> Message:
        """The message the log kept."""
        return cls(data["key"], data["title"], tuple(data["lines"]), data["severity"], data["alert"])


# Markdown's link, heading, HTML and code marks, as their full-width twins: a device id or a clerk's note reached the
# group robots as markdown, a phishing link ("[查看处置单](http://…)") or a forged "### 【已消除】" heading.
MARKDOWN_AS_TEXT = str.maketrans(
    {"[": "［", "]": "］", "(": "（", ")": "）", "<": "＜", ">": "＞", "#": "＃", "`": "｀"}
)


def _as_text(line: str) -> str:
    """A line of a notification that markdown shows as the text it is (one line: no heading, list or quote)."""
    return " ".join(line.splitlines()).translate(MARKDOWN_AS_TEXT)


def _clean(text: str | None) -> str:
    """What data or a person wrote, for a notification's line: one line, without control or invisible characters."""
    return " ".join(clean_text(text or "").split())


def render(alert, event, region_names: dict[str, str], channel: str) -> Message:
    """The message of one event of one alert for one channel (``alert`` and ``event`` are rows)."""
    where = region_names.get(alert.region_code, alert.region_code)
    owner = region_names.get(alert.owner_code, alert.owner_code)
    event_name = EVENT_NAMES.get(event.kind, event.kind)
    severity = SEVERITY_NAMES.get(alert.severity, alert.severity)
    lines = [
        f"区划：{where}（{alert.region_code}）",
        f"情况：{_clean(alert.detail)}",  # an alert opened before details were cleaned may still hold escapes
        f"级别：{severity}；责任：{LEVEL_NAMES.get(event.level, event.level)}（{owner}）",
        f"时间：{local_text(as_utc(event.at))}",
    ]
    if event.actor:
        lines.append(f"操作人：{event.actor}" + (f"；说明：{_clean(event.note)}" if event.note else ""))
    elif event.note:
        lines.append(f"说明：{_clean(event.note)}")
    lines.append(f"告警编号：{alert.id}")
    fields = {
        "id": alert.id,
        "rule": alert.rule_id,
        "name": alert.name,
        "severity": alert.severity,
        "status": alert.status,
        "region_code": alert.region_code,
        "region_name": where,
        "level": event.level,
        "owner_code": alert.owner_code,
        "detail": alert.detail,
        "value": alert.value,
        "event": event.kind,
        "at": as_utc(event.at).isoformat(),
        "actor": event.actor,
        "note": event.note,
    }
    # Unique beyond this warehouse: two counties sending to one city webhook or mailbox both had alert-1-event-1-city
    # (and so had a rebuilt warehouse), and a receiver dropping repeats, as advised, lost the second. The region's
    # code and the event's moment tell them apart and stay the same for every retry (the key is kept in the log).
    moment = int(as_utc(event.at).timestamp())
    return Message(
        f"alert-{alert.id}-event-{event.id}-{channel}-{alert.region_code}-{moment}",
        f"【{event_name}】{alert.name}",
        tuple(lines),
        alert.severity,
        fields,
    )
