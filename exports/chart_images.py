"""Chart images (PNG bytes) rendered offline with matplotlib and the Noto Sans CJK font, for print and for slides.

Pure functions: data in, PNG bytes out; no Streamlit. Sizes: "print" fits an A4 page's text width (16 cm),
"slide" fills a 1920×1080 slide below its title. Themes: "light" and "dark" (for the projector's dark mode).
"""
from __future__ import annotations

import io
import warnings
from functools import lru_cache
from typing import Sequence

CJK_FONT_NAMES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
                  "Microsoft YaHei", "SimHei")
FONT_MISSING_MESSAGE = "未找到中文字体（Noto Sans CJK），图片中的中文可能显示为方框；请安装 fonts-noto-cjk。"
SCHEMATIC_NOTE = "示意边界，非法定界线"

# (width inches, height inches, dpi): print → 16 cm × 8 cm at 200 dpi; slide → ~1230 × 560 px, the size the 圆桌会
# screen shows it at (components/slides.py: at most 560 px high beside the notes), so its 22 pt axis text is ~30 px on
# the projected 1920×1080 canvas (≥ 24 px, tests/test_roundtable_browser.py);
# deck → the chart beside a deck slide's numbers at its printed size, text 18 pt (deck_map: the map there)
SIZES = {"print": (6.3, 3.15, 200), "slide": (12.3, 5.6, 100), "slide_map": (10.0, 8.0, 100),
         "deck": (7.4, 5.2, 150), "deck_map": (6.2, 5.6, 150)}
FONT_PT = {"print": 9, "slide": 22, "deck": 18, "deck_map": 18}
THEMES = {
    "light": {"bg": "#ffffff", "fg": "#1f2933", "grid": "#d9dee3", "bars": ["#1f6fb2", "#e07b39", "#3a9d5d", "#c44e52",
                                                                          "#8172b2", "#937860"],
              "edge": "#ffffff", "missing": "#e5e7eb", "cmap": "Blues"},
    "dark": {"bg": "#111827", "fg": "#f3f4f6", "grid": "#374151", "bars": ["#60a5fa", "#fb923c", "#4ade80", "#f87171",
                                                                         "#c084fc", "#d6b48c"],
             "edge": "#111827", "missing": "#374151", "cmap": "YlGnBu"},
}


@lru_cache(maxsize=1)
def _pyplot():
    """matplotlib.pyplot on the Agg backend, imported on first use: importing it costs ~0.7 s, which a page that
    only offers a download (周度研判's Word file) or finds its slide image cached (圆桌会) should not pay."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed CJK font, registered with matplotlib; None (with a warning) when missing."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONT_NAMES:
        if name in names:
            return name
    for path in font_manager.findSystemFonts():
        if "NotoSansCJK" in path or "NotoSansSC" in path:
            font_manager.fontManager.addfont(path)
            for name in CJK_FONT_NAMES:
                if name in {f.name for f in font_manager.fontManager.ttflist}:
                    return name
    warnings.warn(FONT_MISSING_MESSAGE, stacklevel=2)
    return None


def font_available() -> bool:
    return cjk_font() is not None


def _figure(size: str, theme: str):
    w, h, dpi = SIZES[size]
    t = THEMES[theme]
    family = cjk_font()
    rc = {"font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"], "axes.unicode_minus": False,
          "text.color": t["fg"], "axes.labelcolor": t["fg"], "xtick.color": t["fg"], "ytick.color": t["fg"],
          "axes.edgecolor": t["grid"], "font.size": FONT_PT.get(size, 20)}
    with _pyplot().rc_context(rc):
        fig, ax = _pyplot().subplots(figsize=(w, h), dpi=dpi)
    fig.patch.set_facecolor(t["bg"])
    ax.set_facecolor(t["bg"])
    return fig, ax, rc


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor=fig.get_facecolor(), bbox_inches="tight", pad_inches=0.15)
    _pyplot().close(fig)
    return buf.getvalue()


def bar_chart(categories: Sequence[str], values: Sequence[float], *, title: str = "", unit: str = "",
              labels: Sequence[str] | None = None, size: str = "print", theme: str = "light",
              horizontal: bool = False, colour_index: int = 0, target: float | None = None) -> bytes:
    """One series of bars with its value written on each bar (labels override the written text, e.g. "<3")."""
    fig, ax, rc = _figure(size, theme)
    t = THEMES[theme]
    with _pyplot().rc_context(rc):
        vals = [0 if v is None else float(v) for v in values]
        pos = range(len(vals))
        colour = t["bars"][colour_index % len(t["bars"])]
        bars = (ax.barh(list(pos), vals, color=colour) if horizontal else ax.bar(list(pos), vals, color=colour))
        texts = labels if labels is not None else [_fmt(v) for v in vals]
        for bar, text in zip(bars, texts):
            if horizontal:
                ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {text}", va="center", color=t["fg"])
            else:
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), text, ha="center", va="bottom",
                        color=t["fg"], fontsize=rc["font.size"] * (0.8 if len(vals) > 6 else 1))
        if horizontal:
            ax.set_yticks(list(pos), _wrapped(categories, 0, narrow=True) if size == "deck" else list(categories))
            ax.invert_yaxis()
            ax.set_xlabel(unit)
            if target is not None:
                ax.axvline(target, color=t["bars"][3], linestyle="--", linewidth=1.5)
        else:
            ax.set_xticks(list(pos), _wrapped(categories, len(vals), narrow=size in ("deck", "print", "slide")))
            _unit(ax, unit)
            if target is not None:
                ax.axhline(target, color=t["bars"][3], linestyle="--", linewidth=1.5)
        _finish(ax, title, t, horizontal)
    return _png(fig)


def grouped_bars(categories: Sequence[str], series: dict[str, Sequence[float]], *, title: str = "", unit: str = "",
                 size: str = "print", theme: str = "light") -> bytes:
    """Several series side by side per category (e.g. this week vs last week, found vs rectified)."""
    fig, ax, rc = _figure(size, theme)
    t = THEMES[theme]
    with _pyplot().rc_context(rc):
        n = max(len(series), 1)
        width = 0.8 / n
        for i, (name, vals) in enumerate(series.items()):
            xs = [j + (i - (n - 1) / 2) * width for j in range(len(categories))]
            bars = ax.bar(xs, [0 if v is None else float(v) for v in vals], width, label=name,
                          color=t["bars"][i % len(t["bars"])])
            for bar, v in zip(bars, vals):
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), _fmt(v), ha="center", va="bottom",
                        color=t["fg"], fontsize=rc["font.size"] * 0.8)
        ax.set_xticks(range(len(categories)),
                      _wrapped(categories, len(categories), narrow=size in ("deck", "print", "slide")))
        _unit(ax, unit)
        leg = ax.legend(frameon=False)
        for text in leg.get_texts():
            text.set_color(t["fg"])
        _finish(ax, title, t, False)
    return _png(fig)


def _wrapped(categories: Sequence[str], n: int, narrow: bool = False) -> list[str]:
    """Axis labels stay horizontal (rotated Chinese reads badly): a long label is broken into lines instead."""
    width = (8 if n == 0 else 2 if n > 6 else 4) if narrow else (4 if n > 6 else 6)
    return ["\n".join(str(c)[i:i + width] for i in range(0, len(str(c)), width)) or str(c) for c in categories]


def _unit(ax, unit: str) -> None:
    """The value axis's unit written horizontally above the axis (a rotated "个" reads as an arrow)."""
    ax.set_ylabel("")
    if unit:
        ax.annotate(f"（{unit}）", xy=(0, 1), xycoords="axes fraction", xytext=(0, 6), textcoords="offset points",
                    ha="right", va="bottom", color=ax.yaxis.label.get_color())


def _finish(ax, title: str, t: dict, horizontal: bool) -> None:
    if title:
        ax.set_title(title, color=t["fg"], loc="left", fontweight="bold")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x" if horizontal else "y", color=t["grid"], linewidth=0.6)
    ax.set_axisbelow(True)


def _fmt(v) -> str:
    if v is None:
        return "—"
    v = float(v)
    return f"{v:,.0f}" if v.is_integer() or abs(v) >= 100 else f"{v:,.1f}"


def subdistrict_map(values: dict[str, float | None], *, title: str = "", labels: dict[str, str] | None = None,
                    points=None, size: str = "slide_map", theme: str = "light", vmin: float | None = None,
                    vmax: float | None = None, legend: str = "") -> bytes:
    """A static choropleth of the schematic subdistrict polygons (geo/layers.subdistricts_gdf), coloured by
    `values` (code → number), each labelled with its name and `labels[code]` (default: the number), optional
    facility dots (`points`: DataFrame with lon, lat), and the note 示意边界，非法定界线."""
    from geo.layers import subdistricts_gdf

    gdf = subdistricts_gdf().copy()
    gdf["v"] = [values.get(c) for c in gdf["code"]]
    fig, ax, rc = _figure(size, theme)
    t = THEMES[theme]
    with _pyplot().rc_context(rc):
        known = gdf[gdf["v"].notna()]
        missing = gdf[gdf["v"].isna()]
        if len(missing):
            missing.plot(ax=ax, color=t["missing"], edgecolor=t["edge"], linewidth=1.2)
        if len(known):
            known.plot(ax=ax, column="v", cmap=t["cmap"], edgecolor=t["edge"], linewidth=1.2, legend=bool(legend),
                       vmin=vmin, vmax=vmax, legend_kwds={"shrink": 0.6} if legend else None)
            if legend and len(fig.axes) > 1:  # the colour bar's unit, horizontal above it (not a rotated "个")
                bar = fig.axes[-1]  # on a slide the map is shown at ~0.7 of its size: its scale at 26 pt reads ≥ 24 px
                scale_pt = rc["font.size"] * (1.3 if size == "slide_map" else 0.8)
                bar.set_title(f"（{legend}）", fontsize=scale_pt, color=t["fg"])
                bar.tick_params(labelsize=scale_pt if size == "slide_map" else None)
        if points is not None and len(points):
            ax.scatter(points["lon"], points["lat"], s=14 if size == "print" else 36, color=t["bars"][1],
                       edgecolor=t["bg"], linewidth=0.5, zorder=3)
        small = rc["font.size"] * 0.7
        for code, name, geom, v in zip(gdf["code"], gdf["name"], gdf.geometry, gdf["v"]):
            p = geom.representative_point()
            text = (labels or {}).get(code, "—" if v is None or v != v else _fmt(v))
            ax.annotate(f"{name}\n{text}", (p.x, p.y), ha="center", va="center", fontsize=small, color="#111827",
                        bbox={"boxstyle": "round,pad=0.2", "fc": "#ffffffcc", "ec": "none"}, zorder=4)
        ax.set_axis_off()
        ax.set_aspect(1 / 0.88)  # ~cos(28.6°): keeps the shapes in proportion at Nanchang's latitude
        if title:
            ax.set_title(title, color=t["fg"], loc="left", fontweight="bold")
        fig.text(0.99, 0.01, SCHEMATIC_NOTE, ha="right", va="bottom", color=t["fg"], fontsize=small)
    return _png(fig)
