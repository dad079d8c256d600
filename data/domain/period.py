"""统计期: reporting periods (month, ISO week, quarter, half-year, year, custom range) and their URL keys."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

# every kind and its name, in the order the sidebar offers them
KINDS = {"month": "月度", "quarter": "季度", "half": "半年", "year": "年度", "week": "周", "range": "自定义"}
_NOUNS = {"month": "月份", "quarter": "季度", "half": "半年", "year": "年份", "week": "周", "range": "自定义统计期"}
_EXAMPLES = {"month": "2024-06", "quarter": "2024-Q2", "half": "2024-H1", "year": "2024", "week": "2024-W52",
             "range": "2024-01-01~2024-03-31"}
_CN_NUM = "一二三四"


class PeriodError(ValueError):
    """A period key that cannot be read; the message is Chinese."""


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    # --- naming -----------------------------------------------------------
    @property
    def key(self) -> str:
        s = self.start
        if self.kind == "month":
            return f"{s.year}-{s.month:02d}"
        if self.kind == "quarter":
            return f"{s.year}-Q{(s.month - 1) // 3 + 1}"
        if self.kind == "half":
            return f"{s.year}-H{1 if s.month <= 6 else 2}"
        if self.kind == "year":
            return f"{s.year}"
        if self.kind == "week":
            y, w, _ = s.isocalendar()
            return f"{y}-W{w:02d}"
        return f"{self.start.isoformat()}~{self.end.isoformat()}"

    @property
    def label(self) -> str:
        s = self.start
        if self.kind == "month":
            return f"{s.year}年{s.month}月"
        if self.kind == "quarter":
            return f"{s.year}年第{_CN_NUM[(s.month - 1) // 3]}季度"
        if self.kind == "half":
            return f"{s.year}年{'上' if s.month <= 6 else '下'}半年"
        if self.kind == "year":
            return f"{s.year}年"
        if self.kind == "week":
            y, w, _ = s.isocalendar()
            return f"{y}年第{w}周（{s.month}月{s.day}日—{self.end.month}月{self.end.day}日）"
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.key

    # --- arithmetic ---------------------------------------------------------
    def shift(self, n: int) -> "Period":
        """The period n steps later (negative: earlier) of the same kind."""
        if self.kind == "week":
            return week_of(self.start + timedelta(weeks=n))
        if self.kind == "range":
            span = timedelta(days=self.days * n)
            return Period("range", self.start + span, self.end + span)
        months = {"month": 1, "quarter": 3, "half": 6, "year": 12}[self.kind]
        m0 = self.start.year * 12 + self.start.month - 1 + n * months
        start = date(m0 // 12, m0 % 12 + 1, 1)
        m1 = m0 + months - 1
        end_y, end_m = m1 // 12, m1 % 12 + 1
        return Period(self.kind, start, date(end_y, end_m, calendar.monthrange(end_y, end_m)[1]))

    def previous(self) -> "Period":
        return self.shift(-1)

    def year_earlier(self) -> "Period":
        """The same period one year before (同期)."""
        if self.kind == "week":
            return week_of(self.start - timedelta(weeks=52))
        if self.kind == "range":
            return Period("range", _minus_year(self.start), _minus_year(self.end))
        months = {"month": 12, "quarter": 4, "half": 2, "year": 1}[self.kind]
        return self.shift(-months)

    def months(self) -> list[date]:
        """First day of every month the period touches."""
        out, d = [], date(self.start.year, self.start.month, 1)
        while d <= self.end:
            out.append(d)
            d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return out

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end


def _minus_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def month(y: int, m: int) -> Period:
    return Period("month", date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1]))


def quarter(y: int, q: int) -> Period:
    return Period("quarter", month(y, 3 * q - 2).start, month(y, 3 * q).end)


def half(y: int, h: int) -> Period:
    return Period("half", date(y, 1 if h == 1 else 7, 1), date(y, 6, 30) if h == 1 else date(y, 12, 31))


def year(y: int) -> Period:
    return Period("year", date(y, 1, 1), date(y, 12, 31))


def week_of(d: date) -> Period:
    """The Monday–Sunday ISO week containing d."""
    start = d - timedelta(days=d.weekday())
    return Period("week", start, start + timedelta(days=6))


def iso_week(y: int, w: int) -> Period:
    return week_of(date.fromisocalendar(y, w, 1))


# (pattern, builder, why a key of that shape can still name no period — in Chinese, for the message)
_PATTERNS = [
    (re.compile(r"^(\d{4})-(\d{1,2})$"), lambda m: month(int(m[1]), int(m[2])), lambda m: "月份应为 1 至 12"),
    (re.compile(r"^(\d{4})-[Qq]([1-4])$"), lambda m: quarter(int(m[1]), int(m[2])), lambda m: "季度应为 1 至 4"),
    (re.compile(r"^(\d{4})-[Hh]([12])$"), lambda m: half(int(m[1]), int(m[2])), lambda m: "半年应为 H1 或 H2"),
    (re.compile(r"^(\d{4})-[Ww](\d{1,2})$"), lambda m: iso_week(int(m[1]), int(m[2])),
     lambda m: f"{int(m[1])}年共 {_weeks_in(int(m[1]))} 周，周次应为 1 至 {_weeks_in(int(m[1]))}"),
    (re.compile(r"^(\d{4})$"), lambda m: year(int(m[1])), lambda m: "年份应为 1 至 9999"),
    (re.compile(r"^(\d{4}-\d{2}-\d{2})~(\d{4}-\d{2}-\d{2})$"),
     lambda m: custom(date.fromisoformat(m[1]), date.fromisoformat(m[2])),
     lambda m: "日期不存在（月份应为 1 至 12，日应在该月天数以内）"),
]


def _weeks_in(y: int) -> int:
    """ISO weeks in a year (52 or 53): the week of 28 December is the year's last."""
    try:
        return date(y, 12, 28).isocalendar()[1]
    except ValueError:
        return 52


def custom(start: date, end: date) -> Period:
    if end < start:
        raise PeriodError(f"自定义统计期的结束日期 {end} 早于开始日期 {start}。")
    return Period("range", start, end)


def parse(key: str, kind: str | None = None) -> Period:
    """The one reader of period keys (URL, picker, command line, stored rows): 2024-06, 2024-Q2, 2024-H1, 2024-W23,
    2024, 2024-01-01~2024-03-31. With `kind`, a key of another kind is refused (PeriodError, Chinese message)."""
    key = (key or "").strip()
    got = _read(key)
    if kind is not None and got.kind != kind:
        raise PeriodError(f"“{key}”不是{_NOUNS[kind]}，示例：{_EXAMPLES[kind]}。")
    return got


def label(key: str) -> str:
    """The Chinese name of a period key (for pickers' format_func): '2024-Q2' → '2024年第二季度'."""
    return parse(key).label


def _read(key: str) -> Period:
    for pattern, build, why in _PATTERNS:
        m = pattern.match(key)
        if m:
            try:
                return build(m)
            except PeriodError:
                raise
            except ValueError as exc:  # Python's own words (English) stay out of the message
                raise PeriodError(f"统计期“{key}”不存在：{why(m)}。") from exc
    shown = f"“{key}”" if re.fullmatch(r"[0-9A-Za-z~-]{1,40}", key) else ""  # URL text reaches Markdown only if plain
    raise PeriodError(f"无法识别的统计期{shown}。示例：2024-06、2024-Q2、2024-H1、2024-W23、2024。")


def containing(kind: str, d: date) -> Period:
    """The month / quarter / half-year / year / ISO week that contains the day."""
    return {"month": lambda: month(d.year, d.month), "quarter": lambda: quarter(d.year, (d.month - 1) // 3 + 1),
            "half": lambda: half(d.year, 1 if d.month <= 6 else 2), "year": lambda: year(d.year),
            "week": lambda: week_of(d)}[kind]()


def options(latest: Period, first: date, *, limit: int | None = None, keep: str | None = None) -> list[str]:
    """The one builder of period pickers' choices: keys of `latest` and every earlier period of its kind that ends on
    or after `first` (at most `limit`), newest first; `keep` (the key already chosen, e.g. from a bookmark) is put
    first when it is not among them, so a picker always shows what is selected."""
    out, p = [], latest
    while p.end >= first and (limit is None or len(out) < limit):
        out.append(p.key)
        p = p.previous()
    if keep and keep not in out:
        out.insert(0, keep)
    return out


def latest_complete(kind: str, last_data_day: date, today: date | None = None) -> Period:
    """The latest period of this kind that has ended and has records.

    A period counts as complete when it ended before today and before (or on) the
    last day with records; so an app opened in 2026 on demo data ending 2024-12-31
    defaults to December 2024, not to an empty month.
    """
    today = today or date.today()
    limit = min(last_data_day, today - timedelta(days=1))
    probe = containing(kind, limit)
    while probe.end > limit:
        probe = probe.previous()
    return probe
