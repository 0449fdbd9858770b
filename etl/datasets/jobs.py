"""Job postings and how many of their positions were matched with workers."""

from etl.dataset import Dataset, Measure, text, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import jobs

DATASET = Dataset(
    name="jobs",
    table=jobs,
    fields=fact_fields(
        posting_id=text(required=True), title=text(), positions=whole(required=True), matched=whole(required=True)
    ),
    measures=(Measure("jobs.positions", value="positions"), Measure("jobs.matched", value="matched")),
)
