"""The 圆桌会 presentation's pictures on screen: the same images as the deck (exports.roundtable_pptx.view_image)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from data.db.cache import disk_persist
from components.text import html_text
from exports import chart_images, roundtable_pptx
from exports.roundtable_pptx import view_image


# The drawing code's own fingerprint: part of the cache key, so a kept image never outlives the code that drew it
# (Streamlit keys on slide_image's source only; the drawing lives in exports/).
DRAWING = hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in (chart_images, roundtable_pptx))).hexdigest()


def slide_image(figs: pd.DataFrame, step: int, theme: str) -> bytes:
    return _slide_image(figs, step, theme, DRAWING)


# Kept on disk as well (~/.streamlit/cache, when the server may write there), keyed on the figures themselves:
# after a restart of the server the projected slide shows without rendering it again (matplotlib's import and the
# drawing take ~1.3 s); new figures (or a new drawing) make a new key, so an image never outlives the data it shows.
@st.cache_data(show_spinner=False, max_entries=64, persist=disk_persist())
def _slide_image(figs: pd.DataFrame, step: int, theme: str, drawing: str) -> bytes:
    return view_image(figs, step, size="slide", theme=theme)


def theme(dark: bool, canvas: bool = True) -> None:
    """The projector's 16:9 canvas (1920×1080 read from 8 m): no sidebar, no Streamlit header or toolbar, no page
    scroll (canvas=False while staff use their panel), smallest text 28 px, headline numbers 96 px, light or dark."""
    bg, fg, muted = ("#0f172a", "#f8fafc", "#cbd5e1") if dark else ("#ffffff", "#0f172a", "#475569")
    fixed = """html, body, .stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {
      overflow: hidden !important; height: 100vh !important; }""" if canvas else ""
    if fixed:
        st.html("<style>" + fixed + "</style>")
    st.html(f"""<style>
    [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
    [data-testid="stSidebarNav"], [data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
    [data-testid="stStatusWidget"], header {{ display: none !important; }}
    .stApp {{ background: {bg} !important; }}
    .stApp, .stApp p, .stApp label, .stApp h1, .stApp h2, .stApp span, .stApp summary {{ color: {fg} !important; }}
    .block-container {{ max-width: 1920px !important; padding: 0.6rem 1.5rem 0 1.5rem !important; }}
    .stApp button p, .stApp label p, .stApp [data-baseweb="select"] div, .stApp .rt-page, .stApp button {{
      font-size: 28px !important; line-height: 1.2 !important; }}
    .stApp [data-baseweb="select"] * {{ font-size: 28px !important; }}
    .stApp button kbd {{ font-size: 28px !important; line-height: 1.2 !important; }}
    .stApp [data-baseweb="select"] > div {{ min-height: 56px; }}
    .rt-title {{ font-size: 56px; font-weight: 700; line-height: 1.15; margin: 0; }}
    .rt-sub {{ font-size: 28px; color: {muted} !important; margin: 0.2rem 0 0.6rem 0; }}
    .rt-row {{ display: flex; gap: 24px; margin: 0 0 12px 0; }}
    .rt-item {{ flex: 1 1 0; min-width: 0; }}
    .rt-label {{ font-size: 32px; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }}
    .rt-num {{ font-size: 96px; font-weight: 800; line-height: 1.05; white-space: nowrap; }}
    .rt-defs {{ font-size: 28px; line-height: 1.3; color: {muted} !important; max-height: 560px; overflow: hidden; }}
    .rt-defs p {{ font-size: 28px !important; margin: 0 0 10px 0; color: {muted} !important; }}
    .rt-page {{ font-weight: 700; text-align: center; padding-top: 8px; }}
    [data-testid="stImage"] img {{ max-height: 560px; object-fit: contain; }}
    .rt-full {{ font-size: 28px; width: 100%; min-height: 56px; border-radius: 8px; cursor: pointer;
      border: 1px solid {muted}; background: transparent; color: {fg}; }}
    </style>""")


def slide(title: str, subtitle: str, items: list[dict]) -> None:
    """The slide's title, its big numbers in one row (label 32 px, number 96 px); every text escaped here."""
    cells = "".join('<div class="rt-item"><div class="rt-label">' + html_text(i["label"]) + '</div><div class="rt-num">'
                    + html_text(i["text"]) + "</div></div>" for i in items)
    st.html(f'<p class="rt-title">{html_text(title)}</p><p class="rt-sub">{html_text(subtitle)}</p>'
            '<div class="rt-row">' + cells + "</div>")


def definitions(items: list[dict], note: str) -> None:
    """口径 of the slide's numbers, 28 px, beside the chart."""
    rows = "".join("<p><b>" + html_text(i["label"]) + "</b>：" + html_text(i["definition"]) + "</p>" for i in items)
    st.html('<div class="rt-defs">' + rows + f"<p>{html_text(note)}</p></div>")


def fullscreen_button() -> None:
    """全屏: the browser's full screen for the projector (F does the same, see keys())."""
    st.html('<button class="rt-full" type="button" onclick="(window.parent||window).document.documentElement'
            '.requestFullscreen && (window.parent||window).document.documentElement.requestFullscreen()">全屏</button>',
            unsafe_allow_javascript=True)


def arrow_keys() -> None:
    """A presenter clicker's PageUp / PageDown click 上一页 / 下一页; F toggles full screen (runs in the page itself;
    nothing is loaded from anywhere). ← → are the buttons' own shortcuts (st.button(shortcut=…)), live as soon as
    the buttons are drawn; this script, an st.html element, arrives a moment later."""
    st.html("""<script>
    (function () {
      const w = window.parent && window.parent.document ? window.parent : window;
      if (w.__rtKeyHandler) w.document.removeEventListener('keydown', w.__rtKeyHandler);
      w.__rtKeyHandler = function (e) {
        const t = e.target, tag = t && t.tagName ? t.tagName.toLowerCase() : '';
        if (tag === 'input' || tag === 'textarea' || tag === 'select' || (t && t.isContentEditable)) return;
        if (e.key === 'f' || e.key === 'F') {
          const d = w.document;
          if (d.fullscreenElement) { d.exitFullscreen(); } else if (d.documentElement.requestFullscreen) {
            d.documentElement.requestFullscreen(); }
          e.preventDefault();
          return;
        }
        const label = e.key === 'PageDown' ? '下一页' : e.key === 'PageUp' ? '上一页' : null;
        if (!label) return;
        // the button's text is its label, then its shortcut's key (→ / ←) on a line of its own
        const btn = Array.from(w.document.querySelectorAll('button'))
          .find(b => b.innerText.trim().split('\\n')[0].trim() === label);
        if (btn && !btn.disabled) { e.preventDefault(); btn.click(); }
      };
      w.document.addEventListener('keydown', w.__rtKeyHandler);
    })();
    </script>""", unsafe_allow_javascript=True)
