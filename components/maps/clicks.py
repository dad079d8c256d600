"""Reading a map click back: which facility marker or which subdistrict polygon the user clicked.

streamlit-folium returns the clicked point and the tooltip of what was under it; every tooltip the maps draw
starts with the name of its facility or subdistrict, so the name and the nearest position identify it."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from components.maps.basemap import NO_BASEMAP, Basemap, project

CLICK_FIELDS = ["last_object_clicked", "last_object_clicked_tooltip"]  # all a map page asks back


def clicked_facility(event: dict | None, facilities: pd.DataFrame, basemap: Basemap = NO_BASEMAP,
                     tolerance_m: float = 400.0) -> pd.Series | None:
    """The facility whose marker was clicked: tooltip text starts with its name, nearest to the click."""
    if not event or not event.get("last_object_clicked") or facilities is None or facilities.empty:
        return None
    tip = (event.get("last_object_clicked_tooltip") or "").strip()
    if not tip:
        return None
    cand = facilities[[tip.startswith(str(n)) for n in facilities["name"]]]
    if cand.empty:
        return None
    lon, lat = project(cand["lon"].to_numpy(), cand["lat"].to_numpy(), basemap)
    click = event["last_object_clicked"]
    d = _metres(lat, lon, float(click["lat"]), float(click["lng"]))
    best = int(np.argmin(d))
    return cand.iloc[best] if d[best] <= tolerance_m else None


def clicked_subdistrict(event: dict | None, names: dict[str, str]) -> str | None:
    """The subdistrict whose polygon (or bubble) was clicked: its tooltip starts with the name."""
    if not event or not event.get("last_object_clicked"):
        return None
    tip = (event.get("last_object_clicked_tooltip") or "").strip()
    hits = [code for code, name in names.items() if tip.startswith(name)]
    return max(hits, key=lambda c: len(names[c])) if hits else None


def _metres(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    k = 111_320.0
    return np.hypot((lat - lat0) * k, (lon - lon0) * k * math.cos(math.radians(lat0)))
