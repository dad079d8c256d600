"""数据导入: import a ledger file (all or nothing), the import history, and an original file on request (audited).

The ledgers, their checks and the writing are data.imports; a ledger's template is drawn by exports.templates
(offered on the page by components.ledger_import). Nothing here is cached: the history changes with every import.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd
from sqlalchemy.exc import OperationalError

from data.imports import (
    IMPORT_BUSY_MESSAGE,
    LEDGERS,
    MAX_BYTES,
    MAX_SHOWN,
    ImportRefused,
    ImportResult,
    import_file,
    import_history,
    stored_file,
)
from data.imports.lock import is_database_busy
from data.security.access import AccessDenied, Reader
from data.security.audit import record_now

__all__ = ["IMPORT_BUSY_MESSAGE", "LEDGERS", "MAX_SHOWN", "AccessDenied", "DataImportPage", "ImportRefused",
           "ImportResult", "OriginalRefused", "Outcome", "build", "ledger_note", "original_bytes", "prepare_original",
           "run_import"]

HISTORY_HEADERS = {"id": "编号", "ledger": "台账", "file_name": "文件名", "imported_by": "导入人", "imported_at": "导入时间",
                   "rows_total": "总行数", "rows_added": "新增", "rows_updated": "更新", "rows_unchanged": "未变",
                   "size_bytes": "大小(KB)", "sha256": "SHA-256（前12位）"}
NO_ORIGINAL = "该导入记录不存在，或当前账号无权下载其原始文件。"


@dataclass(frozen=True)
class Outcome:
    """What became of an import: "ok" (`result`), "refused" (`refused`: every problem), "busy" or "denied"
    (`message`)."""
    kind: str
    result: ImportResult | None = None
    refused: ImportRefused | None = None
    message: str = ""

    @property
    def title(self) -> str:
        """The imported ledger's title (an accepted import)."""
        return ledger_title(self.result.ledger) if self.result is not None else ""


@dataclass(frozen=True)
class DataImportPage:
    history: pd.DataFrame      # the import register as shown (Chinese headers), newest first
    originals: dict[int, str]  # import id → its label in the picker of original files


class OriginalRefused(Exception):
    """No original file for this request; `busy`: the database is held by an import (try again)."""

    def __init__(self, message: str, busy: bool = False):
        super().__init__(message)
        self.busy = busy


def ledger_title(key: str) -> str:
    return LEDGERS[key].title if key in LEDGERS else key


def ledger_note(key: str) -> str:
    """How an import of the ledger works, in one paragraph (under the ledger picker)."""
    lg = LEDGERS[key]
    return (f"{lg.description} 以“{'、'.join(lg.key_headers)}”识别记录：已存在的记录被更新，完全相同的记录不变，其余新增。"
            f"全部无误才写入，有任何问题则不写入任何数据。支持 .xlsx 和 .csv（UTF-8 / GBK / GB18030），"
            f"单个文件不超过 {MAX_BYTES // (1024 * 1024)} MB。")


def run_import(reader: Reader, ledger: str, file_name: str, content: bytes, *, gcj02: bool = False,
               progress: Callable[[float, str], None] | None = None) -> Outcome:
    """Validate and import one file as the reader's principal (data.imports.import_file): never raises for a
    refused file, a role that may not import, or a database held by another import — the Outcome says which."""
    try:
        return Outcome("ok", result=import_file(reader.engine, reader.principal, ledger, file_name, content,
                                                gcj02=gcj02, progress=progress))
    except ImportRefused as exc:
        return Outcome("refused", refused=exc)
    except AccessDenied as exc:
        return Outcome("denied", message=str(exc))
    except OperationalError as exc:   # the database is held by another import (the import itself waits its turn)
        if not is_database_busy(exc):
            raise
        return Outcome("busy", message=IMPORT_BUSY_MESSAGE)


def build(reader: Reader) -> DataImportPage:
    """The import history the principal may see (a 街道 account: its own imports)."""
    history = import_history(reader.engine, reader.principal)
    if history.empty:
        return DataImportPage(history=history.rename(columns=HISTORY_HEADERS), originals={})
    shown = history.assign(
        ledger=history["ledger"].map(ledger_title),
        imported_at=history["imported_at"].map(lambda v: v.strftime("%Y-%m-%d %H:%M:%S")),
        size_bytes=(history["size_bytes"] / 1024).round(1),
        sha256=history["sha256"].str.slice(0, 12),
    ).rename(columns=HISTORY_HEADERS)
    originals = {int(r.id): f"{int(r.id)} · {r.file_name}（{r.imported_at:%Y-%m-%d %H:%M}）"
                 for r in history.itertuples()}
    return DataImportPage(history=shown, originals=originals)


def prepare_original(reader: Reader, batch_id: int) -> str:
    """Ask for an import's original file (it may hold names, ID numbers and phones unmasked): checks the role and
    writes the audit entry, then returns the file's name — its bytes are read only when downloaded
    (`original_bytes`). OriginalRefused when there is no such import for this account or the audit cannot be
    written now."""
    kept = stored_file(reader.engine, reader.principal, batch_id) if reader.principal.can_write else None
    if kept is None:
        raise OriginalRefused(NO_ORIGINAL)
    try:
        record_now(reader.engine, reader.principal, "export_personal", f"导入原始文件 #{batch_id} {kept[0]}")
    except OperationalError as exc:   # no audit row, no file: say why, the user tries again
        if not is_database_busy(exc):
            raise
        raise OriginalRefused(IMPORT_BUSY_MESSAGE, busy=True) from None
    return kept[0]


def original_bytes(reader: Reader, batch_id: int) -> bytes:
    """The original file of an import the reader may see (after `prepare_original`); AccessDenied otherwise."""
    kept = stored_file(reader.engine, reader.principal, batch_id)
    if kept is None:
        raise AccessDenied("无权下载该原始文件。")
    return kept[1]
