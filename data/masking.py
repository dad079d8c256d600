"""脱敏: mask names, ID numbers, phone numbers and addresses of real persons before they are shown."""
from __future__ import annotations

import re

import pandas as pd

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 端木 轩辕 独孤 南宫 西门 百里 呼延 澹台".split())


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""


def mask_name(name) -> str:
    """张三华 → 张*华, 张华 → 张*, 欧阳娜娜 → 欧阳*娜, 欧阳华 → 欧阳*."""
    if _blank(name):
        return ""
    name = str(name).strip()
    surname_len = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    surname, given = name[:surname_len], name[surname_len:]
    if not given:
        return "*" * len(name)
    if len(given) == 1:
        return surname + "*"
    return surname + "*" * (len(given) - 1) + given[-1]


def mask_id_number(value) -> str:
    """360103199001011234 → 360103********1234; 15-digit IDs keep 6 + 4."""
    if _blank(value):
        return ""
    s = str(value).strip()
    if len(s) <= 10:
        return "*" * len(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def mask_phone(value) -> str:
    """13812345678 → 138****5678; other numbers keep only their last 4 digits."""
    if _blank(value):
        return ""
    s = re.sub(r"\s+", "", str(value))
    digits = re.sub(r"\D", "", s)
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + "****" + digits[-4:]
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_address(value) -> str:
    """Keep the road and community, hide house, building and room numbers: 象山路12号3栋201室 → 象山路**号*栋***室."""
    if _blank(value):
        return ""
    return re.sub(r"\d", "*", str(value))


MASKERS = {"name": mask_name, "id_number": mask_id_number, "phone": mask_phone, "address": mask_address}


def mask_frame(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Return a copy with each column masked by its kind: columns = {"head_name": "name", "phone": "phone", …}."""
    out = df.copy()
    for col, kind in columns.items():
        if col in out.columns:
            out[col] = out[col].map(MASKERS[kind])
    return out
