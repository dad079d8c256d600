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


# --- personal numbers inside free text and nested structures (audit details, messages) ----------------------------

_DIGIT_RUN = re.compile(r"\d+[Xx]?")
_MOBILE = re.compile(r"1[3-9]\d{9}")
# a SHA-256 value (64 hex characters standing alone) is a file reference, not a person: kept whole
_DIGEST = re.compile(r"(?<![0-9A-Za-z])(?:[0-9a-f]{64}|[0-9A-F]{64})(?![0-9A-Za-z])")
_KEY_KINDS = (("id_number", "id_number"), ("phone", "phone"), ("mobile", "phone"), ("head_name", "name"))


def _mask_run(run: str) -> str:
    digits = run.rstrip("Xx")
    if len(run) >= 15:  # ID numbers (15 or 18), bank cards and any longer run
        return mask_id_number(run) if len(run) in (15, 18) else mask_phone(run)
    if _MOBILE.search(digits):
        return mask_phone(digits) + run[len(digits):]
    return run


def mask_personal_text(value: str) -> str:
    """Mask every ID number (15 or 18 characters) and mobile number in free text, wherever it stands (also glued to
    letters or inside longer digit runs): afterwards no run of 17 digits + digit/X and no 1[3-9]+9 digits is left.
    Other numbers (codes of 9 or 12 digits, dates, counts) are kept."""
    if not isinstance(value, str):
        return value
    parts = _DIGEST.split(value)
    digests = _DIGEST.findall(value)
    masked = [_DIGIT_RUN.sub(lambda m: _mask_run(m.group(0)), part) for part in parts]
    return "".join(p + d for p, d in zip(masked, digests + [""]))


def _key_kind(key) -> str | None:
    key = str(key).lower()
    return next((kind for part, kind in _KEY_KINDS if part in key), None)


def mask_personal(value, kind: str | None = None):
    """A copy of a JSON-like structure (dicts, lists, strings, numbers) with personal data masked: strings and dict
    keys through `mask_personal_text`, and every value under a key naming a personal field (…id_number, …phone,
    head_name; also nested, as in {"phone": {"before": …, "after": …}}) through that field's masker."""
    if isinstance(value, dict):
        return {mask_personal(k): mask_personal(v, _key_kind(k) or kind) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [mask_personal(v, kind) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if kind is not None and isinstance(value, (str, int, float)) and not _blank(value):
        return MASKERS[kind](value)
    if isinstance(value, (int, float)):
        text = str(value)
        masked = mask_personal_text(text)
        return value if masked == text else masked
    if isinstance(value, str):
        return mask_personal_text(value)
    return value
