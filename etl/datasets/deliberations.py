"""Democratic deliberation (民主议事): matters put to villagers online or in meetings, turnout and outcome."""

from etl.dataset import Dataset, Measure, choice, text, timestamp, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import deliberations

FORMS = {"线上议事": "online", "网上议事": "online", "村民会议": "assembly", "村民代表会议": "representatives"}
STATUSES = {"征求意见": "consulting", "表决中": "voting", "已表决": "decided", "已公示": "published"}

DATASET = Dataset(
    name="deliberations",
    table=deliberations,
    fields=fact_fields(
        matter_id=text(required=True),
        title=text(required=True),
        form=choice(FORMS, required=True),
        status=choice(STATUSES, required=True),
        participants=whole(),
        votes_for=whole(),
        votes_against=whole(),
        decided_at=timestamp(),
        outcome=text(),
    ),
    measures=(
        Measure("democracy.deliberations", dimension="form"),
        Measure(
            "democracy.participants",
            value="participants",
            dimension="form",
            where=lambda r: r["participants"] is not None,
        ),
        Measure("democracy.decided", time="decided_at", where=lambda r: r["decided_at"] is not None),
    ),
)
