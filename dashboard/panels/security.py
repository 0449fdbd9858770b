"""安全: camera online rate today, public-safety incidents of the last 30 days, and the open alerts."""

from dashboard.alert_queries import open_alert_tally
from dashboard.panels import Panel, average, bars, count, note, number, row, stat
from dashboard.privacy import scrub
from dashboard.queries import measure_totals

# The bar rows the panel has room for at 1080p (210 px under its three headline numbers). More kinds than that
# show the largest ones and 其他 with the rest: the rows add up to 治安事件 above them.
ROWS = 3
OTHER = "其他"


def render(engine, scope, window):
    """Camera availability, incidents by type, and the scope's open alerts (red while any is unacknowledged)."""
    today = measure_totals(engine, scope, ["reading.online"], window.today, window.tomorrow)
    month = measure_totals(engine, scope, ["security.incidents"], window.month_start, window.tomorrow)
    online = average(today, "reading.online")
    incidents = month.get("security.incidents", {})
    alerts = open_alert_tally(engine, scope)
    return [
        row(
            stat(
                "摄像头在线率",
                number(100 * online if online is not None else None, 1),
                "%",
                alarm=online is not None and online < 0.95,
            ),
            stat("治安事件", number(count(month, "security.incidents")), "起"),
            stat("未消除告警", number(alerts["open"]), "条", alarm=alerts["unacknowledged"] > 0),
        ),
        # An incident's kind is free text from the feed: scrubbed like every text a public screen shows.
        bars(kind_rows(_by_label(incidents)), "起") if incidents else note("近30天无治安事件"),
    ]


def _by_label(incidents: dict) -> dict[str, int]:
    """Incidents counted by their kind as shown (scrubbed: two kinds that read the same are one row)."""
    counts: dict[str, int] = {}
    for kind, values in incidents.items():
        label = scrub(kind)
        counts[label] = counts.get(label, 0) + values["count"]
    return counts


def kind_rows(counts: dict[str, int], rows: int = ROWS) -> list[tuple[str, int]]:
    """(kind, count) rows, largest first, at most ``rows``: beyond that the largest ``rows - 1`` and 其他 with the
    rest (a kind the feed itself calls 其他 among them), so the rows always add up to the total."""
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    if len(ranked) <= rows:
        return ranked
    named = [kv for kv in ranked if kv[0] != OTHER][: rows - 1]
    return [*named, (OTHER, sum(counts.values()) - sum(value for _, value in named))]


PANEL = Panel("security", "安全数字化", ("readings", "incidents"), render)
