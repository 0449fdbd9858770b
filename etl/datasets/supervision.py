"""Democratic supervision (民主监督): questions on village affairs, finance and projects raised by villagers or the
supervision committee (村务监督委员会), and the replies."""

from etl.dataset import Dataset, Measure, choice, text, timestamp, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import supervision_items

SUBJECTS = {
    "村务": "village_affairs",
    "财务": "finance",
    "工程项目": "projects",
    "惠民资金": "benefits",
    "其他": "other",
}
SOURCES = {"村民": "villager", "村务监督委员会": "committee", "监委会": "committee"}
STATUSES = {"已受理": "received", "办理中": "in_progress", "已答复": "replied"}

DATASET = Dataset(
    name="supervision",
    table=supervision_items,
    fields=fact_fields(
        item_id=text(required=True),
        subject=choice(SUBJECTS, required=True),
        source=choice(SOURCES),
        title=text(required=True),
        status=choice(STATUSES, required=True),
        replied_at=timestamp(),
        satisfaction=whole(low=1, high=5),
    ),
    measures=(
        Measure("democracy.supervision", dimension="subject"),
        Measure("democracy.supervision_replied", time="replied_at", where=lambda r: r["replied_at"] is not None),
    ),
)
