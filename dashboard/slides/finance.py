"""财务公开: the village's income and expense lines of the latest published month, and the year's totals."""

from dash import html

from dashboard.board_queries import finance_lines
from dashboard.panels import LOCAL
from dashboard.slides import Slide, big_number, empty, numbers


def render(context):
    """The newest month's lines (科目, 收/支, 金额) and the month's and year's income and expense."""
    year = f"{context.window.today.astimezone(LOCAL).year}"
    lines = finance_lines(context.engine, context.village.code, year)
    if not lines:
        return [empty(f"{year}年暂无财务公开")]
    month = max(line["period"] for line in lines)
    shown = [line for line in lines if line["period"] == month]
    room = context.holds(portrait=10, landscape=4)
    # A month with more lines than the slide holds: the largest are listed, the rest summed in one line.
    listed = sorted(shown, key=lambda line: -line["amount"])[:room] if len(shown) > room else shown
    rest = [line for line in shown if line not in listed]
    return [
        html.H3(f"{int(month[:4])}年{int(month[5:])}月收支明细", className="slide-subtitle"),
        html.Table(
            className=f"ledger ledger-{len(listed) + bool(rest)}",
            children=[
                html.Tr(
                    [
                        html.Td(html.Span(line["title"], className="ledger-title")),
                        html.Td("收入" if line["direction"] == "income" else "支出", className=line["direction"]),
                        html.Td(f"{money(line['amount'])}元", className="amount"),
                    ]
                )
                for line in listed
            ]
            + (
                [
                    html.Tr(
                        [
                            html.Td(html.Span(f"其余 {len(rest)} 项", className="ledger-title")),
                            html.Td("收支"),
                            html.Td(f"{money(sum(line['amount'] for line in rest))}元", className="amount"),
                        ]
                    )
                ]
                if rest
                else []
            ),
        ),
        numbers(
            big_number("本月收入", _wan(_sum(shown, "income")), "万元"),
            big_number("本月支出", _wan(_sum(shown, "expense")), "万元"),
            big_number(f"{year}年收入", _wan(_sum(lines, "income")), "万元"),
            big_number(f"{year}年支出", _wan(_sum(lines, "expense")), "万元"),
        ),
    ]


def _sum(lines: list[dict], direction: str) -> float:
    return sum(line["amount"] for line in lines if line["direction"] == direction)


def money(yuan: float) -> str:
    """An amount to the fen, as accounts publish it (never rounded to 万 like other numbers)."""
    return f"{yuan:,.2f}"


def _wan(yuan: float) -> str:
    """Yuan in 万元 with two decimals, as village accounts are usually published."""
    return money(yuan / 10000)


SLIDE = Slide("finance", "财务公开", ("disclosures",), render)
