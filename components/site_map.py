"""选址分析's map: communities by state, vacant rooms (the chosen ones numbered, with their walking circles), the
operating meal points with their rings — drawn from a views.site_selection.SiteMap, offline (components.maps)."""
from __future__ import annotations

import folium
import pandas as pd
import streamlit as st

from components import maps
from views.site_selection import COLOURS, ROOM_STATUSES, STATE_TEXT, SiteMap

LEGEND = ("图例：:blue[●] 现有助餐点已覆盖　:green[●] 新增覆盖　:red[●] 仍未覆盖　● 盲区（步行半径内无可用用房）　"
          ":violet[●] 闲置用房　数字圆点为选中用房（序号同下表），虚线圆为其步行圈。")


def _dots(m: folium.Map, df: pd.DataFrame, name: str, colour: str, tip, basemap, radius_px: int = 6) -> None:
    layer = maps.dot_layer(df, [tip(r) for r in df.to_dict("records")], name=name, colour=colour,
                           radius_px=radius_px, basemap=basemap)
    if layer is not None:
        m.add_child(layer)


def _chosen(m: folium.Map, sm: SiteMap, basemap) -> None:
    picked = sm.rooms.set_index("code").loc[list(sm.chosen)].reset_index()
    lon, lat = maps.project(picked["lon"].to_numpy(), picked["lat"].to_numpy(), basemap)
    fg = folium.FeatureGroup(name=f"选中用房（{len(picked)}）")
    for rank, ((_, r), x, y) in enumerate(zip(picked.iterrows(), lon, lat), start=1):
        folium.Circle([float(y), float(x)], radius=sm.radius, color="#1a9850", weight=1.5, dash_array="6 4",
                      fill=False, interactive=False).add_to(fg)
        folium.Marker([float(y), float(x)], tooltip=f"<b>{rank}. {maps.esc(r['code'])}</b><br>{maps.esc(r['address'])}",
                      icon=folium.DivIcon(html=f"<div style='background:#1a9850;color:#fff;border:2px solid #fff;"
                                               f"border-radius:50%;width:24px;height:24px;line-height:20px;"
                                               f"text-align:center;font-weight:bold;box-shadow:0 0 3px #000'>{rank}</div>",
                                          icon_size=(24, 24), icon_anchor=(12, 12))).add_to(fg)
    m.add_child(fg)


def build_map(sm: SiteMap, basemap: maps.Basemap) -> folium.Map:
    """The folium map of `sm` (pure: no Streamlit)."""
    m = maps.base_map(basemap, sm.bounds)
    if len(sm.boundaries):
        m.add_child(maps.subdistrict_layer(sm.boundaries, basemap))
    maps.add_district_outline(m, sm.outline, basemap)

    def community_tip(r) -> str:
        return (f"<b>{maps.esc(r['short_name'])}</b><br>{maps.esc(STATE_TEXT.get(r['state'], r['state']))}"
                f"<br>{maps.esc(sm.weight_label)} {int(r['weight']):,} 人")

    for state in ("covered", "new", "gap", "reachable", "blind"):
        _dots(m, sm.communities[sm.communities["state"] == state], STATE_TEXT[state], COLOURS[state], community_tip,
              basemap)
    rest = sm.rooms[~sm.rooms["code"].isin(sm.chosen)].dropna(subset=["lon", "lat"])
    _dots(m, rest, "闲置用房", "#9e9ac8",
          lambda r: f"<b>{maps.esc(r['code'])}</b><br>{maps.esc(r['address'])}<br>{r['area_m2']:,.0f} m² · "
                    f"{int(r['floor'])} 层 · {maps.esc(ROOM_STATUSES.get(r['status'], r['status']))}", basemap, 4)
    if sm.chosen:
        _chosen(m, sm, basemap)
    if len(sm.meal_points):
        m.add_child(maps.rings_layer(sm.meal_points, sm.radius, basemap))
        for layer in maps.facility_layers(sm.meal_points.assign(kind="meal_point"), basemap):
            m.add_child(layer)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return m


def show(sm: SiteMap, key: str) -> None:
    """The map with its legend — or, when the view holds more points than one map can carry (a province without a
    subdistrict chosen), a note instead of the map."""
    if sm.points > maps.MAX_POINTS:
        st.info(f"所选范围内的社区、用房和助餐点共 {sm.points:,} 个，超过一张地图能清楚显示的数量（{maps.MAX_POINTS:,}）："
                "请在侧边栏选择街道后查看地图；下方表格列出全部结果。")
        return
    basemap = maps.Basemap(kind=sm.settings.basemap, tianditu_key=sm.settings.tianditu_key)
    maps.show_map(build_map(sm, basemap), key=key)
    st.caption(LEGEND + (maps.OFFICIAL_NOTE if sm.official else maps.SCHEMATIC_NOTE) + "。")
