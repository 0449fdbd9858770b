"""What `ruralbrain demo` tells a newcomer at the end: where the screens are, villages and stops to try, and why
some rows were quarantined (the demo sends bad rows on purpose)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine, func, select

from etl.warehouse.schema import bus_stops, quarantine, regions
from geo.issues import LABELS, kind_of

# What the simulator gets wrong on purpose, so the quarantine has something to show (etl/demo/simulate.py).
ON_PURPOSE = {
    "bad region code": "区划代码写错",
    "unknown region": "未知的村代码",
    "future time": "时间写在未来",
    "invalid value": "值不合规（类别、数字）",
    "unknown device": "未登记的设备",
    "too late": "迟到太久的读数",
}


def demo_summary(engine: Engine, base: str) -> list[str]:
    """The closing lines of `ruralbrain demo` for screens served at ``base``."""
    with engine.connect() as connection:
        villages = connection.execute(
            select(regions.c.code, regions.c.name)
            .where(regions.c.level == "village", regions.c.name.like("%村"))
            .order_by(regions.c.code)
            .limit(3)
        ).all()
        stops = connection.execute(select(bus_stops.c.stop_id, bus_stops.c.name).order_by(bus_stops.c.stop_id).limit(3))
        stops = stops.all()
        reasons = Counter(kind_of(reason) for reason in connection.execute(select(quarantine.c.reason)).scalars())
        regions_count = connection.execute(select(func.count()).select_from(regions)).scalar()
    board = villages[0].code if villages else "<村代码>"
    stop = stops[0].stop_id if stops else "<站点编号>"
    lines = [
        "",
        "乡村大脑 示范县已就绪：",
        f"  县级大屏      {base}/screen/county        （4K 墙：?profile=county-4k）",
        f"  村级电子屏    {base}/board/{board}   （横屏：?profile=board-landscape）",
        f"  公交站屏      {base}/stop/{stop}",
        f"  下钻地图      {base}/",
        f"  屏幕运维      {base}/ops/screens   健康检查 {base}/healthz  {base}/readyz",
        f"  示例村：{'、'.join(f'{v.name} {v.code}' for v in villages)}（共 {regions_count} 个区划）",
        f"  示例站点：{'、'.join(f'{s.name} {s.stop_id}' for s in stops)}",
    ]
    if reasons:
        parts = [f"{ON_PURPOSE.get(kind, LABELS.get(kind, kind))} {count} 行" for kind, count in reasons.most_common()]
        lines += [
            f"  隔离 {sum(reasons.values())} 行：示范数据故意包含有问题的行，检验数据源如何隔离并说明原因——"
            + "，".join(parts),
            "  查看：.venv/bin/ruralbrain etl quarantine list",
        ]
    return lines
