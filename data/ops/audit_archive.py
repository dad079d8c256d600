"""审计日志的核验与归档: prove the hash chain of audit_log, and move rows older than six months to a file.

The chain (data.security.audit): every row's prev_hash is the row_hash of the row before it (by id), and row_hash is
the SHA-256 of its stored fields and prev_hash. The first row of the table continues GENESIS, or — once rows have been
archived — the last hash of the newest archive registered in audit_archives.

* `verify_chain(engine)` walks the table in id order and names the first row that breaks the chain: its content no
  longer matches its hash (changed), or it does not continue the row before it (a row deleted or inserted before it).
  Deleting the newest rows leaves no break behind; everything else does.
* `archive(engine, cutoff, out)` writes the oldest rows — the longest run from the start of the table whose `at` is
  before `cutoff` — to a gzip JSON-lines file (header, one line per row, trailer with the count, the last hash and
  the SHA-256 of everything before the trailer), re-reads and verifies the file, and only then, in one transaction,
  registers the archive in audit_archives and deletes the rows (the append-only trigger allows a DELETE only of rows
  a registered archive covers). It refuses a cutoff later than today minus six calendar months (网络安全法 第二十一条:
  network logs are kept at least six months), refuses to archive a broken chain, and is all-or-nothing: a failure
  leaves the table as it was and no file behind. Running it again archives nothing new.
* `verify_archive(path)` checks an archive file on its own (format, content hash, chain) and, given an engine, against
  its registration.

The archive files hold what the table holds: entries masked when written (no ID number or mobile number in clear).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import delete, func, insert, inspect, select
from sqlalchemy.engine import Connection, Engine

from data.db.models.auth import AuditArchive, AuditEntry
from data.security.audit import (CHAIN_FIELDS, GENESIS, canonical_at, lock_chain, record, record_now, row_hash)

FORMAT = "minzheng-audit-archive"
RETENTION_MONTHS = 6
FETCH = 5000


class ArchiveRefused(ValueError):
    """The archive was refused or failed; nothing was written or deleted. The message is Chinese."""


def months_before(day: date, months: int = RETENTION_MONTHS) -> date:
    """`day` minus whole calendar months (the 31st of a shorter month is its last day): 2026-08-31 → 2026-02-28."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    last = (date(y + (m == 12), m % 12 + 1, 1) - date(y, m, 1)).days
    return date(y, m, min(day.day, last))


def _ts(at) -> str:
    return canonical_at(at)[:19]


# --- verification --------------------------------------------------------------------------------------------------

@dataclass
class ChainReport:
    """What a walk of the chain found. `ok` is False at the first broken row (id and time named)."""
    what: str                          # 审计日志 / 归档文件 …
    rows: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    first_id: int | None = None
    last_id: int | None = None
    anchor: str = GENESIS              # the hash the first row continues
    anchor_from: str = "起点"           # 起点 / 归档（截止 …）
    last_hash: str | None = None
    ok: bool = True
    broken_id: int | None = None
    broken_at: datetime | None = None
    reason: str | None = None
    problems: list[str] = field(default_factory=list)   # file-level problems (archives)
    notes: list[str] = field(default_factory=list)

    def fail(self, reason: str, row_id=None, at=None) -> None:
        if self.ok or (self.broken_id is None and row_id is not None):
            self.broken_id, self.broken_at = row_id, at
        if self.ok:
            self.reason = reason
        elif row_id is None:
            self.problems.append(reason)
        self.ok = False

    def lines(self) -> list[str]:
        """The Chinese summary: 条数, 起止时间, 结果 (and the first broken row)."""
        span = f"{_ts(self.first_at)} 至 {_ts(self.last_at)}" if self.rows else "（无记录）"
        out = [f"{self.what}：共 {self.rows:,} 条，时间 {span}",
               f"  链首接续：{self.anchor_from}"]
        if self.ok:
            out.append("  结果：通过。哈希链完整，未发现修改、删除或插入的记录。")
        else:
            where = (f"第一处断裂在记录 #{self.broken_id}（时间 {_ts(self.broken_at)}）："
                     if self.broken_id is not None else "")
            out.append(f"  结果：未通过。{where}{self.reason}")
            out += [f"  另：{p}" for p in self.problems]
        out += [f"  {n}" for n in self.notes]
        return out

    def detail(self) -> dict:
        """For the audit entry that records this verification."""
        return {"ok": self.ok, "rows": self.rows, "first_at": _ts(self.first_at) if self.first_at else None,
                "last_at": _ts(self.last_at) if self.last_at else None, "broken_id": self.broken_id,
                "reason": self.reason}


class _Walk:
    """Check rows one after another against the chain."""

    def __init__(self, report: ChainReport, expected: str):
        self.report, self.expected, self.prev_id = report, expected, None

    def row(self, r: dict) -> None:
        rep = self.report
        rep.rows += 1
        if rep.first_at is None:
            rep.first_at, rep.first_id = r["at"], r["id"]
        rep.last_at, rep.last_id = r["at"], r["id"]
        if rep.ok:
            if not r.get("row_hash") or not r.get("prev_hash"):
                rep.fail("该记录没有哈希：它不是由看板写入的（被直接插入数据库）。", r["id"], r["at"])
            elif r["prev_hash"] != self.expected:
                before = (f"记录 #{self.prev_id}" if self.prev_id is not None else rep.anchor_from)
                rep.fail(f"该记录没有接续前一条（{before}）：两者之间的记录被删除，或在其前插入、改动了记录。",
                         r["id"], r["at"])
            elif row_hash(r) != r["row_hash"]:
                rep.fail("该记录的内容与其哈希不符：记录被修改过。", r["id"], r["at"])
        self.expected, self.prev_id = r.get("row_hash"), r["id"]
        rep.last_hash = r.get("row_hash")


def _anchor(conn: Connection) -> tuple[str, str]:
    """(hash the table's first row continues, in words)."""
    a = AuditArchive.__table__
    if not inspect(conn).has_table("audit_archives"):
        return GENESIS, "起点"
    last = conn.execute(select(a.c.last_hash, a.c.cutoff, a.c.last_id).order_by(a.c.last_id.desc()).limit(1)).first()
    if last is None:
        return GENESIS, "起点（从未归档）"
    return last.last_hash, f"最近一次归档（截止 {last.cutoff}，止于记录 #{last.last_id}）"


_COLUMNS = ("id",) + CHAIN_FIELDS + ("prev_hash", "row_hash")


def _rows(conn: Connection, upto: int | None = None):
    t = AuditEntry.__table__
    stmt = select(*(t.c[c] for c in _COLUMNS)).order_by(t.c.id)
    if upto is not None:
        stmt = stmt.where(t.c.id <= upto)
    result = conn.execution_options(yield_per=FETCH).execute(stmt)
    for part in result.partitions():
        for r in part:
            yield dict(zip(_COLUMNS, r))


def verify_chain(engine: Engine) -> ChainReport:
    """Walk audit_log in id order from its anchor; the report names the first broken row."""
    report = ChainReport("审计日志（数据库）")
    with engine.connect() as conn:
        report.anchor, report.anchor_from = _anchor(conn)
        walk = _Walk(report, report.anchor)
        for r in _rows(conn):
            walk.row(r)
    return report


def record_verification(engine: Engine, report: ChainReport, who="system", target: str = "审计日志") -> None:
    """Leave the verification in the log itself (the 审计日志 page shows the latest)."""
    record_now(engine, who, "audit_verify", target, report.detail(), ok=report.ok)


def _read_archive(path: Path):
    """(header, rows, trailer, sha256 of everything before the trailer, problems)."""
    problems, header, trailer, rows = [], None, None, []
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as fh:
            lines = fh.read().splitlines(keepends=True)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ArchiveRefused(f"“{path}”不是有效的审计日志归档文件（无法解压：{exc}）。") from exc
    for n, raw in enumerate(lines, start=1):
        try:
            obj = json.loads(raw)
        except ValueError:
            problems.append(f"第 {n} 行不是有效的 JSON。")
            digest.update(raw)
            continue
        kind = obj.get("type") if isinstance(obj, dict) else None
        if kind == "trailer" and n == len(lines):
            trailer = obj
            continue
        digest.update(raw)
        if kind == "header" and n == 1:
            header = obj
        elif kind == "row":
            rows.append(obj)
        else:
            problems.append(f"第 {n} 行的类型不对（应为{'文件头' if n == 1 else '记录'}）。")
    return header, rows, trailer, digest.hexdigest(), problems


def verify_archive(path, engine: Engine | None = None) -> ChainReport:
    """Check an archive file: its format, the SHA-256 its trailer states, the count, and the chain from the hash
    its header says it continues; with `engine`, also against the archive's registration in that database."""
    path = Path(path).expanduser()
    report = ChainReport(f"归档文件 {path.name}")
    if not path.is_file():
        raise ArchiveRefused(f"归档文件“{path}”不存在。")
    header, rows, trailer, digest, problems = _read_archive(path)
    if header is None or header.get("format") != FORMAT:
        raise ArchiveRefused(f"“{path}”不是民政一张图的审计日志归档文件（缺少文件头）。")
    report.anchor = str(header.get("prev_hash") or "")
    report.anchor_from = f"归档前最后一条记录的哈希（{report.anchor[:12]}…）"
    walk = _Walk(report, report.anchor)
    for r in rows:
        try:
            r = dict(r, at=datetime.fromisoformat(r["at"]))
            walk.row(r)
        except (KeyError, TypeError, ValueError):
            report.fail("记录缺少字段或字段格式不对。", r.get("id"), None)
    for p in problems:
        report.fail(p)
    if trailer is None:
        report.fail("文件不完整：缺少文件尾（条数与 SHA-256），可能被截断。")
    else:
        if trailer.get("sha256") != digest:
            report.fail("文件内容的 SHA-256 与文件尾记载的不符：文件被改动过。")
        if trailer.get("count") != len(rows) or header.get("count") != len(rows):
            report.fail(f"记录条数不符：文件头记 {header.get('count')} 条、文件尾记 {trailer.get('count')} 条，"
                        f"实有 {len(rows)} 条。")
        if trailer.get("last_hash") != report.last_hash or header.get("last_hash") != report.last_hash:
            report.fail("文件头、尾记载的最后一条哈希与记录不符。")
    if engine is not None:
        _against_registration(engine, header, digest, report)
    return report


def _against_registration(engine: Engine, header: dict, digest: str, report: ChainReport) -> None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("audit_archives"):
            return
        a = AuditArchive.__table__
        reg = conn.execute(select(a).where(a.c.first_id == header.get("first_id"),
                                           a.c.last_id == header.get("last_id"))).first()
    if reg is None:
        report.notes.append("注意：当前数据库中没有这份归档的登记（可能来自其他数据库，或数据库已从更早的备份恢复）。")
    elif reg.sha256 != digest or reg.last_hash != header.get("last_hash") or reg.prev_hash != header.get("prev_hash"):
        report.fail(f"与数据库中的归档登记（{reg.archived_at:%Y-%m-%d %H:%M} 归档，截止 {reg.cutoff}）不符：文件被替换或改动过。")
    else:
        report.notes.append(f"与数据库中的归档登记一致（{reg.archived_at:%Y-%m-%d %H:%M} 归档，截止 {reg.cutoff}）。")


# --- archive -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ArchiveResult:
    rows: int
    path: Path | None
    cutoff: date
    first_at: datetime | None = None
    last_at: datetime | None = None
    sha256: str | None = None
    left_behind: int = 0   # rows older than the cutoff kept because a younger row comes before them


def _line(obj: dict) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode()


def _plain(r: dict) -> dict:
    return {"type": "row", **{k: (canonical_at(v) if k == "at" else v) for k, v in r.items()}}


def archive(engine: Engine, cutoff: date, out, *, who="system", today: date | None = None) -> ArchiveResult:
    """Move the audit rows older than `cutoff` to the gzip file `out` (see the module docstring)."""
    today = today or date.today()
    floor = months_before(today)
    if cutoff > floor:
        raise ArchiveRefused(
            f"拒绝归档：截止日期 {cutoff} 晚于 {floor}（今天 {today} 往前 {RETENTION_MONTHS} 个月）。审计日志须在数据库中"
            f"保留至少 {RETENTION_MONTHS} 个月（《网络安全法》第二十一条），只能归档 {floor} 及以前的日期之前的记录。"
            "未写入任何文件，数据库未作改动。")
    out = Path(out).expanduser().resolve()
    t = AuditEntry.__table__
    limit = datetime.combine(cutoff, datetime.min.time())
    with engine.connect() as conn:
        young = conn.execute(select(func.min(t.c.id)).where(t.c.at >= limit)).scalar()
        stmt = select(func.count(), func.max(t.c.id))
        if young is not None:
            stmt = stmt.where(t.c.id < young)
        count, last_id = conn.execute(stmt).one()
        left = conn.execute(select(func.count()).where(t.c.at < limit, t.c.id > young)).scalar() \
            if young is not None else 0
    if not count:
        return ArchiveResult(0, None, cutoff, left_behind=int(left or 0))
    if out.exists():
        raise ArchiveRefused(f"归档文件“{out}”已存在，未覆盖。请换一个文件名。未归档，数据库未作改动。")
    if not out.parent.is_dir():
        raise ArchiveRefused(f"目录“{out.parent}”不存在，请先创建。未归档，数据库未作改动。")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    moved = False
    try:
        header, digest = _write_file(engine, tmp, cutoff, last_id, count)
        check = verify_archive(tmp)     # read back what is on disk before anything is deleted
        if not check.ok or check.rows != count or check.last_hash != header["last_hash"]:
            raise ArchiveRefused("写出的归档文件复核未通过（" + (check.reason or "条数或哈希不符")
                                 + "），未归档，数据库未作改动。")
        with engine.begin() as conn:
            lock_chain(conn)   # one archive at a time; nothing else in this transaction waits after it
            a = AuditArchive.__table__
            now_first = conn.execute(select(func.min(t.c.id))).scalar()
            now_count = conn.execute(select(func.count()).where(t.c.id <= last_id)).scalar()
            now_last = conn.execute(select(t.c.row_hash).where(t.c.id == last_id)).scalar()
            if (now_first, now_count, now_last) != (header["first_id"], count, header["last_hash"]):
                raise ArchiveRefused("归档期间审计日志的这些记录发生了变化（可能同时在运行另一次归档），未归档，"
                                     "数据库未作改动。请重新运行。")
            conn.execute(insert(a).values(
                archived_at=datetime.now(), archived_by=_who(who), cutoff=cutoff, file_name=out.name[:255],
                rows=count, first_id=header["first_id"], last_id=last_id,
                first_at=datetime.fromisoformat(header["first_at"]), last_at=datetime.fromisoformat(header["last_at"]),
                prev_hash=header["prev_hash"], last_hash=header["last_hash"], sha256=digest))
            deleted = conn.execute(delete(t).where(t.c.id <= last_id)).rowcount
            if deleted != count:
                raise ArchiveRefused(f"应删除 {count} 条记录，实际 {deleted} 条，未归档，数据库未作改动。")
            record(conn, who, "audit_archive", str(out),
                   {"cutoff": str(cutoff), "rows": count, "first_id": header["first_id"], "last_id": last_id,
                    "sha256": digest, "left": int(left or 0)})
            os.replace(tmp, out)   # in place before the commit: a failed commit removes it again (below)
            moved = True
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if moved:
            out.unlink(missing_ok=True)
        if isinstance(exc, OSError):   # a full disk, no permission …: said in Chinese, no traceback
            raise ArchiveRefused(f"写入归档文件“{out}”失败（{exc.strerror or exc}），未归档，数据库未作改动。") from exc
        raise
    return ArchiveResult(count, out, cutoff, datetime.fromisoformat(header["first_at"]),
                         datetime.fromisoformat(header["last_at"]), digest, int(left or 0))


def _who(who) -> str | None:
    return who if isinstance(who, str) or who is None else getattr(who, "username", None)


def _write_file(engine: Engine, tmp: Path, cutoff: date, last_id: int, count: int) -> tuple[dict, str]:
    """Write header, rows 1…last_id and trailer to `tmp` (0600); refuse a broken chain. Returns (header, sha256)."""
    report = ChainReport("待归档的记录")
    with engine.connect() as conn:
        anchor, report.anchor_from = _anchor(conn)
        walk = _Walk(report, anchor)
        rows = []
        for r in _rows(conn, last_id):
            walk.row(r)
            rows.append(_plain(r))
    if not report.ok:
        raise ArchiveRefused(f"审计日志在记录 #{report.broken_id}（时间 {_ts(report.broken_at)}）处断裂：{report.reason}"
                             "断裂的记录不归档；请先用 python -m data audit verify 核验并查明原因。未归档，数据库未作改动。")
    if len(rows) != count:
        raise ArchiveRefused("读取待归档记录时条数发生变化，未归档，数据库未作改动。请重新运行。")
    header = {"type": "header", "format": FORMAT, "version": 1, "created_at": canonical_at(datetime.now()),
              "cutoff": str(cutoff), "count": count, "first_id": rows[0]["id"], "last_id": rows[-1]["id"],
              "first_at": rows[0]["at"], "last_at": rows[-1]["at"], "prev_hash": anchor,
              "first_hash": rows[0]["row_hash"], "last_hash": rows[-1]["row_hash"],
              "fields": list(CHAIN_FIELDS), "hash": "sha256(json([at, username, role, action, target, detail, ok, "
                                                    "prev_hash]))"}
    digest = hashlib.sha256()
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", filename="") as gz:
        for obj in [header, *rows]:
            line = _line(obj)
            digest.update(line)
            gz.write(line)
        gz.write(_line({"type": "trailer", "count": count, "last_hash": header["last_hash"],
                        "sha256": digest.hexdigest()}))
        gz.close()
        raw.flush()
        os.fsync(raw.fileno())
    return header, digest.hexdigest()


# --- retention (the 审计日志 page) ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Retention:
    rows: int
    first_at: datetime | None
    last_at: datetime | None
    archives: int
    last_cutoff: date | None
    last_archived_at: datetime | None
    floor: date                       # today minus six months
    last_check_at: datetime | None    # the newest verification of the table
    last_check_ok: bool | None
    last_check_detail: dict | None

    @property
    def floor_met(self) -> bool:
        """The table holds every entry of the last six months: its oldest entry is at least six months old, or what
        is older than that was archived with a cutoff at or before the floor (everything since the cutoff is kept)."""
        if self.first_at is not None and self.first_at.date() <= self.floor:
            return True
        return self.last_cutoff is not None and self.last_cutoff <= self.floor


def retention(engine: Engine, today: date | None = None) -> Retention:
    t, a = AuditEntry.__table__, AuditArchive.__table__
    with engine.connect() as conn:
        rows, first_at, last_at = conn.execute(select(func.count(), func.min(t.c.at), func.max(t.c.at))).one()
        archives, last_cutoff, last_archived = conn.execute(
            select(func.count(), func.max(a.c.cutoff), func.max(a.c.archived_at))).one()
        check = conn.execute(select(t.c.at, t.c.ok, t.c.detail).where(t.c.action == "audit_verify",
                                                                      t.c.target == "审计日志")
                             .order_by(t.c.id.desc()).limit(1)).first()
    detail = None
    if check is not None and check.detail:
        try:
            detail = json.loads(check.detail)
        except ValueError:
            detail = None
    return Retention(int(rows or 0), first_at, last_at, int(archives or 0), last_cutoff, last_archived,
                     months_before(today or date.today()), check.at if check else None,
                     bool(check.ok) if check else None, detail)
