"""The 按月调度 report of a programme for a month, as an XLSX workbook: a summary by county, a sheet per county
(its pilots' milestone status, funds and indicator scores), every pilot × item with its evidence, and notes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from openpyxl import Workbook
from sqlalchemy import Connection

from etl.warehouse import pilots as reads
from etl.warehouse.pilot_reports import sheets
from etl.warehouse.pilots import KIND_NAMES, LOCAL, MILESTONE_NAMES, SCORE_NAMES, SCORE_ORDER

SUMMARY_HEADER = (
    ["序号", "县（市、区）", "数字乡镇（个）", "数字村庄（个）", "已完成里程碑（项）", "逾期里程碑（项）"]
    + ["有逾期的试点（个）", "下达资金（万元）", "已拨付（万元）", "已支出（万元）", "支出进度"]
    + ["达标（项）", "部分达标（项）", "未达标（项）", "无数据（项）", "达标率"]
)
SUMMARY_WIDTHS = [6, 14, 9, 9, 10, 10, 10, 11, 11, 11, 9, 8, 9, 9, 9, 8]


@dataclass(frozen=True)
class Monthly:
    """Everything the report shows, read from the warehouse (the page can show the same)."""

    programme: reads.ProgrammeInfo
    month: str
    pilots: list[reads.Pilot]
    milestones: list[reads.Milestone]
    states: dict[str, dict[str, reads.MilestoneState]]
    funds: dict[str, reads.Funds]
    items: list[reads.Item]
    scores: dict[str, dict[str, reads.Score]]
    unmatched: list[tuple[str, str, str, str]]
    as_of: datetime | None

    def counties(self) -> list[str]:
        """Counties in the order their first pilot is listed."""
        return list(dict.fromkeys(pilot.county for pilot in self.pilots))

    def allocated(self, pilot: reads.Pilot) -> float:
        """Funds allocated to a pilot: as reported, else the programme's amount per pilot."""
        reported = self.funds.get(pilot.pilot_id)
        if reported is not None and reported.allocated is not None:
            return reported.allocated
        return self.programme.funds_per_pilot or 0.0

    def score_counts(self, pilot: reads.Pilot) -> Counter:
        """A pilot's items by status this month."""
        return Counter(score.status for score in self.scores.get(pilot.pilot_id, {}).values())


def read_monthly(
    connection: Connection, programme_id: str, month: str, now: datetime | None = None, scope: str | None = None
) -> Monthly:
    """The report's content for ``month`` from the warehouse: every pilot's, or those tracked within ``scope``."""
    programme = reads.get_programme(connection, programme_id)
    if programme is None:
        raise LookupError(f"没有方案 {programme_id}（先用 ruralbrain programme import 导入）")
    scored = reads.scores(connection, programme_id, month, scope)
    moments = [score.as_of for per in scored.values() for score in per.values()]
    return Monthly(
        programme=programme,
        month=month,
        pilots=reads.pilots(connection, programme_id, scope),
        milestones=reads.milestones(connection, programme_id),
        states=reads.milestone_states(connection, programme_id, month, scope, now),
        funds=reads.funds(connection, programme_id, month, scope),
        items=reads.items(connection, programme_id),
        scores=scored,
        # Unmatched reports name no pilot, so no region: only a report of the whole programme lists them.
        unmatched=reads.unmatched_reports(connection, programme_id) if not scope else [],
        as_of=max(moments) if moments else None,
    )


def _month_label(month: str) -> str:
    year, number = month.split("-")
    return f"{year}年{int(number)}月"


def _milestone_cell(state: reads.MilestoneState) -> str:
    text = MILESTONE_NAMES[state.status]
    return f"{text}（逾期）" if state.overdue else text


def _figures(report: Monthly, chosen: list[reads.Pilot]) -> list:
    """Summary figures of some pilots: counts by kind, milestones, funds, scores (one row of 汇总)."""
    states = [state for pilot in chosen for state in report.states.get(pilot.pilot_id, {}).values()]
    overdue = sum(any(s.overdue for s in report.states.get(p.pilot_id, {}).values()) for p in chosen)
    allocated = sum(report.allocated(pilot) for pilot in chosen)
    disbursed = sum(report.funds[p.pilot_id].disbursed for p in chosen if p.pilot_id in report.funds)
    spent = sum(report.funds[p.pilot_id].spent for p in chosen if p.pilot_id in report.funds)
    counts = sum((report.score_counts(pilot) for pilot in chosen), Counter())
    return [
        sum(p.kind == "township" for p in chosen),
        sum(p.kind == "village" for p in chosen),
        sum(state.status == "done" for state in states),
        sum(state.overdue for state in states),
        overdue,
        allocated,
        disbursed,
        spent,
        sheets.share(spent, allocated),
        *(counts.get(status, 0) for status in SCORE_ORDER),
        sheets.share(counts.get("met", 0), sum(counts.values())),
    ]


def _summary(book: Workbook, report: Monthly, stamp: str) -> None:
    sheet = book.active
    sheet.title = "汇总"
    row = sheets.title(
        sheet,
        f"{report.programme.name}按月调度表（{_month_label(report.month)}）",
        f"{stamp}　资金单位：万元　里程碑按各县报送的最新进度，指标按数据仓库的证据规则评定",
        len(SUMMARY_HEADER),
    )
    sheets.header(sheet, row, SUMMARY_HEADER, SUMMARY_WIDTHS)
    first = row + 1
    for number, county in enumerate(report.counties(), start=1):
        chosen = [pilot for pilot in report.pilots if pilot.county == county]
        _summary_row(sheet, first + number - 1, [number, county, *_figures(report, chosen)])
    _summary_row(sheet, first + len(report.counties()), ["合计", "", *_figures(report, report.pilots)], total=True)
    sheets.for_print(sheet, row, len(SUMMARY_HEADER), freeze_columns=2)


def _summary_row(sheet, row: int, values: list, total: bool = False) -> None:
    sheets.body_row(sheet, row, values, fill=sheets.TOTAL_FILL if total else None)
    sheets.money(sheet, row, (8, 9, 10))
    sheets.percent(sheet, row, 11)
    sheets.percent(sheet, row, 16)


def _county(book: Workbook, report: Monthly, county: str, name: str, stamp: str) -> None:
    sheet = book.create_sheet(name)
    steps = report.milestones
    names = ["序号", "试点名称", "类型", "区划代码", "统计区划说明"] + [f"{m.name}\n（{m.month}）" for m in steps]
    names += ["下达（万元）", "拨付（万元）", "支出（万元）", "支出进度", "达标", "部分达标", "未达标", "无数据"]
    widths = [5, 18, 9, 14, 22] + [10] * len(steps) + [9, 9, 9, 8, 6, 7, 7, 7]
    row = sheets.title(sheet, f"{county}试点建设进度（{_month_label(report.month)}）", stamp, len(names))
    sheets.header(sheet, row, names, widths)
    chosen = [pilot for pilot in report.pilots if pilot.county == county]
    for number, pilot in enumerate(chosen, start=1):
        states = report.states.get(pilot.pilot_id, {})
        money = report.funds.get(pilot.pilot_id)
        allocated = report.allocated(pilot)
        counts = report.score_counts(pilot)
        values = [number, pilot.name, KIND_NAMES[pilot.kind], pilot.region_code or "未对应", pilot.note or ""]
        values += [_milestone_cell(states[m.milestone_id]) if m.milestone_id in states else "" for m in steps]
        values += [allocated, money.disbursed if money else None, money.spent if money else None]
        values += [sheets.share(money.spent, allocated) if money else None]
        values += [counts.get(status, 0) for status in SCORE_ORDER]
        line = row + number
        sheets.body_row(sheet, line, values, wrap=(2, 5))
        for offset, step in enumerate(steps, start=6):
            if states.get(step.milestone_id) and states[step.milestone_id].overdue:
                sheet.cell(line, offset).fill = sheets.OVERDUE_FILL
        end = 5 + len(steps)
        sheets.money(sheet, line, (end + 1, end + 2, end + 3))
        sheets.percent(sheet, line, end + 4)
    last = row + len(chosen)
    for level in ("township", "village"):
        level_pilots = [pilot for pilot in chosen if pilot.kind == level]
        if level_pilots:
            last = _score_block(sheet, report, level, level_pilots, last + 2)
    sheets.for_print(sheet, row, len(names), freeze_columns=2)


def _score_block(sheet, report: Monthly, level: str, chosen: list[reads.Pilot], row: int) -> int:
    """The pilots × items table of one level under the county's table; returns its last row."""
    level_items = [item for item in report.items if item.level == level]
    sheets.caption(sheet, row, f"{KIND_NAMES[level]}参考指标评定（{_month_label(report.month)}）")
    sheets.header(sheet, row + 1, ["序号", "试点名称"] + [f"{item.item_id}\n{item.name}" for item in level_items], None)
    for number, pilot in enumerate(chosen, start=1):
        found = report.scores.get(pilot.pilot_id, {})
        statuses = [found[item.item_id].status if item.item_id in found else None for item in level_items]
        values = [number, pilot.name] + [SCORE_NAMES[s] if s else "未评定" for s in statuses]
        sheets.body_row(sheet, row + 1 + number, values, wrap=(2,))
        for column, status in enumerate(statuses, start=3):
            if status:
                sheet.cell(row + 1 + number, column).fill = sheets.SCORE_FILLS[status]
    return row + 1 + len(chosen)


def _details(book: Workbook, report: Monthly, stamp: str) -> None:
    sheet = book.create_sheet("指标明细")
    names = ["县（市、区）", "试点名称", "指标编号", "领域", "指标", "评定", "依据（数据、数值、期间、规则）"]
    widths = [11, 18, 8, 14, 10, 9, 90]
    row = sheets.title(sheet, f"参考指标评定明细（{_month_label(report.month)}）", stamp, len(names))
    sheets.header(sheet, row, names, widths)
    by_level = {level: [item for item in report.items if item.level == level] for level in ("township", "village")}
    line = row
    for pilot in report.pilots:
        found = report.scores.get(pilot.pilot_id, {})
        for item in by_level[pilot.kind]:
            score = found.get(item.item_id)
            line += 1
            status = SCORE_NAMES[score.status] if score else "未评定"
            values = [pilot.county, pilot.name, item.item_id, item.area, item.name, status, evidence_text(score)]
            sheets.body_row(sheet, line, values, wrap=(2, 7))
            if score:
                sheet.cell(line, 6).fill = sheets.SCORE_FILLS[score.status]
    sheets.for_print(sheet, row, len(names), freeze_columns=2)


def evidence_text(score: reads.Score | None) -> str:
    """A score's evidence in lines: what, value, period, thresholds, status, where the figure comes from."""
    if score is None:
        return "未评定（试点未对应区划，或本月尚未评分）"
    return "\n".join(
        f"{e['what']}：{e['value_text']}（{e['period']}；{e['rule']}；{e['status_text']}）数据：{e['source']}"
        for e in score.evidence
    )


def _notes(book: Workbook, report: Monthly, stamp: str) -> None:
    sheet = book.create_sheet("说明")
    sheets.title(sheet, "说明", stamp, 4)
    lines = [
        "评定：每项参考指标按 indicators.toml 中的证据规则从数据仓库读取数据；全部规则达到为“达标”，部分达到为"
        "“部分达标”，都未达到为“未达标”，没有任何数据来源为“无数据”。",
        "里程碑：各县每月报送的试点进度（最新一次）；截止日已过仍未完成的标为“逾期”。",
        f"资金：万元，累计数；未报送下达数的按每个试点 {report.programme.funds_per_pilot or 0:g} 万元计。",
    ]
    unresolved = [pilot for pilot in report.pilots if pilot.region_code is None]
    if unresolved:
        lines.append("未对应区划的试点（未评定）：" + "、".join(f"{p.county}{p.name}" for p in unresolved))
    for pilot in report.pilots:
        if pilot.resolution == "ancestor":
            lines.append(f"{pilot.county}{pilot.name}：{pilot.note}")
    if report.unmatched:
        lines.append("以下报送未能对应本方案的试点或里程碑（已导入数据仓库，未计入本表）：")
        lines += [
            f"  {what}：试点 {pilot} {milestone} {period}".rstrip()
            for what, pilot, milestone, period in report.unmatched
        ]
    sheet.column_dimensions["A"].width = 120
    for number, text in enumerate(lines, start=3):
        sheets.note(sheet, number, text)
    sheets.for_print(sheet, 2, 1)


def monthly_workbook(report: Monthly, now: datetime | None = None) -> Workbook:
    """The workbook of a read report."""
    now = now or datetime.now(UTC)
    as_of = report.as_of.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if report.as_of else "尚未评分"
    made = now.astimezone(LOCAL).strftime("%Y-%m-%d")
    stamp = f"报送单位：{report.programme.issuer or ''}　数据截至：{as_of}（北京时间）　制表：{made}"
    book = Workbook()
    _summary(book, report, stamp)
    taken = {"汇总", "指标明细", "说明"}
    for county in report.counties():
        _county(book, report, county, sheets.sheet_name(county, taken), stamp)
    _details(book, report, stamp)
    _notes(book, report, stamp)
    return book
