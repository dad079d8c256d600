"""Writing replicas of the demo district: replica k's rows (ids offset, codes and names suffixed, coordinates
shifted, as data.demo.tables declares per table), the fictitious ID numbers, and PostgreSQL's sequences."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from data.db import models as m
from data.demo.common import DistrictBase
from data.demo.tables import SPECS, TABLE_ORDER, _Spec
from data.security.idcard import make_id

FAKE_AREA = "999999"  # no such area code exists: fictitious ID numbers can never be real ones
REPLICA_DX, REPLICA_DY, REPLICA_COLS = 0.10, 0.09, 10


def _shift_geometry(geom: dict, dx: float, dy: float) -> dict:
    def move(c):
        if isinstance(c[0], (int, float)):
            return [round(c[0] + dx, 6), round(c[1] + dy, 6)]
        return [move(x) for x in c]
    return {"type": geom["type"], "coordinates": move(geom["coordinates"])}


class _IdAllocator:
    """Unique fictitious ID numbers across all replicas: area 999999 + birth date + sequence + check digit."""

    def __init__(self):
        self.used: dict[tuple[date, bool], int] = {}

    def __call__(self, born: date, male: bool) -> str:
        key = (born, male)
        n = self.used.get(key, 0)
        self.used[key] = n + 1
        seq = 2 * n + 1 if male else 2 * n + 2  # odd = male, even = female (GB 11643)
        if seq > 999:
            raise RuntimeError(f"演示数据倍数过大：出生日期 {born} 的虚构身份证顺序码已用尽（最多约 ×249）。")
        return make_id(FAKE_AREA, born, seq)


class _Replicator:
    """Turn the generated district into replica k's rows (ids offset, codes/names suffixed, coordinates shifted)."""

    def __init__(self, district: DistrictBase):
        self.d = district
        self.counts = {t: len(rows) for t, rows in district.t.items()}
        self.alloc = _IdAllocator()

    def rows(self, k: int, ids: list[str]):
        dx, dy = (k % REPLICA_COLS) * REPLICA_DX, (k // REPLICA_COLS) * REPLICA_DY
        code_sfx, name_sfx = (f"-{k}", f"（副本{k}）") if k else ("", "")
        for table in TABLE_ORDER:
            spec, src = SPECS[table], self.d.t[table]
            id_off = k * self.counts[table]
            fk_off = {c: k * self.counts[ref] for c, ref in spec.fks.items()}
            out = []
            for row in src:
                r = dict(row)
                if k:
                    if spec.has_id:
                        r["id"] += id_off
                    for c, off in fk_off.items():
                        if r[c] is not None:
                            r[c] += off
                    for c in spec.codes:
                        if r[c] is not None:
                            r[c] = r[c] + code_sfx
                    for c in spec.names:
                        r[c] = r[c] + name_sfx
                    for lon_c, lat_c in spec.coords:
                        r[lon_c] = round(r[lon_c] + dx, 6)
                        r[lat_c] = round(r[lat_c] + dy, 6)
                for c in spec.id_numbers:
                    if r[c] is not None:
                        r[c] = ids[r[c]]
                if table == "subdistricts":
                    shifted = _shift_geometry(r["boundary_geojson"], dx, dy)
                    r["boundary_geojson"] = json.dumps(shifted, ensure_ascii=False)
                out.append(r)
            yield table, out

    def id_numbers(self) -> list[str]:
        return [self.alloc(born, male) for born, male in self.d.persons]


def _reset_sequences(conn) -> None:
    """PostgreSQL: move every serial sequence past the explicit ids written by the bulk insert."""
    for table in list(SPECS.values()) + [_Spec(m.Target)]:
        t = table.model.__table__
        if "id" not in t.c:
            continue
        seq = func.pg_get_serial_sequence(t.name, "id")
        top = select(func.max(t.c.id)).scalar_subquery()
        conn.execute(select(func.setval(seq, func.coalesce(top, 1), top.is_not(None))))
