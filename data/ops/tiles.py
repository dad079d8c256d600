"""The bureau's own map tiles: a tile-server address template, or a local tile folder / MBTiles file that the app
serves itself (components/offline.py adds the route). Checks give Chinese reasons; reading a tile never leaves
the configured folder or file.

    folder:   <root>/<z>/<x>/<y>.png (or .jpg / .jpeg / .webp) — the usual "XYZ" export of a tile cutter
    MBTiles:  one SQLite file, table `tiles` (zoom_level, tile_column, tile_row in TMS order, tile_data)
"""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

TILE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
ALLOWED_PLACEHOLDERS = {"z", "x", "y", "-y"}


class TileSourceError(ValueError):
    """A tile source that cannot be used; the message is Chinese."""


def check_url_template(url: str) -> str:
    """The template stripped, or TileSourceError: an http(s) address with {z}, {x} and {y} and nothing else in braces."""
    url = (url or "").strip()
    if not url:
        raise TileSourceError("请填写瓦片服务地址模板。")
    parts = urlsplit(url.replace("{", "").replace("}", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TileSourceError("瓦片服务地址须以 http:// 或 https:// 开头，并写明服务器地址。")
    if any(c in url for c in "\"'<>` \\"):
        raise TileSourceError("瓦片服务地址中不能有空格、引号、尖括号或反斜杠。")
    names = _PLACEHOLDER.findall(url)
    unknown = sorted(set(names) - ALLOWED_PLACEHOLDERS)
    if unknown:
        raise TileSourceError("瓦片服务地址只能使用 {z}、{x}、{y}（或 {-y}）占位符，不支持："
                              + "、".join("{" + n + "}" for n in unknown) + "。")
    missing = [p for p in ("z", "x") if p not in names] + ([] if {"y", "-y"} & set(names) else ["y"])
    if missing:
        raise TileSourceError("瓦片服务地址须包含 {z}（级别）、{x}（列号）和 {y}（行号）占位符，缺少："
                              + "、".join("{" + n + "}" for n in missing) + "。")
    return url


@dataclass(frozen=True)
class TileSource:
    """A checked local tile source: a folder of z/x/y images or an MBTiles file."""
    path: str
    kind: str              # "folder" or "mbtiles"
    min_zoom: int
    max_zoom: int
    token: str             # changes when the source changes: part of the tile address (no stale browser cache)

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """One tile's bytes (None: no such tile)."""
        if z < 0 or x < 0 or y < 0 or z > 30 or x >= 2 ** z or y >= 2 ** z:
            return None
        if self.kind == "mbtiles":
            with _open_mbtiles(self.path) as conn:
                row = conn.execute("SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                                   (z, x, 2 ** z - 1 - y)).fetchone()
            return bytes(row[0]) if row and row[0] else None
        root = os.path.realpath(self.path)
        for ext in TILE_EXTENSIONS:
            p = os.path.realpath(os.path.join(root, str(z), str(x), f"{y}{ext}"))
            if p.startswith(root + os.sep) and os.path.isfile(p):
                with open(p, "rb") as fh:
                    return fh.read()
        return None


def content_type(data: bytes) -> str:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


class _open_mbtiles:
    def __init__(self, path: str):
        self.conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.close()


def open_source(path: str) -> TileSource:
    """The tile source at `path` (a folder or an .mbtiles file), or TileSourceError saying why it cannot be used."""
    raw = (path or "").strip().strip('"')
    if not raw:
        raise TileSourceError("请填写本机瓦片文件夹或 MBTiles 文件的路径。")
    p = Path(raw).expanduser()
    if not p.is_absolute():
        raise TileSourceError("请填写完整路径（绝对路径），例如 /data/tiles 或 D:\\瓦片\\西湖区.mbtiles。")
    if not p.exists():
        raise TileSourceError(f"找不到“{raw}”：请确认服务器上有这个文件夹或文件，且本系统有读取权限。")
    if p.is_dir():
        zooms = sorted(int(d.name) for d in p.iterdir() if d.is_dir() and d.name.isdigit())
        has_tile = any(f.suffix.lower() in TILE_EXTENSIONS
                       for z in zooms[:1] for xdir in (p / str(z)).iterdir() if xdir.is_dir()
                       for f in xdir.iterdir())
        if not zooms or not has_tile:
            raise TileSourceError("该文件夹中没有找到瓦片：应为“级别/列号/行号.png”的目录结构（如 12/3412/1710.png）。")
        stamp = f"{p.resolve()}|{zooms}|{p.stat().st_mtime_ns}"
        return TileSource(str(p.resolve()), "folder", zooms[0], zooms[-1], _token(stamp))
    if p.suffix.lower() != ".mbtiles":
        raise TileSourceError("请填写瓦片文件夹，或扩展名为 .mbtiles 的瓦片文件。")
    try:
        with _open_mbtiles(str(p)) as conn:
            lo, hi = conn.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
    except sqlite3.Error:
        raise TileSourceError("无法读取该 MBTiles 文件：文件损坏，或不是 MBTiles 格式（缺少瓦片表）。") from None
    if lo is None:
        raise TileSourceError("该 MBTiles 文件中没有瓦片。")
    stamp = f"{p.resolve()}|{p.stat().st_size}|{p.stat().st_mtime_ns}"
    return TileSource(str(p.resolve()), "mbtiles", int(lo), int(hi), _token(stamp))


def _token(stamp: str) -> str:
    return hashlib.sha256(stamp.encode()).hexdigest()[:12]
