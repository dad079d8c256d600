"""整改进度 page model: problems found by every inspection source — headline, per source, weekly burn-down, ageing,
the places with most open or overdue problems and their findings, the lists, and editing a finding's status."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from data.db.models import INSPECTION_SOURCES, SAFETY_SOURCES
from data.domain import headlines
from data.domain.figures import figure
from data.domain.period import Period
from data.domain.units import fmt_int, pct
from data.queries import findings as fq
from data.security.access import AccessDenied, Reader, call
from data.writes import edits
from views import finding_tables as tables
from views.common import Card, slug

SOURCES = INSPECTION_SOURCES  # source → name, in the picker's order
PLACES_LISTED = 20
MAX_LIST_ROWS = 2000  # a longer period list is cut (overdue first) so the highlighted table stays responsive
__all__ = ["AccessDenied", "MAX_LIST_ROWS", "PLACES_LISTED", "SOURCES", "RectificationPage", "build", "chosen_sources",
           "finding_for_edit", "found_list", "open_list", "place_detail", "save_finding"]

Table = tuple[pd.DataFrame, pd.Series]  # a table as shown and the rows it highlights (overdue)


def chosen_sources(chosen: list[str]) -> tuple[str, ...] | None:
    """The sources picked, in their own order; None when all are (no filter)."""
    return None if set(chosen) >= set(SOURCES) else tuple(s for s in SOURCES if s in chosen)


@dataclass(frozen=True)
class RectificationPage:
    period: Period
    scope: str
    sources: tuple[str, ...] | None
    headline: dict                 # findings_headline of the chosen sources
    safety: dict                   # 工作报告口径: the two safety sources
    sanzi: dict                    # 工作报告口径: “三资” supervision
    by_source: pd.DataFrame        # findings_by_source
    burndown: pd.DataFrame         # findings_burndown (the chart and its weekly table)
    ageing: pd.DataFrame           # open_findings_ageing at the period's end
    places: pd.DataFrame           # places_with_open_findings (at most PLACES_LISTED)
    shown: dict                    # the registered headlines 逾期未整改 and 整改率 of the chosen sources

    @property
    def on(self) -> date:
        return self.period.end

    @property
    def slug(self) -> str:
        return slug(self.scope, self.period.key)

    @property
    def cards(self) -> list[Card]:
        """查出 / 已整改 / 整改率 count the problems found in the period; 整改中 and 逾期未整改 are every problem still
        open at the period's end, whenever found (the registered headlines of data.domain.headlines)."""
        h, shown = self.headline, self.shown
        overdue, rate = headlines.headline("findings_overdue"), headlines.headline("rectification_rate")
        open_, _ = self.open_counts
        in_period = f"{headlines.day(self.period.start)}至{headlines.day(self.on)}"
        return [Card("查出问题（个）", fmt_int(h["found"]), help=f"所选来源中发现日期在统计期内的问题数。{in_period}"),
                Card("已整改（个）", fmt_int(h["rectified"]), help="其中整改完成日期不晚于期末的问题数"),
                Card("整改率", rate.show(shown["rectification_rate"]) if h["found"] else "—",
                     help=f"{rate.definition}（已整改 ÷ 查出问题）。{rate.as_of(self.period)}"),
                Card("整改中（个）", fmt_int(open_ - shown["findings_overdue"]),
                     help=f"期末仍未整改、整改期限未过的问题数（不论何时发现）。{overdue.as_of(self.period)}"),
                Card("逾期未整改（个）", overdue.show(shown["findings_overdue"]),
                     help=f"{overdue.definition}。{overdue.as_of(self.period)}"),
                Card("移送纪检部门线索（条）", fmt_int(h["referred"]), help="所选来源中移送纪检部门的问题线索数（“三资”监督）")]

    @property
    def report_cards(self) -> list[Card]:
        """The work report's figures F32–F36 (not affected by the source picker)."""
        s, z = self.safety, self.sanzi
        return [Card("安全检查查出问题（个）", fmt_int(s["found"]), help=figure("F32").definition),
                Card("安全检查已整改（个）", fmt_int(s["rectified"]), help=figure("F33").definition,
                     delta=f"整改率 {pct(s['rectification_rate'])}" if s["found"] else None, delta_color="off"),
                Card("“三资”查出问题（条）", fmt_int(z["found"]), help=figure("F34").definition),
                Card("“三资”已整改（条）", fmt_int(z["rectified"]), help=figure("F35").definition,
                     delta=f"整改率 {pct(z['rectification_rate'])}" if z["found"] else None, delta_color="off"),
                Card("“三资”移送纪检线索（条）", fmt_int(z["referred"]), help=figure("F36").definition)]

    @property
    def source_table(self) -> Table:
        return tables.source_table(self.by_source)

    @property
    def burndown_table(self) -> pd.DataFrame:
        return tables.burndown_table(self.burndown)

    @property
    def ageing_table(self) -> Table:
        return tables.ageing_table(self.ageing)

    @property
    def places_table(self) -> Table:
        return tables.places_table(self.places, self.on)

    @property
    def place_labels(self) -> dict[str, str]:
        """Each listed place's key (subdistrict|type|name) and how the picker names it."""
        return {f"{r.subdistrict_code}|{r.place_type}|{r.place_name}":
                f"{r.place_name}（{r.subdistrict_name}，未整改 {r.open} 个，逾期 {r.overdue} 个）"
                for r in self.places.itertuples(index=False)}

    @property
    def open_counts(self) -> tuple[int, int]:
        """Problems open at the period's end, and of them overdue."""
        return int(self.ageing["open"].sum()), int(self.ageing["overdue"].sum())


def build(reader: Reader, period: Period, street: str | None, scope: str,
          sources: tuple[str, ...] | None) -> RectificationPage:
    on = period.end
    return RectificationPage(
        period=period, scope=scope, sources=sources, headline=reader.q(fq.findings_headline, period, street, sources),
        safety=reader.q(fq.findings_headline, period, street, SAFETY_SOURCES),
        sanzi=reader.q(fq.findings_headline, period, street, ("sanzi",)),
        by_source=reader.q(fq.findings_by_source, period, street, sources),
        burndown=reader.q(fq.findings_burndown, period, street, sources),
        ageing=reader.q(fq.open_findings_ageing, on, street, sources),
        places=reader.q(fq.places_with_open_findings, on, street, sources, limit=PLACES_LISTED),
        shown=reader.q(headlines.headline_values, period, street, ("findings_overdue", "rectification_rate"),
                       sources=sources))


def place_detail(reader: Reader, on: date, place: str, sources) -> tuple[pd.DataFrame, Table]:
    """点位问题清单 of a place key (subdistrict|type|name): the findings and the table shown."""
    sd, place_type, place_name = place.split("|", 2)
    detail = reader.q(fq.place_findings, on, subdistrict_code=sd, place_type=place_type, place_name=place_name,
                      sources=sources)
    return detail, tables.findings_table(detail, on)


def open_list(reader: Reader, on: date, street: str | None, sources) -> Table:
    """期末未整改问题清单."""
    return tables.findings_table(reader.q(fq.open_findings_on, on, street, sources), on)


def found_list(reader: Reader, period: Period, street: str | None, sources) -> tuple[pd.DataFrame, pd.Series, bool]:
    """期内发现问题清单, cut to MAX_LIST_ROWS (overdue first) when longer; the third item says it was cut."""
    listed = reader.q(fq.findings_list, period, street, sources)
    cut = len(listed) > MAX_LIST_ROWS
    if cut:
        listed = listed.sort_values(["overdue", "found_on"], ascending=[False, True], kind="stable").head(MAX_LIST_ROWS)
    return (*tables.findings_table(listed, period.end), cut)


def finding_for_edit(reader: Reader, code: str) -> dict | None:
    """The finding with this 问题编号 as the edit form needs it, read fresh (not cached) as the reader's principal;
    None when there is none. Raises AccessDenied (another subdistrict's finding for a 街道 account), audited like every
    refused read of a page."""
    return call(reader.principal, edits.finding_for_edit, reader.engine, code=code, audit_refusals=True)


def save_finding(reader: Reader, finding_id: int, version: int, values: dict) -> dict:
    """修改整改状态 as the reader's principal (data.writes.edits.update_finding: audited, optimistic)."""
    return edits.update_finding(reader.engine, reader.principal, finding_id, version, **values)
