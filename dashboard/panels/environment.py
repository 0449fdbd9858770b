"""人居环境: garbage collected and sorting accuracy, bins full, sewage plants against the standard, air, weather."""

from dashboard.alert_queries import alerted_devices
from dashboard.nearest import borrowed_from, nearest_totals
from dashboard.panels import Panel, average, facts, note, number, row, stat, total
from dashboard.queries import device_kinds, measure_totals

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
    # Full bins and plants over the standard are the devices with an open alert of a rule on that metric
    # (ALERTS_FILE holds the limits): the numbers and the alert list agree.
    full_bins = alerted_devices(engine, scope, ["fill_level"])
    plants = device_kinds(engine, scope).get("sewage_plant", 0)
    over_plants = min(plants, alerted_devices(engine, scope, ["cod", "nh3n"]))
    return [
        row(
            stat("今日清运", number(total(totals, "waste.tonnage"), 1), "吨"),
            stat("分类准确率", number(100 * sorted_share if sorted_share is not None else None, 1), "%"),
            stat("满溢垃圾桶", number(full_bins), "个", alarm=full_bins > 0),
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
