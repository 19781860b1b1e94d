"""Figures of results with matplotlib: the posterior of the total with the observed count
marked, observed against hidden, a forest plot of strata, a trend over periods, and for
``hiddenrate trend`` results two panels over the periods (recorded against estimated total
above, the reporting rate below). Every function returns the Axes it drew on.

A result made publication-safe by :func:`hiddenrate.analysis.suppression.suppress_result` is drawn
without the counts it hides: no observed mark for a hidden stratum, and no estimate whose
median is below the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from hiddenrate.core.distributions import DrawsDistribution, GridDistribution, PointEstimate
from hiddenrate.core.exceptions import ModelError
from hiddenrate.result.value import Result, StratumEstimate
from hiddenrate.core.settings import headline_level

LABELS = {"total": "total", "hidden": "never recorded (hidden)", "observed_share": "share recorded"}
#: stratum columns read as time: a result stratified by one of these gets a trend chart
PERIOD_COLUMNS = ("period", "year", "quarter", "month", "week", "date", "time")
KINDS = ("auto", "posterior", "bar", "forest", "trend")


def _suppression(result: Result) -> tuple[int | None, dict[str, str]]:
    """(threshold, hidden observed counts by stratum label) of a suppressed result."""
    plan = result.extra.get("suppression") if hasattr(result.extra, "get") else None
    if not isinstance(plan, dict):
        return None, {}
    return int(plan["below"]), dict(plan.get("hidden_observed", {}))


def _observed_shown(result: Result, estimate: StratumEstimate) -> bool:
    _, hidden = _suppression(result)
    return estimate.label not in hidden


def _too_small(result: Result, value: float | None) -> bool:
    below, _ = _suppression(result)
    return below is not None and value is not None and value < below


def _pyplot() -> Any:
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_result(result: Result, ax: Any = None, quantity: str = "total", kind: str = "auto") -> Any:
    """Draw ``result`` on ``ax`` (a new figure if ``None``) and return the Axes.

    Parameters
    ----------
    result
        A fitted or loaded result.
    ax
        Matplotlib Axes to draw on; a new figure when ``None``.
    quantity
        ``total``, ``hidden`` or ``observed_share`` (posterior and forest plots).
    kind
        ``auto`` (forest plot when stratified, else the posterior), ``posterior`` (the overall
        posterior with the observed count marked), ``bar`` (observed against hidden),
        ``forest`` (one row per stratum) or ``trend`` (estimates over periods). A result of
        ``hiddenrate trend`` is drawn by :func:`plot_trend_panels` for ``auto`` and ``trend``
        (the returned Axes is the upper panel; ``ax.figure`` holds both).
    """
    if kind not in KINDS:
        raise ModelError(f"unknown figure '{kind}'; use one of {', '.join(KINDS)}")
    if kind == "bar":
        return plot_observed_hidden(result, ax)
    if kind in ("auto", "trend") and is_trend_result(result) and quantity == "total":
        return plot_trend_panels(result, ax)[0]
    if kind == "trend":
        return plot_trend(result, ax, quantity)
    plt = _pyplot()
    forest = kind == "forest" or (kind == "auto" and bool(result.strata))
    if ax is None:
        height = 3.2 if not forest else 1.2 + 0.45 * (len(result.strata) + 1)
        _, ax = plt.subplots(figsize=(7, height))
    if forest:
        return _forest(result, ax, quantity)
    return _distribution(result, result.overall, ax, quantity)


def plot_observed_hidden(result: Result, ax: Any = None) -> Any:
    """One bar split into the observed count and the estimated hidden count (median), with the
    interval of the total as an error bar. Returns the Axes."""
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(7, 1.9))
    estimate = result.overall
    unit = result.unit or "people"
    total = estimate.total
    if total is None:
        return _message(ax, f"No estimate: {estimate.reason}")
    if not _observed_shown(result, estimate):
        return _message(ax, "Observed count hidden for publication safety")
    median = float(total.median() or estimate.observed)
    if _too_small(result, median):
        return _message(ax, "Counts too small to show (publication safety)")
    level = headline_level(result.levels)
    lower, upper = total.interval(level, result.interval_kind)
    hidden = max(median - estimate.observed, 0.0)
    ax.barh([0], [estimate.observed], color="C3", alpha=0.8, label=f"observed {estimate.observed:,}")
    ax.barh([0], [hidden], left=[estimate.observed], color="C0", alpha=0.45, label=f"never recorded (estimate) {hidden:,.0f}")
    if lower is not None:
        right = upper if upper is not None else median
        ax.errorbar([median], [0], xerr=[[median - lower], [max(right - median, 0.0)]], fmt="none", color="k", capsize=5,
                    label=f"{100 * level:g}% interval of the total" + ("" if upper is not None else " (no upper bound)"))
    ax.set_yticks([])
    ax.set_ylim(-0.8, 0.8)
    ax.set_xlim(0, None)
    ax.xaxis.set_major_formatter(_thousands())
    ax.set_xlabel(f"{unit}: observed and never recorded")
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=3)
    return ax


def period_column(result: Result) -> str | None:
    """The stratum column read as time (see :data:`PERIOD_COLUMNS`), if it has two or more values."""
    if not result.strata:
        return None
    keys = list(result.strata[0].stratum.keys())
    for key in keys:
        if key.lower() in PERIOD_COLUMNS and len({s.stratum.get(key) for s in result.strata}) >= 2:
            return key
    return None


def _period_order(values: list[str]) -> list[str]:
    try:
        return sorted(values, key=float)
    except ValueError:
        return sorted(values)


def plot_trend(result: Result, ax: Any = None, quantity: str = "total") -> Any:
    """Estimates (median and interval) over periods, one line per combination of the other
    stratum columns, with observed counts marked. Returns the Axes."""
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(7, 3.2))
    key = period_column(result)
    if key is None:
        return _message(ax, "No periods to draw a trend over")
    periods = _period_order(sorted({str(s.stratum[key]) for s in result.strata}))
    groups: dict[str, list[StratumEstimate]] = {}
    for stratum in result.strata:
        rest = ", ".join(f"{k}={v}" for k, v in stratum.stratum.items() if k != key) or quantity
        groups.setdefault(rest, []).append(stratum)
    level = headline_level(result.levels)
    for i, (name, members) in enumerate(groups.items()):
        color = f"C{i % 10}"
        xs, mids, lows, highs, obs_x, obs_y = [], [], [], [], [], []
        for stratum in sorted(members, key=lambda s: periods.index(str(s.stratum[key]))):
            x = periods.index(str(stratum.stratum[key]))
            dist = stratum.quantity(quantity)
            if quantity == "total" and _observed_shown(result, stratum) and not _too_small(result, stratum.observed):
                obs_x.append(x)
                obs_y.append(stratum.observed)
            if dist is None or _too_small(result, dist.median()):
                continue
            lower, upper = dist.interval(level, result.interval_kind)
            xs.append(x)
            mids.append(float(dist.median() or 0.0))
            lows.append(np.nan if lower is None or _too_small(result, lower) else lower)
            highs.append(np.nan if upper is None else upper)
        ax.plot(xs, mids, "o-", color=color, label=name)
        ax.fill_between(xs, lows, highs, color=color, alpha=0.15)
        if obs_x:
            ax.plot(obs_x, obs_y, "x", color=color, ls="none")
    ax.set_xticks(range(len(periods)))
    ax.set_xticklabels(periods)
    ax.set_xlabel(key)
    ax.set_ylabel(f"{LABELS.get(quantity, quantity)} ({result.unit or 'people'})")
    if quantity != "observed_share":
        ax.yaxis.set_major_formatter(_thousands())
    ax.set_title(f"estimate and {100 * level:g}% interval by {key} (x = observed)", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return ax


def is_trend_result(result: Result) -> bool:
    """True for a result of ``hiddenrate trend`` (it carries its ordered periods)."""
    extra = result.extra if isinstance(result.extra, Mapping) else {}
    return result.command == "trend" and isinstance(extra.get("periods"), Mapping) and bool(result.strata)


def _survey_rates(result: Result, column: str) -> dict[tuple[str, ...], float | None]:
    """Each period's own survey rate ``reported / surveyed``, keyed like :func:`plot_trend_panels`'s
    cells (series values, then the canonical period); periods without a survey are absent, and a
    survey whose counts are hidden for publication safety is ``None``."""
    from hiddenrate.data.periods import parse_period

    rows = result.input.get("rows", []) if isinstance(result.input, Mapping) else []
    rates: dict[tuple[str, ...], float | None] = {}
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, Mapping) or not row.get("surveyed") or row.get("reported") is None:
            continue
        stratum = dict(row.get("stratum", {}))
        if column not in stratum:
            continue
        parsed = parse_period(str(stratum[column]))
        label = parsed.label if parsed is not None else str(stratum[column])
        key = tuple(str(v) for k, v in stratum.items() if k != column) + (label,)
        try:
            rates[key] = float(row["reported"]) / float(row["surveyed"])
        except (TypeError, ValueError):  # hidden for publication safety ("<5"): a survey, not drawn
            rates[key] = None
    return rates


def plot_trend_panels(result: Result, ax: Any = None) -> tuple[Any, Any]:
    """The figure of ``hiddenrate trend``: two panels over the periods, one line per series.

    Upper panel: the recorded count (crosses) and the estimated total (median, with its
    interval at the widest level as a shaded band). Lower panel: the reporting rate (list data:
    the share recorded) with its band, and each period's own survey rate (open circles);
    periods without a survey are marked "no survey". Periods are placed by their time, so a gap
    between periods shows as a gap.

    Parameters
    ----------
    result
        A result of :func:`hiddenrate.fit_trend` (fitted or loaded).
    ax
        ``None`` (a new figure), a pair of Axes (upper, lower), or one Axes (the upper panel only).

    Returns
    -------
    (upper Axes, lower Axes or None)
    """
    if ax is None:
        _, (upper, lower) = _pyplot().subplots(2, 1, figsize=(7, 5.2), sharex=True, height_ratios=(3, 2))
    elif isinstance(ax, (list, tuple, np.ndarray)):
        upper, lower = ax[0], ax[1]
    else:
        upper, lower = ax, None
    if not is_trend_result(result):
        return _message(upper, "Not a result of hiddenrate trend: no periods to draw"), lower
    periods = result.extra["periods"]
    column = str(periods["column"])
    labels = [str(x) for x in periods["labels"]]
    times = [float(x) for x in periods["times"]]
    position = dict(zip(labels, times, strict=True))
    rate_name = "reporting_rate" if "reporting_rate" in result.strata[0].quantities else "observed_share"
    surveys = _survey_rates(result, column) if rate_name == "reporting_rate" else {}
    level = headline_level(result.levels)
    unit = result.unit or "people"
    groups: dict[tuple[str, ...], list[StratumEstimate]] = {}
    for stratum in result.strata:
        groups.setdefault(tuple(str(v) for k, v in stratum.stratum.items() if k != column), []).append(stratum)
    several = len(groups) > 1
    surveyed: set[float] = set()
    for i, (series, members) in enumerate(groups.items()):
        rows = _trend_series_rows(result, series, members, column, position, rate_name, surveys, level, surveyed)
        _draw_trend_series(upper, lower, rows, f"C{i % 10}", ", ".join(series), several, level, rate_name)
    _label_trend_axes(upper, lower, column, labels, times, surveyed, unit, level, rate_name,
                      ncol=3 if not several else min(len(groups), 4), several=several)
    return upper, lower


_Rows = tuple[list[tuple[float, float, float, float]], list[tuple[float, float, float, float]],
              list[tuple[float, float]], list[tuple[float, float]]]


def _trend_series_rows(result: Result, series: tuple[str, ...], members: list[StratumEstimate], column: str,
                       position: dict[str, float], rate_name: str, surveys: dict[tuple[str, ...], float | None],
                       level: float, surveyed: set[float]) -> _Rows:
    """One series' points, period by period: totals and rates (x, median, low, high), recorded
    counts and survey rates (x, value). Adds the periods that have a survey to ``surveyed``."""
    members = sorted(members, key=lambda s: position.get(str(s.stratum[column]), 0.0))
    total_rows: list[tuple[float, float, float, float]] = []
    rate_rows: list[tuple[float, float, float, float]] = []
    recorded: list[tuple[float, float]] = []
    survey_points: list[tuple[float, float]] = []
    for stratum in members:
        x = position.get(str(stratum.stratum[column]))
        if x is None:
            continue
        if _observed_shown(result, stratum) and not _too_small(result, stratum.observed):
            recorded.append((x, stratum.observed))
        total = stratum.quantity("total")
        if total is not None and not _too_small(result, total.median()):
            low, high = total.interval(level, result.interval_kind)
            total_rows.append((x, float(total.median() or 0.0), np.nan if low is None or _too_small(result, low) else low,
                               np.nan if high is None else high))
        rate = stratum.quantity(rate_name)
        if rate is not None and _observed_shown(result, stratum):
            low, high = rate.interval(level, result.interval_kind)
            rate_rows.append((x, float(rate.median() or 0.0), np.nan if low is None else low, np.nan if high is None else high))
        key = (*series, str(stratum.stratum[column]))
        if key in surveys:
            surveyed.add(x)
            rate_of_survey = surveys[key]
            if rate_of_survey is not None and _observed_shown(result, stratum):
                survey_points.append((x, rate_of_survey))
    return total_rows, rate_rows, recorded, survey_points


def _draw_trend_series(upper: Any, lower: Any, rows: _Rows, color: str, name: str, several: bool, level: float,
                       rate_name: str) -> None:
    """Draw one series: total band and line and recorded counts above, rate band and surveys below."""
    total_rows, rate_rows, recorded, survey_points = rows
    if total_rows:
        xs, mids, lows, highs = (list(v) for v in zip(*total_rows, strict=True))
        upper.fill_between(xs, lows, highs, color=color, alpha=0.18, lw=0,
                           label=None if several else f"{100 * level:g}% interval")
        upper.plot(xs, mids, "o-", color=color, ms=4, label=name if several else "estimated total")
    if recorded:
        xs, ys = (list(v) for v in zip(*recorded, strict=True))
        upper.plot(xs, ys, "x--", color=color if several else "C3", alpha=0.8, lw=1,
                   label=None if several else "recorded")
    if lower is not None and rate_rows:
        xs, mids, lows, highs = (list(v) for v in zip(*rate_rows, strict=True))
        lower.fill_between(xs, lows, highs, color=color, alpha=0.18, lw=0)
        lower.plot(xs, mids, "o-", color=color, ms=4,
                   label=None if several else "reporting rate" if rate_name == "reporting_rate" else "share recorded")
    if lower is not None and survey_points:
        xs, ys = (list(v) for v in zip(*survey_points, strict=True))
        lower.plot(xs, ys, "o", mfc="none", color=color, ms=6, ls="none", label=None if several else "survey")


def _label_trend_axes(upper: Any, lower: Any, column: str, labels: list[str], times: list[float], surveyed: set[float],
                      unit: str, level: float, rate_name: str, *, ncol: int, several: bool) -> None:
    """Axes, titles, period ticks and legends of the trend panels; "no survey" under periods without one."""
    upper.set_ylim(0, None)
    upper.yaxis.set_major_formatter(_thousands())
    upper.set_ylabel(unit)
    upper.set_title(f"Recorded and estimated total by {column} (median and {100 * level:g}% interval)"
                    + (" -- x: recorded" if several else ""), fontsize=10)
    if upper.get_legend_handles_labels()[0]:
        upper.legend(fontsize=8, frameon=False, loc="best", ncol=ncol)
    bottom = lower if lower is not None else upper
    step = max(1, int(np.ceil(len(labels) / 12)))
    bottom.set_xticks(times[::step])
    bottom.set_xticklabels(labels[::step])
    bottom.set_xlabel(column)
    if lower is not None:
        from matplotlib.ticker import PercentFormatter

        lower.set_ylim(0, None)
        lower.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        lower.set_ylabel("reporting rate" if rate_name == "reporting_rate" else "share recorded")
        lower.set_title("Reporting rate (median and interval; circles: each survey's own rate)"
                        if rate_name == "reporting_rate" else "Share recorded on at least one list", fontsize=10)
        for x in sorted(set(times) - surveyed) if rate_name == "reporting_rate" else []:
            lower.annotate("no survey", (x, 0), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                           fontsize=7, color="0.35")
        if not several and lower.get_legend_handles_labels()[0]:
            lower.legend(fontsize=8, frameon=False, loc="best", ncol=2)


def _message(ax: Any, text: str) -> Any:
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)
    ax.set_axis_off()
    return ax


def _distribution(result: Result, estimate: StratumEstimate, ax: Any, quantity: str) -> Any:
    dist = estimate.quantity(quantity)
    unit = result.unit or "people"
    if dist is None:
        return _message(ax, f"No estimate: {estimate.reason}")
    if quantity != "observed_share" and _too_small(result, dist.median()):
        return _message(ax, "Counts too small to show (publication safety)")
    if quantity != "total" and not _observed_shown(result, estimate):
        return _message(ax, "Hidden for publication safety")
    level = headline_level(result.levels)
    lower, upper = dist.interval(level, result.interval_kind)
    if isinstance(dist, GridDistribution):
        keep = dist.values <= _right_edge(dist, upper)  # draw only where the mass is; numbers from dist
        xs, ys = _thin(dist.values[keep], dist.pmf[keep])
        ax.fill_between(xs, ys, step="mid" if xs.size == int(keep.sum()) else None, alpha=0.35, color="C0")
        ax.plot(xs, ys, color="C0", lw=1)
        ax.set_ylabel("how plausible (posterior)")
        ax.set_yticks([])  # grid masses depend on the grid's spacing: only the shape is for reading
    elif isinstance(dist, DrawsDistribution):
        draws = dist.draws[dist.draws <= _right_edge(dist, upper)]
        ax.hist(draws, bins=60, density=True, color="C0", alpha=0.45)
        ax.set_ylabel("how plausible (posterior)")
        ax.set_yticks([])  # a density's scale says nothing to a reader: only the shape is for reading
    elif isinstance(dist, PointEstimate) and dist.point is not None:
        point = dist.point
        low = lower if lower is not None else point
        high = upper if upper is not None else point
        ax.errorbar([point], [0.5], xerr=[[point - low], [high - point]], fmt="o", color="C0", capsize=6)
        ax.set_yticks([])
        ax.set_ylim(0, 1)
    if lower is not None:
        ax.axvspan(lower, upper if upper is not None else ax.get_xlim()[1], color="C0", alpha=0.1,
                   label=f"{100 * level:g}% interval")
    ax.axvline(dist.median(), color="C0", lw=1.5, label=f"estimate {dist.median():,.0f}" if quantity != "observed_share" else "estimate")
    if quantity == "total" and _observed_shown(result, estimate):
        ax.axvline(estimate.observed, color="C3", lw=1.5, ls="--", label=f"observed {estimate.observed:,}")
    ax.set_xlabel(f"{LABELS.get(quantity, quantity)} ({unit})" if quantity != "observed_share" else LABELS[quantity])
    if quantity != "observed_share":
        ax.xaxis.set_major_formatter(_thousands())
    ax.set_title(f"{result.model_name}", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return ax


def _thin(values: np.ndarray, pmf: np.ndarray, bins: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """At most ``bins`` points to draw: the mean probability per value within equal-width bins
    (the same scale as the pmf), so long grids give small figures that look the same."""
    if values.size <= bins:
        return values, pmf
    edges = np.linspace(values[0], values[-1], bins + 1)
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)
    mass = np.bincount(index, weights=pmf, minlength=bins)
    count = np.bincount(index, minlength=bins)
    used = count > 0
    centres = (edges[:-1] + edges[1:]) / 2
    return centres[used], mass[used] / count[used]


def _right_edge(dist: Any, upper: float | None) -> float:
    """Where to stop drawing: past the interval and the 99.5% quantile, not at the grid's end."""
    far = dist.interval(0.99)[1]
    candidates = [v for v in (far, upper) if v is not None]
    return 1.1 * max(candidates) if candidates else np.inf


def _thousands() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _: f"{x:,.0f}")


def _forest(result: Result, ax: Any, quantity: str) -> Any:
    rows = [*result.strata, result.overall]
    labels = [s.label for s in result.strata] + ["total"]
    level = headline_level(result.levels)
    for i, estimate in enumerate(rows):
        y = len(rows) - 1 - i
        dist = estimate.quantity(quantity)
        shown = _observed_shown(result, estimate)
        if dist is None:
            ax.text(estimate.observed if shown else 0, y, "  no estimate", va="center", fontsize=8, color="C3")
            continue
        if (quantity != "observed_share" and _too_small(result, dist.median())) or (quantity != "total" and not shown):
            ax.text(0, y, "  hidden (publication safety)", va="center", fontsize=8, color="0.4")
            continue
        lower, upper = dist.interval(level, result.interval_kind)
        below, _ = _suppression(result)
        if below is not None and lower is not None and quantity != "observed_share":
            lower = max(lower, float(below))
        right = upper if upper is not None else float(dist.median() or estimate.observed) * 3
        ax.plot([lower, right], [y, y], color="C0", lw=2, ls="-" if upper is not None else ":")
        ax.plot([dist.median()], [y], "o", color="C0" if i < len(rows) - 1 else "k")
        if quantity == "total" and shown and not _too_small(result, estimate.observed):
            ax.plot([estimate.observed], [y], "x", color="C3")
    ax.set_yticks(np.arange(len(rows))[::-1])
    ax.set_yticklabels(labels)
    ax.set_xlabel(f"{LABELS.get(quantity, quantity)}: estimate and {100 * level:g}% interval (x = observed)")
    ax.set_title(result.model_name, fontsize=10)
    return ax
