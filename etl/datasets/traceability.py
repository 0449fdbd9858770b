"""Farm-product traceability (质量安全追溯): codes issued to product batches, and consumers' scans of them."""

from etl.dataset import Dataset, Measure, choice, text, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import traceability

ACTIONS = {"赋码": "issued", "扫码": "scanned"}

DATASET = Dataset(
    name="traceability",
    table=traceability,
    fields=fact_fields(
        record_id=text(required=True),
        action=choice(ACTIONS, required=True),
        product=text(required=True),
        batch=text(),
        codes=whole(required=True, high=10_000_000),
    ),
    measures=(Measure("trace.codes", value="codes", dimension="action"),),
)
