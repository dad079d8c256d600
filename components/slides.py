"""The 圆桌会 presentation's pictures on screen: the same images as the deck (exports.roundtable_pptx.view_image)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from data.db.cache import disk_persist
from exports.roundtable_pptx import view_image


# Kept on disk as well (~/.streamlit/cache, when the server may write there), keyed on the figures themselves:
# after a restart of the server the projected slide shows without rendering it again (matplotlib's import and the
# drawing take ~1.3 s); new figures make a new key, so an image never outlives the data it shows.
@st.cache_data(show_spinner=False, max_entries=64, persist=disk_persist())
def slide_image(figs: pd.DataFrame, step: int, theme: str) -> bytes:
    return view_image(figs, step, size="slide", theme=theme)


def theme(dark: bool) -> None:
    """Full screen for the projector: no sidebar, large type, light or dark."""
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


def arrow_keys() -> None:
    """Left / right arrow keys click 上一页 / 下一页 (runs in the page itself; nothing is loaded from anywhere)."""
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
