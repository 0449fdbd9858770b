"""告警提示: the village's open alerts (how severe, what, since when, 已确认 or 未确认), in the rotation only while
the village has any: with none, the slide says so and the board passes over it (dashboard/pages/board.py)."""

from dash import html

from dashboard.alert_queries import acknowledgement, open_alert_list, open_alert_tally, since_text
from dashboard.panels import number
from dashboard.slides import QUIET, Slide, big_number, numbers


def render(context):
    """Counts of the village's open and unacknowledged alerts, and as many of them as the board holds, the
    unacknowledged and most severe first. A public board says whether an alert is acknowledged, not by whom."""
    code = context.village.code
    tally = open_alert_tally(context.engine, code)
    if not tally["open"]:
        return [html.Div("本村暂无未消除的告警", className=f"slide-empty {QUIET}")]
    found = open_alert_list(context.engine, code, limit=context.holds(portrait=6, landscape=4))
    return [
        numbers(
            big_number("未消除告警", number(tally["open"]), "条", alarm=True),
            big_number("待确认", number(tally["unacknowledged"]), "条", alarm=tally["unacknowledged"] > 0),
        ),
        html.Ul(
            className=f"alert-list alerts-{len(found)}",
            children=[
                html.Li(
                    className="alert-item" + (" acknowledged" if alert["acknowledged"] else ""),
                    children=[
                        html.Span(alert["severity_name"], className=f"alert-severity severity-{alert['severity']}"),
                        html.Span(alert["name"], className="alert-name"),
                        html.Span(acknowledgement(alert, by_whom=False), className="alert-state"),
                        # Since when first: a long device id is cut, the time never.
                        html.Span(f"{since_text(alert)} · {alert['subject']}", className="alert-subject"),
                    ],
                )
                for alert in found
            ],
        ),
    ]


SLIDE = Slide("alerts", "告警提示", (), render)
