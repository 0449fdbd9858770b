"""Uploaded files and their rows stay together, on SQLite and PostgreSQL: a write that fails after storing its files
(a later attachment refused, a limit, the database) takes them away with it, so no file is left without its row;
what a killed worker left is swept within the hour."""

from __future__ import annotations

import os
import time

import pytest

from etl.warehouse.intake import IntakeError, writing
from etl.warehouse.intake_files import STRAY_SECONDS, SweepWithheld, Upload, store, sweep_stray

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


def test_the_sweep_deletes_what_killed_writes_left_and_nothing_else(engine, tmp_path):
    # A worker killed between writing and renaming leaves a .part file; one killed before its commit leaves a stored
    # file no row names. Neither is ever served or cleaned by discard_written: the hourly sweep takes them, once
    # they are older than any write could last; the young ones (a write in progress) and every named file stay.
    uploads = tmp_path / "uploads"
    with writing(engine) as (connection, at):
        kept = store(connection, str(uploads), PHOTO, "notice", "GG1", "990101001001", at)
    half_written = uploads / f".{'a' * 32}.jpg.part"
    unnamed = uploads / f"{'b' * 32}.pdf"
    in_progress = uploads / f".{'c' * 32}.jpg.part"
    for path in (half_written, unnamed, in_progress):
        path.write_bytes(b"0" * 16)
    stranger = uploads / "readme.txt"  # not ours to judge: the sweep touches only names it writes
    stranger.write_text("运维备注", encoding="utf-8")
    hour_ago = time.time() - STRAY_SECONDS - 5
    for path in (uploads / kept, half_written, unnamed, stranger):
        os.utime(path, (hour_ago, hour_ago))
    with engine.connect() as connection:
        assert sweep_stray(connection, str(uploads)) == 2
        assert sweep_stray(connection, str(tmp_path / "none")) == 0  # no folder yet: nothing to do
    assert sorted(path.name for path in uploads.iterdir()) == sorted([kept, in_progress.name, "readme.txt"])


def test_the_sweep_withholds_when_most_of_the_folder_is_unknown_to_the_warehouse(engine, tmp_path):
    # `etl watch` pointed at a new, empty database (a move to PostgreSQL, a restored older backup) would have taken
    # every household's photos for leftovers of killed writes.
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    hour_ago = time.time() - STRAY_SECONDS - 5
    photos = [uploads / f"{n:032x}.jpg" for n in range(12)]
    for path in photos:
        path.write_bytes(b"0" * 16)
        os.utime(path, (hour_ago, hour_ago))
    with engine.connect() as connection, pytest.raises(SweepWithheld, match="12 个文件不在数据仓库的记录中"):
        sweep_stray(connection, str(uploads))
    assert all(path.exists() for path in photos)
