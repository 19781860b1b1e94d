r"""Change between periods, from the joint posterior draws: ratios, probabilities, decomposition.

For periods :math:`s` (from) and :math:`t` (to) of one series, draw by draw:

* the ratio of totals :math:`N_t / N_s` and the probability of a decrease :math:`P(N_t < N_s)`;
* the change in incidence :math:`\lambda_t / \lambda_s` and in reporting :math:`p_t / p_s`,
  whose product is the change in the expected recorded count,
  :math:`(\lambda_t p_t) / (\lambda_s p_s)` (docs/methods.md#change-over-time).

Because the factors come from the same draws, their intervals are those of a joint posterior:
the decomposition is exact draw by draw, not a product of separate intervals. A factor whose
interval (at the main level, 95% by default) excludes 1 has changed; the change in recorded
counts is then attributed to reporting, to incidence, to both or to neither.

For list data the same holds with the total in place of the incidence and the share recorded
(on at least one list) in place of the reporting rate: :math:`n_t / n_s = (N_t / N_s)
\times (n_t / N_t) / (n_s / N_s)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hiddenrate.data.periods import PeriodAxis
from hiddenrate.core.distributions import DrawsDistribution, summarise
from hiddenrate.core.exceptions import DataError, ModelError
from hiddenrate.render import numbers as fmt
from hiddenrate.core.settings import headline_level

ATTRIBUTIONS = ("reporting", "incidence", "both", "neither")


@dataclass(frozen=True)
class SeriesDraws:
    """Joint draws of one series over the periods (arrays of shape (draws, periods)).

    ``incidence`` is the expected total :math:`\\lambda` (``None`` for list data, where the
    total itself is the incidence); ``rate`` the reporting rate (or the share recorded).
    """

    label: str
    recorded: np.ndarray
    total: np.ndarray
    rate: np.ndarray
    incidence: np.ndarray | None = None
    stratum: dict[str, str] = field(default_factory=dict)
    rate_name: str = "reporting rate"


def default_pairs(n_periods: int) -> list[tuple[int, int, str]]:
    """First to last, then each consecutive pair: ``(from, to, kind)``."""
    pairs = [(0, n_periods - 1, "first to last")]
    pairs.extend((t, t + 1, "consecutive") for t in range(n_periods - 1) if (t, t + 1) != (0, n_periods - 1))
    return pairs


def parse_pairs(specs: Sequence[str], axis: PeriodAxis) -> list[tuple[int, int, str]]:
    """``["2009:2017", "2014:2015"]`` -> index pairs (the ratio is the second over the first).

    Raises
    ------
    ModelError
        A pair not written ``FROM:TO``, a period that is not in the data, or a period compared with itself.
    """
    pairs = []
    for spec in specs:
        parts = [p.strip() for p in str(spec).split(":")]
        if len(parts) != 2 or not all(parts):
            raise ModelError(f"--compare '{spec}' should be FROM:TO, e.g. {axis.labels[0]}:{axis.labels[-1]}")
        try:
            start, end = axis.index(parts[0]), axis.index(parts[1])
        except DataError as err:  # a period not in the data: the user's option, so a ModelError here
            raise ModelError(f"--compare '{spec}': {err}") from None
        if start == end:
            raise ModelError(f"--compare '{spec}' compares a period with itself; give two different periods")
        pairs.append((start, end, "requested"))
    return pairs


def _ratio_summary(draws: np.ndarray, levels: tuple[float, ...], kind: str) -> dict[str, Any]:
    """Median, mean and intervals of ratio draws; a ratio over a zero draw is infinite (an open end)."""
    if np.all(np.isfinite(draws)):
        return summarise(DrawsDistribution(draws), levels, kind)
    out: dict[str, Any] = {"median": float(np.median(draws)), "mean": None, "intervals": {}}
    for level in levels:
        lower, upper = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
        out["intervals"][f"{level:g}"] = [float(lower) if np.isfinite(lower) else None,
                                          float(upper) if np.isfinite(upper) else None]
    if not np.isfinite(out["median"]):
        out["median"] = None
    return out


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.asarray(numerator, dtype=float) / np.asarray(denominator, dtype=float)
    return np.where(np.isnan(ratio), 1.0, ratio)  # 0 / 0: no change


def _ends(summary: dict[str, Any], level: float) -> tuple[float | None, float | None]:
    lower, upper = summary["intervals"][f"{level:g}"]
    return lower, upper


def _changed(summary: dict[str, Any], level: float) -> bool:
    lower, upper = _ends(summary, level)
    return (upper is not None and upper < 1) or (lower is not None and lower > 1)


def _factor_text(summary: dict[str, Any], level: float) -> str:
    lower, upper = _ends(summary, level)
    return f"x{fmt.number(summary['median'])} ({fmt.level(level)} interval {fmt.number(lower)} to " \
           f"{fmt.number(upper) if upper is not None else 'no upper bound'})"


def _movement(ratio: float | None, noun: str) -> str:
    if ratio is None:
        return f"{noun} rose from 0"
    if abs(ratio - 1) < 0.005:
        return f"{noun} did not change"
    return f"{noun} {'fell' if ratio < 1 else 'rose'} {fmt.share(abs(1 - ratio))}"


def change(series: SeriesDraws, axis: PeriodAxis, start: int, end: int, kind: str, levels: tuple[float, ...],
           interval_kind: str, main_level: float) -> dict[str, Any]:
    """The change from period ``start`` to ``end`` of one series (a JSON-ready dict)."""
    total = _ratio(series.total[:, end], series.total[:, start])
    rate = _ratio(series.rate[:, end], series.rate[:, start])
    incidence = total if series.incidence is None else _ratio(series.incidence[:, end], series.incidence[:, start])
    recorded_from, recorded_to = int(series.recorded[start]), int(series.recorded[end])
    recorded_ratio = recorded_to / recorded_from if recorded_from > 0 else None
    summaries = {name: _ratio_summary(draws, levels, interval_kind) for name, draws in
                 (("total_ratio", total), ("incidence_ratio", incidence), ("reporting_ratio", rate),
                  ("expected_recorded_ratio", incidence * rate))}
    incidence_changed = _changed(summaries["incidence_ratio"], main_level)
    reporting_changed = _changed(summaries["reporting_ratio"], main_level)
    attribution = ("both" if incidence_changed and reporting_changed else "incidence" if incidence_changed
                   else "reporting" if reporting_changed else "neither")
    noun = "the incidence" if series.incidence is not None else "the total"
    verdict = {
        "reporting": f"the change in recorded counts reflects a change in the {series.rate_name}; the data show no clear "
                     f"change in {noun}",
        "incidence": f"the change reflects a change in {noun}; the data show no clear change in the {series.rate_name}",
        "both": f"both {noun} and the {series.rate_name} changed",
        "neither": f"neither {noun} nor the {series.rate_name} changed clearly",
    }[attribution]
    where = f"{series.label}: " if series.label != "all" or series.stratum else ""
    p_decrease = float(np.mean(series.total[:, end] < series.total[:, start]))
    sentence = (
        f"{where}{_movement(recorded_ratio, 'recorded counts').capitalize()} from {axis.labels[start]} to "
        f"{axis.labels[end]} ({recorded_from:,} to {recorded_to:,}). {noun.capitalize()} changed by "
        f"{_factor_text(summaries['incidence_ratio'], main_level)} and the {series.rate_name} by "
        f"{_factor_text(summaries['reporting_ratio'], main_level)}: {verdict}. Probability that the true total "
        f"fell: {p_decrease:.2f}."
    )
    return {
        "series": series.label,
        "stratum": dict(series.stratum),
        "from": axis.labels[start],
        "to": axis.labels[end],
        "kind": kind,
        "recorded_from": recorded_from,
        "recorded_to": recorded_to,
        "recorded_ratio": recorded_ratio,
        **summaries,
        "prob_decrease": p_decrease,
        "prob_increase": float(np.mean(series.total[:, end] > series.total[:, start])),
        "prob_incidence_decrease": float(np.mean(incidence < 1)),
        "prob_reporting_decrease": float(np.mean(rate < 1)),
        "attribution": attribution,
        "sentence": sentence,
    }


def compute_changes(series_list: Sequence[SeriesDraws], axis: PeriodAxis, pairs: Sequence[tuple[int, int, str]],
                    levels: tuple[float, ...], interval_kind: str) -> list[dict[str, Any]]:
    """Every requested change for every series (see :func:`change`)."""
    main_level = headline_level(levels)
    return [change(series, axis, start, end, kind, levels, interval_kind, main_level)
            for series in series_list for start, end, kind in pairs]


def changes_table(changes: Sequence[dict[str, Any]], levels: tuple[float, ...], rate_name: str = "reporting rate") -> dict[str, Any]:
    """The ``Change between periods`` table (``details["tables"]``): one row per change."""
    level = headline_level(levels)
    several = len({c["series"] for c in changes}) > 1

    def factor(summary: dict[str, Any]) -> str:
        lower, upper = _ends(summary, level)
        return f"{fmt.number(summary['median'])} ({fmt.number(lower)} to {fmt.number(upper) if upper is not None else '∞'})"

    rows = []
    for c in changes:
        row = [c["series"]] if several else []
        row += [c["from"], c["to"], c["recorded_from"], c["recorded_to"], factor(c["total_ratio"]), c["prob_decrease"],
                factor(c["incidence_ratio"]), factor(c["reporting_ratio"]), c["attribution"]]
        rows.append(row)
    tag = fmt.level(level)
    columns = (["series"] if several else []) + [
        "from", "to", "recorded from", "recorded to", f"ratio of totals ({tag})", "P(decrease)",
        f"incidence x ({tag})", f"{rate_name} x ({tag})", "change due to"]
    first = next((c for c in changes if c["kind"] == "first to last"), changes[0] if changes else None)
    note = (f"Ratios are to / from: posterior median ({tag} interval), from the joint draws. Recorded counts change by "
            f"incidence x {rate_name}; 'change due to' names the factor(s) whose interval excludes 1. P(decrease) is the "
            "probability that the true total fell.")
    if first is not None:
        note = f"{first['sentence']} {note}"
    return {"title": "Change between periods", "columns": columns, "rows": rows, "note": note}


__all__ = ["ATTRIBUTIONS", "SeriesDraws", "change", "changes_table", "compute_changes", "default_pairs", "parse_pairs"]
