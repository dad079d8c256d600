"""Headline figures: a row of cards, each with its definition (口径) as help.

A card is one Markdown element in a bordered container — label, the figure as a level-2 heading, the change with
its arrow in colour — not Streamlit's st.metric. The reason is the first screen: Streamlit's frontend loads the
metric element's code on demand and shows it in the same frame as the page's tables, charts and maps (React
reveals on-demand elements together, after the last of their scripts has arrived and the run has ended), 1–2 s
after the page's title; Markdown is part of the frontend's first script and shows the moment it arrives
(`python -m bench.timeline`: headline numbers at ×1.3 of an empty page instead of ×2.6, README "首屏").

Every text goes through the one escaper (components.text.md). `read_card` reads a card back (tests, AppTest).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import streamlit as st

from components import first_screen
from components.text import JOINER, md

KEY_PREFIX = "kpi_"  # a card's container key starts with it: the browser finds cards by class st-key-kpi_…
UP, DOWN = "↑", "↓"
_COLOURS = {("normal", False): "green", ("normal", True): "red", ("inverse", False): "red",
            ("inverse", True): "green"}


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    delta: str | None = None
    help: str | None = None  # one-line 口径
    delta_color: str = "normal"  # "inverse" when an increase is bad (e.g. overdue findings), "off" for a note


def card_markdown(k: Kpi) -> str:
    """The Markdown of one card: label (grey), figure (heading), change (arrow and colour as st.metric gives them:
    a change written with a leading minus goes down; rising is green, or red when delta_color is "inverse")."""
    lines = [f":gray[{md(k.label)}]", f"## {md(k.value)}"]
    if k.delta:
        falling = str(k.delta).lstrip().startswith(("-", "−"))
        colour = _COLOURS.get((k.delta_color, falling), "gray")
        lines.append(f":{colour}[{DOWN if falling else UP} {md(k.delta)}]")
    return "\n\n".join(lines)


_CARD = re.compile(r"\A:gray\[(?P<label>.*)\]\n\n## (?P<value>.*?)(?:\n\n:(?P<colour>\w+)\[[↑↓] (?P<delta>.*)\])?\Z",
                   re.S)


def _plain(escaped: str) -> str:
    return re.sub(r"\\(.)", r"\1", escaped.replace(JOINER, "")).replace("  \n", "\n")


def read_card(body: str, help: str | None = None) -> Kpi | None:
    """A card's Markdown read back as the Kpi it shows (delta_color as drawn: normal/inverse cannot be told apart
    from one colour, so it gives "green"/"red"/"gray"); None for any other Markdown."""
    m = _CARD.match(body or "")
    if not m:
        return None
    return Kpi(_plain(m["label"]), _plain(m["value"]), _plain(m["delta"]) if m["delta"] is not None else None,
               help or None, m["colour"] or "off")


def _row_key(items: list[Kpi]) -> str:
    return KEY_PREFIX + hashlib.sha1("|".join(k.label for k in items).encode()).hexdigest()[:10]


def kpi_row(items: list[Kpi], columns: int | None = None, key: str | None = None) -> None:
    """Cards side by side (`columns` per row; wraps). `key` names the row when the same labels appear twice in
    one run; by default the labels do."""
    if not items:
        return
    row = key and KEY_PREFIX + key or _row_key(items)
    cols = st.columns(columns or len(items))
    for i, k in enumerate(items):
        with cols[i % len(cols)]:
            with st.container(border=True, key=f"{row}_{i}"):
                st.markdown(card_markdown(k), help=k.help)
    first_screen.headline_drawn()  # a page's first run: the headline is drawn before what follows it arrives
