"""What an operator reads when the database itself failed (locked, full, unreachable): a reason in Chinese, then the
driver's own first line."""

from __future__ import annotations

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


def described(error: BaseException) -> str:
    """（reason：Driver error: its first line） of a database error (SQLAlchemy's, or the driver's own)."""
    original = getattr(error, "orig", None) or error
    first = (str(original).strip().splitlines() or [""])[0][:200]
    hint = next((text for marker, text in HINTS.items() if marker in first.lower()), "数据库出错")
    return f"（{hint}：{type(original).__name__}: {first}）"
