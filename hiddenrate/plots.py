"""Figures of results with matplotlib: the posterior of the total with the observed count
marked, or a forest plot of strata. Every function returns the Axes it drew on."""

from __future__ import annotations

from typing import Any

import numpy as np

from hiddenrate.distributions import DrawsDistribution, GridDistribution, PointEstimate
from hiddenrate.results import Result, StratumEstimate

LABELS = {"total": "total", "hidden": "never recorded (hidden)", "observed_share": "share recorded"}


def _pyplot() -> Any:
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_result(result: Result, ax: Any = None, quantity: str = "total") -> Any:
    """Draw ``result`` on ``ax`` (a new figure if ``None``) and return the Axes."""
    plt = _pyplot()
    if ax is None:
        height = 3.2 if not result.strata else 1.2 + 0.45 * (len(result.strata) + 1)
        _, ax = plt.subplots(figsize=(7, height))
    if result.strata:
        return _forest(result, ax, quantity)
    return _distribution(result, result.overall, ax, quantity)


def _distribution(result: Result, estimate: StratumEstimate, ax: Any, quantity: str) -> Any:
    dist = estimate.quantity(quantity)
    unit = result.unit or "people"
    if dist is None:
        ax.text(0.5, 0.5, f"No estimate: {estimate.reason}", ha="center", va="center", wrap=True, transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    level = max(result.levels)
    lower, upper = dist.interval(level, result.interval_kind)
    if isinstance(dist, GridDistribution):
        keep = dist.values <= _right_edge(dist, upper)  # draw only where the mass is; numbers from dist
        ax.fill_between(dist.values[keep], dist.pmf[keep], step="mid", alpha=0.35, color="C0")
        ax.plot(dist.values[keep], dist.pmf[keep], color="C0", lw=1)
        ax.set_ylabel("posterior probability")
    elif isinstance(dist, DrawsDistribution):
        draws = dist.draws[dist.draws <= _right_edge(dist, upper)]
        ax.hist(draws, bins=60, density=True, color="C0", alpha=0.45)
        ax.set_ylabel("posterior density")
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
    if quantity == "total":
        ax.axvline(estimate.observed, color="C3", lw=1.5, ls="--", label=f"observed {estimate.observed:,}")
    ax.set_xlabel(f"{LABELS.get(quantity, quantity)} ({unit})" if quantity != "observed_share" else LABELS[quantity])
    if quantity != "observed_share":
        ax.xaxis.set_major_formatter(_thousands())
    ax.set_title(f"{result.model_name}", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return ax


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
    level = max(result.levels)
    for i, estimate in enumerate(rows):
        y = len(rows) - 1 - i
        dist = estimate.quantity(quantity)
        if dist is None:
            ax.text(estimate.observed, y, "  no estimate", va="center", fontsize=8, color="C3")
            continue
        lower, upper = dist.interval(level, result.interval_kind)
        right = upper if upper is not None else float(dist.median() or estimate.observed) * 3
        ax.plot([lower, right], [y, y], color="C0", lw=2, ls="-" if upper is not None else ":")
        ax.plot([dist.median()], [y], "o", color="C0" if i < len(rows) - 1 else "k")
        if quantity == "total":
            ax.plot([estimate.observed], [y], "x", color="C3")
    ax.set_yticks(np.arange(len(rows))[::-1])
    ax.set_yticklabels(labels)
    ax.set_xlabel(f"{LABELS.get(quantity, quantity)}: estimate and {100 * level:g}% interval (x = observed)")
    ax.set_title(result.model_name, fontsize=10)
    return ax
