"""A headline figure as a page model hands it over: label, shown value, delta and definition (口径).

Pages draw each as a metric card (components.kpis.Kpi(*metric)); documents and tests read the same text."""
from __future__ import annotations

from typing import NamedTuple


class Metric(NamedTuple):
    label: str
    value: str
    delta: str | None = None
    help: str | None = None
