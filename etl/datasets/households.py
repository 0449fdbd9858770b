"""Households with their household code, 门牌 and 组 (for the 一户一码 labels); the head's name and phone are kept
for masking only."""

from etl.dataset import Dataset, text, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import households

DATASET = Dataset(
    name="households",
    reference=True,
    table=households,
    fields=fact_fields(
        household_code=text(required=True),
        head_name=text(),
        head_phone=text(),
        members=whole(),
        door_plate=text(),
        village_group=text(),
    ),
)
