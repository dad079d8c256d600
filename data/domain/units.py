"""How the bureau writes numbers: money in 万元 with two decimals, shares as whole percents."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def fen_to_wan(fen: int | float | None) -> float:
    """分 → 万元, rounded half-up to two decimals (1,398,750,000 分 → 1398.75)."""
    if fen is None:
        return 0.0
    return float((Decimal(int(fen)) / Decimal(1_000_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def fmt_wan(fen: int | float | None) -> str:
    return f"{fen_to_wan(fen):,.2f}万元"


def pct(share: float | None, digits: int = 0) -> str:
    """0.5698 → '57%' (the report writes whole percents)."""
    if share is None:
        return "—"
    value = Decimal(str(share * 100)).quantize(Decimal(1) if digits == 0 else Decimal(10) ** -digits,
                                               rounding=ROUND_HALF_UP)
    return f"{value}%"


def fmt_int(n: int | float | None) -> str:
    return "—" if n is None else f"{int(n):,}"


def fmt_delta(now: float, before: float, unit: str = "") -> str:
    diff = now - before
    sign = "+" if diff > 0 else ""
    if isinstance(diff, float) and not diff.is_integer():
        return f"{sign}{diff:,.2f}{unit}"
    return f"{sign}{int(diff):,}{unit}"
