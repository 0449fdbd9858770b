"""A programme's files read and checked: programme.toml (what, where, funds, milestones), pilots.toml (the
pilots as the programme lists them) and the indicator catalogue (items with their evidence rules). Every
error names the file, the entry and the key."""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from etl.dataset import BEIJING
from etl.programmes.rules import Rule, RuleError, parse_rule, unprintable
from geo.codes import CodeError, level_of, normalize_code, scope_range

LEVELS = {"township": "township", "village": "village", "数字乡镇": "township", "数字村庄": "village"}
LEVEL_NAMES = {"township": "数字乡镇", "village": "数字村庄"}
COMBINE = ("all", "any")
ID = re.compile(r"^[A-Za-z0-9\u4e00-\u9fff_.-]{1,32}$")
ITEM_ID = re.compile(r"^[TV][1-9]\.[1-9]\d?$")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# What a county's programme files hold, with room to spare (the 忻州 programme: 67 pilots, 35 items, files of at
# most 26 KB): a file of millions of pilots or rules is a mistake, and every pilot × item is scored every month.
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_PILOTS = 1000
MAX_ITEMS = 200
MAX_RULES = 10  # per item (the 忻州 catalogue: at most 5)
MAX_MILESTONES = 50
MAX_FUNDS = 100_000  # 万元 per pilot (10 亿元): the 忻州 programme gives 45


class ProgrammeError(ValueError):
    """Programme files that cannot be used; the message names the file, the entry and the key."""


@dataclass(frozen=True)
class Milestone:
    """A step of the programme with the month it belongs to and the day it is due."""

    milestone_id: str
    name: str
    month: str
    due: date
    text: str

    @property
    def due_at(self) -> datetime:
        """The end of the due day, local time, in UTC."""
        end = datetime.combine(self.due + timedelta(days=1), datetime.min.time(), BEIJING) - timedelta(seconds=1)
        return end.astimezone(UTC)


@dataclass(frozen=True)
class PilotEntry:
    """A pilot as the programme lists it: names, the code it gives (if any) and hints for resolving it."""

    pilot_id: str
    kind: str  # township | village
    county: str
    township: str
    village: str
    code: str | None
    within: str | None
    note: str

    @property
    def name(self) -> str:
        """The name as the list writes it: a township, or a township and its village."""
        return self.township + self.village if self.kind == "village" else self.township


@dataclass(frozen=True)
class Item:
    """A reference indicator: its place in the catalogue, the programme's own words and its evidence rules."""

    item_id: str
    level: str
    area: str
    number: int
    name: str
    text: str
    combine: str
    rules: tuple[Rule, ...]

    def declared(self) -> dict:
        """How the rules are written, kept with the item in the warehouse (and read back to score)."""
        return {"combine": self.combine, "rules": [rule.declared for rule in self.rules]}


@dataclass(frozen=True)
class Programme:
    """A pilot programme as its files declare it."""

    programme_id: str
    name: str
    document: str
    issuer: str
    region: str
    funds_per_pilot: float | None
    milestones: tuple[Milestone, ...]
    pilots: tuple[PilotEntry, ...]
    items: tuple[Item, ...]
    digest: str
    pilots_file: str = "pilots.toml"


def _read(path: Path) -> dict:
    """A programme file's tables, as Windows editors save it too: UTF-8 with or without a BOM, or GBK (ANSI)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            size = path.stat().st_size / 1024 / 1024
            raise ProgrammeError(f"{path.name}：文件有 {size:.1f} MB，超过 {MAX_FILE_BYTES // 1024 // 1024} MB 的上限")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProgrammeError(f"{path.name}：文件不存在（{path.parent.name}/{path.name}）") from None
    except OSError as error:
        raise ProgrammeError(f"{path.name}：无法读取（{error.strerror or error}）") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            line = data[: error.start].count(b"\n") + 1
            raise ProgrammeError(f"{path.name}：第 {line} 行既不是 UTF-8 也不是 GBK 编码，请另存为 UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        at = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
        place = f"第 {at.group(1)} 行第 {at.group(2)} 列" if at else "某处"
        raise ProgrammeError(f"{path.name}：{place}不是正确的 TOML 写法（{error}）") from None


def _tables(document: dict, key: str, path_name: str) -> list[dict]:
    """The entries of an array of tables ([[key]]), each checked to be a table."""
    entries = document.get(key)
    if isinstance(entries, list):
        for number, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict):
                raise ProgrammeError(
                    f"{path_name}，键 {key} 第 {number} 项：应为表（[[{key}]] 之下的键值），不是 {entry!r}"
                )
    return entries


def _text(table: dict, key: str, where: str, required: bool = True, limit: int = 2000, lines: bool = False) -> str:
    """A key's text, stripped; ProgrammeError naming ``where`` and the key when it is missing (if ``required``),
    longer than ``limit`` or holds a control character (a line break or tab only with ``lines``)."""
    value = table.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ProgrammeError(f"{where}，键 {key}：{'缺少' if required else '应为文字'}（{value!r}）")
    value = value.strip()
    if len(value) > limit:
        raise ProgrammeError(f"{where}，键 {key}：长 {len(value)} 个字符，超过 {limit}")
    bad = unprintable(value, lines)
    if bad:
        raise ProgrammeError(f"{where}，键 {key}：含不可见的控制字符 {bad}，请删去（{value[:40]!r}）")
    return value


def _code(value: Any, where: str, key: str) -> str:
    try:
        return normalize_code(value)
    except CodeError as error:
        raise ProgrammeError(f"{where}，键 {key}：{error}") from None


def _month_of(value: Any, start: str | None, where: str, key: str) -> str:
    """A month written YYYY-MM, or a whole number of months after the programme's start."""
    if isinstance(value, int) and not isinstance(value, bool):
        if start is None:
            raise ProgrammeError(f"{where}，键 {key}：相对月份 {value} 须有 programme.toml 的 start")
        year, month = map(int, start.split("-"))
        index = year * 12 + month - 1 + value
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    if not isinstance(value, str) or not MONTH.match(value.strip()):
        raise ProgrammeError(f"{where}，键 {key}：'{value}' 不是月份（应写作 2023-02，或相对 start 的月数）")
    return value.strip()


def _start(value: Any, today: date) -> str | None:
    """The programme's first month: YYYY-MM, or a number of months before the month of ``today`` (a demo
    programme that always runs now)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
        index = today.year * 12 + today.month - 1 + value
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    return _month_of(value, None, "programme.toml", "start")


def _milestones(document: dict, start: str | None) -> tuple[Milestone, ...]:
    entries = _tables(document, "milestones", "programme.toml")
    if not isinstance(entries, list) or not entries:
        raise ProgrammeError("programme.toml，键 milestones：缺少里程碑（[[milestones]]）")
    if len(entries) > MAX_MILESTONES:
        raise ProgrammeError(
            f"programme.toml，键 milestones：有 {len(entries)} 个里程碑，超过 {MAX_MILESTONES} 个的上限"
        )
    found, seen = [], set()
    for number, entry in enumerate(entries, start=1):
        where = f"programme.toml 第 {number} 个里程碑"
        milestone_id = _text(entry, "id", where, limit=32)
        if not ID.match(milestone_id) or milestone_id in seen:
            raise ProgrammeError(f"{where}，键 id：'{milestone_id}' 重复或不合规（字母、数字、汉字、_ . -）")
        seen.add(milestone_id)
        month = _month_of(entry.get("month"), start, where, "month")
        year, month_number = map(int, month.split("-"))
        last_day = (date(year + month_number // 12, month_number % 12 + 1, 1) - timedelta(days=1)).day
        due = entry.get("due", f"{month}-{last_day:02d}")
        if isinstance(due, str):
            try:
                due = date.fromisoformat(due.strip())
            except ValueError:
                raise ProgrammeError(f"{where}，键 due：'{due}' 不是日期（应写作 2023-04-30）") from None
        if not isinstance(due, date):
            raise ProgrammeError(f"{where}，键 due：'{due}' 不是日期")
        name = _text(entry, "name", where, limit=50)
        found.append(Milestone(milestone_id, name, month, due, _text(entry, "text", where, required=False, lines=True)))
    return tuple(found)


def _pilots(path: Path, region: str) -> tuple[PilotEntry, ...]:
    entries = _tables(_read(path), "pilots", path.name)
    if not isinstance(entries, list) or not entries:
        raise ProgrammeError(f"{path.name}：缺少试点（[[pilots]]）")
    if len(entries) > MAX_PILOTS:
        raise ProgrammeError(f"{path.name}：有 {len(entries)} 个试点，超过 {MAX_PILOTS} 个的上限")
    low, high = scope_range(region)
    found, seen = [], {}
    for number, entry in enumerate(entries, start=1):
        where = f"{path.name} 第 {number} 个试点"
        kind = LEVELS.get(str(entry.get("kind", "")))
        if kind is None:
            raise ProgrammeError(
                f"{where}，键 kind：应为 township（数字乡镇）或 village（数字村庄），不是 {entry.get('kind')!r}"
            )
        county, township = _text(entry, "county", where, limit=50), _text(entry, "township", where, limit=50)
        village = _text(entry, "village", where, required=kind == "village", limit=50)
        where = f"{where}（{county}{township}{village}）"
        code = _code(entry["code"], where, "code") if "code" in entry else None
        if code is not None and level_of(code) != kind:
            raise ProgrammeError(f"{where}，键 code：{code} 是{level_of(code)}级代码，而试点是 {kind}")
        within = _code(entry["within"], where, "within") if "within" in entry else None
        for key, given in (("code", code), ("within", within)):
            # Another province's code was taken silently (the pilot then placed by its names, the code kept).
            if given is not None and not low <= given <= high:
                raise ProgrammeError(f"{where}，键 {key}：{given} 不在方案的区划 {region} 之内")
        if code is None and within is None:
            raise ProgrammeError(f"{where}：没有代码 code 时须给出所在的上级区划 within")
        pilot_id = str(entry.get("id", code or "")).strip()
        if not pilot_id:
            raise ProgrammeError(f"{where}，键 id：没有代码 code 的试点须给出编号 id")
        if not ID.match(pilot_id):
            raise ProgrammeError(f"{where}，键 id：'{pilot_id}' 不合规（至多 32 个字母、数字、汉字、_ . -）")
        if pilot_id in seen:
            raise ProgrammeError(f"{where}，键 id：编号 {pilot_id} 与第 {seen[pilot_id]} 个试点重复")
        seen[pilot_id] = number
        # A block copied under a new id would count one place twice (and be scored twice).
        if code is not None and f"code:{code}" in seen:
            raise ProgrammeError(f"{where}，键 code：代码 {code} 与第 {seen[f'code:{code}']} 个试点相同")
        if code is not None:
            seen[f"code:{code}"] = number
        note = _text(entry, "note", where, required=False, lines=True)
        found.append(PilotEntry(pilot_id, kind, county, township, village, code, within, note))
    return tuple(found)


def _items(path: Path) -> tuple[Item, ...]:
    entries = _tables(_read(path), "items", path.name)
    if not isinstance(entries, list) or not entries:
        raise ProgrammeError(f"{path.name}：缺少指标（[[items]]）")
    if len(entries) > MAX_ITEMS:
        raise ProgrammeError(f"{path.name}：有 {len(entries)} 项指标，超过 {MAX_ITEMS} 项的上限")
    found, seen = [], set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path.name} 第 {number} 项"
        item_id = _text(entry, "id", where, limit=16)
        if not ITEM_ID.match(item_id) or item_id in seen:
            raise ProgrammeError(
                f"{where}，键 id：'{item_id}' 重复或不合规（T 乡镇 / V 村 + 领域序号.条目序号，如 V4.1）"
            )
        seen.add(item_id)
        name = _text(entry, "name", where, limit=50)
        where = f"{where}（{item_id} {name}）"
        level = LEVELS.get(str(entry.get("level", "")))
        if level is None or level[0].upper() != item_id[0]:
            raise ProgrammeError(f"{where}，键 level：应为 township 或 village，并与编号的 T/V 一致")
        item_number = entry.get("number")
        if not isinstance(item_number, int) or isinstance(item_number, bool) or item_number < 1:
            raise ProgrammeError(f"{where}，键 number：应为条目序号（正整数），不是 {item_number!r}")
        combine = entry.get("combine", "all")
        if combine not in COMBINE:
            raise ProgrammeError(f"{where}，键 combine：应为 all（全部规则）或 any（任一规则），不是 {combine!r}")
        tables = entry.get("rules")
        if not isinstance(tables, list) or not tables:
            raise ProgrammeError(f"{where}，键 rules：每项至少一条证据规则（[[items.rules]]）")
        if len(tables) > MAX_RULES:
            raise ProgrammeError(f"{where}，键 rules：有 {len(tables)} 条规则，超过 {MAX_RULES} 条的上限")
        try:
            rules = tuple(parse_rule(table, f"{where}，规则 {k}") for k, table in enumerate(tables, start=1))
        except RuleError as error:
            raise ProgrammeError(str(error)) from None
        area, text = _text(entry, "area", where, limit=50), _text(entry, "text", where, lines=True)
        found.append(Item(item_id, level, area, item_number, name, text, combine, rules))
    return tuple(found)


def load_programme(directory: str | Path, today: date | None = None) -> Programme:
    """The programme in ``directory`` (programme.toml and the files it names), checked; ProgrammeError else.
    ``today`` places a programme whose start is relative (months before now)."""
    directory = Path(directory)
    main = directory / "programme.toml"
    document = _read(main)
    where = "programme.toml"
    programme_id = _text(document, "id", where, limit=32)
    if not ID.match(programme_id):
        raise ProgrammeError(f"{where}，键 id：'{programme_id}' 不合规（至多 32 个字母、数字、汉字、_ . -）")
    funds = document.get("funds_per_pilot")
    if funds is not None and (
        isinstance(funds, bool)
        or not isinstance(funds, (int, float))
        or not math.isfinite(funds)  # TOML writes inf and nan; both passed, and status printed 下达 inf
        or not 0 <= funds <= MAX_FUNDS
    ):
        raise ProgrammeError(f"{where}，键 funds_per_pilot：应为每个试点的资金（0–{MAX_FUNDS:,} 万元），不是 {funds!r}")
    today = today or datetime.now(BEIJING).date()
    start = _start(document.get("start"), today)
    # indicators may name another programme's catalogue (the demo scores by the 忻州 one): ../x/indicators.toml
    files = {
        key: directory / (_text(document, key, where, required=False) or f"{key}.toml")
        for key in ("pilots", "indicators")
    }
    region = _code(document.get("region", ""), where, "region")
    digest = hashlib.sha256(main.read_bytes())
    for path in files.values():
        if path.exists():
            digest.update(path.read_bytes())
    return Programme(
        programme_id=programme_id,
        name=_text(document, "name", where, limit=200),
        document=_text(document, "document", where, required=False, lines=True),
        issuer=_text(document, "issuer", where, required=False, limit=100),
        region=region,
        funds_per_pilot=float(funds) if funds is not None else None,
        milestones=_milestones(document, start),
        pilots=_pilots(files["pilots"], region),
        items=_items(files["indicators"]),
        digest=digest.hexdigest(),
        pilots_file=files["pilots"].name,
    )


def parse_item_rules(declared: dict, where: str) -> tuple[str, tuple[Rule, ...]]:
    """(combine, rules) of an item from what the warehouse keeps of it (Item.declared)."""
    rules = tuple(parse_rule(table, f"{where}，规则 {k}") for k, table in enumerate(declared["rules"], start=1))
    return declared.get("combine", "all"), rules
