"""工作总结数据 page model: every figure of the work report for a period in the report's sections and words, beside the
previous period, and the targets' progress — what the page, its Word draft and its Excel sheet show."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from data.domain import report
from data.domain.period import Period
from data.security.access import Reader
from views.common import Card, slug

SHOWN = ["id", "section", "text", "district_level", "definition", "page", "previous", "unit", "change",
         "previous_text"]
fmt_number, fmt_change = report.fmt_number, report.fmt_change  # how the page writes the previous value and the change


@dataclass(frozen=True)
class Section:
    name: str
    heading: str
    rows: list[dict]  # the figures of the section (SHOWN keys), in the report's order


@dataclass(frozen=True)
class ReportPage:
    period: Period
    rows: pd.DataFrame        # data.domain.report.report_rows: one row per figure
    scope: str = "全区"
    street: str | None = None
    note: str | None = None   # why another period than the chosen one is shown (None: the chosen one)

    @property
    def previous(self) -> Period:
        return self.period.previous()

    @property
    def slug(self) -> str:
        return slug(self.scope, self.period.key)

    @property
    def title(self) -> str:
        return f"工作总结数据（{self.scope}，{self.period.label}）"

    @property
    def targets(self) -> pd.DataFrame:
        """目标任务进度 at the end of the period (data.domain.report.target_rows)."""
        return report.target_rows(self.rows)

    @property
    def cards(self) -> list[Card]:
        """The page's headline: how many figures the report has for the period, how many targets, and how many of
        them are met or lag (the statuses of the targets table below)."""
        status = self.targets["状态"].value_counts()
        return [Card("工作总结数字", f"{len(self.rows):,} 项", help="本期按各指标口径从台账生成的工作总结数字（F编号）"),
                Card("目标任务", f"{len(self.targets):,} 项", help="工作总结中有目标值和期限的指标"),
                Card("已达成", f"{int(status.get('已达成', 0)):,} 项", help="期末进度已达到目标值"),
                Card("进度滞后", f"{int(status.get('进度滞后', 0)):,} 项",
                     help="期末进度低于从基期到期限匀速推进应达到的进度")]

    @property
    def parts(self) -> list[tuple[str, list[Section]]]:
        """(part heading, its sections that have figures) in the report's order."""
        # rows grouped by section once, as plain dicts (a pandas filter and itertuples per section cost more)
        by_section: dict[str, list[dict]] = {}
        for r in self.rows[SHOWN].to_dict("records"):
            by_section.setdefault(r["section"], []).append(r)
        return [(part, [Section(s, report.HEADINGS[s], by_section[s]) for s in sections if by_section.get(s)])
                for part, sections in report.PARTS]


def build(reader: Reader, chosen: Period, last_data_day: date, street: str | None,
          scope: str = "全区") -> ReportPage:
    """The report for the chosen period (a month or a week shows its half-year: data.domain.report.report_period)."""
    period, note = report.report_period(chosen, last_data_day)
    return ReportPage(period=period, rows=reader.q(report.report_rows, period, street), scope=scope, street=street,
                      note=note)
