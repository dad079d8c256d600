"""The demo district's social assistance: households and persons, 低保, 特困, orphans, disability subsidies, one-off
aid (temporary and charity), screenings and enrolments, payments to exact half-year totals, and the aid windows."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np

from data.demo.common import (
    DEMO_PERIOD_END,
    DEMO_START,
    H1_END,
    H1_START,
    HALVES,
    OLD_TOWN,
    SILENT_FROM,
    _half_of,
    _monthly_days,
)

NINE_GROUPS = ["重病", "重残", "低收入", "低保边缘", "支出型困难", "失业", "困境儿童", "高龄独居", "因灾因意外"]


class AidMixin:
    """Social assistance: households, enrolments after screening, payments; the aid windows."""

    def _household(self, ci: int, members: list[tuple[str, int, int]],
                   no_prefix: str) -> tuple[int, list[int], list[int]]:
        """A household with members (relation, age_lo, age_hi); returns its id, person ids and person keys."""
        rng = self.rng
        keys = [self.person(self.birth(lo, hi), bool(rng.random() < 0.5)) for _, lo, hi in members]
        self._hh_seq += 1
        hid = self.add("aid_households", household_no=f"{no_prefix}{self.code[ci]}{self._hh_seq:05d}",
                       head_name="", head_id_number=keys[0], phone=self.phone(),
                       address=f"南昌市西湖区{self.place[ci]}{int(rng.integers(1, 40))}栋{int(rng.integers(1, 6))}单元"
                               f"{int(rng.integers(1, 7))}0{int(rng.integers(1, 4))}室",
                       subdistrict_code=self.csd[ci], community_code=self.code[ci])
        pids = []
        for (relation, _, _), key in zip(members, keys):
            nm = self.name()
            pids.append(self.add("aid_persons", household_id=hid, name=nm, id_number=key,
                                 phone=self.phone() if relation == "户主" else None, relation=relation))
            if relation == "户主":
                self.t["aid_households"][hid - 1]["head_name"] = nm
        return hid, pids, keys

    def _screening(self, ci: int, screened: date, name: str, key: int | None, category: str) -> int:
        self._screenings.append(dict(screened_on=screened, subdistrict_code=self.csd[ci], community_code=self.code[ci],
                                     person_name=name, id_number=key, category=category))
        return len(self._screenings) - 1

    def _enrol(self, programme, hid, pids, ci, start, end, screened: bool, category: str):
        sref = None
        if screened:
            d = max(DEMO_START, start - timedelta(days=int(self.rng.integers(10, 46))))
            head = self.t["aid_persons"][pids[0] - 1]
            sref = self._screening(ci, d, head["name"], head["id_number"], category)
        self._enrolments.append(dict(programme=programme, household_id=hid, start_date=start, end_date=end,
                                     screening_ref=sref))

    def _aid(self):
        self._hh_seq = 0
        self._screenings: list[dict] = []
        self._enrolments: list[dict] = []
        self._payments: list[tuple] = []   # (programme, subtype, household, person, subdistrict, paid_on, fen)
        self._dibao()
        self._tekun()
        self._orphans()
        self._disability()
        self._one_off("temporary", {"2023H1": (62, 158_600), "2023H2": (70, 171_200), "2024H1": (78, 197_900),
                                    "2024H2": (84, 212_300)}, [800, 1000, 1500, 2000, 2500, 3000, 5000], 100)
        self._one_off("charity", {"2023H1": (10, 38_000), "2023H2": (14, 52_500), "2024H1": (16, 60_000),
                                  "2024H2": (18, 71_500)}, [2000, 3000, 3500, 4000, 5000], 500)
        self._other_screenings()
        # screenings in date order, then enrolments pointing at them, then payments in date order
        order = sorted(range(len(self._screenings)), key=lambda i: (self._screenings[i]["screened_on"], i))
        new_id = {}
        for i in order:
            new_id[i] = self.add("screenings", **self._screenings[i])
        for e in sorted(self._enrolments, key=lambda e: (e["start_date"], e["household_id"])):
            ref = e.pop("screening_ref")
            self.add("aid_enrolments", **e, screening_id=new_id[ref] if ref is not None else None)
        self._payments.sort(key=lambda p: (p[5], p[0], p[3]))
        for prog, sub, hid, pid, sd, d, fen in self._payments:
            self.add("aid_payments", programme=prog, subtype=sub, household_id=hid, person_id=pid, subdistrict_code=sd,
                     paid_on=d, amount_fen=int(fen))

    def _timeline(self, groups) -> list[dict]:
        """Enrolment windows from (count, start range, end range or None, screened count, category)."""
        out = []
        for n, (s_lo, s_hi), end_range, n_screened in groups:
            for k in range(n):
                start = self.rand_date(s_lo, s_hi)
                end = None
                if end_range is not None:
                    e_lo = max(end_range[0], start + timedelta(days=45))
                    end = self.rand_date(e_lo, max(e_lo, end_range[1]))
                out.append(dict(start=start, end=end, screened=k < n_screened))
        return out

    @staticmethod
    def _paid_days(paydays: list[date], start: date, end: date | None) -> list[date]:
        return [d for d in paydays if start <= d and (end is None or d <= end)]

    def _fix_residual(self, payments: list[list], residual: int, step: int = 100):
        """Spread a residual of `residual` fen over H1-2024 payments, one `step` each (补发/扣减 of 1 元)."""
        rng = self.rng
        if residual == 0:
            return
        sign = 1 if residual > 0 else -1
        n = abs(residual) // step
        assert abs(residual) % step == 0
        idx = rng.permutation(len(payments))
        k = 0
        while n:
            p = payments[int(idx[k % len(idx)])]
            p[-1] += sign * step
            n -= 1
            k += 1

    def _dibao(self):
        """低保: 2059 households / 2911 persons paid in H1 2024, 1398.75 万元; 102 households enrolled after screening."""
        rng = self.rng
        paydays = _monthly_days(10)
        w = self.pop60 * np.array([1.3 if s in OLD_TOWN else 1.0 for s in self.csd])
        pre = (date(2012, 1, 1), date(2022, 12, 20))
        n0 = 1875
        groups = [
            (88, pre, (date(2023, 1, 10), date(2023, 12, 31)), 0),
            (37, pre, (H1_START + timedelta(days=9), H1_END), 0),
            (41, pre, (date(2024, 7, 10), DEMO_PERIOD_END), 0),
            (n0 - 88 - 37 - 41, pre, None, 0),
            (6, (date(2023, 1, 1), date(2023, 6, 30)), (date(2023, 3, 1), date(2023, 12, 31)), 0),
            (42, (date(2023, 1, 15), date(2023, 6, 30)), None, 42),
            (20, (date(2023, 1, 1), date(2023, 6, 30)), None, 0),
            (5, (date(2023, 7, 1), date(2023, 12, 31)), (date(2024, 1, 10), H1_END), 2),
            (50, (date(2023, 7, 1), date(2023, 12, 31)), None, 50),
            (17, (date(2023, 7, 1), date(2023, 12, 31)), None, 0),
            (3, (H1_START, date(2024, 6, 10)), (date(2024, 7, 10), DEMO_PERIOD_END), 0),
            (102, (H1_START, date(2024, 6, 10)), None, 102),
            (33, (H1_START, date(2024, 6, 10)), None, 0),
            (60, (date(2024, 7, 1), date(2024, 12, 10)), None, 60),
            (22, (date(2024, 7, 1), date(2024, 12, 10)), None, 0),
        ]
        hh = self._timeline(groups)
        sizes = rng.choice([1, 2, 3, 4], size=len(hh), p=[0.68, 0.21, 0.08, 0.03])
        h1_days = [d for d in paydays if H1_START <= d <= H1_END]
        paid_h1 = [i for i, h in enumerate(hh) if self._paid_days(h1_days, h["start"], h["end"])]
        assert len(paid_h1) == 2059, len(paid_h1)
        diff = 2911 - int(sizes[paid_h1].sum())
        while diff:
            i = self.pick(paid_h1)
            if diff > 0 and sizes[i] < 5:
                sizes[i] += 1
                diff -= 1
            elif diff < 0 and sizes[i] > 1:
                sizes[i] -= 1
                diff += 1
        raw = 950 * rng.uniform(0.72, 1.0, len(hh))
        person_months = np.array([sizes[i] * len(self._paid_days(h1_days, h["start"], h["end"]))
                                  for i, h in enumerate(hh)])
        per_person = np.round(raw * 13_987_500 / float((raw * person_months).sum())).astype(int)  # 元 per person-month
        rels = [("户主", 30, 80), ("配偶", 30, 80), ("子女", 1, 25), ("子女", 1, 25), ("父母", 70, 92)]
        june = []
        for i, h in enumerate(hh):
            ci = int(self.pick_comm(w))
            members = [rels[0]] + [rels[j] for j in range(1, sizes[i])] if sizes[i] <= 5 else [rels[0]]
            hid, pids, _ = self._household(ci, members, "DB")
            self._enrol("dibao", hid, pids, ci, h["start"], h["end"], h["screened"],
                        str(rng.choice(["低收入", "重病", "重残", "低保边缘", "支出型困难", "失业"])))
            h["hid"], h["pids"], h["ci"] = hid, pids, ci
            for d in self._paid_days(paydays, h["start"], h["end"]):
                amount = int(per_person[i]) if d >= H1_START else int(round(per_person[i] * 0.94))
                for pid in pids:
                    p = ["dibao", None, hid, pid, self.csd[ci], d, amount * 100]
                    self._payments.append(p)
                    if d == date(2024, 6, 10):
                        june.append(p)
        total = sum(p[-1] for p in self._payments if p[0] == "dibao" and H1_START <= p[5] <= H1_END)
        self._fix_residual(june, 1_398_750_000 - total)
        self.dibao_households = hh

    def _tekun(self):
        """特困: 164 persons paid in H1 2024, living + care subsidies 187 万元; 13 households after screening."""
        rng = self.rng
        paydays = _monthly_days(12)
        pre = (date(2010, 1, 1), date(2022, 12, 20))
        groups = [
            (9, pre, (date(2023, 1, 12), date(2023, 12, 31)), 0),
            (5, pre, (date(2024, 1, 12), H1_END), 0),
            (6, pre, (date(2024, 7, 12), DEMO_PERIOD_END), 0),
            (139 - 20, pre, None, 0),
            (1, (date(2023, 1, 1), date(2023, 5, 31)), (date(2023, 8, 1), date(2023, 12, 31)), 0),
            (6, (date(2023, 1, 15), date(2023, 6, 30)), None, 6),
            (7, (date(2023, 7, 1), date(2023, 12, 31)), None, 7),
            (4, (date(2023, 1, 1), date(2023, 12, 31)), None, 0),
            (13, (H1_START, date(2024, 6, 12)), None, 13),
            (4, (H1_START, date(2024, 6, 12)), None, 0),
            (8, (date(2024, 7, 1), date(2024, 12, 12)), None, 8),
            (3, (date(2024, 7, 1), date(2024, 12, 12)), None, 0),
        ]
        hh = self._timeline(groups)
        h1_days = [d for d in paydays if H1_START <= d <= H1_END]
        months = np.array([len(self._paid_days(h1_days, h["start"], h["end"])) for h in hh])
        assert int((months > 0).sum()) == 164, int((months > 0).sum())
        living = 1380
        level = rng.choice(3, size=len(hh), p=[0.40, 0.35, 0.25])
        care_raw = np.array([140.0, 550.0, 1100.0])[level] * rng.uniform(0.95, 1.05, len(hh))
        care_target = 1_870_000 - living * int(months.sum())
        care = np.round(care_raw * care_target / float((care_raw * months).sum())).astype(int)
        june = []
        w = self.pop60.astype(float)
        for i, h in enumerate(hh):
            ci = int(self.pick_comm(w))
            hid, pids, _ = self._household(ci, [("户主", 60, 92)], "TK")
            self._enrol("tekun", hid, pids, ci, h["start"], h["end"], h["screened"],
                        str(rng.choice(["重残", "重病", "高龄独居", "低收入"])))
            for d in self._paid_days(paydays, h["start"], h["end"]):
                factor = 1.0 if d >= H1_START else 0.94
                self._payments.append(["tekun", "living", hid, pids[0], self.csd[ci], d,
                                       int(round(living * factor)) * 100])
                p = ["tekun", "care", hid, pids[0], self.csd[ci], d, int(round(int(care[i]) * factor)) * 100]
                self._payments.append(p)
                if d == date(2024, 6, 12):
                    june.append(p)
        total = sum(p[-1] for p in self._payments if p[0] == "tekun" and H1_START <= p[5] <= H1_END)
        self._fix_residual(june, 187_000_000 - total)

    def _orphans(self):
        """孤儿和事实无人抚养儿童: 1,850 元 a month per child (2023: 1,750); 44.41 万元 in H1 2024."""
        paydays = _monthly_days(15)
        pre = (date(2016, 1, 1), date(2022, 12, 1))
        groups = [
            (3, pre, (date(2023, 2, 1), date(2023, 12, 31)), 0),
            (1, pre, (date(2024, 2, 1), date(2024, 5, 31)), 0),
            (1, pre, (date(2024, 8, 1), DEMO_PERIOD_END), 0),
            (3, (date(2023, 3, 1), date(2023, 11, 30)), None, 0),
            (2, (date(2024, 2, 1), date(2024, 4, 30)), None, 0),
            (2, (date(2024, 8, 1), date(2024, 11, 30)), None, 0),
        ]
        hh = self._timeline(groups)
        h1_days = [d for d in paydays if H1_START <= d <= H1_END]
        months_other = sum(len(self._paid_days(h1_days, h["start"], h["end"])) for h in hh)
        target_yuan = 444_100
        stayers = (target_yuan - months_other * 1850) // (6 * 1850)
        hh += self._timeline([(stayers, pre, None, 0)])
        remainder = target_yuan - 1850 * sum(len(self._paid_days(h1_days, h["start"], h["end"])) for h in hh)
        extra_months, back_pay = divmod(remainder, 1850)
        if extra_months:  # one more child enrolled late in H1 2024
            hh.append(dict(start=date(2024, 7 - extra_months, 2), end=None, screened=False))
        w = self.pop60.astype(float)
        h1_payments = []
        for h in hh:
            ci = int(self.pick_comm(w))
            hid, pids, _ = self._household(ci, [("户主", 55, 80), ("孙子女", 3, 17)], "GE")
            self._enrol("orphan", hid, pids, ci, h["start"], h["end"], False, "困境儿童")
            for d in self._paid_days(paydays, h["start"], h["end"]):
                p = ["orphan", None, hid, pids[1], self.csd[ci], d, (1850 if d >= H1_START else 1750) * 100]
                self._payments.append(p)
                if H1_START <= d <= H1_END and h["start"] >= H1_START:
                    h1_payments.append(p)
        if back_pay:  # 补发 of a difference to the newest child
            p = h1_payments[-1]
            self._payments.append(["orphan", "back_pay", p[2], p[3], p[4], p[5], back_pay * 100])

    def _disability(self):
        """残疾人两项补贴: 生活补贴 110 元, 护理补贴 160/110 元 a month (2023: 100, 150/100); 222.22 万元 in H1 2024."""
        rng = self.rng
        paydays = _monthly_days(20)
        h1_days = [d for d in paydays if H1_START <= d <= H1_END]
        pre = (date(2014, 1, 1), date(2022, 12, 15))
        movers = self._timeline([
            (60, pre, (date(2023, 1, 20), date(2023, 12, 31)), 0),
            (30, pre, (date(2024, 1, 20), H1_END), 0),
            (32, pre, (date(2024, 7, 20), DEMO_PERIOD_END), 0),
            (90, (date(2023, 1, 1), date(2023, 12, 31)), None, 0),
            (48, (H1_START, date(2024, 6, 20)), None, 0),
            (50, (date(2024, 7, 1), date(2024, 12, 20)), None, 0),
        ])

        def kind():
            r = rng.random()
            care = 160 if rng.random() < 0.45 else 110
            return (110, 0) if r < 0.40 else ((0, care) if r < 0.75 else (110, care))

        people = [dict(h, amounts=kind()) for h in movers]
        remaining = 2_222_200 - sum(sum(p["amounts"]) * len(self._paid_days(h1_days, p["start"], p["end"]))
                                    for p in people)
        while True:
            amounts = kind()
            if 6 * sum(amounts) > remaining:
                break
            people.append(dict(start=self.rand_date(*pre), end=None, screened=False, amounts=amounts))
            remaining -= 6 * sum(amounts)
        # the remainder (under 1,620 元) is back pay (补发) to people enrolled in H1 2024
        order = rng.permutation(len(people))
        people = [people[int(i)] for i in order]
        w = self.pop60.astype(float)
        back_pay_to = []
        for p in people:
            ci = int(self.pick_comm(w))
            hid, pids, _ = self._household(ci, [("户主", 18, 88)], "CJ")
            self._enrol("disability", hid, pids, ci, p["start"], p["end"], False, "重残")
            life, care = p["amounts"]
            for d in self._paid_days(paydays, p["start"], p["end"]):
                old = d < H1_START
                if life:
                    self._payments.append(["disability", "living", hid, pids[0], self.csd[ci], d,
                                           (100 if old else life) * 100])
                if care:
                    self._payments.append(["disability", "care", hid, pids[0], self.csd[ci], d,
                                           ((150 if care == 160 else 100) if old else care) * 100])
            if H1_START <= p["start"] <= date(2024, 5, 31) and p["end"] is None:
                back_pay_to.append((hid, pids[0], self.csd[ci], p["start"]))
        k = 0
        while remaining > 0:
            hid, pid, sd, start = back_pay_to[k % len(back_pay_to)]
            amount = min(remaining, 200)
            paid = date(2024, 6, 20) if start > date(2024, 5, 20) else date(start.year, start.month + 1, 20)
            self._payments.append(["disability", "back_pay", hid, pid, sd, paid, amount * 100])
            remaining -= amount
            k += 1

    def _one_off(self, programme: str, plan: dict, levels: list[int], step: int):
        """临时救助 / 慈善救助: one-off payments to household heads, exact totals per half-year."""
        rng = self.rng
        w = self.pop60.astype(float)
        for key, (n, total) in plan.items():
            a, b = HALVES[key]
            amounts = rng.choice(levels, size=n)
            diff = total - int(amounts.sum())
            while diff:
                i = int(rng.integers(n))
                delta = step if diff > 0 else -step
                if amounts[i] + delta >= min(levels):
                    amounts[i] += delta
                    diff -= delta
            for amount in amounts.tolist():
                d = self.rand_weekday(a, min(b, SILENT_FROM - timedelta(days=1)))
                if rng.random() < 0.5:
                    h = self.pick(self._dibao_active(d))
                    hid, pid, ci = h["hid"], h["pids"][0], h["ci"]
                else:
                    ci = int(self.pick_comm(w))
                    size = int(rng.integers(1, 5))
                    members = [("户主", 25, 75), ("配偶", 25, 75), ("子女", 1, 25), ("子女", 1, 25)][:size]
                    hid, pids, _ = self._household(ci, members, "LS" if programme == "temporary" else "CS")
                    pid = pids[0]
                self._payments.append([programme, None, hid, pid, self.csd[ci], d, amount * 100])

    def _dibao_active(self, d: date) -> list[dict]:
        return [h for h in self.dibao_households if h["start"] <= d and (h["end"] is None or h["end"] >= d)]

    def _other_screenings(self):
        """主动摸排: 986 screenings in H1 2024 in all (those behind new enrolments included)."""
        rng = self.rng
        totals = {"2023H1": 820, "2023H2": 870, "2024H1": 986, "2024H2": 1040}
        have = Counter(_half_of(s["screened_on"]) for s in self._screenings)
        w = self.pop60.astype(float)
        for key, total in totals.items():
            a, b = HALVES[key]
            for _ in range(total - have.get(key, 0)):
                d = self.rand_weekday(a, b)
                if key == "2024H1" and rng.random() < 0.25:   # 社会救助政策宣传月 in May: door-to-door visits
                    d = self.rand_weekday(date(2024, 5, 1), date(2024, 5, 31))
                cat = self.pick(NINE_GROUPS)
                if rng.random() < 0.3:
                    h = self.pick(self._dibao_active(d))
                    head = self.t["aid_persons"][h["pids"][0] - 1]
                    self._screening(h["ci"], d, head["name"], head["id_number"], cat)
                else:
                    ci = int(self.pick_comm(w))
                    key_ = self.person(self.birth(8 if cat == "困境儿童" else 20, 17 if cat == "困境儿童" else 90),
                                       bool(rng.random() < 0.5)) if rng.random() < 0.9 else None
                    self._screening(ci, d, self.name(), key_, cat)

    def _aid_windows(self):
        rng = self.rng
        for s in self.sd_codes:
            self.add("aid_windows", name=f"{self.sd_name[s]}社会救助窗口", subdistrict_code=s, has_sign=True,
                     has_list_rack=True, has_leaflet_rack=True, has_intake_book=True,
                     demonstration=s in ("360103014", "360103001", "360103013"))
        comms = [int(i) for i in rng.choice([i for i in range(self.n) if self.kind[i] == "社区居委会"], size=20,
                                            replace=False)]
        for k, ci in enumerate(sorted(comms)):
            items = [True] * 4
            if k % 2 == 1 and k != 19:  # 9 of the 20 community windows lack one or two of the "four ones"
                for j in rng.choice(4, size=int(rng.integers(1, 3)), replace=False):
                    items[int(j)] = False
            self.add("aid_windows", name=f"{self.place[ci]}社会救助窗口", subdistrict_code=self.csd[ci],
                     has_sign=items[0], has_list_rack=items[1], has_leaflet_rack=items[2], has_intake_book=items[3],
                     demonstration=False)
