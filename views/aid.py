"""救助发放: the page model — payments per programme for a period and subdistrict, the year before, the monthly
trend, per subdistrict (table and map values), proactive discovery and the (masked) recipient list."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from data.db.models import AID_PROGRAMMES
from data.domain import period as periods
from data.domain.figures import figure
from data.domain.period import Period
from data.domain.units import fen_to_wan, fmt_int
from data.queries import aid, geography, meta
from data.security.access import Reader
from views import map_scale
from views.headline import Metric

RECIPIENTS_PER_PAGE = 100
FUNNEL_STAGES = {"screened": "主动摸排（人次）", "dibao_households": "纳入低保（户）", "tekun_households": "纳入特困（户）"}
MAX_FUNNELS = 12  # small multiples shown; the table lists every subdistrict
PROGRAMMES = AID_PROGRAMMES
_FIGURE_OF = {"temporary": "F44", "orphan": "F45", "disability": "F46", "charity": "F47"}
_LABEL_OF = {"temporary": "临时救助金", "orphan": "孤儿和事实无人抚养儿童保障金", "disability": "残疾人两项补贴",
             "charity": "慈善应急和人道救助"}


@dataclass(frozen=True)
class AidPage:
    period: Period
    previous: Period
    slug: str                    # scope and period, for file names
    caption: str
    totals: pd.DataFrame         # per programme, this period
    totals_prev: pd.DataFrame
    overall: dict                # all programmes, persons counted once
    overall_prev: dict
    kpis: tuple[tuple[Metric, ...], tuple[Metric, ...]]
    window: Period               # the trend's months (twelve when the period is shorter than three months)
    by_month: pd.DataFrame       # month, programme, name, amount_fen, persons
    discovery: dict              # screened, dibao_households, tekun_households
    discovery_by: pd.DataFrame   # the same per subdistrict
    funnels: pd.DataFrame        # the subdistricts drawn as small funnels (most screened first) …
    funnels_cut: bool            # … when not all of them are
    discovery_kpis: tuple[Metric, ...]


NO_RECORDS_A_YEAR_EARLIER = "上年同期无台账记录，不作同比"


def _wan(label: str, fen: int, fen_prev: int | None, help_text: str) -> Metric:
    """A money card; no change when the year-earlier period has no ledger records (fen_prev None)."""
    if fen_prev is None:
        return Metric(label, f"{fen_to_wan(fen):,.2f}", None, f"{help_text}；{NO_RECORDS_A_YEAR_EARLIER}")
    diff = fen_to_wan(fen) - fen_to_wan(fen_prev)
    return Metric(label, f"{fen_to_wan(fen):,.2f}", f"{diff:+,.2f}（同比）", help_text)


def _count(label: str, n: int, n_prev: int | None, help_text: str) -> Metric:
    if n_prev is None:
        return Metric(label, fmt_int(n), None, f"{help_text}；{NO_RECORDS_A_YEAR_EARLIER}")
    return Metric(label, fmt_int(n), f"{int(n) - int(n_prev):+,}（同比）", help_text)


def trend_window(p: Period) -> Period:
    """The trend's months: the period itself, or for a month or a week the twelve months up to it."""
    if len(p.months()) >= 3:
        return p
    last = p.months()[-1]
    return periods.custom(periods.containing("month", last).shift(-11).start, p.end)


def build(reader: Reader, p: Period, street: str | None, scope: str) -> AidPage:
    """Everything of the page but the per-subdistrict section and the recipient list (their own functions)."""
    prev = p.year_earlier()
    totals, totals_prev = reader.q(aid.aid_totals, p, street), reader.q(aid.aid_totals, prev, street)
    overall, overall_prev = reader.q(aid.aid_overall, p, street), reader.q(aid.aid_overall, prev, street)
    tekun = reader.q(aid.aid_amount, p, street, programme="tekun", subtypes=("living", "care"))
    tekun_prev = reader.q(aid.aid_amount, prev, street, programme="tekun", subtypes=("living", "care"))
    now, before = totals.set_index("programme"), totals_prev.set_index("programme")
    span = reader.q(meta.record_date_range)
    yoy = span is None or prev.end >= span[0]  # a year earlier nothing was recorded yet: no 同比 (not "+100%")

    def was(value):
        return value if yoy else None
    first = (
        _wan("救助发放合计（万元）", overall["amount_fen"], was(overall_prev["amount_fen"]),
             f"所有救助项目发放金额之和；救助对象 {overall['households']:,} 户 {overall['persons']:,} 人（跨项目去重）"),
        _wan("发放低保金（万元）", now.loc["dibao", "amount_fen"], was(before.loc["dibao", "amount_fen"]),
             figure("F41").definition),
        _count("低保保障户数（户）", now.loc["dibao", "households"], was(before.loc["dibao", "households"]),
               figure("F40").definition),
        _count("低保保障人数（人）", now.loc["dibao", "persons"], was(before.loc["dibao", "persons"]),
               figure("F40").definition),
        _count("供养特困人员（人）", now.loc["tekun", "persons"], was(before.loc["tekun", "persons"]),
               figure("F42").definition),
    )
    second = (_wan("特困生活、护理补贴（万元）", tekun, was(tekun_prev), figure("F43").definition),) + tuple(
        _wan(f"{_LABEL_OF[c]}（万元）", now.loc[c, "amount_fen"], was(before.loc[c, "amount_fen"]),
             figure(_FIGURE_OF[c]).definition) for c in ("temporary", "orphan", "disability", "charity"))
    window = trend_window(p)
    disc = reader.q(aid.proactive_discovery, p, street)
    disc_by = reader.q(aid.proactive_discovery_by_subdistrict, p, street)
    return AidPage(
        period=p, previous=prev, slug=f"{scope}_{p.key.replace('~', '至')}",
        caption=(f"{scope} · {p.label}（{p.start:%Y-%m-%d} 至 {p.end:%Y-%m-%d}） · 口径：发放日期在统计期内的发放记录，"
                 f"金额单位万元（保留两位小数） · 同比：{prev.label}（{prev.start:%Y-%m-%d} 至 {prev.end:%Y-%m-%d}）"),
        totals=totals, totals_prev=totals_prev, overall=overall, overall_prev=overall_prev, kpis=(first, second),
        window=window, by_month=reader.q(aid.aid_by_month, window, street),
        discovery=disc, discovery_by=disc_by, funnels_cut=len(disc_by) > MAX_FUNNELS,
        funnels=disc_by.sort_values("screened", ascending=False, kind="stable").head(MAX_FUNNELS),
        discovery_kpis=(Metric("主动摸排（人次）", fmt_int(disc["screened"]), None, figure("F50").definition),
                        Metric("摸排后纳入低保（户）", fmt_int(disc["dibao_households"]), None, figure("F51").definition),
                        Metric("摸排后纳入特困（户）", fmt_int(disc["tekun_households"]), None, figure("F52").definition)),
    )


def trend(by_month: pd.DataFrame, measure: str) -> pd.DataFrame:
    """The trend chart's rows: month (as a date), its label (YYYY-MM), programme name and the measure's value."""
    return by_month.assign(month=pd.to_datetime(by_month["month"]), label=[f"{d:%Y-%m}" for d in by_month["month"]],
                           value=by_month["amount_fen"].map(fen_to_wan) if measure == "amount" else by_month["persons"])


@dataclass(frozen=True)
class AidBySubdistrict:
    label: str                   # the programme's name, or 救助发放 for all of them
    rows: pd.DataFrame           # per subdistrict: subdistrict_code, households, persons, amount_fen, …
    total: object                # the scope's totals row (for the table's total line)
    names: dict[str, str]
    many: bool                   # more subdistricts than one map can outline (province scale)
    mapped: bool                 # a map is drawn: a district or city, or one subdistrict of a province
    boundaries: pd.DataFrame     # what the map outlines (empty when there is no map)
    values: pd.DataFrame         # code, value (万元)
    details: dict[str, list[str]]
    selected_totals: pd.DataFrame | None   # the selected subdistrict's per-programme totals …
    selected_overall: dict | None          # … and its overall row


def by_subdistrict(reader: Reader, page: AidPage, street: str | None, programme: str,
                   selected: str | None) -> AidBySubdistrict:
    """分街道发放 for one programme ("all": every programme), and the selected subdistrict's programmes."""
    p = page.period
    if programme == "all":
        rows, total, label = reader.q(aid.aid_all_by_subdistrict, p, street), page.overall, "救助发放"
    else:
        rows = reader.q(aid.aid_by_subdistrict, p, street, programme=programme)
        total, label = page.totals.set_index("programme").loc[programme], AID_PROGRAMMES[programme]
    names = reader.q(geography.subdistrict_names)
    many = len(names) > map_scale.MAX_MAP_SUBDISTRICTS
    mapped = not many or street is not None
    return AidBySubdistrict(
        label=label, rows=rows, total=total, names=names, many=many, mapped=mapped,
        boundaries=(reader.q(geography.subdistrict_boundaries, street if many else None) if mapped
                    else pd.DataFrame(columns=["code", "name", "boundary_geojson", "boundary_official"])),
        values=pd.DataFrame({"code": rows["subdistrict_code"], "value": rows["amount_fen"].map(fen_to_wan)}),
        details={c: [f"户数 {h:,} 户，人数 {n:,} 人"]
                 for c, h, n in zip(rows["subdistrict_code"], rows["households"], rows["persons"])},
        selected_totals=reader.q(aid.aid_totals, p, selected) if selected else None,
        selected_overall=reader.q(aid.aid_overall, p, selected) if selected else None,
    )


def recipient_pages(reader: Reader, p: Period, street: str | None, programme: str | None) -> tuple[int, int]:
    """(rows, pages) of the recipient list, for the page-number control drawn before the page is read."""
    n = reader.q(aid.aid_recipients_count, p, street, programme=programme)
    return n, max(1, math.ceil(n / RECIPIENTS_PER_PAGE))


def recipients(reader: Reader, p: Period, street: str | None, programme: str | None, page_no: int) -> pd.DataFrame:
    """One page of the recipient list (masked by the query layer unless the reader's principal revealed it)."""
    return reader.q(aid.aid_recipients, p, street, programme=programme, limit=RECIPIENTS_PER_PAGE,
                    offset=(int(page_no) - 1) * RECIPIENTS_PER_PAGE)
