"""Uploaded files and their rows stay together, on SQLite and PostgreSQL: a write that fails after storing its files
(a later attachment refused, a limit, the database) takes them away with it, so no file is left without its row."""

from __future__ import annotations

import pytest

from etl.warehouse.intake import IntakeError, writing
from etl.warehouse.intake_files import Upload, store

PHOTO = Upload("现场.jpg", "image/jpeg", b"\xff\xd8\xff" + b"0" * 64)


def test_a_failed_write_leaves_no_file_and_a_committed_one_keeps_its_files(engine, tmp_path):
    uploads = tmp_path / "uploads"
    with pytest.raises(IntakeError), writing(engine) as (connection, at):
        store(connection, str(uploads), PHOTO, "notice", "GG1", "990101001001", at)
        store(connection, str(uploads), PHOTO, "notice", "GG1", "990101001001", at)
        raise IntakeError("附件最多 3 个")  # refused after two were stored
    assert list(uploads.iterdir()) == []
    with writing(engine) as (connection, at):
        kept = store(connection, str(uploads), PHOTO, "notice", "GG2", "990101001001", at)
    assert [path.name for path in uploads.iterdir()] == [kept]
    with pytest.raises(RuntimeError), writing(engine) as (connection, at):  # the next failure forgets the last write
        raise RuntimeError("数据库断开")
    assert [path.name for path in uploads.iterdir()] == [kept]
