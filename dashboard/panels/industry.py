"""产业: e-commerce sales, tourism visitors, the labour pool and job matches."""

from dashboard.panels import Panel, bars, count, number, row, stat, total
from dashboard.queries import measure_totals

MEASURES = ["ecommerce.sales", "tourism.visitors", "tourism.bookings", "jobs.positions", "jobs.matched"]
LABOUR = {"migrant": "外出务工", "local": "本地就业", "unemployed": "待业"}


def render(engine, scope, window):
    """The industry numbers of the last 30 days, and today's labour pool."""
    totals = measure_totals(engine, scope, MEASURES, window.month_start, window.tomorrow)
    # The labour pool is a daily snapshot: today's people by status, not a sum over days.
    today = measure_totals(engine, scope, ["labour.people"], window.today, window.tomorrow)
    return [
        row(
            stat("电商销售额", number(total(totals, "ecommerce.sales") / 10000, 1), "万元"),
            stat("订单", number(count(totals, "ecommerce.sales")), "单"),
            stat("游客", number(total(totals, "tourism.visitors")), "人次"),
            stat("农家乐预订", number(total(totals, "tourism.bookings")), "间夜"),
        ),
        bars([(label, total(today, "labour.people", key)) for key, label in LABOUR.items()], "人"),
        row(
            stat("岗位", number(total(totals, "jobs.positions")), "个"),
            stat("匹配就业", number(total(totals, "jobs.matched")), "人"),
        ),
    ]


PANEL = Panel("industry", "产业数字化 · 近30天", ("orders", "tourism", "labour_pool", "jobs"), render)
