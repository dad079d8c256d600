"""Value choropleth: one number per subdistrict (e.g. aid paid, in 万元) as coloured polygons — a pure builder.

Built from the shared map pieces in components.maps (base map, subdistrict layer, district outline, legend and
the "示意边界，非法定界线" note), so it has the same offline assets, schematic note and click behaviour (a tooltip
that starts with the subdistrict's name, read back by maps.clicked_subdistrict). Shown with maps.show_map.
"""
from __future__ import annotations

import json
from typing import Callable

import folium
import numpy as np
import pandas as pd

from components import maps

# sequential blues, light → dark; zero / no value stays grey
COLOURS = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]
ZERO_COLOUR = maps.NO_DATA_COLOUR


def class_breaks(values, n: int = len(COLOURS)) -> list[float]:
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
    offset = len(COLOURS) - len(breaks)  # few classes → use the darker end of the ramp
    for i, upper in enumerate(breaks):
        if value <= upper:
            return COLOURS[offset + i]
    return COLOURS[-1]


def legend_html(title: str, breaks: list[float], fmt: Callable[[float], str], zero_label: str) -> str:
    lines = [f"<b>{maps.esc(title)}</b>"]
    offset = len(COLOURS) - len(breaks)
    lower = 0.0
    for i, upper in enumerate(breaks):
        text = f"{fmt(lower)} – {fmt(upper)}" if i else f"≤ {fmt(upper)}"
        lines.append(f"<i class='mz-sw' style='background:{COLOURS[offset + i]}'></i>{maps.esc(text)}")
        lower = upper
    lines.append(f"<i class='mz-sw' style='background:{ZERO_COLOUR}'></i>{maps.esc(zero_label)}")
    return "<br>".join(lines)


def value_map(boundaries: pd.DataFrame, values: pd.DataFrame, *, title: str, fmt: Callable[[float], str],
              details: dict[str, list[str]] | None = None, outline: dict | None = None,
              basemap: maps.Basemap = maps.NO_BASEMAP, selected: str | None = None,
              zero_label: str = "无数据或为零") -> folium.Map:
    """Subdistricts coloured by `values` (columns code, value): quantile classes of the positive values.

    The tooltip of each polygon: its name, `title` = fmt(value), then the lines in details[code] (plain text).
    """
    by_code = dict(zip(values["code"].astype(str), values["value"])) if len(values) else {}
    breaks = class_breaks(by_code.values())
    fill, tips = {}, {}
    for row in boundaries.itertuples(index=False):
        code = str(row.code)
        value = by_code.get(code)
        fill[code] = colour_of(value, breaks)
        tip = f"<b>{maps.esc(row.name)}</b><br>{maps.esc(title)}：{maps.esc(fmt(value) if value is not None else '无数据')}"
        for line in (details or {}).get(code, []):
            tip += f"<br>{maps.esc(line)}"
        tips[code] = tip
    geoms = [g if isinstance(g, dict) else json.loads(g) for g in boundaries["boundary_geojson"] if g]
    focus = boundaries[boundaries["code"] == selected] if selected else boundaries
    focus_geoms = [g if isinstance(g, dict) else json.loads(g) for g in focus["boundary_geojson"] if g]
    bounds = maps._bounds_of(focus_geoms) or maps._bounds_of(geoms) or (maps._bounds_of([outline]) if outline else None)
    m = maps.base_map(basemap, bounds)
    if len(boundaries):
        m.add_child(maps.subdistrict_layer(boundaries, basemap, fill=fill, tips=tips, selected=selected,
                                           simplify_deg=maps._simplify_for(len(boundaries)), name=title))
    maps.add_district_outline(m, outline, basemap)
    schematic = not bool(boundaries["boundary_official"].all()) if len(boundaries) else True
    return maps._finish(m, legend_html(title, breaks, fmt, zero_label), schematic)
