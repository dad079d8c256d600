"""The demo district's civil affairs: marriage registrations and ceremonies, funeral reform, training, the leading
enterprise, and the quarterly elderly-care roundtable ("幸福圆桌会") with its issues."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from data.demo.common import HALVES, SILENT_FROM, _to_dates

ROUNDTABLE_TOPICS = [
    "养老机构消防改造资金补助申请", "助餐点食材集中采购渠道", "护理员职业技能培训补贴申领", "家庭养老床位改造标准",
    "医养结合签约医疗机构对接", "社区闲置用房用于助餐点", "送餐电动车通行与停放", "养老机构用水用电执行居民价格",
    "连锁品牌跨街道运营备案", "长期护理保险定点机构申请", "适老化改造产品目录", "助餐补贴资金拨付进度",
    "养老服务从业人员招聘渠道", "老年人能力评估结果互认", "社区食堂燃气安全改造", "康养企业与家政企业合作机制",
    "养老机构等级评定辅导", "居家上门服务平台数据对接", "助浴服务场地协调", "老年大学教学点设置",
    "养老服务协会会员服务清单", "机构内设医务室审批", "冬季取暖设备补贴", "银发经济招商政策解读",
    "养老机构综合责任保险", "社区助餐进村试点", "志愿服务积分兑换", "护理员住宿保障",
    "智慧养老设备试用", "养老机构食堂委托经营", "社区康复辅具租赁点", "老年人防诈骗宣传",
    "养老服务地方标准宣贯", "企业用工社保补贴", "重点项目施工进度协调",
]
ROUNDTABLE_RAISERS = ["区养老服务协会", "乙丁康养集团有限公司", "甲乙餐饮管理有限公司", "戊己养老服务有限公司",
                      "壬癸康养服务有限公司", "甲乙居家养老服务有限公司", "区卫生健康委员会", "子丑护理服务有限公司"]


class AffairsMixin:
    """Marriage, funerals, training and the enterprise; the roundtable."""

    def _civil_events(self):
        rng = self.rng
        plan = {
            "marriage_registration": (1203, 1087, 1141, 1058),
            "wedding_pledge": (602, 688, 809, 776),
            "collective_ceremony": (1, 2, 2, 2),
            "newlywed_class": (1, 1, 2, 2),
            "funeral_prompt_letter": (9, 8, 6, 5),
            "funeral_stopped": (7, 5, 6, 4),
            "social_worker_training": (0, 3, 4, 4),
        }
        local = {"marriage_registration", "wedding_pledge", "funeral_prompt_letter", "funeral_stopped"}
        special = {date(2023, 2, 14), date(2023, 5, 20), date(2023, 8, 22), date(2024, 2, 14), date(2024, 5, 20),
                   date(2024, 8, 10)}
        notes = {"collective_ceremony": "集体颁证活动", "newlywed_class": "“新婚护航”主题课堂",
                 "social_worker_training": "社工业务培训"}
        w = self.pop60.astype(float)
        sd_w = np.array([w[self.by_sd[s]].sum() for s in self.sd_codes])
        rows = []
        for kind, counts in plan.items():
            for key, n in zip(HALVES, counts):
                a, b = HALVES[key]
                days = np.arange(np.datetime64(a), np.datetime64(min(b, SILENT_FROM - timedelta(days=1))) + 1)
                wd = (days.astype("int64") - 4) % 7
                dl = _to_dates(days)
                p = np.where(wd >= 5, 0.05, 1.0) * np.array([8.0 if d in special else 1.0 for d in dl])
                if kind not in ("marriage_registration", "wedding_pledge"):
                    p = np.where(wd >= 5, 0.0, 1.0)
                chosen = np.sort(rng.choice(len(days), size=n, p=p / p.sum(), replace=kind in local))
                for j in chosen.tolist():
                    sd = None
                    if kind in local:
                        sd = self.sd_codes[int(rng.choice(len(self.sd_codes), p=sd_w / sd_w.sum()))]
                    rows.append((dl[j], kind, sd, notes.get(kind)))
        rows.append((date(2024, 10, 16), "leading_enterprise", None, "引进养老服务龙头企业：乙丁康养集团有限公司（虚构）"))
        rows.sort(key=lambda r: (r[0], r[1]))
        for d, kind, sd, note in rows:
            self.add("civil_events", kind=kind, happened_on=d, subdistrict_code=sd, note=note)

    def _roundtable(self):
        rng = self.rng
        # (held_on, [resolved_on or None per issue])
        meetings = [
            (date(2023, 9, 14), [date(2023, 10, 20), date(2023, 11, 8), date(2023, 11, 30), date(2023, 12, 12),
                                 date(2023, 10, 9)]),
            (date(2023, 12, 14), [date(2023, 12, 28), date(2023, 12, 22), date(2024, 1, 19), date(2024, 2, 27),
                                  date(2024, 3, 15), date(2024, 8, 2)]),
            (date(2024, 3, 28), [date(2024, 4, 18), date(2024, 5, 10), date(2024, 5, 29), date(2024, 6, 14),
                                 date(2024, 9, 6), None]),
            (date(2024, 6, 20), [date(2024, 6, 27), date(2024, 6, 28), date(2024, 7, 30), date(2024, 10, 11), None]),
            (date(2024, 9, 26), [date(2024, 10, 24), date(2024, 11, 15), date(2024, 12, 6), None, None]),
            (date(2024, 12, 19), [date(2024, 12, 30), None, None, None]),
        ]
        topics = list(rng.permutation(ROUNDTABLE_TOPICS))
        k = 0
        for n, (held, resolved) in enumerate(meetings):
            q = (held.month - 1) // 3 + 1
            mid = self.add("roundtable_meetings", held_on=held, title=f"{held.year}年第{'一二三四'[q - 1]}季度康养产业“幸福圆桌会”",
                           attendees=int(rng.integers(22, 41)))
            for r in resolved:
                self.add("roundtable_issues", meeting_id=mid, raised_by=self.pick(ROUNDTABLE_RAISERS),
                         topic=str(topics[k % len(topics)]), resolved_on=r)
                k += 1
