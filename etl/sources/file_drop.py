"""File-drop transport: each settled file in a folder streamed in batches, checkpointed, then moved to
processed/ or failed/."""

from __future__ import annotations

import contextlib
import hashlib
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from etl.sources.base import Batch, Issue, Record, SourceError
from etl.sources.tables import SUFFIXES, Broken, Layout, Meter, Note, Passed, read_items

TYPE = "file"
# A file is taken once it has not changed for this long (an upload in progress keeps changing it).
SETTLE_SECONDS = 10.0
BATCH_ROWS = 20000
# Days a settled file is kept in processed/ or failed/ (its rows are in the warehouse, its problems in the
# quarantine); 0 keeps them for ever. Looked at once an hour per folder: `etl watch` lists it every few seconds.
KEEP_DAYS = 90.0
SWEEP_SECONDS = 3600.0
_swept: dict[Path, float] = {}  # drop folder → the clock's time of its last sweep, in this process
# The checkpoint recognises a half-read file by a digest of its first bytes (an appended file keeps them).
HEAD_BYTES = 65536


@dataclass(frozen=True)
class Checkpoint:
    """How far into a file the committed batches reached: its name, a digest of its head and the number of
    rows (data, rejected and passed-over rows) behind the last commit. ``done``: the file was finished."""

    file: str
    rows: int = 0
    head: str = ""
    done: bool = False

    def text(self) -> str:
        """The checkpoint as the feed's watermark."""
        return orjson.dumps({"file": self.file, "rows": self.rows, "head": self.head, "done": self.done}).decode()

    @classmethod
    def parse(cls, watermark: str | None) -> Checkpoint | None:
        """The checkpoint a watermark holds (an older watermark is a bare file name: that file was done)."""
        if not watermark:
            return None
        try:
            data = orjson.loads(watermark)
        except orjson.JSONDecodeError:
            return cls(watermark, done=True)
        if not isinstance(data, dict) or not isinstance(data.get("file"), str):
            return cls(watermark, done=True)
        return cls(data["file"], int(data.get("rows", 0)), str(data.get("head", "")), bool(data.get("done")))


@dataclass(frozen=True)
class Stamp:
    """What says whether a file changed: its size and modification time (ns)."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> Stamp:
        """The file's stamp now."""
        status = path.stat()
        return cls(status.st_size, status.st_mtime_ns)


@dataclass
class FileDrop:
    """A drop folder read oldest file first.

    The folder itself is the queue: a file leaves it only when every row of it is committed. A file is taken
    once it has been unchanged for ``settle_seconds`` (an upload in progress keeps changing it), or at once
    when its companion marker exists (``done_suffix``, e.g. ``cases.csv.ok``). It is read in batches of
    ``batch_rows``; each batch's watermark is a checkpoint, so a run killed mid-file resumes after the last
    committed batch without loading or quarantining a row twice. Outcomes:

    - rows load, rejected rows are Issues, titles and footers are passed over → ``processed/``;
    - an empty file → an "empty file" Issue → ``processed/`` (nothing to lose);
    - a file that cannot be read, at its start or half-way (encoding, damaged workbook, no header) → an Issue
      naming it → ``failed/``, kept as it came for a person to look at; what was read before stays loaded;
    - a batch whose load failed → ``failed/``;
    - a file that changed while it was read (an upload that resumed) stays, and the next run goes on from
      the checkpoint.

    Symbolic links are never followed: a drop folder's files are the ones uploaded into it.
    """

    folder: Path
    patterns: tuple[str, ...] = tuple(f"*{suffix}" for suffix in SUFFIXES)
    layout: Layout = Layout()
    settle_seconds: float = SETTLE_SECONDS
    done_suffix: str | None = None
    batch_rows: int = BATCH_ROWS
    keep_days: float = KEEP_DAYS
    clock: Callable[[], float] = field(default=time.time, repr=False)

    @classmethod
    def from_config(cls, config: dict[str, Any], base_dir: Path, columns: tuple[str, ...] = ()) -> FileDrop:
        """A drop folder from a feed's ``[source]``: path, pattern (a glob or a list), sheet (a name, a list or
        "*"), header_row, header_rows, delimiter, settle_seconds, done_suffix, batch_rows. ``columns``: the
        feed's mapped source columns, by which the header is found when header_row is not given."""
        header_row = config.get("header_row")
        sheet = config.get("sheet")
        layout = Layout(
            header_row=None if header_row is None else int(header_row),
            header_rows=int(config.get("header_rows", 1)),
            sheet=tuple(sheet) if isinstance(sheet, list) else sheet,
            delimiter=config.get("delimiter"),
            expected=tuple(columns),
        )
        if (layout.header_row is not None and layout.header_row < 1) or layout.header_rows not in (1, 2):
            raise ValueError("文件来源：header_row 应不小于 1，header_rows 应为 1 或 2")
        pattern = config.get("pattern")
        patterns = cls.patterns if pattern is None else ((pattern,) if isinstance(pattern, str) else tuple(pattern))
        settle = float(config.get("settle_seconds", SETTLE_SECONDS))
        batch_rows = int(config.get("batch_rows", BATCH_ROWS))
        keep_days = float(config.get("keep_days", KEEP_DAYS))
        if settle < 0 or batch_rows < 1 or not keep_days >= 0:
            raise ValueError("文件来源：settle_seconds 和 keep_days 应不小于 0，batch_rows 应不小于 1")
        folder = base_dir / config["path"]
        return cls(folder, patterns, layout, settle, config.get("done_suffix"), batch_rows, keep_days)

    @property
    def processed(self) -> Path:
        """Where settled files go."""
        return self.folder / "processed"

    @property
    def failed(self) -> Path:
        """Where unreadable files and files of failed loads go, for a person to look at."""
        return self.folder / "failed"

    def pending(self) -> list[Path]:
        """Files ready in the folder, oldest first (modification time, then name): settled, or marked done."""
        if not self.folder.is_dir():
            raise SourceError(f"文件来源 {self.folder}：文件夹不存在")
        ready = []
        for path in {p for pattern in self.patterns for p in self.folder.glob(pattern)}:
            # "~$x.xlsx" is Excel's lock file and dot files are uploads in progress, not data.
            if path.name.startswith(("~$", ".")) or path.is_symlink() or not path.is_file():
                continue
            if self.done_suffix and path.name.endswith(self.done_suffix):
                continue
            status = path.stat()
            if self.done_suffix:
                if not path.with_name(path.name + self.done_suffix).exists():
                    continue
            elif abs(self.clock() - status.st_mtime) < self.settle_seconds:
                # A moment ahead of our clock is a write since we read it: an upload going on here. Further
                # ahead than the settle time is another host's clock, and such a file would never settle.
                continue
            ready.append((status.st_mtime, path.name, path))
        return [path for *_, path in sorted(ready)]

    def batches(self, watermark: str | None) -> Iterator[Batch]:
        """Each ready file in batches; a file half-read by an earlier run goes on from its checkpoint."""
        checkpoint = Checkpoint.parse(watermark)
        pending = self.pending()
        self.forget_old()
        sizes = [_size(path) for path in pending]
        for number, path in enumerate(pending):
            if path.exists():  # another run may have taken it since the listing
                resume = checkpoint if checkpoint and checkpoint.file == path.name and not checkpoint.done else None
                yield from self.file_batches(path, resume, (sum(sizes[:number]), sum(sizes)))

    def file_batches(
        self, path: Path, resume: Checkpoint | None = None, span: tuple[int, int] | None = None
    ) -> Iterator[Batch]:
        """The batches of one file, the last of which settles it (moves it, or leaves it if it changed).
        ``span``: bytes of the run's files before this one and in all, for the batches' progress."""
        before = Stamp.of(path)
        base, total = span or (0, before.size)
        meter = Meter(limit=before.size, whole=lambda: Stamp.of(path) == before)

        def progress(finished: bool = False) -> tuple[int, int]:
            done = before.size if finished else (meter.position() if meter.position else 0)
            return base + min(done, before.size), max(total, 1)

        head = _head_digest(path)
        skip = 0
        if resume and resume.head and _head_digest(path, int(resume.head.split(":")[0])) == resume.head:
            head, skip = resume.head, resume.rows  # the same file, grown or not: go on where the last run stopped
        position = 0
        records: list[Record] = []
        issues: list[Issue] = []
        notes: list[str] = []
        passed = 0
        broken = False
        for item in read_items(path, self.layout, meter):
            if isinstance(item, Note):
                if not skip:
                    notes.append(item.text)
                continue
            if isinstance(item, Broken):
                issues.append(item.issue)
                broken = True
                break
            position += 1
            if position <= skip:
                continue
            if isinstance(item, Record):
                records.append(item)
            elif isinstance(item, Passed):
                passed += 1
                if passed <= 3:
                    notes.append(f"{path.name}，{item.location}：{item.why}（未导入）")
            else:
                issues.append(item)
            if len(records) + len(issues) >= self.batch_rows:
                checkpoint = Checkpoint(path.name, position, head)
                yield Batch(
                    records, issues, checkpoint.text(), passed=passed, notes=notes, file=path.name, progress=progress()
                )
                records, issues, notes, passed = [], [], [], 0
        if passed > 3:
            notes.append(f"{path.name}：共 {passed} 行合计、签名或标题行未导入")
        if not position and not broken:
            issues.append(Issue(path.name, "", None, "empty file", "表头下没有数据行"))
        after = Stamp.of(path)
        changed = after != before
        if changed and not broken:
            notes.append(f"{path.name} 在读取时仍在变化（上传未完成？），留在原处，下次从第 {position} 行之后继续")
        done = not changed or broken
        checkpoint = Checkpoint(path.name, position, head, done=done)
        target = self.failed if broken else self.processed
        yield Batch(
            records,
            issues,
            checkpoint.text(),
            on_commit=(lambda: self._settle(path, target, after)) if done else _stay,
            on_failure=lambda: _move_if_there(path, self.failed),
            passed=passed,
            notes=notes,
            file=path.name,
            ends_file=True,
            progress=progress(finished=True),
        )

    def forget_old(self) -> int:
        """Delete the files settled into processed/ or failed/ more than keep_days ago (by when they were moved:
        the inode's change time; a file's own time may be years old), at most once an hour; how many."""
        now = self.clock()
        if not self.keep_days or abs(now - _swept.get(self.folder, now - SWEEP_SECONDS)) < SWEEP_SECONDS:
            return 0
        _swept[self.folder] = now
        cutoff = now - self.keep_days * 86400
        deleted = 0
        for folder in (self.processed, self.failed):
            try:
                paths = list(folder.iterdir()) if folder.is_dir() else []
            except OSError:
                continue  # unreadable now (permissions): the load goes on, the next sweep tries again
            for path in paths:
                try:
                    status = path.lstat()
                    if stat.S_ISREG(status.st_mode) and status.st_ctime < cutoff:
                        path.unlink()
                        deleted += 1
                except OSError:
                    continue  # gone already (another run's sweep), or not ours to delete
        return deleted

    def _settle(self, path: Path, folder: Path, read: Stamp) -> None:
        """Move a finished file (and its marker) away; if it changed in the moment between the last read and
        the move, put it back, so the rest of an upload that resumed is read by the next run."""
        try:
            moved = _move(path, folder)
        except FileNotFoundError:
            return  # moved or deleted by a person meanwhile: its rows are committed, there is nothing to move
        if Stamp.of(moved) != read and not path.exists():
            moved.rename(path)
            return
        if self.done_suffix:
            marker = path.with_name(path.name + self.done_suffix)
            if marker.exists():
                _move(marker, folder)

    def close(self) -> None:
        """Nothing to release: each file is closed when its last batch is read."""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _stay() -> None:
    """A file that changed while it was read stays where it is."""


def _head_digest(path: Path, length: int = HEAD_BYTES) -> str:
    """ "<n>:<digest>" of the file's first n bytes (up to ``length``), which an upload that resumed leaves as
    they were."""
    with open(path, "rb") as handle:
        data = handle.read(length)
    return f"{len(data)}:{hashlib.sha1(data).hexdigest()[:16]}"


def _move_if_there(path: Path, folder: Path) -> None:
    """``_move`` of a file that may be gone by now (a failing run must report its own error, not this one)."""
    with contextlib.suppress(FileNotFoundError):
        _move(path, folder)


def _move(path: Path, folder: Path) -> Path:
    """Move a file into a folder without overwriting an earlier file of the same name there."""
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    counter = 1
    while target.exists():
        target = folder / f"{path.stem}.{counter}{path.suffix}"
        counter += 1
    return path.rename(target)


SOURCE = FileDrop
