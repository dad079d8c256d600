"""Random reporting periods for the seeded comparisons of the summary tables with the records (test_rollups*.py)."""
from __future__ import annotations

import random
from datetime import date, timedelta

from data.domain.period import Period, custom, month, parse, quarter, week_of

FIRST, LAST = date(2023, 1, 1), date(2024, 12, 31)


def random_period(rng: random.Random, *, whole_months: bool = False, longest_range: int = 200) -> Period:
    """A month, quarter, half, year, ISO week or custom range within the demo's two years; with `whole_months`
    also runs of whole months across a year's end; a custom range lasts up to `longest_range` days."""
    kinds = ["month", "quarter", "half", "year"] + (["months"] if whole_months else []) + ["week", "range"]
    kind = rng.choice(kinds)
    day = FIRST + timedelta(days=rng.randrange((LAST - FIRST).days + 1))
    if kind == "month":
        return month(day.year, day.month)
    if kind == "quarter":
        return quarter(day.year, (day.month - 1) // 3 + 1)
    if kind == "half":
        return parse(f"{day.year}-H{1 if day.month <= 6 else 2}")
    if kind == "year":
        return parse(str(day.year))
    if kind == "months":
        end = month(day.year, day.month).shift(rng.randrange(1, 18)).end
        return custom(day.replace(day=1), min(end, LAST))
    if kind == "week":
        return week_of(day)
    return custom(day, min(LAST, day + timedelta(days=rng.randrange(1, longest_range))))
