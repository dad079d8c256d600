"""居民身份证号码: GB 11643-1999 check digit and validation of 18-digit and legacy 15-digit numbers.

The area code (first six digits) is not checked against any list, so the demo data's deliberately
non-existent area 999999 validates as long as its birth date and check digit are right.
"""
from __future__ import annotations

import re
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)
EARLIEST_BIRTH_YEAR = 1850

_RE18 = re.compile(r"^\d{17}[\dXx]$")
_RE15 = re.compile(r"^\d{15}$")


def check_digit(first17: str) -> str:
    """The 18th character (0–9 or X) for the first 17 digits."""
    if not (isinstance(first17, str) and len(first17) == 17 and first17.isascii() and first17.isdigit()):
        raise ValueError(f"身份证号码前17位应为17位数字：{first17!r}")
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def _birth(yyyymmdd: str) -> date | None:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None
    return born if EARLIEST_BIRTH_YEAR <= born.year else None


def birth_date(id_number: str) -> date | None:
    """The birth date written in an 18- or 15-digit number (None when it is not a real date)."""
    s = (id_number or "").strip()
    if len(s) == 18:
        return _birth(s[6:14])
    if len(s) == 15:
        return _birth("19" + s[6:12])
    return None


def is_valid_id(id_number: str, today: date | None = None) -> bool:
    """True for a well-formed number: 18 digits with a real birth date and the right check digit,
    or the legacy 15-digit form (digits only, real 19YYMMDD birth date; it has no check digit)."""
    if not isinstance(id_number, str):
        return False
    s = id_number.strip()
    today = today or date.today()
    if _RE18.match(s):
        born = _birth(s[6:14])
        return born is not None and born <= today and check_digit(s[:17]) == s[17].upper()
    if _RE15.match(s):
        born = _birth("19" + s[6:12])
        return born is not None and born <= today
    return False


def make_id(area: str, born: date, seq: int) -> str:
    """An 18-digit number from a 6-digit area code, a birth date and a 3-digit sequence (odd = male)."""
    if not (len(area) == 6 and area.isdigit()):
        raise ValueError(f"地区码应为6位数字：{area!r}")
    if not 0 <= seq <= 999:
        raise ValueError(f"顺序码应在 000–999 之间：{seq}")
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    return first17 + check_digit(first17)
