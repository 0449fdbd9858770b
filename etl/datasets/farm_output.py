"""Agricultural output by product."""

from etl.dataset import Dataset, Measure, number, text
from etl.datasets import fact_fields
from etl.warehouse.schema import farm_output

DATASET = Dataset(
    name="farm_output",
    table=farm_output,
    fields=fact_fields(
        record_id=text(required=True), product=text(required=True), quantity=number(required=True, low=0), unit=text()
    ),
    measures=(Measure("farm.output", value="quantity", dimension="product"),),
)
