"""The figures of a report as self-contained SVG, drawn with matplotlib.

Each figure is drawn on its own :class:`matplotlib.figure.Figure` (not through pyplot, so
nothing accumulates in a long session), written as SVG with text kept as text, and embedded in
reports as a ``data:`` URI: no file beside the report, no network.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

from hiddenrate.render.plots import (
    _distribution,
    _forest,
    is_trend_result,
    period_column,
    plot_observed_hidden,
    plot_trend,
    plot_trend_panels,
)
from hiddenrate.render.words import people
from hiddenrate.result.value import Result
from hiddenrate.core.settings import headline_level

_RC: dict[str, Any] = {
    "svg.fonttype": "none",  # text stays text: small files, searchable, printed crisply
    "svg.hashsalt": "hiddenrate",  # the same result gives the same SVG
    "text.parse_math": False,  # '$' in a stratum name is a dollar sign, never TeX
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True)
class ReportFigure:
    """One figure of a report: ``key`` (``posterior``, ``bar``, ``forest``, ``trend``), a title,
    alternative text for screen readers, a caption in plain words, and the SVG text."""

    key: str
    title: str
    alt: str
    caption: str
    svg: str

    def data_uri(self) -> str:
        """``data:image/svg+xml;base64,...``: the figure inside the document."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")


def expected_figures(result: Result) -> list[str]:
    """Keys of the figures a report of ``result`` holds, in order.

    A ``hiddenrate trend`` result has no forest plot: its trend figure shows every period's
    interval on a scale that fits them (a forest row for the sum over periods would squeeze them),
    and it comes first, because the question a trend answers is how the periods compare; the
    posterior of the sum over periods follows.
    """
    keys = ["posterior", "bar"]
    if is_trend_result(result):
        return ["trend", *keys]
    if result.strata:
        keys.append("forest")
    if period_column(result) is not None:
        keys.append("trend")
    return keys


def _svg(draw: Any, result: Result, height: float, panels: int = 1) -> str:
    """``draw(result, ax)`` on a new figure as SVG text; with ``panels=2`` ``ax`` is a pair of Axes
    stacked over a shared x axis (the upper one taller)."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC):  # type: ignore[arg-type]
        figure = Figure(figsize=(7.2, height))
        ax = figure.subplots() if panels == 1 else figure.subplots(panels, 1, sharex=True, height_ratios=(3, 2))
        draw(result, ax)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "hiddenrate"})
    text = buffer.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def report_figures(result: Result) -> list[ReportFigure]:
    """Draw every figure of the report of ``result`` (see :func:`expected_figures`)."""
    level = f"{100 * headline_level(result.levels):g}%"
    unit = people(result)
    point = result.overall.total is not None and result.overall.total.kind == "point"
    out = []
    for key in expected_figures(result):
        if key == "posterior":
            caption = (
                f"The dot is the {result.estimate_type} and the bar its {level} confidence interval; the dashed red "
                "line is the observed count. There is no posterior: the interval is not a probability statement."
                if point else
                f"How probable each total is, given the data and the model (the posterior). The shaded band is the "
                f"{level} interval, the solid line the estimate, the dashed red line the observed count."
            )
            heading = "The sum over all periods" if is_trend_result(result) else "The estimate of the total"
            out.append(ReportFigure(key, heading, f"Estimated total of {unit} with the observed "
                                    "count marked", caption,
                                    _svg(lambda r, ax: _distribution(r, r.overall, ax, "total"), result, 3.0)))
        elif key == "bar":
            out.append(ReportFigure(key, "Observed and never recorded", f"Bar of observed and never-recorded {unit}",
                                    f"The red part was observed; the blue part is the estimate of those never recorded; "
                                    f"the black bar is the {level} interval of the total.",
                                    _svg(lambda r, ax: plot_observed_hidden(r, ax), result, 2.1)))
        elif key == "forest":
            height = 1.3 + 0.4 * (len(result.strata) + 1)
            out.append(ReportFigure(key, "By stratum", "Estimate and interval for each stratum and the total",
                                    f"Each row is a stratum (the total at the bottom): the dot is the estimate, the line "
                                    f"its {level} interval (dotted: no upper bound), the red x the observed count.",
                                    _svg(lambda r, ax: _forest(r, ax, "total"), result, height)))
        elif key == "trend" and is_trend_result(result):
            what = "reporting rate" if "reporting_rate" in result.strata[0].quantities else "share recorded"
            column = result.extra["periods"]["column"]
            out.append(ReportFigure(key, "Over time", f"Recorded and estimated total by {column}, and the {what} below",
                                    f"Top: the recorded count (crosses) and the estimated total (line: median; shaded: "
                                    f"{level} interval) in each {column}. Bottom: the {what} with its {level} interval"
                                    + ("; circles are each survey's own rate, and a period without a survey borrows "
                                       "from its neighbours, so its band is wider." if what == "reporting rate" else ".")
                                    + " A gap between the two lines is the estimate of what was never recorded.",
                                    _svg(lambda r, axes: plot_trend_panels(r, axes), result, 5.0, panels=2)))
        elif key == "trend":
            out.append(ReportFigure(key, "Over time", "Estimated total by period",
                                    f"Estimates by {period_column(result)} with their {level} intervals (shaded); "
                                    "crosses mark the observed counts.",
                                    _svg(lambda r, ax: plot_trend(r, ax), result, 3.0)))
    return out


__all__ = ["ReportFigure", "expected_figures", "report_figures"]
