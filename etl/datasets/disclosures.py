"""Disclosures on the village board: village affairs, finance lines, party affairs, government affairs."""

from etl.dataset import Dataset, Measure, choice, number, text
from etl.datasets import fact_fields
from etl.warehouse.schema import disclosures

KINDS = {"村务": "village_affairs", "财务": "finance", "党务": "party_affairs", "政务": "government_affairs"}
DIRECTIONS = {"收入": "income", "支出": "expense"}

DATASET = Dataset(
    name="disclosures",
    table=disclosures,
    fields=fact_fields(
        disclosure_id=text(required=True),
        kind=choice(KINDS, required=True),
        title=text(required=True),
        body=text(),
        direction=choice(DIRECTIONS),
        amount=number(low=0),
        period=text(),
    ),
    measures=(
        Measure("disclosures.published", dimension="kind"),
        Measure("finance.amount", value="amount", dimension="direction", where=lambda r: r["amount"] is not None),
    ),
)
