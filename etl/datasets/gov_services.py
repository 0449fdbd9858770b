"""Government services (政务服务) at township halls and village service points: appointments, applications
received, handled jointly (并联审批、协同办理), completed, and the applicants' feedback."""

from etl.dataset import Dataset, Measure, choice, text, timestamp, whole
from etl.datasets import fact_fields
from etl.warehouse.schema import gov_services

CHANNELS = {"网上办": "online", "掌上办": "mobile", "窗口": "counter", "代办": "proxy"}
MODES = {"单独办理": "single", "并联审批": "joint", "协同办理": "joint"}
STATUSES = {"已预约": "appointed", "已受理": "received", "办理中": "in_progress", "已办结": "completed"}
STEPS = ("appointment_at", "received_at", "completed_at", "feedback_at")


def steps_in_order(row: dict) -> tuple[str, str, str] | None:
    """Appointment, receipt, completion and feedback happen in that order (those that happened)."""
    done = [(name, row[name]) for name in STEPS if row[name] is not None]
    for (before, first), (after, second) in zip(done, done[1:], strict=False):
        if second < first:
            return after, "invalid value", f"{after} 早于 {before}"
    return None


DATASET = Dataset(
    name="gov_services",
    table=gov_services,
    fields=fact_fields(
        application_id=text(required=True),
        service=text(required=True),
        channel=choice(CHANNELS),
        mode=choice(MODES),
        status=choice(STATUSES, required=True),
        appointment_at=timestamp(),
        received_at=timestamp(),
        completed_at=timestamp(),
        feedback_at=timestamp(),
        satisfaction=whole(low=1, high=5),
    ),
    measures=(
        Measure("gov.appointments", time="appointment_at", where=lambda r: r["appointment_at"] is not None),
        Measure("gov.received", dimension="channel", time="received_at", where=lambda r: r["received_at"] is not None),
        Measure(
            "gov.joint",
            time="received_at",
            where=lambda r: r["received_at"] is not None and r["mode"] == "joint",
        ),
        Measure("gov.completed", time="completed_at", where=lambda r: r["completed_at"] is not None),
        Measure("gov.feedback", time="feedback_at", where=lambda r: r["feedback_at"] is not None),
        Measure(
            "gov.satisfaction",
            value="satisfaction",
            time="feedback_at",
            where=lambda r: r["feedback_at"] is not None and r["satisfaction"] is not None,
        ),
    ),
    checks=(steps_in_order,),
)
