"""Rural tourism: visitors and homestay (农家乐) bookings per day."""

from etl.dataset import Dataset, Measure, text, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import tourism

DATASET = Dataset(
    name="tourism",
    table=tourism,
    fields=fact_fields(record_id=text(required=True), visitors=whole(required=True), homestay_bookings=whole()),
    measures=(
        Measure("tourism.visitors", value="visitors"),
        Measure("tourism.bookings", value="homestay_bookings", where=lambda r: r["homestay_bookings"] is not None),
    ),
)
