"""总览 page model: the period's headline figures beside the previous period, and the year's targets with their pace."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from data.domain.period import Period
from data.domain.targets import pace
from data.domain.units import show_measure
from data.queries import overview
from data.security.access import Reader
from views.common import Card, headline_card

TARGET_COLUMNS = ["目标", "目标值", "单位", "期限", "当前值", "差距", "应达进度", "状态"]


@dataclass(frozen=True)
class OverviewPage:
    period: Period
    headline: pd.DataFrame        # overview.headline: key, label, unit, value, previous, change, definition, as_of, …
    cards: list[Card]             # the headline as shown, in order
    targets: pd.DataFrame | None  # 年度目标进度 (TARGET_COLUMNS); None for a 街道 account (district figures)

    @property
    def behind(self) -> pd.Series | None:
        """Targets behind their pace (the rows the table highlights)."""
        return self.targets["状态"].eq("进度滞后") if self.targets is not None and len(self.targets) else None


def target_table(targets: pd.DataFrame, on) -> pd.DataFrame:
    """overview.targets_progress → the table shown: value, gap and expected value from data.domain.targets.pace."""
    rows = []
    for t in targets.itertuples():
        p = pace(t, t.current, t.baseline_value, on)
        rows.append({"目标": t.name, "目标值": show_measure(t.value, t.unit), "单位": t.unit,
                     "期限": pd.Timestamp(t.deadline).date().isoformat(), "当前值": show_measure(t.current, t.unit),
                     "差距": show_measure(max(p.gap, 0), t.unit), "应达进度": show_measure(p.expected, t.unit),
                     "状态": p.status})
    return pd.DataFrame(rows)


def build(reader: Reader, period: Period, street: str | None) -> OverviewPage:
    head = reader.q(overview.headline, period, street)
    cards = [headline_card(r, money_unit=True) for r in head.itertuples()]
    targets = None if reader.principal.street_locked else \
        target_table(reader.q(overview.targets_progress, period.end), period.end)
    return OverviewPage(period=period, headline=head, cards=cards, targets=targets)
