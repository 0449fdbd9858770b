"""环境今日: garbage collected and sorting accuracy today, the air, and the weather forecast."""

from datetime import timedelta

from dash import html

from dashboard.board_queries import forecast, lineage
from dashboard.panels import LOCAL, average, number, total
from dashboard.queries import measure_totals
from dashboard.slides import Slide, big_number, numbers

AIR = ["reading.aqi", "reading.pm25"]


def render(context):
    """Today's garbage and air numbers (the air from the nearest region with a monitor) and the next hours."""
    engine, code, window = context.engine, context.village.code, context.window
    waste = measure_totals(engine, code, ["waste.tonnage", "waste.sorted_share"], window.today, window.tomorrow)
    share = average(waste, "waste.sorted_share")
    air = {}
    for scope in lineage(code):
        air = measure_totals(engine, scope, AIR, window.today, window.tomorrow)
        if average(air, "reading.aqi") is not None:
            break
    hour = window.now.replace(minute=0, second=0, microsecond=0)
    hours = forecast(engine, code, hour, hour + timedelta(hours=13))["hours"]
    return [
        numbers(
            big_number("今日垃圾清运", number(total(waste, "waste.tonnage"), 1), "吨"),
            big_number("分类准确率", number(100 * share if share is not None else None, 1), "%"),
            big_number("空气质量指数", number(average(air, "reading.aqi"))),
            big_number("PM2.5", number(average(air, "reading.pm25")), "µg/m³"),
        ),
        html.H3("天气预报", className="slide-subtitle"),
        html.Div(
            className="forecast",
            children=[
                html.Div(
                    className="forecast-hour",
                    children=[
                        html.Div(f"{item['time'].astimezone(LOCAL):%H}时"),
                        html.Div(item["condition"] or "—", className="condition"),
                        html.Div(f"{number(item['temperature'])}°C"),
                    ],
                )
                for item in hours[::3][:5]
            ]
            or [html.Div("暂无天气预报")],
        ),
    ]


SLIDE = Slide("environment", "环境今日", ("waste_trips", "readings", "weather_forecasts"), render)
