"""Feeds declared in a deployment's TOML file: source + mapping + checks + schedule, per dataset."""

from __future__ import annotations

import errno
import hashlib
import re
import tomllib
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from etl.datasets import datasets

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


# Why a feeds file could not be opened, for an operator (the operating system's words are English).
FILE_REASONS = {
    errno.ENOENT: "文件不存在",
    errno.EACCES: "没有权限读取",
    errno.EISDIR: "这是一个目录",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.EIO: "读写出错",
}
# tomllib's messages (Python 3.11-3.13) by their first words, in Chinese; any other is shown as tomllib words it.
TOML_REASONS = {
    "Unclosed inline table": "内联表没有闭合（缺少 }）",
    "Unclosed array": "数组没有闭合（缺少 ]）",
    "Unterminated string": "字符串没有结束引号",
    "Invalid value": "值无效（文本要加引号）",
    "Invalid statement": "无法识别的语句",
    "Invalid date or datetime": "日期或时间无效",
    "Invalid initial character for a key part": "键名的首字符无效",
    "Expected '=' after a key in a key/value pair": "键名后面缺少 =",
    "Expected ']' at the end of a table declaration": "表头缺少结尾的 ]",
    "Expected ']]' at the end of an array declaration": "表数组头缺少结尾的 ]]",
    "Cannot declare": "重复声明",
    "Cannot overwrite a value": "重复的键",
    "Duplicate inline table key": "内联表中有重复的键",
    "Illegal character": "非法字符",
    "Found invalid character": "无效字符",
}
TOML_POSITION = re.compile(r"^(?P<message>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")


def toml_reason(error: tomllib.TOMLDecodeError) -> str:
    """TOML 语法错误, the line and column, and what is wrong, in Chinese where tomllib's message is known."""
    match = TOML_POSITION.match(str(error))
    message = match["message"] if match else str(error)
    known = next((text for start, text in TOML_REASONS.items() if message.startswith(start)), None)
    said = known or message
    return f"TOML 语法错误，第 {match['line']} 行第 {match['column']} 列：{said}" if match else f"TOML 语法错误：{said}"


class FeedConfigError(ValueError):
    """A feed file that cannot be used; the message names the file, the feed and the key."""


def parse_duration(value: str | int | float, where: str) -> timedelta:
    """A duration from seconds or text like "90s", "15m", "1h", "2d"."""
    match = DURATION.match(str(value))
    if not match:
        raise FeedConfigError(f"{where}：'{value}' 不是时长（如 30s、15m、1h、1d）")
    return timedelta(seconds=float(match.group(1)) * UNITS[match.group(2)])


@dataclass(frozen=True)
class Feed:
    """One feed: which dataset it fills, from which source, how source fields map, how often."""

    name: str
    dataset: str
    source: dict
    mapping: dict[str, str]
    cadence: timedelta
    schedule: timedelta
    base_dir: Path
    future_tolerance: timedelta = timedelta(minutes=10)


def _substitute(value, variables: dict[str, str]):
    """Source settings with {var_dir}-style placeholders filled in (drop folders live under VAR_DIR)."""
    if isinstance(value, str):
        return value.format(**variables) if "{" in value else value
    if isinstance(value, dict):
        return {k: _substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, variables) for v in value]
    return value


def installation_id(var_dir: str | Path) -> str:
    """A short id of one installation (its VAR_DIR): two demos on one host get different MQTT client ids and
    topics from it, so neither takes over the other's broker session."""
    return hashlib.sha1(str(Path(var_dir).resolve()).encode()).hexdigest()[:8]


def load_feeds(path: str | Path, variables: dict[str, str] | None = None) -> dict[str, Feed]:
    """Every feed of a TOML file, checked: known dataset, a source type, a mapping for each required field.
    ``variables`` fill {placeholders} in source settings; {installation} comes from {var_dir}."""
    path = Path(path)
    variables = dict(variables or {})
    if "var_dir" in variables:
        variables.setdefault("installation", installation_id(variables["var_dir"]))
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FeedConfigError(f"{path}：无法读取（{FILE_REASONS.get(error.errno, error.strerror)}）") from None
    except UnicodeDecodeError as error:
        raise FeedConfigError(f"{path}：无法读取（不是 UTF-8 编码，第 {error.start + 1} 个字节起）") from None
    except tomllib.TOMLDecodeError as error:
        raise FeedConfigError(f"{path}：无法读取（{toml_reason(error)}）") from None
    feeds = {}
    for name, entry in document.get("feeds", {}).items():
        where = f"{path} [feeds.{name}]"
        dataset_name = entry.get("dataset")
        if dataset_name not in datasets():
            raise FeedConfigError(
                f"{where}：dataset '{dataset_name}' 不是已有的数据集（{', '.join(sorted(datasets()))}）"
            )
        dataset = datasets()[dataset_name]
        mapping = dict(entry.get("mapping", {}))
        unknown = set(mapping) - set(dataset.fields)
        if unknown:
            raise FeedConfigError(f"{where}.mapping：{', '.join(sorted(unknown))} 不是 {dataset_name} 的字段")
        derivable = {"region_code"} if dataset.region_from_device else set()
        required = {f for f, spec in dataset.fields.items() if spec.required}
        missing = sorted(required - set(mapping) - derivable)
        if missing:
            raise FeedConfigError(f"{where}.mapping：必填字段 {', '.join(missing)} 没有来源")
        if "type" not in entry.get("source", {}):
            raise FeedConfigError(f"{where}.source：需要 type（file、http、mqtt 或 sql）")
        cadence = parse_duration(entry.get("cadence", "1h"), f"{where}.cadence")
        feed = Feed(
            name=name,
            dataset=dataset_name,
            source=_substitute(dict(entry["source"]), variables),
            mapping=mapping,
            cadence=cadence,
            schedule=parse_duration(entry.get("schedule", entry.get("cadence", "1h")), f"{where}.schedule"),
            base_dir=path.parent,
            future_tolerance=parse_duration(entry.get("future_tolerance", "10m"), f"{where}.future_tolerance"),
        )
        feeds.update((worker.name, worker) for worker in mqtt_workers(feed, f"{where}.source"))
    return feeds


def worker_number(name: str) -> int:
    """k of an MQTT worker feed ``name@k``; 1 for any other feed."""
    base, _, number = name.rpartition("@")
    return int(number) if base and number.isdigit() else 1


def mqtt_workers(feed: Feed, where: str) -> list[Feed]:
    """The feed itself, or for an MQTT source with ``workers = N`` (N > 1) its N workers ``name@1`` …
    ``name@N``: each with a client id (and so a persistent session) of its own, all on one MQTT v5 shared
    subscription (``$share/<share_group>/<topic>``), so the broker spreads the messages among them and
    keeps each one's unacknowledged messages. Each worker is a feed with its own runs and freshness."""
    source = feed.source
    workers = source.get("workers", 1)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise FeedConfigError(f"{where}.workers：'{workers}' 应为不小于 1 的整数")
    if workers > 1 and source.get("type") != "mqtt":
        raise FeedConfigError(f"{where}.workers：只有 MQTT 来源可以有多个工作进程（这个是 {source.get('type')}）")
    if workers == 1:
        return [feed]
    topics = source.get("topics", [])
    topics = [topics] if isinstance(topics, str) else list(topics)
    if not source.get("client_id") or not topics or any(topic.startswith("$share/") for topic in topics):
        raise FeedConfigError(f"{where}：工作进程需要自己的 client_id 和 topics（不能用 $share/…）")
    group = source.get("share_group", feed.name)
    shared = [f"$share/{group}/{topic}" for topic in topics]
    return [
        replace(
            feed,
            name=f"{feed.name}@{number}",
            source={**source, "client_id": f"{source['client_id']}-{number}", "topics": shared, "workers": 1},
        )
        for number in range(1, workers + 1)
    ]
