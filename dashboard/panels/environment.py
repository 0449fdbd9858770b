"""人居环境: garbage collected and sorting accuracy, bins full, sewage plants against the standard, air, weather."""

from dashboard.panels import Panel, average, count, number, row, stat, total
from dashboard.queries import measure_totals

# GB 18918-2002 class 1B discharge limits, the usual standard for village sewage stations.
COD_LIMIT, NH3N_LIMIT = 60.0, 8.0
MEASURES = [
    "waste.tonnage",
    "waste.sorted_share",
    "reading.fill_level",
    "reading.cod",
    "reading.nh3n",
    "reading.aqi",
    "reading.pm25",
    "forecast.temperature",
]


def render(engine, scope, window):
    """Today's environment numbers."""
    totals = measure_totals(engine, scope, MEASURES, window.today, window.tomorrow)
    sorted_share = average(totals, "waste.sorted_share")
    cod, nh3n = average(totals, "reading.cod"), average(totals, "reading.nh3n")
    over = (cod or 0) > COD_LIMIT or (nh3n or 0) > NH3N_LIMIT
    return [
        row(
            stat("今日清运", number(total(totals, "waste.tonnage"), 1), "吨"),
            stat("分类准确率", number(100 * sorted_share if sorted_share is not None else None, 1), "%"),
            stat("垃圾桶满溢读数", number(count(totals, "reading.fill_level")), "条"),
        ),
        row(
            stat("出水COD均值", number(cod, 1), "mg/L", alarm=over),
            stat("氨氮均值", number(nh3n, 2), "mg/L", alarm=over),
        ),
        row(
            stat("AQI", number(average(totals, "reading.aqi"))),
            stat("PM2.5", number(average(totals, "reading.pm25")), "µg/m³"),
            stat("预报气温", number(average(totals, "forecast.temperature"), 1), "°C"),
        ),
    ]


PANEL = Panel("environment", "人居环境数字化 · 今日", ("waste_trips", "readings", "weather_forecasts"), render)
