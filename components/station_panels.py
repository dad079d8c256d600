"""站点任务与考核 on screen: the task board (completion matrix and planned vs done with sources), the score with its
formula, the ranking with publishing and the 考核通报 download, the monthly dispatch meetings, the stations' own
entries and the duty-list editor. Tables leave only through components.tables / styled_tables (exports.xlsx), the
通报 only through components.downloads; user text reaches the screen through components.text."""
from __future__ import annotations

from datetime import date
from typing import Callable

import pandas as pd
import streamlit as st


from components import charts, locale
from components.downloads import DOCX, download_button
from components.kpis import Kpi, kpi_row
from components.styled_tables import show_styled_table
from components.tables import show_table
from components.text import md
from data.security.access import AccessDenied, Reader
from exports.assessment_docx import assessment_docx
from views import stations as view
from views.supervision import EditError, StaleEdit


def _flash(key: str) -> None:
    if msg := st.session_state.pop(f"{key}_flash", None):
        st.success(md(msg))


def _attempt(key: str, write: Callable[[], object], success: str) -> None:
    try:
        write()
    except StaleEdit as exc:
        st.error(f"未保存：{md(exc.message)}")
        return
    except (EditError, AccessDenied) as exc:
        st.error(f"未保存：{md(getattr(exc, 'message', exc))}")
        return
    st.session_state[f"{key}_flash"] = success
    st.rerun()


def headline(page: view.StationsPage) -> None:
    scores = page.scores
    assessed = scores[scores["是否考核"] == "是"] if "是否考核" in scores else scores
    if page.street_locked:
        score = f"{assessed['总分'].iloc[0]:.1f}" if len(assessed) else "—"
        kpi_row([Kpi("本站得分（试算）", score, help="按当前台账、填报和督办单即时计算"),
                 Kpi("结果状态", "已发布" if page.published else "未发布", help="发布后各站可见本站排名")])
        st.info(md(page.own_rank_text))
        return
    items = [Kpi("考核站点（个）", str(len(assessed))),
             Kpi("平均得分（试算）", f"{assessed['总分'].mean():.1f}" if len(assessed) else "—",
                 help="按当前台账、填报和督办单即时计算"),
             Kpi("最高分", f"{assessed['总分'].max():.1f}" if len(assessed) else "—"),
             Kpi("结果状态", "已发布" if page.published else "未发布", help="发布后各站可见本站排名")]
    kpi_row(items)


def board(page: view.StationsPage, key: str) -> None:
    st.caption(f"服务内容清单：{md(page.task_version)}。完成率 = 完成数 ÷ 计划数（单项最高 100%）；"
               "“数据来源”说明每个数字从哪本台账统计，台账没有的由站点填报。")
    if page.matrix.empty:
        st.info("没有站点数据。")
        return
    show_table(page.matrix, key=f"{key}_matrix", file_name=f"站点任务完成率_{page.month}",
               title=f"站点任务完成率（{page.label}）")
    with st.expander("计划与完成明细（含数据来源）"):
        show_table(page.board, key=f"{key}_detail", file_name=f"站点任务明细_{page.month}",
                   title=f"站点任务计划与完成（{page.label}）")


def scores(page: view.StationsPage, key: str) -> None:
    st.markdown(f"**计分公式**：{md(page.formula)}")
    show_table(page.weights, key=f"{key}_weights", file_name="考核权重")
    show_styled_table(page.scores, key=f"{key}_scores", file_name=f"站点考核得分_{page.month}",
                      title=f"站点考核得分（试算，{page.label}）")


def ranking(page: view.StationsPage, key: str, *, on_publish: Callable[[], object] | None,
            report: Callable[[object], bytes] | None) -> None:
    if page.own_ranks is not None:
        st.markdown("**本站各月考核结果（已发布）**")
        if page.own_ranks.empty:
            st.info("尚无已发布的考核结果。")
        else:
            show_table(page.own_ranks, key=f"{key}_own", file_name="本站考核结果")
        return
    if page.ranking is None or page.ranking.empty:
        st.info("本月没有可考核的站点。")
        return
    state = (f"已于 {page.published_at:%Y-%m-%d %H:%M} 发布" if page.published and page.published_at
             else "尚未发布（以下为按当前台账的试算）")
    st.markdown(f"**{page.label}排名** · {state}")
    show_styled_table(page.ranking, key=f"{key}_rank", file_name=f"站点考核排名_{page.month}",
                      title=f"街道民政服务站考核排名（{page.label}）")
    charts.show(charts.bars(page.ranking, "总分", "站点", x_title="总分", y_title="站点", horizontal=True,
                            height=30 * len(page.ranking) + 40), key=f"{key}_chart")
    _flash(key)
    if report is not None:
        download_button("下载考核通报（Word）", report, file_name=f"考核通报_{page.month}.docx", mime=DOCX,
                        key=f"{key}_docx")
    if on_publish is not None:
        with st.popover("发布本月考核结果" if not page.published else "重新发布本月考核结果"):
            st.caption("发布后，各街道账号可看到本站得分和排名；重新发布会以当前数据替换已发布的结果（留痕）。")
            if st.button("确认发布", key=f"{key}_publish", type="primary"):
                _attempt(key, on_publish, f"{page.label}考核结果已发布。")


def report_builder(reader: Reader, month: str) -> Callable[[object], bytes]:
    """The 考核通报 of the month built on click, as the principal who clicked (components.downloads)."""
    return lambda who: assessment_docx(view.report(reader.as_(who), month))


def dispatches(page: view.StationsPage, key: str) -> None:
    if page.dispatches is None:
        return
    if page.dispatches.empty:
        st.info(f"{page.label}没有调度记录。")
        return
    show_table(page.dispatches, key=f"{key}_list", file_name=f"一月一调度_{page.month}",
               title=f"一月一调度（{page.label}）")


def dispatch_form(stations: pd.DataFrame, *, key: str, on_save: Callable[[dict], dict],
                  today: date | None = None) -> None:
    """记录一月一调度 (业务科室): date, attendees, decisions; each task row becomes a 督办单 to the station."""
    today = today or date.today()
    _flash(key)
    codes = list(stations["subdistrict_code"])
    names = dict(zip(stations["subdistrict_code"], stations["station_name"]))
    with st.form(f"{key}_form"):
        a, b = st.columns(2)
        code = a.selectbox("站点", codes, format_func=names.get, key=f"{key}_station", placeholder=locale.PICK)
        held = b.date_input("调度日期", today, max_value=today, key=f"{key}_held")
        attendees = st.text_input("参加人员", max_chars=500, key=f"{key}_att")
        decisions = st.text_area("调度事项和决定", max_chars=2000, key=f"{key}_dec")
        st.markdown("交办任务（每行生成一张督办单，可不填）")
        tasks = st.data_editor(pd.DataFrame({"督办事项": pd.Series(dtype=str), "责任人": pd.Series(dtype=str),
                                             "整改期限": pd.Series(dtype="datetime64[ns]"),
                                             "整改要求": pd.Series(dtype=str)}),
                               num_rows="dynamic", key=f"{key}_tasks", width="stretch",
                               column_config={"整改期限": st.column_config.DateColumn(min_value=today)})
        go = st.form_submit_button("保存调度记录", type="primary")
    if go:
        rows = [{"title": r["督办事项"], "assignee": r["责任人"], "deadline": r["整改期限"], "requirement": r["整改要求"]}
                for r in tasks.to_dict("records") if any(pd.notna(v) and str(v).strip() for v in r.values())]
        values = {"subdistrict_code": code, "held_on": held, "attendees": attendees, "decisions": decisions,
                  "tasks": rows}
        _attempt(key, lambda: on_save(values), "调度记录已保存，交办任务已派发为督办单。")


def entries(page: view.StationsPage, key: str, *, on_save: Callable[[dict, object, str], object]) -> None:
    """站点填报: the month's hand-entered duties; only changed rows are saved, each on its own version."""
    if page.entries is None:
        return
    _flash(key)
    if page.entries.empty:
        st.info("本月服务内容清单中没有需要填报的任务。")
        return
    shown = page.entries[["站点", "任务", "计划", "单位", "完成数", "说明"]]
    edited = st.data_editor(shown, key=f"{key}_editor_{page.month}", hide_index=True, width="stretch",
                            disabled=["站点", "任务", "计划", "单位"],
                            column_config={"完成数": st.column_config.NumberColumn(min_value=0, step=1)})
    if st.button("保存填报", key=f"{key}_save", type="primary"):
        changed, problems = 0, []
        for i, row in page.entries.iterrows():
            done, note = edited.at[i, "完成数"], edited.at[i, "说明"] or ""
            if pd.isna(done) or (done == row["完成数"] and note == row["说明"]):
                continue
            try:
                on_save(row.to_dict(), done, note)
                changed += 1
            except (EditError, StaleEdit, AccessDenied) as exc:
                problems.append(f"{row['站点']} · {row['任务']}：{getattr(exc, 'message', exc)}")
        for p in problems:
            st.error(md(p))
        if changed and not problems:
            st.session_state[f"{key}_flash"] = f"已保存 {changed} 项填报。"
            st.rerun()
        if not changed and not problems:
            st.info("没有修改。")


def tasks(page: view.StationsPage, key: str) -> None:
    st.caption(f"服务内容清单：{md(page.task_version)}")
    show_table(page.tasks, key=f"{key}_list", file_name=f"服务内容清单_{page.month}", title="服务内容清单")


def tasks_editor(rows: pd.DataFrame, revision: int, month_from: str, *, key: str,
                 on_save: Callable[[list[dict]], object]) -> None:
    """修改服务内容清单 (业务科室): saved as the version applying from `month_from`."""
    _flash(key)
    st.caption(f"保存为 {md(view.month_label(month_from))} 起适用的版本；已发布考核结果的月份不能再改。")
    # the editor shows and takes the bases and sources in words; they are stored by their keys
    bases = {k: ("每站每月固定数" if k == "fixed" else "按" + v.lstrip("× ")) for k, v in view.BASES.items()}
    sources = {k: v.split("：")[0] for k, v in view.TASK_SOURCES.items()}
    # the task's code rides in the (hidden) index: a row added in the editor has none and gets a new code
    shown = pd.DataFrame({"任务名称": rows["name"].to_numpy(), "单位": rows["unit"].to_numpy(),
                          "每月数量": rows["quantity"].to_numpy(), "计划基数": rows["basis"].map(bases).to_numpy(),
                          "数据来源": rows["source"].map(sources).to_numpy()}, index=pd.Index(rows["code"], name="code"))
    edited = st.data_editor(shown, key=f"{key}_editor_{month_from}_{revision}", num_rows="dynamic", hide_index=True,
                            width="stretch", column_config={
                                "计划基数": st.column_config.SelectboxColumn(options=list(bases.values()), required=True),
                                "数据来源": st.column_config.SelectboxColumn(options=list(sources.values()),
                                                                         required=True),
                                "每月数量": st.column_config.NumberColumn(min_value=0, step=1)})
    st.caption("计划基数：" + "；".join(f"{bases[k]}（{v}）" for k, v in view.BASES.items()) + "。数据来源：" +
               "；".join(view.TASK_SOURCES.values()) + "。")
    if st.button("保存服务内容清单", key=f"{key}_save", type="primary"):
        basis_key = {v: k for k, v in bases.items()}
        source_key = {v: k for k, v in sources.items()}
        out = [{"code": code if isinstance(code, str) else None, "name": r["任务名称"], "unit": r["单位"],
                "quantity": r["每月数量"], "basis": basis_key.get(r["计划基数"], r["计划基数"]),
                "source": source_key.get(r["数据来源"], r["数据来源"])}
               for code, r in zip(edited.index, edited.to_dict("records"))]
        _attempt(key, lambda: on_save(out), "服务内容清单已保存。")
