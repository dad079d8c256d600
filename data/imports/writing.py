"""Comparing a validated ledger with the database by natural key, and writing it (inside the caller's transaction):
`store` is the one write of ledger records, for a file's rows and a vacant room saved on its form alike.

Rows equal to the database (after the same cleaning) are unchanged; rows whose key exists but differ are updated
(versioned tables only when the version read is still current); other rows are added. Conflicts with the database
found here (a record of another subdistrict for a 街道 account, a vacant room already converted …) are problems
like any other, and nothing is written.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Column, MetaData, Table, and_, bindparam, insert, literal, select, update
from sqlalchemy.engine import Connection, Engine

from data.security.access import Principal
from data.imports.ledgers import Ledger
from data.imports.validation import Context, against_stored
from data.db.models import Facility, Inspection, MealPointCommunity, Subdistrict
from data.db.models.auth import ImportBatch, ImportFile, User

CHUNK = 5_000
UPDATE_STAGE = "mz_import_changes"   # PostgreSQL: the changed records of an import, for one UPDATE … FROM
SET_BASED_FROM = 50   # PostgreSQL: more changed records than this are updated by one statement (_update_from_stage)
PG_PARAMS = 60_000   # bound parameters in one PostgreSQL statement (its limit is 65,535)
STAGE = "mz_import_stage"   # the rows to add, in a TEMP table (SQLite: staged before the write lock)
AUDIT_SAMPLE = 50   # keys and changes listed in the audit entry (the counts are always complete)


class WriteConflict(RuntimeError):
    """The database changed while the records were being written; the message is Chinese, `ident` the record whose
    version moved (when one did)."""

    def __init__(self, message: str, ident=None):
        super().__init__(message)
        self.ident = ident


@dataclass
class Diff:
    merged: pd.DataFrame          # clean rows with their existing identity/values (suffix _db)
    new: pd.Series                # bool per row
    changed: pd.Series
    unchanged: pd.Series
    identity: str                 # "id" or the key column of tables without one
    compare: list[str] = field(default_factory=list)


def _identity(lg: Ledger) -> str:
    return "id" if "id" in lg.table.c else lg.natural_key[0]


def _plain(v):
    """numpy / pandas scalars → Python values the drivers accept; missing → None."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, pd.Timestamp):
        return v.date()
    return v


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values (object columns hold ints, floats, bools, dates, str or None)."""
    out = df.astype(object)
    out = out.where(out.notna(), None)
    return out.to_dict("records")


def _existing(conn: Connection, lg: Ledger, clean: pd.DataFrame) -> pd.DataFrame:
    t = lg.table
    ident = _identity(lg)
    cols = list(dict.fromkeys([ident, *lg.fields, *(["version"] if lg.versioned else []),
                               *(["subdistrict_code"] if "subdistrict_code" in t.c else []),
                               *(["status"] if "status" in t.c else [])]))
    stmt = select(*[t.c[c] for c in cols])
    if lg.date_field:
        days = clean[lg.date_field].dropna()
        if days.empty:
            return pd.DataFrame(columns=cols)
        stmt = stmt.where(t.c[lg.date_field].between(min(days), max(days)))
    rows = conn.execute(stmt).tuples().all()
    return pd.DataFrame.from_records(rows, columns=cols) if rows else pd.DataFrame(columns=cols)


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    both_missing = a.isna() & b.isna()
    if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
        x = pd.to_numeric(a, errors="coerce").astype(float)
        y = pd.to_numeric(b, errors="coerce").astype(float)
        return pd.Series(np.isclose(x, y, rtol=0, atol=1e-9), index=a.index) | both_missing
    if pd.api.types.is_integer_dtype(a) or pd.api.types.is_integer_dtype(b):
        x = pd.to_numeric(a, errors="coerce")
        y = pd.to_numeric(b, errors="coerce")
        return (x == y).fillna(False).astype(bool) | both_missing
    av = a.astype(object).where(a.notna(), None)
    bv = b.astype(object).where(b.notna(), None)
    return pd.Series([x == y for x, y in zip(av, bv)], index=a.index, dtype=bool) | both_missing


def _resolve_inspections(conn: Connection, clean: pd.DataFrame) -> None:
    """Findings: the inspection of the same source and day (same facility, else same subdistrict, else district-wide);
    -1 where a new inspection will be created; NA where no inspection day was given."""
    clean["inspection_id"] = pd.array([pd.NA] * len(clean), dtype="Int64")
    given = clean["inspected_on"].notna() & clean["source"].notna()
    if not given.any():
        return
    t = Inspection.__table__
    days = clean.loc[given, "inspected_on"]
    found = pd.DataFrame(conn.execute(select(t.c.id, t.c.source, t.c.inspected_on, t.c.subdistrict_code, t.c.facility_id)
                                      .where(t.c.inspected_on.between(min(days), max(days)))).all(),
                         columns=["id", "source", "inspected_on", "subdistrict_code", "facility_id"])
    groups = {k: g for k, g in found.groupby(["source", "inspected_on"])} if len(found) else {}
    ids = []
    for row in clean.loc[given].itertuples():
        g = groups.get((row.source, row.inspected_on))
        pick = None
        if g is not None:
            for m in (g["facility_id"] == row.facility_id if pd.notna(row.facility_id) else pd.Series(False, index=g.index),
                      g["subdistrict_code"] == row.subdistrict_code, g["subdistrict_code"].isna()):
                if m.any():
                    pick = int(g.loc[m, "id"].iloc[0])
                    break
        ids.append(pick if pick is not None else -1)
    clean.loc[given, "inspection_id"] = ids


def compare(ctx: Context, clean: pd.DataFrame) -> Diff:
    """Match the cleaned rows to the database by natural key; database conflicts go to ctx.problems."""
    lg, conn = ctx.ledger, ctx.conn
    ident = _identity(lg)
    if lg.key == "findings":
        _resolve_inspections(conn, clean)
    existing = _existing(conn, lg, clean)
    key = list(lg.natural_key)
    sentinel = "\0"
    left = clean.reset_index(names="_row")
    lk = left[key].astype(object).where(left[key].notna(), sentinel)
    rk = existing[key].astype(object).where(existing[key].notna(), sentinel)
    for k in key:   # one representation for keys: ints as ints, dates as dates, text as text
        lk[k] = lk[k].map(_plain)
        rk[k] = rk[k].map(_plain)
    right = existing.drop(columns=key).add_suffix("_db")
    right["_hit_db"] = True
    right[key] = rk
    right = right.drop_duplicates(key)
    left_k = left.drop(columns=key)
    left_k[key] = lk
    merged = left_k.merge(right, on=key, how="left").set_index("_row")
    for k in key:
        merged[k] = clean[k]
    new = merged["_hit_db"].isna()
    compare_fields = [f for f in lg.fields if f not in key]
    same = pd.Series(True, index=merged.index)
    for f in compare_fields:
        if f == "inspection_id":   # no inspection day given: the finding keeps its inspection
            keep = merged[f].isna()
            merged.loc[keep, f] = merged.loc[keep, f"{f}_db"]
        same &= _same(merged[f], merged[f"{f}_db"])
    changed = ~new & ~same
    unchanged = ~new & same
    p = ctx.problems
    key_header = lg.key_headers[0]
    if not lg.insert:
        p.add(new, key_header, "数据库中没有该记录，本台账只能更新已有记录")
    if ctx.principal.role == "street" and "subdistrict_code_db" in merged:
        names = dict(conn.execute(select(Subdistrict.code, Subdistrict.name)).all())
        foreign = ~new & merged["subdistrict_code_db"].notna() & (merged["subdistrict_code_db"] != ctx.principal.subdistrict_code)
        p.add(foreign & changed, key_header, "该记录已登记在" + merged["subdistrict_code_db"].map(names).fillna("其他街道")
              + "，街道账号不能修改")
    if "status_db" in merged:
        against_stored(ctx, merged, merged["status_db"], changed)
    return Diff(merged, new, changed, unchanged, ident, compare_fields)


def _progress(progress, start: float, end: float, done: int, total: int, text: str) -> None:
    if progress and total:
        progress(min(end, start + (end - start) * done / total), text)


def _create_inspections(conn: Connection, rows: pd.DataFrame) -> None:
    need = rows["inspection_id"].eq(-1).fillna(False)
    if not need.any():
        return
    cols = ["source", "inspected_on", "subdistrict_code", "facility_id", "group_no"]
    part = rows.loc[need, cols].copy()
    part.loc[part["source"] == "joint_safety", "subdistrict_code"] = None
    uniq = part.astype(object).where(part.notna(), None).drop_duplicates()
    made = {}
    for rec in _records(uniq):
        iid = conn.execute(insert(Inspection).values(**rec)).inserted_primary_key[0]
        made[tuple(rec.values())] = int(iid)
    keyed = part.astype(object).where(part.notna(), None)
    rows.loc[need, "inspection_id"] = [made[tuple(_plain(v) for v in r)] for r in keyed.itertuples(index=False, name=None)]


def _fill(conn: Connection, stage: Table, rows: pd.DataFrame, progress=None, span=(0.0, 1.0),
          text: str = "正在准备写入") -> None:
    """Put `rows` (columns named as the stage's) into a temp table of this connection: PostgreSQL by COPY (nothing
    compiled or parsed per row), SQLite by executemany (SQLite binds in process)."""
    cols = [c.name for c in stage.c]
    copy = cursor = None
    if conn.dialect.name == "postgresql":
        rows = _copyable(rows, stage)
        cursor = conn.connection.driver_connection.cursor()
        names = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in cols)
        copy = cursor.copy(f"COPY {stage.name} ({names}) FROM STDIN")
        writer = copy.__enter__()
    try:
        for start in range(0, len(rows), CHUNK):
            part = rows.iloc[start:start + CHUNK]
            if copy is None:
                conn.execute(insert(stage), _records(part))
            else:
                for rec in _records(part):
                    writer.write_row([rec[c] for c in cols])
            _progress(progress, span[0], span[1], start + len(part), len(rows),
                      f"{text}：{start + len(part):,} / {len(rows):,} 行")
    except BaseException as exc:
        if copy is not None:
            copy.__exit__(type(exc), exc, exc.__traceback__)
            cursor.close()
        raise
    if copy is not None:
        copy.__exit__(None, None, None)
        cursor.close()


def _copyable(rows: pd.DataFrame, stage: Table) -> pd.DataFrame:
    """COPY parses text by the column's type: an integer or boolean column that pandas holds as floats (a merge with
    missing ids makes 7 into 7.0) is given back its own type, as a bound parameter would have been cast."""
    out = rows
    for c in stage.c:
        try:
            kind = c.type.python_type
        except NotImplementedError:
            continue
        if kind in (int, bool) and rows[c.name].dtype.kind == "f":
            if out is rows:
                out = rows.copy()
            out[c.name] = out[c.name].round().astype("Int64") if kind is int else out[c.name].astype("boolean")
    return out


def stage_new_rows(conn: Connection, lg: Ledger, diff: Diff, progress=None, span=(0.40, 0.70)) -> Table | None:
    """SQLite: copy the rows to add into a TEMP table of this connection, before the write lock is taken; under the
    lock one INSERT … SELECT copies them into the ledger's table (store).

    SQLite has one write lock for the whole database, held from the first write to the commit: every other user's
    write (a sign-in, an edit, an audit entry) waits for it. Converting and binding each row is most of an insert's
    time, so it is done here, into the connection's private temp database (no lock on the shared file). None where
    there is nothing to gain: PostgreSQL, where an import blocks no other user (store stages its rows inside the
    writing transaction, which a transaction-mode connection pooler such as PgBouncer also keeps on one server
    connection); findings, whose new inspections are only known under the lock; no new rows."""
    if conn.dialect.name != "sqlite" or lg.key == "findings" or not diff.new.any():
        return None
    stage = _stage_table(lg)
    drop_stage(conn, stage)
    stage.create(conn)
    _fill(conn, stage, diff.merged.loc[diff.new, list(lg.fields)], progress, span, "正在准备写入")
    conn.commit()   # the temp database only: the shared file is not locked
    return stage


def _stage_table(lg: Ledger, name: str = STAGE, columns: list[Column] | None = None) -> Table:
    """A TEMP table of the ledger's fields (or `columns`); on PostgreSQL dropped by the transaction's commit."""
    cols = columns if columns is not None else [Column(c, lg.table.c[c].type) for c in lg.fields]
    return Table(name, MetaData(), *cols, prefixes=["TEMPORARY"], postgresql_on_commit="DROP")


def drop_stage(conn: Connection, stage: Table | None) -> None:
    """Drop the staged rows (inside the caller's transaction, if any: never ends it)."""
    if stage is not None:
        temp = "pg_temp" if conn.dialect.name == "postgresql" else "temp"
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {temp}.{STAGE}")


IDENT, EXPECTED = "_ident", "_expected_version"   # columns of store()'s `updated`


def store(conn: Connection, lg: Ledger, added: pd.DataFrame | None = None, updated: pd.DataFrame | None = None,
          fields: list[str] | None = None, *, staged: Table | None = None, progress=None,
          span=(0.45, 0.95)) -> None:
    """The one write of a ledger's records, inside the caller's transaction — a file's rows (`write`) and a vacant room
    saved on its form (data.writes.site) alike.

    `added` (the ledger's fields) is inserted, at version 1 where the table is versioned (already staged in `staged`
    by stage_new_rows, when given). `updated` holds IDENT (the record's identity), for a versioned table EXPECTED
    (the version the writer read) and `fields`: each record is set only where it still has the expected version —
    data.writes.edits' optimistic rule, one ``UPDATE … WHERE id = ? AND version = ?`` that also sets version + 1 —
    else WriteConflict (its `ident` the record that moved) and nothing of the transaction stands."""
    t = lg.table
    added = added if added is not None else pd.DataFrame(columns=list(lg.fields))
    updated = updated if updated is not None else pd.DataFrame(columns=[IDENT, EXPECTED])
    fields = list(fields or [])
    total, done = len(added) + len(updated), 0
    if staged is None and conn.dialect.name == "postgresql" and len(added) > SET_BASED_FROM:
        # PostgreSQL: the rows COPYed into a temp table of this transaction (nothing compiled or parsed per row),
        # then ONE INSERT … SELECT below: the rollup triggers run once for the whole file
        staged = _stage_table(lg)
        drop_stage(conn, staged)
        staged.create(conn)
        added_end = span[0] + (span[1] - span[0]) * len(added) / total   # where the added rows' share ends
        _fill(conn, staged, added[list(lg.fields)], progress, (span[0], (span[0] + added_end) / 2), "正在写入")
    if staged is not None and len(added):
        cols = [*lg.fields, *(["version"] if lg.versioned else [])]
        source = select(*staged.c, *([literal(1)] if lg.versioned else []))
        # preserve_rowcount: psycopg 3 forgets an INSERT's rowcount once SQLAlchemy closes the cursor
        moved = conn.execute(insert(t).from_select(cols, source).execution_options(preserve_rowcount=True)).rowcount
        if moved != len(added):
            raise WriteConflict("导入过程中数据被他人同时修改，未导入任何数据，请重新导入。")
        done = len(added)
        _progress(progress, span[0], span[1], done, total, f"正在写入：{done:,} / {total:,} 行")
        added = added.iloc[:0]
    # PostgreSQL: each chunk is ONE multi-row INSERT, so the rollup tables' statement-level triggers (migrations
    # 0010, 0011, 0013) run once per chunk over its transition table; a driver's executemany would run them once per
    # row (100,000 meal records: minutes instead of seconds). A chunk stays under PostgreSQL's 65,535 parameters.
    multi = conn.dialect.name == "postgresql"
    chunk = min(CHUNK, PG_PARAMS // (len(lg.fields) + 1)) if multi else CHUNK
    for start in range(0, len(added), chunk):
        part = added.iloc[start:start + chunk]
        recs = _records(part)
        if lg.versioned:
            for r in recs:
                r["version"] = 1
        if multi:
            conn.execute(insert(t).values(recs))
        else:
            conn.execute(insert(t), recs)
        done += len(part)
        _progress(progress, span[0], span[1], done, total, f"正在写入：{done:,} / {total:,} 行")
    if not len(updated):
        return
    ident = _identity(lg)
    values = {c: bindparam(f"v_{c}") for c in fields}
    if lg.versioned:
        stmt = (update(t).where(and_(t.c[ident] == bindparam("b_ident"), t.c.version == bindparam("b_version")))
                .values({**values, "version": bindparam("b_version") + 1}))
    else:
        stmt = update(t).where(t.c[ident] == bindparam("b_ident")).values(values)
    vals = updated[[IDENT, *([EXPECTED] if lg.versioned else []), *fields]].rename(
        columns={IDENT: "b_ident", EXPECTED: "b_version", **{c: f"v_{c}" for c in fields}})
    if conn.dialect.name == "postgresql" and len(vals) > SET_BASED_FROM:
        _update_from_stage(conn, lg, ident, fields, vals, progress, (span[0] + (span[1] - span[0]) * done / total,
                                                                      span[1]))
        return
    for start in range(0, len(vals), CHUNK):
        recs = _records(vals.iloc[start:start + CHUNK])
        if lg.versioned:
            for r in recs:
                if conn.execute(stmt, r).rowcount != 1:
                    raise WriteConflict("导入过程中有记录被他人修改，未导入任何数据，请重新导入。", ident=r["b_ident"])
        else:
            conn.execute(stmt, recs)
        done += len(recs)
        _progress(progress, span[0], span[1], done, total, f"正在写入：{done:,} / {total:,} 行")


def _update_from_stage(conn: Connection, lg: Ledger, ident: str, fields: list[str], vals: pd.DataFrame, progress,
                       span) -> None:
    """PostgreSQL: the changed records COPYed into a temp table, then ONE ``UPDATE … FROM`` — one run of the rollup
    triggers for the whole file instead of one per record (100,000 changed meal records: seconds, not minutes).
    Versioned tables keep the optimistic rule: every record must still have the version read, else WriteConflict
    naming one that moved, and nothing stands (the caller's transaction rolls back)."""
    t = lg.table
    cols = [Column("b_ident", t.c[ident].type)]
    if lg.versioned:
        cols.append(Column("b_version", t.c.version.type))
    cols += [Column(f"v_{c}", t.c[c].type) for c in fields]
    stage = _stage_table(lg, UPDATE_STAGE, cols)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS pg_temp.{UPDATE_STAGE}")
    stage.create(conn)
    _fill(conn, stage, vals, progress, (span[0], (span[0] + span[1]) / 2), "正在写入")
    match = [t.c[ident] == stage.c.b_ident, *([t.c.version == stage.c.b_version] if lg.versioned else [])]
    values = {c: stage.c[f"v_{c}"] for c in fields}
    if lg.versioned:
        values["version"] = stage.c.b_version + 1
    done = set(conn.execute(update(t).where(*match).values(values).returning(t.c[ident])).scalars())
    if len(done) != len(vals):
        missed = next((_plain(v) for v in vals["b_ident"] if _plain(v) not in done), None)
        raise WriteConflict("导入过程中有记录被他人修改，未导入任何数据，请重新导入。", ident=missed)
    conn.exec_driver_sql(f"DROP TABLE pg_temp.{UPDATE_STAGE}")
    _progress(progress, span[0], span[1], 1, 1, f"正在写入：{len(vals):,} / {len(vals):,} 行")


def write(ctx: Context, diff: Diff, progress=None, staged: Table | None = None, span=(0.45, 0.95)) -> dict:
    """Insert the new rows (from `staged`, when stage_new_rows prepared them) and update the changed ones, through
    `store`; returns the audit sample of what changed."""
    lg, conn = ctx.ledger, ctx.conn
    m = diff.merged
    if lg.key == "findings":
        _create_inspections(conn, m)
    changed = m.loc[diff.changed]
    ident = diff.identity
    updated = changed[diff.compare].copy()
    updated[IDENT] = changed[ident] if ident in lg.natural_key else changed[f"{ident}_db"]
    if lg.versioned:
        updated[EXPECTED] = changed["version_db"]
    store(conn, lg, m.loc[diff.new, list(lg.fields)], updated, diff.compare, staged=staged, progress=progress,
          span=span)
    if lg.key == "facilities":
        _meal_point_own_community(conn, m.loc[diff.new | diff.changed])
    return _audit_sample(lg, m, diff)


def _meal_point_own_community(conn: Connection, rows: pd.DataFrame) -> None:
    """A meal point always serves its own community (the coverage rule): register it when missing."""
    meal = rows[(rows["kind"] == "meal_point") & rows["community_code"].notna()]
    if meal.empty:
        return
    ids = dict(conn.execute(select(Facility.code, Facility.id).where(Facility.code.in_(list(meal["code"])))).all())
    have = set(conn.execute(select(MealPointCommunity.facility_id, MealPointCommunity.community_code)
                            .where(MealPointCommunity.facility_id.in_(list(ids.values())))).all())
    missing = [{"facility_id": ids[c], "community_code": cc} for c, cc in zip(meal["code"], meal["community_code"])
               if (ids[c], cc) not in have]
    if missing:
        conn.execute(insert(MealPointCommunity), missing)


def _key_text(lg: Ledger, row) -> str:
    return "|".join(str(_plain(row[k])) for k in lg.natural_key)


def _audit_sample(lg: Ledger, m: pd.DataFrame, diff: Diff) -> dict:
    added = [_key_text(lg, r) for _, r in m.loc[diff.new].head(AUDIT_SAMPLE).iterrows()]
    updated = {}
    for _, r in m.loc[diff.changed].head(AUDIT_SAMPLE).iterrows():
        updated[_key_text(lg, r)] = {
            f: {"before": _jsonable(r[f"{f}_db"]), "after": _jsonable(r[f])}
            for f in diff.compare if not _same(pd.Series([r[f]]), pd.Series([r[f"{f}_db"]])).iloc[0]}
    return {"added_keys": added, "updated": updated}


def _jsonable(v):
    v = _plain(v)
    return v.isoformat() if isinstance(v, (date, datetime)) else v


# --- import register --------------------------------------------------------------------------------------------

def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def register_batch(conn: Connection, principal: Principal, ledger: str, file_name: str, content: bytes, digest: str,
                   counts: dict[str, int]) -> int:
    """One import_batches row; the original bytes kept once per SHA-256 in import_files."""
    now = datetime.now().replace(microsecond=0)
    if conn.execute(select(ImportFile.sha256).where(ImportFile.sha256 == digest)).first() is None:
        # the same bytes may be registered by an import of another ledger at this moment (each holds only its own
        # ledger's lock): keep whichever copy arrives first, never fail on it
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert
        conn.execute(upsert(ImportFile).values(sha256=digest, file_name=file_name[:255], content=content, stored_at=now)
                     .on_conflict_do_nothing(index_elements=["sha256"]))
    return int(conn.execute(insert(ImportBatch).values(
        ledger=ledger, file_name=file_name[:255], sha256=digest, size_bytes=len(content),
        imported_by=principal.username, imported_at=now, **counts)).inserted_primary_key[0])


def _visible_batches(stmt, principal: Principal):
    """A 街道 account sees the imports of its own subdistrict's accounts only."""
    if principal.role == "street":
        users = select(User.username).where(User.subdistrict_code == principal.subdistrict_code)
        stmt = stmt.where(ImportBatch.imported_by.in_(users) | (ImportBatch.imported_by == principal.username))
    return stmt


def import_history(engine: Engine, principal: Principal, limit: int = 200) -> pd.DataFrame:
    """The import register, newest first."""
    b = ImportBatch.__table__
    stmt = _visible_batches(select(b.c.id, b.c.ledger, b.c.file_name, b.c.imported_by, b.c.imported_at, b.c.rows_total,
                                   b.c.rows_added, b.c.rows_updated, b.c.rows_unchanged, b.c.size_bytes, b.c.sha256),
                            principal).order_by(b.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def stored_file(engine: Engine, principal: Principal, batch_id: int) -> tuple[str, bytes] | None:
    """(file name, original bytes) of an import the principal may see, or None."""
    stmt = _visible_batches(select(ImportBatch.file_name, ImportFile.content)
                            .join(ImportFile, ImportFile.sha256 == ImportBatch.sha256)
                            .where(ImportBatch.id == int(batch_id)), principal)
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return (row[0], bytes(row[1])) if row else None
