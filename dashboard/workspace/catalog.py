"""The measure catalog: every measure the datasets roll up (etl/datasets/*.py declare them; their rollups are
what the dashboard reads, as it may not import the ETL), with its Chinese label (its name in etl/warehouse/labels.py,
which the ETL's reports use too), unit, area, how its headline number is formed, and the fact table holding the
records behind it.

A measure found in the rollups without an entry here still appears (under 其他, by its name); a test fails until
it is labelled here, and checks every entry against the dataset that declares it (table, time, dimension).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from etl.warehouse.labels import MEASURE_NAMES, METRIC_NAMES, column_label

AREAS = {
    "governance": "治理",
    "industry": "产业",
    "livelihood": "民生",
    "environment": "人居环境",
    "security": "安全",
    "other": "其他",
}
# How a measure's rollup rows become its number: "count" rows, "sum" of the value, "mean" value, "stock" (every
# row up to the period's end: devices installed, people registered) or "latest" (the newest day's total: a
# snapshot such as the labour pool's head count).
AGGREGATES = ("count", "sum", "mean", "stock", "latest")
ADDITIVE = ("count", "sum")


@dataclass(frozen=True)
class MeasureInfo:
    """What the workspace knows of one measure."""

    name: str
    label: str
    unit: str
    aggregate: str
    area: str
    table: str  # the fact table the measure is rolled up from
    time: str = "event_time"  # the column that places a row in the period
    dimension: str | None = None  # the column the measure is split by
    scale: float = 1.0  # shown value = value × scale (a share of 0.8 shows as 80 %)
    records: str | None = None  # the records view, when not the table's own
    record_filter: tuple[tuple[str, str], ...] = ()  # columns the records behind the number are limited to
    digits: int = 0  # decimals shown
    dataset: str = ""  # the dataset's name, when not its table's
    # Parts that do not add up (收入 and 支出; 公斤 of apples and 头 of pigs): the number is shown for one part of the
    # dimension at a time, ``part`` unless a filter chooses another (None: the largest); ``part_unit`` the column
    # holding each part's unit.
    per_part: bool = False
    part: str | None = None
    part_unit: str | None = None

    @property
    def dataset_name(self) -> str:
        """The dataset the measure is declared by (its feeds' freshness is the page's 数据截至)."""
        return self.dataset or self.table

    @property
    def area_label(self) -> str:
        return AREAS.get(self.area, "其他")

    @property
    def dimension_label(self) -> str:
        return column_label(self.table, self.dimension) if self.dimension else ""

    @property
    def record_view(self) -> str:
        return self.records or self.table

    @property
    def additive(self) -> bool:
        """Whether children and dimensions add up to the whole (a share of it means something)."""
        return self.aggregate in ADDITIVE and not self.per_part


def _m(name, unit, aggregate, area, table, **more) -> MeasureInfo:
    if table == SUPERVISION:
        more["dataset"] = "supervision"
    return MeasureInfo(name, MEASURE_NAMES[name], unit, aggregate, area, table, **more)


SUPERVISION = "supervision_items"  # the supervision dataset's table


MEASURES = (
    _m("cases.received", "件", "count", "governance", "cases", dimension="category"),
    _m("cases.received_by_module", "件", "count", "governance", "cases", dimension="module"),
    _m("cases.closed", "件", "count", "governance", "cases", time="closed_at", dimension="category"),
    _m("cases.closed_on_time", "件", "count", "governance", "cases", time="closed_at"),
    _m("cases.satisfaction", "分", "mean", "governance", "cases", time="rated_at", digits=2),
    _m("democracy.deliberations", "件", "count", "governance", "deliberations", dimension="form"),
    _m("democracy.participants", "人次", "sum", "governance", "deliberations", dimension="form"),
    _m("democracy.decided", "件", "count", "governance", "deliberations", time="decided_at"),
    _m("democracy.supervision", "件", "count", "governance", SUPERVISION, dimension="subject"),
    _m("democracy.supervision_replied", "件", "count", "governance", SUPERVISION, time="replied_at"),
    _m("disclosures.published", "条", "count", "governance", "disclosures", dimension="kind"),
    _m(
        "finance.amount",
        "元",
        "sum",
        "governance",
        "disclosures",
        dimension="direction",
        digits=2,
        per_part=True,
        part="income",
    ),
    _m("party.activities", "次", "count", "governance", "party_activities", dimension="kind"),
    _m("party.attendees", "人次", "sum", "governance", "party_activities"),
    _m("ecommerce.sales", "元", "sum", "industry", "orders", dimension="product", digits=2),
    _m(
        "farm.output",
        "",
        "sum",
        "industry",
        "farm_output",
        dimension="product",
        digits=1,
        per_part=True,
        part_unit="unit",
    ),
    _m("tourism.visitors", "人次", "sum", "industry", "tourism"),
    _m("tourism.bookings", "单", "sum", "industry", "tourism"),
    _m("jobs.positions", "个", "sum", "industry", "jobs"),
    _m("jobs.matched", "个", "sum", "industry", "jobs"),
    _m("labour.people", "人", "latest", "industry", "labour_pool", dimension="status"),
    _m("labour.registered", "人", "stock", "industry", "labour_profiles", dimension="education"),
    _m("labour.with_skills", "人", "stock", "industry", "labour_profiles"),
    _m("trace.codes", "个", "sum", "industry", "traceability", dimension="action"),
    _m("livelihood.events", "场", "count", "livelihood", "livelihood", dimension="kind"),
    _m("livelihood.participants", "人次", "sum", "livelihood", "livelihood", dimension="kind"),
    _m("points.earned", "分", "sum", "livelihood", "points_ledger", dimension="source"),
    _m("gov.appointments", "件", "count", "livelihood", "gov_services", time="appointment_at"),
    _m("gov.received", "件", "count", "livelihood", "gov_services", time="received_at", dimension="channel"),
    _m("gov.joint", "件", "count", "livelihood", "gov_services", time="received_at"),
    _m("gov.completed", "件", "count", "livelihood", "gov_services", time="completed_at"),
    _m("gov.feedback", "件", "count", "livelihood", "gov_services", time="feedback_at"),
    _m("gov.satisfaction", "分", "mean", "livelihood", "gov_services", time="feedback_at", digits=2),
    _m("epidemic.quantity", "人次", "sum", "livelihood", "epidemic", dimension="kind"),
    _m("waste.tonnage", "吨", "sum", "environment", "waste_trips", digits=1),
    _m("waste.sorted_share", "%", "mean", "environment", "waste_trips", scale=100, digits=1),
    _m("toilets.records", "条", "count", "environment", "toilets", dimension="kind"),
    _m("toilets.repaired", "件", "count", "environment", "toilets", time="repaired_at"),
    _m("devices.installed", "台", "stock", "environment", "devices", dimension="kind"),
    _m("forecast.temperature", "°C", "mean", "environment", "weather_forecasts", digits=1),
    _m("security.incidents", "起", "count", "security", "incidents", dimension="kind"),
)
# reading.{metric}: one measure per metric, the mean of the readings, with the devices (and their latest
# reading of the metric) as the records behind it.
READING_TEMPLATE = "reading.{metric}"
_METRIC_UNITS = {
    "fill_level": ("%", "environment"),
    "cod": ("mg/L", "environment"),
    "nh3n": ("mg/L", "environment"),
    "flow": ("m³/d", "environment"),
    "pm25": ("µg/m³", "environment"),
    "aqi": ("", "environment"),
    "temperature": ("°C", "environment"),
    "humidity": ("%", "environment"),
    "rainfall": ("mm/时", "environment"),
    "wind_speed": ("m/s", "environment"),
    "soil_moisture": ("%", "industry"),
    "ammonia": ("ppm", "industry"),
    "co2": ("ppm", "industry"),
    "online": ("%", "security"),
}
METRICS = {metric: (METRIC_NAMES[metric], unit, area) for metric, (unit, area) in _METRIC_UNITS.items()}
_BY_NAME = {info.name: info for info in MEASURES}
_ORDER = {name: index for index, name in enumerate([*_BY_NAME, *(f"reading.{m}" for m in METRICS)])}


def measure_info(name: str) -> MeasureInfo:
    """The catalog entry of a measure name as the rollups hold it; an unlabelled one by its own name."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    prefix = READING_TEMPLATE.split("{")[0]
    if name.startswith(prefix):
        metric = name[len(prefix) :]
        label, unit, area = METRICS.get(metric, (metric, "", "environment"))
        return MeasureInfo(
            name,
            label,
            unit,
            "mean",
            area,
            "readings",
            scale=100 if metric == "online" else 1.0,
            records="devices",
            record_filter=(("metric", metric),),
            digits=1,
        )
    return MeasureInfo(name, name, "", "sum", "other", "", digits=2)


def ordered(names) -> list[MeasureInfo]:
    """The catalog entries of measure names, by area and then as listed here (unlabelled ones last)."""
    areas = list(AREAS)
    infos = [measure_info(name) for name in set(names)]
    return sorted(infos, key=lambda info: (areas.index(info.area), _ORDER.get(info.name, len(_ORDER)), info.name))


def with_label(info: MeasureInfo, label: str) -> MeasureInfo:
    """An entry under another label (a dimension value's share of a measure)."""
    return replace(info, label=label)
