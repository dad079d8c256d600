"""How the bureau writes numbers: money in 万元 with two decimals, every percentage with RATE_DIGITS decimals (57.0%) —
on screens, in the report's sentences and in the documents alike."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def fen_to_wan(fen: int | float | None) -> float:
    """分 → 万元, rounded half-up to two decimals (1,398,750,000 分 → 1398.75)."""
    if fen is None:
        return 0.0
    return float((Decimal(int(fen)) / Decimal(1_000_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def fmt_wan(fen: int | float | None) -> str:
    return f"{fen_to_wan(fen):,.2f}万元"


RATE_DIGITS = 1  # every percentage anywhere (screens, sentences, documents): one decimal, 57.0%


def percent_number(percent: float | None, digits: int = RATE_DIGITS) -> str:
    """A value already in percent, written without its sign: 56.977 → '57.0' (half up); None → '—'."""
    if percent is None:
        return "—"
    return str(Decimal(str(percent)).quantize(Decimal(1) if digits == 0 else Decimal(10) ** -digits,
                                              rounding=ROUND_HALF_UP))


def pct(share: float | None, digits: int = RATE_DIGITS) -> str:
    """A share (0–1) as the bureau writes a percentage everywhere: 0.5698 → '57.0%'."""
    if share is None:
        return "—"
    return percent_number(float(Decimal(str(share)) * 100), digits) + "%"


def fmt_int(n: int | float | None) -> str:
    return "—" if n is None else f"{int(n):,}"


def fmt_delta(now: float, before: float, unit: str = "") -> str:
    diff = now - before
    sign = "+" if diff > 0 else ""
    if isinstance(diff, float) and not diff.is_integer():
        return f"{sign}{diff:,.2f}{unit}"
    return f"{sign}{int(diff):,}{unit}"


# --- headline numbers: the one place a headline value and its change are written ------------------------------

def show_number(unit: str, value, money_unit: bool = False) -> str:
    """A headline value in its unit: 万元 with thousands separators and two decimals (money is kept in 分),
    a rate (0–1) as a percent with one decimal, anything else a whole number with thousands separators."""
    if value is None:
        return "—"
    if unit == "万元":
        return f"{fen_to_wan(value):,.2f}" + ("万元" if money_unit else "")
    if unit == "%":
        return pct(value, RATE_DIGITS)
    return fmt_int(value)


def show_change(unit: str, now, before) -> str | None:
    """The change from the period before in words: +1,234.50万元, -3, +2.5个百分点 (a difference of rates is in
    个百分点, never %); None when nothing changed, so a card shows no arrow and no colour for zero."""
    if now is None or before is None:
        return None
    if unit == "万元":
        diff = round(fen_to_wan(now) - fen_to_wan(before), 2)
        text = f"{abs(diff):,.2f}万元"
    elif unit == "%":
        diff = float(Decimal(str((now - before) * 100)).quantize(Decimal(10) ** -RATE_DIGITS, rounding=ROUND_HALF_UP))
        text = f"{abs(diff):.{RATE_DIGITS}f}个百分点"
    else:
        diff = int(now) - int(before)
        text = f"{abs(diff):,}{unit}"
    if diff == 0:
        return None
    return ("+" if diff > 0 else "-") + text


def show_measure(value, unit: str = "") -> str:
    """A target's value or progress in its own unit (percent points for a % target): 65.0, 1,200, 3.5 — one decimal
    for percents and fractions, none for whole counts; never a raw float like 100.000000."""
    if value is None:
        return "—"
    v = float(value)
    if unit == "%" or not v.is_integer():
        return f"{v:,.{RATE_DIGITS}f}"
    return f"{int(v):,}"
