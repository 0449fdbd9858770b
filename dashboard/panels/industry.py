"""产业: e-commerce sales and their daily trend, tourism visitors, agricultural sensors, the labour pool and
job matches."""

from datetime import timedelta

from dashboard.panels import LOCAL, Panel, average, bars, count, facts, number, row, spark, stat, total
from dashboard.queries import device_kinds, measure_series, measure_totals
from etl.warehouse.db import as_utc

MEASURES = ["ecommerce.sales", "tourism.visitors", "tourism.bookings", "jobs.positions", "jobs.matched"]
LABOUR = {"migrant": "外出务工", "local": "本地就业", "unemployed": "待业"}
FARM_SENSORS = ("soil", "greenhouse")


def render(engine, scope, window):
    """The industry numbers of the last 30 days, today's labour pool and today's soil moisture."""
    totals = measure_totals(engine, scope, MEASURES, window.month_start, window.tomorrow)
    # The labour pool is a daily snapshot: today's people by status, not a sum over days.
    today = measure_totals(engine, scope, ["labour.people", "reading.soil_moisture"], window.today, window.tomorrow)
    series = measure_series(engine, scope, "ecommerce.sales", window.month_start, window.tomorrow)
    by_day = {as_utc(point["bucket"]): point["total"] for point in series}
    days = [window.month_start + timedelta(days=n) for n in range(30)]
    kinds = device_kinds(engine, scope)
    return [
        row(
            stat("电商销售额", number(total(totals, "ecommerce.sales") / 10000, 1), "万元"),
            stat("订单", number(count(totals, "ecommerce.sales")), "单"),
            stat("游客", number(total(totals, "tourism.visitors")), "人次"),
        ),
        spark([by_day.get(day, 0.0) for day in days], "电商日销售额 · 近30天", _day(days[0]), _day(days[-1])),
        row(
            stat("农家乐预订", number(total(totals, "tourism.bookings")), "间夜"),
            stat("岗位", number(total(totals, "jobs.positions")), "个"),
            stat("匹配就业", number(total(totals, "jobs.matched")), "人"),
        ),
        bars([(label, total(today, "labour.people", key)) for key, label in LABOUR.items()], "人"),
        facts(
            [
                ("农业传感器", number(sum(kinds.get(kind, 0) for kind in FARM_SENSORS)), "个"),
                ("土壤墒情", number(average(today, "reading.soil_moisture")), "%"),
            ]
        ),
    ]


def _day(bucket) -> str:
    """A day bucket as the strip's end labels print it (local date)."""
    return f"{bucket.astimezone(LOCAL):%m-%d}"


PANEL = Panel("industry", "产业数字化 · 近30天", ("orders", "tourism", "labour_pool", "jobs", "readings"), render)
