"""IoT readings (bins, sewage plants, air, weather, soil, greenhouse, cameras): one value per device, metric, time."""

from etl.dataset import Dataset, Measure, number, text
from etl.datasets import fact_fields
from etl.latest import update_latest
from etl.warehouse.schema import readings

# Plausible physical ranges per metric; a reading outside is quarantined as out of range.
METRIC_RANGES = {
    "fill_level": (0, 100),  # bin, %
    "cod": (0, 2000),  # sewage plant outflow, mg/L
    "nh3n": (0, 200),  # mg/L
    "flow": (0, 100000),  # m³/d
    "pm25": (0, 1000),  # µg/m³
    "aqi": (0, 500),
    "temperature": (-50, 70),  # °C
    "humidity": (0, 100),  # %
    "soil_moisture": (0, 100),  # %
    "online": (0, 1),  # camera
    "ammonia": (0, 100),  # livestock house, ppm
    "co2": (0, 10000),  # livestock house, ppm
    "wind_speed": (0, 75),  # weather station, m/s
    "rainfall": (0, 300),  # weather station, mm in the hour
}


def metric_in_range(row: dict) -> tuple[str, str, str] | None:
    """Why a reading is implausible for its metric, or None."""
    bounds = METRIC_RANGES.get(row["metric"])
    if bounds is None:
        return "metric", "unknown metric", f"「{row['metric']}」不是已知指标（{'、'.join(METRIC_RANGES)}）"
    low, high = bounds
    if not low <= row["value"] <= high:
        return "value", "out of range", f"{row['metric']} 的值 {row['value']:.12g} 超出 {low}～{high}"
    return None


DATASET = Dataset(
    name="readings",
    table=readings,
    fields=fact_fields(device_id=text(required=True), metric=text(required=True), value=number(required=True)),
    measures=(Measure("reading.{metric}", value="value"),),
    checks=(metric_in_range,),
    region_from_device=True,
    time_series=True,
    after_load=update_latest,
)
