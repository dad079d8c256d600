"""The documents a page offers: its page model (views/) written by exports/ when the button is clicked.

The model is the one the page shows, built as the signed-in user while the page ran, so a document carries exactly
the page's figures and nothing is read again on click (components.downloads: built on click, never before).
Word documents are also offered as PDF (exports.pdf, LibreOffice headless) where LibreOffice is installed; where it
is not, the page says so instead of offering a button that cannot deliver."""
from __future__ import annotations

import streamlit as st

from components.downloads import DOCX, PPTX, XLSX, download_button
from components.text import md
from exports import pdf
from exports.report_docx import report_docx, report_xlsx
from exports.roundtable_pptx import roundtable_deck
from exports.weekly_docx import weekly_review_docx

PDF = "application/pdf"


def _pdf_button(label: str, build_docx, *, file_name: str, key: str, where=None) -> None:
    if not pdf.available():
        (where if where is not None else st).caption(md(f"PDF：{pdf.MISSING}"))
        return
    download_button(label, lambda _who: pdf.to_pdf(build_docx()), file_name=file_name, key=key, mime=PDF,
                    where=where)


def report_buttons(page, word_where=None, excel_where=None) -> None:
    """工作总结数据: the Word draft (and its PDF) and the Excel sheet of a views.report.ReportPage."""
    download_button("下载 Word 草稿（数据部分）", lambda _who: report_docx(page),
                    file_name=f"工作总结数据_{page.slug}.docx", key="report_docx", mime=DOCX, where=word_where)
    _pdf_button("下载 PDF（数据部分）", lambda: report_docx(page), file_name=f"工作总结数据_{page.slug}.pdf",
                key="report_pdf", where=word_where)
    download_button("下载 Excel（指标表）", lambda _who: report_xlsx(page, title=page.title),
                    file_name=f"工作总结数据_{page.slug}.xlsx", key="report_xlsx", mime=XLSX, where=excel_where)


def weekly_button(page) -> None:
    """周度研判: the Word document of a views.weekly.WeeklyPage, and its PDF."""
    stem = f"周度研判_{page.scope}_{page.week.key}"
    download_button("下载周度研判（Word）", lambda _who: weekly_review_docx(page),
                    file_name=f"{stem}.docx", key="wr_docx", mime=DOCX)
    _pdf_button("下载周度研判（PDF）", lambda: weekly_review_docx(page), file_name=f"{stem}.pdf", key="wr_pdf")


def roundtable_button(page) -> None:
    """圆桌会: the PowerPoint deck of a views.roundtable.RoundtablePage."""
    download_button("下载演示文稿（PowerPoint）", lambda _who: roundtable_deck(page),
                    file_name=f"圆桌会_{page.quarter.key}.pptx", key="rt_pptx", mime=PPTX)
