"""The headline cards of an AppTest run, read back as the Kpi each shows (components.kpis draws them as Markdown)."""
from __future__ import annotations

from components.kpis import Kpi, read_card


def cards(at) -> list[Kpi]:
    """Every headline card on the page, in order: label, value, delta (None when none), help."""
    return [c for m in at.markdown if (c := read_card(m.value, m.proto.help))]
