"""The redemption catalogue (换积分): what a village (or a township or county for all villages below it) offers for
points; from the county's list and from the village office."""

from etl.dataset import Dataset, choice, text, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import catalogue_items

STATUSES = {"上架": "on", "下架": "off"}

DATASET = Dataset(
    name="catalogue",
    reference=True,
    table=catalogue_items,
    fields=fact_fields(
        item_id=text(required=True),
        name=text(required=True),
        points=whole(required=True, low=1, high=100000),
        note=text(),
        status=choice(STATUSES, required=True),
    ),
)
