"""The demo district's services to elders at home: home-service visits, the service stations and their social
workers, and the living-alone roster with its monthly visits."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from data.db import models as m
from data.demo.common import (
    DEMO_PERIOD_END,
    H1_END,
    H1_START,
    HALVES,
    SILENT_FROM,
    SILENT_STREET,
    _days,
    _half_of,
    _to_dates,
)

HOME_PROVIDERS = {
    "age80_2h": ["甲乙居家养老服务有限公司", "丙丁家政服务有限公司"],
    "five_groups": ["戊己社会工作服务中心", "庚辛居家养老服务有限公司"],
    "family_bed": ["壬癸康养服务有限公司", "子丑护理服务有限公司"],
}
# service_stations.level is String(10) in the schema, too short for "subdistrict": subdistrict stations are "street"
STATION_LEVEL_STREET = "subdistrict"


def _free_visit(seen: set, elder: int, d: date, kind: str, lo: date, hi: date) -> tuple[date, str]:
    """The ledger's identity (a unique key since migration 0007): one visit of a kind per elder and day. A repeat
    takes the other kind, else the nearest free day of the same window (no random draw: the rest stays the same)."""
    other = "探访" if kind == "巡访" else "巡访"
    for shift in range(_days(lo, hi) + 1):
        for day in dict.fromkeys((d + timedelta(days=shift), d - timedelta(days=shift))):
            if lo <= day <= hi:
                for k in (kind, other):
                    if (elder, day, k) not in seen:
                        seen.add((elder, day, k))
                        return day, k
    raise RuntimeError(f"演示数据：独居老人 {elder} 在 {lo}–{hi} 的巡访次数多于可用日期。")


class ServicesMixin:
    """Home services; service stations and social workers; the living-alone roster and its visits."""

    def _day_weights(self, a: date, b: date) -> tuple[np.ndarray, np.ndarray]:
        days = np.arange(np.datetime64(a), np.datetime64(b) + 1)
        wd = (days.astype("int64") - 4) % 7
        w = np.where(wd == 5, 0.45, np.where(wd == 6, 0.25, 1.0))
        for lo, hi in (("2023-01-20", "2023-01-28"), ("2024-02-09", "2024-02-17")):
            w = np.where((days >= np.datetime64(lo)) & (days <= np.datetime64(hi)), w * 0.3, w)
        for lo, hi in (("2023-10-01", "2023-10-07"), ("2024-10-01", "2024-10-07")):
            w = np.where((days >= np.datetime64(lo)) & (days <= np.datetime64(hi)), w * 0.5, w)
        return days, w / w.sum()

    def _home_services(self):
        rng = self.rng
        totals = {"2023H1": 10_386, "2023H2": 11_204, "2024H1": 12_247, "2024H2": 13_105}
        type_p = {"2023": [0.60, 0.30, 0.10], "2024": [0.52, 0.30, 0.18]}
        types = list(m.HOME_SERVICE_TYPES)
        pool = [self.name() for _ in range(3000)]
        w80 = self.pop80.astype(float)
        silent = np.array([s == SILENT_STREET for s in self.csd])
        w_not_silent = np.where(silent, 0.0, w80)
        sd_pos = {s: k for k, s in enumerate(self.sd_codes)}
        seen: set[tuple] = set()
        for key, total in totals.items():
            a, b = HALVES[key]
            days, p = self._day_weights(a, b)
            day_idx = np.sort(rng.choice(len(days), size=total, p=p))
            comm = self.pick_comm(w80, total)
            dd = days[day_idx]
            late = (dd >= np.datetime64(SILENT_FROM)) & silent[comm]
            if late.any():
                comm[late] = self.pick_comm(w_not_silent, int(late.sum()))
            ty = rng.choice(3, size=total, p=type_p[key[:4]])
            who = (comm * 17 + rng.integers(0, 17, size=total)) % len(pool)
            for d, c, t_, wi in zip(_to_dates(dd), comm.tolist(), ty.tolist(), who.tolist()):
                stype = types[t_]
                # the ledger's identity (a unique key since migration 0007): one service of a type per elder, community
                # and day — a repeat goes to the pool's next elder (no random draw, so the rest stays the same)
                while (d, stype, self.code[c], pool[wi]) in seen:
                    wi = (wi + 1) % len(pool)
                seen.add((d, stype, self.code[c], pool[wi]))
                provider = HOME_PROVIDERS[stype][sd_pos[self.csd[c]] % 2]
                self.add("home_service_visits", visited_on=d, service_type=stype, subdistrict_code=self.csd[c],
                         community_code=self.code[c], elder_name=pool[wi], provider=provider)

    # ---- service stations and social workers (before the roster: workers are the visitors)
    def _stations(self):
        rng = self.rng
        self.station_workers: dict[str | None, list[str]] = {}
        sid = self.add("service_stations", name="西湖区民政服务总站", level="district", subdistrict_code=None,
                       opened_on=date(2023, 6, 1))
        stations = [(sid, None, date(2023, 6, 1))]
        for k, s in enumerate(self.sd_codes):
            opened = self.rand_date(date(2023, 6, 5), date(2023, 12, 20)) if k < 6 else \
                self.rand_date(date(2024, 1, 8), date(2024, 3, 15))
            stations.append((self.add("service_stations", name=f"{self.sd_name[s]}民政服务站", level=STATION_LEVEL_STREET,
                                      subdistrict_code=s, opened_on=opened), s, opened))
        leavers = set(int(i) for i in rng.choice(len(stations), size=3, replace=False))
        for k, (sid, s, opened) in enumerate(stations):
            names = []
            for slot in range(2):
                nm = self.name()
                names.append(nm)
                if k in leavers and slot == 0:
                    end = self.rand_date(max(opened, date(2023, 12, 1)) + timedelta(days=60), date(2024, 5, 31))
                    self.add("social_workers", name=nm, station_id=sid, start_date=opened, end_date=end)
                    nm2 = self.name()
                    names.append(nm2)
                    self.add("social_workers", name=nm2, station_id=sid,
                             start_date=end + timedelta(days=int(rng.integers(5, 25))), end_date=None)
                else:
                    self.add("social_workers", name=nm, station_id=sid, start_date=opened, end_date=None)
            self.station_workers[s] = names

    # ---- living-alone roster and visits
    def _living_alone(self):
        rng = self.rng
        w = self.alone.astype(float)
        elders = []  # [community, enrolled, left]
        for _ in range(252):
            elders.append([int(self.pick_comm(w)), self.rand_date(date(2020, 3, 1), date(2022, 12, 31)), None])

        def churn(n_new, n_exit, a, b):
            active = [e for e in elders if e[1] < a and e[2] is None]
            for j in rng.choice(len(active), size=n_exit, replace=False):
                active[int(j)][2] = self.rand_date(a + timedelta(days=1), b)
            for _ in range(n_new):
                elders.append([int(self.pick_comm(w)), self.rand_date(a, b), None])

        churn(28, 15, date(2023, 1, 1), date(2023, 12, 31))
        churn(18, 8, H1_START, H1_END)
        churn(12, 7, date(2024, 7, 1), DEMO_PERIOD_END)
        ids = []
        for c, enrolled, left in elders:
            male = rng.random() < 0.35
            pk = self.person(self.birth(74, 96), male)
            ids.append(self.add("living_alone_elders", name=self.name(), id_number=pk,
                                phone=self.phone() if rng.random() < 0.6 else None,
                                address=f"南昌市西湖区{self.place[c]}{int(rng.integers(1, 40))}栋"
                                        f"{int(rng.integers(1, 6))}单元{int(rng.integers(1, 7))}0"
                                        f"{int(rng.integers(1, 4))}室",
                                birth_date=self.persons[pk][0], subdistrict_code=self.csd[c],
                                community_code=self.code[c], enrolled_on=enrolled, left_on=left))
        dist = {"2023H1": [0.30, 0.42, 0.22, 0.06], "2023H2": [0.27, 0.43, 0.24, 0.06],
                "2024H1": [0.28, 0.47, 0.21, 0.04], "2024H2": [0.01, 0.03, 0.84, 0.12]}
        visits = []  # (elder index, month start, month end, count)
        for y in (2023, 2024):
            for mo in range(1, 13):
                a = date(y, mo, 1)
                b = date(y + (mo == 12), mo % 12 + 1, 1) - timedelta(days=1)
                key = _half_of(a)
                for e, (c, enrolled, left) in enumerate(elders):
                    lo = max(a, enrolled)
                    hi = b if left is None else min(b, left - timedelta(days=1))
                    if self.csd[c] == SILENT_STREET and hi >= SILENT_FROM:
                        hi = SILENT_FROM - timedelta(days=1)
                    if lo > hi:
                        continue
                    visits.append([e, lo, hi, int(rng.choice(4, p=dist[key])), key])
        target = 1598
        h1 = [v for v in visits if v[4] == "2024H1"]
        diff = target - sum(v[3] for v in h1)
        while diff:
            v = self.pick(h1)
            if diff > 0 and v[3] < 3:
                v[3] += 1
                diff -= 1
            elif diff < 0 and v[3] > 0:
                v[3] -= 1
                diff += 1
        rows = []
        seen: set[tuple] = set()
        for e, lo, hi, cnt, _ in visits:
            c = elders[e][0]
            workers = self.station_workers.get(self.csd[c]) or self.station_workers[None]
            for _ in range(cnt):
                d = self.rand_date(lo, hi)
                vt = "巡访" if rng.random() < 0.6 else "探访"
                who = self.pick(workers)
                d, vt = _free_visit(seen, ids[e], d, vt, lo, hi)
                rows.append((d, ids[e], self.csd[c], vt, who))
        rows.sort(key=lambda r: (r[0], r[1]))
        for d, eid, s, vt, who in rows:
            self.add("living_alone_visits", elder_id=eid, visited_on=d, subdistrict_code=s, visit_type=vt, visitor=who)
