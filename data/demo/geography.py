"""The demo district's geography and population: subdistricts with their schematic boundaries, communities with
their older population (from the files in geo/), and each community's nearest neighbours."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from data.demo.common import OLD_TOWN

GEO_DIR = Path(__file__).resolve().parents[2] / "geo"
UNIT_WORD = {"社区居委会": "社区", "家委会": "家委会", "村委会": "村"}


class GeographyMixin:
    """Geography and population (first: every other domain places its rows in these communities)."""

    def _geography(self):
        try:
            sd = pd.read_csv(GEO_DIR / "subdistricts.csv", dtype={"code": str, "code_mca": str})
            cm = pd.read_csv(GEO_DIR / "communities_schematic.csv", dtype={"code": str, "subdistrict_code": str})
            gj = json.loads((GEO_DIR / "subdistricts_schematic.geojson").read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise RuntimeError(f"缺少地理文件 {exc.filename}，无法生成演示数据（应由 geo/ 目录提供）。") from exc
        geoms = {f["properties"]["code"]: f["geometry"] for f in gj["features"]}
        sd = sd.sort_values("code").reset_index(drop=True)
        cm = cm.sort_values("code").reset_index(drop=True)
        self.sd_codes = list(sd["code"])
        self.sd_name = dict(zip(sd["code"], sd["name"]))
        for r in sd.itertuples():
            if r.code not in geoms:
                raise RuntimeError(f"示意边界文件中缺少街道 {r.code}（{r.name}）。")
            self.add("subdistricts", code=r.code, name=r.name, code_mca=r.code_mca, label_lon=float(r.label_lon),
                     label_lat=float(r.label_lat), boundary_geojson=geoms[r.code], boundary_official=False)

        rng = self.rng
        n = len(cm)
        self.n = n
        self.code = list(cm["code"])
        self.cname = list(cm["name"])
        self.short = list(cm["short_name"])
        self.kind = list(cm["kind"])
        self.csd = list(cm["subdistrict_code"])
        self.lon = cm["lon"].astype(float).to_numpy()
        self.lat = cm["lat"].astype(float).to_numpy()
        self.idx = {c: i for i, c in enumerate(self.code)}
        kind = np.array(self.kind)
        old = np.array([s in OLD_TOWN for s in self.csd])
        base = np.where(kind == "社区居委会", 420.0, np.where(kind == "家委会", 190.0, 300.0))
        raw = base * np.where(old, 1.15, 0.95) * rng.lognormal(0.0, 0.28, n)
        self.pop60 = np.maximum(np.round(raw * 60_000 / raw.sum()), 60).astype(int)
        self.pop80 = np.round(self.pop60 * rng.uniform(0.12, 0.19, n) * np.where(old, 1.08, 1.0)).astype(int)
        self.alone = np.round(self.pop60 * rng.uniform(0.035, 0.07, n)).astype(int) + 3
        self.place = [f"{self.sd_name[s]}{sh}{UNIT_WORD[k]}" for s, sh, k in zip(self.csd, self.short, self.kind)]
        for i in range(n):
            self.add("communities", code=self.code[i], name=self.cname[i], short_name=self.short[i], kind=self.kind[i],
                     subdistrict_code=self.csd[i], lon=float(self.lon[i]), lat=float(self.lat[i]),
                     pop_60=int(self.pop60[i]), pop_80=int(self.pop80[i]), living_alone=int(self.alone[i]))
        # nearest communities of the same subdistrict (approximate metres)
        x = self.lon * 111_320 * math.cos(math.radians(28.64))
        y = self.lat * 110_540
        self.near: list[list[int]] = []
        for i in range(n):
            same = [j for j in range(n) if j != i and self.csd[j] == self.csd[i]]
            same.sort(key=lambda j: (x[j] - x[i]) ** 2 + (y[j] - y[i]) ** 2)
            self.near.append(same)
        self.by_sd = {s: [i for i in range(n) if self.csd[i] == s] for s in self.sd_codes}
        self.villages = [i for i in range(n) if self.kind[i] == "村委会"]
