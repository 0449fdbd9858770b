"""Waste collection trips: tonnage collected and the share correctly sorted."""

from etl.dataset import Dataset, Measure, number, text
from etl.datasets import fact_fields
from etl.warehouse.schema import waste_trips

DATASET = Dataset(
    name="waste_trips",
    table=waste_trips,
    fields=fact_fields(
        trip_id=text(required=True), tonnage=number(required=True, low=0, high=100), sorted_share=number(low=0, high=1)
    ),
    measures=(
        Measure("waste.tonnage", value="tonnage"),
        Measure("waste.sorted_share", value="sorted_share", where=lambda r: r["sorted_share"] is not None),
    ),
)
