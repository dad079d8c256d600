"""Maps: one DistrictMap frame (frame.py) that every map page configures, and the pure pieces it is made of.

    elements   compact Leaflet elements and esc(): every text escaped, rows inlined as JSON, no template
    basemap    Basemap, coordinates shifted for it (WGS-84 → GCJ-02 for 高德), the empty map
    layers     subdistricts, district outline, facilities, communities, dots, rings, bubbles
    legend     what colours and symbols mean; the legends and the boundary notes
    clicks     a click read back into a facility or a subdistrict
    frame      DistrictMap (Streamlit: basemap from settings, outline, selection, show) and the pure draw()
    pictures   the pages' pictures (facilities, coverage, values) and their pure builders

Builders never touch Streamlit or the database, so tests render them and read the Leaflet script. Points are
drawn by a few compact layers instead of one folium object per point, so a district map stays far under 300 KB;
at province scale the page models (views/) pass aggregates instead of points (caps: views.map_scale).
"""
from __future__ import annotations

from components.maps.basemap import NO_BASEMAP, Basemap, base_map, bounds_of, prepare_geometries, project
from components.maps.clicks import CLICK_FIELDS, clicked_facility, clicked_subdistrict
from components.maps.elements import esc
from components.maps.frame import DEFAULT_HEIGHT, Canvas, Click, DistrictMap, Picture, draw, show_map
from components.maps.layers import (COMMUNITY_MIN_ZOOM, LABEL_MIN_ZOOM, add_district_outline, aggregate_layer,
                                    community_layer, dot_layer, facility_layers, outline_layer, rings_layer,
                                    room_layer, room_legend, room_tip, subdistrict_layer)
from components.maps.legend import (COVERAGE_COLOURS, KIND_STYLES, NO_DATA_COLOUR, OFFICIAL_NOTE, SCHEMATIC_NOTE,
                                    STATUS_ORDER, class_breaks, colour_of, coverage_bin, coverage_legend,
                                    facility_legend, value_legend)
from components.maps.pictures import (coverage_map, coverage_picture, facilities_map, facilities_picture, value_map,
                                      value_picture)
from views.map_scale import (AGGREGATE_FACILITIES_ABOVE, MAX_COMMUNITY_POINTS, MAX_MAP_SUBDISTRICTS,
                             MAX_MEAL_POINTS_UNFILTERED, MAX_POINTS)

__all__ = [
    # the frame
    "DistrictMap", "Picture", "Canvas", "Click", "draw", "show_map", "DEFAULT_HEIGHT", "CLICK_FIELDS",
    # pictures and their pure builders
    "facilities_picture", "coverage_picture", "value_picture", "facilities_map", "coverage_map", "value_map",
    # ground and layers
    "Basemap", "NO_BASEMAP", "base_map", "bounds_of", "prepare_geometries", "project", "subdistrict_layer",
    "outline_layer", "add_district_outline", "facility_layers", "community_layer", "dot_layer", "rings_layer",
    "aggregate_layer", "room_layer", "room_legend", "room_tip", "COMMUNITY_MIN_ZOOM", "LABEL_MIN_ZOOM",
    # legends, styles and notes
    "esc", "KIND_STYLES", "STATUS_ORDER", "COVERAGE_COLOURS", "NO_DATA_COLOUR", "SCHEMATIC_NOTE", "OFFICIAL_NOTE",
    "facility_legend", "coverage_legend", "coverage_bin", "value_legend", "class_breaks", "colour_of",
    # clicks
    "clicked_facility", "clicked_subdistrict",
    # scale caps (defined in views.map_scale, where the page models read them)
    "MAX_POINTS", "MAX_MAP_SUBDISTRICTS", "AGGREGATE_FACILITIES_ABOVE", "MAX_COMMUNITY_POINTS",
    "MAX_MEAL_POINTS_UNFILTERED",
]
