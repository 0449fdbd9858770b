"""Bus stops: the name a stop screen shows, its region and where it stands."""

from etl.dataset import Dataset, number, text
from etl.datasets import fact_fields
from etl.warehouse.schema import bus_stops

DATASET = Dataset(
    name="bus_stops",
    reference=True,
    table=bus_stops,
    fields=fact_fields(
        stop_id=text(required=True),
        name=text(required=True),
        lon=number(low=73, high=136),
        lat=number(low=3, high=54),
    ),
)
