"""Roles and what each may read: the gate every page's query passes through (data.db.cache.q calls `call`).

Enforced here, in the query layer, not by hiding widgets, as each query declares beside itself with
``@query(scope=…, roles=…, personal=…)`` (see SCOPES); a query that declares nothing is refused to everyone:

* 街道 accounts read their own subdistrict only: a "street" query runs with its ``street`` (or
  ``subdistrict_code``) parameter forced to the account's subdistrict — asking for another one is refused;
  a "rows" query has its rows filtered on their subdistrict column; a "facility" query answers only about
  the account's own facilities; a "district" query (district totals) is refused; "public" is reference data.
* 展示 and 管理员 accounts receive aggregates only: a query declared personal is refused.
* Personal data (names, ID numbers, phones, addresses of persons) comes back masked from every
  personal query, unless the role may see it *and* the user asked for it with a reason
  (``reveal``), which writes an audit entry first.
* Every refused read writes one audit entry ("read_refused": the query, the role, the subdistrict asked for).
"""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, replace

import pandas as pd
from sqlalchemy.engine import Engine

from data.security.masking import mask_frame

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

# How a 街道 account's view of a query is confined (declared per query with @query, beside the query):
SCOPES = {
    "public": "reference data with no subdistrict-specific or personal rows (names, boundaries list, targets, "
              "settings): every role reads it whole",
    "street": "takes a `street` (or `subdistrict_code`) parameter: forced to a 街道 account's own subdistrict, "
              "asking for another one is refused",
    "rows": "every row (or the one record) carries its subdistrict: a 街道 account gets its own rows only",
    "facility": "about one facility (`facility_id`): a 街道 account may ask only for its own subdistrict's",
    "district": "district-wide totals: refused to 街道 accounts",
}
ALL_ROLES = frozenset(ROLES)


@dataclass(frozen=True)
class QueryAccess:
    """Who may call a named query and how its rows are scoped (see `query`)."""
    scope: str
    roles: frozenset
    personal: tuple[tuple[str, str], ...] = ()  # (column, masking kind) of persons' data, masked unless revealed

    @property
    def personal_columns(self) -> dict[str, str]:
        return dict(self.personal)


# qualified name → function, for every declared query (filled as the declaring modules are imported)
REGISTRY: dict[str, object] = {}
DECLARING_MODULES = ("data.queries.affairs", "data.queries.aid", "data.queries.facilities", "data.queries.findings",
                     "data.queries.geography", "data.queries.maps", "data.queries.meta", "data.queries.overview",
                     "data.queries.services", "data.queries.site", "data.queries.supervision", "data.queries.weekly",
                     "data.ops.settings", "data.writes.frozen", "data.domain.figures", "data.domain.headlines",
                     "data.domain.report",
                     "data.writes.edits")


def query(*, scope: str, roles=ALL_ROLES, personal: dict[str, str] | None = None):
    """Declare who may call a named query and how its rows are scoped for a 街道 account. A query that is not
    declared is refused to everyone (nothing is allowed by being absent from a list)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown access scope {scope!r}")
    roles = frozenset(roles)
    if not roles or roles - ALL_ROLES:
        raise ValueError(f"unknown roles {sorted(roles - ALL_ROLES)}")
    if personal and roles & AGGREGATE_ONLY_ROLES:
        raise ValueError("a personal query cannot be open to an aggregate-only role")

    def declare(fn):
        params = inspect.signature(fn).parameters
        if scope == "street" and not any(p in params for p in SCOPE_PARAMS):
            raise ValueError(f"{fn.__name__}: scope 'street' needs a street or subdistrict_code parameter")
        if scope == "facility" and "facility_id" not in params:
            raise ValueError(f"{fn.__name__}: scope 'facility' needs a facility_id parameter")
        fn.__access__ = QueryAccess(scope, roles, tuple(sorted((personal or {}).items())))
        REGISTRY[qualname(fn)] = fn
        return fn

    return declare


def registered() -> dict[str, object]:
    """Every declared query, by qualified name (imports the modules that declare them)."""
    import importlib

    for module in DECLARING_MODULES:
        importlib.import_module(module)
    return dict(REGISTRY)


def declaration(fn) -> QueryAccess | None:
    spec = getattr(fn, "__access__", None)
    return spec if isinstance(spec, QueryAccess) and REGISTRY.get(qualname(fn)) is fn else None


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


SYSTEM = Principal(username="system", role="office", display_name="系统")  # scheduled jobs and the command line


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

    from data.db.models import Facility

    with engine.connect() as conn:
        return conn.execute(select(Facility.subdistrict_code).where(Facility.id == int(facility_id))).scalar()


@functools.lru_cache(maxsize=1024)
def _signature(fn) -> inspect.Signature:
    """inspect.signature of a named query, computed once per function (it is called on every query)."""
    return inspect.signature(fn)


def _refuse(principal: Principal, fn, engine: Engine | None, message: str, asked: str | None = None) -> AccessDenied:
    """The refusal of a read, audited once when `engine` is given (query name, role and the subdistrict asked for;
    no personal data). The exception is marked `audited` so an enclosing audit does not write it again."""
    exc = AccessDenied(message)
    if engine is not None:
        from sqlalchemy.exc import SQLAlchemyError

        from data.security.audit import record_now
        detail = {"query": qualname(fn), "reason": message}
        if asked:
            detail["asked_street"] = str(asked)[:20]
        try:
            record_now(engine, principal, "read_refused", qualname(fn), detail, ok=False)
            exc.audited = True
        except SQLAlchemyError:  # the refusal stands even when it cannot be written down
            pass
    return exc


def _spec(principal: Principal, fn, engine: Engine | None) -> QueryAccess:
    spec = declaration(fn)
    if spec is None:
        raise _refuse(principal, fn, engine, "该查询未声明访问规则，已拒绝。")
    if principal.role not in spec.roles:
        if spec.personal and principal.role in AGGREGATE_ONLY_ROLES:
            raise _refuse(principal, fn, engine, f"{principal.role_label}账号只能查看汇总数据，不能查看个人名单。")
        raise _refuse(principal, fn, engine, f"{principal.role_label}账号无权查看该数据。")
    return spec


def prepare(principal: Principal, fn, args: tuple, kwargs: dict, engine: Engine | None = None, *,
            audit: bool = False) -> tuple[tuple, dict]:
    """Check that `principal` may run `fn(engine, *args, **kwargs)` as the query declares (@query); return the
    arguments to run it with (the subdistrict forced for 街道 accounts). Raises AccessDenied, audited once when
    `audit` (the page read path, data.db.cache.q; a caller that audits its own refusals, such as
    data.writes.edits.audited_refusal, leaves it off)."""
    audit_to = engine if audit else None
    spec = _spec(principal, fn, audit_to)
    if principal.role != "street" or spec.scope in ("public", "rows"):
        return args, kwargs  # "rows": checked on the result in `restrict`
    if spec.scope == "district":
        raise _refuse(principal, fn, audit_to, "该数据为全区汇总，街道账号无权查看。")
    sig = _signature(fn)
    bound = sig.bind_partial(None, *args, **kwargs)
    if spec.scope == "facility":
        asked = bound.arguments.get("facility_id")
        if engine is None or asked is None or _facility_subdistrict(engine, asked) != principal.subdistrict_code:
            raise _refuse(principal, fn, audit_to, "街道账号只能查看本街道的数据。")
        return args, kwargs
    scope = next(p for p in SCOPE_PARAMS if p in sig.parameters)  # "street": checked when declared
    asked = bound.arguments.get(scope)
    if asked not in (None, "", principal.subdistrict_code):
        raise _refuse(principal, fn, audit_to, "街道账号只能查看本街道的数据。", asked)
    bound.arguments[scope] = principal.subdistrict_code
    return tuple(bound.args[1:]), dict(bound.kwargs)


def _filter_rows(value, principal: Principal, fn, engine: Engine | None):
    if isinstance(value, pd.DataFrame):
        col = next((c for c in SUBDISTRICT_COLUMNS if c in value.columns), None)
        if col is None:
            raise _refuse(principal, fn, engine, "该数据为全区汇总，街道账号无权查看。")
        return value[value[col] == principal.subdistrict_code].reset_index(drop=True)
    key = next((k for k in SUBDISTRICT_COLUMNS if isinstance(value, dict) and k in value), None)
    if key is not None:
        if value[key] != principal.subdistrict_code:
            raise _refuse(principal, fn, engine, "街道账号只能查看本街道的数据。", value[key])
        return value
    if value is None:
        return None
    raise _refuse(principal, fn, engine, "该数据为全区汇总，街道账号无权查看。")


def _mask(value, columns: dict[str, str]):
    if isinstance(value, pd.DataFrame):
        return mask_frame(value, columns)
    if isinstance(value, dict):
        return {k: _mask(v, columns) for k, v in value.items()}
    return value


def restrict(principal: Principal, fn, result, engine: Engine | None = None, *, audit: bool = False):
    """Apply the role to a query's result as the query declares: rows of other subdistricts removed (街道), persons
    masked unless revealed, and never a personal column for an aggregate-only role. Refusals are audited as in `prepare`."""
    engine = engine if audit else None
    spec = _spec(principal, fn, engine)
    if principal.role == "street":
        if spec.scope == "district":
            raise _refuse(principal, fn, engine, "该数据为全区汇总，街道账号无权查看。")
        if spec.scope == "rows":
            result = _filter_rows(result, principal, fn, engine)
    columns = spec.personal_columns
    if columns and not (principal.reveal and principal.can_see_personal):
        result = _mask(result, columns)
    if principal.role in AGGREGATE_ONLY_ROLES and isinstance(result, pd.DataFrame) \
            and PERSONAL_COLUMN_NAMES & set(result.columns):
        raise _refuse(principal, fn, engine, f"{principal.role_label}账号只能查看汇总数据，不能查看个人信息。")
    return result


def call(principal: Principal, fn, engine: Engine, *args, audit_refusals: bool = False, **kwargs):
    """Run a named query as `principal` (no cache): the plain-Python form of data.db.cache.q. `audit_refusals`:
    a page's fresh (uncached) read, whose refusal is audited as data.db.cache.q audits a cached one."""
    args, kwargs = prepare(principal, fn, args, kwargs, engine, audit=audit_refusals)
    return restrict(principal, fn, fn(engine, *args, **kwargs), engine, audit=audit_refusals)


def grant_reveal(engine: Engine, principal: Principal, reason: str, where: str) -> Principal:
    """Unmask personal data for this session: allowed roles only, with a reason, audited before anything shows."""
    from data.security.audit import record_now

    if not principal.can_see_personal:
        raise AccessDenied(f"{principal.role_label}账号不能查看个人信息。")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise AccessDenied("查看完整个人信息须填写理由（至少 4 个字）。")
    record_now(engine, principal, "reveal_personal", where, {"reason": reason})
    return replace(principal, reveal=True)


def withdraw_reveal(principal: Principal) -> Principal:
    return replace(principal, reveal=False)


class Reader:
    """Named queries read as one principal, access applied (no cache): what a page model (views/) is given.

    ``reader.q(fn, *args)`` runs ``fn(engine, *args)`` through `call`; writes and audited actions take
    ``reader.engine`` and ``reader.principal``. The dashboard hands views a cached reader
    (data.db.cache.CachedReader, the same interface), the command line and documents this one."""

    def __init__(self, engine: Engine, principal: Principal):
        self.engine = engine
        self.principal = principal

    def q(self, fn, *args, **kwargs):
        return call(self.principal, fn, self.engine, *args, **kwargs)

    def as_(self, principal: Principal) -> "Reader":
        """The same reader for another principal (e.g. after personal data was revealed for this session)."""
        return type(self)(self.engine, principal)
