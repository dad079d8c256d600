"""地图设置: basemap, 天地图 key, default walking radius, and the import of the official subdistrict boundaries."""
from __future__ import annotations

import pandas as pd
import streamlit as st
from shapely.geometry import mapping

from components import filters, maps
from components.auth_ui import principal
from components.text import md
from data.db import cache
from data.imports.boundaries import BoundaryWriteError, restore_schematic_boundaries, store_official_boundaries
from data.queries import geography
from data.ops.settings import BASEMAPS, RADIUS_RANGE, MapSettings, SettingsError, map_settings, save_map_settings
from geo import boundary_import as bi
from geo import layers

filters.ensure_entry_script()  # this page reads no shared filter, but must run through app.py

st.title("地图设置")
if flash := st.session_state.pop("mapset_flash", None):
    st.success(flash)

# --- basemap and walking radius ---------------------------------------------------------------
current = cache.q(map_settings)
st.subheader("底图与步行半径")
with st.form("mapset_form"):
    kind = st.radio("底图", list(BASEMAPS), index=list(BASEMAPS).index(current.basemap), format_func=BASEMAPS.get,
                    key="mapset_basemap",
                    help="内网默认不加载任何瓦片。天地图、高德瓦片来自外部服务器，只有能访问这些服务时才选用。")
    key = st.text_input("天地图密钥（tk）", value=current.tianditu_key, type="password", key="mapset_tk",
                        help="向天地图申请的浏览器端密钥；仅在选择天地图时使用。")
    radius = st.number_input("默认步行半径（米）", min_value=RADIUS_RANGE[0], max_value=RADIUS_RANGE[1],
                             value=int(current.walk_radius_m), step=50, key="mapset_radius",
                             help="助餐覆盖页的步行圈、选址分析的默认半径（直线距离）。")
    if st.form_submit_button("保存设置", type="primary"):
        try:
            saved = save_map_settings(cache.engine(), MapSettings(kind, key, int(radius)), by=principal())
        except SettingsError as exc:
            st.error(md(exc))
        else:
            st.session_state["mapset_flash"] = f"已保存：{BASEMAPS[saved.basemap]}，默认步行半径 {saved.walk_radius_m} 米。"
            st.rerun()
if current.basemap == "gaode":
    st.caption("使用高德底图时，所有点位和边界在绘制前由 WGS-84 转换为 GCJ-02（西湖区约偏移 600 米）；数据库中仍存 WGS-84。")

# --- official boundaries ----------------------------------------------------------------------
st.subheader("街道正式边界导入")
subs = cache.q(geography.subdistricts)
official = bool(len(subs)) and bool(subs["boundary_official"].all())
if official:
    st.info("当前使用民政局导入的正式街道边界。")
else:
    st.warning("当前街道边界为示意边界，非法定界线。导入民政局的街道界线文件后，地图将改用正式边界。")
st.markdown("支持 **GeoJSON**（.geojson / .json）或 **Shapefile 压缩包**（.zip，含 .shp、.shx、.dbf，最好带 .prj 与 .cpg）。"
            "每个要素的属性中需有街道名称或区划代码（统计用区划代码或地名代码均可），全部街道须一次导入。")
upload = st.file_uploader("边界文件", type=["geojson", "json", "zip"],
                          key=f"mapset_upload_{st.session_state.get('mapset_uploads', 0)}")
crs_options = ["auto"] + list(bi.CRS_CHOICES) + ["other"]
crs_pick = st.selectbox("文件坐标系", crs_options, key="mapset_crs",
                        format_func=lambda c: {"auto": "按文件声明（.prj 或 GeoJSON 的 crs；GeoJSON 未声明时视为 WGS-84）",
                                               "other": "其他（填写 EPSG 代码）"}.get(c, bi.CRS_CHOICES.get(c, c)))
crs = None if crs_pick == "auto" else crs_pick
if crs_pick == "other":
    crs = st.text_input("EPSG 代码", placeholder="例如 EPSG:4549", key="mapset_epsg").strip() or None

if upload is not None:
    result = bi.validate_boundaries(upload.getvalue(), upload.name, subs[["code", "name", "code_mca"]],
                                    layers.district_outline(), crs=crs)
    for note in result.notes:
        st.caption(md(note))
    for err in result.errors:
        st.error(md(err))
    for warn in result.warnings:
        st.warning(warn)
    if len(result.matches):
        st.dataframe(result.matches, hide_index=True, width="stretch", key="mapset_matches")
    if result.ok:
        st.success(f"校验通过：{len(result.boundaries)} 个街道边界（坐标系 {bi.CRS_CHOICES.get(result.source_crs, result.source_crs)}）。"
                   "请核对下方预览后确认导入。")
        names = dict(zip(subs["code"], subs["name"]))
        preview = pd.DataFrame({"code": list(result.boundaries), "name": [names[c] for c in result.boundaries],
                                "boundary_geojson": list(result.boundaries.values()), "boundary_official": True})
        basemap = maps.Basemap(current.basemap, current.tianditu_key)
        maps.show_map(maps.boundaries_map(preview, outline=mapping(layers.district_outline()), basemap=basemap),
                      key="mapset_preview", height=420)
        if st.button("确认导入，替换示意边界", type="primary", key="mapset_store"):
            try:
                n = store_official_boundaries(cache.engine(), result.boundaries, by=principal())
            except BoundaryWriteError as exc:
                st.error(md(exc))
            else:
                st.session_state["mapset_flash"] = f"已导入 {n} 个街道的正式边界，各地图不再标注“示意边界”。"
                st.session_state["mapset_uploads"] = st.session_state.get("mapset_uploads", 0) + 1  # clear the upload
                st.rerun()

if official:
    with st.expander("恢复示意边界"):
        st.caption("仅在导入了错误文件时使用：所有街道改回项目生成的示意边界。")
        if st.button("恢复示意边界", key="mapset_restore"):
            gdf = layers.subdistricts_gdf()
            restore_schematic_boundaries(cache.engine(), {c: mapping(g) for c, g in zip(gdf["code"], gdf.geometry)},
                                         by=principal())
            st.session_state["mapset_flash"] = "已恢复示意边界。"
            st.rerun()
