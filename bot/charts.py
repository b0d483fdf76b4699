"""The `stats` chart (C6), drawn with matplotlib's Agg backend: two small panels (average
duration, average size) over the days shown, each with its axis labels, and each bound as a
dashed line labelled in words. Meaning never rests on colour: each series has its own marker
and line style, and a day without jobs is a gap in the line, not a zero.

The figure is always the same size in pixels (PNG_WIDTH × PNG_HEIGHT), so its header can be
checked; the links to it are signed and expire like the job page's (core/safety/links.py).
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.ports import Clock
from core.safety.links import chart_path, fetchable, signed_url
from core.views.performance import BoundLine, PerformanceChart

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PNG_WIDTH, PNG_HEIGHT = 800, 500
_DPI = 100
_LINE = "#1f4e79"  # one dark ink; markers and dashes carry the meaning, not the colour
_BOUND = "#8b0000"


def draw(chart: PerformanceChart) -> bytes:
    """The chart as PNG bytes, PNG_WIDTH × PNG_HEIGHT pixels, with its alt text as the PNG's
    description."""
    figure = _figure()
    figure.suptitle(chart.title, fontsize=11)
    top, bottom = figure.subplots(2, 1, sharex=True)
    positions = list(range(len(chart.days)))
    _panel(top, positions, chart.durations, chart.duration_label, chart.duration_bounds, "o", "-")
    _panel(bottom, positions, chart.sizes, chart.size_label, chart.size_bounds, "s", "--")
    step = max(1, len(positions) // 10)
    bottom.set_xticks(positions[::step])
    bottom.set_xticklabels([d.strftime("%m-%d") for d in chart.days[::step]], fontsize=8)
    bottom.set_xlabel(chart.day_label)
    figure.subplots_adjust(left=0.1, right=0.97, top=0.9, bottom=0.12, hspace=0.25)
    out = io.BytesIO()
    # No timestamp or version in the file: the same data draws the same bytes.
    figure.savefig(
        out,
        format="png",
        dpi=_DPI,
        metadata={"Software": None, "Description": chart.alt_text[:1000]},
    )
    return out.getvalue()


def _figure() -> Figure:
    """A blank figure of the chart's size. matplotlib is imported here, on the first chart:
    it takes about half a second, which no other command should pay at start."""
    import matplotlib

    matplotlib.use("Agg")  # no display, no GUI toolkit: the bot draws files
    from matplotlib.figure import Figure

    return Figure(figsize=(PNG_WIDTH / _DPI, PNG_HEIGHT / _DPI), dpi=_DPI)


def _panel(
    axes: Axes,
    positions: list[int],
    values: tuple[float | None, ...],
    label: str,
    bounds: tuple[BoundLine, ...],
    marker: str,
    style: str,
) -> None:
    # None → NaN: matplotlib breaks the line there, so a day without jobs reads as a gap.
    ys = [float("nan") if v is None else v for v in values]
    axes.plot(positions, ys, marker=marker, linestyle=style, color=_LINE, markersize=4)
    axes.set_ylabel(label, fontsize=9)
    axes.grid(True, linestyle=":", linewidth=0.5)
    axes.set_ylim(bottom=0)
    for bound in bounds:
        axes.axhline(bound.value, linestyle=(0, (6, 3)), color=_BOUND, linewidth=1.2)
        axes.annotate(
            bound.label,
            xy=(0.01, bound.value),
            xycoords=("axes fraction", "data"),
            xytext=(0, 3 if bound.maximum else -11),
            textcoords="offset points",
            fontsize=8,
            color=_BOUND,
        )
    known = [v for v in values if v is not None]
    highest = max([*known, *(b.value for b in bounds)], default=1.0)
    axes.set_ylim(0, highest * 1.2 or 1.0)
    axes.set_xlim(-0.5, max(positions, default=0) + 0.5)


class MatplotlibCharts:
    """The core's `Charts` port: draws with matplotlib, links to the signed chart route."""

    def __init__(
        self, public_url: str, secret: bytes, clock: Clock, ttl: timedelta = timedelta(days=7)
    ) -> None:
        self._public_url = public_url
        self._secret = secret
        self._clock = clock
        self._ttl = ttl

    def link(self, target: str, days: int) -> str:
        if not fetchable(self._public_url):
            return ""  # Discord and the console still get the bytes
        now: datetime = self._clock.now()
        return signed_url(self._public_url, chart_path(target, days), self._secret, now, self._ttl)

    def draw(self, chart: PerformanceChart) -> bytes:
        return draw(chart)
