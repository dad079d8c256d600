"""Schema of the shared database: every record the work report counts.

Money is stored as integer fen (分) so sums are exact on every engine.
Coordinates are WGS-84 (EPSG:4326) longitude / latitude.
Facility status is not stored as a flag but derived from its dates, so the
layout can be shown "as on" any day (see data.queries.facility_status_on).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


# --- geography -------------------------------------------------------------

class Subdistrict(Base):
    """街道: one of the district's subdistricts (NBS 2023 code is the key)."""
    __tablename__ = "subdistricts"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    code_mca: Mapped[str | None] = mapped_column(String(20))
    label_lon: Mapped[float | None] = mapped_column(Float)
    label_lat: Mapped[float | None] = mapped_column(Float)
    # GeoJSON geometry (WGS-84); schematic unless an official file was imported
    boundary_geojson: Mapped[str | None] = mapped_column(Text)
    boundary_official: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class Community(Base):
    """社区/村: a village-level unit with its elderly population."""
    __tablename__ = "communities"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    short_name: Mapped[str] = mapped_column(String(40), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # 社区居委会 / 家委会 / 村委会
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), index=True, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    pop_60: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    pop_80: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    living_alone: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


# --- facilities -------------------------------------------------------------

FACILITY_KINDS = {
    "embedded_nursing_home": "社区嵌入式养老院",
    "home_care_center": "社区居家养老服务中心",
    "meal_point": "社区助餐点",
    "welfare_institute": "社会福利院",
    "day_care_center": "日间照料中心",
    "care_institution": "养老机构",
}

FACILITY_STATUSES = {
    "planned": "规划中",
    "building": "建设中",
    "operating": "运营中",
    "closed": "已关停",
}


class Facility(Base):
    """养老服务设施 of any kind; status follows from its dates."""
    __tablename__ = "facilities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), index=True, nullable=False)
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), index=True, nullable=False)
    community_code: Mapped[str | None] = mapped_column(ForeignKey("communities.code"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    operator: Mapped[str | None] = mapped_column(String(120))
    capacity: Mapped[int | None] = mapped_column(Integer)  # beds or seats
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    public: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # planning: the year of the 3-year spatial plan that lists it as a key task
    plan_year: Mapped[int | None] = mapped_column(Integer)
    key_project: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    reserve_project: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)  # 储备项目
    showcase: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)  # 参观点位
    offers_delivery: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)  # 幸福小蜜蜂
    safety_supervised: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    planned_on: Mapped[date | None] = mapped_column(Date)
    construction_started_on: Mapped[date | None] = mapped_column(Date)
    opened_on: Mapped[date | None] = mapped_column(Date, index=True)
    closed_on: Mapped[date | None] = mapped_column(Date)
    vacant_room_id: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)


class MealPointCommunity(Base):
    """助餐服务范围: communities a meal point is registered to serve (its own included)."""
    __tablename__ = "meal_point_communities"
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), primary_key=True, index=True)


class MealRecord(Base):
    """助餐记录: meals served by one meal point on one day."""
    __tablename__ = "meal_records"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), nullable=False)
    served_on: Mapped[date] = mapped_column(Date, nullable=False)
    dine_in: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    delivered: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # 幸福小蜜蜂送餐
    __table_args__ = (
        UniqueConstraint("facility_id", "served_on", name="uq_meal_records_point_day"),
        Index("ix_meal_records_served_on", "served_on"),
    )


class CareWorker(Base):
    """养老护理员 working at a facility; certified = 持证上岗."""
    __tablename__ = "care_workers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True, nullable=False)
    hired_on: Mapped[date] = mapped_column(Date, nullable=False)
    left_on: Mapped[date | None] = mapped_column(Date)
    certified_on: Mapped[date | None] = mapped_column(Date)


# --- home services and the living-alone roster ------------------------------

HOME_SERVICE_TYPES = {
    "age80_2h": "80周岁两小时上门服务",
    "five_groups": "“五类人群”上门服务",
    "family_bed": "家庭养老床位上门服务",
}


class HomeServiceVisit(Base):
    """居家上门服务: one home-service visit (one person-time)."""
    __tablename__ = "home_service_visits"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    visited_on: Mapped[date] = mapped_column(Date, nullable=False)
    service_type: Mapped[str] = mapped_column(String(20), nullable=False)
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), nullable=False)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), nullable=False)
    elder_name: Mapped[str] = mapped_column(String(50), nullable=False)
    provider: Mapped[str | None] = mapped_column(String(120))
    __table_args__ = (Index("ix_home_service_visits_day_street", "visited_on", "subdistrict_code"),
                      Index("ix_home_service_visits_street_day", "subdistrict_code", "visited_on", "service_type"),
                      # the 居家上门服务 ledger's identity (migration 0007): one service of a kind per elder and day
                      Index("uq_home_service_visits_identity", "visited_on", "service_type", "community_code",
                            "elder_name", unique=True))


class LivingAloneElder(Base):
    """独居老人 on the visit roster."""
    __tablename__ = "living_alone_elders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    id_number: Mapped[str] = mapped_column(String(18), unique=True, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date, nullable=False)
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), index=True, nullable=False)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), nullable=False)
    enrolled_on: Mapped[date] = mapped_column(Date, nullable=False)
    left_on: Mapped[date | None] = mapped_column(Date)


class LivingAloneVisit(Base):
    """独居老人巡访/探访: one visit to one person on the roster."""
    __tablename__ = "living_alone_visits"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("living_alone_elders.id"), index=True, nullable=False)
    visited_on: Mapped[date] = mapped_column(Date, index=True, nullable=False)
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), nullable=False)
    visit_type: Mapped[str] = mapped_column(String(10), nullable=False)  # 巡访 / 探访
    visitor: Mapped[str | None] = mapped_column(String(50))
    __table_args__ = (Index("ix_living_alone_visits_street_day", "subdistrict_code", "visited_on", "elder_id"),
                      # the 巡访记录 ledger's identity (migration 0007)
                      Index("uq_living_alone_visits_identity", "elder_id", "visited_on", "visit_type", unique=True))


# --- inspections and findings ------------------------------------------------

INSPECTION_SOURCES = {
    "joint_safety": "养老机构安全生产联合大检查",
    "inspection_group": "局检查组安全检查",
    "sanzi": "农村集体“三资”监督",
    "meal_supervision": "助餐点运营督查",
    "home_care_supervision": "居家上门服务监管",
}
SAFETY_SOURCES = ("joint_safety", "inspection_group")


class Inspection(Base):
    """检查: one inspection visit by a source body."""
    __tablename__ = "inspections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(30), index=True, nullable=False)
    inspected_on: Mapped[date] = mapped_column(Date, index=True, nullable=False)
    subdistrict_code: Mapped[str | None] = mapped_column(ForeignKey("subdistricts.code"))
    group_no: Mapped[int | None] = mapped_column(Integer)  # 检查组 1–4
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    partners: Mapped[str | None] = mapped_column(String(200))  # 联合检查单位


class Finding(Base):
    """整改问题: a problem found by an inspection, until rectified."""
    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    source: Mapped[str] = mapped_column(String(30), index=True, nullable=False)
    place_type: Mapped[str] = mapped_column(String(20), nullable=False)  # 养老机构 / 村 / 助餐点 / 服务商
    place_name: Mapped[str] = mapped_column(String(120), nullable=False)
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    community_code: Mapped[str | None] = mapped_column(ForeignKey("communities.code"))
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), index=True, nullable=False)
    category: Mapped[str] = mapped_column(String(40), nullable=False)
    severity: Mapped[str] = mapped_column(String(10), nullable=False)  # 一般 / 较重 / 严重
    description: Mapped[str | None] = mapped_column(Text)
    found_on: Mapped[date] = mapped_column(Date, index=True, nullable=False)
    deadline: Mapped[date] = mapped_column(Date, nullable=False)
    rectified_on: Mapped[date | None] = mapped_column(Date)
    referred_to_discipline: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)


class AssetVerification(Base):
    """清产核资: a village's collective assets verified."""
    __tablename__ = "asset_verifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), nullable=False)
    completed_on: Mapped[date] = mapped_column(Date, nullable=False)


# --- social assistance --------------------------------------------------------

AID_PROGRAMMES = {
    "dibao": "最低生活保障（低保）",
    "tekun": "特困人员供养",
    "temporary": "临时救助",
    "orphan": "孤儿和事实无人抚养儿童基本生活保障",
    "disability": "残疾人两项补贴",
    "charity": "慈善应急和人道救助",
}


class AidHousehold(Base):
    """救助家庭: a recipient household."""
    __tablename__ = "aid_households"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_no: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    head_name: Mapped[str] = mapped_column(String(50), nullable=False)
    head_id_number: Mapped[str] = mapped_column(String(18), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), index=True, nullable=False)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), nullable=False)


class AidPerson(Base):
    """救助对象: one person in a recipient household."""
    __tablename__ = "aid_persons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("aid_households.id"), index=True, nullable=False)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    id_number: Mapped[str] = mapped_column(String(18), unique=True, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(20))
    relation: Mapped[str] = mapped_column(String(10), nullable=False)  # 户主 / 配偶 / 子女 / …


class AidEnrolment(Base):
    """纳入保障: a household enrolled in a programme from a date."""
    __tablename__ = "aid_enrolments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme: Mapped[str] = mapped_column(String(20), index=True, nullable=False)
    household_id: Mapped[int] = mapped_column(ForeignKey("aid_households.id"), index=True, nullable=False)
    start_date: Mapped[date] = mapped_column(Date, index=True, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date)
    screening_id: Mapped[int | None] = mapped_column(ForeignKey("screenings.id"), index=True)


class AidPayment(Base):
    """救助发放: one payment to one person under one programme."""
    __tablename__ = "aid_payments"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    programme: Mapped[str] = mapped_column(String(20), nullable=False)
    subtype: Mapped[str | None] = mapped_column(String(20))  # 特困: living / care
    household_id: Mapped[int] = mapped_column(ForeignKey("aid_households.id"), nullable=False)
    person_id: Mapped[int] = mapped_column(ForeignKey("aid_persons.id"), nullable=False)
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    __table_args__ = (  # covering indexes of the aid totals (migration 0005)
        Index("ix_aid_payments_prog_day", "programme", "paid_on", "subdistrict_code", "subtype", "household_id",
              "person_id", "amount_fen"),
        Index("ix_aid_payments_day_street", "paid_on", "subdistrict_code", "programme", "household_id", "person_id",
              "amount_fen"),
        Index("ix_aid_payments_street_day", "subdistrict_code", "paid_on", "programme", "household_id", "person_id",
              "amount_fen"),
    )


# the 救助发放 ledger's identity (migration 0007): one payment per person, programme, subtype and day. A missing
# subtype is one value (as the importer compares it), so the index is on coalesce(subtype, '') on both engines.
Index("uq_aid_payments_identity", AidPayment.person_id, AidPayment.programme, func.coalesce(AidPayment.subtype, ""),
      AidPayment.paid_on, unique=True)


class Screening(Base):
    """主动摸排: one door-to-door screening of a person in the "nine groups"."""
    __tablename__ = "screenings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screened_on: Mapped[date] = mapped_column(Date, index=True, nullable=False)
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), index=True, nullable=False)
    community_code: Mapped[str] = mapped_column(ForeignKey("communities.code"), nullable=False)
    person_name: Mapped[str] = mapped_column(String(50), nullable=False)
    id_number: Mapped[str | None] = mapped_column(String(18))
    category: Mapped[str] = mapped_column(String(20), nullable=False)  # 九类重点人员之一
    __table_args__ = (Index("ix_screenings_street_day", "subdistrict_code", "screened_on"),)


# --- social affairs, stations, roundtable, planning --------------------------

CIVIL_EVENT_KINDS = {
    "marriage_registration": "婚姻登记业务",
    "wedding_pledge": "婚事新办承诺书",
    "collective_ceremony": "集体颁证活动",
    "newlywed_class": "“新婚护航”主题课堂",
    "funeral_prompt_letter": "占道殡葬提示函",
    "funeral_stopped": "阻止不文明丧俗",
    "social_worker_training": "社工业务培训",
    "leading_enterprise": "引进养老服务龙头企业",
}


class CivilEvent(Base):
    """民政事务记录: one registration, pledge, ceremony, letter, training … (kind says which)."""
    __tablename__ = "civil_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    happened_on: Mapped[date] = mapped_column(Date, nullable=False)
    subdistrict_code: Mapped[str | None] = mapped_column(ForeignKey("subdistricts.code"))
    note: Mapped[str | None] = mapped_column(String(200))
    __table_args__ = (Index("ix_civil_events_kind_day", "kind", "happened_on"),
                      Index("ix_civil_events_street_kind_day", "subdistrict_code", "kind", "happened_on"))


class ServiceStation(Base):
    """民政服务站: the district head station or a subdistrict station."""
    __tablename__ = "service_stations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    level: Mapped[str] = mapped_column(String(20), nullable=False)  # district / subdistrict
    subdistrict_code: Mapped[str | None] = mapped_column(ForeignKey("subdistricts.code"))
    opened_on: Mapped[date] = mapped_column(Date, nullable=False)


class SocialWorker(Base):
    """驻站社工 stationed at a service station."""
    __tablename__ = "social_workers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    station_id: Mapped[int] = mapped_column(ForeignKey("service_stations.id"), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date | None] = mapped_column(Date)


class AidWindow(Base):
    """社会救助窗口 and its "four ones" (四个一) items."""
    __tablename__ = "aid_windows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), nullable=False)
    has_sign: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    has_list_rack: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    has_leaflet_rack: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    has_intake_book: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    demonstration: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class RoundtableMeeting(Base):
    """幸福圆桌会: one quarterly meeting."""
    __tablename__ = "roundtable_meetings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    attendees: Mapped[int | None] = mapped_column(Integer)


class RoundtableIssue(Base):
    """圆桌会问题诉求: an issue raised at a roundtable, and when it was resolved."""
    __tablename__ = "roundtable_issues"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("roundtable_meetings.id"), nullable=False)
    raised_by: Mapped[str] = mapped_column(String(120), nullable=False)  # company or body
    topic: Mapped[str] = mapped_column(String(200), nullable=False)
    resolved_on: Mapped[date | None] = mapped_column(Date)


class VacantRoom(Base):
    """闲置用房: a candidate room for a new meal point or care site."""
    __tablename__ = "vacant_rooms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    address: Mapped[str] = mapped_column(String(200), nullable=False)
    subdistrict_code: Mapped[str] = mapped_column(ForeignKey("subdistricts.code"), index=True, nullable=False)
    community_code: Mapped[str | None] = mapped_column(ForeignKey("communities.code"))
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    area_m2: Mapped[float] = mapped_column(Float, nullable=False)
    floor: Mapped[int] = mapped_column(Integer, nullable=False)
    has_lift: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    owner_type: Mapped[str] = mapped_column(String(20), nullable=False)  # state / community / enterprise / private
    monthly_rent: Mapped[float] = mapped_column(Float, default=0, nullable=False)  # 元/月
    available_from: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="candidate", nullable=False)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)


class Target(Base):
    """目标: an indicator's target value for a deadline (e.g. meal points ≥ 68 by 2024-12-31)."""
    __tablename__ = "targets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(40), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    baseline_date: Mapped[date] = mapped_column(Date, nullable=False)
    deadline: Mapped[date] = mapped_column(Date, nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    unit: Mapped[str] = mapped_column(String(10), nullable=False)
    figure_id: Mapped[str | None] = mapped_column(String(8))
    __table_args__ = (UniqueConstraint("indicator", "deadline", name="uq_targets_indicator_deadline"),)


class Meta(Base):
    """Key/value facts about the database itself (data_version, demo scale …)."""
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
