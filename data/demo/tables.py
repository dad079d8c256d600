"""The demo's tables in foreign-key order (parents first), and how each table's rows become a replica's."""
from __future__ import annotations

from dataclasses import dataclass, field

from data.db import models as m


@dataclass(frozen=True)
class _Spec:
    """How one table's rows are turned into replica k's rows."""
    model: type
    fks: dict = field(default_factory=dict)   # column -> table whose ids it references
    codes: tuple = ()                          # suffixed "-k"
    names: tuple = ()                          # suffixed "（副本k）"
    coords: tuple = ()                         # (lon, lat) column pairs, shifted
    id_numbers: tuple = ()                     # person keys resolved to ID numbers per replica

    @property
    def has_id(self) -> bool:
        return "id" in self.model.__table__.c


SD, CM = ("subdistrict_code",), ("community_code",)
SPECS: dict[str, _Spec] = {
    "subdistricts": _Spec(m.Subdistrict, codes=("code", "code_mca"), names=("name",),
                          coords=(("label_lon", "label_lat"),)),
    "communities": _Spec(m.Community, codes=("code",) + SD, names=("name", "short_name"), coords=(("lon", "lat"),)),
    "vacant_rooms": _Spec(m.VacantRoom, codes=("code",) + SD + CM, coords=(("lon", "lat"),)),
    "facilities": _Spec(m.Facility, fks={"vacant_room_id": "vacant_rooms"}, codes=("code",) + SD + CM, names=("name",),
                        coords=(("lon", "lat"),)),
    "meal_point_communities": _Spec(m.MealPointCommunity, fks={"facility_id": "facilities"}, codes=CM),
    "meal_records": _Spec(m.MealRecord, fks={"facility_id": "facilities"}),
    "care_workers": _Spec(m.CareWorker, fks={"facility_id": "facilities"}),
    "home_service_visits": _Spec(m.HomeServiceVisit, codes=SD + CM),
    "living_alone_elders": _Spec(m.LivingAloneElder, codes=SD + CM, id_numbers=("id_number",)),
    "living_alone_visits": _Spec(m.LivingAloneVisit, fks={"elder_id": "living_alone_elders"}, codes=SD),
    "service_stations": _Spec(m.ServiceStation, codes=SD, names=("name",)),
    "social_workers": _Spec(m.SocialWorker, fks={"station_id": "service_stations"}),
    "inspections": _Spec(m.Inspection, fks={"facility_id": "facilities"}, codes=SD),
    "findings": _Spec(m.Finding, fks={"inspection_id": "inspections", "facility_id": "facilities"},
                      codes=("code",) + SD + CM, names=("place_name",)),
    "asset_verifications": _Spec(m.AssetVerification, codes=CM),
    "screenings": _Spec(m.Screening, codes=SD + CM, id_numbers=("id_number",)),
    "aid_households": _Spec(m.AidHousehold, codes=("household_no",) + SD + CM, id_numbers=("head_id_number",)),
    "aid_persons": _Spec(m.AidPerson, fks={"household_id": "aid_households"}, id_numbers=("id_number",)),
    "aid_enrolments": _Spec(m.AidEnrolment, fks={"household_id": "aid_households", "screening_id": "screenings"}),
    "aid_payments": _Spec(m.AidPayment, fks={"household_id": "aid_households", "person_id": "aid_persons"}, codes=SD),
    "civil_events": _Spec(m.CivilEvent, codes=SD),
    "aid_windows": _Spec(m.AidWindow, codes=SD, names=("name",)),
    "roundtable_meetings": _Spec(m.RoundtableMeeting),
    "roundtable_issues": _Spec(m.RoundtableIssue, fks={"meeting_id": "roundtable_meetings"}),
}
TABLE_ORDER = list(SPECS)  # parents before children (foreign keys are enforced on SQLite)
