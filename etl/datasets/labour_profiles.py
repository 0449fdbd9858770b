"""The labour pool's people (劳动力信息库): each registered worker's work status, education, skills (特长),
hobbies and wanted job, under the register's number, never a name or an ID number."""

from etl.dataset import Dataset, Measure, choice, text
from etl.datasets import fact_fields
from etl.datasets.labour_pool import STATUSES
from etl.warehouse.schema import labour_profiles

EDUCATION = {
    "小学及以下": "primary",
    "小学": "primary",
    "初中": "junior",
    "高中": "senior",
    "中专": "vocational",
    "职高": "vocational",
    "技校": "vocational",
    "大专": "college",
    "本科": "bachelor",
    "研究生": "master",
}

DATASET = Dataset(
    name="labour_profiles",
    reference=True,
    table=labour_profiles,
    fields=fact_fields(
        worker_id=text(required=True),
        status=choice(STATUSES, required=True),
        education=choice(EDUCATION),
        skills=text(),
        hobbies=text(),
        wanted_job=text(),
    ),
    measures=(
        Measure("labour.registered", dimension="education"),
        Measure("labour.with_skills", where=lambda r: r["skills"] is not None),
    ),
)
