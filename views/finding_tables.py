"""整改进度 tables: query results → the tables the page shows and exports (Chinese headers with units).

Pure functions, no Streamlit; each returns the table and, where rows can be overdue, the boolean Series that the
page's table (components.tables.show_table(highlight=…)) tints. Dates are ISO text (2024-06-30), empty when there is
none (a problem not yet rectified) — what the Excel export writes for a date anyway.
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from data.db.models import SAFETY_SOURCES

TOTAL = "合计"
SAFETY_SUBTOTAL = "其中：安全检查（局检查组＋联合大检查）"


def iso(day) -> str:
    """A date as 2024-06-30; empty for none."""
    return "" if day is None or pd.isna(day) else day.isoformat()


def rate_pct(rectified: int, found: int) -> float | None:
    """整改率（%）, one decimal; None when nothing was found."""
    return round(rectified / found * 100, 1) if found else None


def _summary_row(name: str, s) -> dict:
    return {"问题来源": name, "查出问题（个）": int(s["found"]), "已整改（个）": int(s["rectified"]),
            "整改中（个）": int(s["in_progress"]), "逾期未整改（个）": int(s["overdue"]),
            "整改率（%）": rate_pct(int(s["rectified"]), int(s["found"])), "移送纪检部门线索（条）": int(s["referred"])}


def source_table(by_source: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """分来源整改情况: one row per source, the safety subtotal (when both safety sources are listed) and the total;
    highlight: rows with overdue problems."""
    rows = [_summary_row(r["source_name"], r) for _, r in by_source.iterrows()]
    counts = ["found", "rectified", "in_progress", "overdue", "referred"]
    safety = by_source[by_source["source"].isin(SAFETY_SOURCES)]
    if len(safety) == len(SAFETY_SOURCES) and len(by_source) > len(SAFETY_SOURCES):
        rows.append(_summary_row(SAFETY_SUBTOTAL, safety[counts].sum()))
    if len(by_source) > 1:
        rows.append(_summary_row(TOTAL, by_source[counts].sum()))
    out = pd.DataFrame(rows, columns=["问题来源", "查出问题（个）", "已整改（个）", "整改中（个）", "逾期未整改（个）",
                                      "整改率（%）", "移送纪检部门线索（条）"])
    return out, out["逾期未整改（个）"] > 0


def burndown_table(df: pd.DataFrame) -> pd.DataFrame:
    """逐周整改动态."""
    return pd.DataFrame({
        "周起": df["first_day"].map(iso), "周止": df["last_day"].map(iso), "周初未整改（个）": df["open_before"].astype(int),
        "本周新发现（个）": df["found"].astype(int), "本周已整改（个）": df["rectified"].astype(int),
        "周末未整改（个）": df["open_after"].astype(int),
    })


def ageing_table(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """未整改问题账龄; highlight: buckets holding overdue problems."""
    out = pd.DataFrame({"已挂账天数": df["bucket"], "未整改问题（个）": df["open"].astype(int),
                        "其中逾期（个）": df["overdue"].astype(int)})
    return out, out["其中逾期（个）"] > 0


def places_table(df: pd.DataFrame, on: date) -> tuple[pd.DataFrame, pd.Series]:
    """问题较多的点位 (ranked); highlight: places with overdue problems."""
    out = pd.DataFrame({
        "排名": range(1, len(df) + 1),
        "点位": df["place_name"], "点位类型": df["place_type"], "街道": df["subdistrict_name"],
        "未整改问题（个）": df["open"].astype(int), "其中逾期（个）": df["overdue"].astype(int),
        "最早发现日期": df["oldest_found_on"].map(iso),
        "最长挂账（天）": [(on - d).days for d in df["oldest_found_on"]],
    })
    return out, out["其中逾期（个）"] > 0


def findings_table(df: pd.DataFrame, on: date) -> tuple[pd.DataFrame, pd.Series]:
    """问题清单 with the status at the end of `on` and the days past the deadline (0 unless overdue); highlight: overdue
    problems (deadline passed, not rectified)."""
    overdue_days = [(on - dl).days if od else 0 for dl, od in zip(df["deadline"], df["overdue"])]
    out = pd.DataFrame({
        "问题编号": df["code"], "来源": df["source_name"], "点位": df["place_name"], "街道": df["subdistrict_name"],
        "问题类别": df["category"], "严重程度": df["severity"], "问题描述": df["description"].fillna(""),
        "发现日期": df["found_on"].map(iso), "整改期限": df["deadline"].map(iso),
        "整改完成日期": df["rectified_on"].map(iso), "状态": df["status_name"], "逾期（天）": pd.array(overdue_days, dtype="int64"),
        "移送纪检": df["referred_to_discipline"].map({True: "是", False: "否"}),
    })
    return out, df["overdue"].astype(bool).reset_index(drop=True)
