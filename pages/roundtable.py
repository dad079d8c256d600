"""圆桌会模式: a full-screen presentation of a quarter in five views — aggregates only, frozen figures when reported."""
from __future__ import annotations

import time

import streamlit as st


from components import documents, filters, locale
from components.session import reader
from components.slides import arrow_keys, definitions, fullscreen_button, slide, slide_image, theme
from components.text import html_text, md
from views import roundtable as rt
from views.common import parse_period, period_label

f = filters.current()
LAST = rt.LAST

# --- quarter ----------------------------------------------------------------------------------------------
choice = rt.quarter_choice(f.period, f.last_data_day)
options, default = choice.options, choice.default

if "rt_step" not in st.session_state:
    st.session_state.rt_step = 1


def _go(delta: int) -> None:
    st.session_state.rt_step = min(max(st.session_state.rt_step + delta, 1), LAST)


dark = st.session_state.get("rt_dark", False)
read = reader()
staff = st.session_state.get("rt_staff", False) and read.principal.can_freeze
theme(dark, canvas=not staff)

# --- the control bar: one line, always on screen --------------------------------------------------------------
top = st.columns([2.2, 1, 1, 1, 1, 0.8] + ([1] if read.principal.can_freeze else []), vertical_alignment="center")
with top[0]:
    key = st.selectbox("季度", options, index=options.index(default.key), format_func=period_label,
                       key=f"rt_quarter_{default.key}", label_visibility="collapsed", placeholder=locale.PICK)
with top[1]:
    st.toggle("深色", key="rt_dark")
with top[2]:
    st.button("上一页", key="rt_prev", on_click=_go, args=(-1,), disabled=st.session_state.rt_step <= 1,
              width="stretch", shortcut="Left")
with top[3]:
    st.button("下一页", key="rt_next", on_click=_go, args=(1,), disabled=st.session_state.rt_step >= LAST,
              width="stretch", shortcut="Right")
with top[4]:
    fullscreen_button()
with top[5]:
    st.html(f'<div class="rt-page">{html_text(str(st.session_state.rt_step) + " / " + str(LAST))}</div>')
if read.principal.can_freeze:
    with top[6]:
        st.toggle("工作人员", key="rt_staff")
quarter = parse_period(key)
step = st.session_state.rt_step

arrow_keys()  # a clicker's PageUp / PageDown: 上一页 / 下一页; F: full screen (← → are the buttons' own shortcuts)
auto = rt.auto_seconds(st.query_params.get("auto"))
if auto:  # a lobby screen: the next slide every `auto` seconds, and fresh figures, without reloading the page
    @st.fragment(run_every=auto)
    def _advance() -> None:
        now = time.monotonic()
        last = st.session_state.setdefault("rt_auto_at", now)
        if now - last >= auto - 0.5:
            st.session_state.rt_auto_at = now
            st.session_state.rt_step = st.session_state.rt_step % LAST + 1
            st.rerun(scope="app")
    _advance()

page = rt.build(read, quarter)
if not staff:
    # every text below comes from stored rows (冻结人 is typed by whoever froze the quarter): escaped into the HTML
    items = page.items(step)  # escaped by components.slides
    slide(page.title(step), f"西湖区民政局 · {page.subtitle}", items)
    picture, notes = st.columns([2.2, 1])
    with picture:
        st.image(slide_image(page.figures, step, "dark" if dark else "light"), width="stretch")
    with notes:
        definitions(items, "仅展示汇总数据，不含个人信息；街道内少于3的人数以“<3”显示。")
    st.stop()

# --- staff: live vs frozen, freezing, export ------------------------------------------------------------------
st.html(f'<p class="rt-title">{html_text(page.title(step))}</p>')
with st.expander("工作人员：实时数与冻结数对比、冻结、导出", key="rt_staff_open", on_change="rerun") as box:
    if box.open:  # built only when opened: a closed section costs the page nothing
        changed, shown = rt.staff_comparison(read, quarter)
        info = page.info
        if info is None:
            st.info(f"{quarter.label}尚未冻结：演示显示的是实时数。")
        else:
            st.markdown(f"冻结于 {info['frozen_at']:%Y-%m-%d %H:%M}（数据截至 {info['as_of']}，"
                        f"冻结人 {md(info['frozen_by'])}）；冻结后实时数有变化的指标：{changed} 项。")
        st.dataframe(shown, hide_index=True, width="stretch", height=320)

        user = read.principal
        if user.can_freeze:
            st.markdown("**冻结本季度数据**（局领导、业务科室可操作，记入审计日志）")
            who = st.text_input("冻结人（署名）", value=user.display_name or user.username, key="rt_frozen_by")
            sure = st.checkbox(f"确认以当前实时数冻结{quarter.label}的演示数据", key="rt_confirm")
            replace = info is not None and st.checkbox("替换已有冻结数", key="rt_replace")
            if st.button("冻结本季度数据", key="rt_freeze", disabled=not sure or not who.strip()):
                try:
                    n = rt.freeze(read, quarter, who, replace=replace)
                    st.success(f"已冻结 {n} 项指标。")
                    st.rerun()
                except rt.AlreadyFrozen as exc:
                    st.warning(md(exc))
                except (rt.AccessDenied, ValueError) as exc:
                    st.error(md(exc))
        documents.roundtable_button(page)

