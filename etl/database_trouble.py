"""What an operator reads when the database itself failed (locked, full, unreachable): a reason in Chinese, then the
driver's own first line."""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

# Words of the drivers' messages → what they mean for an operator.
HINTS = {
    "database is locked": "另一个进程占着写锁超过了等待时间",
    "disk is full": "磁盘已满",
    "no space left": "磁盘已满",
    "deadlock": "与另一个写入者互相等待（死锁）",
    "read-only": "数据库只读",
    "readonly": "数据库只读",
    "unable to open database": "打不开数据库文件（路径或权限）",
    "connection": "连不上数据库，或连接中断",
    "server closed": "数据库关闭了连接",
    "timeout": "等待超时",
}


# Driver messages the hint says in full: the English line after it would add nothing.
SAID_IN_FULL = {"database is locked": "另一个进程占着数据仓库的写锁，等待超时"}


def described(error: BaseException) -> str:
    """（reason：Driver error: its first line） of a database error (SQLAlchemy's, or the driver's own); （reason）
    alone where the reason says all the driver does."""
    original = getattr(error, "orig", None) or error
    first = (str(original).strip().splitlines() or [""])[0][:200]
    if first.strip().lower() in SAID_IN_FULL:
        return f"（{SAID_IN_FULL[first.strip().lower()]}）"
    hint = next((text for marker, text in HINTS.items() if marker in first.lower()), "数据库出错")
    return f"（{hint}：{type(original).__name__}: {first}）"


# What a database raises about a row's values (a constraint, a value its column cannot hold) that validation let
# through: a load narrows the batch down to the refused rows and quarantines them.
ROW_ERRORS = (
    IntegrityError,
    DataError,
    psycopg.IntegrityError,
    psycopg.DataError,
    sqlite3.IntegrityError,
    sqlite3.DataError,
    OverflowError,
)
# Any other database error is about the database itself (locked past the busy timeout, disk full, connection lost,
# deadlock): no row is to blame, so none is quarantined and the file stays where it is; the run stops and says so.
UNAVAILABLE = (DBAPIError, psycopg.Error, sqlite3.Error)


class WarehouseUnavailable(Exception):
    """The warehouse could not be written for a reason of its own (locked, full, unreachable), not a row's."""


def unavailable(error: BaseException) -> bool:
    """Whether a database error is the database's own (locked, full, gone), not about a row's values."""
    return isinstance(error, UNAVAILABLE) and not isinstance(error, ROW_ERRORS)


def unavailable_text(error: BaseException) -> str:
    """What an operator reads when the warehouse refused a write for a reason of its own."""
    return (
        f"数据仓库暂时无法写入{described(error)}；这一批没有写入，留在来源处（文件留在投递目录，MQTT 消息会重发），"
        "已提交的批次保留，下次运行从检查点继续"
    )


def unreachable_text(error: BaseException) -> str:
    """What an operator reads when a run could not start because the warehouse did not answer."""
    return f"数据仓库暂时无法访问{described(error)}；本次未运行，没有从来源取走任何数据，下次到期时再试"
