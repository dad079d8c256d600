"""审计日志 (管理员、局领导): who did what when, filtered by day range, user and action, newest first; and 留存情况:
how far back the table reaches, what was archived, whether the six-month floor is met and the latest verification of
the hash chain (run again on demand: `verify`).

Read uncached: the log grows with every sign-in. Persons in the log are masked when written
(data.security.audit.record) and masked again here for entries written before that rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from data.ops.audit_archive import RETENTION_MONTHS, ChainReport, record_verification, retention as _retention
from data.ops.audit_archive import verify_chain
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


# --- 留存情况 -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetentionPage:
    cards: list[tuple[str, str]]     # (label, value) in order
    floor_met: bool
    floor_text: str                  # 是否已满六个月, in words
    check_ok: bool | None            # the latest verification (None: never verified)
    check_text: str


def _when(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M") if value is not None else "—"


def retention(reader: Reader, today: date | None = None) -> RetentionPage:
    """The table's retention state: earliest entry, count, archives, the six-month floor, the latest verification."""
    _check(reader)
    r = _retention(reader.engine, today)
    archived = f"{r.archives} 次（最近截止 {r.last_cutoff}）" if r.archives else "从未归档"
    if r.first_at is None:
        floor_text = "尚无记录"
    elif r.first_at.date() <= r.floor:
        floor_text = f"已满 {RETENTION_MONTHS} 个月：最早记录早于 {r.floor}，近 {RETENTION_MONTHS} 个月的记录都在数据库中"
    elif r.floor_met:
        floor_text = (f"已满 {RETENTION_MONTHS} 个月：{r.last_cutoff} 以前的记录已归档到文件，"
                      "其后的记录都在数据库中")
    else:
        floor_text = f"未满 {RETENTION_MONTHS} 个月：最早记录晚于 {r.floor}（审计日志启用不足六个月）"
    if r.last_check_at is None:
        check_text = "尚未核验"
    else:
        d = r.last_check_detail or {}
        result = "通过" if r.last_check_ok else (f"未通过，第一处断裂在记录 #{d.get('broken_id')}"
                                                 if d.get("broken_id") is not None else "未通过")
        check_text = f"{_when(r.last_check_at)}：{result}（{int(d.get('rows') or 0):,} 条）"
    cards = [("最早记录时间", _when(r.first_at)), ("记录条数", f"{r.rows:,} 条"), ("已归档", archived),
             (f"是否已满{RETENTION_MONTHS}个月", "是" if r.floor_met else "否"), ("最近一次核验", check_text)]
    return RetentionPage(cards, r.floor_met, floor_text, r.last_check_ok, check_text)


def verify(reader: Reader) -> ChainReport:
    """Walk the hash chain now and leave the verification in the log (as the reader)."""
    _check(reader)
    report = verify_chain(reader.engine)
    record_verification(reader.engine, report, reader.principal)
    return report
