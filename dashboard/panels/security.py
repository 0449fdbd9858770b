"""安全: camera online rate today and public-safety incidents of the last 30 days."""

from dashboard.panels import Panel, average, bars, count, number, row, stat
from dashboard.queries import measure_totals


def render(engine, scope, window):
    """Camera availability and incidents."""
    today = measure_totals(engine, scope, ["reading.online"], window.today, window.tomorrow)
    month = measure_totals(engine, scope, ["security.incidents"], window.month_start, window.tomorrow)
    online = average(today, "reading.online")
    incidents = month.get("security.incidents", {})
    return [
        row(
            stat(
                "摄像头在线率",
                number(100 * online if online is not None else None, 1),
                "%",
                alarm=online is not None and online < 0.95,
            ),
            stat("治安事件", number(count(month, "security.incidents")), "起"),
        ),
        bars(sorted(((kind, values["count"]) for kind, values in incidents.items()), key=lambda kv: -kv[1])[:5], "起"),
    ]


PANEL = Panel("security", "安全数字化", ("readings", "incidents"), render)
