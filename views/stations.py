"""站点任务与考核 page model: the 服务内容清单 in force, every station's planned vs done for the month (each figure's
source stated), the 100-point monthly score with its formula, the ranking (published or computed now), the monthly
dispatch meetings and what stations enter by hand; and the one-page 考核通报's model. No Streamlit.

A 街道 account sees its own station: its board, its score computed now and, once a month is published, its rank
among the stations (never the other stations' scores). The display role sees figures and scores only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from data.domain import supervision as rules
from data.domain.period import Period
from data.domain.units import pct
from data.queries import supervision as sq
from data.security.access import Reader
from data.writes import supervision as writes

BASES = rules.BASES
TASK_SOURCES = rules.TASK_SOURCES
SCORE_PARTS = rules.SCORE_PARTS
PART_LABELS = {k: v[0] for k, v in rules.SCORE_PARTS.items()}


def month_label(month: str) -> str:
    first, _ = rules.month_bounds(month)
    return f"{first.year}年{first.month}月"


def default_month(period: Period, last_data_day: date) -> str:
    """The month shown first: the sidebar's month when it chose one, else the latest month that has ended by the
    period's end (and by the last day with records)."""
    if period.kind == "month":
        return rules.month_key(period.start)
    end = min(period.end, last_data_day)
    _, last = rules.month_bounds(rules.month_key(end))
    return rules.month_key(end) if end == last else rules.previous_month(rules.month_key(end))


def month_options(reader: Reader, chosen: str | None = None, today: date | None = None) -> list[str]:
    """Months from the first with ledger records to the current one, newest first (the chosen one always offered)."""
    from data.queries.meta import record_date_range

    today = today or date.today()
    span = reader.q(record_date_range)
    out, key = [], rules.month_key(today)
    stop = rules.month_key(span[0] if span else today)
    while key >= stop and len(out) < 120:
        out.append(key)
        key = rules.previous_month(key)
    if chosen and chosen not in out:
        out.insert(0, chosen)
    return out


def _pct(v) -> str:
    return "—" if v is None or pd.isna(v) else pct(float(v))


def _num(v) -> str:
    return "—" if v is None or pd.isna(v) else (f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}")


@dataclass(frozen=True)
class StationsPage:
    month: str
    label: str
    counts_only: bool
    street_locked: str | None
    tasks: pd.DataFrame             # 服务内容清单 (Chinese)
    task_version: str
    board: pd.DataFrame             # per station and task (Chinese)
    matrix: pd.DataFrame            # 站点 × 任务: 完成率
    scores: pd.DataFrame            # per station, computed now (Chinese)
    ranking: pd.DataFrame | None    # district roles: 排名 (published or computed now)
    published: bool
    published_at: datetime | None
    own_ranks: pd.DataFrame | None  # 街道: its published months with its rank among the stations
    own_rank_text: str
    formula: str
    weights: pd.DataFrame
    dispatches: pd.DataFrame | None
    entries: pd.DataFrame | None    # hand-entered duties the user may fill in (office, own station)
    can_manage: bool                # office: duty list, dispatch meetings, publishing


def _tasks_table(tasks: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"序号": tasks["position"], "任务": tasks["name"],
                         "每月数量": [f"{_num(q)} {u}" for q, u in zip(tasks["quantity"], tasks["unit"])],
                         "计划基数": tasks["basis"].map(BASES), "数据来源": tasks["source"].map(TASK_SOURCES)})


def _version_text(tasks: pd.DataFrame) -> str:
    start = tasks["month_from"].iloc[0] if len(tasks) else None
    if start is None or pd.isna(start):
        return "内置默认清单（尚未保存过版本）"
    return f"{start.year}年{start.month}月起适用（第 {int(tasks['revision'].iloc[0])} 次保存）"


def _board_table(b: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"站点": b["station_name"], "任务": b["task_name"],
                         "计划": [f"{_num(p)} {u}" for p, u in zip(b["planned"], b["unit"])],
                         "完成": [(f"{_num(d)} {u}" if e else "未填报") for d, u, e in zip(b["done"], b["unit"], b["entered"])],
                         "完成率": [_pct(r) for r in b["rate"]], "计划口径": b["basis_name"],
                         "数据来源": b["source_name"]})


def _matrix(b: pd.DataFrame) -> pd.DataFrame:
    if b.empty:
        return pd.DataFrame()
    m = b.pivot(index="station_name", columns="task_name", values="rate")
    m = m.loc[list(dict.fromkeys(b["station_name"])), list(dict.fromkeys(b["task_name"]))]
    return m.map(_pct).reset_index().rename(columns={"station_name": "站点"}).rename_axis(columns=None)


def score_table(s: pd.DataFrame) -> pd.DataFrame:
    out = {"站点": s["station_name"] if "station_name" in s else s["subdistrict_name"]}
    for k, label in PART_LABELS.items():
        out[f"{label}（率）"] = [_pct(v) for v in s[f"rate_{k}"]]
        out[f"{label}（分）"] = s[f"points_{k}"]
    out["总分"] = s["score"]
    if "assessed" in s:
        out["是否考核"] = ["是" if a else "未设站，不考核" for a in s["assessed"]]
    return pd.DataFrame(out)


def ranking_table(r: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"排名": r["rank"], "站点": r["subdistrict_name"] + "民政服务站", "总分": r["score"],
                         **{PART_LABELS[k]: r[f"points_{k}"] for k in SCORE_PARTS},
                         "上月": [None if pd.isna(v) else v for v in r["previous"]],
                         "较上月": [("—" if pd.isna(c) else f"{c:+.1f}") for c in r["change"]]})


def weights_table(weights: dict) -> pd.DataFrame:
    return pd.DataFrame({"项目": [PART_LABELS[k] for k in SCORE_PARTS], "权重（分）": [weights[k] for k in SCORE_PARTS],
                         "得分率口径": [SCORE_PARTS[k][1] for k in SCORE_PARTS]})


def build(reader: Reader, month: str, street: str | None = None) -> StationsPage:
    """The 站点任务与考核 page for `month` ("2024-06") and the sidebar's subdistrict (`street`)."""
    who = reader.principal
    settings = reader.q(sq.supervision_settings)
    tasks = reader.q(sq.service_tasks, month)
    got = reader.q(sq.station_month, month, street)  # the board and the scores from one reading of the ledgers
    board, scores = got["board"], got["scores"]
    ranking = own = None
    published, at, own_text = False, None, ""
    if who.role == "street":
        mine = reader.q(sq.published_scores, None)
        own = pd.DataFrame({"月份": [month_label(m) for m in mine["month"]], "总分": mine["score"],
                            "排名": [f"{r} / {n}" for r, n in zip(mine["rank"], mine["ranked"])]})
        this = mine[mine["month"] == month]
        published = not this.empty
        own_text = (f"{month_label(month)}考核：{this['score'].iloc[0]:.1f} 分，在 {int(this['ranked'].iloc[0])} 个站点中"
                    f"排第 {int(this['rank'].iloc[0])} 名。") if published else f"{month_label(month)}考核结果尚未发布。"
    else:
        got = reader.q(sq.assessment, month)
        ranking, published, at = ranking_table(got["rows"]), got["published"], got["published_at"]
    dispatches = entries = None
    if who.role != "display":
        d = reader.q(sq.dispatch_records, month, street)
        dispatches = pd.DataFrame({"站点": d["subdistrict_name"], "调度日期": [x.isoformat() for x in d["held_on"]],
                                   "参加人员": d["attendees"], "调度事项和决定": d["decisions"],
                                   "交办任务（督办单）": d["orders"]})
        if who.role in ("office", "street"):
            entries = _entries(reader, month, street, board)
    return StationsPage(
        month=month, label=month_label(month), counts_only=who.role == "display", street_locked=who.street_locked,
        tasks=_tasks_table(tasks), task_version=_version_text(tasks), board=_board_table(board), matrix=_matrix(board),
        scores=score_table(scores), ranking=ranking, published=published, published_at=at, own_ranks=own,
        own_rank_text=own_text, formula=rules.formula_text(settings.weights), weights=weights_table(settings.weights),
        dispatches=dispatches, entries=entries, can_manage=who.role == "office")


def _entries(reader: Reader, month: str, street: str | None, board: pd.DataFrame) -> pd.DataFrame:
    """The hand-entered duties of the month, one row per station and duty, with what was entered and its version."""
    manual = board[board["source"] == "manual"]
    got = reader.q(sq.station_entries, month, street)
    known = {(c, t): (d, n, v) for c, t, d, n, v in zip(got["subdistrict_code"], got["task_code"], got["done"],
                                                         got["note"], got["version"])}
    rows = []
    for r in manual.itertuples(index=False):
        done, note, version = known.get((r.subdistrict_code, r.task_code), (None, None, 0))
        rows.append({"subdistrict_code": r.subdistrict_code, "task_code": r.task_code, "站点": r.station_name,
                     "任务": r.task_name, "计划": r.planned, "单位": r.unit, "完成数": done, "说明": note or "",
                     "version": int(version)})
    return pd.DataFrame(rows, columns=["subdistrict_code", "task_code", "站点", "任务", "计划", "单位", "完成数", "说明",
                                       "version"])


# --- writes ---------------------------------------------------------------------------------------------------------

def save_entry(reader: Reader, month: str, row: dict, done, note) -> dict:
    return writes.save_station_entry(reader.engine, reader.principal, month, row["subdistrict_code"], row["task_code"],
                                     done, note, row["version"])


def task_editor(reader: Reader, month_from: str) -> tuple[pd.DataFrame, int]:
    """The duty list as the editor starts from for a version applying from `month_from`, and the revision of that
    month's saved version (0: none yet) to save against."""
    tasks = reader.q(sq.service_tasks, month_from)
    start = tasks["month_from"].iloc[0] if len(tasks) else None
    revision = int(tasks["revision"].iloc[0]) if start is not None and not pd.isna(start) and \
        rules.month_key(start) == month_from else 0
    return tasks[["code", "name", "unit", "quantity", "basis", "source"]].reset_index(drop=True), revision


def save_tasks(reader: Reader, month_from: str, rows: list[dict], revision: int) -> pd.DataFrame:
    return writes.save_service_tasks(reader.engine, reader.principal, month_from, rows, revision)


def next_editable_month(reader: Reader, today: date | None = None) -> str:
    """The first month whose duty list may still change: after the last published month, and not before this one."""
    today = today or date.today()
    published = reader.q(sq.published_scores, None) if reader.principal.role != "street" else pd.DataFrame()
    key = rules.month_key(today)
    if len(published):
        after = rules.month_key(rules.month_bounds(max(published["month"]))[1] + timedelta(days=1))
        key = max(key, after)
    return key


def stations(reader: Reader) -> pd.DataFrame:
    """The stations an office user can record a dispatch meeting for (code, name)."""
    return reader.q(sq.station_names, None).reset_index(drop=True)


def save_dispatch(reader: Reader, values: dict) -> dict:
    return writes.save_dispatch(reader.engine, reader.principal, **values)


def publish(reader: Reader, month: str):
    return writes.publish_assessment(reader.engine, reader.principal, month)


# --- 考核通报 ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AssessmentReport:
    """What the one-page 考核通报 says (exports.assessment_docx draws it)."""
    month: str
    title: str
    status: str                     # 已发布 … / 试算
    formula: str
    table: pd.DataFrame             # ranking with the points of each part
    remarks: list


def report(reader: Reader, month: str) -> AssessmentReport:
    """The 考核通报 of a month (district roles): the ranking, the formula and a few plain remarks."""
    got = reader.q(sq.assessment, month)
    rows = got["rows"]
    weights = reader.q(sq.supervision_settings).weights
    label = month_label(month)
    status = (f"本通报依据 {got['published_at']:%Y年%m月%d日} 发布的考核结果。" if got["published"] and got["published_at"]
              else "考核结果尚未发布，以下为按当前台账的试算结果。")
    remarks = []
    if len(rows):
        top = rows.head(3)
        remarks.append("排名前三：" + "、".join(f"{n}民政服务站（{s:.1f} 分）" for n, s in zip(top["subdistrict_name"],
                                                                                   top["score"])) + "。")
        low = rows.tail(1).iloc[0]
        weakest = min(SCORE_PARTS, key=lambda k: (low[f"points_{k}"] / weights[k]) if weights[k] else 1)
        remarks.append(f"{low['subdistrict_name']}民政服务站得分最低（{low['score']:.1f} 分），“{PART_LABELS[weakest]}”失分较多，"
                       "请对照服务内容清单抓好整改。")
        moved = rows.dropna(subset=["change"])
        if len(moved):
            best = moved.loc[moved["change"].idxmax()]
            if best["change"] > 0:
                remarks.append(f"较上月进步最大：{best['subdistrict_name']}民政服务站（{best['change']:+.1f} 分）。")
    return AssessmentReport(month=month, title=f"西湖区街道民政服务站{label}工作考核通报", status=status,
                            formula=rules.formula_text(weights), table=ranking_table(rows), remarks=remarks)
