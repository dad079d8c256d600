"""工作总结数据: every figure of the work report for the period, in the report's sections and words, beside the previous
period; the targets' progress; a Word draft and an Excel sheet of the figures."""
import streamlit as st

from components import filters
from components.downloads import DOCX, XLSX, download_button
from exports.report_docx import report_docx, report_xlsx
from data.domain import report
from data.db.cache import q

# figure.page → the page that shows its detail
DETAIL_PAGES = {
    "overview": ("pages/overview.py", "总览"),
    "facilities": ("pages/facilities.py", "设施布局"),
    "meal_coverage": ("pages/meal_coverage.py", "助餐覆盖"),
    "aid": ("pages/aid.py", "救助发放"),
    "rectification": ("pages/rectification.py", "整改进度"),
}

f = filters.current()
period, why = report.report_period(f.period, f.last_data_day)
prev = period.previous()
slug = f"{f.scope}_{period.key.replace('~', '至')}"  # for file names
st.title("工作总结数据")
st.caption(f"{f.scope} · {period.label}（{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}） · 与上一期（{prev.label}）比较 · "
           "表述沿用2024年上半年工作总结原文，数字按各指标口径从台账生成")
if why:
    st.caption(f"ℹ️ {why}")

rows = q(report.report_rows, period, f.street)

left, right = st.columns(2)
# the Word and Excel files are built when a button is clicked, not on every run of the page
download_button("下载 Word 草稿（数据部分）", lambda _who: report_docx(rows, period.label, f.scope),
                file_name=f"工作总结数据_{slug}.docx", key="report_docx", mime=DOCX, where=left)
download_button("下载 Excel（指标表）", lambda _who: report_xlsx(rows, title=f"工作总结数据（{f.scope}，{period.label}）"),
                file_name=f"工作总结数据_{slug}.xlsx", key="report_xlsx", mime=XLSX, where=right)

st.subheader("目标任务进度")
st.caption(f"截至 {period.end:%Y-%m-%d}；进度按从基期到期限匀速推进计算，低于应达进度即为“进度滞后”。")
targets = report.target_rows(rows)
st.dataframe(targets.drop(columns=["编号", "截至"]), hide_index=True, width="stretch", key="report_targets")

link_params = {"period": period.key, **({"street": f.street} if f.street else {})}
# rows grouped by section once, as plain dicts (a pandas filter and itertuples per section cost more than drawing)
by_section: dict[str, list[dict]] = {}
for r in rows[["id", "section", "text", "district_level", "definition", "page", "previous", "unit", "change",
               "previous_text"]].to_dict("records"):
    by_section.setdefault(r["section"], []).append(r)
for part, sections in report.PARTS:
    st.header(part, divider="gray")
    for section in sections:
        part_rows = by_section.get(section)
        if not part_rows:
            continue
        st.subheader(f"{report.HEADINGS[section]}（{section}）")
        for r in part_rows:
            with st.container(border=True):
                text_col, compare_col = st.columns([3, 1])
                text_col.markdown(f"**{r['id']}**　{r['text']}")
                scope_note = "（全区口径，不按街道统计）" if r["district_level"] else ""
                text_col.caption(f"口径：{r['definition']}{scope_note}")
                page = DETAIL_PAGES.get(r["page"])
                if page:
                    text_col.page_link(page[0], label=f"查看明细：{page[1]}",
                                       query_params=link_params)
                compare_col.markdown(f"上期（{prev.label}）：{report.fmt_number(r['previous'], r['unit'])}  \n"
                                     f"变化：{report.fmt_change(r['change'], r['unit'])}",
                                     help=f"上期表述：{r['previous_text']}")
