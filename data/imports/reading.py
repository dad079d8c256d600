"""Reading an uploaded file into a frame of text cells, with every unreadable file refused in Chinese.

Accepted: .xlsx (not encrypted, not a zip bomb) and .csv in UTF-8 (with or without BOM), GBK or GB18030 — the
encoding is detected, never asked: strict UTF-8 first, then charset-normalizer (GBK / GB2312 are read as their
superset GB18030). Every cell becomes stripped text ("" for blank); the frame's index is the row number the user
sees in Excel (header = row 1), so problems can name it.

This is the one guarded reader of the project: every uploaded spreadsheet (the ledger imports of data.imports, and
through them the site-selection room import) is read by `read_upload`, which refuses before anything is parsed a file
that is too large, a zip bomb (too many parts, too large or too compressed once unpacked, an oversized part other than
a worksheet), a sheet of more than MAX_ROWS rows or MAX_CELLS cells and more than MAX_SHARED_STRINGS distinct texts
(counted on the compressed stream, without building a cell). While reading, the declared sheet size is ignored (a forged <dimension> cannot inflate rows),
columns beyond MAX_COLUMNS are not read, blank rows are not kept, and cells right of the header are dropped.

Formula cells (including links to other workbooks) and error cells (#N/A …) of an .xlsx are not read as blank:
their place is kept in `Sheet.cells` (row, column, kind, text) and data.imports.validation refuses them by name.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

import pandas as pd

MAX_BYTES = 50 * 1024 * 1024                 # upload size limit
MAX_ZIP_ENTRIES = 2_000                      # an xlsx has a few dozen parts
MAX_UNCOMPRESSED_BYTES = 800 * 1024 * 1024   # total of all parts once unpacked
MAX_ZIP_RATIO = 200                          # uncompressed / compressed, per part above 1 MB
MAX_SHARED_STRINGS_BYTES = 200 * 1024 * 1024  # openpyxl holds the whole shared-string table in memory
MAX_OTHER_PART_BYTES = 20 * 1024 * 1024      # styles, workbook, relations … (a real one is well under 1 MB)
MAX_SHARED_STRINGS = 5_000_000              # distinct texts of the workbook (openpyxl keeps them all)
MAX_ROWS = 1_048_576                         # Excel's own limit (header included)
MAX_CELLS = 12_000_000                       # cells of the sheet read (e.g. 1,000,000 rows × 12 columns)
MAX_COLUMNS = 200                            # columns read; anything further right is not part of the ledger
HEADER_SEARCH_ROWS = 5                       # the header row may sit under a title line
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
SKIP_SHEETS = ("填写说明", "选项")             # sheets of our own template that hold no data


class FileRefused(ValueError):
    """The file cannot be read at all; the message is Chinese."""


@dataclass
class FlaggedCell:
    """A cell of an .xlsx that holds no plain value: a formula (`kind` "formula" or "external") or an error value."""
    row: int          # Excel row number
    column: str       # the header of its column (as in the frame)
    kind: str         # "formula", "external" (a formula reading another workbook) or "error"
    text: str         # the formula or error text as stored


@dataclass
class Sheet:
    file_name: str
    sheet_name: str
    frame: pd.DataFrame   # text cells, columns = headers as found, index = Excel row numbers
    header_row: int
    encoding: str | None = None
    cells: list[FlaggedCell] = field(default_factory=list)   # formula / error cells below the header (blank in frame)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def check_upload(file_name: str, content: bytes) -> str:
    """Refuse a file by size, type, encryption or zip bomb before anything parses it; returns "xlsx" or "csv"."""
    name = (file_name or "").strip().lower()
    if len(content) > MAX_BYTES:
        raise FileRefused(f"文件大小 {len(content) / (1024 * 1024):.1f} MB，超过上限 {_mb(MAX_BYTES)}。请按月份或街道拆分后分别导入。")
    if not content:
        raise FileRefused("文件是空的。")
    if content[:8] == OLE2_SIGNATURE:
        raise FileRefused("该文件设有打开密码（已加密），或是旧版 Excel 97-2003（.xls）格式，无法读取。"
                          "请取消密码、另存为 .xlsx 后再导入。")
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".xls"):
        raise FileRefused("不支持旧版 Excel 97-2003（.xls）文件，请在 Excel 中另存为 .xlsx 后再导入。")
    if not name.endswith(".xlsx"):
        raise FileRefused("只能导入 Excel（.xlsx）或 CSV（.csv）文件。")
    if content[:4] != ZIP_SIGNATURE:
        raise FileRefused("该文件不是有效的 .xlsx 文件（可能已损坏，或只是改了扩展名）。")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            entries = zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise FileRefused("该文件不是有效的 .xlsx 文件（可能已损坏，或只是改了扩展名）。") from exc
    if len(entries) > MAX_ZIP_ENTRIES:
        raise FileRefused(f"该 .xlsx 文件内部包含 {len(entries):,} 个部件（正常文件只有几十个），疑似恶意文件，已拒绝。")
    total = sum(e.file_size for e in entries)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise FileRefused(f"该 .xlsx 文件解压后达 {_mb(total)}，超过上限 {_mb(MAX_UNCOMPRESSED_BYTES)}，"
                          "疑似压缩炸弹，已拒绝。请拆分后导入。")
    for e in entries:
        if e.file_size > 1024 * 1024 and e.file_size > MAX_ZIP_RATIO * max(e.compress_size, 1):
            raise FileRefused("该 .xlsx 文件的压缩比异常（疑似压缩炸弹），已拒绝。")
        name_l = e.filename.lower()
        if name_l.startswith("xl/worksheets/") and not name_l.startswith("xl/worksheets/_rels/"):
            continue   # a sheet: bounded by the total above, and its rows and cells are counted before reading
        limit = MAX_SHARED_STRINGS_BYTES if name_l.endswith("sharedstrings.xml") else MAX_OTHER_PART_BYTES
        if e.file_size > limit:
            raise FileRefused(f"该 .xlsx 文件的内部部件“{e.filename[-60:]}”解压后达 {_mb(e.file_size)}，"
                              f"超过上限 {_mb(limit)}，疑似压缩炸弹，已拒绝。")
    names = {e.filename for e in entries}
    if "xl/workbook.xml" not in names:
        raise FileRefused("该文件不是有效的 .xlsx 文件（缺少工作簿内容）。")
    _count_sheets(content, [e for e in entries if e.filename.lower().startswith("xl/worksheets/")
                            and e.filename.lower().endswith(".xml") and "/_rels/" not in e.filename.lower()],
                  [e for e in entries if e.filename.lower().endswith("sharedstrings.xml")])
    return "xlsx"


def _count_sheets(content: bytes, sheets: list[zipfile.ZipInfo], strings: list[zipfile.ZipInfo]) -> None:
    """Rows and cells of every worksheet, and the shared strings, counted on the compressed stream before openpyxl
    opens the workbook (it parses each sheet's XML as it loads, to find the sheet's size, and holds every shared
    string in memory)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            for e in strings:
                with zf.open(e) as src:
                    (n,) = count_tags(src, "sst", ("si",))
                if n > MAX_SHARED_STRINGS:
                    raise FileRefused(f"该 .xlsx 文件含有 {n:,} 个不同的文字，超过上限 {MAX_SHARED_STRINGS:,} 个，"
                                      "疑似恶意文件或需拆分，已拒绝。")
            for e in sheets:
                with zf.open(e) as src:
                    rows, cells = count_sheet(src)
                part = e.filename.rsplit("/", 1)[-1][-40:]
                if rows > MAX_ROWS:
                    raise FileRefused(f"该 .xlsx 文件的工作表（{part}）有 {rows:,} 行，超过上限 {MAX_ROWS:,} 行，"
                                      "疑似恶意文件或需拆分，已拒绝。")
                if cells > MAX_CELLS:
                    raise FileRefused(f"该 .xlsx 文件的工作表（{part}）有 {cells:,} 个单元格，超过上限 {MAX_CELLS:,} 个，"
                                      "疑似恶意文件或需拆分，已拒绝。请删除不需要的列或拆分后分别导入。")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        if isinstance(exc, FileRefused):
            raise
        raise FileRefused("该文件不是有效的 .xlsx 文件（可能已损坏，或只是改了扩展名）。") from exc


def safe_file_name(name: str | None) -> str:
    """A file name as it may be shown, stored and audited: no control character, at most 120 characters."""
    text = re.sub(r"[\x00-\x1f\x7f]", "", str(name or "")).strip()
    return text if len(text) <= 120 else text[:80] + "…" + text[-39:]


def _cell_text(v) -> str:
    """One cell as the text the user typed (dates as YYYY-MM-DD, whole numbers without “.0”)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time(0) else v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float):
        if v != v:  # NaN
            return ""
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    return str(v).strip()


def _frame_from_rows(rows: list[tuple[int, list[str]]], file_name: str, sheet_name: str, encoding: str | None,
                     cells: list[tuple[int, int, str, str]] | None = None) -> Sheet:
    """rows: the non-blank rows as (Excel row number, cells); cells: flagged cells as (row, column index, kind, text)."""
    header_at = None
    for i, (number, row) in enumerate(rows):
        if number > HEADER_SEARCH_ROWS:
            break
        if sum(1 for v in row if v) >= 2 or (any(row) and len(rows) == 1):
            header_at = i
            break
    if header_at is None:
        raise FileRefused(f"工作表“{sheet_name}”的前 {HEADER_SEARCH_ROWS} 行中找不到表头。请使用本页下载的模板。")
    header_row, raw_header = rows[header_at]
    header = [normalise_header(v) for v in raw_header]
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    header = header[:width]
    body, numbers = [], []
    for number, row in rows[header_at + 1:]:
        row = (row + [""] * width)[:width]
        if any(row):   # blank lines keep their numbers but are no data
            body.append(row)
            numbers.append(number)
    frame = pd.DataFrame(body, columns=pd.Index(header, dtype=object), dtype=object)
    frame.index = pd.Index(numbers, dtype="int64")
    flagged = [FlaggedCell(r, header[c], kind, text) for r, c, kind, text in (cells or [])
               if r > header_row and c < width and header[c]]
    return Sheet(file_name, sheet_name, frame, header_row, encoding, flagged)


def normalise_header(v) -> str:
    text = _cell_text(v).replace("（", "(").replace("）", ")").replace("\n", "").replace(" ", "")
    return text.rstrip("*＊")


def _decode(content: bytes) -> tuple[str, str]:
    try:
        return content.decode("utf-8-sig"), ("UTF-8（带 BOM）" if content.startswith(b"\xef\xbb\xbf") else "UTF-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(content).best()
    if best is None:
        raise FileRefused("无法识别该 CSV 文件的文字编码。请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后再导入。")
    enc = best.encoding.lower().replace("-", "_")
    if enc in ("gbk", "gb2312", "cp936", "hz", "gb18030", "ms936", "euc_cn"):
        enc = "gb18030"   # the superset: every GBK file decodes the same under it
    try:
        text = content.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise FileRefused("无法识别该 CSV 文件的文字编码。请另存为“CSV UTF-8（逗号分隔）”后再导入。") from exc
    return text, {"gb18030": "GB18030/GBK"}.get(enc, enc.upper())


def read_csv(file_name: str, content: bytes) -> Sheet:
    text, encoding = _decode(content)
    first = text.split("\n", 1)[0]
    sep = "\t" if first.count("\t") > first.count(",") else ","
    lines = text.count("\n") + 1   # an upper bound of the rows (a quoted cell may span lines)
    if lines > MAX_ROWS:
        raise FileRefused(f"文件有 {lines:,} 行，超过上限 {MAX_ROWS:,} 行。请按月份或街道拆分后分别导入。")
    width = first.count(sep) + 1
    if lines * width > MAX_CELLS:
        raise FileRefused(f"文件约有 {lines:,} 行 × {width:,} 列，超过上限 {MAX_CELLS:,} 个单元格。"
                          "请删除不需要的列，或拆分后分别导入。")
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                          skip_blank_lines=False, quoting=csv.QUOTE_MINIMAL, engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        raise FileRefused(f"CSV 文件格式有误，无法按列读取：{str(exc)[:120]}") from exc
    del text
    raw = raw.fillna("").apply(lambda s: s.str.strip())
    rows = [(i, row) for i, row in enumerate(raw.values.tolist(), start=1) if any(row)]
    return _frame_from_rows(rows, file_name, "CSV", encoding)


def count_tags(src, root: str, names: tuple[str, ...]) -> list[int]:
    """How many start tags of each name an XML part holds, counted on its stream without parsing (the document's
    namespace prefix, if any, found on its root): bytes.count in 1 MB chunks, cut after the last '<' so that no tag
    is split (a tag holds no other '<')."""
    counts = [0] * len(names)
    tail = b""
    patterns = None
    while True:
        chunk = src.read(1024 * 1024)
        buf = tail + chunk
        if patterns is None:
            found = re.search(rb"<(?:([A-Za-z_][\w.-]*):)?" + root.encode() + rb"[\s>]", buf)
            if found is None and chunk and len(buf) < 64 * 1024:
                tail = buf
                continue
            prefix = (found.group(1) or b"") if found else b""
            p = prefix + b":" if prefix else b""
            patterns = [[b"<" + p + n.encode() + end for end in (b" ", b">", b"/")] for n in names]
        if not chunk:
            cut = len(buf)
        else:
            cut = buf.rfind(b"<")
            if cut <= 0:
                cut = len(buf)
        part = buf[:cut]
        for i, tags in enumerate(patterns):
            counts[i] += sum(part.count(t) for t in tags)
        tail = buf[cut:]
        if not chunk:
            return counts


def count_sheet(src) -> tuple[int, int]:
    """(rows, cells) of a worksheet part."""
    rows, cells = count_tags(src, "worksheet", ("row", "c"))
    return rows, cells


def _flag(value, data_type: str) -> tuple[str, str] | None:
    """(kind, text) for a formula or error cell, else None."""
    if data_type == "e":
        return "error", str(value)
    if data_type != "f":
        return None
    text = value if isinstance(value, str) else str(getattr(value, "text", None) or value)
    external = re.search(r"\[[^\]]*\]", text) is not None   # [1]Sheet!A1 or 'C:\…\[Book.xlsx]Sheet'!A1
    return ("external" if external else "formula"), text


def read_xlsx(file_name: str, content: bytes, preferred_sheet: str) -> Sheet:
    import openpyxl
    from openpyxl.worksheet._reader import WorkSheetParser

    try:
        wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise FileRefused("无法打开该 .xlsx 文件（可能已损坏）。请在 Excel 中打开后重新保存再导入。") from exc
    try:
        names = wb.sheetnames
        name = preferred_sheet if preferred_sheet in names else next(
            (n for n in names if n not in SKIP_SHEETS and wb[n].sheet_state == "visible"), None)
        if name is None:
            raise FileRefused("该文件中没有可导入的工作表。")
        ws = wb[name]
        rows: list[tuple[int, list[str]]] = []
        flagged: list[tuple[int, int, str, str]] = []
        try:
            # The rows as they stand in the file (openpyxl's own read-only parser, as ReadOnlyWorksheet uses it):
            # no filler rows for gaps, no padding to a declared <dimension>, formulas as formulas, not cached values.
            with wb._archive.open(ws._worksheet_path) as src:
                parser = WorkSheetParser(src, ws._shared_strings, data_only=False, epoch=wb.epoch,
                                         date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
                for number, cells in parser.parse():
                    if number > MAX_ROWS:
                        raise FileRefused(f"工作表“{name}”的行号超过上限 {MAX_ROWS:,}，疑似恶意文件，已拒绝。")
                    vals: list[str] = []
                    for c in cells:
                        col = c["column"]
                        if col > MAX_COLUMNS:
                            break
                        if col > len(vals) + 1:
                            vals.extend([""] * (col - 1 - len(vals)))
                        elif col <= len(vals):
                            continue   # a repeated cell reference: the first one counts
                        flag = _flag(c["value"], c["data_type"])
                        if flag is not None:
                            flagged.append((number, col - 1, *flag))
                            vals.append("")
                        else:
                            vals.append(_cell_text(c["value"]))
                    while vals and not vals[-1]:
                        vals.pop()
                    if vals:
                        rows.append((number, vals))
        except FileRefused:
            raise
        except Exception as exc:  # a damaged sheet part (bad XML, bad references)
            raise FileRefused("无法读取该 .xlsx 文件的工作表内容（可能已损坏）。请在 Excel 中打开后重新保存再导入。") from exc
    finally:
        wb.close()
    if not rows:
        raise FileRefused(f"工作表“{name}”是空的。")
    return _frame_from_rows(rows, file_name, name, None, flagged)


def read_upload(file_name: str, content: bytes, preferred_sheet: str) -> Sheet:
    kind = check_upload(file_name, content)
    return read_csv(file_name, content) if kind == "csv" else read_xlsx(file_name, content, preferred_sheet)
