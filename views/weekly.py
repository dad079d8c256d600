"""周度研判 page model: this week vs last week, targets at a glance, things that need action — what the page, its Word
document and `python -m data weekly-report` show."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from data.domain.period import Period
from data.domain import headlines
from data.queries import weekly
from data.security.access import Reader
from views.common import Card, headline_card

SILENT_MEAL_DAYS = weekly.SILENT_MEAL_DAYS


def fmt_headline(key: str, value) -> str:
    """A headline value as every page writes it (data.domain.headlines → data.domain.units)."""
    return headlines.headline(key).show(value)


def fmt_change(key: str, value) -> str:
    """A change (this week − last week) as every page writes it; 持平 when nothing changed; — when there is nothing
    to compare with (the week before has no ledger records)."""
    if value is None:
        return "—（上期无台账）"
    return headlines.headline(key).change(value, 0) or "持平"


def fmt_target(value: float, unit: str) -> str:
    return f"{value:.1f}{unit}" if unit == "%" else f"{value:,.0f}{unit}"


def fmt_pace(met: bool, pace_needed: float, unit: str) -> str:
    """每月需推进: the required monthly pace (data.domain.targets.pace), "—" once met."""
    return "—" if met else fmt_target(min(pace_needed, 9999), unit)


def review_week(chosen: Period, last_data_day: date) -> Period:
    """The week the review covers, derived from the one period control (the sidebar's 统计周期): the chosen week
    itself, else the latest complete Monday–Sunday week with records within the chosen period."""
    return weekly.default_week(last_data_day, chosen)


def week_note(chosen: Period, week: Period) -> str:
    """How the reviewed week follows from the sidebar's period, in words."""
    if chosen.kind == "week":
        return f"研判周：{week.label}"
    return f"研判周：{week.label}（侧栏所选统计周期“{chosen.label}”内最后一个完整周；在侧栏选“周”可指定其他周）"


@dataclass(frozen=True)
class WeeklyPage:
    week: Period
    street: str | None
    street_name: str
    headline: pd.DataFrame       # weekly.weekly_headline
    targets: pd.DataFrame        # weekly.weekly_targets (empty for a 街道 account)
    targets_shown: bool          # False for a 街道 account: the targets are district figures
    overdue: pd.DataFrame        # weekly.overdue_findings
    below: pd.DataFrame          # weekly.visits_below_rule (names masked unless revealed)
    below_by_street: pd.DataFrame
    silent_points: pd.DataFrame
    silent_ledgers: pd.DataFrame
    meals_by_day: pd.DataFrame   # this week and the week before (the document's chart)
    meals_by_day_before: pd.DataFrame

    @property
    def scope(self) -> str:
        return self.street_name or "全区"

    @property
    def cards(self) -> list[Card]:
        return [headline_card(r, f"{r.label}（{r.unit}）", before="上周" if self.week.kind == "week" else "上期")
                for r in self.headline.itertuples()]

    @property
    def overdue_count(self) -> int:
        """逾期未整改 at the week's end: the registered headline (data.domain.headlines), the length of the list."""
        return int(self.headline.set_index("key").loc["findings_overdue", "value"])

    @property
    def headline_table(self) -> pd.DataFrame:
        h = self.headline
        return pd.DataFrame({"指标": h["label"], "单位": h["unit"],
                             "本周": [fmt_headline(k, v) for k, v in zip(h["key"], h["value"])],
                             "上周": [fmt_headline(k, v) for k, v in zip(h["key"], h["previous"])],
                             "变化": [fmt_change(k, v) for k, v in zip(h["key"], h["change"])],
                             "口径": [f"{d}（{a}）" for d, a in zip(h["definition"], h["as_of"])]})

    @property
    def targets_table(self) -> pd.DataFrame:
        t = self.targets
        return pd.DataFrame({
            "目标": t["name"], "目标值": [fmt_target(v, u) for v, u in zip(t["target"], t["unit"])],
            "当前值": [fmt_target(v, u) for v, u in zip(t["value"], t["unit"])],
            "差距": [fmt_target(v, u) for v, u in zip(t["gap"], t["unit"])],
            "应达进度": [fmt_target(v, u) for v, u in zip(t["expected"], t["unit"])],
            "每月需推进": [fmt_pace(m, p, u) for m, p, u in zip(t["met"], t["pace_needed"], t["unit"])],
            "期限": [d.isoformat() for d in t["deadline"]], "状态": t["status"]})

    @property
    def overdue_table(self) -> pd.DataFrame:
        od = self.overdue
        return pd.DataFrame({"责任单位": od["subdistrict_name"], "点位": od["place_name"],
                             "问题类别": od["category"], "整改期限": od["deadline"].astype(str),
                             "逾期天数": od["days_overdue"], "编号": od["code"]}).head(20)

    @property
    def lagging_table(self) -> pd.DataFrame:
        """The targets at a glance, short: what is behind its steady pace comes first."""
        t = self.targets_table
        return t[["目标", "状态", "当前值", "应达进度"]].sort_values("状态", key=lambda c: c.ne("进度滞后"),
                                                                   kind="stable")

    @property
    def silent_points_table(self) -> pd.DataFrame:
        s = self.silent_points
        return pd.DataFrame({"街道": s["subdistrict_name"], "助餐点": s["name"],
                             "最近记录": s["last_served_on"].astype(str)})

    @property
    def below_by_street_table(self) -> pd.DataFrame:
        return self.below_by_street.rename(columns={"subdistrict_name": "街道", "roster": "在册人数",
                                                    "below": "不足两次"})[["街道", "在册人数", "不足两次"]]

    @property
    def below_table(self) -> pd.DataFrame:
        return self.below.rename(columns={"subdistrict_name": "街道", "community_name": "社区", "name": "姓名",
                                          "visits": "本月巡访次数"})[["街道", "社区", "姓名", "本月巡访次数"]]


def build(reader: Reader, week: Period, street: str | None = None, street_name: str = "") -> WeeklyPage:
    """The weekly review of `week` for the subdistrict (None: the district), read as the reader's principal (a 街道
    account gets its own subdistrict and no targets: they are district figures)."""
    shown = not reader.principal.street_locked
    return WeeklyPage(
        week=week, street=street, street_name=street_name, headline=reader.q(weekly.weekly_headline, week, street),
        targets=reader.q(weekly.weekly_targets, week.end) if shown else pd.DataFrame(columns=weekly.TARGET_COLUMNS),
        targets_shown=shown, overdue=reader.q(weekly.overdue_findings, week, street),
        below=reader.q(weekly.visits_below_rule, week, street),
        below_by_street=reader.q(weekly.visits_below_rule_by_subdistrict, week, street),
        silent_points=reader.q(weekly.silent_meal_points, week, street),
        silent_ledgers=reader.q(weekly.silent_ledgers, week, street),
        meals_by_day=reader.q(weekly.meals_by_day, week, street),
        meals_by_day_before=reader.q(weekly.meals_by_day, week.previous(), street))
