"""Livelihood services: teleconsultations, online classes, trainings and culture events, with participants."""

from etl.dataset import Dataset, Measure, choice, text, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import livelihood

KINDS = {"远程会诊": "teleconsultation", "线上课堂": "online_class", "培训": "training", "文化活动": "culture_event"}

DATASET = Dataset(
    name="livelihood",
    table=livelihood,
    fields=fact_fields(
        event_id=text(required=True), kind=choice(KINDS, required=True), title=text(), participants=whole()
    ),
    measures=(
        Measure("livelihood.events", dimension="kind"),
        Measure(
            "livelihood.participants",
            value="participants",
            dimension="kind",
            where=lambda r: r["participants"] is not None,
        ),
    ),
)
