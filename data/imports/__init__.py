"""台账导入: reading, validation and all-or-nothing writing of the district's ledgers (templates: exports.templates).

    result = import_file(engine, principal, "meal_records", "助餐记录.xlsx", content, gcj02=False, progress=cb)

The file is read and every row validated (problems naming file, sheet, Excel row and Chinese column) without any
lock. Then, in one transaction holding the ledger's import lock (data.imports.lock: a PostgreSQL advisory lock,
SQLite's BEGIN IMMEDIATE), it is compared with the database by the ledger's natural key and — only when there is
no problem at all — written in batches, registered (import_batches + the original bytes in import_files), audited
and the data version bumped. A second import of the same ledger waits for the first and compares with what it
wrote, so the same file imported twice at once adds its rows once (the natural keys are also unique keys in the
database, migration 0007). If the data version moved between validation and the lock, the file is validated again
under the lock. Any problem raises ImportRefused carrying all of them, the database is left as it was, and the
refusal is audited.

Re-importing a file changes no ledger row: every row is counted as unchanged. The attempt is still registered
(an import_batches row with rows_added = rows_updated = 0, and an audit entry) so the history shows who sent what;
the data version is bumped only when some row was added or updated.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from typing import Callable

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from data.security.access import Principal, require_write
from data.security.audit import record, record_now
from data.imports.ledgers import LEDGERS, Ledger
from data.imports.lock import IMPORT_BUSY_MESSAGE, ImportBusy, is_database_busy, locked_transaction
from data.imports.reading import MAX_BYTES, FileRefused, read_upload, safe_file_name
from data.imports.templates import ledger as _ledger
from data.imports.validation import Context, check_headers, template_example_rows, validate
from data.imports.writing import (
    Diff,
    WriteConflict,
    compare,
    drop_stage,
    import_history,
    register_batch,
    sha256,
    stage_new_rows,
    stored_file,
    write,
)
from data.db.models import Meta
from data.queries.common import DATA_VERSION_KEY, bump_data_version
from data.db import rollups

__all__ = ["IMPORT_BUSY_MESSAGE", "LEDGERS", "MAX_BYTES", "MAX_SHOWN", "ImportRefused", "ImportResult", "import_file",
           "import_history", "stored_file", "PROBLEM_HEADERS"]

MAX_SHOWN = 500            # problems shown on the page (all are counted, and all are kept for download)
MAX_KEPT = 100_000         # problems kept in the exception (an Excel sheet's worth)
AUDIT_WAIT_SECONDS = 120  # a refusal's audit entry waits this long for another import's write lock
PROBLEM_HEADERS = {"file": "文件", "sheet": "工作表", "row": "行", "column": "列", "problem": "问题"}

Progress = Callable[[float, str], None]


@dataclass
class ImportResult:
    ledger: str
    file_name: str
    sha256: str
    batch_id: int
    rows_total: int
    rows_added: int
    rows_updated: int
    rows_unchanged: int
    sheet: str = ""
    encoding: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


class ImportRefused(ValueError):
    """The file was not imported; `problems` is a frame of file / sheet / row / column / problem (Chinese)."""

    def __init__(self, problems: pd.DataFrame, total: int | None = None, file_name: str = "", ledger: str = ""):
        self.problems = problems.head(MAX_KEPT).reset_index(drop=True)
        self.total = int(total if total is not None else len(problems))
        self.file_name = file_name
        self.ledger = ledger
        first = "；".join(self.messages()[:3])
        super().__init__(f"文件“{file_name}”未导入：共 {self.total} 个问题。{first}")

    def messages(self) -> list[str]:
        """Each problem as one Chinese sentence naming file, sheet, row and column."""
        out = []
        for r in self.problems.itertuples(index=False):
            where = [f"“{r.file}”"]
            if r.sheet:
                where.append(f"工作表“{r.sheet}”")
            if pd.notna(r.row):
                where.append(f"第 {int(r.row)} 行")
            if isinstance(r.column, str) and r.column:
                where.append(f"“{r.column}”列")
            out.append(" ".join(where) + f"：{r.problem}")
        return out

    def summary(self) -> pd.DataFrame:
        """How many problems per column (Chinese headers), most first."""
        col = self.problems["column"].fillna("（整个文件）")
        s = col.value_counts().rename_axis("列").reset_index(name="问题数")
        return s

    def table(self, limit: int | None = MAX_SHOWN) -> pd.DataFrame:
        """The problems with Chinese headers (the first `limit`)."""
        df = self.problems if limit is None else self.problems.head(limit)
        return df.rename(columns=PROBLEM_HEADERS)


def _file_problem(file_name: str, message: str, sheet: str = "") -> pd.DataFrame:
    return pd.DataFrame({"file": [file_name], "sheet": [sheet], "row": pd.array([None], dtype="Int64"),
                         "column": [None], "problem": [message]})


def import_file(engine: Engine, principal: Principal, ledger: str, file_name: str, content: bytes, *,
                gcj02: bool = False, progress: Progress | None = None, today: date | None = None) -> ImportResult:
    """Validate and import one ledger file, all or nothing. Raises AccessDenied (role may not write) or
    ImportRefused (every problem; nothing written, refusal audited)."""
    require_write(principal)
    lg = _ledger(ledger)
    file_name = safe_file_name(file_name)   # bounded, no control character (it is quoted and audited)
    started = time.perf_counter()
    report = progress or (lambda fraction, text: None)
    digest = sha256(content)
    today = today or date.today()
    try:
        with engine.connect() as conn:
            # 1. read, validate, compare and (SQLite) stage the new rows without any lock: other users' pages, writes
            #    and imports go on meanwhile
            seen_version = _data_version(conn)
            ctx, clean, sheet, unknown = _validated(conn, lg, principal, file_name, content, gcj02, today, report)
            report(0.35, "正在与数据库比对…")
            diff = _compared(ctx, clean, file_name, sheet)
            staged = stage_new_rows(conn, lg, diff, progress)

            # 2. write holding the ledger's import lock (a second import of it waits for this one). If the database
            #    changed since step 1, validate and compare again, under the lock
            def waiting(seconds: float) -> None:
                report(0.70, f"另一批“{lg.title}”正在导入，等待其完成后再写入…（已等待 {seconds:.0f} 秒）")

            try:
                with locked_transaction(engine, lg.key, on_wait=waiting, conn=conn):
                    if _data_version(conn) != seen_version:
                        drop_stage(conn, staged)
                        staged = None
                        ctx, clean, sheet, unknown = _validated(conn, lg, principal, file_name, content, gcj02, today)
                        diff = _compared(ctx, clean, file_name, sheet)
                    report(0.72, "正在写入…")
                    sample = write(ctx, diff, progress, staged=staged, span=(0.72, 0.97))
                    counts = {"rows_total": int(len(clean)), "rows_added": int(diff.new.sum()),
                              "rows_updated": int(diff.changed.sum()), "rows_unchanged": int(diff.unchanged.sum())}
                    batch_id = register_batch(conn, principal, ledger, file_name, content, digest, counts)
                    record(conn, principal, "import", f"{lg.key}:{file_name}",
                           {"ledger": lg.key, "title": lg.title, "file": file_name, "sha256": digest,
                            "batch_id": batch_id, "gcj02": gcj02, **counts, **sample})
                    if counts["rows_added"] or counts["rows_updated"]:
                        bump_data_version(conn)
            finally:
                drop_stage(conn, staged)
    except (WriteConflict, ImportBusy) as exc:
        refused = ImportRefused(_file_problem(file_name, str(exc), sheet.sheet_name), file_name=file_name,
                                ledger=ledger)
        _audit_refusal(engine, principal, lg, file_name, digest, len(content), refused)
        raise refused from exc
    except IntegrityError:
        # a unique key the comparison did not foresee (another writer got in): nothing was written. The driver's
        # message quotes the rows' values — personal data — so it is not chained or shown.
        refused = ImportRefused(_file_problem(
            file_name, "导入时与同时写入数据库的记录冲突（记录重复），未导入任何数据，请重新导入。", sheet.sheet_name),
            file_name=file_name, ledger=ledger)
        _audit_refusal(engine, principal, lg, file_name, digest, len(content), refused)
        raise refused from None
    except ImportRefused as exc:
        _audit_refusal(engine, principal, lg, file_name, digest, len(content), exc)
        raise
    if lg.key == "aid_payments" and (counts["rows_added"] or counts["rows_updated"]):
        report(0.98, "正在更新救助户数、人数汇总…")
        rollups.refresh_quietly(engine)  # the standard periods' distinct counts (data/db/rollups.py)
    report(1.0, "导入完成")
    notes = [f"以下列不属于“{lg.title}”台账，已忽略：{'、'.join(unknown)}"] if unknown else []
    if gcj02 and lg.has_coordinates:
        notes.append("坐标已按高德 GCJ-02 转换为 WGS-84 后保存。")
    return ImportResult(lg.key, file_name, digest, batch_id, **counts, sheet=sheet.sheet_name,
                        encoding=sheet.encoding, seconds=time.perf_counter() - started, notes=notes)


def _validated(conn, lg: Ledger, principal: Principal, file_name: str, content: bytes, gcj02: bool, today: date,
               report: Progress | None = None):
    """Read and validate the file (reads only): (context, clean frame, sheet, unknown headers); ImportRefused with
    every problem. The sheet's raw text cells are let go once validated (a large file's biggest frame)."""
    report = report or (lambda fraction, text: None)
    report(0.02, "正在读取文件…")
    try:
        sheet = read_upload(file_name, content, lg.sheet)
    except FileRefused as exc:
        raise ImportRefused(_file_problem(file_name, str(exc)), file_name=file_name, ledger=lg.key) from exc
    report(0.15, f"正在校验 {len(sheet.frame):,} 行…")
    ctx = Context(conn=conn, ledger=lg, principal=principal, gcj02=gcj02, today=today, cells=sheet.cells)
    clean = None
    unknown = check_headers(lg, sheet.frame, sheet.header_row, ctx.problems)
    if not len(ctx.problems) and sheet.frame.empty:
        ctx.problems.add_one(None, "文件中没有数据行（表头下方是空的）", None)
    if not len(ctx.problems):
        frame = sheet.frame.loc[:, ~sheet.frame.columns.duplicated()]
        frame = _drop_template_example(lg, frame)
        if frame.empty:
            ctx.problems.add_one(None, "文件中只有模板的示例行，没有数据行", None)
        else:
            sheet.frame = None   # the raw text cells: no longer needed once the clean frame exists
            clean = validate(ctx, frame)
        del frame
    if len(ctx.problems):
        probs = ctx.problems.frame(file_name, sheet.sheet_name, lg.headers)
        raise ImportRefused(probs, file_name=file_name, ledger=lg.key)
    sheet.frame = None
    return ctx, clean, sheet, unknown


def _compared(ctx: Context, clean: pd.DataFrame, file_name: str, sheet) -> Diff:
    """compare() with the database; its problems (another street's record, a converted room …) refuse the file."""
    diff = compare(ctx, clean)
    if len(ctx.problems):
        probs = ctx.problems.frame(file_name, sheet.sheet_name, ctx.ledger.headers)
        raise ImportRefused(probs, file_name=file_name, ledger=ctx.ledger.key)
    return diff


def _data_version(conn) -> str | None:
    return conn.execute(select(Meta.value).where(Meta.key == DATA_VERSION_KEY)).scalar()


def _audit_refusal(engine: Engine, principal: Principal, lg: Ledger, file_name: str, digest: str, size: int,
                   exc: ImportRefused) -> None:
    """The refusal's audit entry, in its own transaction; it waits its turn while another import writes."""
    detail = {"ledger": lg.key, "file": file_name, "sha256": digest, "size_bytes": size, "problems": exc.total,
              "first": exc.messages()[:5]}
    deadline = time.monotonic() + AUDIT_WAIT_SECONDS
    while True:
        try:
            record_now(engine, principal, "import_refused", f"{lg.key}:{file_name}", detail, ok=False)
            return
        except OperationalError as err:
            if not is_database_busy(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _drop_template_example(lg: Ledger, frame: pd.DataFrame) -> pd.DataFrame:
    """The template's example row, left in by the user, is not data — recognised by its content, whatever the
    headers (data.imports.validation.template_example_rows)."""
    return frame[~template_example_rows(lg, frame)]

