"""Schema of the shared database, one package: core tables (core), accounts and sessions (auth), frozen
figure snapshots (frozen), per-day totals (rollups), site-selection scenarios (site), 督办 and station assessment (supervision). Every submodule defines tables on core.Base;
importing this package registers them all on one metadata."""
from __future__ import annotations

from data.db.models.core import (  # noqa: F401
    Base,
    Subdistrict,
    Community,
    FACILITY_KINDS,
    FACILITY_STATUSES,
    Facility,
    MealPointCommunity,
    MealRecord,
    CareWorker,
    HOME_SERVICE_TYPES,
    HomeServiceVisit,
    LivingAloneElder,
    LivingAloneVisit,
    INSPECTION_SOURCES,
    SAFETY_SOURCES,
    Inspection,
    Finding,
    AssetVerification,
    AID_PROGRAMMES,
    AidHousehold,
    AidPerson,
    AidEnrolment,
    AidPayment,
    Screening,
    CIVIL_EVENT_KINDS,
    CivilEvent,
    ServiceStation,
    SocialWorker,
    AidWindow,
    RoundtableMeeting,
    RoundtableIssue,
    VacantRoom,
    Target,
    Meta,
)
from data.db.models.auth import (  # noqa: F401
    User,
    UserSession,
    AuditEntry,
    AuditArchive,
    ImportBatch,
    ImportFile,
)
from data.db.models.frozen import (  # noqa: F401
    FrozenFigure,
)
from data.db.models.rollups import (  # noqa: F401
    AidCountsState,
    AidPeriodCount,
    AidPersonYear,
    DailyTotal,
    DistrictDailyTotal,
)
from data.db.models.site import (  # noqa: F401
    SiteScenario,
)
from data.db.models.supervision import (  # noqa: F401
    DispatchRecord,
    SupervisionOrder,
    SupervisionEvent,
    SupervisionEvidence,
    ServiceTask,
    StationEntry,
    StationScore,
)

__all__ = ['Base', 'Subdistrict', 'Community', 'FACILITY_KINDS', 'FACILITY_STATUSES', 'Facility', 'MealPointCommunity', 'MealRecord', 'CareWorker', 'HOME_SERVICE_TYPES', 'HomeServiceVisit', 'LivingAloneElder', 'LivingAloneVisit', 'INSPECTION_SOURCES', 'SAFETY_SOURCES', 'Inspection', 'Finding', 'AssetVerification', 'AID_PROGRAMMES', 'AidHousehold', 'AidPerson', 'AidEnrolment', 'AidPayment', 'Screening', 'CIVIL_EVENT_KINDS', 'CivilEvent', 'ServiceStation', 'SocialWorker', 'AidWindow', 'RoundtableMeeting', 'RoundtableIssue', 'VacantRoom', 'Target', 'Meta', 'User', 'UserSession', 'AuditEntry', 'AuditArchive', 'ImportBatch', 'ImportFile', 'FrozenFigure', 'DailyTotal', 'AidPersonYear', 'AidPeriodCount', 'AidCountsState', 'SiteScenario', 'DispatchRecord', 'SupervisionOrder', 'SupervisionEvent', 'SupervisionEvidence', 'ServiceTask', 'StationEntry', 'StationScore']
