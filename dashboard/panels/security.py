"""安全: camera online rate today, public-safety incidents of the last 30 days, and the open alerts."""

from dashboard.alert_queries import open_alert_tally
from dashboard.panels import Panel, average, bars, count, note, number, row, stat
from dashboard.privacy import scrub
from dashboard.queries import measure_totals


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
        bars(
            sorted(((scrub(kind), values["count"]) for kind, values in incidents.items()), key=lambda kv: -kv[1])[:3],
            "起",
        )
        if incidents
        else note("近30天无治安事件"),
    ]


PANEL = Panel("security", "安全数字化", ("readings", "incidents"), render)
