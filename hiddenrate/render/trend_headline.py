"""A trend answers its question first: did the total change from the first period to the last?

A ``hiddenrate trend`` result keeps the sum over its periods as ``overall`` (the JSON contract),
but nobody asks "how many over nine years together?". Its headline is the change from the first
period to the last (:mod:`hiddenrate.models.trend.changes`): the ratio of totals with its
interval, the probability that the total fell, and the split of the change in recorded counts
into incidence x reporting. The sum over the periods moves to the last row of the headline table.

A result with several series (other stratum columns besides the period) has one change per
series and no change of their sum, so it keeps the ordinary headline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hiddenrate.render import numbers as fmt
from hiddenrate.render.changes import attribution, change_level
from hiddenrate.render.tables import ends_at
from hiddenrate.result.value import Result, StratumEstimate


def headline_change(result: Result) -> Mapping[str, Any] | None:
    """The change a trend's headline shows (first to last period, one series), or ``None``."""
    extra = result.extra if isinstance(result.extra, Mapping) else {}
    if result.command != "trend" or not isinstance(extra.get("periods"), Mapping):
        return None
    changes = [c for c in extra.get("changes") or [] if isinstance(c, Mapping)]
    if len({str(c.get("series")) for c in changes}) != 1:
        return None
    firsts = [c for c in changes if c.get("kind") == "first to last"]
    return firsts[0] if firsts else (changes[0] if changes else None)


def period_estimate(result: Result, label: str) -> StratumEstimate | None:
    """The estimate of one period (its stratum whose period column is ``label``)."""
    column = result.extra.get("periods", {}).get("column") if isinstance(result.extra, Mapping) else None
    for stratum in result.strata:
        if column is not None and str(stratum.stratum.get(column)) == str(label):
            return stratum
    return None


def _ratio(summary: Mapping[str, Any], level: float) -> str:
    lower, upper = ends_at(summary, level) or (None, None)
    high = fmt.number(upper) if upper is not None else "no upper bound"
    return f"x{fmt.number(summary.get('median'))} ({fmt.level(level)} interval {fmt.number(lower)} to {high})"


def trend_sentence(result: Result, level: float) -> str | None:
    """``From 2009 to 2017 the estimated total changed by x0.99 (95% interval ...); probability that it
    fell: 0.51. Recorded counts fell 47% (144 to 76): the incidence x1.00 (...) times the reporting
    rate x0.53 (...), so ...`` -- or ``None`` when the result is not a trend with one series."""
    change = headline_change(result)
    if change is None:
        return None
    level = change_level(change, level)
    rate_name = str(change.get("rate_name") or _facts(result).get("rate_name") or "reporting rate")
    noun = str(change.get("noun") or _facts(result).get("noun") or "the incidence")
    probability = float(change["prob_decrease"])
    first = (f"From {change['from']} to {change['to']} the estimated total changed by "
             f"{_ratio(change['total_ratio'], level)}; probability that it fell: {_probability(probability)}.")
    recorded = change.get("recorded_ratio")
    moved = ("Recorded counts rose from 0" if recorded is None else "Recorded counts did not change"
             if abs(recorded - 1) < 0.005 else f"Recorded counts {'fell' if recorded < 1 else 'rose'} "
             f"{fmt.share(abs(1 - recorded))}")
    why = {
        "reporting": f"so the change in recorded counts reflects the {rate_name}, not {noun}",
        "incidence": f"so the change in recorded counts reflects {noun}, not the {rate_name}",
        "both": f"so both {noun} and the {rate_name} changed",
        "neither": f"and neither {noun} nor the {rate_name} changed clearly",
    }[attribution(change, level)]
    second = (f"{moved} ({change['recorded_from']:,} to {change['recorded_to']:,}): {noun} "
              f"{_ratio(change['incidence_ratio'], level)} times the {rate_name} "
              f"{_ratio(change['reporting_ratio'], level)}, {why}.")
    return f"{first} {second}"


def trend_headline_rows(result: Result, levels: tuple[float, ...],
                        count: Any) -> list[tuple[str, str, list[str]]] | None:
    """(label, value, [interval per level]) rows: the first and last period's totals, their ratio,
    its two factors, the probability of a fall, and the sum over the periods last; ``None`` when
    the result is not a trend with one series. ``count`` formats a count (suppression-aware)."""
    change = headline_change(result)
    if change is None:
        return None
    rows: list[tuple[str, str, list[str]]] = []
    for label in (change["from"], change["to"]):
        estimate = period_estimate(result, str(label))
        if estimate is not None and estimate.total is not None:
            total = estimate.total
            rows.append((f"Total in {label}", count(total.median()),
                         [fmt.interval(total.interval(level, result.interval_kind), count) for level in levels]))
    rate_name = str(change.get("rate_name") or _facts(result).get("rate_name") or "reporting rate")
    noun = str(change.get("noun") or _facts(result).get("noun") or "the incidence")
    factors = [("total_ratio", f"Change in the total, {change['to']} / {change['from']}"),
               ("incidence_ratio", f"  due to {noun.removeprefix('the ')} (x)"),
               ("reporting_ratio", f"  times the {rate_name} (x)")]
    if noun == "the total":  # list data: the total is the incidence, so its row would repeat the change
        factors = [factors[0], ("reporting_ratio", f"Change in the {rate_name}")]
    for key, label in factors:
        summary = change[key]
        rows.append((label, f"x{fmt.number(summary.get('median'))}",
                     [fmt.interval(ends_at(summary, level) or (None, None), fmt.number) for level in levels]))
    rows.append(("Probability that the total fell", _probability(float(change["prob_decrease"])), []))
    overall = result.overall
    if overall.total is not None:
        periods = len(result.extra.get("periods", {}).get("labels", [])) or len(result.strata)
        rows.append((f"Sum over the {periods} periods", count(overall.total.median()),
                     [fmt.interval(overall.total.interval(level, result.interval_kind), count) for level in levels]))
    return rows


def _facts(result: Result) -> Mapping[str, Any]:
    """The changes table's facts (``rate_name``, ``noun``)."""
    for table in result.extra.get("tables", []) if isinstance(result.extra, Mapping) else []:
        if isinstance(table, Mapping) and table.get("key") == "changes":
            facts = table.get("facts")
            return facts if isinstance(facts, Mapping) else {}
    return {}


def _probability(p: float) -> str:
    if p < 0.001:
        return "below 0.001"
    if p > 0.999:
        return "above 0.999"
    return f"{p:.2f}"


def headline_json(result: Result) -> dict[str, Any] | None:
    """The ``change`` object of a trend's JSON (numbers only): from, to, the three ratios, the
    probability of a fall, the attribution; ``None`` when the result has no headline change."""
    change = headline_change(result)
    if change is None:
        return None
    keys = ("from", "to", "kind", "recorded_from", "recorded_to", "recorded_ratio", "total_ratio", "incidence_ratio",
            "reporting_ratio", "prob_decrease", "prob_increase", "attribution")
    return {key: change[key] for key in keys if key in change}


__all__ = ["headline_change", "headline_json", "period_estimate", "trend_headline_rows", "trend_sentence"]
