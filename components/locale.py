"""Streamlit's own English words on widgets, said in Chinese: the file uploader's size note and button. The upload
limit shown is the one the server enforces (.streamlit/config.toml server.maxUploadSize = 50, the importer's
MAX_BYTES); select placeholders are set on each widget (placeholder=)."""
from __future__ import annotations

import streamlit as st

def chinese_widgets() -> None:
    """Once per run, before any page draws: CSS that replaces the uploader's English texts."""
    st.html("""<style>
    [data-testid="stFileUploaderDropzoneInstructions"] span,
    [data-testid="stFileUploaderDropzoneInstructions"] small { font-size: 0 !important; }
    [data-testid="stFileUploaderDropzoneInstructions"] small::after {
      content: "可将文件拖到此处；单个文件不超过 50 MB"; font-size: 0.875rem; }
    [data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] { font-size: 0 !important; }
    [data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] * { display: none !important; }
    [data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"]::after { content: "选择文件"; font-size: 1rem; }
    </style>""")
