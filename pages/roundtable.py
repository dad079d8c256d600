"""圆桌会模式: a full-screen presentation of a quarter in five views — aggregates only, frozen figures when reported."""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from components import filters
from components.auth_ui import principal
from components.downloads import PPTX, download_button
from components.text import html_text, md
from exports.roundtable_pptx import headline_items, roundtable_deck, subtitle, view_image, view_title
from data.db import cache
from data.writes import frozen as fz
from data.queries.access import AccessDenied
from data.domain import period as periods

f = filters.current()
LAST = len(fz.STEPS)

# --- quarter ----------------------------------------------------------------------------------------------
latest = periods.latest_complete("quarter", f.last_data_day)
default = f.period if f.period.kind == "quarter" else latest
options = periods.options(latest, date(2023, 1, 1), limit=40, keep=default.key)

if "rt_step" not in st.session_state:
    st.session_state.rt_step = 1


def _go(delta: int) -> None:
    st.session_state.rt_step = min(max(st.session_state.rt_step + delta, 1), LAST)


dark = st.session_state.get("rt_dark", False)
bg, fg, muted = ("#0f172a", "#f8fafc", "#cbd5e1") if dark else ("#ffffff", "#0f172a", "#475569")
st.html(f"""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stSidebarNav"] {{ display: none !important; }}
.stApp, [data-testid="stHeader"] {{ background: {bg} !important; }}
.stApp, .stApp p, .stApp label, .stApp h1, .stApp h2, .stApp span, .stApp summary {{ color: {fg} !important; }}
.block-container {{ max-width: 1880px !important; padding-top: 1.2rem !important; }}
.rt-title {{ font-size: 3rem; font-weight: 700; line-height: 1.2; margin: 0; }}
.rt-sub {{ font-size: 1.4rem; color: {muted} !important; margin: 0.2rem 0 1rem 0; }}
.rt-num {{ font-size: 3.4rem; font-weight: 800; line-height: 1.1; }}
.rt-label {{ font-size: 1.5rem; font-weight: 600; }}
.rt-def {{ font-size: 0.95rem; color: {muted} !important; margin-bottom: 1.2rem; }}
</style>""")

top = st.columns([3, 1, 1, 1, 1])
with top[0]:
    key = st.selectbox("季度", options, index=options.index(default.key), format_func=periods.label,
                       key=f"rt_quarter_{default.key}", label_visibility="collapsed")
with top[1]:
    st.toggle("深色主题", key="rt_dark")
with top[2]:
    st.button("上一页", key="rt_prev", on_click=_go, args=(-1,), disabled=st.session_state.rt_step <= 1,
              width="stretch")
with top[3]:
    st.button("下一页", key="rt_next", on_click=_go, args=(1,), disabled=st.session_state.rt_step >= LAST,
              width="stretch")
with top[4]:
    st.markdown(f"**第 {st.session_state.rt_step} / {LAST} 页**")
quarter = periods.parse(key)
step = st.session_state.rt_step

# Left / right arrow keys click 上一页 / 下一页 (runs in the page itself; nothing is loaded from anywhere).
st.html("""<script>
(function () {
  const w = window.parent && window.parent.document ? window.parent : window;
  if (w.__rtKeyHandler) w.document.removeEventListener('keydown', w.__rtKeyHandler);
  w.__rtKeyHandler = function (e) {
    const t = e.target, tag = t && t.tagName ? t.tagName.toLowerCase() : '';
    if (tag === 'input' || tag === 'textarea' || tag === 'select' || (t && t.isContentEditable)) return;
    const label = e.key === 'ArrowRight' || e.key === 'PageDown' ? '下一页'
                : e.key === 'ArrowLeft' || e.key === 'PageUp' ? '上一页' : null;
    if (!label) return;
    const btn = Array.from(w.document.querySelectorAll('button')).find(b => b.innerText.trim() === label);
    if (btn && !btn.disabled) { e.preventDefault(); btn.click(); }
  };
  w.document.addEventListener('keydown', w.__rtKeyHandler);
})();
</script>""", unsafe_allow_javascript=True)

figs, info = cache.q(fz.figures_for_display, quarter)


# Kept on disk as well (~/.streamlit/cache, when the server may write there), keyed on the figures themselves:
# after a restart of the server the projected slide shows without rendering it again (matplotlib's import and the
# drawing take ~1.3 s); new figures make a new key, so an image never outlives the data it shows.
@st.cache_data(show_spinner=False, max_entries=64, persist=cache.disk_persist())
def _image(figs: pd.DataFrame, step: int, theme: str) -> bytes:
    return view_image(figs, step, size="slide", theme=theme)


# every text below comes from stored rows (冻结人 is typed by whoever froze the quarter): escaped into the HTML
st.html(f'<p class="rt-title">{html_text(view_title(step, quarter))}</p>'
        f'<p class="rt-sub">西湖区民政局 · {html_text(subtitle(info))}</p>')
numbers, picture = st.columns([1, 2.4])
with numbers:
    for item in headline_items(figs, step):
        st.html(f'<div class="rt-label">{html_text(item["label"])}</div><div class="rt-num">{html_text(item["text"])}'
                f'</div><div class="rt-def">口径：{html_text(item["definition"])}</div>')
with picture:
    st.image(_image(figs, step, "dark" if dark else "light"), width="stretch")
st.caption("仅展示汇总数据，不含任何个人信息；街道内少于3的人数以“<3”显示。← → 方向键翻页。")

# --- staff: live vs frozen, freezing, export ------------------------------------------------------------------
with st.expander("工作人员：实时数与冻结数对比、冻结、导出", key="rt_staff_open", on_change="rerun") as box:
    if box.open:  # built only when opened: a closed section costs the page nothing
        cmp = cache.q(fz.compare, quarter)
        if info is None:
            st.info(f"{quarter.label}尚未冻结：演示显示的是实时数。")
        else:
            changed = int(cmp["changed"].sum())
            st.markdown(f"冻结于 {info['frozen_at']:%Y-%m-%d %H:%M}（数据截至 {info['as_of']}，"
                        f"冻结人 {md(info['frozen_by'])}）；冻结后实时数有变化的指标：{changed} 项。")
        shown = cache.q(fz.comparison_table, quarter)
        st.dataframe(shown, hide_index=True, width="stretch", height=320)

        user = principal()
        if user.can_freeze:
            st.markdown("**冻结本季度数据**（局领导、业务科室可操作，记入审计日志）")
            who = st.text_input("冻结人（署名）", value=user.display_name or user.username, key="rt_frozen_by")
            sure = st.checkbox(f"确认以当前实时数冻结{quarter.label}的演示数据", key="rt_confirm")
            replace = info is not None and st.checkbox("替换已有冻结数", key="rt_replace")
            if st.button("冻结本季度数据", key="rt_freeze", disabled=not sure or not who.strip()):
                try:
                    n = fz.freeze(cache.engine(), user, quarter, who, replace=replace)
                    st.success(f"已冻结 {n} 项指标。")
                    st.rerun()
                except fz.AlreadyFrozen as exc:
                    st.warning(md(exc))
                except (AccessDenied, ValueError) as exc:
                    st.error(md(exc))
        else:
            st.caption(f"冻结季度数据仅限局领导、业务科室账号；{user.role_label}账号只能查看。")
        download_button("下载演示文稿（PowerPoint）", lambda _who: roundtable_deck(figs, info, quarter),
                        file_name=f"圆桌会_{quarter.key}.pptx", key="rt_pptx", mime=PPTX)

