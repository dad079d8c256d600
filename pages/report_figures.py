"""工作总结数据: every figure of the work report for the period, in the report's sections and words, beside the previous
period; the targets' progress; a Word draft and an Excel sheet of the figures."""
import streamlit as st

from components import documents, filters
from components.kpis import kpi_row
from components.navigation import PAGES
from components.session import reader
from views import report

DETAIL_PAGES = {spec.url_path: spec for spec in PAGES}  # figure.page → the page that shows its detail

f = filters.current()
page = report.build(reader(), f.period, f.last_data_day, f.street, f.scope)
period, prev = page.period, page.previous
st.title("工作总结数据")
st.caption(f"{f.scope} · {period.label}（{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}） · 与上一期（{prev.label}）比较 · "
           "表述沿用2024年上半年工作总结原文，数字按各指标口径从台账生成")
if page.note:
    st.caption(f"ℹ️ {page.note}")

kpi_row(page.cards)
left, right = st.columns(2)
documents.report_buttons(page, left, right)  # built when a button is clicked, not on every run of the page

st.subheader("目标任务进度")
st.caption(f"截至 {period.end:%Y-%m-%d}；进度按从基期到期限匀速推进计算，低于应达进度即为“进度滞后”。")
st.dataframe(page.targets.drop(columns=["编号", "截至"]), hide_index=True, width="stretch", key="report_targets")

link_params = {"period": period.key, **({"street": f.street} if f.street else {})}
for part, sections in page.parts:
    st.header(part, divider="gray")
    for section in sections:
        st.subheader(f"{section.heading}（{section.name}）")
        for r in section.rows:
            with st.container(border=True):
                text_col, compare_col = st.columns([3, 1])
                text_col.markdown(f"**{r['id']}**　{r['text']}")
                scope_note = "（全区口径，不按街道统计）" if r["district_level"] else ""
                text_col.caption(f"口径：{r['definition']}{scope_note}")
                detail = DETAIL_PAGES.get(r["page"])
                if detail:
                    text_col.page_link(detail.file, label=f"查看明细：{detail.title}", query_params=link_params)
                compare_col.markdown(f"上期（{prev.label}）：{report.fmt_number(r['previous'], r['unit'])}  \n"
                                     f"变化：{report.fmt_change(r['change'], r['unit'])}",
                                     help=f"上期表述：{r['previous_text']}")
