"""Party activities (三会一课 and others) of village party branches."""

from etl.dataset import Dataset, Measure, choice, text, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import party_activities

KINDS = {
    "支部党员大会": "branch_meeting",
    "支委会": "committee_meeting",
    "党小组会": "group_meeting",
    "党课": "party_lecture",
    "其他": "other",
}

DATASET = Dataset(
    name="party_activities",
    table=party_activities,
    fields=fact_fields(
        activity_id=text(required=True), kind=choice(KINDS, required=True), title=text(), attendees=whole()
    ),
    measures=(Measure("party.activities", dimension="kind"), Measure("party.attendees", value="attendees")),
)
