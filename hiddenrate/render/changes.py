"""The sentence that says what changed between two periods, from a change's numbers.

A change (:func:`hiddenrate.models.trend.changes.change`) holds ratios with intervals; this
module words it at one level: how recorded counts moved, the factors of incidence (or total)
and reporting with their intervals, which factor changed (its interval excludes 1) and the
probability that the true total fell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hiddenrate.render import numbers as fmt
from hiddenrate.render.tables import ends_at


def _changed(summary: Mapping[str, Any], level: float) -> bool:
    ends = ends_at(summary, level)
    if ends is None:
        return False
    lower, upper = ends
    return (upper is not None and upper < 1) or (lower is not None and lower > 1)


def _factor_text(summary: Mapping[str, Any], level: float) -> str:
    lower, upper = ends_at(summary, level) or (None, None)
    return f"x{fmt.number(summary['median'])} ({fmt.level(level)} interval {fmt.number(lower)} to " \
           f"{fmt.number(upper) if upper is not None else 'no upper bound'})"


def _movement(ratio: float | None, noun: str) -> str:
    if ratio is None:
        return f"{noun} rose from 0"
    if abs(ratio - 1) < 0.005:
        return f"{noun} did not change"
    return f"{noun} {'fell' if ratio < 1 else 'rose'} {fmt.share(abs(1 - ratio))}"


def attribution(change: Mapping[str, Any], level: float) -> str:
    """``reporting``, ``incidence``, ``both`` or ``neither``: the factors whose ``level`` interval excludes 1."""
    incidence = _changed(change["incidence_ratio"], level)
    reporting = _changed(change["reporting_ratio"], level)
    return "both" if incidence and reporting else "incidence" if incidence else "reporting" if reporting else "neither"


def change_sentence(change: Mapping[str, Any], level: float, noun: str | None = None,
                    rate_name: str | None = None) -> str:
    """``Recorded counts fell 47% from 2009 to 2017 (144 to 76). The incidence changed by ...``.

    ``noun`` (``the incidence`` or ``the total``) and ``rate_name`` come from the change's
    table (its ``facts``) when not in ``change`` itself.
    """
    noun = str(change.get("noun") or noun or "the incidence")
    rate_name = str(change.get("rate_name") or rate_name or "reporting rate")
    verdict = {
        "reporting": f"the change in recorded counts reflects a change in the {rate_name}; the data show no clear "
                     f"change in {noun}",
        "incidence": f"the change reflects a change in {noun}; the data show no clear change in the {rate_name}",
        "both": f"both {noun} and the {rate_name} changed",
        "neither": f"neither {noun} nor the {rate_name} changed clearly",
    }[attribution(change, level)]
    where = f"{change['series']}: " if change["series"] != "all" or change.get("stratum") else ""
    return (
        f"{where}{_movement(change['recorded_ratio'], 'recorded counts').capitalize()} from {change['from']} to "
        f"{change['to']} ({change['recorded_from']:,} to {change['recorded_to']:,}). {noun.capitalize()} changed by "
        f"{_factor_text(change['incidence_ratio'], level)} and the {rate_name} by "
        f"{_factor_text(change['reporting_ratio'], level)}: {verdict}. Probability that the true total "
        f"fell: {change['prob_decrease']:.2f}."
    )


def change_level(change: Mapping[str, Any], level: float) -> float:
    """``level`` when the change holds it, else the headline of the levels it holds."""
    from hiddenrate.core.settings import headline_level

    held = [float(k) for k in change["incidence_ratio"].get("intervals", {})]
    if not held or any(abs(x - level) < 1e-9 for x in held):
        return level
    return headline_level(held)


__all__ = ["attribution", "change_level", "change_sentence"]
