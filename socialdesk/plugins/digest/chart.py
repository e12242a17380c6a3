"""The digest's chart as PNG bytes: mentions per day by platform (stacked bars) over the
first-response median and p90 per day (minutes).

Drawn with matplotlib's object API on an Agg canvas, never pyplot: no screen, no global
figure state shared between desks or threads. Rendering takes a fraction of a second;
callers run it in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from socialdesk.core.reports.report import DaySeries

WIDTH_INCHES, HEIGHT_INCHES, DPI = 8.0, 5.5, 110
# Colour-blind-safe (Okabe-Ito), one per platform in name order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def _minutes(seconds: float | None) -> float:
    return math.nan if seconds is None else seconds / 60.0  # a gap in the line, not a zero


def render_chart(days: Sequence[DaySeries], title: str) -> bytes:
    """The chart of ``days`` (oldest first) as a PNG."""
    # matplotlib is the optional `digest` extra, and ~27 MiB: imported when a chart is drawn.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    volume, response = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    labels = [d.day.strftime("%a %d") for d in days]
    positions = list(range(len(days)))
    platforms = sorted({p for d in days for p in d.mentions})
    bottoms = [0] * len(days)
    for n, platform in enumerate(platforms):
        counts = [d.mentions.get(platform, 0) for d in days]
        volume.bar(positions, counts, bottom=bottoms, label=platform, color=PALETTE[n % len(PALETTE)], width=0.7)
        bottoms = [b + c for b, c in zip(bottoms, counts)]
    for x, total in zip(positions, bottoms):
        if total:
            volume.annotate(str(total), (x, total), ha="center", va="bottom", fontsize=8)
    volume.set_title(title, fontsize=11)
    volume.set_ylabel("mentions")
    volume.set_ylim(0, max([*bottoms, 1]) * 1.15)
    if platforms:
        volume.legend(loc="upper left", fontsize=8, frameon=False, ncols=min(4, len(platforms)))
    else:
        volume.text(0.5, 0.5, "no mentions", transform=volume.transAxes, ha="center", va="center", color="grey")
    response.plot(positions, [_minutes(d.first_response.median) for d in days], marker="o", label="median")
    response.plot(positions, [_minutes(d.first_response.p90) for d in days], marker="s", linestyle="--",
                  label="p90")
    response.set_ylabel("first response (min)")
    response.set_ylim(bottom=0)
    response.legend(loc="upper left", fontsize=8, frameon=False, ncols=2)
    response.set_xticks(positions, labels)
    for axes in (volume, response):
        axes.grid(axis="y", alpha=0.3)
        axes.spines[["top", "right"]].set_visible(False)
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
