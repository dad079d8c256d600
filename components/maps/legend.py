"""What the colours and symbols mean: kind and status styles, coverage and value classes, and their legends.

A legend is HTML for the frame's legend box; every text in it went through `esc()`.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from components.maps.elements import esc
from data.db.models import FACILITY_KINDS
from data.domain import units

SCHEMATIC_NOTE = "示意边界，非法定界线"
OFFICIAL_NOTE = "街道界线：民政局导入的正式边界"

# Leaflet.awesome-markers colour names and the hex they render as (for legends and rings).
KIND_STYLES: dict[str, tuple[str, str, str]] = {  # kind → (Font Awesome 6 icon, marker colour, hex)
    "meal_point": ("utensils", "orange", "#f69730"),
    "embedded_nursing_home": ("bed", "red", "#d63e2a"),
    "home_care_center": ("house", "blue", "#38aadd"),
    "day_care_center": ("sun", "green", "#72b026"),
    "welfare_institute": ("building", "darkred", "#a23336"),
    "care_institution": ("hospital", "purple", "#d252b9"),
}
FALLBACK_STYLE = ("circle", "cadetblue", "#436978")
STATUS_ORDER = ["operating", "building", "planned", "closed"]
STATUS_LEGEND = {
    "operating": "运营中：实心标记",
    "building": "建设中：白底标记",
    "planned": "规划中：虚线空心圆",
    "closed": "已关停：灰色小点",
}
COVERAGE_BINS = [0.0, 0.3, 0.5, 0.65, 0.8, 1.0000001]
COVERAGE_COLOURS = ["#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850"]
NO_DATA_COLOUR = "#d9d9d9"
COVERED_COLOUR, UNCOVERED_COLOUR = "#1a9850", "#d73027"
RING_COLOUR = "#2b8cbe"
VALUE_COLOURS = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]  # sequential blues, light → dark
ZERO_COLOUR = NO_DATA_COLOUR  # zero or no value stays grey


def note(schematic: bool) -> str:
    """The boundary note every map carries (escaped)."""
    return esc(SCHEMATIC_NOTE if schematic else OFFICIAL_NOTE)


def facility_legend(kinds_present: Iterable[str], counts: dict[str, int] | None = None,
                    statuses_present: Iterable[str] = ("operating",)) -> str:
    """Legend html: one line per kind (icon in its colour) and one per status style shown."""
    counts = counts or {}
    lines = ["<b>设施类型</b>"]
    for kind in kinds_present:
        icon, _, hex_colour = KIND_STYLES.get(kind, FALLBACK_STYLE)
        n = f"（{counts[kind]}）" if kind in counts else ""
        lines.append(f"<i class='fa-solid fa-{icon}' style='color:{hex_colour}'></i>"
                     f"{esc(FACILITY_KINDS.get(kind, kind))}{esc(n)}")
    statuses = [s for s in STATUS_ORDER if s in set(statuses_present)]
    if statuses:
        lines.append("<b>设施状态</b>")
        samples = {
            "operating": "<span class='mz-pin' style='background:#38aadd'></span>",
            "building": "<span class='mz-pin' style='background:#fff;border:1px solid #38aadd'></span>",
            "planned": "<span class='mz-ring' style='border:2px dashed #38aadd'></span>",
            "closed": "<span class='mz-ring' style='background:#999;width:8px;height:8px'></span>",
        }
        for s in statuses:
            lines.append(samples[s] + esc(STATUS_LEGEND[s]))
    return "<br>".join(lines)


def coverage_bin(rate: float | None) -> int | None:
    """Index of the colour class for a coverage share (0…1); None when there is no value."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return None
    for i in range(len(COVERAGE_COLOURS)):
        if COVERAGE_BINS[i] <= rate < COVERAGE_BINS[i + 1]:
            return i
    return len(COVERAGE_COLOURS) - 1


def coverage_legend(title: str = "社区助餐覆盖率") -> str:
    lines = [f"<b>{esc(title)}</b>"]
    for i, colour in enumerate(COVERAGE_COLOURS):
        lo, hi = COVERAGE_BINS[i], min(COVERAGE_BINS[i + 1], 1.0)
        text = f"≥ {lo:.0%}" if i == len(COVERAGE_COLOURS) - 1 else f"{lo:.0%} – {hi:.0%}"
        lines.append(f"<i class='mz-sw' style='background:{colour}'></i>{esc(text)}")
    lines.append(f"<i class='mz-sw' style='background:{NO_DATA_COLOUR}'></i>无数据")
    return "<br>".join(lines)


def pct(rate) -> str:
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return "—"
    return units.pct(float(rate))


# --- value classes (a number per subdistrict, e.g. aid paid in 万元) -------------------------------------

def class_breaks(values, n: int = len(VALUE_COLOURS)) -> list[float]:
    """Upper bounds of up to n classes of the positive values (quantiles, deduplicated, last = max)."""
    arr = np.asarray([v for v in values if v is not None and not pd.isna(v) and v > 0], dtype=float)
    if arr.size == 0:
        return []
    qs = np.quantile(arr, [(i + 1) / n for i in range(n)])
    return sorted(set(float(q) for q in qs))


def colour_of(value, breaks: list[float]) -> str:
    """The class colour of a value; grey for zero, missing or no classes."""
    if value is None or pd.isna(value) or value <= 0 or not breaks:
        return ZERO_COLOUR
    offset = len(VALUE_COLOURS) - len(breaks)  # few classes → use the darker end of the ramp
    for i, upper in enumerate(breaks):
        if value <= upper:
            return VALUE_COLOURS[offset + i]
    return VALUE_COLOURS[-1]


def value_legend(title: str, breaks: list[float], fmt: Callable[[float], str], zero_label: str) -> str:
    lines = [f"<b>{esc(title)}</b>"]
    offset = len(VALUE_COLOURS) - len(breaks)
    lower = 0.0
    for i, upper in enumerate(breaks):
        text = f"{fmt(lower)} – {fmt(upper)}" if i else f"≤ {fmt(upper)}"
        lines.append(f"<i class='mz-sw' style='background:{VALUE_COLOURS[offset + i]}'></i>{esc(text)}")
        lower = upper
    lines.append(f"<i class='mz-sw' style='background:{ZERO_COLOUR}'></i>{esc(zero_label)}")
    return "<br>".join(lines)
