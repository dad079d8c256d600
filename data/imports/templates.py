"""Excel templates (XlsxWriter): Chinese headers, one example row, drop-down lists, and a 填写说明 sheet.

Lists longer than Excel's 255-character inline limit (communities, meal points), or holding a comma or a quote, live
on a hidden “选项” sheet as text cells; an inline list is one quoted constant. The workbook comes from
exports.xlsx.workbook (no string becomes a formula or a link), so a name read from the database and beginning
with = (or holding a quote) cannot put a formula into a template.
The example row (row 2) is recognised and skipped on import, so a filled-in template imports as it is.
"""
from __future__ import annotations

import io
from datetime import datetime

import pandas as pd
import xlsxwriter
from sqlalchemy import select
from sqlalchemy.engine import Engine

from exports.xlsx import workbook
from data.queries.access import Principal
from data.imports.ledgers import EARLIEST_BIRTH, EARLIEST_EVENT, Col, Ledger
from data.imports.reading import _cell_text
from data.db.models import Community, Facility, Subdistrict

LAST_ROW = 100_000          # validation ranges reach this far
KIND_NOTES = {
    "date": "日期，如 2024-06-01",
    "int": "整数",
    "float": "数字",
    "money": "金额（元），最多两位小数",
    "idcard": "18 位身份证号（文本格式）",
    "phone": "手机号或固定电话",
    "bool": "是 / 否",
}


def _example_value(c: Col):
    v = c.example
    if c.kind == "date" and isinstance(v, str) and v:
        return datetime.fromisoformat(v)
    return v


def example_texts(lg: Ledger) -> dict[str, str]:
    """The example row as the reader will see it (for recognising it on import)."""
    return {c.header: _cell_text(_example_value(c)) for c in lg.columns}


def _lists(engine: Engine, principal: Principal | None) -> dict[str, list[str]]:
    street = principal.subdistrict_code if principal is not None and principal.role == "street" else None
    with engine.connect() as conn:
        subs = conn.execute(select(Subdistrict.code, Subdistrict.name).order_by(Subdistrict.code)).all()
        coms = conn.execute(select(Community.name, Community.subdistrict_code).order_by(Community.code)).all()
        facs = conn.execute(select(Facility.name, Facility.kind, Facility.subdistrict_code).order_by(Facility.code)).all()
    keep = (lambda s: True) if street is None else (lambda s: s == street)
    return {
        "street": [n for c, n in subs if keep(c)],
        "community": [n for n, s in coms if keep(s)],
        "facility": [n for n, _, s in facs if keep(s)],
        "meal_point": [n for n, k, s in facs if k == "meal_point" and keep(s)],
    }


def _col_letter(i: int) -> str:
    return xlsxwriter.utility.xl_col_to_name(i)


def template_bytes(engine: Engine, lg: Ledger, principal: Principal | None = None) -> bytes:
    lists = _lists(engine, principal)
    buf = io.BytesIO()
    wb = workbook(buf, in_memory=True)
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"})
    head_req = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "font_color": "#9C0006", "border": 1,
                              "text_wrap": True, "valign": "vcenter"})
    text_fmt = wb.add_format({"num_format": "@"})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    money_fmt = wb.add_format({"num_format": "0.00"})
    ex_text = wb.add_format({"num_format": "@", "font_color": "#808080", "italic": True})
    ex_date = wb.add_format({"num_format": "yyyy-mm-dd", "font_color": "#808080", "italic": True})
    ex_plain = wb.add_format({"font_color": "#808080", "italic": True})
    ws = wb.add_worksheet(lg.sheet)
    opts = wb.add_worksheet("选项")
    notes = wb.add_worksheet("填写说明")
    opt_col = 0
    ws.freeze_panes(1, 0)
    ws.set_row(0, 30)
    for i, c in enumerate(lg.columns):
        fmt = {"date": date_fmt, "money": money_fmt}.get(c.kind, text_fmt if c.kind in ("text", "idcard", "phone",
                                                                                           "street", "community",
                                                                                           "facility", "choice")
                                                         else None)
        ws.set_column(i, i, max(12, len(c.header) * 2.2 + 2), fmt)
        ws.write_string(0, i, c.header, head_req if c.required else head)
        ws.write_comment(0, i, ("必填。" if c.required else "可空。") + (c.note or KIND_NOTES.get(c.kind, "")),
                         {"x_scale": 2, "y_scale": 1.2})
        v = _example_value(c)
        if isinstance(v, datetime):
            ws.write_datetime(1, i, v, ex_date)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            ws.write_number(1, i, v, ex_plain)
        elif v != "":
            ws.write_string(1, i, str(v), ex_text)
        rng = (1, i, LAST_ROW, i)
        values = None
        if c.kind == "choice":
            values = list(c.choices.values())
        elif c.kind == "bool":
            values = ["是", "否"]
        elif c.kind == "street":
            values = lists["street"]
        elif c.kind == "community":
            values = lists["community"]
        elif c.kind == "facility":
            values = lists["meal_point"] if lg.key == "meal_records" else lists["facility"]
        if values is not None:
            strict = c.kind in ("choice", "bool")
            inline = ",".join(values)
            # inline only as one quoted constant ("a,b,c"): a value holding a comma or a quote goes to the sheet
            if len(inline) <= 250 and not any(ch in "".join(values) for ch in ',"'):
                source = values
            else:
                letter = _col_letter(opt_col)
                opts.write_string(0, opt_col, c.header)
                for r, v2 in enumerate(values, start=1):
                    opts.write_string(r, opt_col, v2)
                source = f"='选项'!${letter}$2:${letter}${max(len(values) + 1, 2)}"
                opt_col += 1
            ws.data_validation(*rng, {
                "validate": "list", "source": source, "ignore_blank": True,
                "error_type": "stop" if strict else "warning",
                "error_title": "请从下拉列表中选择", "error_message": f"“{c.header}”请从下拉列表中选择。",
                "input_title": c.header[:32], "input_message": (c.note or "请从下拉列表中选择")[:255],
            })
        elif c.kind == "date":
            lo = EARLIEST_BIRTH if c.field == "birth_date" else EARLIEST_EVENT
            ws.data_validation(*rng, {
                "validate": "date", "criteria": ">=", "value": datetime.combine(lo, datetime.min.time()),
                "error_type": "warning", "error_title": "日期", "error_message": f"请填写 {lo:%Y-%m-%d} 之后的日期。",
                "input_title": c.header[:32], "input_message": (c.note or "日期，如 2024-06-01")[:255]})
        elif c.kind in ("int", "money", "float") and c.lo is not None:
            ws.data_validation(*rng, {
                "validate": "integer" if c.kind == "int" else "decimal", "criteria": ">=", "value": c.lo,
                "error_type": "warning", "error_title": "数值", "error_message": "请填写不小于 %g 的数。" % c.lo})
    opts.hide()
    bold = wb.add_format({"bold": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    notes.set_column(0, 0, 22)
    notes.set_column(1, 1, 10)
    notes.set_column(2, 2, 80)
    notes.write_string(0, 0, f"{lg.title}导入模板", wb.add_format({"bold": True, "font_size": 14}))
    lines = [lg.description,
             f"以“{'、'.join(lg.key_headers)}”识别记录：文件中已存在于数据库的记录将被更新，相同的记录不变，其余新增。",
             "第 2 行（灰色斜体）是示例，导入时自动忽略，也可以删除。红色表头为必填列。",
             "全部无误才会写入；有任何问题时不写入任何数据，并列出每个问题所在的行和列。",
             "也可以导入 CSV 文件（UTF-8、GBK 或 GB18030 编码均可），表头与本模板相同。"]
    for r, line in enumerate(lines, start=1):
        notes.write_string(r, 0, line)
    start = len(lines) + 2
    for j, h in enumerate(("列名", "是否必填", "说明")):
        notes.write_string(start, j, h, bold)
    for r, c in enumerate(lg.columns, start=start + 1):
        allowed = f"可选：{'、'.join(c.choices.values())}。" if c.kind == "choice" else ""
        notes.write_string(r, 0, c.header)
        notes.write_string(r, 1, "必填" if c.required else "可空")
        notes.write_string(r, 2, (c.note or KIND_NOTES.get(c.kind, "")) + ("；" if c.note and allowed else "") + allowed,
                           wrap)
    ws.activate()
    wb.close()
    return buf.getvalue()


def template_frame(lg: Ledger) -> pd.DataFrame:
    """The template's header and example row as a frame (for previews)."""
    return pd.DataFrame([{c.header: _example_value(c) for c in lg.columns}])


