"""Streamlit's own English words on widgets, said in Chinese: the file uploader's size note and button. The upload
limit shown is the one the server enforces (.streamlit/config.toml server.maxUploadSize = 50, the importer's
MAX_BYTES); select placeholders are set on each widget (placeholder=)."""
from __future__ import annotations

import streamlit as st

# Every select box and multiselect says this instead of Streamlit's "Choose an option" / "Choose options" / "No options
# to select" (the frontend shows its English only when placeholder is empty); every uploader explains itself in help=.
PICK = "请选择"
PICK_MANY = "请选择（可多选）"
UPLOAD_LEDGER = "点击“选择文件”或把文件拖到此处：按导入模板填写的 .xlsx 或 .csv 文件，不超过 50 MB。"
UPLOAD_BOUNDARY = "点击“选择文件”或把文件拖到此处：GeoJSON（.geojson / .json）或 Shapefile 压缩包（.zip），不超过 50 MB。"
UPLOAD_FILES = "点击“选择文件”或把文件拖到此处，可一次选择多个文件。"

def chinese_widgets() -> None:
    """Once per run, before any page draws: CSS that replaces the uploader's English texts, and trims the headline
    cards (components.kpis: no link icon beside the figure, less space around it). The cards read well without it
    (this CSS arrives with the page's on-demand elements, after the cards)."""
    st.html("""<style>
    [class*="st-key-kpi_"] [data-testid="stHeaderActionElements"] { display: none !important; }
    [class*="st-key-kpi_"] h2 { padding: 0.1rem 0 0.2rem 0 !important; font-weight: 400 !important; }
    [class*="st-key-kpi_"] [data-testid="stMarkdownContainer"] p { margin-bottom: 0.2rem !important; }
    [data-testid="stFileUploaderDropzoneInstructions"] span,
    [data-testid="stFileUploaderDropzoneInstructions"] small { font-size: 0 !important; }
    [data-testid="stFileUploaderDropzoneInstructions"] > div::after {
      content: "可将文件拖到此处；单个文件不超过 50 MB"; font-size: 0.875rem; }
    [data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] { font-size: 0 !important; }
    [data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] * { display: none !important; }
    [data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"]::after { content: "选择文件"; font-size: 1rem; }
    </style>""")
