"""Vendored front-end assets for the maps: what lives under static/vendor/ and how to fetch it again.

The intranet has no internet, so every JavaScript, CSS, font and image file that folium, branca and
streamlit-folium would load from a CDN is committed under ``static/vendor/`` and served by Streamlit's
static file serving (``server.enableStaticServing = true``) at ``<baseUrlPath>/app/static/vendor/...``.
``components/offline.py`` points folium at these files.

    .venv/bin/python -m components.vendor --fetch   # re-download the exact versions below (npm registry, `npm pack`)
    .venv/bin/python -m components.vendor --check   # every file in MANIFEST.json present with the same sha256

``--fetch`` needs npm and the npm registry (a developer machine), never the intranet server. It rewrites
``static/vendor/`` from scratch: only the dist files listed here plus each package's licence, a few files
generated here (see ``GENERATED``), ``MANIFEST.json`` (path, bytes, sha256) and ``README.md``.

Versions are the ones folium 0.20.0 / branca 0.8.2 / streamlit-folium 0.27.4 reference (see
``folium.folium.Map.default_js``); when those pins change, update ``PACKAGES`` and the CDN map in
``components/offline.py`` together and run ``--fetch``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR_DIR = ROOT / "static" / "vendor"


@dataclass(frozen=True)
class Package:
    """One npm package: which of its files to copy (path inside the tarball's ``package/`` → path under ``dest``)."""

    name: str
    version: str
    licence: str
    dest: str
    files: dict[str, str]
    used_by: str
    note: str = ""
    # url() targets inside copied CSS that are deliberately not vendored (fallback font formats).
    omitted: tuple[str, ...] = field(default=())


PACKAGES: list[Package] = [
    Package(
        "leaflet", "1.9.3", "BSD-2-Clause", "leaflet-1.9.3",
        {
            "dist/leaflet.js": "leaflet.js",
            "dist/leaflet.css": "leaflet.css",
            # leaflet.css references these relative to itself; Leaflet also finds the default marker
            # icon through the CSS class .leaflet-default-icon-path, so images/ must sit next to it.
            "dist/images/layers.png": "images/layers.png",
            "dist/images/layers-2x.png": "images/layers-2x.png",
            "dist/images/marker-icon.png": "images/marker-icon.png",
            "dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
            "dist/images/marker-shadow.png": "images/marker-shadow.png",
            "LICENSE": "LICENSE",
        },
        "folium.Map",
    ),
    Package(
        "jquery", "3.7.1", "MIT", "jquery-3.7.1",
        {"dist/jquery.min.js": "jquery.min.js", "LICENSE.txt": "LICENSE.txt"},
        "folium.Map",
    ),
    Package(
        "bootstrap", "5.2.2", "MIT", "bootstrap-5.2.2",
        {
            "dist/css/bootstrap.min.css": "css/bootstrap.min.css",
            "dist/js/bootstrap.bundle.min.js": "js/bootstrap.bundle.min.js",
            "LICENSE": "LICENSE",
        },
        "folium.Map",
    ),
    Package(
        "bootstrap", "3.4.1", "MIT", "bootstrap-glyphicons-3.4.1",
        {
            "dist/fonts/glyphicons-halflings-regular.woff2": "fonts/glyphicons-halflings-regular.woff2",
            "dist/fonts/glyphicons-halflings-regular.woff": "fonts/glyphicons-halflings-regular.woff",
            "LICENSE": "LICENSE",
        },
        "folium.Map (folium.Icon's default prefix is 'glyphicon')",
        note="only the Glyphicons part: css/bootstrap-glyphicons.css is cut out of dist/css/bootstrap.css",
    ),
    Package(
        "@fortawesome/fontawesome-free", "6.2.0", "CC-BY-4.0 (icons), OFL-1.1 (fonts), MIT (code)",
        "fontawesome-free-6.2.0",
        {
            "css/all.min.css": "css/all.min.css",
            "webfonts/fa-solid-900.woff2": "webfonts/fa-solid-900.woff2",
            "webfonts/fa-regular-400.woff2": "webfonts/fa-regular-400.woff2",
            "webfonts/fa-brands-400.woff2": "webfonts/fa-brands-400.woff2",
            "webfonts/fa-v4compatibility.woff2": "webfonts/fa-v4compatibility.woff2",
            "LICENSE.txt": "LICENSE.txt",
        },
        "folium.Map (awesome-marker icons with prefix='fa')",
        note="woff2 only: every browser that runs Streamlit picks woff2 before the .ttf fallback",
        omitted=(
            "../webfonts/fa-solid-900.ttf",
            "../webfonts/fa-regular-400.ttf",
            "../webfonts/fa-brands-400.ttf",
            "../webfonts/fa-v4compatibility.ttf",
        ),
    ),
    Package(
        "leaflet.awesome-markers", "2.0.5", "MIT", "leaflet.awesome-markers-2.0.5",
        {
            "dist/leaflet.awesome-markers.js": "leaflet.awesome-markers.js",
            "dist/leaflet.awesome-markers.css": "leaflet.awesome-markers.css",
            "dist/images/markers-soft.png": "images/markers-soft.png",
            "dist/images/markers-soft@2x.png": "images/markers-soft@2x.png",
            "dist/images/markers-shadow.png": "images/markers-shadow.png",
            "dist/images/markers-shadow@2x.png": "images/markers-shadow@2x.png",
            "LICENSE": "LICENSE",
        },
        "folium.Map / folium.Icon",
        note="folium links 2.0.2 on cdnjs; npm has 2.0.4/2.0.5 whose dist/ is the same code (2.0.2 is not on npm)",
    ),
    Package(
        "leaflet.markercluster", "1.1.0", "MIT", "leaflet.markercluster-1.1.0",
        {
            "dist/leaflet.markercluster.js": "leaflet.markercluster.js",
            "dist/MarkerCluster.css": "MarkerCluster.css",
            "dist/MarkerCluster.Default.css": "MarkerCluster.Default.css",
            "MIT-LICENCE.txt": "MIT-LICENCE.txt",
        },
        "folium.plugins.MarkerCluster, FastMarkerCluster",
    ),
    Package(
        "d3", "3.5.5", "BSD-3-Clause", "d3-3.5.5",
        {"d3.min.js": "d3.min.js", "LICENSE": "LICENSE"},
        "branca.colormap legends (LinearColormap, StepColormap) — the template uses the d3 v3 API",
    ),
    Package(
        "leaflet.fullscreen", "3.0.0", "MIT", "leaflet.fullscreen-3.0.0",
        {
            "Control.FullScreen.js": "Control.FullScreen.js",
            "Control.FullScreen.css": "Control.FullScreen.css",
            "icon-fullscreen.svg": "icon-fullscreen.svg",
            "LICENSE": "LICENSE",
        },
        "folium.plugins.Fullscreen",
        note="folium links Control.FullScreen.min.js; the npm package ships the unminified file only",
    ),
    Package(
        "leaflet.featuregroup.subgroup", "1.0.2", "BSD-2-Clause", "leaflet.featuregroup.subgroup-1.0.2",
        {"dist/leaflet.featuregroup.subgroup.js": "leaflet.featuregroup.subgroup.js", "LICENSE": "LICENSE"},
        "folium.plugins.FeatureGroupSubGroup",
    ),
    Package(
        "leaflet.heat", "0.2.0", "BSD-2-Clause", "folium-0.20.0",
        {"LICENSE": "LICENSE-leaflet.heat"},
        "folium.plugins.HeatMap",
        note="licence only; the script is folium's own patched copy (see GENERATED)",
    ),
]

# Files that are not a package's dist file as-is. Each is produced by a function below.
GENERATED = {
    "folium-0.20.0/leaflet.awesome.rotate.min.css": "written here: .fa-rotate-N rules for folium.Icon(angle=N)",
    "folium-0.20.0/leaflet_heat.min.js": "copied from the installed folium 0.20.0 wheel (folium/templates/)",
    "bootstrap-glyphicons-3.4.1/css/bootstrap-glyphicons.css": "Glyphicons rules cut out of bootstrap 3.4.1 dist/css/bootstrap.css",
}


def rotate_css() -> str:
    """CSS for folium.Icon(angle=N): folium adds the class ``fa-rotate-N`` to the icon's <i>."""
    rules = [f".awesome-marker i.fa-rotate-{n}{{transform:rotate({n}deg)}}" for n in range(360)]
    return "/* folium.Icon(angle=N) rotation, one rule per whole degree (written for this project) */\n" + "".join(
        rules
    ) + "\n"


def glyphicons_css(bootstrap3_css: str) -> str:
    """The Glyphicons part of Bootstrap 3's CSS (the @font-face, .glyphicon and every .glyphicon-*:before rule).

    The font is served as woff2 + woff only (the formats every current browser takes).
    """
    banner = bootstrap3_css[: bootstrap3_css.index("*/") + 2]
    start = bootstrap3_css.index('@font-face {\n  font-family: "Glyphicons Halflings";')
    end = bootstrap3_css.index("\n* {", start)
    body = bootstrap3_css[start:end].strip() + "\n"
    body = re.sub(
        r"(@font-face \{\n  font-family: \"Glyphicons Halflings\";\n)(?:  src: [^\n]*\n)+",
        r'\1  src: url("../fonts/glyphicons-halflings-regular.woff2") format("woff2"), '
        r'url("../fonts/glyphicons-halflings-regular.woff") format("woff");\n',
        body,
        count=1,
    )
    if "glyphicon-zoom-out:before" not in body or "Glyphicons Halflings" not in body:
        raise RuntimeError("bootstrap 3 CSS layout changed: glyphicons section not found")
    return banner + "\n/* Glyphicons only, cut out of bootstrap 3.4.1 dist/css/bootstrap.css */\n" + body


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _npm_pack(spec: str, dest: Path) -> Path:
    """Download one exact package version from the npm registry with the ordinary client."""
    out = subprocess.run(
        ["npm", "pack", spec, "--pack-destination", str(dest), "--silent"],
        check=True, capture_output=True, text=True, timeout=300,
    ).stdout.strip().splitlines()
    return dest / out[-1]


def _extract(tgz: Path, dest: Path) -> Path:
    with tarfile.open(tgz) as tar:
        tar.extractall(dest, filter="data")
    return dest / "package"


def fetch(vendor_dir: Path = VENDOR_DIR) -> None:
    import folium

    if folium.__version__ != "0.20.0":
        raise SystemExit(f"folium {folium.__version__} is installed; PACKAGES is written for folium 0.20.0")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        staging = tmp_path / "vendor"
        staging.mkdir()
        for pkg in PACKAGES:
            spec = f"{pkg.name}@{pkg.version}"
            print(f"npm pack {spec}")
            src = _extract(_npm_pack(spec, tmp_path), tmp_path / f"x{PACKAGES.index(pkg)}")
            for inner, target in pkg.files.items():
                out = staging / pkg.dest / target
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src / inner, out)
            if pkg.dest == "bootstrap-glyphicons-3.4.1":
                css = glyphicons_css((src / "dist/css/bootstrap.css").read_text(encoding="utf-8"))
                out = staging / "bootstrap-glyphicons-3.4.1/css/bootstrap-glyphicons.css"
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(css, encoding="utf-8")
        folium_dir = staging / "folium-0.20.0"
        folium_dir.mkdir(exist_ok=True)
        (folium_dir / "leaflet.awesome.rotate.min.css").write_text(rotate_css(), encoding="utf-8")
        shutil.copyfile(Path(folium.__file__).parent / "templates" / "leaflet_heat.min.js",
                        folium_dir / "leaflet_heat.min.js")
        (staging / "README.md").write_text(readme(staging), encoding="utf-8")
        (staging / "MANIFEST.json").write_text(json.dumps(manifest(staging), indent=1) + "\n", encoding="utf-8")
        vendor_dir.mkdir(parents=True, exist_ok=True)
        for child in vendor_dir.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        for child in staging.iterdir():
            shutil.move(str(child), vendor_dir / child.name)
    print(f"{vendor_dir}: {sum(f['bytes'] for f in manifest(vendor_dir)['files'])} bytes")


def _files(vendor_dir: Path) -> list[Path]:
    skip = {"MANIFEST.json", "README.md"}
    return sorted(p for p in vendor_dir.rglob("*") if p.is_file() and p.relative_to(vendor_dir).as_posix() not in skip)


def manifest(vendor_dir: Path) -> dict:
    return {
        "files": [
            {"path": p.relative_to(vendor_dir).as_posix(), "bytes": p.stat().st_size, "sha256": _sha256(p)}
            for p in _files(vendor_dir)
        ]
    }


def _dir_bytes(vendor_dir: Path, dest: str) -> int:
    return sum(p.stat().st_size for p in (vendor_dir / dest).rglob("*") if p.is_file())


def readme(vendor_dir: Path) -> str:
    lines = [
        "# static/vendor — front-end files for offline maps",
        "",
        "Served by Streamlit at `<baseUrlPath>/app/static/vendor/...`; `components/offline.py` points folium,",
        "branca and streamlit-folium at them so a map makes no request outside the app's own server.",
        "Do not edit by hand: `.venv/bin/python -m components.vendor --fetch` rebuilds this folder from the",
        "npm registry (`npm pack`, exact versions) and `--check` verifies it against `MANIFEST.json`.",
        "",
        "| folder | npm package | version | licence | size | used by | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for pkg in PACKAGES:
        size = _dir_bytes(vendor_dir, pkg.dest) if pkg.dest != "folium-0.20.0" else 0
        size_txt = f"{size / 1024:.0f} KiB" if size else "—"
        lines.append(
            f"| `{pkg.dest}/` | `{pkg.name}` | {pkg.version} | {pkg.licence} | {size_txt} | {pkg.used_by} | {pkg.note} |"
        )
    lines.append(
        f"| `folium-0.20.0/` | folium (PyPI) | 0.20.0 | MIT (folium), BSD-2-Clause (Leaflet.heat) | "
        f"{_dir_bytes(vendor_dir, 'folium-0.20.0') / 1024:.0f} KiB | folium.Icon(angle=…), folium.plugins.HeatMap | "
        "see generated files |"
    )
    lines += ["", "Generated files (not a package's file as-is):", ""]
    lines += [f"- `{path}`: {how}" for path, how in GENERATED.items()]
    total = sum(p.stat().st_size for p in _files(vendor_dir))
    lines += ["", f"Total: {total / 1024:.0f} KiB in {len(_files(vendor_dir))} files.", ""]
    return "\n".join(lines)


def check(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """Differences between static/vendor/ and MANIFEST.json (empty when intact)."""
    recorded = {f["path"]: f["sha256"] for f in json.loads((vendor_dir / "MANIFEST.json").read_text())["files"]}
    actual = {p.relative_to(vendor_dir).as_posix(): _sha256(p) for p in _files(vendor_dir)}
    problems = [f"missing: {p}" for p in sorted(recorded.keys() - actual.keys())]
    problems += [f"not in MANIFEST.json: {p}" for p in sorted(actual.keys() - recorded.keys())]
    problems += [f"changed: {p}" for p in sorted(recorded.keys() & actual.keys()) if recorded[p] != actual[p]]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.vendor", description="地图前端依赖（static/vendor/）")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--fetch", action="store_true", help="从 npm 仓库按固定版本重新下载到 static/vendor/")
    group.add_argument("--check", action="store_true", help="核对 static/vendor/ 与 MANIFEST.json")
    args = parser.parse_args(argv)
    if args.fetch:
        fetch()
        return 0
    problems = check()
    for p in problems:
        print(p)
    print("static/vendor/ 与 MANIFEST.json 一致" if not problems else f"{len(problems)} 处不一致")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
