"""`python -m data import` (wired in by cli.build_parser via `register_cli`): import a ledger file from the
command line, or write its template. The import runs as a named account (its role and subdistrict apply)."""
from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import select

from data.db.engine import get_engine


def _principal(engine, username: str):
    from data.security.auth import _principal as principal_of
    from data.db.models.auth import User

    with engine.connect() as conn:
        row = conn.execute(select(User).where(User.username == username, User.active.is_(True))).first()
    if row is None:
        raise ValueError(f"没有名为“{username}”的有效账号。")
    return principal_of(row)


def _cmd_import(args) -> int:
    from data.imports import LEDGERS, ImportRefused, import_file
    from exports.templates import template_bytes
    from data.db.migrate import ensure_current

    engine = get_engine(args.database_url)
    ensure_current(engine)
    if args.ledger not in LEDGERS:
        raise ValueError(f"未知台账“{args.ledger}”，可选：" + "、".join(f"{k}（{v.title}）" for k, v in LEDGERS.items()))
    if args.template:
        Path(args.template).write_bytes(template_bytes(engine, args.ledger))
        print(f"已生成“{LEDGERS[args.ledger].title}”导入模板：{args.template}")
        return 0
    if not args.file:
        raise ValueError("请用 --file 指定要导入的文件，或用 --template 生成模板。")
    if not args.user:
        raise ValueError("请用 --user 指定以哪个账号导入。")
    who = _principal(engine, args.user)
    path = Path(args.file)

    def progress(fraction: float, text: str) -> None:
        if not args.quiet:
            print(f"\r{fraction:4.0%} {text}", end="", file=sys.stderr, flush=True)

    try:
        r = import_file(engine, who, args.ledger, path.name, path.read_bytes(), gcj02=args.gcj02, progress=progress)
    except ImportRefused as exc:
        print(file=sys.stderr)
        print(f"未导入：共 {exc.total} 个问题，数据库未作任何修改。", file=sys.stderr)
        for line in exc.messages()[:args.show]:
            print("  " + line, file=sys.stderr)
        if exc.total > args.show:
            print(f"  ……另有 {exc.total - args.show} 个问题未列出", file=sys.stderr)
        return 1
    if not args.quiet:
        print(file=sys.stderr)
    print(f"已导入{LEDGERS[r.ledger].title}（{r.file_name}）：共 {r.rows_total} 行，新增 {r.rows_added}，"
          f"更新 {r.rows_updated}，未变 {r.rows_unchanged}；导入记录编号 {r.batch_id}。")
    for note in r.notes:
        print(note)
    return 0


def register_cli(subparsers) -> None:
    """Add `import` to `python -m data` (cli.build_parser)."""
    p = subparsers.add_parser("import", help="导入台账文件（.xlsx / .csv），全部无误才写入；或生成导入模板")
    p.add_argument("--ledger", required=True, help="台账：facilities、meal_records、home_services、living_alone、"
                   "living_alone_visits、aid_households、aid_persons、aid_payments、findings、vacant_rooms、population")
    p.add_argument("--file", default=None, help="要导入的文件")
    p.add_argument("--user", default=None, help="以哪个账号导入（其角色和所属街道生效，记入审计日志）")
    p.add_argument("--gcj02", action="store_true", help="文件中的坐标为高德 GCJ-02，导入时转换为 WGS-84")
    p.add_argument("--template", default=None, metavar="PATH", help="不导入，只把该台账的导入模板写到 PATH")
    p.add_argument("--show", type=int, default=50, help="未导入时最多列出多少个问题（默认 50）")
    p.add_argument("--quiet", action="store_true", help="不显示进度")
    p.set_defaults(func=_cmd_import)
