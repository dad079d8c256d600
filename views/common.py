"""What several page models share: a headline card (label, shown value, change, 口径) as pages draw it."""
from __future__ import annotations

from dataclasses import dataclass

from data.domain import period as periods


@dataclass(frozen=True)
class Card:
    """One headline figure as shown: the fields of components.kpis.Kpi, so a page draws cards with kpi_row."""
    label: str
    value: str
    delta: str | None = None
    help: str | None = None  # one-line 口径
    delta_color: str = "normal"  # "inverse" when a rise is bad, "off" for a note


def slug(scope: str, key: str) -> str:
    """The scope and period for file names: 全区_2024-H1, 南浦街道_2024-01-01至2024-03-31."""
    return f"{scope}_{key.replace('~', '至')}"


# the one period parser and name, for pages' period pickers (pages import views, not data.domain)
parse_period, period_label = periods.parse, periods.label
