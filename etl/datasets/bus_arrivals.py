"""Bus arrivals expected at a stop (the event time is the expected arrival)."""

from etl.dataset import Dataset, text, timestamp
from etl.datasets import fact_fields
from etl.warehouse.schema import bus_arrivals

DATASET = Dataset(
    name="bus_arrivals",
    table=bus_arrivals,
    fields=fact_fields(
        stop_id=text(required=True), route=text(required=True), direction=text(required=True), observed_at=timestamp()
    ),
    future=True,
)
