"""What several page models share: a headline card (label, shown value, change, 口径) as pages draw it."""
from __future__ import annotations

from dataclasses import dataclass

from data.domain import headlines
from data.domain import period as periods


@dataclass(frozen=True)
class Card:
    """One headline figure as shown: the fields of components.kpis.Kpi, so a page draws cards with kpi_row."""
    label: str
    value: str
    delta: str | None = None
    help: str | None = None  # one-line 口径
    delta_color: str = "normal"  # "inverse" when a rise is bad, "off" for a note


def headline_card(row, label: str | None = None, money_unit: bool = False, before: str = "上期") -> Card:
    """A row of a headline frame (data.queries.overview.headline_frame) as a card: value and change written by the
    registered headline (data.domain.headlines), its 口径, the day or dates it is for and the value before as help;
    no change means no delta (no arrow, no colour)."""
    h = headlines.headline(row.key)
    if row.previous is None:  # the period before has no ledger records: nothing to compare with, and the help says so
        return Card(label or row.label, h.show(row.value, money_unit), None,
                    f"{h.definition}。{row.as_of}；{before}无台账记录，不作比较", "inverse" if h.rise_is_bad else "normal")
    change = h.change(row.value, row.previous)
    return Card(label or row.label, h.show(row.value, money_unit), f"{change} 较{before}" if change else None,
                f"{h.definition}。{row.as_of}；{before} {h.show(row.previous, True)}",
                "inverse" if h.rise_is_bad else "normal")


def slug(scope: str, key: str) -> str:
    """The scope and period for file names: 全区_2024-H1, 南浦街道_2024-01-01至2024-03-31."""
    return f"{scope}_{key.replace('~', '至')}"


# the one period parser and name, for pages' period pickers (pages import views, not data.domain)
parse_period, period_label = periods.parse, periods.label
