"""The partial index of alarming devices has the alarm rules' own condition, so queries can use it."""

from sqlalchemy.dialects import postgresql, sqlite

from dashboard.alarms import breaks_a_rule
from etl.warehouse.schema import ALARM_PREDICATE, device_latest


def test_the_alarm_index_predicate_is_the_rules_condition():
    condition = breaks_a_rule(device_latest.c.metric, device_latest.c.value)
    for dialect in (postgresql.dialect(), sqlite.dialect()):
        compiled = str(condition.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        assert compiled.replace("device_latest.", "") == ALARM_PREDICATE, "change migration 0012's index too"
