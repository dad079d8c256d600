"""`python -m data`: create, upgrade and inspect the database named by DATABASE_URL (default: the SQLite file)."""
from __future__ import annotations

import argparse
import sys
import time

from data.db.engine import (DatabaseError, check_connection, create_sqlite_file, database_url, describe_url,
                         get_engine, sqlite_path)


def _cmd_init(args) -> int:
    from data.db.migrate import upgrade
    from data.queries.meta import record_date_range

    if create_sqlite_file(database_url(args.database_url)):  # only here is a database file ever made (0600)
        print(f"已创建数据库文件：{sqlite_path(database_url(args.database_url))}")
    engine = get_engine(args.database_url)
    check_connection(engine)
    upgrade(engine)
    print(f"数据库结构已是最新版本：{describe_url(database_url(args.database_url))}")
    if args.demo:
        if record_date_range(engine) is not None:
            print("数据库中已有台账数据，未重复加载演示数据。")
            from data.queries.meta import meta_values

            if "demo_scale" in meta_values(engine):
                _demo_accounts(engine)
            return 0
        from data.demo import build_demo

        t0 = time.perf_counter()
        counts = build_demo(engine, scale=args.scale)
        total = sum(counts.values())
        print(f"已加载演示数据（×{args.scale}）：{total:,} 条记录，用时 {time.perf_counter() - t0:.1f} 秒。")
        _demo_accounts(engine)
    return 0


def _demo_accounts(engine) -> None:
    from data.security.auth import DEMO_ACCOUNTS, create_demo_accounts

    made = create_demo_accounts(engine)
    if made:
        print("已创建演示账号（仅供演示，正式部署前请停用或修改密码）：")
        for username, name, _role, _code, password in DEMO_ACCOUNTS:
            if username in made:
                print(f"  {name}：用户名 {username}，密码 {password}")


def _cmd_create_admin(args) -> int:
    import getpass

    from data.security.auth import create_user
    from data.db.migrate import ensure_current

    engine = get_engine(args.database_url)
    ensure_current(engine)
    password = args.password or getpass.getpass("新管理员密码：")
    if not args.password and getpass.getpass("再次输入密码：") != password:
        raise ValueError("两次输入的密码不一致。")
    create_user(engine, args.username, password, "admin", display_name=args.display_name or args.username,
                by="system")
    print(f"已创建管理员账号：{args.username}。请用它登录后在“账号管理”页创建其他账号。")
    return 0


def _cmd_upgrade(args) -> int:
    from data.db.migrate import current_revision, head_revision, upgrade

    engine = get_engine(args.database_url)
    check_connection(engine)
    before = current_revision(engine)
    upgrade(engine)
    print(f"数据库结构已升级：{before or '空库'} → {head_revision()}")
    from data.db import rollups

    if not rollups.period_counts_current(engine):  # e.g. first upgrade to 0012, or payments changed by hand
        done = rollups.refresh_period_counts(engine)
        if done:
            print(f"已重算救助发放各标准统计期的去重户数、人数：{done['rows']:,} 行，用时 {done['seconds']:.1f} 秒。")
    return 0


def _cmd_status(args) -> int:
    from data.db.migrate import current_revision, head_revision
    from data.queries.meta import meta_values, record_date_range, table_counts

    path = sqlite_path(database_url(args.database_url))
    if path is not None and not path.exists():  # said, not created: only `init` creates the file
        print(f"数据库：{describe_url(database_url(args.database_url))}（sqlite）")
        print(f"结构版本：无（数据库文件 {path} 不存在，未初始化；请运行 python -m data init）")
        return 0
    engine = get_engine(args.database_url)
    check_connection(engine)
    current, head = current_revision(engine), head_revision()
    print(f"数据库：{describe_url(database_url(args.database_url))}（{engine.dialect.name}）")
    state = "最新" if current == head else ("未初始化" if current is None else "需要升级（python -m data upgrade）")
    print(f"结构版本：{current or '无'}（最新 {head}，{state}）")
    if current is None:
        return 0
    span = record_date_range(engine)
    print("台账日期范围：" + (f"{span[0]} 至 {span[1]}" if span else "暂无台账记录"))
    meta = meta_values(engine)
    if "demo_scale" in meta:
        print(f"演示数据：×{meta['demo_scale']}（种子 {meta.get('demo_seed', '-')}）")
    print(f"数据版本：{meta.get('data_version', '0')}")
    counts = table_counts(engine)
    width = max(len(t) for t in counts["table"])
    for t, n in zip(counts["table"], counts["rows"]):
        print(f"  {t:<{width}}  {n:>10,}")
    return 0


def _reader(args):
    """The command line reads as the system account (业务科室, district-wide), like a scheduled job of the bureau."""
    from data.db.migrate import ensure_current
    from data.security.access import SYSTEM, Reader

    engine = get_engine(args.database_url)
    ensure_current(engine)
    return Reader(engine, SYSTEM)


# --- documents: the weekly review, the work-report draft, the roundtable deck (for a timer or cron) -------------

def _formats(value: str, allowed: tuple[str, ...]) -> list[str]:
    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    wrong = [f for f in formats if f not in allowed]
    if not formats or wrong:
        raise ValueError(f"--format 只能是 {'、'.join(allowed)}（可用逗号同时指定多个），收到：{value}")
    return list(dict.fromkeys(formats))


def _last_data_day(reader):
    from datetime import date

    from data.queries.meta import record_date_range

    span = reader.q(record_date_range)
    return span[1] if span else date.today()


def _targets(out: str, stem: str, formats: list[str]) -> dict[str, "Path"]:
    """Where each format goes: --out is a folder (created; the file is named after the document), or — one format
    only — a file path ending in that format's suffix."""
    from pathlib import Path

    path = Path(out)
    if path.suffix.lower() in {f".{f}" for f in formats} and len(formats) == 1:
        path.parent.mkdir(parents=True, exist_ok=True)
        return {formats[0]: path}
    path.mkdir(parents=True, exist_ok=True)
    return {f: path / f"{stem}.{f}" for f in formats}


def _write(what: str, label: str, targets: dict, build_docx) -> int:
    from exports.pdf import PdfError, to_pdf

    data = build_docx()
    for fmt, path in targets.items():
        try:
            body = data if fmt in ("docx", "pptx") else to_pdf(data, suffix=".pptx" if what == "圆桌会演示文稿" else ".docx")
        except PdfError as exc:
            if what == "圆桌会演示文稿" and "未能生成" in str(exc):
                exc = PdfError("演示文稿转 PDF 需要 LibreOffice Impress（apt-get install libreoffice-impress-nogui）；"
                               "PowerPoint 文件（--format pptx）不受影响。")
            print(f"错误：{exc}", file=sys.stderr)
            return 3
        tmp = path.with_name(path.name + ".part")  # a shared folder never shows a half-written file
        tmp.write_bytes(body)
        tmp.replace(path)
        print(f"已生成{what}：{label} → {path}")
    return 0


def _cmd_weekly_report(args) -> int:
    from data.domain.period import parse
    from data.queries.weekly import default_week
    from exports.weekly_docx import weekly_review_docx
    from views import weekly

    formats = _formats(args.format, ("docx", "pdf"))
    reader = _reader(args)
    week = parse(args.week, "week") if args.week else default_week(_last_data_day(reader))
    page = weekly.build(reader, week)
    return _write("周度研判", week.label, _targets(args.out, f"周度研判_{page.scope}_{week.key}", formats),
                  lambda: weekly_review_docx(page))


def _cmd_report_draft(args) -> int:
    from data.domain.period import latest_complete, parse
    from exports.report_docx import report_docx
    from views import report

    formats = _formats(args.format, ("docx", "pdf"))
    reader = _reader(args)
    last = _last_data_day(reader)
    chosen = parse(args.period) if args.period else latest_complete("half", last)
    page = report.build(reader, chosen, last, None)
    if page.note:
        print(page.note)
    return _write("工作总结数据草稿", page.period.label, _targets(args.out, f"工作总结数据_{page.slug}", formats),
                  lambda: report_docx(page))


def _cmd_roundtable_deck(args) -> int:
    from data.domain.period import latest_complete, parse
    from exports.roundtable_pptx import roundtable_deck
    from views import roundtable

    formats = _formats(args.format, ("pptx", "pdf"))
    reader = _reader(args)
    quarter = parse(args.quarter, "quarter") if args.quarter else latest_complete("quarter", _last_data_day(reader))
    page = roundtable.build(reader, quarter)
    return _write("圆桌会演示文稿", quarter.label, _targets(args.out, f"圆桌会_{quarter.key}", formats),
                  lambda: roundtable_deck(page))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m data", description="民政一张图 数据库管理（遵循环境变量 DATABASE_URL）")
    parser.add_argument("--database-url", default=None, help="数据库地址（默认取 DATABASE_URL，未设置时使用内置 SQLite 文件）")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("init", help="创建数据库结构（最新迁移版本），可选加载演示数据")
    p.add_argument("--demo", action="store_true", help="加载演示城区数据（数据库为空时）")
    p.add_argument("--scale", type=int, default=1, help="演示数据倍数：1 区级，10 市级，100 省级")
    p.set_defaults(func=_cmd_init)
    p = sub.add_parser("upgrade", help="把已有数据库升级到最新结构，不丢数据（并重算已过时的救助户数、人数汇总）")
    p.set_defaults(func=_cmd_upgrade)
    p = sub.add_parser("status", help="显示数据库内容和结构版本")
    p.set_defaults(func=_cmd_status)
    out_help = "输出文件夹（默认当前文件夹，文件按文档命名）；只生成一种格式时也可给出完整文件路径"
    p = sub.add_parser("weekly-report", help="生成周度研判（Word/PDF），供定时任务每周一投送")
    p.add_argument("--week", default=None, help="ISO 周，例如 2024-W52（默认：最近一个已结束且有台账记录的周）")
    p.add_argument("--format", default="docx", help="docx、pdf，或 docx,pdf 同时生成（默认 docx）")
    p.add_argument("--out", default=".", help=out_help)
    p.set_defaults(func=_cmd_weekly_report)
    p = sub.add_parser("report-draft", help="生成工作总结数据部分草稿（Word/PDF）")
    p.add_argument("--period", default=None,
                   help="统计期，例如 2024-H1、2024、2024-Q2（默认：最近一个已结束且有台账记录的半年）")
    p.add_argument("--format", default="docx", help="docx、pdf，或 docx,pdf 同时生成（默认 docx）")
    p.add_argument("--out", default=".", help=out_help)
    p.set_defaults(func=_cmd_report_draft)
    p = sub.add_parser("roundtable-deck", help="生成圆桌会演示文稿（.pptx），冻结季度使用冻结数")
    p.add_argument("--quarter", default=None, help="季度，例如 2024-Q2（默认：最近一个已结束且有台账记录的季度）")
    p.add_argument("--format", default="pptx", help="pptx 或 pdf（PDF 需要 LibreOffice Impress；默认 pptx）")
    p.add_argument("--out", default=".", help=out_help)
    p.set_defaults(func=_cmd_roundtable_deck)
    p = sub.add_parser("create-admin", help="创建管理员账号（首次部署时使用）")
    p.add_argument("--username", required=True, help="管理员用户名")
    p.add_argument("--display-name", default=None, help="显示名称")
    p.add_argument("--password", default=None, help="密码（不填则交互输入，推荐）")
    p.set_defaults(func=_cmd_create_admin)
    from data.ops.backup import register_cli as register_backup

    register_backup(sub)  # backup --out PATH, restore --from PATH
    from cli.imports import register_cli as register_import

    register_import(sub)  # import --ledger L --file F --user U
    from cli.audit import register_cli as register_audit

    register_audit(sub)  # audit verify [--archive FILE], audit archive --before DATE --out FILE
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "scale", 1) < 1:
        print("错误：--scale 必须是正整数。", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except (DatabaseError, ValueError) as exc:  # data.security.auth.AuthError is a ValueError
        print(f"错误：{exc}", file=sys.stderr)
        return 2
