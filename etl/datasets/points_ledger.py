"""The points ledger: points a household earned (文明诚信, 垃圾分类, 平台使用, 志愿服务) or redeemed."""

from etl.dataset import Dataset, Measure, choice, text, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import points_ledger

SOURCES = {
    "文明诚信": "civility",
    "垃圾分类": "waste_sorting",
    "平台使用": "platform_use",
    "志愿服务": "volunteer",
    "兑换": "redemption",
}


def sign_matches_source(row: dict) -> tuple[str, str, str] | None:
    """Redemptions spend points (< 0); every other source earns them (> 0)."""
    if (row["source"] == "redemption") != (row["points"] < 0):
        wanted = "负数（兑换扣分）" if row["source"] == "redemption" else "正数"
        return "points", "wrong sign", f"来源 {row['source']} 的积分应为{wanted}，这里是 {row['points']}"
    return None


DATASET = Dataset(
    name="points_ledger",
    table=points_ledger,
    fields=fact_fields(
        entry_id=text(required=True),
        household_code=text(required=True),
        source=choice(SOURCES, required=True),
        points=whole(required=True, low=-100000, high=100000),
    ),
    measures=(Measure("points.earned", value="points", dimension="source"),),
    checks=(sign_matches_source,),
)
