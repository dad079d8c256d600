"""The demo district's facilities: meal points in opening waves with their service areas (coverage tuned to the
report's checkpoints), care institutions and centres, vacant rooms, daily meal records and care workers."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np

from data.demo.common import (
    DEMO_PERIOD_END,
    DEMO_START,
    OLD_TOWN,
    SHOWCASE_COMMUNITY,
    SILENT_FROM,
    SILENT_MEAL_POINTS_LAST_DAY,
    SILENT_STREET,
    _to_dates,
)

WELFARE_STREET = "360103011"          # 桃源街道: the district welfare institute
# Meal-point coverage checkpoints (communities in the service area of an operating point)
COVERED_MID_2024 = 98    # on 2024-06-30: 98 / 172 = 57 %
COVERED_END_2024 = 114   # on 2024-12-31: 114 / 172 = 66 % (target ≥ 65 %)
MEAL_COMPANIES = ["甲乙餐饮管理有限公司", "丙丁餐饮服务有限公司", "戊己养老服务有限公司", "庚辛物业服务有限公司",
                  "壬癸康养服务有限公司", "子丑餐饮管理有限公司"]
CARE_COMPANIES = ["甲丙养老服务有限公司", "乙丁康养集团有限公司", "戊庚健康管理有限公司", "己辛养老服务有限公司",
                  "壬甲护理院有限公司", "癸乙康养服务有限公司"]


class FacilitiesMixin:
    """Facilities, service areas and vacant rooms; meal records; care workers."""

    def _facility(self, ci: int, kind: str, name: str, prefix: str, **kw) -> int:
        lon, lat = self.jitter(self.lon[ci], self.lat[ci])
        seq = sum(1 for f in self.t["facilities"] if f["code"].startswith(prefix + self.code[ci])) + 1
        row = dict(code=f"{prefix}{self.code[ci]}{seq:02d}", name=name, kind=kind, subdistrict_code=self.csd[ci],
                   community_code=self.code[ci], address=None, operator=None, capacity=None, lon=lon, lat=lat,
                   public=False, plan_year=None, key_project=False, reserve_project=False, showcase=False,
                   offers_delivery=False, safety_supervised=False, planned_on=None, construction_started_on=None,
                   opened_on=None, closed_on=None, vacant_room_id=None, version=1)
        row.update(kw)
        if row["address"] is None:
            row["address"] = f"南昌市西湖区{self.place[ci]}{int(self.rng.integers(1, 40))}号"
        return self.add("facilities", **row)

    def _dates_before(self, opened: date) -> tuple[date, date]:
        construction = opened - timedelta(days=int(self.rng.integers(30, 101)))
        planned = construction - timedelta(days=int(self.rng.integers(30, 151)))
        return planned, construction

    def _tune_coverage(self, operating: list[int], adjustable: list[int], area: dict, host: dict, target: int):
        """Add or drop neighbour communities of the adjustable points until exactly `target` are covered."""
        hosts = {host[p] for p in operating}
        while True:
            cnt = Counter(c for p in operating for c in area[p])
            if len(cnt) == target:
                return
            if len(cnt) > target:
                opts = [(p, c) for p in adjustable for c in area[p][1:] if cnt[c] == 1 and c not in hosts]
                if not opts:
                    raise RuntimeError("演示数据：无法把助餐覆盖社区数调到目标值。")
                p, c = self.pick(opts)
                area[p].remove(c)
            else:
                opts = [(p, c) for p in adjustable if len(area[p]) < 3 for c in self.near[host[p]][:6] if c not in cnt]
                if not opts:
                    raise RuntimeError("演示数据：无法把助餐覆盖社区数调到目标值。")
                p, c = self.pick(opts)
                area[p].append(c)

    def _facilities(self):
        rng, n = self.rng, self.n
        kind = np.array(self.kind)
        w = self.pop60 * np.where(kind == "村委会", 0.4, 1.0)
        showcase = self.idx[SHOWCASE_COMMUNITY]
        order = [int(i) for i in rng.choice(n, size=n, replace=False, p=w / w.sum()) if int(i) != showcase]
        # meal points by opening wave: A before 2023 (one closes in 2023), B 2023, C H1 2024, D H2 2024, E planned 2025
        A, B, C = order[:31], [showcase] + order[31:40], order[40:47]
        rest = order[47:]
        closed_host = self.pick(A)
        area = {}
        for h in A + B + C:
            k = int(rng.choice([0, 1, 1, 2]))
            area[h] = [h] + [int(c) for c in rng.permutation(self.near[h][:3])[:k]]
        host = {h: h for h in area}
        op_mid = [h for h in A + B + C if h != closed_host]
        self._tune_coverage(op_mid, op_mid, area, host, COVERED_MID_2024)
        covered = {c for p in op_mid for c in area[p]}
        uncovered = [c for c in rest if c not in covered]
        covered_free = [c for c in rest if c in covered]
        D = [int(c) for c in rng.permutation(uncovered[:15] + covered_free[:6])]
        for h in D:
            area[h] = [h] + [c for c in self.near[h][:2] if c not in covered][: int(rng.choice([0, 1, 1]))]
            host[h] = h
        self._tune_coverage(op_mid + D, D, area, host, COVERED_END_2024)
        covered_end = {c for p in op_mid + D for c in area[p]}
        taken = set(A + B + C + D)
        E = [c for c in rest if c not in covered_end and c not in taken][:6]
        for h in E:
            area[h] = [h] + self.near[h][:1]
            host[h] = h

        self.meal_points: list[int] = []   # facility ids
        self.mp_host: dict[int, int] = {}
        self.mp_area: dict[int, list[int]] = {}
        key23 = set(B[1:4])
        key24 = set(C[:5])
        july_key = D[0]
        for wave, hosts in (("A", A), ("B", B), ("C", C), ("D", D), ("E", E)):
            for h in hosts:
                community_run = rng.random() < 0.4
                kw = dict(capacity=int(rng.integers(4, 17)) * 5, public=community_run,
                          operator=self.cname[h] if community_run else self.pick(MEAL_COMPANIES),
                          offers_delivery=bool(rng.random() < 0.45) or h == showcase,
                          address=(f"南昌市西湖区{self.place[h]}党群服务中心一楼" if community_run
                                   else f"南昌市西湖区{self.place[h]}{int(rng.integers(1, 30))}栋"
                                        f"{int(rng.integers(1, 9))}号门面"))
                if wave == "A":
                    opened = self.rand_date(date(2019, 3, 1), date(2022, 12, 15))
                    planned, construction = self._dates_before(opened)
                    kw.update(opened_on=opened, planned_on=planned, construction_started_on=construction)
                    if h == closed_host:
                        kw.update(closed_on=date(2023, 9, 30), offers_delivery=False)
                elif wave == "B":
                    opened = (date(2023, 5, 18) if h == showcase
                              else self.rand_date(date(2023, 2, 1), date(2023, 12, 15)))
                    planned, construction = self._dates_before(opened)
                    kw.update(opened_on=opened, planned_on=planned, construction_started_on=construction,
                              plan_year=2023,
                              key_project=h in key23, showcase=h == showcase)
                elif wave == "C":
                    opened = self.rand_date(date(2024, 1, 8), date(2024, 6, 25))
                    planned, construction = self._dates_before(opened)
                    if h in key24:
                        planned = date(2023, 11, 20)
                        construction = max(date(2023, 12, 1), opened - timedelta(days=int(rng.integers(30, 101))))
                    kw.update(opened_on=opened, planned_on=planned, construction_started_on=construction,
                              plan_year=2024,
                              key_project=h in key24)
                elif wave == "D":
                    if h == july_key:
                        opened, planned, construction = date(2024, 7, 16), date(2023, 11, 20), date(2024, 3, 11)
                    else:
                        opened = self.rand_date(date(2024, 7, 1), date(2024, 12, 16))
                        planned, construction = self._dates_before(opened)
                    kw.update(opened_on=opened, planned_on=planned, construction_started_on=construction,
                              plan_year=2024,
                              key_project=h == july_key)
                else:
                    kw.update(planned_on=self.rand_date(date(2024, 8, 1), date(2024, 11, 30)), plan_year=2025,
                              offers_delivery=False)
                    if len([e for e in self.meal_points if self.t["facilities"][e - 1]["plan_year"] == 2025]) < 2:
                        kw["construction_started_on"] = self.rand_date(date(2024, 12, 2), date(2024, 12, 20))
                fid = self._facility(h, "meal_point", f"{self.place[h]}助餐点", "ZC", **kw)
                self.meal_points.append(fid)
                self.mp_host[fid] = h
                self.mp_area[fid] = area[h]
                for c in area[h]:
                    self.add("meal_point_communities", facility_id=fid, community_code=self.code[c])
        self.mp_wave_d = [f for f in self.meal_points if self.mp_host[f] in set(D)]

        # other facilities
        non_village = [i for i in order if self.kind[i] != "村委会"]
        welfare_c = [i for i in self.by_sd[WELFARE_STREET] if self.kind[i] == "社区居委会"]
        wc = self.pick(welfare_c)
        self._facility(
            wc, "welfare_institute", "西湖区社会福利院", "FL", public=True, operator="西湖区社会福利院", capacity=260,
            safety_supervised=True, opened_on=date(1996, 10, 1), address=f"南昌市西湖区{self.place[wc]}福利院路1号")
        self._facility(wc, "day_care_center", "西湖区社会福利院日间照料中心", "RZ", public=True, operator="西湖区社会福利院",
                       capacity=40, plan_year=2024, planned_on=date(2024, 2, 20),
                       construction_started_on=date(2024, 7, 22), opened_on=date(2024, 11, 18),
                       address=f"南昌市西湖区{self.place[wc]}福利院路1号附楼")
        spare = [i for i in reversed(non_village) if i != wc]
        old_town = [i for i in spare if self.csd[i] in OLD_TOWN]
        enh = old_town[0]
        self._facility(enh, "embedded_nursing_home", f"{self.place[enh]}嵌入式养老院", "QR",
                       operator=CARE_COMPANIES[1], capacity=48, plan_year=2024, key_project=True,
                       safety_supervised=True, planned_on=date(2023, 11, 20),
                       construction_started_on=date(2024, 1, 10), opened_on=date(2024, 5, 28))
        reserve = old_town[1]
        self._facility(reserve, "embedded_nursing_home", "西湖区社会福利院老城区分院（公办嵌入式养老院）", "QR",
                       public=True, operator="西湖区社会福利院", capacity=80, reserve_project=True,
                       planned_on=date(2024, 6, 25))
        hcc_key = old_town[2]
        self._facility(hcc_key, "home_care_center", f"{self.place[hcc_key]}居家养老服务中心", "JJ",
                       operator=CARE_COMPANIES[3], capacity=30, plan_year=2024, key_project=True,
                       planned_on=date(2023, 11, 20), construction_started_on=date(2024, 1, 15),
                       opened_on=date(2024, 4, 26))
        used = {wc, enh, reserve, hcc_key}
        pool = [i for i in spare if i not in used]
        hcc_2023 = pool[0]
        self._facility(hcc_2023, "home_care_center", f"{self.place[hcc_2023]}居家养老服务中心", "JJ",
                       operator=CARE_COMPANIES[5], capacity=24, plan_year=2023, key_project=True,
                       planned_on=date(2022, 11, 15), construction_started_on=date(2023, 3, 1),
                       opened_on=date(2023, 9, 12))
        for i in pool[1:7]:
            opened = self.rand_date(date(2019, 1, 1), date(2022, 10, 31))
            self._facility(i, "home_care_center", f"{self.place[i]}居家养老服务中心", "JJ",
                           operator=self.pick(CARE_COMPANIES), capacity=int(rng.integers(15, 36)),
                           opened_on=opened)
        suffixes = ["颐养院", "养老院", "康养中心"]
        for n_ci, i in enumerate(pool[7:13]):
            opened = self.rand_date(date(2008, 1, 1), date(2021, 6, 30))
            self._facility(i, "care_institution", f"西湖区{self.short[i]}{suffixes[n_ci % 3]}", "YL",
                           operator=CARE_COMPANIES[n_ci % len(CARE_COMPANIES)], capacity=int(rng.integers(6, 23)) * 10,
                           safety_supervised=True, opened_on=opened)
        for i in pool[13:31]:
            opened = self.rand_date(date(2013, 1, 1), date(2022, 12, 1))
            self._facility(i, "day_care_center", f"{self.place[i]}日间照料中心", "RZ", public=True, operator=self.cname[i],
                           capacity=int(rng.integers(10, 31)), opened_on=opened,
                           address=f"南昌市西湖区{self.place[i]}党群服务中心二楼")

        # vacant rooms: 6 already converted into H2-2024 meal points, the rest mostly where coverage is missing
        converted = self.mp_wave_d[1:7]
        final_uncovered = [c for c in order if c not in covered_end and c not in taken]
        room_comms = ([self.mp_host[f] for f in converted]
                      + [final_uncovered[i % len(final_uncovered)] for i in range(34)])
        statuses = ["converted"] * 6 + ["candidate"] * 16 + ["negotiating"] * 9 + ["rejected"] * 9
        owner_types = ["state", "community", "enterprise", "private"]
        seq: Counter = Counter()
        for k, (ci, status) in enumerate(zip(room_comms, statuses)):
            seq[ci] += 1
            floor = int(rng.choice([1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 5, 6]))
            owner = owner_types[int(rng.choice(4, p=[0.3, 0.3, 0.2, 0.2]))]
            area_m2 = round(float(rng.uniform(35, 380)), 1)
            per_m2 = {"state": rng.uniform(6, 15), "community": rng.uniform(0, 4), "enterprise": rng.uniform(18, 35),
                      "private": rng.uniform(25, 55)}[owner]
            lon, lat = self.jitter(self.lon[ci], self.lat[ci], 60, 260)
            if status == "converted":
                fac = self.t["facilities"][converted[k] - 1]
                available = fac["construction_started_on"] - timedelta(days=int(rng.integers(20, 90)))
            else:
                available = None if rng.random() < 0.3 else self.rand_date(date(2024, 3, 1), date(2025, 9, 30))
            rid = self.add("vacant_rooms", code=f"XZ{self.code[ci]}{seq[ci]:02d}",
                           address=f"南昌市西湖区{self.place[ci]}{int(rng.integers(1, 40))}栋{int(rng.integers(1, 6))}号"
                                   + ("门面" if floor == 1 else f"{floor}楼"),
                           subdistrict_code=self.csd[ci], community_code=self.code[ci], lon=lon, lat=lat,
                           area_m2=area_m2,
                           floor=floor, has_lift=bool(floor > 1 and rng.random() < 0.35), owner_type=owner,
                           monthly_rent=float(round(area_m2 * per_m2 / 10) * 10), available_from=available,
                           status=status, version=1)
            if status == "converted":
                self.t["facilities"][converted[k] - 1]["vacant_room_id"] = rid

    def fac(self, fid: int) -> dict:
        return self.t["facilities"][fid - 1]

    def operating(self, f: dict, d: date) -> bool:
        return f["opened_on"] is not None and f["opened_on"] <= d and (f["closed_on"] is None or f["closed_on"] > d)

    # ---- meal records
    def _meal_records(self):
        rng = self.rng
        operating_end = [f for f in self.meal_points if self.operating(self.fac(f), DEMO_PERIOD_END)]
        candidates = [f for f in operating_end if self.fac(f)["subdistrict_code"] != SILENT_STREET
                      and self.fac(f)["opened_on"] < DEMO_START]
        silent = {candidates[int(i)] for i in rng.choice(len(candidates), size=2, replace=False)}
        festival = [(np.datetime64("2023-01-20"), np.datetime64("2023-01-28")),
                    (np.datetime64("2024-02-09"), np.datetime64("2024-02-17"))]
        for fid in self.meal_points:
            f = self.fac(fid)
            if f["opened_on"] is None or f["opened_on"] > DEMO_PERIOD_END:
                continue
            last = DEMO_PERIOD_END
            if f["closed_on"] is not None:
                last = f["closed_on"] - timedelta(days=1)
            if fid in silent:
                last = SILENT_MEAL_POINTS_LAST_DAY
            elif f["subdistrict_code"] == SILENT_STREET:
                last = min(last, SILENT_FROM - timedelta(days=1))
            first = max(f["opened_on"], DEMO_START)
            if first > last:
                continue
            days = np.arange(np.datetime64(first), np.datetime64(last) + 1)
            wd = (days.astype("int64") - 4) % 7  # 0 = Monday (1970-01-01 was a Thursday)
            if rng.random() < 0.3 and f["subdistrict_code"] != SILENT_STREET:
                days, wd = days[wd != 6], wd[wd != 6]  # closed on Sundays
            t = (days - np.datetime64(DEMO_START)).astype(int) / 365.0
            factor = (1 + 0.12 * t) * np.where(wd >= 5, 0.75, 1.0)
            for a, b in festival:
                factor = np.where((days >= a) & (days <= b), factor * 0.35, factor)
            ramp = (days - np.datetime64(f["opened_on"])).astype(int)
            factor = np.where(ramp < 30, factor * 0.6, factor)
            dine = rng.poisson(rng.uniform(25, 95) * factor)
            if f["offers_delivery"]:
                delivered = rng.poisson(rng.uniform(4, 15) * factor) + 1
            else:
                delivered = np.zeros(len(days), dtype=int)
            for d, a_, b_ in zip(_to_dates(days), dine.tolist(), delivered.tolist()):
                self.add("meal_records", facility_id=fid, served_on=d, dine_in=a_, delivered=b_)

    # ---- care workers
    def _care_workers(self):
        rng = self.rng
        positions = {"welfare_institute": lambda f: 36, "care_institution": lambda f: max(6, f["capacity"] // 9),
                     "embedded_nursing_home": lambda f: 14, "home_care_center": lambda f: 6,
                     "day_care_center": lambda f: 4 if f["plan_year"] else 2}
        for f in self.t["facilities"]:
            if f["kind"] not in positions or f["opened_on"] is None:
                continue
            for _ in range(positions[f["kind"]](f)):
                start = f["opened_on"] if f["opened_on"] > date(2018, 1, 1) else \
                    date(2018, 1, 1) - timedelta(days=int(rng.integers(0, 1500)))
                while start <= DEMO_PERIOD_END:
                    left = start + timedelta(days=int(rng.exponential(1700)) + 60)
                    left_on = None if left > DEMO_PERIOD_END else left
                    certified = None
                    if rng.random() < (0.95 if start < DEMO_START else 0.75):
                        certified = start + timedelta(days=int(rng.integers(20, 240)))
                    if (certified is None or certified > date(2024, 7, 1)) and rng.random() < 0.85:
                        certified = self.rand_date(date(2024, 8, 1), date(2024, 12, 15))  # 护理员培训基地 in H2 2024
                    if certified is not None and (certified < start or (left_on and certified >= left_on)
                                                  or certified > DEMO_PERIOD_END):
                        certified = None
                    self.add("care_workers", name=self.name(), facility_id=f["id"], hired_on=start, left_on=left_on,
                             certified_on=certified)
                    if left_on is None:
                        break
                    start = left_on + timedelta(days=int(rng.integers(7, 46)))
