"""Demo app for tests/test_offline_maps.py: every kind of map element the dashboard uses, served offline.

``?view=map`` (default): one map. ``?view=tabs``: no map in the first of three st.tabs, the same map
in the second and third (two streamlit-folium components, one per hidden tab); the third frames the
districts with ``fit_bounds`` (computed by Leaflet in the browser, while the tab is still hidden).
``?view=plain``: plain folium + ``streamlit_folium.st_folium`` after ``use_local_assets()`` only.
Streamlit serves static files from the folder next to the main script, so tests/apps/static is a
symlink to the project's static/ (the vendored Leaflet etc.).
"""
import html

import branca.colormap as cm
import folium
import folium.plugins
import streamlit as st

from components import offline

FACILITIES = [  # (name, lat, lng) — the cluster: six sites within a few hundred metres
    ("桃花街道养老服务中心", 28.6605, 115.8802),
    ("桃花社区日间照料中心", 28.6611, 115.8809),
    ("朝农社区老年食堂", 28.6598, 115.8795),
    ("桃源社区儿童之家", 28.6615, 115.8798),
    ("南站社区救助站", 28.6602, 115.8812),
    ("丁公路社区居家养老站", 28.6608, 115.8790),
]
XSS_NAME = "<img src=x onerror=alert(1)>"
DISTRICTS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "桃花街道", "beds": 38.5},
            "geometry": {"type": "Polygon", "coordinates": [[
                [115.870, 28.650], [115.895, 28.650], [115.895, 28.672], [115.870, 28.672], [115.870, 28.650],
            ]]},
        },
        {
            "type": "Feature",
            "properties": {"name": "南浦街道", "beds": 21.0},
            "geometry": {"type": "Polygon", "coordinates": [[
                [115.895, 28.650], [115.920, 28.650], [115.920, 28.672], [115.895, 28.672], [115.895, 28.650],
            ]]},
        },
    ],
}


def build_map(fit: bool = False) -> folium.Map:
    """The demo map; ``fit=True`` frames the districts with fit_bounds instead of a fixed centre and zoom."""
    m = offline.offline_map([28.662, 115.892], zoom_start=14 if not fit else 9, control_scale=True)
    colormap = cm.LinearColormap(["#fff5eb", "#d94801"], vmin=0, vmax=50, caption="每千名老人养老床位数")
    folium.GeoJson(
        DISTRICTS,
        name="街道",
        style_function=lambda f: {
            "fillColor": colormap(f["properties"]["beds"]), "color": "#555", "weight": 1, "fillOpacity": 0.6,
        },
        tooltip=folium.GeoJsonTooltip(fields=["name", "beds"], aliases=["街道", "床位/千人"]),
    ).add_to(m)
    colormap.add_to(m)

    cluster = folium.plugins.MarkerCluster(name="服务设施").add_to(m)
    for name, lat, lng in FACILITIES:
        folium.Marker(
            [lat, lng],
            icon=folium.Icon(color="orange", icon="house", prefix="fa"),
            tooltip=html.escape(name),
        ).add_to(cluster)

    sites = folium.FeatureGroup(name="重点机构").add_to(m)
    folium.Marker(  # facility names come from the database: escape before they become popup / tooltip HTML
        [28.6660, 115.9060],
        icon=folium.Icon(color="red", icon="hand-holding-heart", prefix="fa"),
        popup=folium.Popup(f"<b>机构名称：</b>{html.escape(XSS_NAME)}", max_width=260),
        tooltip=html.escape(XSS_NAME),
    ).add_to(sites)
    folium.Marker([28.6560, 115.9100], icon=folium.Icon(color="blue", icon="home"), tooltip="街道办事处").add_to(sites)
    folium.Marker([28.6680, 115.8740], tooltip="默认图标").add_to(sites)  # Leaflet's default icon image
    folium.CircleMarker([28.6540, 115.8720], radius=8, color="#2b8cbe", fill=True, tooltip="监测点").add_to(sites)
    folium.plugins.Fullscreen(title="全屏", title_cancel="退出全屏").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    if fit:
        m.fit_bounds([[28.650, 115.870], [28.672, 115.920]])
    return m


st.set_page_config(page_title="离线地图测试", layout="wide")
st.title("离线地图测试")
if st.query_params.get("view") == "tabs":
    overview, map_tab, second_map_tab = st.tabs(["概览", "地图", "第二张地图"])
    with overview:
        st.write("第一个标签页没有地图。")
    with map_tab:
        offline.st_folium(build_map(), key="tab_map", height=460, use_container_width=True, returned_objects=[])
    with second_map_tab:
        offline.st_folium(build_map(fit=True), key="tab_map_2", height=380, use_container_width=True, returned_objects=[])
elif st.query_params.get("view") == "plain":
    # What a map builder might write without offline_map(): folium's own calls, streamlit-folium imported
    # directly, max_zoom that never reaches a tile-less map. use_local_assets() alone must be enough.
    from streamlit_folium import st_folium

    offline.use_local_assets()
    plain = folium.Map(location=[28.661, 115.880], zoom_start=15, tiles=None, max_zoom=18)
    plain_cluster = folium.plugins.MarkerCluster().add_to(plain)
    for name, lat, lng in FACILITIES:
        folium.Marker([lat, lng], tooltip=html.escape(name)).add_to(plain_cluster)
    cm.StepColormap(["#fee6ce", "#fdae6b", "#e6550d"], vmin=0, vmax=30, index=[0, 10, 20, 30],
                    caption="待办件数").add_to(plain)
    st_folium(plain, key="plain", height=400, returned_objects=[])
    st.caption("地图加载完毕")
else:
    offline.st_folium(build_map(), key="map", height=460, use_container_width=True, returned_objects=[])
    st.caption("地图加载完毕")
