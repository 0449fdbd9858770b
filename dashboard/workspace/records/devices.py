"""Devices as records: what and where each is, when it was installed, and its latest reading of each metric
(device_latest, kept by the ETL), filtered by kind and metric."""

from __future__ import annotations

from datetime import datetime

from dashboard.workspace.catalog import METRICS
from dashboard.workspace.records import Column, Filter, View, equals, region_columns
from etl.warehouse.labels import DEVICE_KINDS
from etl.warehouse.schema import device_latest, devices, regions

METRIC_LABELS = {metric: label for metric, (label, _unit, _area) in METRICS.items()}


def _derive(values: dict, _now: datetime) -> dict:
    metric = values.get("metric")
    values["unit"] = METRICS.get(metric, ("", "", ""))[1] if metric else ""
    values["metric"] = METRIC_LABELS.get(metric, metric or "")
    return values


def VIEW() -> View:  # noqa: N802 - the name the records registry looks for
    """The devices view: a row per device and metric (a device without readings has one row)."""
    region_cols, region_selected = region_columns()
    columns = (
        Column("device_id", "设备编号", "plain", width=16),
        Column("name", "设备名称", width=16),
        Column("kind", "设备类型", "label", width=10, coded=("devices", "kind")),
        *region_cols,
        Column("event_time", "安装时间", "time", width=17),
        Column("metric", "指标", "plain", width=12),
        Column("value", "最新读数", "number", width=10),
        Column("unit", "单位", "plain", width=8, sortable=False),
        Column("reading_time", "读数时间", "time", width=17),
    )
    selected = (
        devices.c.device_id.label("device_id"),
        devices.c.name.label("name"),
        devices.c.kind.label("kind"),
        *region_selected,
        devices.c.region_code.label("region_code"),
        devices.c.event_time.label("event_time"),
        device_latest.c.metric.label("metric"),
        device_latest.c.value.label("value"),
        device_latest.c.event_time.label("reading_time"),
    )
    source = devices.join(regions, regions.c.code == devices.c.region_code).join(
        device_latest, device_latest.c.device_id == devices.c.device_id, isouter=True
    )
    measured = devices.join(device_latest, device_latest.c.device_id == devices.c.device_id, isouter=True)
    return View(
        name="devices",
        table=devices,
        columns=columns,
        selected=selected,
        source=source,
        region=devices.c.region_code,
        filters={
            "kind": Filter("kind", "设备类型", DEVICE_KINDS, equals(devices.c.kind)),
            "metric": Filter("metric", "指标", METRIC_LABELS, equals(device_latest.c.metric)),
        },
        default_sort="device_id",
        default_descending=False,
        tiebreak=(devices.c.device_id, device_latest.c.metric),
        time_mode="until",
        derive=_derive,
        count_source=measured,
        sort_columns={
            "metric": device_latest.c.metric,
            "value": device_latest.c.value,
            "reading_time": device_latest.c.event_time,
        },
    )
