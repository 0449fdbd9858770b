"""Rural toilets (农厕革命): renovations, inspections, faults with their repairs, and desludging, per toilet."""

from etl.dataset import Dataset, Measure, choice, text, timestamp
from etl.datasets import fact_fields
from etl.warehouse.schema import toilets

KINDS = {"改造": "renovation", "巡检": "inspection", "故障": "fault", "报修": "fault", "粪污清运": "desludging"}


def repair_fits(row: dict) -> tuple[str, str, str] | None:
    """Only a fault is repaired, and not before it was reported."""
    if row["repaired_at"] is None:
        return None
    if row["kind"] != "fault":
        return "repaired_at", "invalid value", f"只有故障记录有修复时间（这条是 {row['kind']}）"
    if row["repaired_at"] < row["event_time"]:
        return "repaired_at", "invalid value", "修复时间早于报修时间"
    return None


DATASET = Dataset(
    name="toilets",
    table=toilets,
    fields=fact_fields(
        record_id=text(required=True),
        toilet_id=text(),
        kind=choice(KINDS, required=True),
        repaired_at=timestamp(),
        detail=text(),
    ),
    measures=(
        Measure("toilets.records", dimension="kind"),
        Measure("toilets.repaired", time="repaired_at", where=lambda r: r["repaired_at"] is not None),
    ),
    checks=(repair_fits,),
)
