"""Pilot programme funds (衔接资金): allocated, disbursed and spent per pilot, cumulative to a month, in 万元."""

from etl.dataset import Dataset, number, text
from etl.datasets import fact_fields
from etl.datasets.pilot_status import month
from etl.warehouse.schema import pilot_funds


def spent_within_disbursed(row: dict) -> tuple[str, str, str] | None:
    """What was spent was disbursed first: spending above disbursement is a typing error, not a fact."""
    if row["spent"] > row["disbursed"] + 1e-9:
        return "spent", "invalid value", f"支出 {row['spent']:g} 万元大于拨付 {row['disbursed']:g} 万元"
    return None


DATASET = Dataset(
    name="pilot_funds",
    table=pilot_funds,
    fields=fact_fields(
        programme_id=text(required=True),
        pilot_id=text(required=True),
        period=month(required=True),
        allocated=number(low=0, high=100_000),
        disbursed=number(required=True, low=0, high=100_000),
        spent=number(required=True, low=0, high=100_000),
        note=text(),
    ),
    checks=(spent_within_disbursed,),
)
