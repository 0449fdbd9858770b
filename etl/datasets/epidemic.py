"""Epidemic prevention (疫情防控) as aggregates only: people health-checked, doses given and monitoring points
reporting, per region and day; no person appears in it."""

from etl.dataset import Dataset, Measure, choice, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import epidemic

KINDS = {"健康监测": "health_check", "疫苗接种": "vaccination", "监测点": "monitoring_point"}

DATASET = Dataset(
    name="epidemic",
    table=epidemic,
    fields=fact_fields(kind=choice(KINDS, required=True), quantity=whole(required=True, high=1_000_000)),
    measures=(Measure("epidemic.quantity", value="quantity", dimension="kind"),),
)
