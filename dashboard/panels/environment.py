"""人居环境: garbage collected and sorting accuracy, bins full, sewage plants against the standard, air, weather."""

from dashboard.devices import alarm_counts, alarms_now
from dashboard.nearest import borrowed_from, nearest_totals
from dashboard.panels import Panel, average, facts, note, number, row, stat, total
from dashboard.queries import device_kinds, measure_totals

# GB 18918-2002 class 1B discharge limit for COD, the usual standard for village sewage stations.
COD_LIMIT = 60.0
MEASURES = ["waste.tonnage", "waste.sorted_share", "reading.cod"]
# Measured or forecast for a few places only: the nearest region's (dashboard/nearest.py).
AIR = ["reading.aqi", "reading.pm25"]
WEATHER = ["forecast.temperature"]


def render(engine, scope, window):
    """Today's environment numbers; air and forecast from the nearest region that has them."""
    totals = measure_totals(engine, scope, MEASURES, window.today, window.tomorrow)
    air, air_from = nearest_totals(engine, scope, AIR, window.today, window.tomorrow)
    weather, weather_from = nearest_totals(engine, scope, WEATHER, window.today, window.tomorrow)
    sorted_share = average(totals, "waste.sorted_share")
    cod = average(totals, "reading.cod")
    alarming = alarms_now(engine, scope, window.now)
    alarms = alarm_counts(alarming)
    plants = device_kinds(engine, scope).get("sewage_plant", 0)
    over_plants = sum(1 for d in alarming if d["kind"] == "sewage_plant")
    return [
        row(
            stat("今日清运", number(total(totals, "waste.tonnage"), 1), "吨"),
            stat("分类准确率", number(100 * sorted_share if sorted_share is not None else None, 1), "%"),
            stat("满溢垃圾桶", number(alarms["垃圾桶满溢"]), "个", alarm=alarms["垃圾桶满溢"] > 0),
        ),
        row(
            stat("AQI", number(average(air, "reading.aqi"))),
            stat("PM2.5", number(average(air, "reading.pm25")), "µg/m³"),
            stat("预报气温", number(average(weather, "forecast.temperature"), 1), "°C"),
        ),
        facts(
            [
                ("污水站达标", number(plants - over_plants), "座"),
                ("超标", number(over_plants), "座"),
                ("出水COD均值", number(cod, 1), "mg/L"),
            ]
        ),
        *(note(text) for text in borrowed_from(engine, scope, {"空气质量": air_from, "气温": weather_from})),
    ]


PANEL = Panel("environment", "人居环境数字化 · 今日", ("waste_trips", "readings", "weather_forecasts"), render)
