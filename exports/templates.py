"""Ledger import templates (.xlsx): Chinese headers, one example row, drop-down lists, and a 填写说明 sheet.

The ledger's definition (columns, notes, example row, drop-down values) comes from data.imports; this module only
draws it. Lists longer than Excel's 255-character inline limit (communities, meal points), or holding a comma or a
quote, live on a hidden “选项” sheet as text cells; an inline list is one quoted constant. The workbook comes from
exports.xlsx.workbook (no string becomes a formula or a link), so a name read from the database and beginning
with = (or holding a quote) cannot put a formula into a template.
The example row (row 2) is recognised and skipped on import, so a filled-in template imports as it is.
"""
from __future__ import annotations

import io
from datetime import datetime

import xlsxwriter
from sqlalchemy.engine import Engine

from data.imports.ledgers import Ledger
from data.imports.templates import (
    TEXT_KINDS,
    choice_lists,
    column_choices,
    column_note,
    earliest_date,
    example_value,
    ledger,
)
from data.security.access import Principal
from exports.xlsx import workbook

LAST_ROW = 100_000          # validation ranges reach this far


def template_bytes(engine: Engine, ledger_key: str, principal: Principal | None = None) -> bytes:
    """The import template of a ledger, its drop-down lists as `principal` may fill them (a 街道 account: its own
    subdistrict's names). ValueError for an unknown ledger."""
    return ledger_template(ledger(ledger_key), choice_lists(engine, principal))


def _instructions(lg: Ledger) -> list[str]:
    return [lg.description,
            f"以“{'、'.join(lg.key_headers)}”识别记录：文件中已存在于数据库的记录将被更新，相同的记录不变，其余新增。",
            "第 2 行（灰色斜体）是示例，导入时自动忽略，也可以删除。红色表头为必填列。",
            "全部无误才会写入；有任何问题时不写入任何数据，并列出每个问题所在的行和列。",
            "也可以导入 CSV 文件（UTF-8、GBK 或 GB18030 编码均可），表头与本模板相同。"]


def ledger_template(lg: Ledger, lists: dict[str, list[str]]) -> bytes:
    """The template of `lg` with the drop-down `lists` (data.imports.templates.choice_lists)."""
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
        fmt = {"date": date_fmt, "money": money_fmt}.get(c.kind, text_fmt if c.kind in TEXT_KINDS else None)
        ws.set_column(i, i, max(12, len(c.header) * 2.2 + 2), fmt)
        ws.write_string(0, i, c.header, head_req if c.required else head)
        ws.write_comment(0, i, ("必填。" if c.required else "可空。") + column_note(c), {"x_scale": 2, "y_scale": 1.2})
        v = example_value(c)
        if isinstance(v, datetime):
            ws.write_datetime(1, i, v, ex_date)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            ws.write_number(1, i, v, ex_plain)
        elif v != "":
            ws.write_string(1, i, str(v), ex_text)
        rng = (1, i, LAST_ROW, i)
        values = column_choices(lg, c, lists)
        if values is not None:
            strict = c.kind in ("choice", "bool")
            inline = ",".join(values)
            # inline only as one quoted constant ("a,b,c"): a value holding a comma or a quote goes to the sheet
            if len(inline) <= 250 and not any(ch in "".join(values) for ch in ',"'):
                source = values
            else:
                letter = xlsxwriter.utility.xl_col_to_name(opt_col)
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
            lo = earliest_date(c)
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
    lines = _instructions(lg)
    for r, line in enumerate(lines, start=1):
        notes.write_string(r, 0, line)
    start = len(lines) + 2
    for j, h in enumerate(("列名", "是否必填", "说明")):
        notes.write_string(start, j, h, bold)
    for r, c in enumerate(lg.columns, start=start + 1):
        allowed = f"可选：{'、'.join(c.choices.values())}。" if c.kind == "choice" else ""
        notes.write_string(r, 0, c.header)
        notes.write_string(r, 1, "必填" if c.required else "可空")
        notes.write_string(r, 2, column_note(c) + ("；" if c.note and allowed else "") + allowed, wrap)
    ws.activate()
    wb.close()
    return buf.getvalue()
