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
from hiddenrate.result.table import Column, build, report_levels
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
    p_decrease = float(np.mean(series.total[:, end] < series.total[:, start]))
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
    }


def compute_changes(series_list: Sequence[SeriesDraws], axis: PeriodAxis, pairs: Sequence[tuple[int, int, str]],
                    levels: tuple[float, ...], interval_kind: str) -> list[dict[str, Any]]:
    """Every requested change for every series (see :func:`change`)."""
    main_level = headline_level(levels)
    return [change(series, axis, start, end, kind, levels, interval_kind, main_level)
            for series in series_list for start, end, kind in pairs]


def changes_table(changes: Sequence[dict[str, Any]], series_list: Sequence[SeriesDraws],
                  pairs: Sequence[tuple[int, int, str]], levels: tuple[float, ...], interval_kind: str,
                  rate_name: str = "reporting rate") -> dict[str, Any]:
    """The ``Change between periods`` table (``details["tables"]``): one row per change, its
    ratios at every report level (from the same draws as ``changes``, in the same order)."""
    ladder = report_levels(levels)
    several = len({c["series"] for c in changes}) > 1
    cells = [_ratio_cells(series, start, end, ladder, interval_kind) for series in series_list for start, end, _ in pairs]
    rows = []
    for c, ratios in zip(changes, cells, strict=True):
        row = [c["series"]] if several else []
        row += [c["from"], c["to"], c["recorded_from"], c["recorded_to"], ratios["total_ratio"], c["prob_decrease"],
                ratios["incidence_ratio"], ratios["reporting_ratio"], c["attribution"]]
        rows.append(row)
    columns = [Column("series")] if several else []
    columns += [Column("from"), Column("to"), Column("recorded from", "count"), Column("recorded to", "count"),
                Column("ratio of totals ({level})", "number", "inline"), Column("P(decrease)", "probability"),
                Column("incidence x ({level})", "number", "inline"), Column(f"{rate_name} x ({{level}})", "number", "inline"),
                Column("change due to")]
    index = next((i for i, c in enumerate(changes) if c["kind"] == "first to last"), 0 if changes else None)
    facts: dict[str, Any] = {"rate_name": series_list[0].rate_name if series_list else rate_name,
                             "noun": "the incidence" if series_list and series_list[0].incidence is not None
                             else "the total"}
    if index is not None:
        keys = ("series", "stratum", "from", "to", "recorded_from", "recorded_to", "recorded_ratio", "prob_decrease")
        facts["first"] = {**{k: changes[index][k] for k in keys}, **cells[index], "rate_name": facts["rate_name"],
                          "noun": facts["noun"]}
    note = ("Ratios are to / from: posterior median ({level} interval), from the joint draws. Recorded counts change by "
            f"incidence x {rate_name}; 'change due to' names the factor(s) whose interval excludes 1. P(decrease) is the "
            "probability that the true total fell.")
    return build("Change between periods", columns, rows, note, key="changes", facts=facts)


def _ratio_cells(series: SeriesDraws, start: int, end: int, levels: tuple[float, ...],
                 interval_kind: str) -> dict[str, Any]:
    """The three ratios of one change as interval cells at ``levels`` (same draws as :func:`change`)."""
    total = _ratio(series.total[:, end], series.total[:, start])
    rate = _ratio(series.rate[:, end], series.rate[:, start])
    incidence = total if series.incidence is None else _ratio(series.incidence[:, end], series.incidence[:, start])
    return {name: {k: v for k, v in _ratio_summary(draws, levels, interval_kind).items() if k != "mean"}
            for name, draws in (("total_ratio", total), ("incidence_ratio", incidence), ("reporting_ratio", rate))}


__all__ = ["ATTRIBUTIONS", "SeriesDraws", "change", "changes_table", "compute_changes", "default_pairs", "parse_pairs"]
