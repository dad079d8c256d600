"""`python -m data audit …` (wired in by cli.build_parser via `register_cli`): prove the audit log's hash chain and
move rows older than six months to hashed archive files (data.ops.audit_archive).

    python -m data audit verify                       # the table; exit 1 and the first broken row when broken
    python -m data audit verify --archive FILE        # an archive file (and its registration in the database)
    python -m data audit archive --before 2026-06-01 --out /srv/审计归档/2026-06-01.jsonl.gz
"""
from __future__ import annotations

import sys
from datetime import date

from data.db.engine import get_engine


def _engine(args):
    from data.db.migrate import ensure_current

    engine = get_engine(args.database_url)
    ensure_current(engine)
    return engine


def _cmd_verify(args) -> int:
    from data.ops.audit_archive import record_verification, verify_archive, verify_chain

    engine = _engine(args)
    if args.archive:
        report = verify_archive(args.archive, engine)
        target = f"归档文件 {args.archive}"
    else:
        report = verify_chain(engine)
        target = "审计日志"
    print("\n".join(report.lines()), file=sys.stdout if report.ok else sys.stderr)
    record_verification(engine, report, "system", target)
    return 0 if report.ok else 1


def _cmd_archive(args) -> int:
    from data.ops.audit_archive import archive

    try:
        cutoff = date.fromisoformat(args.before)
    except ValueError:
        raise ValueError(f"--before 应为日期，例如 2026-06-01，收到：{args.before}") from None
    engine = _engine(args)
    done = archive(engine, cutoff, args.out, who="system")
    if not done.rows:
        print(f"没有 {cutoff} 之前、可以归档的审计记录，无需归档（未写入文件）。")
    else:
        print(f"已归档 {done.rows:,} 条审计记录（{done.first_at:%Y-%m-%d %H:%M:%S} 至 {done.last_at:%Y-%m-%d %H:%M:%S}）"
              f" → {done.path}")
        print(f"  内容 SHA-256：{done.sha256}")
        print(f"  已从数据库中移除这些记录；核验归档：python -m data audit verify --archive {done.path}")
    if done.left_behind:
        print(f"  另有 {done.left_behind} 条早于 {cutoff} 的记录排在较新的记录之后（例如恢复备份时补回的记录），"
              "为保持哈希链连续留在数据库中。")
    return 0


def register_cli(subparsers) -> None:
    """Add `audit verify` and `audit archive` to `python -m data` (cli.build_parser)."""
    p = subparsers.add_parser("audit", help="审计日志：核验哈希链（verify）、归档 6 个月以前的记录（archive）")
    sub = p.add_subparsers(dest="audit_command", required=True)
    v = sub.add_parser("verify", help="核验审计日志的哈希链；发现修改、删除或插入的记录时退出码为 1 并指出第一处")
    v.add_argument("--archive", default=None, metavar="FILE", help="核验一个归档文件（而不是数据库中的审计日志）")
    v.set_defaults(func=_cmd_verify)
    a = sub.add_parser("archive", help="把某日期之前的审计记录移到压缩归档文件（该日期须早于今天往前 6 个月）")
    a.add_argument("--before", required=True, metavar="DATE", help="截止日期（不含），例如 2026-06-01")
    a.add_argument("--out", required=True, metavar="FILE", help="归档文件路径（gzip 压缩的 JSON Lines，不覆盖已有文件）")
    a.set_defaults(func=_cmd_archive)
