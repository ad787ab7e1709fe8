"""Charts and point/polygon maps drawn on the server with matplotlib (Agg backend), as SVG or PNG.

Server-rendered images work without JavaScript and without any request to another origin. Figures are
built with the object API (no pyplot state); one lock serialises drawing, because matplotlib's text and
font caches are not made for threads.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Literal

from urbandata.portal.charts import Series

Format = Literal["svg", "png"]
MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
COLOUR = "#0b5394"  # the portal's accent colour (7.6:1 on white)
EDGE = "#073763"
TEXT = "#1a1a1a"
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _matplotlib() -> Any:
    """Import and configure matplotlib once, on first use (keeps the import off the app's start-up)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    matplotlib.rcParams.update(
        {
            "svg.fonttype": "none",  # text stays text in SVG: selectable, small, read by screen readers
            "svg.hashsalt": "urbandata",  # stable element ids: the same chart gives the same bytes
            "font.family": "DejaVu Sans",
            "font.size": 10,
            "text.color": TEXT,
            "axes.labelcolor": TEXT,
            "xtick.color": TEXT,
            "ytick.color": TEXT,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return matplotlib


def _save(fig: Any, fmt: Format) -> bytes:
    buf = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(buf, format=fmt, dpi=150 if fmt == "png" else 100, metadata=metadata, bbox_inches="tight")
    return buf.getvalue()


def chart_image(series: Series, fmt: Format, number: Callable[[Any, int], str]) -> bytes:
    """A bar, line or area chart of `series`; `number` formats axis values in the visitor's language."""
    _matplotlib()
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    with _lock:
        fig = Figure(figsize=(8, 4.5))
        ax = fig.add_subplot()
        positions = list(range(len(series.labels)))
        heights = [v if v is not None else 0.0 for v in series.values]
        if series.spec.kind == "bar":
            ax.bar(positions, heights, color=COLOUR, edgecolor=EDGE)
        else:
            ax.plot(positions, heights, color=COLOUR, linewidth=2, marker="o" if len(positions) <= 40 else None)
            if series.spec.kind == "area":
                ax.fill_between(positions, heights, color=COLOUR, alpha=0.35)
        _x_ticks(ax, series.labels)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: number(v, 2 if abs(v) < 10 else 0)))
        ax.grid(axis="y", color="#c4c9d0", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_title(series.title, loc="left", fontsize=11, fontweight="bold")
        ax.set_xlabel(series.x_label)
        ax.set_ylabel(series.y_label)
        if not series.labels:
            ax.text(0.5, 0.5, "–", transform=ax.transAxes, ha="center", va="center", fontsize=20)
        return _save(fig, fmt)


def _x_ticks(ax: Any, labels: Sequence[str]) -> None:
    """Every label when they fit, else about twenty evenly spread; long labels are shortened and slanted."""
    step = max(1, -(-len(labels) // 20))
    shown = list(range(0, len(labels), step))
    ax.set_xticks(shown)
    short = [labels[i] if len(labels[i]) <= 18 else labels[i][:17] + "…" for i in shown]
    slanted = len(shown) > 6 or any(len(s) > 8 for s in short)
    ax.set_xticklabels(short, rotation=45 if slanted else 0, ha="right" if slanted else "center")
    if labels:
        ax.set_xlim(-0.6, len(labels) - 0.4)


def map_image(
    points: Sequence[tuple[float, float]],
    polygons: Sequence[Sequence[Sequence[tuple[float, float]]]],
    lines: Sequence[Sequence[tuple[float, float]]],
    fmt: Format,
) -> bytes:
    """Points, lines and polygons (lon/lat, WGS84) on a plain background, lengths true at the data's latitude."""
    _matplotlib()
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure

    with _lock:
        fig = Figure(figsize=(8, 6))
        ax = fig.add_subplot()
        ax.set_facecolor("#f3f6fa")
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        ax.set_xticks([])
        ax.set_yticks([])
        rings = [ring for poly in polygons for ring in poly if len(ring) >= 3]
        if rings:
            ax.add_collection(PolyCollection(rings, facecolors=COLOUR + "40", edgecolors=EDGE, linewidths=1))
        if lines:
            ax.add_collection(LineCollection(lines, colors=EDGE, linewidths=1.5))
        if points:
            ax.scatter([p[0] for p in points], [p[1] for p in points], s=36, c=COLOUR, edgecolors="white", zorder=3)
        coords = [*points, *(c for r in rings for c in r), *(c for line in lines for c in line)]
        if coords:
            lats = [c[1] for c in coords]
            middle = (min(lats) + max(lats)) / 2
            ax.margins(0.05)
            # lengths true at the data's latitude; the data limits widen to fill the frame
            ax.set_aspect(1 / max(math.cos(math.radians(middle)), 0.01), adjustable="datalim")
            ax.autoscale_view()
        return _save(fig, fmt)
