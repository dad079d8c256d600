"""圆桌会模式 page model: a quarter's presentation in five views — aggregates only, the frozen figures once reported —
shared by the full-screen page, its PowerPoint deck and `python -m data roundtable-deck`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from data.domain import period as periods
from data.domain.period import Period
from data.security.access import AccessDenied, Reader
from data.writes import frozen as fz

STEPS = fz.STEPS
LAST = len(STEPS)
FIRST_QUARTER = date(2023, 1, 1)  # the picker lists quarters from 2023 on (at most 40)
AlreadyFrozen = fz.AlreadyFrozen
__all__ = ["AccessDenied", "AlreadyFrozen", "LAST", "RoundtablePage", "STEPS", "build", "freeze", "quarter_choice",
           "staff_comparison"]


def headline_keys(step: int) -> list[str]:
    return {1: ["facilities_operating", "key_built", "key_planned", "facility_coverage"],
            2: ["meal_points", "meal_coverage", "meals"],
            3: ["aid_total", "aid_persons:dibao", "aid_persons:tekun"],
            4: ["findings_found", "findings_rectified", "findings_overdue", "rectification_rate"],
            5: ["rt_meetings", "rt_raised", "rt_resolved", "rt_meetings_ytd", "rt_resolved_ytd"]}[step]


def headline_items(figs: pd.DataFrame, step: int) -> list[dict]:
    """The big numbers of a view: label, written value, one-line 口径."""
    out = []
    for key in headline_keys(step):
        row = figs[figs["key"] == key]
        if row.empty:
            continue
        r = row.iloc[0]
        label = r["label"] if key.split(":")[0] != "aid_persons" else f"{r['label']}人数"
        out.append({"key": key, "label": label, "text": fz.fmt_value(r["value"], r["unit"], r["suppressible"]),
                    "definition": r["definition"]})
    return out


def subtitle(info: dict | None) -> str:
    if info:
        return f"冻结数：数据截至 {info['as_of']:%Y年%m月%d日}，{info['frozen_by']} 冻结"
    return "实时数（尚未冻结）"


@dataclass(frozen=True)
class RoundtablePage:
    quarter: Period
    figures: pd.DataFrame  # data.writes.frozen: frozen when reported, else live
    info: dict | None      # when and by whom it was frozen, and the as-of date; None: live figures

    @property
    def subtitle(self) -> str:
        return subtitle(self.info)

    def title(self, step: int) -> str:
        return f"{step}. {STEPS[step]} · {self.quarter.label}"

    def items(self, step: int) -> list[dict]:
        return headline_items(self.figures, step)


@dataclass(frozen=True)
class QuarterChoice:
    options: list[str]  # quarter keys for the picker, newest first
    default: Period


def quarter_choice(chosen: Period, last_data_day: date) -> QuarterChoice:
    """The sidebar's quarter when it is one, else the latest complete quarter with records; quarters since 2023."""
    latest = periods.latest_complete("quarter", last_data_day)
    default = chosen if chosen.kind == "quarter" else latest
    return QuarterChoice(periods.options(latest, FIRST_QUARTER, limit=40, keep=default.key), default)


def auto_seconds(value) -> int | None:
    """?auto=30: advance every 30 seconds on a lobby screen (10 s at least, an hour at most); None when absent or not
    a number."""
    try:
        n = int(str(value))
    except (TypeError, ValueError):
        return None
    return min(max(n, 10), 3600) if n > 0 else None


def build(reader: Reader, quarter: Period) -> RoundtablePage:
    figs, info = reader.q(fz.figures_for_display, quarter)
    return RoundtablePage(quarter=quarter, figures=figs, info=info)


def staff_comparison(reader: Reader, quarter: Period) -> tuple[int, pd.DataFrame]:
    """实时数与冻结数对比: how many figures changed since freezing, and the table staff read."""
    return int(reader.q(fz.compare, quarter)["changed"].sum()), reader.q(fz.comparison_table, quarter)


def freeze(reader: Reader, quarter: Period, frozen_by: str, replace: bool = False) -> int:
    """冻结 the quarter's live figures as the reader's principal (audited); returns how many figures were stored."""
    return fz.freeze(reader.engine, reader.principal, quarter, frozen_by, replace=replace)
