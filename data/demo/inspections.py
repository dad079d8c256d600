"""The demo district's inspections and findings: joint safety checks and inspection groups, meal-point and
home-care supervision (a few findings left overdue), rural collective "三资" supervision, asset verifications."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np

from data.demo.common import DEMO_PERIOD_END, H1_END, H1_START, HALVES, _days
from data.demo.services import HOME_PROVIDERS

INSPECTION_GROUPS = {1: ["360103001", "360103004", "360103010"], 2: ["360103002", "360103011"],
                     3: ["360103007", "360103009"], 4: ["360103013", "360103014", "360103015"]}
JOINT_PARTNERS = "区消防救援大队、区卫生健康委员会、区市场监督管理局"
NINE_GROUPS = ["重病", "重残", "低收入", "低保边缘", "支出型困难", "失业", "困境儿童", "高龄独居", "因灾因意外"]

FINDING_TEXT = {
    "消防安全": ["灭火器压力不足未及时更换", "消防通道堆放杂物", "应急照明灯损坏", "烟感报警器失效", "消防演练记录缺失"],
    "食品安全": ["食品留样记录不全", "从业人员健康证过期", "生熟食品未分开存放", "餐具消毒记录不完整"],
    "设施设备": ["卫生间扶手松动", "紧急呼叫装置失灵", "走廊地面防滑措施不到位", "燃气报警器未安装"],
    "台账管理": ["安全巡查台账未及时更新", "值班记录不完整", "助餐登记台账与系统数据不一致"],
    "用电安全": ["私拉乱接电线", "电动车在室内充电", "配电箱未上锁"],
    "服务质量": ["菜品公示未更新", "服务时长不足", "老人满意度回访偏低"],
    "价格公示": ["助餐价格及补贴标准未公示"],
    "服务记录": ["上门服务记录缺少签字", "服务照片与记录不符"],
    "人员资质": ["服务人员未持证上岗", "服务人员信息未备案"],
    "资金管理": ["村集体资金未按规定审批支出", "大额资金使用未经民主程序", "白条入账"],
    "资产台账": ["集体资产台账登记不全", "闲置资产未登记入账", "资产处置未公开"],
    "合同管理": ["资源发包合同未经公开招标", "租赁合同到期未续签仍在使用"],
    "财务公开": ["村务财务未按季度公开", "公开内容不完整"],
}
SAFETY_CATEGORIES = ["消防安全", "食品安全", "设施设备", "台账管理", "用电安全"]
MEAL_CATEGORIES = ["食品安全", "台账管理", "服务质量", "价格公示", "设施设备"]
HOME_CATEGORIES = ["服务质量", "服务记录", "人员资质", "台账管理"]
SANZI_CATEGORIES = ["资金管理", "资产台账", "合同管理", "财务公开"]


class InspectionsMixin:
    """Inspections and findings (safety, supervision, 三资); asset verifications."""

    def _finding(self, source: str, prefix: str, inspection_id: int | None, place_type: str, place_name: str,
                 facility_id: int | None, ci: int | None, sd: str, category: str, found: date, deadline_days: int,
                 rectified: date | None, referred: bool = False, severity: str | None = None):
        rng = self.rng
        self._finding_seq[(prefix, found.year)] += 1
        severity = severity or str(rng.choice(["一般", "较重", "严重"], p=[0.7, 0.25, 0.05]))
        text = FINDING_TEXT[category]
        self.add("findings", code=f"{prefix}{found.year}{self._finding_seq[(prefix, found.year)]:04d}",
                 inspection_id=inspection_id, source=source, place_type=place_type, place_name=place_name,
                 facility_id=facility_id, community_code=self.code[ci] if ci is not None else None, subdistrict_code=sd,
                 category=category, severity=severity, description=self.pick(text), found_on=found,
                 deadline=found + timedelta(days=deadline_days), rectified_on=rectified,
                 referred_to_discipline=referred, note=None, version=1)

    def _deadline_days(self) -> int:
        return int(self.rng.choice([15, 30, 30, 45, 60]))

    def _rectify(self, found: date, deadline_days: int) -> tuple[date | None, int]:
        """(rectified_on, deadline days): usually within the deadline, sometimes late. A finding whose rectification
        falls after the demo ends stays open, with a deadline still ahead (only the chosen few are left overdue)."""
        rng = self.rng
        delay = int(rng.integers(1, deadline_days + 1))
        if rng.random() < 0.04:
            delay = deadline_days + int(rng.integers(3, 21))
        d = found + timedelta(days=delay)
        if d <= DEMO_PERIOD_END:
            return d, deadline_days
        left = _days(found, DEMO_PERIOD_END)
        if left > 55:  # found early enough: rectified late, before the year ends
            return DEMO_PERIOD_END - timedelta(days=int(rng.integers(0, 10))), deadline_days
        return None, max(deadline_days, left + 5)

    def _inspections(self):
        rng = self.rng
        self._finding_seq: Counter = Counter()
        facilities = self.t["facilities"]
        institutions = [f for f in facilities if f["safety_supervised"]]
        site_kinds = {"meal_point", "care_institution", "day_care_center", "home_care_center", "embedded_nursing_home",
                      "welfare_institute"}
        place_type = {"meal_point": "助餐点", "care_institution": "养老机构", "embedded_nursing_home": "养老机构",
                      "welfare_institute": "养老机构", "day_care_center": "养老服务设施", "home_care_center": "养老服务设施"}
        joint_dates = [date(2023, 1, 12), date(2023, 4, 20), date(2023, 8, 16), date(2023, 11, 9),
                       date(2024, 1, 18), date(2024, 3, 21), date(2024, 5, 9), date(2024, 6, 13),
                       date(2024, 8, 22), date(2024, 10, 17), date(2024, 12, 5)]
        group_counts = {"2023H1": 22, "2023H2": 24, "2024H1": 27, "2024H2": 26}
        safety_findings = {"2023H1": 142, "2023H2": 155, "2024H1": 178, "2024H2": 149}
        for key, (a, b) in HALVES.items():
            insp = []
            for d in [d for d in joint_dates if a <= d <= b]:
                iid = self.add("inspections", source="joint_safety", inspected_on=d, subdistrict_code=None,
                               group_no=None, facility_id=None, partners=JOINT_PARTNERS)
                insp.append((iid, "joint_safety", d, None))
            last = min(b, date(2024, 6, 21) if key == "2024H1" else b - timedelta(days=10))
            for k in range(group_counts[key]):
                g = k % 4 + 1
                s = self.pick(INSPECTION_GROUPS[g])
                d = self.rand_weekday(a + timedelta(days=6), last)
                sites = [f for f in facilities if f["kind"] in site_kinds and f["subdistrict_code"] == s
                         and self.operating(f, d)]
                site = self.pick(sites)
                iid = self.add("inspections", source="inspection_group", inspected_on=d, subdistrict_code=s, group_no=g,
                               facility_id=site["id"], partners=None)
                insp.append((iid, "inspection_group", d, site))
            total = safety_findings[key]
            weights = np.array([2.5 if i[1] == "joint_safety" else 1.0 for i in insp])
            per = rng.multinomial(total, weights / weights.sum())
            for (iid, source, d, site), k in zip(insp, per.tolist()):
                for _ in range(k):
                    if site is None:
                        ops = [x for x in institutions if self.operating(x, d)]
                        f = self.pick(ops)
                    else:
                        f = site
                    cat = self.pick(SAFETY_CATEGORIES)
                    if cat == "食品安全" and f["kind"] not in ("meal_point", "welfare_institute", "care_institution"):
                        cat = "消防安全"
                    dl = self._deadline_days()
                    if key == "2024H1":  # the report: all 178 rectified by 30 June
                        rect = d + timedelta(days=int(rng.integers(1, min(dl, _days(d, H1_END)) + 1)))
                    else:
                        rect, dl = self._rectify(d, dl)
                    ci = self.idx[f["community_code"]]
                    self._finding(source, "AQ", iid, place_type[f["kind"]], f["name"], f["id"], ci,
                                  f["subdistrict_code"], cat, d, dl, rect)
        self._supervision("meal_supervision", "ZC", {"2023H1": 18, "2023H2": 20, "2024H1": 24, "2024H2": 26}, overdue=4)
        self._supervision("home_care_supervision", "JJ", {"2023H1": 12, "2023H2": 14, "2024H1": 16, "2024H2": 18},
                          overdue=3)
        self._sanzi()

    def _supervision(self, source: str, prefix: str, counts: dict, overdue: int):
        """助餐点 / 居家上门服务 supervision: a few findings are left open and overdue at the end of 2024."""
        rng = self.rng
        facilities = self.t["facilities"]
        first_row = len(self.t["findings"])
        for key, n in counts.items():
            a, b = HALVES[key]
            for _ in range(n):
                d = self.rand_weekday(a + timedelta(days=5), b - timedelta(days=8))
                if source == "meal_supervision":
                    kinds = ({"meal_point"} if d < H1_START
                             else {"meal_point", "embedded_nursing_home", "home_care_center"})
                    sites = [f for f in facilities if f["kind"] in kinds and self.operating(f, d)]
                    site = self.pick(sites)
                    sd, ci = site["subdistrict_code"], self.idx[site["community_code"]]
                    ptype, pname, fid, cats = ("助餐点" if site["kind"] == "meal_point" else "养老服务设施",
                                               site["name"], site["id"], MEAL_CATEGORIES)
                else:
                    ci = int(rng.integers(self.n))
                    sd = self.csd[ci]
                    stype = list(HOME_PROVIDERS)[int(rng.integers(3))]
                    ptype, pname, fid, cats = ("服务商", HOME_PROVIDERS[stype][self.sd_codes.index(sd) % 2], None,
                                               HOME_CATEGORIES)
                iid = self.add("inspections", source=source, inspected_on=d, subdistrict_code=sd, group_no=None,
                               facility_id=fid, partners=None)
                for _ in range(int(rng.poisson(0.9))):
                    rect, dl = self._rectify(d, self._deadline_days())
                    self._finding(source, prefix, iid, ptype, pname, fid, ci, sd, self.pick(cats),
                                  d, dl, rect)
        # leave `overdue` findings from autumn 2024 unrectified with their deadline already passed
        late = [f for f in self.t["findings"][first_row:]
                if date(2024, 9, 1) <= f["found_on"] <= date(2024, 11, 15) and f["deadline"] < date(2024, 12, 20)]
        if len(late) < overdue:
            raise RuntimeError("演示数据：可设为逾期未整改的问题不足。")
        for j in rng.choice(len(late), size=overdue, replace=False):
            late[int(j)]["rectified_on"] = None

    def _sanzi(self):
        """农村集体“三资”监督: 23 problems found in H1 2024, 18 rectified, 2 referred; 5 stay open."""
        rng = self.rng
        insp = []
        for ci in self.villages:
            d = self.rand_weekday(date(2024, 3, 4), date(2024, 5, 31))
            insp.append((d, ci, self.add("inspections", source="sanzi", inspected_on=d, subdistrict_code=self.csd[ci],
                                         group_no=None, facility_id=None, partners="区农业农村局、街道纪工委")))
        insp.sort()
        per = [1] * len(insp)
        for j in rng.choice(len(insp), size=23 - len(insp), replace=True):
            per[int(j)] += 1
        items = [(d, ci, iid) for (d, ci, iid), k in zip(insp, per) for _ in range(k)]
        items.sort(key=lambda x: x[0])
        open_idx = {0, 1, len(items) - 3, len(items) - 2, len(items) - 1}   # 2 early (overdue by June), 3 late
        referred = {0, 5}
        for k, (d, ci, iid) in enumerate(items):
            dl = int(rng.choice([30, 45, 60]))
            if k in open_idx:
                rect = None
                if k > 1:
                    dl = max(60, _days(d, date(2024, 7, 5)))
            else:
                rect = d + timedelta(days=int(rng.integers(5, min(dl, _days(d, H1_END)) + 1)))
            self._finding("sanzi", "SZ", iid, "村", self.cname[ci], None, ci, self.csd[ci],
                          self.pick(SANZI_CATEGORIES), d, dl, rect, referred=k in referred,
                          severity="较重" if k in referred else None)

    def _asset_verifications(self):
        for year in (2023, 2024):
            for ci in self.villages:
                self.add("asset_verifications", community_code=self.code[ci],
                         completed_on=self.rand_weekday(date(year, 3, 1), date(year, 6, 28)))
