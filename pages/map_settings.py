"""地图设置: basemap, 天地图 key, default walking radius, and the import of the official subdistrict boundaries."""
from __future__ import annotations

import streamlit as st


from components import filters, locale, maps
from components.session import reader
from components.text import md
from views import map_settings as view

filters.ensure_entry_script()  # this page reads no shared filter, but must run through app.py

st.title("地图设置")
if flash := st.session_state.pop("mapset_flash", None):
    st.success(flash)

# --- basemap and walking radius ---------------------------------------------------------------
v = view.build(reader())
current = v.settings
st.subheader("底图与步行半径")
with st.form("mapset_form"):
    kind = st.radio("底图", list(view.BASEMAPS), index=list(view.BASEMAPS).index(current.basemap),
                    format_func=view.BASEMAPS.get, key="mapset_basemap",
                    help="内网默认不加载任何瓦片。天地图、高德瓦片来自外部服务器，只有能访问这些服务时才选用；"
                         "完全隔离的内网可用本单位瓦片服务或本机瓦片显示街道底图。")
    key = st.text_input("天地图密钥（tk）", value=current.tianditu_key, type="password", key="mapset_tk",
                        help="向天地图申请的浏览器端密钥；仅在选择天地图时使用。")
    tile_url = st.text_input("本单位瓦片服务地址模板", value=current.tile_url, key="mapset_tile_url",
                             placeholder=f"例如 {view.TILE_URL_EXAMPLE}", help=view.TILE_URL_HELP)
    tile_path = st.text_input("本机瓦片文件夹或 MBTiles 文件", value=current.tile_path, key="mapset_tile_path",
                              placeholder="例如 /data/tiles/xihu 或 /data/tiles/xihu.mbtiles", help=view.TILE_PATH_HELP)
    datum = st.radio("瓦片坐标系（本单位瓦片服务、本机瓦片）", list(view.TILE_DATUMS), key="mapset_tile_datum",
                     index=list(view.TILE_DATUMS).index(current.tile_datum), format_func=view.TILE_DATUMS.get)
    st.caption(view.CRS_NOTE)
    radius = st.number_input("默认步行半径（米）", min_value=view.RADIUS_RANGE[0], max_value=view.RADIUS_RANGE[1],
                             value=int(current.walk_radius_m), step=50, key="mapset_radius",
                             help="助餐覆盖页的步行圈、选址分析的默认半径（直线距离）。")
    if st.form_submit_button("保存设置", type="primary"):
        done, problem = view.save(reader(), kind, key, int(radius), tile_url=tile_url, tile_path=tile_path,
                                  tile_datum=datum)
        if problem:
            st.error(md(problem))
        else:
            st.session_state["mapset_flash"] = done
            st.rerun()
if current.basemap == "gaode" or (current.basemap in ("custom", "local") and current.tile_datum == "gcj02"):
    st.caption("底图为 GCJ-02 坐标时，所有点位和边界在绘制前由 WGS-84 转换为 GCJ-02（西湖区约偏移 600 米）；数据库中仍存 WGS-84。")
if current.basemap in ("custom", "local"):
    with st.expander("底图预览", key="mapset_tiles_open", on_change="rerun") as box:
        if box.open:  # drawn only when opened
            maps.DistrictMap("mapset_tiles", map_key="mapset_tiles_preview", clicks=False, settings=current).show(
                view.boundaries(reader()), height=420)

# --- official boundaries ----------------------------------------------------------------------
st.subheader("街道正式边界导入")
if v.official:
    st.info("当前使用民政局导入的正式街道边界。")
else:
    st.warning("当前街道边界为示意边界，非法定界线。导入民政局的街道界线文件后，地图将改用正式边界。")
st.markdown("支持 **GeoJSON**（.geojson / .json）或 **Shapefile 压缩包**（.zip，含 .shp、.shx、.dbf，最好带 .prj 与 .cpg）。"
            "每个要素的属性中需有街道名称或区划代码（统计用区划代码或地名代码均可），全部街道须一次导入。")
upload = st.file_uploader("边界文件", type=["geojson", "json", "zip"],
                          key=f"mapset_upload_{st.session_state.get('mapset_uploads', 0)}", help=locale.UPLOAD_BOUNDARY)
crs_pick = st.selectbox("文件坐标系", view.CRS_OPTIONS, key="mapset_crs",
                        format_func=lambda c: view.CRS_LABELS.get(c, c), placeholder=locale.PICK)
crs = None if crs_pick == "auto" else crs_pick
if crs_pick == "other":
    crs = st.text_input("EPSG 代码", placeholder="例如 EPSG:4549", key="mapset_epsg").strip() or None

if upload is not None:
    checked = view.check(v, upload.getvalue(), upload.name, crs)
    result = checked.result
    for note in result.notes:
        st.caption(md(note))
    for err in result.errors:
        st.error(md(err))
    for warn in result.warnings:
        st.warning(warn)
    if len(result.matches):
        st.dataframe(result.matches, hide_index=True, width="stretch", key="mapset_matches")
    if result.ok:
        st.success(f"校验通过：{len(result.boundaries)} 个街道边界（坐标系 {checked.crs_label}）。请核对下方预览后确认导入。")
        maps.DistrictMap("mapset", map_key="mapset_preview", clicks=False, settings=current).show(
            checked.preview, height=420)
        if st.button("确认导入，替换示意边界", type="primary", key="mapset_store"):
            done, problem = view.store(reader(), result.boundaries)
            if problem:
                st.error(md(problem))
            else:
                st.session_state["mapset_flash"] = done
                st.session_state["mapset_uploads"] = st.session_state.get("mapset_uploads", 0) + 1  # clear the upload
                st.rerun()

if v.official:
    with st.expander("恢复示意边界"):
        st.caption("仅在导入了错误文件时使用：所有街道改回项目生成的示意边界。")
        if st.button("恢复示意边界", key="mapset_restore"):
            st.session_state["mapset_flash"] = view.restore(reader())
            st.rerun()
