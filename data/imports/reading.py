"""Reading an uploaded file into a frame of text cells, with every unreadable file refused in Chinese.

Accepted: .xlsx (not encrypted, not a zip bomb) and .csv in UTF-8 (with or without BOM), GBK or GB18030 — the
encoding is detected, never asked: strict UTF-8 first, then charset-normalizer (GBK / GB2312 are read as their
superset GB18030). Every cell becomes stripped text ("" for blank); the frame's index is the row number the user
sees in Excel (header = row 1), so problems can name it.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time

import pandas as pd

MAX_BYTES = 50 * 1024 * 1024                 # upload size limit
MAX_ZIP_ENTRIES = 2_000                      # an xlsx has a few dozen parts
MAX_UNCOMPRESSED_BYTES = 800 * 1024 * 1024   # total of all parts once unpacked
MAX_ZIP_RATIO = 200                          # uncompressed / compressed, per part above 1 MB
HEADER_SEARCH_ROWS = 5                       # the header row may sit under a title line
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
SKIP_SHEETS = ("填写说明", "选项")             # sheets of our own template that hold no data


class FileRefused(ValueError):
    """The file cannot be read at all; the message is Chinese."""


@dataclass
class Sheet:
    file_name: str
    sheet_name: str
    frame: pd.DataFrame   # text cells, columns = headers as found, index = Excel row numbers
    header_row: int
    encoding: str | None = None


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
    names = {e.filename for e in entries}
    if "xl/workbook.xml" not in names:
        raise FileRefused("该文件不是有效的 .xlsx 文件（缺少工作簿内容）。")
    return "xlsx"


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


def _frame_from_rows(rows: list[list[str]], file_name: str, sheet_name: str, encoding: str | None,
                     first_row: int = 1) -> Sheet:
    header_at = None
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(1 for v in row if v) >= 2 or (header_at is None and any(row) and len(rows) == 1):
            header_at = i
            break
    if header_at is None:
        raise FileRefused(f"工作表“{sheet_name}”的前 {HEADER_SEARCH_ROWS} 行中找不到表头。请使用本页下载的模板。")
    header = [normalise_header(v) for v in rows[header_at]]
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    header = header[:width]
    body = [(r + [""] * width)[:width] for r in rows[header_at + 1:]]
    frame = pd.DataFrame(body, columns=pd.Index(header, dtype=object), dtype=object)
    frame.index = pd.RangeIndex(first_row + header_at + 1, first_row + header_at + 1 + len(body))
    if len(frame):
        frame = frame[(frame != "").any(axis=1)]  # blank lines keep their numbers but are no data
    return Sheet(file_name, sheet_name, frame, first_row + header_at, encoding)


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
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                          skip_blank_lines=False, quoting=csv.QUOTE_MINIMAL, engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        raise FileRefused(f"CSV 文件格式有误，无法按列读取：{str(exc)[:120]}") from exc
    raw = raw.apply(lambda s: s.str.strip())
    rows = raw.values.tolist()
    return _frame_from_rows(rows, file_name, "CSV", encoding)


def read_xlsx(file_name: str, content: bytes, preferred_sheet: str) -> Sheet:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise FileRefused("无法打开该 .xlsx 文件（可能已损坏）。请在 Excel 中打开后重新保存再导入。") from exc
    try:
        names = wb.sheetnames
        name = preferred_sheet if preferred_sheet in names else next(
            (n for n in names if n not in SKIP_SHEETS and wb[n].sheet_state == "visible"), None)
        if name is None:
            raise FileRefused("该文件中没有可导入的工作表。")
        ws = wb[name]
        rows = [[_cell_text(v) for v in row] for row in ws.iter_rows(min_row=1, values_only=True)]
    finally:
        wb.close()
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise FileRefused(f"工作表“{name}”是空的。")
    return _frame_from_rows(rows, file_name, name, None)


def read_upload(file_name: str, content: bytes, preferred_sheet: str) -> Sheet:
    kind = check_upload(file_name, content)
    return read_csv(file_name, content) if kind == "csv" else read_xlsx(file_name, content, preferred_sheet)
