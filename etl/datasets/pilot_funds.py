"""Pilot programme funds (衔接资金): allocated, disbursed and spent per pilot, cumulative to a month, in 万元."""

from etl.dataset import Dataset, number, text
from etl.datasets.pilot_status import report_fields
from etl.warehouse.schema import pilot_funds


def spent_within_disbursed(row: dict) -> tuple[str, str, str] | None:
    """What was spent was disbursed first: spending above disbursement is a typing error, not a fact."""
    if row["spent"] > row["disbursed"] + 1e-9:
        return "spent", "invalid value", f"支出 {row['spent']:g} 万元大于拨付 {row['disbursed']:g} 万元"
    return None


DATASET = Dataset(
    name="pilot_funds",
    table=pilot_funds,
    fields=report_fields(
        allocated=number(low=0, high=100_000),
        disbursed=number(required=True, low=0, high=100_000),
        spent=number(required=True, low=0, high=100_000),
        note=text(),
    ),
    checks=(spent_within_disbursed,),
)
