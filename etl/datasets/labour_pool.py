"""The labour pool (劳动力信息库): people by status, per village and day."""

from etl.dataset import Dataset, Measure, choice, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import labour_pool

STATUSES = {"外出务工": "migrant", "本地就业": "local", "待业": "unemployed"}

DATASET = Dataset(
    name="labour_pool",
    table=labour_pool,
    fields=fact_fields(status=choice(STATUSES, required=True), people=whole(required=True)),
    measures=(Measure("labour.people", value="people", dimension="status"),),
)
