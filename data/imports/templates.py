"""What an import template says about a ledger: each column's note, the example row, the drop-down lists.

The workbook itself is drawn by exports.templates (the one safe Excel writer); this module holds the parts that
belong to the ledger's definition and are also read on import: the example row (row 2 of a template, recognised
and skipped by data.imports.validation.template_example_rows) and the lists a column's value must come from.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from data.db.models import Community, Facility, Subdistrict
from data.imports.ledgers import EARLIEST_BIRTH, EARLIEST_EVENT, LEDGERS, Col, Ledger
from data.imports.reading import _cell_text
from data.security.access import Principal

KIND_NOTES = {
    "date": "日期，如 2024-06-01",
    "int": "整数",
    "float": "数字",
    "money": "金额（元），最多两位小数",
    "idcard": "18 位身份证号（文本格式）",
    "phone": "手机号或固定电话",
    "bool": "是 / 否",
}
TEXT_KINDS = ("text", "idcard", "phone", "street", "community", "facility", "choice")  # kept as text cells


def ledger(key: str) -> Ledger:
    """The ledger named `key` (ValueError in Chinese for an unknown one)."""
    if key not in LEDGERS:
        raise ValueError(f"未知台账：{key}")
    return LEDGERS[key]


def column_note(c: Col) -> str:
    """The column's help text (its own note, else what its kind of value looks like)."""
    return c.note or KIND_NOTES.get(c.kind, "")


def earliest_date(c: Col) -> date:
    """The earliest date a date column accepts."""
    return EARLIEST_BIRTH if c.field == "birth_date" else EARLIEST_EVENT


def example_value(c: Col):
    """The column's example value as a template cell holds it (a date column's example as a datetime)."""
    v = c.example
    if c.kind == "date" and isinstance(v, str) and v:
        return datetime.fromisoformat(v)
    return v


def example_texts(lg: Ledger) -> dict[str, str]:
    """The example row as the reader will see it (for recognising it on import)."""
    return {c.header: _cell_text(example_value(c)) for c in lg.columns}


def choice_lists(engine: Engine, principal: Principal | None) -> dict[str, list[str]]:
    """The names a template offers in its drop-down lists (a 街道 account: its own subdistrict's only)."""
    street = principal.subdistrict_code if principal is not None and principal.role == "street" else None
    with engine.connect() as conn:
        subs = conn.execute(select(Subdistrict.code, Subdistrict.name).order_by(Subdistrict.code)).all()
        coms = conn.execute(select(Community.name, Community.subdistrict_code).order_by(Community.code)).all()
        facs = conn.execute(select(Facility.name, Facility.kind, Facility.subdistrict_code)
                            .order_by(Facility.code)).all()
    keep = (lambda s: True) if street is None else (lambda s: s == street)
    return {
        "street": [n for c, n in subs if keep(c)],
        "community": [n for n, s in coms if keep(s)],
        "facility": [n for n, _, s in facs if keep(s)],
        "meal_point": [n for n, k, s in facs if k == "meal_point" and keep(s)],
    }


def column_choices(lg: Ledger, c: Col, lists: dict[str, list[str]]) -> list[str] | None:
    """The values a column's cells are chosen from (None: typed freely)."""
    if c.kind == "choice":
        return list(c.choices.values())
    if c.kind == "bool":
        return ["是", "否"]
    if c.kind in ("street", "community"):
        return lists[c.kind]
    if c.kind == "facility":
        return lists["meal_point"] if lg.key == "meal_records" else lists["facility"]
    return None
