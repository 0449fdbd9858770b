"""Governance cases (矛盾/纠纷/请求/诉求) with their lifecycle 受理 → 处置中 → 办结 → 评价."""

from etl.dataset import Dataset, Measure, choice, text, timestamp, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import cases

CATEGORIES = {"矛盾": "conflict", "纠纷": "dispute", "请求": "request", "诉求": "appeal"}
MODULES = {
    "综合": "general",
    "线上矛调": "online_mediation",
    "信访投诉": "petition",
    "曝光台": "exposure",
    "清廉乡村": "clean_village",
}
CHANNELS = {"二维码": "qr_code", "电话": "phone", "来访": "visit", "网格员": "grid_worker"}
STATUSES = {"受理": "received", "处置中": "in_progress", "办结": "closed", "评价": "rated", "已评价": "rated"}
ESCALATIONS = {"村": "village", "镇": "township", "乡镇": "township", "县": "county"}

DATASET = Dataset(
    name="cases",
    table=cases,
    fields=fact_fields(
        case_id=text(required=True),
        category=choice(CATEGORIES, required=True),
        module=choice(MODULES, required=True),
        channel=choice(CHANNELS),
        title=text(),
        reporter_name=text(),
        reporter_phone=text(),
        status=choice(STATUSES, required=True),
        escalation=choice(ESCALATIONS),
        handled_at=timestamp(),
        closed_at=timestamp(),
        rated_at=timestamp(),
        due_at=timestamp(),
        satisfaction=whole(low=1, high=5),
    ),
    measures=(
        Measure("cases.received", dimension="category"),
        Measure("cases.received_by_module", dimension="module"),
        Measure("cases.closed", dimension="category", time="closed_at", where=lambda r: r["closed_at"] is not None),
        Measure(
            "cases.closed_on_time",
            time="closed_at",
            where=lambda r: r["closed_at"] is not None and (r["due_at"] is None or r["closed_at"] <= r["due_at"]),
        ),
        Measure("cases.satisfaction", value="satisfaction", time="rated_at", where=lambda r: r["rated_at"] is not None),
    ),
)
