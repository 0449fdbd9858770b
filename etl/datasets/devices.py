"""IoT devices: what they are, where they stand, since when."""

from etl.dataset import Dataset, Measure, choice, number, text
from etl.datasets import fact_fields
from etl.warehouse.schema import devices

KINDS = {
    "垃圾桶": "bin",
    "污水处理站": "sewage_plant",
    "空气监测": "air",
    "气象站": "weather",
    "土壤墒情": "soil",
    "大棚": "greenhouse",
    "摄像头": "camera",
    "养殖舍": "livestock_house",
}

DATASET = Dataset(
    name="devices",
    reference=True,
    table=devices,
    fields=fact_fields(
        device_id=text(required=True),
        kind=choice(KINDS, required=True),
        name=text(),
        lon=number(low=73, high=136),
        lat=number(low=3, high=54),
    ),
    measures=(Measure("devices.installed", dimension="kind"),),
)
