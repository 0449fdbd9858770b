"""Weather forecasts per region and hour, from the weather service (the event time is the forecast hour)."""

from etl.dataset import Dataset, Measure, number, text, timestamp
from etl.datasets import fact_fields
from etl.warehouse.schema import weather_forecasts

DATASET = Dataset(
    name="weather_forecasts",
    table=weather_forecasts,
    fields=fact_fields(
        issued_at=timestamp(),
        condition=text(),
        temperature=number(low=-50, high=60),
        precipitation=number(low=0, high=1),
    ),
    measures=(Measure("forecast.temperature", value="temperature", where=lambda r: r["temperature"] is not None),),
    future=True,
)
