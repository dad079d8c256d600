"""The demo district's shared ground: its calendar and warning signals, persons' names, small date helpers, and
DistrictBase — the plumbing every domain of the generator draws with (one random stream, rows as dicts).

The generator is deterministic: every domain draws from the one stream `rng` in the order `_District.build` calls
them, so moving code between these modules changes nothing as long as that order stays.
"""
from __future__ import annotations

import math
from collections import Counter
from datetime import date, timedelta

import numpy as np

from data.demo.tables import SPECS, TABLE_ORDER

DEMO_START = date(2023, 1, 1)
DEMO_PERIOD_END = date(2024, 12, 31)

# The dashboard's warning signals at the end of the demo
SILENT_STREET = "360103010"           # 南站街道: no ledger record in the last week of 2024
SILENT_FROM = date(2024, 12, 23)
SILENT_MEAL_POINTS_LAST_DAY = date(2024, 12, 19)  # 2 meal points stop reporting (nothing in the last 10 days)
SHOWCASE_COMMUNITY = "360103014001"   # 桃花街道凉伞树社区: the visited showcase meal point

PERSONS_PER_BIRTH_DATE = 2   # per replica and sex; 499 sequence numbers per birth date and sex → at most ×249
MAX_SCALE = 499 // PERSONS_PER_BIRTH_DATE

HALVES = {
    "2023H1": (date(2023, 1, 1), date(2023, 6, 30)),
    "2023H2": (date(2023, 7, 1), date(2023, 12, 31)),
    "2024H1": (date(2024, 1, 1), date(2024, 6, 30)),
    "2024H2": (date(2024, 7, 1), date(2024, 12, 31)),
}
H1_START, H1_END = HALVES["2024H1"]

SURNAMES = list("张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹黎易常武乔贺赖龚文")
COMPOUND_SURNAMES = ["欧阳", "司马", "诸葛"]
GIVEN_1 = "甲乙丙丁戊己庚辛壬癸"
GIVEN_2 = "一二三四五六七八九十"

OLD_TOWN = {"360103001", "360103004", "360103007", "360103009", "360103010"}


def _days(a: date, b: date) -> int:
    return (b - a).days


def _monthly_days(day: int) -> list[date]:
    return [date(y, mo, day) for y in (2023, 2024) for mo in range(1, 13)]


def _half_of(d: date) -> str | None:
    for key, (a, b) in HALVES.items():
        if a <= d <= b:
            return key
    return None


def _to_dates(arr) -> list[date]:
    return np.asarray(arr, dtype="datetime64[D]").tolist()


class DistrictBase:
    """One replica of the district, generated once; rows are plain dicts keyed by column name."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.t: dict[str, list[dict]] = {name: [] for name in TABLE_ORDER}
        self.persons: list[tuple[date, bool]] = []
        self._births: Counter = Counter()

    # ---- plumbing
    def add(self, table: str, **row) -> int:
        rows = self.t[table]
        if SPECS[table].has_id:
            row = {"id": len(rows) + 1, **row}
        rows.append(row)
        return row.get("id", 0)

    def person(self, born: date, male: bool) -> int:
        """A person key; at most 2 persons of a replica share a birth date and sex, so that the ID sequence numbers
        (about 500 per birth date and sex) last for up to 249 replicas."""
        while self._births[(born, male)] >= PERSONS_PER_BIRTH_DATE:
            born += timedelta(days=1)
        self._births[(born, male)] += 1
        self.persons.append((born, male))
        return len(self.persons) - 1

    def name(self) -> str:
        r = self.rng
        surname = COMPOUND_SURNAMES[r.integers(3)] if r.random() < 0.04 else SURNAMES[r.integers(len(SURNAMES))]
        given = GIVEN_1[r.integers(10)] + (GIVEN_2[r.integers(10)] if r.random() < 0.7 else "")
        return surname + given

    def pick(self, seq):
        """One element of a sequence, uniformly at random."""
        return seq[int(self.rng.integers(len(seq)))]

    def phone(self) -> str:
        return f"1990000{int(self.rng.integers(0, 10000)):04d}"

    def rand_date(self, a: date, b: date) -> date:
        return a + timedelta(days=int(self.rng.integers(0, _days(a, b) + 1)))

    def rand_weekday(self, a: date, b: date) -> date:
        for _ in range(50):
            d = self.rand_date(a, b)
            if d.weekday() < 5:
                return d
        return d

    def birth(self, age_lo: int, age_hi: int, on: date = date(2024, 6, 30)) -> date:
        return self.rand_date(date(on.year - age_hi, 1, 1), date(on.year - age_lo, 12, 28))

    def jitter(self, lon: float, lat: float, lo: float = 40, hi: float = 160) -> tuple[float, float]:
        d, a = self.rng.uniform(lo, hi), self.rng.uniform(0, 2 * math.pi)
        return (round(lon + d * math.cos(a) / (111_320 * math.cos(math.radians(lat))), 6),
                round(lat + d * math.sin(a) / 110_540, 6))

    def pick_comm(self, weights: np.ndarray, size: int | None = None):
        return self.rng.choice(self.n, size=size, p=weights / weights.sum())
