"""Public-safety incidents (综治) by type and status."""

from etl.dataset import Dataset, Measure, choice, text
from etl.datasets import fact_fields
from etl.warehouse.schema import incidents

STATUSES = {"未处理": "open", "处理中": "open", "已处理": "closed"}

DATASET = Dataset(
    name="incidents",
    table=incidents,
    fields=fact_fields(
        incident_id=text(required=True), kind=text(required=True), status=choice(STATUSES, required=True)
    ),
    measures=(Measure("security.incidents", dimension="kind"),),
)
