"""环境今日: garbage collected and sorting accuracy today, the air, and the weather forecast."""

from datetime import timedelta

from dash import html

from dashboard.board_queries import forecast
from dashboard.nearest import borrowed_from, nearest_totals
from dashboard.panels import LOCAL, average, number, total
from dashboard.queries import measure_totals
from dashboard.slides import Slide, big_number, numbers

AIR = ["reading.aqi", "reading.pm25"]


def render(context):
    """Today's garbage and air numbers and the coming hours' forecast (air and forecast from the nearest region
    that has them, named when it is not the village)."""
    engine, code, window = context.engine, context.village.code, context.window
    waste = measure_totals(engine, code, ["waste.tonnage", "waste.sorted_share"], window.today, window.tomorrow)
    share = average(waste, "waste.sorted_share")
    air, air_from = nearest_totals(engine, code, AIR, window.today, window.tomorrow)
    hour = window.now.replace(minute=0, second=0, microsecond=0)
    weather = forecast(engine, code, hour, hour + timedelta(hours=19))
    hours = weather["hours"][::3][: context.holds(portrait=6, landscape=5)]
    return [
        numbers(
            big_number("今日垃圾清运", number(total(waste, "waste.tonnage"), 1), "吨"),
            big_number("分类准确率", number(100 * share if share is not None else None, 1), "%"),
            big_number("空气质量指数", number(average(air, "reading.aqi"))),
            big_number("PM2.5", number(average(air, "reading.pm25")), "µg/m³"),
        ),
        html.H3("天气预报", className="slide-subtitle"),
        html.Div(
            className=f"forecast forecast-{len(hours)}",
            children=[
                html.Div(
                    className="forecast-hour",
                    children=[
                        html.Div(f"{item['time'].astimezone(LOCAL):%H}时"),
                        html.Div(item["condition"] or "—", className="condition"),
                        html.Div(f"{number(item['temperature'])}°C"),
                    ],
                )
                for item in hours
            ]
            or [html.Div("暂无天气预报", className="slide-empty")],
        ),
        *(
            html.Div(text, className="slide-note")
            for text in borrowed_from(engine, code, {"空气质量": air_from, "天气预报": weather["region"]})
        ),
    ]


SLIDE = Slide("environment", "环境今日", ("waste_trips", "readings", "weather_forecasts"), render)
