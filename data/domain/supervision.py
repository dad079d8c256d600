"""督办 and 站点考核: the rules of the supervision loop and of the monthly station assessment, in plain Python.

* A 督办单 (supervision order) moves 待签收 → 整改中 → 已反馈 → 复查通过 / 退回 → 已办结. Each step belongs to one
  side: the office (业务科室) issues, verifies (复查通过 / 退回) and archives (办结); the responsible unit signs
  (签收) and reports back (反馈). A subdistrict's own 街道 account acts for it; a department or a service provider
  has no account, so the office records its steps on its behalf (`may_act`).
* Graded warnings (`order_level`): 蓝 due within `blue_days`; 黄 overdue; 橙 overdue more than `orange_days` or
  returned `orange_returns` times; 红 overdue more than `red_days`, or overdue in a subdistrict where more than
  `red_share` of its current orders — open ones and those verified in the last RED_WINDOW_DAYS days — are overdue
  (`subdistrict_red`). An order waiting for review (已反馈) is judged
  on the day it was reported: the unit is not late while the office reviews.
* The monthly station score (`station_score`): 100 points from declared weights over five rates in [0, 1]; a rate
  with nothing to assess (no order due, no elder on the roster) earns its full weight.

Thresholds and weights are settings (`Settings`, stored in the meta table, see data.queries.supervision); the
defaults below are the documented ones (README "督办与站点考核").
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

# --- states and steps ----------------------------------------------------------------------------------------

STATUSES = {
    "pending": "待签收",
    "working": "整改中",
    "reported": "已反馈",
    "passed": "复查通过",
    "returned": "退回",
    "closed": "已办结",
}
OPEN_STATUSES = ("pending", "working", "reported", "returned")  # not yet verified: warnings apply
DONE_STATUSES = ("passed", "closed")

OFFICE, UNIT = "office", "unit"


@dataclass(frozen=True)
class Step:
    """One transition: from which states, to which, and whose step it is (the office's or the unit's)."""
    action: str
    label: str
    sources: tuple[str, ...]
    target: str
    side: str
    needs_note: bool = False
    note_label: str = "说明"


STEPS = {
    "sign": Step("sign", "签收", ("pending",), "working", UNIT),
    "report": Step("report", "反馈整改情况", ("working", "returned"), "reported", UNIT, True, "整改情况"),
    "pass": Step("pass", "复查通过", ("reported",), "passed", OFFICE, False, "复查意见"),
    "return": Step("return", "退回重新整改", ("reported",), "returned", OFFICE, True, "退回理由"),
    "close": Step("close", "办结归档", ("passed",), "closed", OFFICE),
}
ISSUE = "issue"  # the first event of every order: 派单 (office), → 待签收
ACTION_LABELS = {ISSUE: "派单", **{k: s.label for k, s in STEPS.items()}}
ISSUE_ROLES = frozenset({"office"})

UNIT_KINDS = {"subdistrict": "街道", "department": "区直部门", "provider": "服务商"}
# 区直部门 that can be given an order (the district's departments the bureau coordinates with)
DEPARTMENTS = ("区民政局养老服务科", "区民政局社会救助科", "区民政局社会事务科", "区民政局基层政权科",
               "区卫生健康委员会", "区市场监督管理局", "区消防救援大队", "区住房和城乡建设局", "区人力资源和社会保障局",
               "区财政局", "区医疗保障局")

SOURCES = {
    "finding": "逾期问题",
    "visits": "独居老人巡访不足",
    "meal_point": "助餐点无记录",
    "ledger": "台账未更新",
    "roundtable": "圆桌会诉求",
    "complaint": "群众诉求",
    "dispatch": "一月一调度",
    "manual": "其他事项",
}
REQUEST_SOURCES = ("roundtable", "complaint")  # scored as 诉求办理, the rest as 督办按时


def may_act(step: Step, role: str, unit_kind: str, unit_subdistrict: str | None,
            own_subdistrict: str | None) -> bool:
    """Whether a user of `role` (a 街道 account of `own_subdistrict`) may take `step` on an order of this unit."""
    if step.side == OFFICE:
        return role == "office"
    if unit_kind == "subdistrict":
        return role == "street" and own_subdistrict is not None and own_subdistrict == unit_subdistrict
    return role == "office"  # a department or provider has no account: the office records its steps


def allowed_steps(status: str, role: str, unit_kind: str, unit_subdistrict: str | None,
                  own_subdistrict: str | None) -> list[Step]:
    """The steps this user may take on an order now in `status`, in the loop's order."""
    return [s for s in STEPS.values() if status in s.sources
            and may_act(s, role, unit_kind, unit_subdistrict, own_subdistrict)]


def state_after(events: list[tuple[str, date]]) -> dict:
    """An order's state after its events [(action, day), …] in order: status, times returned, the day it was last
    reported, the day of the report that passed review and the day it passed (None until then), the day closed."""
    status, returned, reported, accepted, passed, closed = None, 0, None, None, None, None
    for action, day in events:
        if action == ISSUE:
            status = "pending"
            continue
        step = STEPS[action]
        status = step.target
        if action == "report":
            reported = day
        elif action == "return":
            returned += 1
        elif action == "pass":
            accepted, passed = reported, day
        elif action == "close":
            closed = day
    return {"status": status, "returned": returned, "reported_on": reported, "accepted_report_on": accepted,
            "passed_on": passed, "closed_on": closed}


# --- settings ------------------------------------------------------------------------------------------------

SCORE_PARTS = {
    # key: (label, what the rate is)
    "tasks": ("任务完成", "服务内容清单各项任务的完成率（完成数 ÷ 计划数，单项最高 100%）的平均"),
    "on_time": ("督办按时", "期限在本月的督办单（诉求类除外）中，在期限当日或之前反馈、并经复查通过的比例"),
    "ledger": ("台账及时", "本月各周（以周日所在月份计）中有台账记录的周数 ÷ 本月周数"),
    "visits": ("巡访达标", "月末在册独居老人中本月巡访不少于两次的比例"),
    "requests": ("诉求办理", "期限在本月的圆桌会诉求、群众诉求督办单中，在期限内反馈并经复查通过的比例"),
}
DEFAULT_WEIGHTS = {"tasks": 40, "on_time": 20, "ledger": 15, "visits": 15, "requests": 10}
LEVELS = {"blue": "蓝", "yellow": "黄", "orange": "橙", "red": "红"}
LEVEL_ORDER = ("blue", "yellow", "orange", "red")


@dataclass(frozen=True)
class Settings:
    """督办预警阈值、附件上限和考核权重 — the defaults are the documented ones."""
    blue_days: int = 3          # 蓝: due within this many days
    orange_days: int = 7        # 橙: overdue more than this many days …
    orange_returns: int = 2     # … or returned this many times
    red_days: int = 15          # 红: overdue more than this many days …
    red_share: float = 0.30     # … or overdue in a subdistrict with more than this share of its open orders overdue
    evidence_max_mb: int = 10   # one evidence file at most this many MB
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))

    @property
    def evidence_max_bytes(self) -> int:
        return int(self.evidence_max_mb) * 1024 * 1024


SETTING_LABELS = {"blue_days": "蓝色预警：距期限天数", "orange_days": "橙色预警：逾期天数",
                  "orange_returns": "橙色预警：退回次数", "red_days": "红色预警：逾期天数",
                  "red_share": "红色预警：街道逾期占比", "evidence_max_mb": "附件大小上限（MB）"}
EVIDENCE_MAX_MB_LIMIT = 50  # the upload limit of the server (.streamlit/config.toml server.maxUploadSize)


class SettingsError(ValueError):
    """Settings that cannot be used; the message is Chinese and names the field."""


def check_settings(s: Settings) -> Settings:
    """The settings as they may be saved, or SettingsError naming the field."""
    def whole(name, lo, hi):
        value = getattr(s, name)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise SettingsError(f"“{SETTING_LABELS[name]}”应为 {lo}–{hi} 之间的整数。")
        return value

    whole("blue_days", 1, 30)
    orange = whole("orange_days", 1, 90)
    red = whole("red_days", 2, 180)
    whole("orange_returns", 1, 10)
    whole("evidence_max_mb", 1, EVIDENCE_MAX_MB_LIMIT)
    if red <= orange:
        raise SettingsError(f"“{SETTING_LABELS['red_days']}”（{red}）应大于“{SETTING_LABELS['orange_days']}”（{orange}）。")
    share = s.red_share
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 1:
        raise SettingsError(f"“{SETTING_LABELS['red_share']}”应在 0 与 1 之间（如 0.3 表示 30%）。")
    weights = dict(s.weights)
    if set(weights) != set(SCORE_PARTS):
        raise SettingsError("考核权重应包含：" + "、".join(label for label, _ in SCORE_PARTS.values()) + "。")
    for key, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, int) or not 0 <= w <= 100:
            raise SettingsError(f"考核权重“{SCORE_PARTS[key][0]}”应为 0–100 之间的整数。")
    if sum(weights.values()) != 100:
        raise SettingsError(f"考核权重合计应为 100 分（现为 {sum(weights.values())} 分）。")
    return replace(s, red_share=float(share), weights={k: weights[k] for k in SCORE_PARTS})


# --- graded warnings -----------------------------------------------------------------------------------------

def order_level(status: str | None, deadline: date, on: date, returned: int = 0, reported_on: date | None = None,
                s: Settings = Settings()) -> tuple[str | None, str]:
    """The warning level of one order on day `on` ("blue" … "red", or None) and the reason, in Chinese.
    Verified or archived orders carry none; an order waiting for review is judged on its report day."""
    if status not in OPEN_STATUSES:
        return None, ""
    clock = reported_on if status == "reported" and reported_on is not None else on
    late = (clock - deadline).days
    if late > s.red_days:
        return "red", f"逾期 {late} 天"
    if late > s.orange_days:
        return "orange", f"逾期 {late} 天"
    if returned >= s.orange_returns:
        return "orange", f"退回 {returned} 次" + (f"，逾期 {late} 天" if late > 0 else "")
    if late > 0:
        return "yellow", f"逾期 {late} 天"
    if status != "reported" and late >= -s.blue_days:
        return "blue", "今天到期" if late == 0 else f"{-late} 天后到期"
    return None, ""


def is_overdue(level: str | None, reason: str) -> bool:
    return level in ("yellow", "orange", "red") and "逾期" in reason


RED_WINDOW_DAYS = 30  # a subdistrict's current orders: open ones, and those verified in the last 30 days


def is_current(status: str | None, passed_on: date | None, on: date) -> bool:
    """Whether an order counts among a subdistrict's current orders on day `on` (for its overdue share)."""
    if status in OPEN_STATUSES:
        return True
    return passed_on is not None and (on - passed_on).days <= RED_WINDOW_DAYS


def subdistrict_red(current: int, overdue: int, s: Settings = Settings()) -> bool:
    """红 for a subdistrict: more than `red_share` of its current orders (`is_current`) overdue."""
    return current > 0 and overdue / current > s.red_share


def worst(levels) -> str | None:
    """The most severe of some levels (None when there is none)."""
    ranked = [LEVEL_ORDER.index(v) for v in levels if v in LEVEL_ORDER]
    return LEVEL_ORDER[max(ranked)] if ranked else None


# --- station tasks and the monthly score -----------------------------------------------------------------------

BASES = {
    "fixed": "每站每月",
    "per_elder": "× 月末在册独居老人数",
    "per_window": "× 救助窗口数",
    "per_week": "× 本月周数",
    "per_meal_point": "× 月末运营助餐点数",
}
TASK_SOURCES = {
    "living_alone_visits": "独居老人巡访记录：本月巡访、探访人次",
    "screenings": "主动摸排记录：本月摸排人次",
    "aid_windows": "社会救助窗口台账：“四个一”四项齐全的窗口数（台账不记日期，按当前配置）",
    "ledger_weeks": "助餐、上门服务、巡访、救助发放、检查问题台账：本月有记录的周数",
    "manual": "站点填报",
}
# 服务内容清单 in force when none was saved (the demo saves it as the version of 2024-01)
DEFAULT_TASKS = (
    # code, name, unit, quantity, basis, source
    ("visits", "独居老人巡访", "人次", 2, "per_elder", "living_alone_visits"),
    ("screening", "困难群众摸排", "人次", 15, "fixed", "screenings"),
    ("policy", "政策宣讲", "场", 2, "fixed", "manual"),
    ("windows", "救助窗口“四个一”", "个", 1, "per_window", "aid_windows"),
    ("meal_patrol", "助餐点巡查", "次", 2, "per_meal_point", "manual"),
    ("ledger", "台账更新", "周", 1, "per_week", "ledger_weeks"),
)


def month_bounds(month: str) -> tuple[date, date]:
    """"2024-06" → (2024-06-01, 2024-06-30); ValueError with a Chinese message otherwise."""
    try:
        y, m = (int(p) for p in str(month).split("-"))
        first = date(y, m, 1)
    except (TypeError, ValueError):
        raise ValueError(f"月份“{month}”格式不正确，应为 2024-06 的形式。") from None
    return first, date(y, m, calendar.monthrange(y, m)[1])


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def previous_month(month: str) -> str:
    first, _ = month_bounds(month)
    return month_key(first - timedelta(days=1))


def weeks_of_month(month: str) -> list[tuple[date, date]]:
    """The Monday–Sunday weeks counted in a month: those whose Sunday falls in it (4 or 5)."""
    first, last = month_bounds(month)
    sunday = first + timedelta(days=(6 - first.weekday()) % 7)
    out = []
    while sunday <= last:
        out.append((sunday - timedelta(days=6), sunday))
        sunday += timedelta(days=7)
    return out


def planned(quantity: float, basis: str, counts: dict) -> float:
    """A task's planned quantity for one station and month: the quantity, times the station's count for the basis."""
    return float(quantity) * (1 if basis == "fixed" else float(counts.get(basis, 0)))


def completion(planned_qty: float, done: float) -> float | None:
    """完成率, capped at 100 % (None when nothing was planned)."""
    if not planned_qty:
        return None
    return min(max(float(done) / float(planned_qty), 0.0), 1.0)


def share(part: int, whole: int) -> float | None:
    return None if not whole else part / whole


def mean(values) -> float | None:
    got = [v for v in values if v is not None]
    return sum(got) / len(got) if got else None


def station_score(rates: dict, weights: dict) -> tuple[float, dict]:
    """Score (0–100, one decimal) and the points of each part: weight × rate, a rate of None (nothing to assess)
    earning the full weight."""
    points = {}
    for key in SCORE_PARTS:
        rate = rates.get(key)
        rate = 1.0 if rate is None else min(max(float(rate), 0.0), 1.0)
        points[key] = round(weights[key] * rate, 2)
    return round(sum(points.values()), 1), points


def formula_text(weights: dict) -> str:
    """The formula as the page and the 考核通报 show it."""
    return "总分 = " + " + ".join(f"{SCORE_PARTS[k][0]}率 × {weights[k]}" for k in SCORE_PARTS) + \
        "（无可考核事项的项目按满分计）"


def rank(scores: dict) -> dict:
    """Competition ranking (1, 2, 2, 4) of scores {key: score}, highest first."""
    ordered = sorted(scores.values(), reverse=True)
    return {k: ordered.index(v) + 1 for k, v in scores.items()}
