"""Fictional demo regions: a county or city hierarchy with households, population and an outline polygon."""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import shapely

from geo.codes import level_of, normalize_code, parent_of

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"
CSV_COLUMNS = ("code", "name", "level", "parent_code", "households", "population")

# km per degree of latitude, and of longitude at the equator (WGS-84, close enough for a demo)
_KM_PER_DEG_LAT = 110.574
_KM_PER_DEG_LON = 111.320

# Township and village serial ranges follow the real code tables, so demo codes read like real ones:
# 街道 001–099, 镇 100–199, 乡 200–399; 居委会 (社区) 001–199, 村委会 200–399 (we allow up to 999).
_TOWNSHIP_SERIALS = {"街道": (1, 99), "镇": (101, 199), "乡": (201, 399)}
_COMMUNITY_SERIALS = (1, 99)
_VILLAGE_SERIALS = (201, 999)
# 市辖区 are numbered 01–20 and 县 from 21 in a city's county codes (01 itself is the 市辖区 placeholder)
_COUNTY_SERIALS = {"区": (2, 20), "县": (21, 79)}

# villages per township are drawn with these relative weights: 街道 hold a handful of 社区, 镇 the most 村
_KIND_WEIGHT = {"街道": 0.35, "镇": 1.2, "乡": 1.0}
_HOUSEHOLDS = (150, 1200)
_PEOPLE_PER_HOUSEHOLD = (2.6, 3.4)


def _pool(words: str, suffix: str = "") -> list[str]:
    """Distinct names from a space-separated word list, each with the suffix, in the order given."""
    return list(dict.fromkeys(word + suffix for word in words.split()))


_TOWNSHIP_STEMS = _pool(
    "青石 柳河 白马 双桥 龙泉 桃溪 古城 石门 梅林 杨柳 金牛 凤凰 高塘 三河 长岗 新集 马厂 槐树 鹿鸣 清水 "
    "太平 永安 丰乐 永兴 兴隆 仁和 福田 安乐 长宁 东岭 西岭 南湖 北山 白沙 赤石 红庙 黑石 银屏 玉泉 云台 "
    "松林 竹溪 荷塘 莲花 河口 湖滨 山口 岭下 塘坊 枣林 杏山 桑园 茶山 稻香 孤山 烟墩 铜城 铁佛 宝塔 石塘 "
    "板桥 柏林 汤池 白湖 盛桥 罗河 泥河 柘皋 庙岗 黄岭 檀树 龙湾 鸡鸣 牛埠 乌石 金桥 大兴 同心"
)
_STREET_STEMS = _pool("城关 城东 城西 城南 城北 东城 西城 南城 北城 新城 城中 滨江")
_SURNAMES = _pool(
    "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 彭 曾 肖 田 "
    "董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石 廖 贾 夏 韦 方 白 邹 "
    "孟 熊 秦 邱 江 尹 薛 段 雷 侯 龙 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 严 武 戴 孔 汤"
)
# 郢, 圩, 墩 and 岗 are common in villages of the Jianghuai plain where the default county sits
_SURNAME_PLACES = ("家", "庄", "集", "营", "店", "寨", "湾", "圩", "岗", "洼", "楼", "桥", "墩", "郢")
_VILLAGE_NAMES = [surname + place + "村" for place in _SURNAME_PLACES for surname in _SURNAMES] + _pool(
    "桃源 杏花 梨树 柳湾 青山 双河 三岔 新庄 红星 光明 前进 团结 胜利 和平 东风 五星 长林 石桥 大塘 小岗 "
    "松树 竹园 荷花 菱角 白果 枫香 槐花 清泉 龙潭 凤鸣 金山 银河 玉屏 高峰 平安 永乐 太和 福寿 兴旺 丰收 "
    "新民 联合 先锋 立新 建华 友谊 四方 八里 十里",
    "村",
)
_COMMUNITY_NAMES = _pool(
    "东门 西门 南门 北门 东街 西街 南街 北街 人民路 解放路 文化路 建设路 中山路 新华 和平 幸福 花园 滨河 "
    "育才 胜利 光明 朝阳 向阳 春晖 锦绣 丰乐 长安 凤凰 府前 鼓楼 学府 康宁 安居 民主 团结 复兴 振兴 翠竹 "
    "站前 桥东 桥西 公园 金桂 玉兰 书院 车站 市场 新村",
    "社区",
)
_COUNTY_STEMS = {
    "区": _pool("河东 河西 新华 长安 城厢 鼓楼 中原 迎泽 北城 南山"),
    "县": _pool(
        "安平 宁远 永和 泰和 长乐 丰城 嘉禾 清河 云和 德安 兴国 新田 崇仁 乐平 广昌 平川 灵泉 阳曲 古交 "
        "晋源 石楼 柳林 方山 静乐 宁武 五寨 岚川 交城 文水 汾阳"
    ),
}


@dataclass
class DemoRegion:
    """One row of the demo hierarchy, as written to the code CSV."""

    code: str
    name: str
    level: str
    parent_code: str | None
    households: int | None
    population: int | None


@dataclass
class _Township:
    """A township before its villages are drawn: its row, kind (街道/镇/乡) and share of the villages."""

    row: DemoRegion
    kind: str
    weight: float


class _Draws:
    """Random draws built only on ``random.Random.random``, the one method whose sequence Python keeps fixed.

    The shipped demo files are compared byte for byte with a fresh run, so they must not change when a
    Python release reworks ``randrange``, ``sample`` or ``shuffle``.
    """

    def __init__(self, seed: int, stream: str) -> None:
        # a string seed hashes with SHA-512 (stable across releases), giving independent streams per purpose
        self._random = random.Random(f"{seed}:{stream}").random

    def uniform(self, low: float, high: float) -> float:
        """A float in [low, high)."""
        return low + (high - low) * self._random()

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high], both ends included."""
        return low + min(int(self._random() * (high - low + 1)), high - low)

    def sample(self, items: Sequence[str], count: int, what: str) -> list[str]:
        """``count`` distinct items in random order (a partial Fisher–Yates shuffle)."""
        if count > len(items):
            raise ValueError(f"{count} {what} asked for, but only {len(items)} distinct names are available")
        pool = list(items)
        for i in range(count):
            j = self.integer(i, len(pool) - 1)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:count]


def _code(prefix: str, serial: int, width: int) -> str:
    """The 12-digit code of a child: the parent's prefix, the zero-padded serial, then zeros."""
    return normalize_code(f"{prefix}{serial:0{width}d}".ljust(12, "0"))


def _prefix(code: str, level: str) -> str:
    """The significant leading digits of a code of the given level, after checking it is that level."""
    code = normalize_code(code)
    if level_of(code) != level:
        raise ValueError(f"code {code} is a {level_of(code)}, not a {level}")
    return code[: {"city": 4, "county": 6}[level]]


def _serials(kind: str, count: int, ranges: dict[str, tuple[int, int]]) -> range:
    """The serials of the first ``count`` children of a kind, within the range the code tables give it."""
    low, high = ranges[kind]
    if count > high - low + 1:
        raise ValueError(f"{count} of kind {kind} do not fit serials {low}–{high}")
    return range(low, low + count)


def _townships(draws: _Draws, county: DemoRegion, count: int) -> list[_Township]:
    """A county's townships: one or two 街道 at the seat, about a third 镇, the rest 乡, with names unique."""
    streets = min(count, 1 if count < 8 else 2)
    towns = min(count - streets, round(count / 3))
    kinds = ["街道"] * streets + ["镇"] * towns + ["乡"] * (count - streets - towns)
    # the seat's first 街道 is 城关 as in most counties; the rest are drawn
    street_names = [_STREET_STEMS[0], *draws.sample(_STREET_STEMS[1:], max(streets - 1, 0), "街道")][:streets]
    other_names = draws.sample(_TOWNSHIP_STEMS, count - streets, "townships")
    stems = iter(street_names + other_names)
    prefix = county.code[:6]
    result = []
    for kind in ("街道", "镇", "乡"):
        for serial in _serials(kind, kinds.count(kind), _TOWNSHIP_SERIALS):
            code = _code(prefix, serial, 3)
            row = DemoRegion(code, next(stems) + kind, "township", county.code, None, None)
            # squaring spreads the weights, so some townships get three times the villages of others
            weight = _KIND_WEIGHT[kind] * draws.uniform(0.6, 1.6) ** 2
            result.append(_Township(row, kind, weight))
    return result


def _capacity(kind: str) -> int:
    """How many villages a township of a kind can hold: limited by the serial range and the name pool."""
    if kind == "街道":
        return min(_COMMUNITY_SERIALS[1] - _COMMUNITY_SERIALS[0] + 1, len(_COMMUNITY_NAMES))
    return min(_VILLAGE_SERIALS[1] - _VILLAGE_SERIALS[0] + 1, len(_VILLAGE_NAMES))


def _apportion(total: int, weights: Sequence[float], capacities: Sequence[int]) -> list[int]:
    """Whole shares of ``total`` by weight, at least one each when there are enough, within capacities."""
    if total > sum(capacities):
        raise ValueError(f"{total} villages do not fit; these townships hold at most {sum(capacities)}")
    shares = [1 if total >= len(weights) else 0 for _ in weights]
    while (left := total - sum(shares)) > 0:
        open_ = [i for i, (share, cap) in enumerate(zip(shares, capacities, strict=True)) if share < cap]
        weight = sum(weights[i] for i in open_)
        exact = {i: left * weights[i] / weight for i in open_}
        added = {i: min(int(exact[i]), capacities[i] - shares[i]) for i in open_}
        # largest remainder, ties to the lower index so the result never depends on sort stability
        rest = left - sum(added.values())
        for i in sorted(open_, key=lambda i: (-(exact[i] - int(exact[i])), i)):
            if rest == 0:
                break
            if shares[i] + added[i] < capacities[i]:
                added[i] += 1
                rest -= 1
        for i, extra in added.items():
            shares[i] += extra
    return shares


def _villages(draws: _Draws, township: _Township, count: int) -> list[DemoRegion]:
    """A township's villages (社区 under a 街道, 村 elsewhere), with households and population."""
    street = township.kind == "街道"
    names = draws.sample(_COMMUNITY_NAMES if street else _VILLAGE_NAMES, count, "社区" if street else "村")
    first = _COMMUNITY_SERIALS[0] if street else _VILLAGE_SERIALS[0]
    prefix = township.row.code[:9]
    rows = []
    for serial, name in enumerate(names, start=first):
        households = draws.integer(*_HOUSEHOLDS)
        population = round(households * draws.uniform(*_PEOPLE_PER_HOUSEHOLD))
        code = _code(prefix, serial, 3)
        rows.append(DemoRegion(code, name, "village", township.row.code, households, population))
    return rows


def _roll_up(rows: list[DemoRegion]) -> None:
    """Set every region without figures to the sums of its children, deepest levels first."""
    children: dict[str, list[DemoRegion]] = {}
    for row in rows:
        if row.parent_code is not None:
            children.setdefault(row.parent_code, []).append(row)
    for level in ("township", "county", "city"):
        for row in rows:
            if row.level == level and row.households is None:
                below = children.get(row.code, [])
                row.households = sum(child.households or 0 for child in below)
                row.population = sum(child.population or 0 for child in below)


def _populate(draws: _Draws, townships: list[_Township], villages: int) -> list[DemoRegion]:
    """Rows of the townships and of ``villages`` villages spread unevenly across them."""
    counts = _apportion(villages, [t.weight for t in townships], [_capacity(t.kind) for t in townships])
    rows = []
    for township, count in zip(townships, counts, strict=True):
        rows.append(township.row)
        rows.extend(_villages(draws, township, count))
    return rows


def _outline(seed: int, center: tuple[float, float], radius_km: float) -> shapely.Polygon:
    """A smooth, irregular, star-shaped polygon of about ``radius_km`` around ``center`` (lon, lat)."""
    draws = _Draws(seed, "outline")
    vertices = draws.integer(180, 260)
    # harmonics from 2 up (a first harmonic would only shift the centre), weaker as they get finer
    harmonics = [(k, draws.uniform(0.2, 1.0) / k**1.2, draws.uniform(0, 2 * math.pi)) for k in range(2, 15)]
    # radial amplitudes summing to 0.45 keep the radius in 0.55–1.45 r: a positive radius for every angle
    # makes the ring star-shaped around the centre, so it can never cross itself
    scale = 0.45 / sum(amplitude for _, amplitude, _ in harmonics)
    lon0, lat0 = center
    km_per_deg_lon = _KM_PER_DEG_LON * math.cos(math.radians(lat0))
    ring = []
    for i in range(vertices):
        angle = 2 * math.pi * i / vertices
        wobble = sum(a * math.cos(k * angle + phase) for k, a, phase in harmonics)
        radius = radius_km * (1 + scale * wobble)
        lon = lon0 + radius * math.cos(angle) / km_per_deg_lon
        lat = lat0 + radius * math.sin(angle) / _KM_PER_DEG_LAT
        # the 1e-6 degree grid of boundary files, so the polygon equals what write_outline stores
        ring.append((round(lon, 6), round(lat, 6)))
    return shapely.Polygon(ring)


def generate_county(
    seed: int = 2023,
    county_code: str = "990101",
    name: str = "示范县",
    townships: int = 12,
    villages: int = 200,
    center: tuple[float, float] = (117.35, 31.55),
    radius_km: float = 28.0,
) -> tuple[list[DemoRegion], shapely.Polygon]:
    """A fictional county's rows (county, townships, villages, in code order) and its outline."""
    draws = _Draws(seed, "regions")
    code = _prefix(county_code, "county").ljust(12, "0")
    county = DemoRegion(code, name, "county", parent_of(code), None, None)
    rows = [county, *_populate(draws, _townships(draws, county, townships), villages)]
    _roll_up(rows)
    return sorted(rows, key=lambda row: row.code), _outline(seed, center, radius_km)


def generate_city(
    seed: int = 7,
    city_code: str = "9902",
    name: str = "示范市",
    counties: int = 14,
    villages: int = 3000,
    center: tuple[float, float] = (112.6, 38.5),
    radius_km: float = 110.0,
) -> tuple[list[DemoRegion], shapely.Polygon]:
    """A fictional city's rows (city, counties of ~12 townships, ``villages`` in all) and the city outline."""
    draws = _Draws(seed, "regions")
    code = _prefix(city_code, "city").ljust(12, "0")
    city = DemoRegion(code, name, "city", parent_of(code), None, None)
    districts = min(counties, max(1, counties // 5))
    rows = [city]
    townships: list[_Township] = []
    for kind, count in (("区", districts), ("县", counties - districts)):
        stems = draws.sample(_COUNTY_STEMS[kind], count, f"{kind} names")
        for serial, stem in zip(_serials(kind, count, _COUNTY_SERIALS), stems, strict=True):
            county = DemoRegion(_code(code[:4], serial, 2), stem + kind, "county", code, None, None)
            rows.append(county)
            townships.extend(_townships(draws, county, draws.integer(10, 14)))
    rows.extend(_populate(draws, townships, villages))
    _roll_up(rows)
    return sorted(rows, key=lambda row: row.code), _outline(seed, center, radius_km)


def write_csv(rows: Iterable[DemoRegion], path: str | Path) -> None:
    """A UTF-8 code CSV with a header; empty cells where a value is None."""
    with Path(path).open("w", encoding="utf-8", newline="") as file:
        # "\n" rather than csv's default "\r\n", so the file is the same bytes on every platform
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow(["" if (value := getattr(row, c)) is None else value for c in CSV_COLUMNS])


def write_outline(polygon: shapely.Polygon, code: str, name: str, path: str | Path) -> None:
    """A GeoJSON FeatureCollection holding the polygon as one feature with its 12-digit code and name."""
    rings = [polygon.exterior, *polygon.interiors]
    coordinates = [[[round(x, 6), round(y, 6)] for x, y in ring.coords] for ring in rings]
    feature = {
        "type": "Feature",
        "properties": {"code": normalize_code(code), "name": name},
        "geometry": {"type": "Polygon", "coordinates": coordinates},
    }
    # no "crs" member: RFC 7946 GeoJSON is WGS-84 by definition
    Path(path).write_bytes(orjson.dumps({"type": "FeatureCollection", "features": [feature]}) + b"\n")


def write_demo(folder: str | Path = DEMO_DIR) -> None:
    """The shipped demo files, regions.csv and outline.geojson, written into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows, polygon = generate_county()
    county = next(row for row in rows if row.level == "county")
    write_csv(rows, folder / "regions.csv")
    write_outline(polygon, county.code, county.name, folder / "outline.geojson")


def main() -> None:
    """Write the shipped demo county into data/demo."""
    write_demo(DEMO_DIR)
    print(f"demo county written to {DEMO_DIR}")


if __name__ == "__main__":
    main()
