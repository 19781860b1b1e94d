r"""Checks of the joint model: does each piece of evidence agree with the rest?

Conflict check (node splitting)
-------------------------------
A survey measures one source's capture probability :math:`p_j` directly. The rest of the
evidence (the matched lists, the other surveys, the population route; for unlinked counts the
source's own count and the other sources) implies :math:`p_j` too. The check fits the joint model
*without* the survey, giving the posterior of :math:`p_j` from the rest (:math:`A`), and compares
it with what the survey says alone, :math:`B \sim \text{Beta}(\alpha + r_j, \beta + m_j - r_j)`
(uniform prior). If both describe the same :math:`p_j`, their difference is centred on zero; the
two-sided conflict p-value is

.. math::

    p = 2 \min\{P(A > B),\ P(A < B)\}, \qquad P(A > B) = \mathbb E_A[F_B(A)],

computed from the draws of :math:`A` and the exact Beta CDF of :math:`B` (Marshall &
Spiegelhalter 2007; Presanis et al. 2013). The population route is split the same way on the
total (the route alone against the rest). Below :data:`CONFLICT_LEVEL` the check fires: the
pieces disagree beyond their uncertainty, and the combined estimate should not be used as it
stands. With one check on consistent data it fires about 5% of the time (measured in
``tests/test_combine_coverage.py``: 4.0% of 200 three-list data sets; with two unlinked counts
and their surveys, either check fired in 6.0%); each further independent piece checked adds
about as much.

A piece can only be checked if the rest identifies its quantity on its own. Two matched lists
without any other evidence do not identify :math:`p_j` (the dependence between them is set by
its prior): then the table says "cannot be checked" rather than printing a p-value that could
never be small.

Posterior predictive check
--------------------------
Replicates of the observed cells (and survey counts) are drawn from the joint posterior; the
Freeman–Tukey discrepancy :math:`T = \sum (\sqrt{y} - \sqrt{E})^2` of the data is compared
with that of the replicates (:math:`p_{\text{ppc}} = P(T_{\text{rep}} \ge T_{\text{obs}})`,
Gelman, Meng & Stern 1996). Such p-values are conservative (the data are used twice): a small
value means the model does not reproduce the data; a large one proves little, and with two
lists and one survey the model fits the cells exactly.

References
----------
Marshall, E. C. & Spiegelhalter, D. J. (2007). Identifying outliers in Bayesian hierarchical
models: a simulation-based approach. *Bayesian Analysis* 2, 409-444.
Presanis, A. M., Ohlssen, D., Spiegelhalter, D. J. & De Angelis, D. (2013). Conflict diagnostics
in directed acyclic graphs, with applications in Bayesian evidence synthesis. *Statistical
Science* 28, 376-397.
Gelman, A., Meng, X.-L. & Stern, H. (1996). Posterior predictive assessment of model fitness via
realized discrepancies. *Statistica Sinica* 6, 733-807.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import beta as beta_dist

from hiddenrate.data.spec import Survey
from hiddenrate.result.table import interval_cell, report_levels

#: below this conflict p-value the check fires
CONFLICT_LEVEL = 0.05
#: how the population route is named in the conflict check
ROUTE_LABEL = "population route"
#: below this posterior predictive p-value the model is said not to reproduce the data
PPC_LEVEL = 0.05


def ladder_cell(median: float | None, ends: Callable[[float], Sequence[float | None]], level: float) -> dict[str, Any]:
    """An interval cell at ``level`` and every report level (:func:`~hiddenrate.result.table.report_levels`)."""
    return interval_cell(median, ends, report_levels((level,)))


@dataclass(frozen=True)
class Summary:
    """Median and interval of a quantity at ``level``, for tables and warnings, with its
    ``cell`` at every report level (``{"median", "intervals"}``)."""

    median: float
    low: float
    high: float
    cell: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, draws: np.ndarray, level: float) -> Summary:
        """Equal-tailed summary of draws."""
        values = np.asarray(draws, dtype=float)
        low, median, high = np.quantile(values, [(1 - level) / 2, 0.5, (1 + level) / 2])
        return cls._with_cell(float(median), float(low), float(high), level,
                              lambda x: np.quantile(values, [(1 - x) / 2, (1 + x) / 2]))

    @classmethod
    def of_beta(cls, a: float, b: float, level: float) -> Summary:
        """Equal-tailed summary of a Beta(a, b)."""
        low, median, high = beta_dist.ppf([(1 - level) / 2, 0.5, (1 + level) / 2], a, b)
        return cls._with_cell(float(median), float(low), float(high), level,
                              lambda x: beta_dist.ppf([(1 - x) / 2, (1 + x) / 2], a, b))

    @classmethod
    def of_grid(cls, total: Any, level: float) -> Summary:
        """Summary of a grid posterior (an end it cannot give is 0)."""
        def ends(x: float) -> tuple[float, float]:
            low, high = total.interval(x)
            return float(low or 0.0), float(high or 0.0)
        return cls._with_cell(float(total.median()), *ends(level), level, ends)

    @classmethod
    def _with_cell(cls, median: float, low: float, high: float, level: float,
                   ends: Callable[[float], Sequence[float | None]]) -> Summary:
        return cls(median, low, high, ladder_cell(median, lambda x: (low, high) if abs(x - level) < 1e-9 else ends(x), level))

    def cells(self) -> list[float]:
        """``[median, low, high]``."""
        return [self.median, self.low, self.high]


@dataclass(frozen=True)
class Conflict:
    """One node split: a piece of evidence alone against the rest."""

    evidence: str
    quantity: str
    survey: str  # the counts behind the piece, ``195/711``
    alone: Summary | None
    rest: Summary | None
    p_value: float | None
    reason: str | None = None  # why it could not be checked
    hint: str = "The survey may describe another population, place or period, or the model of the lists is wrong"

    @property
    def fires(self) -> bool:
        """True when the piece and the rest disagree beyond their uncertainty."""
        return self.p_value is not None and self.p_value < CONFLICT_LEVEL

    @property
    def verdict(self) -> str:
        """Plain words for the table."""
        if self.p_value is None:
            return f"cannot be checked: {self.reason}" if self.reason else "cannot be checked"
        return "CONFLICT" if self.fires else "agree"

    def row(self) -> list[Any]:
        """Table row: evidence, survey counts, alone and rest (interval cells), p, verdict."""
        alone = self.alone.cell if self.alone is not None else None
        rest = self.rest.cell if self.rest is not None else None
        return [self.evidence, self.survey, alone, rest, self.p_value, self.verdict]

    def warning(self) -> str | None:
        """The warning when the check fires, else ``None``."""
        if not self.fires or self.alone is None or self.rest is None:
            return None
        share = "{:.0%}" if self.quantity.startswith("capture") else "{:,.0f}"
        return (
            f"{self.evidence} says the {self.quantity} is {share.format(self.alone.median)} "
            f"({share.format(self.alone.low)} to {share.format(self.alone.high)}), but the rest of the evidence says "
            f"{share.format(self.rest.median)} ({share.format(self.rest.low)} to {share.format(self.rest.high)}); they "
            f"disagree beyond their uncertainty (conflict p = {self.p_value:.2g}). {self.hint}: do not use the "
            "combined estimate as it stands"
        )


@dataclass(frozen=True)
class StratumFit:
    """What fitting one stratum gives: the estimate, draws for sums over strata, and table rows."""

    estimate: Any  # StratumEstimate
    totals: np.ndarray | None = None
    capture: dict[str, np.ndarray] | None = None
    sources_rows: list[list[Any]] | None = None
    joint_rows: list[list[Any]] | None = None
    conflict_rows: list[list[Any]] | None = None
    check_rows: list[list[Any]] | None = None
    check_p_value: float | None = None


def survey_conflict_p_value(rest_draws: np.ndarray, survey: Survey, prior: tuple[float, float] = (1.0, 1.0)) -> float:
    r"""Two-sided conflict p-value of a survey against the rest's draws of the same capture probability.

    :math:`P(A > B) = \mathbb E_A[F_B(A)]` with :math:`B \sim \text{Beta}(\alpha + r, \beta + m - r)`
    (the survey alone) and :math:`A` the rest's posterior (its draws); ``2 min(P, 1 - P)``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> round(survey_conflict_p_value(rng.beta(31, 71, 4000), Survey(300, 180)), 6)
    0.0
    """
    a, b = prior[0] + survey.reported, prior[1] + survey.surveyed - survey.reported
    above = float(np.mean(beta_dist.cdf(np.asarray(rest_draws, dtype=float), a, b)))
    return float(min(1.0, 2 * min(above, 1 - above)))


def draws_conflict_p_value(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided ``2 min(P(A > B), P(A < B))`` for independent draws (ties split evenly)."""
    sorted_b = np.sort(np.asarray(b, dtype=float))
    values = np.asarray(a, dtype=float)
    below = np.searchsorted(sorted_b, values, side="left")
    at_or_below = np.searchsorted(sorted_b, values, side="right")
    greater = float(np.mean(below + (at_or_below - below) / 2) / sorted_b.size)
    return float(min(1.0, 2 * min(greater, 1 - greater)))


def freeman_tukey(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Freeman–Tukey discrepancy per draw (rows of ``expected``; ``observed`` broadcasts)."""
    return np.sum((np.sqrt(observed) - np.sqrt(expected)) ** 2, axis=-1)


def predictive_check(observed: np.ndarray, expected: np.ndarray, replicate: np.ndarray, labels: list[str],
                     level: float) -> tuple[list[list[Any]], float]:
    """Rows (label, observed, predictive interval cell) and the posterior predictive p-value.

    Parameters
    ----------
    observed
        Observed values (cells and survey counts), shape ``(q,)``.
    expected
        Their expectations under each posterior draw, shape ``(draws, q)``.
    replicate
        Replicated data drawn from each posterior draw, shape ``(draws, q)``.
    labels
        What each value is.
    level
        Level of the predictive intervals.
    """
    t_observed = freeman_tukey(observed[None, :], expected)
    t_replicate = freeman_tukey(replicate, expected)
    p_value = float(np.mean(t_replicate >= t_observed))
    low, median, high = np.quantile(replicate, [(1 - level) / 2, 0.5, (1 + level) / 2], axis=0)
    rows = []
    for i, (label, y) in enumerate(zip(labels, observed, strict=True)):
        def ends(x: float, i: int = i) -> Sequence[float]:
            return (low[i], high[i]) if abs(x - level) < 1e-9 else np.quantile(replicate[:, i], [(1 - x) / 2, (1 + x) / 2])
        rows.append([label, float(y), ladder_cell(float(median[i]), ends, level)])
    return rows, p_value


def ppc_warning(p_value: float) -> str | None:
    """The warning when the model does not reproduce the observed data."""
    if p_value >= PPC_LEVEL:
        return None
    return (f"the model does not reproduce the observed counts (posterior predictive p = {p_value:.2g}): the lists' "
            "dependence model, or a survey, does not fit; see the posterior predictive table")


def resample(draws: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``draws`` with exactly ``size`` entries (a random subset, or resampled with replacement)."""
    draws = np.asarray(draws)
    if draws.size == size:
        return draws
    return rng.choice(draws, size=size, replace=draws.size < size)


__all__ = [
    "CONFLICT_LEVEL",
    "PPC_LEVEL",
    "ROUTE_LABEL",
    "Conflict",
    "StratumFit",
    "Summary",
    "draws_conflict_p_value",
    "freeman_tukey",
    "ladder_cell",
    "ppc_warning",
    "predictive_check",
    "resample",
    "survey_conflict_p_value",
]
