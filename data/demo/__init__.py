"""演示城区: a deterministic, record-level fictitious Xihu district for 2023-01-01 … 2024-12-31.

Every figure F01–F76 of the 2024 first-half work report, computed through data.queries for
2024-01-01 … 2024-06-30, equals the report exactly; 2023 is plausible (year-over-year works) and the
second half of 2024 moves towards the year's targets (68 meal points, ≥ 65 % coverage).

All persons are fictitious: placeholder given names (甲乙丙丁 + 一二三), ID numbers on the non-existent
area code 999999 with a correct GB 11643 check digit, phones 1990000xxxx.

`build_demo(engine, scale=N)` writes N replicas of the district (replica 0 carries the real codes;
replica k ≥ 1 has codes suffixed "-k", names suffixed "（副本k）" and coordinates shifted), so every
additive figure is exactly N times the report's. Replicas are generated once and streamed to the
database one after another, so memory stays bounded at any scale.

The generator is split by domain, one mixin each: geography, facilities (and meals), services (home services and
elders), inspections (and findings), aid, affairs (civil events and the roundtable); replicas writes them.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlalchemy.engine import Engine

from data.db import models as m
from data.db import rollups
from data.demo.affairs import AffairsMixin
from data.demo.aid import AidMixin
from data.demo.common import (
    DEMO_PERIOD_END,
    DEMO_START,
    MAX_SCALE,
    SHOWCASE_COMMUNITY,
    SILENT_FROM,
    SILENT_STREET,
    DistrictBase,
)
from data.demo.facilities import FacilitiesMixin
from data.demo.geography import GeographyMixin
from data.demo.inspections import InspectionsMixin
from data.demo.replicas import _Replicator, _reset_sequences
from data.demo.services import ServicesMixin
from data.demo.tables import SPECS, TABLE_ORDER

# the demo's calendar and signals (tests and the benchmark read them), and what writes the replicas
__all__ = ["CHUNK", "DEFAULT_SEED", "DEMO_PERIOD_END", "DEMO_START", "MAX_SCALE", "SHOWCASE_COMMUNITY", "SILENT_FROM",
           "SILENT_STREET", "SPECS", "TABLE_ORDER", "build_demo"]

DEFAULT_SEED = 20240630
CHUNK = 5000


class _District(GeographyMixin, FacilitiesMixin, ServicesMixin, InspectionsMixin, AidMixin, AffairsMixin, DistrictBase):
    """One replica of the district, generated once by the domains in a fixed order (they share one random stream)."""

    def build(self) -> "_District":
        self._geography()
        self._facilities()
        self._meal_records()
        self._care_workers()
        self._home_services()
        self._stations()
        self._living_alone()
        self._inspections()
        self._asset_verifications()
        self._aid()
        self._civil_events()
        self._aid_windows()
        self._roundtable()
        return self


def _targets(scale: int) -> list[dict]:
    base = date(2024, 1, 1)
    rows = [("key_facilities", "年度重点养老服务设施建设任务", date(2024, 12, 31), 8, "个", "F01", True),
            ("facility_coverage", "社区养老服务设施覆盖率", date(2025, 12, 31), 100, "%", "F04", False),
            ("leading_enterprise", "引进养老服务龙头企业", date(2024, 12, 31), 1, "家", "F07", True),
            ("meal_points", "助餐点位", date(2024, 12, 31), 68, "个", "F12", True),
            ("meal_coverage", "社区助餐服务覆盖率", date(2024, 12, 31), 65, "%", "F13", False),
            ("living_alone_visits_per_month", "独居老人每月巡访次数", date(2024, 12, 31), 2, "次", "F22", False),
            ("care_worker_certified", "养老护理员持证上岗率", date(2024, 12, 31), 100, "%", "F75", False),
            ("aid_window_items", "社会救助窗口“四个一”配置项", date(2024, 12, 31), 4, "项", "F76", False)]
    # counts grow with the number of replicas; rates and per-unit rules do not
    return [dict(id=i + 1, indicator=ind, name=name, baseline_date=base, deadline=dl,
                 value=float(v * scale if additive else v), unit=unit, figure_id=fid)
            for i, (ind, name, dl, v, unit, fid, additive) in enumerate(rows)]


def build_demo(engine: Engine, scale: int = 1, seed: int = DEFAULT_SEED) -> dict:
    """Fill an empty database (latest schema) with `scale` replicas of the demo district; returns rows per table."""
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"演示数据倍数必须是 1–{MAX_SCALE} 之间的整数。")
    district = _District(seed).build()
    rep = _Replicator(district)
    counts: Counter = Counter()
    with engine.begin() as conn, rollups.bulk_load(conn):
        for k in range(scale):
            for table, rows in rep.rows(k, rep.id_numbers()):
                ins = SPECS[table].model.__table__.insert()
                for i in range(0, len(rows), CHUNK):
                    conn.execute(ins, rows[i:i + CHUNK])
                counts[table] += len(rows)
        targets = _targets(scale)
        conn.execute(m.Target.__table__.insert(), targets)
        counts["targets"] += len(targets)
        now = datetime.now().replace(microsecond=0)
        meta = [dict(key=k, value=v, updated_at=now) for k, v in (("data_version", "1"), ("demo_scale", str(scale)),
                                                                  ("demo_seed", str(seed)),
                                                                  ("generated_at", now.isoformat()))]
        conn.execute(m.Meta.__table__.insert(), meta)
        counts["meta"] += len(meta)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    from data.demo import supervision  # the 2024 督办 and station history, read from the ledgers just written
    counts.update(supervision.build(engine, scale, seed))
    rollups.refresh_period_counts(engine)  # the standard periods' distinct aid counts, current from the start
    return dict(counts)
