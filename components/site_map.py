"""选址分析's map on the district map frame: communities by state, vacant rooms (the chosen ones numbered, with their
walking circles), the operating meal points with their rings — the picture of a views.site_selection.SiteMap."""
from __future__ import annotations

import folium
import streamlit as st

from components import maps
from views.site_selection import COLOURS, STATE_TEXT, SiteMap

LEGEND = ("图例：:blue[●] 现有助餐点已覆盖　:green[●] 新增覆盖　:red[●] 仍未覆盖　● 盲区（步行半径内无可用用房）　"
          ":violet[■] 闲置用房（紫色房屋符号）　数字圆点为选中用房（序号同下表），虚线圆为其步行圈。")


def _community_layer(sm: SiteMap, state: str):
    part = sm.communities[sm.communities["state"] == state]
    tips = [f"<b>{maps.esc(r['short_name'])}</b><br>{maps.esc(STATE_TEXT.get(r['state'], r['state']))}"
            f"<br>{maps.esc(sm.weight_label)} {int(r['weight']):,} 人" for r in part.to_dict("records")]
    return lambda c: maps.dot_layer(part, tips, name=STATE_TEXT[state], colour=COLOURS[state], basemap=c.basemap)


def _rooms_layer(sm: SiteMap):
    rest = sm.rooms[~sm.rooms["code"].isin(sm.chosen)]
    return lambda c: maps.room_layer(rest, c.basemap)


def _chosen_layer(sm: SiteMap, c: maps.Canvas) -> folium.FeatureGroup:
    """The chosen rooms numbered in pick order, each with its walking circle."""
    picked = sm.rooms.set_index("code").loc[list(sm.chosen)].reset_index()
    lon, lat = maps.project(picked["lon"].to_numpy(), picked["lat"].to_numpy(), c.basemap)
    fg = folium.FeatureGroup(name=f"选中用房（{len(picked)}）")
    for rank, ((_, r), x, y) in enumerate(zip(picked.iterrows(), lon, lat), start=1):
        folium.Circle([float(y), float(x)], radius=sm.radius, color="#1a9850", weight=1.5, dash_array="6 4",
                      fill=False, interactive=False).add_to(fg)
        folium.Marker([float(y), float(x)], tooltip=f"<b>{rank}. {maps.esc(r['code'])}</b><br>{maps.esc(r['address'])}",
                      icon=folium.DivIcon(html=f"<div style='background:#1a9850;color:#fff;border:2px solid #fff;"
                                               f"border-radius:50%;width:24px;height:24px;line-height:20px;"
                                               f"text-align:center;font-weight:bold;box-shadow:0 0 3px #000'>{rank}</div>",
                                          icon_size=(24, 24), icon_anchor=(12, 12))).add_to(fg)
    return fg


def picture(sm: SiteMap) -> maps.Picture:
    """What the frame draws for `sm` (pure: no Streamlit); the boundary note is in the legend caption instead."""
    layers = [_community_layer(sm, state) for state in ("covered", "new", "gap", "reachable", "blind")]
    layers.append(_rooms_layer(sm))
    if sm.chosen:
        layers.append(lambda c: _chosen_layer(sm, c))
    if len(sm.meal_points):
        layers += [lambda c: maps.rings_layer(sm.meal_points, sm.radius, c.basemap),
                   lambda c: maps.facility_layers(sm.meal_points.assign(kind="meal_point"), c.basemap)]
    return maps.Picture(layers=tuple(layers), note=False)


def show(frame: maps.DistrictMap, sm: SiteMap) -> None:
    """The map on `frame` with its legend — or, when it holds more points than one map carries, a note instead."""
    if not sm.fits:
        st.info(f"所选范围内的社区、用房和助餐点共 {sm.points:,} 个，超过一张地图能清楚显示的数量（{sm.limit:,}）："
                "请在侧边栏选择街道后查看地图；下方表格列出全部结果。")
        return
    frame.show(sm.boundaries, picture(sm))
    st.caption(LEGEND + (maps.OFFICIAL_NOTE if sm.official else maps.SCHEMATIC_NOTE) + "。")
