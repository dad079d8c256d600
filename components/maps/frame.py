"""DistrictMap: the one map frame every map page configures.

The frame owns what each map page used to rebuild: the basemap (from the saved map settings), the district
outline, the subdistrict polygons (coloured when the page gives colours), the legend box, the boundary note
(示意边界 / 正式边界), the layer control, drawing it offline with only click events sent back, and reading a click
back into the page's selection (a clicked subdistrict) or card (a clicked facility). A page says what goes on
top — a `Picture`: layers, legend, polygon colours and tooltips — and where its selection lives.

    frame = maps.DistrictMap("aid", select="aid_sel", locked=f.street)
    frame.read_click()                       # before anything reads frame.selected
    frame.show(v.boundaries, maps.value_picture(v.boundaries, v.values, title=…, fmt=…), height=480)

`draw()` is the pure half (DataFrames → folium.Map, no Streamlit); tests call it, and `DistrictMap.show()`
calls it with the frame's basemap, outline and selection.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping, Union

import folium
import pandas as pd
import streamlit as st
import streamlit_folium  # noqa: F401  (loaded with the map builders: the first map a process draws pays no import)
from branca.element import Element
from shapely.geometry import mapping

from components.maps.basemap import NO_BASEMAP, Basemap, base_map, bounds_of, simplify_for
from components.maps.clicks import CLICK_FIELDS, clicked_facility, clicked_subdistrict
from components.maps.elements import Control
from components.maps.layers import add_district_outline, schematic, subdistrict_layer
from components.maps.legend import note
from components.offline import st_folium
from components.session import reader
from data.ops.settings import map_settings
from data.queries import geography

DEFAULT_HEIGHT = 560


@dataclass(frozen=True)
class Canvas:
    """What a layer is drawn onto: the folium map (its name, for zoom-dependent layers) and the basemap that
    every coordinate must be shifted for."""
    map: folium.Map
    basemap: Basemap

    @property
    def name(self) -> str:
        return self.map.get_name()

    def add(self, layer: "Layer") -> None:
        """Add a folium element, a list of them, or what a callable returns for this canvas (None: nothing)."""
        if callable(layer) and not isinstance(layer, Element):
            layer = layer(self)
        if layer is None:
            return
        for element in (layer if isinstance(layer, (list, tuple)) else [layer]):
            if element is not None:
                self.map.add_child(element)


Layer = Union[Element, list, None, Callable[[Canvas], Any]]


@dataclass(frozen=True)
class Picture:
    """What a page puts on its map, over the frame's subdistricts and outline.

    layers: drawn in order (folium elements, or callables taking the Canvas — for a layer that needs the
    basemap or the map's name); legend: escaped HTML for the legend box; fill / tips: subdistrict code →
    colour / escaped tooltip HTML starting with the name (a choropleth); name: the subdistrict layer's name in
    the layer control; note: the boundary note in the corner.
    """
    layers: tuple = ()
    legend: str | None = None
    fill: Mapping[str, str] | None = None
    tips: Mapping[str, str] | None = None
    name: str | None = None
    note: bool = True


def draw(boundaries: pd.DataFrame, picture: Picture = Picture(), *, outline: dict | None = None,
         basemap: Basemap = NO_BASEMAP, selected: str | None = None) -> folium.Map:
    """The frame drawn: an empty map fitted to the selected subdistrict (else all of them, else the district
    outline), the subdistrict polygons (the selected one outlined), the district outline, the picture's layers,
    its legend, the boundary note and the layer control.

    boundaries: code, name, boundary_geojson, boundary_official (data.queries.geography.subdistrict_boundaries).
    """
    focus = boundaries[boundaries["code"] == selected] if selected else boundaries
    bounds = (bounds_of(focus["boundary_geojson"]) or bounds_of(boundaries["boundary_geojson"])
              or (bounds_of([outline]) if outline else None))
    m = base_map(basemap, bounds)
    if len(boundaries):
        m.add_child(subdistrict_layer(boundaries, basemap, fill=dict(picture.fill or {}), tips=dict(picture.tips or {}),
                                      selected=selected, simplify_deg=simplify_for(len(boundaries)),
                                      name=picture.name, map_name=m.get_name()))
    add_district_outline(m, outline, basemap)
    canvas = Canvas(m, basemap)
    for layer in picture.layers:
        canvas.add(layer)
    if picture.legend:
        m.add_child(Control(picture.legend, "bottomright", "mz-legend"))
    if picture.note:
        m.add_child(Control(note(schematic(boundaries)), "bottomleft", "mz-note"))
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    return m


@lru_cache(maxsize=1)
def district_outline() -> dict:
    """The district outline as GeoJSON (geo/layers: the district's own boundary file)."""
    from geo import layers

    return mapping(layers.district_outline())


@dataclass(frozen=True)
class Click:
    """What the last map click hit: a facility (its row) or a subdistrict (its code), or nothing."""
    facility: pd.Series | None = None
    subdistrict: str | None = None


class DistrictMap:
    """One district map on a page, with its selection kept in st.session_state.

    key: prefix of the map's own state — the component is `<key>_map` (or `map_key`), the last click
        recorded by it `<key>_click` (a test may set that to simulate a click).
    select: session key of the subdistrict selected on the map (a page's own key, e.g. a selectbox's);
        None: clicks select nothing. locked: the sidebar's subdistrict — then it is the selection and clicks on
        polygons change nothing. toggle: clicking the selected subdistrict again clears the selection.
        clear_on_new_scope: a new sidebar subdistrict forgets the map's selection and card.
    card: session key that receives the id of a clicked facility; card_selects: that click also selects
        the facility's subdistrict.
    settings: the saved map settings (.basemap, .tianditu_key); read through the signed-in reader if None.
    names: subdistrict code → name, to read a polygon click; read the same way when first needed.
    """

    def __init__(self, key: str, *, select: str | None = None, locked: str | None = None, toggle: bool = True,
                 clear_on_new_scope: bool = False, card: str | None = None, card_selects: bool = False,
                 settings=None, names: dict[str, str] | None = None, outline: dict | None = None,
                 map_key: str | None = None, clicks: bool = True):
        self.key, self.map_key = key, map_key or f"{key}_map"
        self.select, self.locked, self.toggle = select, locked, toggle
        self.card_key, self.card_selects = card, card_selects
        self.clicks = clicks
        self._settings, self._names = settings, names
        self.outline = outline if outline is not None else district_outline()
        if clear_on_new_scope and st.session_state.get(f"{key}_scope") != locked:
            for k in (select, card):
                if k:
                    st.session_state[k] = None
            st.session_state[f"{key}_scope"] = locked

    # --- what the frame reads ---------------------------------------------------------------------

    @property
    def settings(self):
        if self._settings is None:
            self._settings = reader().q(map_settings)
        return self._settings

    @property
    def basemap(self) -> Basemap:
        return Basemap.of(self.settings)

    @property
    def names(self) -> dict[str, str]:
        if self._names is None:
            self._names = reader().q(geography.subdistrict_names)
        return self._names

    @property
    def selected(self) -> str | None:
        """The sidebar's subdistrict, else the one selected on the map (None: the whole district)."""
        return self.locked or (st.session_state.get(self.select) if self.select else None) or None

    @property
    def card(self):
        """The id of the facility whose card is open (None: no card)."""
        return st.session_state.get(self.card_key) if self.card_key else None

    # --- clicks -------------------------------------------------------------------------------------

    def _record(self) -> None:
        st.session_state[f"{self.key}_click"] = st.session_state.get(self.map_key)

    def read_click(self, facilities: pd.DataFrame | None = None) -> Click:
        """Read the click recorded since the last run (once): a facility among `facilities` opens its card, a
        subdistrict becomes (or, with toggle, stops being) the selection. Call it before reading `selected`."""
        event = st.session_state.pop(f"{self.key}_click", None)
        if not event:
            return Click()
        hit = clicked_facility(event, facilities, self.basemap) if facilities is not None else None
        if hit is not None:
            if self.card_key:
                st.session_state[self.card_key] = int(hit["id"])
            if self.card_selects and self.select and not self.locked:
                st.session_state[self.select] = hit["subdistrict_code"]
            return Click(facility=hit)
        code = clicked_subdistrict(event, self.names)
        if code and self.select and not self.locked:
            again = self.toggle and st.session_state.get(self.select) == code
            st.session_state[self.select] = None if again else code
        return Click(subdistrict=code)

    def clear(self) -> None:
        """Forget the map's selection (a button's on_click)."""
        if self.select:
            st.session_state[self.select] = None

    def close_card(self) -> None:
        """Close the facility card (a button's on_click)."""
        if self.card_key:
            st.session_state[self.card_key] = None

    # --- drawing ------------------------------------------------------------------------------------

    def draw(self, boundaries: pd.DataFrame, picture: Picture = Picture()) -> folium.Map:
        return draw(boundaries, picture, outline=self.outline, basemap=self.basemap, selected=self.selected)

    def show(self, boundaries: pd.DataFrame, picture: Picture = Picture(), *, height: int = DEFAULT_HEIGHT) -> dict:
        """Draw the frame with the picture on it; clicks come back through read_click on the next run."""
        m = self.draw(boundaries, picture)
        if not self.clicks:
            return show_map(m, key=self.map_key, height=height)
        return show_map(m, key=self.map_key, returned_objects=CLICK_FIELDS, height=height, on_change=self._record)


def show_map(m: folium.Map, key: str, returned_objects: Iterable[str] = (), height: int = DEFAULT_HEIGHT,
             on_change: Callable[[], None] | None = None) -> dict:
    """Draw a built map with local assets only (no CDN), returning just the events the page uses.

    An empty `returned_objects` means pan and zoom never rerun anything; the pages ask for the click
    fields only. Call it inside an @st.fragment so a click reruns the fragment, not the page.
    `on_change` runs once per new event (st.session_state[key] then holds it) — the place to record a click.
    """
    return st_folium(m, key=key, height=height, use_container_width=True,
                     returned_objects=list(returned_objects), on_change=on_change) or {}
