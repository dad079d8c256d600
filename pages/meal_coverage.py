"""助餐覆盖: meal-service coverage of communities by subdistrict, progress against the year's targets, drill-down."""
from __future__ import annotations

import streamlit as st


from components import charts, filters, locale, maps
from components.kpis import Kpi, kpi_row
from components.session import reader
from components.tables import show_table
from components.text import md
from views import meal_coverage as view

f = filters.current()
v = view.build(reader(), f.period, f.street)
on = v.on
st.title("助餐覆盖")
st.caption(f"{f.scope} · 截至 {on:%Y年%m月%d日}（统计周期末日） · {view.DEFINITION}")
kpi_row([Kpi(*k) for k in v.kpis])


@st.fragment  # map clicks and the map's controls rerun only this part
def map_section() -> None:
    frame = maps.DistrictMap("cov", select="cov_drill", locked=f.street, toggle=False, card="cov_point")
    click = frame.read_click(v.operating_all)  # a meal point: its popup stays, its months below; a subdistrict: drill
    if click.subdistrict or click.facility is not None:
        st.session_state["cov_clicked"] = None if click.facility is None else int(click.facility["id"])
    names = v.names
    map_col, side = st.columns([4, 1])  # the map right below the cards, its controls beside it
    if f.street:
        side.markdown(f"**下钻街道：{md(names.get(f.street, f.street))}**（侧边栏已选）")
    else:
        side.selectbox("下钻街道", [""] + list(names), key="cov_drill", format_func=lambda c: names.get(c, "全区（不下钻）"),
                       help="也可以直接点击地图上的街道。", placeholder=locale.PICK)
    st.session_state.setdefault("cov_radius", v.walk_radius_m)
    rings_on = side.toggle("显示步行圈", key="cov_rings", value=True, help="围绕运营中的助餐点画出步行半径（直线距离）。")
    radius = side.number_input("步行半径（米）", *view.RADIUS_RANGE, step=50, key="cov_radius")
    if v.pace_caption:
        side.caption(v.pace_caption)
    d = view.drill(reader(), v, frame.selected, radius)
    with map_col:
        frame.show(d.boundaries, maps.coverage_picture(d.boundaries, d.coverage, meal_points=d.drawn,
                                                       communities=d.reach if len(d.reach) else None,
                                                       radius_m=radius if rings_on else None))
    _drill_button(v, frame.selected)
    if d.drawn.empty and len(d.in_scope):
        st.caption(f"助餐点较多（{len(d.in_scope):,} 个），地图按街道显示助餐覆盖率；选择街道（或点击地图上的街道）后"
                   "显示该街道的助餐点、步行圈、社区覆盖情况和逐月助餐。")
    if d.code:
        name = names.get(d.code, d.code)
        st.subheader(f"{md(name)} · 社区覆盖情况")
        show_table(view.community_table(d.reach), key="cov_comm", file_name=f"社区助餐覆盖_{name}_{on:%Y%m%d}",
                   highlight=~d.reach["covered"].reset_index(drop=True) if len(d.reach) else None)
    if d.pockets is not None:
        with st.expander(f"步行 {int(radius)} 米以外的社区（服务盲区）：{len(d.pockets):,} 个",
                         key="cov_pockets_open", on_change="rerun") as box:
            if box.open:  # built only when opened: a closed section costs the page nothing
                if len(d.pockets) > view.MAX_POCKET_ROWS:
                    st.caption(f"按60岁以上老人数排序，列出前 {view.MAX_POCKET_ROWS} 个；选择街道可查看该街道的全部盲区社区。")
                show_table(view.community_table(d.pockets.head(view.MAX_POCKET_ROWS)), key="cov_pockets",
                           file_name=f"服务盲区_{int(radius)}米_{on:%Y%m%d}")
    _meal_point(d.points_listed)


def _drill_button(v, drilled: str | None) -> None:
    """After a click on a meal point (its popup stays open): drilling into its subdistrict is a separate action."""
    point = view.clicked_point(v, st.session_state.get("cov_clicked"))
    if point is None or f.street or point.code == drilled:
        return

    def drill() -> None:
        st.session_state["cov_drill"] = point.code
        st.session_state["cov_clicked"] = None

    st.button(f"下钻到 {point.subdistrict}（{point.name} 所在街道）", key="cov_drill_point", on_click=drill,
              icon=":material/zoom_in:", help="地图改为显示该街道的助餐点、步行圈和社区覆盖情况。")


def _meal_point(points) -> None:
    if points.empty:
        return
    st.subheader("助餐点逐月助餐")
    ids = [int(i) for i in points["id"]]
    labels = dict(zip(ids, points["name"]))
    if st.session_state.get("cov_point") not in ids:
        st.session_state["cov_point"] = ids[0]
    fid = st.selectbox("助餐点", ids, key="cov_point", format_func=lambda i: labels.get(i, str(i)),
                       help="也可以直接点击地图上的助餐点。", placeholder=locale.PICK)
    months = view.point_months(reader(), fid, on, f.last_data_day)
    if months is None:
        st.info("该助餐点本年度尚无助餐记录。")
        return
    charts.show(charts.line_by_month(months.chart, "month", "份数", color="类别", y_title="助餐（份）"),
                key="cov_point_chart")
    show_table(months.table, key="cov_point_table", file_name=f"助餐点逐月助餐_{labels.get(fid, fid)}_{months.year}")


map_section()

st.subheader("分街道助餐覆盖")
show_table(v.table, key="cov_by_sub", file_name=f"分街道助餐覆盖_{f.period.key}",
           title=f"分街道助餐覆盖（截至 {on:%Y-%m-%d}，助餐份数为 {f.period.label}）")

st.subheader(f"{on.year}年逐月进度")
if v.trend_points is None:
    st.info("本年度暂无数据。")
else:
    c_left, c_right = st.columns(2)
    with c_left:
        charts.show(charts.line_by_month(v.trend_points, "month", "value", color="series", y_title="运营助餐点（个）",
                                         x_title="月末"), key="cov_trend_points")
    with c_right:
        charts.show(charts.line_by_month(v.trend_rate, "month", "value", color="series", y_title="社区助餐覆盖率（%）",
                                         x_title="月末"), key="cov_trend_rate")
    st.caption("每月取月末当日（最后一点为截至日）的运营助餐点数和覆盖率；目标线为全区年度目标。")
