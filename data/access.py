"""Roles and what each may read: the gate every page's query passes through (data.cache.q calls `call`).

Enforced here, in the query layer, not by hiding widgets:

* 街道 accounts read their own subdistrict only. A query with a ``street`` (or ``subdistrict_code``)
  parameter runs with it forced to the account's subdistrict — asking for another one is refused; a
  query without one runs only when it is declared district-public (reference data, targets) or when
  its rows carry a subdistrict column, which is then filtered; anything else is refused.
* 展示 and 管理员 accounts receive aggregates only: a query declared personal is refused.
* Personal data (names, ID numbers, phones, addresses of persons) comes back masked from every
  personal query, unless the role may see it *and* the user asked for it with a reason
  (``reveal``), which writes an audit entry first.
"""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, replace

import pandas as pd
from sqlalchemy.engine import Engine

from data.masking import mask_frame

ROLES = {
    "leader": "局领导",
    "office": "业务科室",
    "street": "街道",
    "display": "展示",
    "admin": "管理员",
}
ROLE_HELP = {
    "leader": "查看全部数据（个人信息默认脱敏，说明理由后可查看，留痕）",
    "office": "查看和维护全部数据",
    "street": "只能查看和维护本街道的数据",
    "display": "只看汇总数据和圆桌会演示，不接触任何个人信息",
    "admin": "管理账号、查看审计日志，只看汇总数据",
}
WRITE_ROLES = frozenset({"office", "street"})
PERSONAL_ROLES = frozenset({"leader", "office", "street"})
AGGREGATE_ONLY_ROLES = frozenset({"display", "admin"})
FREEZE_ROLES = frozenset({"leader", "office"})

# Queries returning persons, and how each of their personal columns is masked.
PERSONAL_QUERIES: dict[str, dict[str, str]] = {
    "data.queries.aid.aid_recipients": {"name": "name", "id_number": "id_number", "phone": "phone"},
    "data.queries.services.living_alone_roster": {"name": "name", "id_number": "id_number", "phone": "phone",
                                                   "address": "address"},
    "data.queries.services.living_alone_visit_compliance": {"name": "name", "id_number": "id_number",
                                                            "phone": "phone", "address": "address"},
    "data.queries.weekly.visits_below_rule": {"name": "name", "id_number": "id_number", "phone": "phone",
                                              "address": "address"},
    "data.queries.weekly.action_lists": {"name": "name", "id_number": "id_number", "phone": "phone",
                                         "address": "address"},
    "data.queries.weekly.weekly_review_data": {"name": "name", "id_number": "id_number", "phone": "phone",
                                               "address": "address"},
}
# Queries that hold no subdistrict-specific or personal rows: reference data every role may read.
DISTRICT_PUBLIC = frozenset({
    "data.queries.geography.subdistrict_names",
    "data.queries.geography.subdistricts",
    "data.queries.meta.record_date_range",
    "data.queries.meta.meta_values",
    "data.queries.affairs.targets",
    "data.queries.affairs.target",
    "data.queries.maps.counts",
    "data.settings.map_settings",
})
# Parts of a street-scoped bundle that are district-wide all the same: emptied for a 街道 account.
DISTRICT_PARTS = {
    "data.queries.weekly.weekly_review_data": ("targets",),
}
# Queries about one object, scoped by the subdistrict of that object: parameter → (table, key column).
OBJECT_SCOPED = {
    "data.queries.maps.meal_point_monthly": "facility_id",
}
SUBDISTRICT_COLUMNS = ("subdistrict_code", "street")
SCOPE_PARAMS = ("street", "subdistrict_code")
PERSONAL_COLUMN_NAMES = frozenset({"id_number", "phone"})


class AccessDenied(PermissionError):
    """A request the signed-in role may not make; the message is shown to the user."""


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the query layer sees it."""
    username: str
    role: str
    subdistrict_code: str | None = None
    display_name: str = ""
    reveal: bool = False  # personal data unmasked for this session (granted by `grant_reveal`, audited)

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"未知角色：{self.role}")
        if self.role == "street" and not self.subdistrict_code:
            raise ValueError("街道账号必须指定所属街道。")

    @property
    def role_label(self) -> str:
        return ROLES[self.role]

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    @property
    def can_see_personal(self) -> bool:
        return self.role in PERSONAL_ROLES

    @property
    def can_freeze(self) -> bool:
        return self.role in FREEZE_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def street_locked(self) -> str | None:
        """The subdistrict this account is confined to (None: the whole district)."""
        return self.subdistrict_code if self.role == "street" else None

    def may_write_street(self, code: str | None) -> bool:
        return self.can_write and (self.role != "street" or code == self.subdistrict_code)


SYSTEM = Principal(username="system", role="office", display_name="系统")


def qualname(fn) -> str:
    return f"{fn.__module__}.{fn.__name__}"


def require_write(principal: Principal, street: str | None = None) -> None:
    """Refuse a write the role may not make (for 街道, a write outside its subdistrict)."""
    if not principal.can_write:
        raise AccessDenied(f"{principal.role_label}账号没有修改数据的权限。")
    if principal.role == "street" and street is not None and street != principal.subdistrict_code:
        raise AccessDenied("街道账号只能修改本街道的数据。")


def _facility_subdistrict(engine: Engine, facility_id) -> str | None:
    from sqlalchemy import select

    from data.models import Facility

    with engine.connect() as conn:
        return conn.execute(select(Facility.subdistrict_code).where(Facility.id == int(facility_id))).scalar()


@functools.lru_cache(maxsize=1024)
def _signature(fn) -> inspect.Signature:
    """inspect.signature of a named query, computed once per function (it is called on every query)."""
    return inspect.signature(fn)


def prepare(principal: Principal, fn, args: tuple, kwargs: dict, engine: Engine | None = None) -> tuple[tuple, dict]:
    """Check that `principal` may run `fn(engine, *args, **kwargs)`; return the arguments to run it with
    (the subdistrict forced for 街道 accounts). Raises AccessDenied."""
    name = qualname(fn)
    if name in PERSONAL_QUERIES and principal.role in AGGREGATE_ONLY_ROLES:
        raise AccessDenied(f"{principal.role_label}账号只能查看汇总数据，不能查看个人名单。")
    if principal.role != "street":
        return args, kwargs
    sig = _signature(fn)
    bound = sig.bind_partial(None, *args, **kwargs)
    if name in OBJECT_SCOPED:
        if engine is None or _facility_subdistrict(engine, bound.arguments.get(OBJECT_SCOPED[name])) \
                != principal.subdistrict_code:
            raise AccessDenied("街道账号只能查看本街道的数据。")
        return args, kwargs
    scope = next((p for p in SCOPE_PARAMS if p in sig.parameters), None)
    if scope is None:
        return args, kwargs  # checked on the result in `restrict`
    asked = bound.arguments.get(scope)
    if asked not in (None, "", principal.subdistrict_code):
        raise AccessDenied("街道账号只能查看本街道的数据。")
    bound.arguments[scope] = principal.subdistrict_code
    return tuple(bound.args[1:]), dict(bound.kwargs)


def _filter_rows(value, principal: Principal, name: str):
    if isinstance(value, pd.DataFrame):
        col = next((c for c in SUBDISTRICT_COLUMNS if c in value.columns), None)
        if col is None:
            raise AccessDenied("该数据为全区汇总，街道账号无权查看。")
        return value[value[col] == principal.subdistrict_code].reset_index(drop=True)
    key = next((k for k in SUBDISTRICT_COLUMNS if isinstance(value, dict) and k in value), None)
    if key is not None:
        if value[key] != principal.subdistrict_code:
            raise AccessDenied("街道账号只能查看本街道的数据。")
        return value
    if value is None:
        return None
    raise AccessDenied("该数据为全区汇总，街道账号无权查看。")


def _mask(value, columns: dict[str, str]):
    if isinstance(value, pd.DataFrame):
        return mask_frame(value, columns)
    if isinstance(value, dict):
        return {k: _mask(v, columns) for k, v in value.items()}
    return value


def _scoped_by_args(fn) -> bool:
    return any(p in _signature(fn).parameters for p in SCOPE_PARAMS)


def restrict(principal: Principal, fn, result):
    """Apply the role to a query's result: rows of other subdistricts removed (街道), persons masked
    unless revealed, and never a personal column for an aggregate-only role."""
    name = qualname(fn)
    if principal.role == "street" and name in DISTRICT_PARTS and isinstance(result, dict):
        result = {k: (v.iloc[0:0] if k in DISTRICT_PARTS[name] and isinstance(v, pd.DataFrame) else v)
                  for k, v in result.items()}
    if principal.role == "street" and name not in DISTRICT_PUBLIC and name not in OBJECT_SCOPED \
            and not _scoped_by_args(fn):
        result = _filter_rows(result, principal, name)
    columns = PERSONAL_QUERIES.get(name)
    if columns and not (principal.reveal and principal.can_see_personal):
        result = _mask(result, columns)
    if principal.role in AGGREGATE_ONLY_ROLES and isinstance(result, pd.DataFrame) \
            and PERSONAL_COLUMN_NAMES & set(result.columns):
        raise AccessDenied(f"{principal.role_label}账号只能查看汇总数据，不能查看个人信息。")
    return result


def call(principal: Principal, fn, engine: Engine, *args, **kwargs):
    """Run a named query as `principal` (no cache): the plain-Python form of data.cache.q."""
    args, kwargs = prepare(principal, fn, args, kwargs, engine)
    return restrict(principal, fn, fn(engine, *args, **kwargs))


def grant_reveal(engine: Engine, principal: Principal, reason: str, where: str) -> Principal:
    """Unmask personal data for this session: allowed roles only, with a reason, audited before anything shows."""
    from data.audit import record_now

    if not principal.can_see_personal:
        raise AccessDenied(f"{principal.role_label}账号不能查看个人信息。")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise AccessDenied("查看完整个人信息须填写理由（至少 4 个字）。")
    record_now(engine, principal, "reveal_personal", where, {"reason": reason})
    return replace(principal, reveal=True)


def withdraw_reveal(principal: Principal) -> Principal:
    return replace(principal, reveal=False)
