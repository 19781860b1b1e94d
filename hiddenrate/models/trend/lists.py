r"""Change over time for list data: the periods fitted jointly (pooled) or one by one, changes from the draws.

A list file (0/1 list columns, ``count``) with a period column is split by period (and by the
``--by`` columns).

* a list model (``auto``: ``bma`` for 3-6 lists, ``bayes-2list`` for 2; or ``bma``,
  ``bayes-loglinear``, ``bayes-2list``, ``latent-class``): each period fitted on its own with
  :func:`hiddenrate.fit_lists` (:func:`hiddenrate.api.trend.list_trend_result`). Capture structure is then **not** pooled across periods, the
  periods are independent given the data, and the changes come from independent draws of each
  period's posterior. This is the default because it is exact (``bma``) and needs no MCMC.
* ``pooled`` (asked for with ``--model pooled``): all periods of a series in one Bayesian
  log-linear model whose list interactions are shared by all periods and whose list main effects
  follow a random walk (:mod:`hiddenrate.models.trend.lists_pooled_core`). The draws of the
  periods are joint, so the changes keep the correlation between periods, and a thin period
  borrows capture structure from its neighbours. Measured on 200 simulated 3-list, 4-period
  data sets (``tests/studies/pooled_list_trend_coverage.py``): the last period's 95% interval
  covers its total in 95.5%, but the first-to-last ratio's interval is too wide (99.0%), and
  73 of 200 fits at the default 4 x 1,000 draws have R-hat above 1.01 (the intercepts, main
  effects and interactions are strongly correlated; no divergences). Use more draws
  (``--draws 3000``) and read the diagnostics; it is not yet the default for these reasons.

The decomposition uses the share recorded (on at least one list) in place of a reporting rate:
:math:`n_t / n_s = (N_t / N_s) \times (n_t / N_t) / (n_s / N_s)`.

Maximum-likelihood models (``loglinear``, ``chapman`` ...) give no posterior to draw from and are
refused here: use ``pooled``, ``bma``, ``bayes-loglinear``, ``bayes-2list`` or ``latent-class``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from hiddenrate.data.periods import PeriodAxis, parse_period
from hiddenrate.core.distributions import DrawsDistribution, GridDistribution
from hiddenrate.core.exceptions import DataError, EstimationError, ModelError
from hiddenrate.core.settings import EXACT_DRAWS, stratum_seeds
from hiddenrate.models.trend.changes import SeriesDraws, changes_table, compute_changes, default_pairs, parse_pairs
from hiddenrate.models.trend.lists_pooled import POOLED
from hiddenrate.result.value import Result, StratumEstimate

#: draws per period taken from exact (grid) posteriors
GRID_DRAWS = EXACT_DRAWS
NOT_POOLED = ("Periods are fitted separately with the list model: capture structure is not pooled across periods, and "
              "each period's estimate uses only that period's lists.")
POOLED_STRUCTURE = "pooled across periods (shared interactions; main effects follow a random walk)"


def period_trend(result: Result, *, column: str, axis: PeriodAxis, by: Sequence[str], seed: int,
                 compare: Sequence[str], default_changes: bool, source: str, structure: str,
                 note: str | None) -> Result:
    """A fitted result with one stratum per period (and series) turned into a trend result.

    Orders the strata by period, takes each period's posterior draws of the total, and computes
    the changes between periods with the share recorded in place of a reporting rate (shared by
    the list path and the ``hiddenrate combine`` path).

    Parameters
    ----------
    result
        Strata keyed by ``by`` and the period ``column``; each with a posterior of the total.
    column, axis, by
        The period column, its ordered periods, the other stratum columns.
    seed
        Seeds the resampling of exact posteriors.
    compare, default_changes
        As :func:`hiddenrate.fit_trend`.
    source
        Names the data in messages.
    structure
        ``details.capture_structure``: how capture structure relates across periods.
    note
        An assumption to add (e.g. that periods were fitted separately), or ``None``.
    """
    rng = np.random.default_rng(stratum_seeds(int(seed), 1)[0])
    series: list[dict[str, str]] = []
    cells: dict[tuple[int, int], StratumEstimate] = {}
    for stratum in result.strata:
        parsed = parse_period(str(stratum.stratum[column]))
        label = parsed.label if parsed is not None else str(stratum.stratum[column])
        key = {b: str(stratum.stratum[b]) for b in by}
        if key not in series:
            series.append(key)
        position = (series.index(key), axis.index(label))
        if position in cells:
            raise DataError(f"{source}: period {label} is written in two ways in column '{column}' (e.g. "
                            f"'{cells[position].stratum[column]}' and '{stratum.stratum[column]}'); write each period one way")
        cells[position] = dataclasses.replace(stratum, stratum={**key, column: label})
    ordered = _ordered(cells, series, axis, source)
    series_draws = [_series_draws(ordered[g], series[g], column, rng, result.model) for g in range(len(series))]
    if len(series) > 1:
        series_draws.append(SeriesDraws(label="all", recorded=np.sum([s.recorded for s in series_draws], axis=0),
                                        total=np.sum([s.total for s in series_draws], axis=0),
                                        rate=np.sum([s.recorded for s in series_draws], axis=0)
                                        / np.sum([s.total for s in series_draws], axis=0),
                                        rate_name="share recorded"))
    pairs = (default_pairs(len(axis.labels)) if default_changes else []) + parse_pairs(compare, axis)
    if not pairs:
        raise ModelError("no changes to compute: give --compare FROM:TO or keep the default changes")
    changes = compute_changes(series_draws, axis, pairs, result.levels, result.interval_kind)
    tables = [t for t in result.extra.get("tables", []) if isinstance(t, Mapping)]
    tables.append(changes_table(changes, series_draws, pairs, result.levels, result.interval_kind,
                                rate_name="share recorded"))
    summary = dict(result.input)
    summary["periods"] = axis.to_dict()
    return dataclasses.replace(
        result,
        command="trend",
        assumptions=result.assumptions if note is None else (*result.assumptions, note),
        strata=tuple(s for row in ordered for s in row),
        input=summary,
        extra={**dict(result.extra), "periods": axis.to_dict(), "changes": changes, "figure": "trend", "tables": tables,
               "capture_structure": structure},
    )


def _ordered(cells: dict[tuple[int, int], StratumEstimate], series: list[dict[str, str]], axis: PeriodAxis,
             source: str) -> list[list[StratumEstimate]]:
    out = []
    for g, key in enumerate(series):
        row = []
        for t, label in enumerate(axis.labels):
            if (g, t) not in cells:
                what = ", ".join(f"{k}={v}" for k, v in key.items())
                raise DataError(f"{source}: {'stratum ' + what if what else 'the file'} has no records for period {label}; "
                                "every stratum needs every period")
            row.append(cells[(g, t)])
        out.append(row)
    return out


def _draws(estimate: StratumEstimate, rng: np.random.Generator, model: str) -> np.ndarray:
    total = estimate.total
    if total is None:
        raise EstimationError(f"no estimate for {estimate.label}: {estimate.reason}; no change can be computed")
    if isinstance(total, DrawsDistribution):
        return np.asarray(total.draws)
    if isinstance(total, GridDistribution):
        return total.sample(GRID_DRAWS, rng)
    raise ModelError(f"changes between periods need a posterior, and the {model} model gives a maximum-likelihood "
                     "estimate; use --model bma, bayes-loglinear, bayes-2list or latent-class")


def _series_draws(row: list[StratumEstimate], key: dict[str, str], column: str, rng: np.random.Generator,
                  model: str) -> SeriesDraws:
    per_period = [_draws(estimate, rng, model) for estimate in row]
    size = min(d.size for d in per_period)
    # periods are independent (fitted separately): align draw counts by resampling without replacement
    total = np.column_stack([d if d.size == size else rng.choice(d, size=size, replace=False) for d in per_period])
    recorded = np.array([estimate.observed for estimate in row], dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, recorded[None, :] / np.maximum(total, 1), 1.0)
    label = ", ".join(f"{k}={v}" for k, v in key.items()) or "all"
    return SeriesDraws(label=label, recorded=recorded, total=total.astype(float), rate=share, stratum=dict(key),
                       rate_name="share recorded")


__all__ = ["GRID_DRAWS", "NOT_POOLED", "POOLED", "POOLED_STRUCTURE", "period_trend"]
