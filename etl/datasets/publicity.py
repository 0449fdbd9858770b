"""Policy publicity (政策宣传) items that village boards and bus-stop screens rotate through."""

from etl.dataset import Dataset, text, timestamp
from etl.datasets import fact_fields
from etl.warehouse.schema import publicity

DATASET = Dataset(
    name="publicity",
    reference=True,
    table=publicity,
    fields=fact_fields(item_id=text(required=True), title=text(required=True), body=text(), valid_until=timestamp()),
)
