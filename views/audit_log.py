"""审计日志 (管理员、局领导): who did what when, filtered by day range, user and action, newest first.

Read uncached: the log grows with every sign-in. Persons in the log are masked when written
(data.security.audit.record) and masked again here for entries written before that rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from data.security.access import ROLES, AccessDenied, Reader
from data.security.audit import (ACTIONS, audit_entries, audit_entry_count, audit_usernames, readable_detail,
                                 readable_target)
from data.security.masking import mask_personal_text

ALLOWED = frozenset({"admin", "leader"})
LIMIT = 2000
REFUSED = "只有管理员和局领导可以查看审计日志。"


@dataclass(frozen=True)
class AuditLogPage:
    total: int               # entries matching the filters
    table: pd.DataFrame      # the newest LIMIT of them, as shown (Chinese headers)
    failed: pd.Series        # per row of `table`: the action failed (shown in red)

    @property
    def truncated(self) -> bool:
        return self.total > len(self.table)


def may_read(reader: Reader) -> bool:
    return reader.principal.role in ALLOWED


def _check(reader: Reader) -> None:
    if not may_read(reader):
        raise AccessDenied(REFUSED)


def usernames(reader: Reader) -> list[str]:
    """Every user name in the log, sorted (the user filter's choices)."""
    _check(reader)
    return audit_usernames(reader.engine)


def build(reader: Reader, start: date | None = None, end: date | None = None, username: str | None = None,
          actions: tuple[str, ...] = ()) -> AuditLogPage:
    _check(reader)
    wanted = dict(start=start or None, end=end or None, username=username or None, actions=tuple(actions))
    total = audit_entry_count(reader.engine, **wanted)
    log = audit_entries(reader.engine, limit=LIMIT, **wanted)
    table = pd.DataFrame({
        "时间": pd.to_datetime(log["at"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "用户": log["username"].fillna("—").map(mask_personal_text),
        "角色": log["role"].map(lambda r: ROLES.get(r, r) if pd.notna(r) and r else "—"),
        "操作": log["action"].map(lambda a: ACTIONS.get(a, a)),
        "对象": log["target"].map(readable_target),
        "详情": log["detail"].map(readable_detail),
        "结果": log["ok"].map(lambda ok: "成功" if ok else "失败"),
    })
    return AuditLogPage(total=total, table=table, failed=~log["ok"].astype(bool))
