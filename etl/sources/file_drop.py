"""File-drop transport: one batch per CSV/XLSX file in a folder, moved to processed/ or failed/ afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.sources.base import Batch, Issue, SourceError
from etl.sources.tables import Layout, Unreadable, read_table

TYPE = "file"


@dataclass
class FileDrop:
    """A drop folder read oldest file first.

    The folder itself is the queue: a file leaves it only when its batch is settled, so the watermark
    (the last file name) is recorded for the run log but not used to skip files. Outcomes:

    - rows load, rejected rows (truncated, extra cells, value without header) are Issues → ``processed/``;
    - an empty file or one with a header and no rows → an "empty file" Issue → ``processed/`` (nothing to lose);
    - an unreadable file (encoding, unsupported type, blank or duplicate header) → one Issue → ``failed/``,
      kept as it came for a person to look at, even though the batch itself commits;
    - a batch whose load failed → ``failed/``.
    """

    folder: Path
    pattern: str = "*.csv"
    layout: Layout = Layout()

    @classmethod
    def from_config(cls, config: dict[str, Any], base_dir: Path) -> FileDrop:
        """A drop folder from a feed's ``[source]``: path, pattern, sheet, header_row, header_rows, delimiter."""
        layout = Layout(
            header_row=int(config.get("header_row", 1)),
            header_rows=int(config.get("header_rows", 1)),
            sheet=config.get("sheet"),
            delimiter=config.get("delimiter", ","),
        )
        if layout.header_row < 1 or layout.header_rows not in (1, 2):
            raise ValueError("file source: header_row must be ≥ 1 and header_rows 1 or 2")
        return cls(base_dir / config["path"], config.get("pattern", "*.csv"), layout)

    @property
    def processed(self) -> Path:
        """Where settled files go."""
        return self.folder / "processed"

    @property
    def failed(self) -> Path:
        """Where unreadable files and files of failed loads go, for a person to look at."""
        return self.folder / "failed"

    def pending(self) -> list[Path]:
        """Files waiting in the folder, oldest first (modification time, then name)."""
        if not self.folder.is_dir():
            raise SourceError(f"file source {self.folder}: folder not found")
        files = [
            path
            for path in self.folder.glob(self.pattern)
            # "~$x.xlsx" is Excel's lock file and dot files are uploads in progress, not data.
            if path.is_file() and path.parent == self.folder and not path.name.startswith(("~$", "."))
        ]
        return sorted(files, key=lambda path: (path.stat().st_mtime, path.name))

    def batches(self, watermark: str | None) -> Iterator[Batch]:
        """One batch per waiting file; the watermark is that file's name."""
        for path in self.pending():
            if path.exists():  # another run may have taken it since the listing
                yield self.batch(path)

    def batch(self, path: Path) -> Batch:
        """The records and Issues of one file, with the moves that settle it."""
        try:
            table = read_table(path, self.layout)
            records, issues, done = table.records, table.issues, self.processed
        except Unreadable as error:
            records, issues, done = [], [error.issue], self.failed
        if not records and not issues:
            issues = [Issue(path.name, "", None, "empty file", "no data rows below the header")]
        return Batch(
            records,
            issues,
            watermark=path.name,
            on_commit=lambda: _move(path, done),
            on_failure=lambda: _move(path, self.failed),
        )

    def close(self) -> None:
        """Nothing to release: files are read whole."""


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
