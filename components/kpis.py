"""Headline figures: a row of metric cards, each with its definition (口径) as help."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    delta: str | None = None
    help: str | None = None  # one-line 口径
    delta_color: str = "normal"  # "inverse" when an increase is bad (e.g. overdue findings)


def kpi_row(items: list[Kpi], columns: int | None = None) -> None:
    cols = st.columns(columns or len(items) or 1)
    for i, k in enumerate(items):
        with cols[i % len(cols)]:
            st.metric(k.label, k.value, delta=k.delta, help=k.help, delta_color=k.delta_color, border=True)
