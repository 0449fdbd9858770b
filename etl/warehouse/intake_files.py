"""Files people upload (a 诉求's photo, a notice's attachments): stored under UPLOADS_DIR by a random name, one row
each in intake_files naming what owns it and its region, which is what the pages check before serving it."""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, bindparam, insert, select

from etl.warehouse.schema import intake_files

FILE_ID = re.compile(r"^[0-9a-f]{32}\.(jpg|pdf)\Z")
# Where a connection keeps the files its transaction wrote (connection.info), until it commits or rolls back.
WRITTEN = "ruralbrain.written_files"
# A file no row names, or a half-written one, older than this was left by a killed write (a write's transaction
# lasts seconds): the hourly sweep deletes it.
STRAY_SECONDS = 3600
SWEEP_CHUNK = 500  # stored names asked about in one query
STRAY_AT_MOST = 10  # unnamed files deleted whatever the folder holds; beyond it, only while they are a minority


class SweepWithheld(Exception):
    """The uploads folder does not look like this warehouse's: nothing was deleted."""


@dataclass(frozen=True)
class Upload:
    """A checked upload ready to store: the name it came under, its type and its (re-encoded) bytes."""

    name: str
    content_type: str
    data: bytes

    @property
    def suffix(self) -> str:
        return "pdf" if self.content_type == "application/pdf" else "jpg"


def store(connection: Connection, uploads_dir: str, upload: Upload, owner: str, owner_id: str, region: str, at: str):
    """Write the file (under a new random name) and its row, inside the caller's transaction (``writing``): should
    the transaction fail, the file is deleted with it (``discard_written``), and there is never a row without its
    file."""
    file_id = f"{secrets.token_hex(16)}.{upload.suffix}"
    folder = Path(uploads_dir)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{file_id}.part"
    partial.write_bytes(upload.data)
    os.replace(partial, folder / file_id)  # whole or not at all, for a reader on another worker
    connection.info.setdefault(WRITTEN, []).append(folder / file_id)
    connection.execute(
        insert(intake_files).values(
            file_id=file_id,
            owner=owner,
            owner_id=owner_id,
            region_code=region,
            name=upload.name[:200] or file_id,
            content_type=upload.content_type,
            size=len(upload.data),
            created_at=at,
        )
    )
    return file_id


def sweep_stray(connection: Connection, uploads_dir: str, now: float | None = None) -> int:
    """Delete what killed writes left under ``uploads_dir``, older than STRAY_SECONDS: half-written ``.part`` files
    (the worker died before its rename) and stored files that no row names (it died before its commit); the count
    deleted. ``discard_written`` covers a write that fails; only a process that dies leaves these."""
    folder = Path(uploads_dir)
    if not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - STRAY_SECONDS
    partial, stored = [], []
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.is_file(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            if entry.name.startswith(".") and entry.name.endswith(".part"):
                partial.append(entry.name)
            elif FILE_ID.match(entry.name):
                stored.append(entry.name)
    named = set()
    for start in range(0, len(stored), SWEEP_CHUNK):
        chunk = stored[start : start + SWEEP_CHUNK]
        named.update(
            connection.execute(select(intake_files.c.file_id).where(intake_files.c.file_id.in_(chunk))).scalars()
        )
    unnamed = [name for name in stored if name not in named]
    if len(unnamed) > STRAY_AT_MOST and len(unnamed) * 2 > len(stored):
        # Killed writes leave a few; most of the folder unknown means this is not the folder's warehouse (a new
        # database, a restored older backup): deleting would take every household's photos.
        raise SweepWithheld(
            f"上传目录 {folder} 有 {len(unnamed)} 个文件不在数据仓库的记录中（共 {len(stored)} 个）：未清理。"
            "数据仓库或 UPLOADS_DIR 是否指错了？"
        )
    stray = [*partial, *unnamed]
    for name in stray:
        (folder / name).unlink(missing_ok=True)
    return len(stray)


def discard_written(connection: Connection, keep: bool) -> None:
    """Forget the files this connection's transaction wrote; delete them unless ``keep`` (it committed)."""
    for path in connection.info.pop(WRITTEN, []):
        if not keep:
            path.unlink(missing_ok=True)


_FILES = (
    select(intake_files)
    .where(intake_files.c.owner == bindparam("owner"), intake_files.c.owner_id.in_(bindparam("ids", expanding=True)))
    .order_by(intake_files.c.created_at)
)


def files_of(connection: Connection, owner: str, owner_ids: list[str]) -> dict[str, list[dict]]:
    """The files of some owners (cases or notices), by owner id, in upload order."""
    if not owner_ids:
        return {}
    found: dict[str, list[dict]] = {}
    for row in connection.execute(_FILES, {"owner": owner, "ids": owner_ids}).mappings():
        found.setdefault(row["owner_id"], []).append(dict(row))
    return found


def file_row(connection: Connection, file_id: str) -> dict | None:
    """A stored file's row (owner, region, type, name), or None for a name that is not one."""
    if not FILE_ID.match(file_id or ""):
        return None
    row = connection.execute(select(intake_files).where(intake_files.c.file_id == file_id)).mappings().first()
    return dict(row) if row else None


def file_path(uploads_dir: str, file_id: str) -> Path:
    """Where a stored file is (its id was checked against FILE_ID)."""
    return Path(uploads_dir) / file_id
