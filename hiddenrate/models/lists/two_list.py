r"""Two-list estimators: Lincoln–Petersen, Chapman, and a Bayesian model with explicit dependence.

With two lists the cells are :math:`n_{11}` (on both), :math:`n_{10}`, :math:`n_{01}`; the
fourth, :math:`n_{00}`, is what we estimate. Three counts cannot identify four quantities
(:math:`N`, two capture probabilities and the dependence between lists), so every two-list
estimate rests on an assumption about dependence. The classical estimators assume none
(independent lists); the Bayesian model makes the assumption an explicit prior on the log
odds ratio :math:`\gamma` between the lists:

.. math::

    n_{00} = e^{\gamma}\, n_{10} n_{01} / n_{11}

in expectation, so positive dependence (the lists tend to catch the same people, e.g. an NGO
refers its clients to the police) means *more* people are hidden than independence says.

References
----------
Seber, G. A. F. (1982). *The Estimation of Animal Abundance*, 2nd ed., §3.1.
Chapman, D. G. (1951). Some properties of the hypergeometric distribution with applications to
zoological sample censuses. *Univ. California Publ. Statist.* 1, 131–160.
Chao, A. (1987). Estimating the population size for capture-recapture data with unequal
catchability. *Biometrics* 43, 783–791 (log-normal interval for the hidden count).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from hiddenrate.core.caveats import Caveat
from hiddenrate.core.settings import EXACT_DRAWS
from hiddenrate.core import diagnostics as diag
from hiddenrate.data.lists import ListTable
from hiddenrate.core.distributions import DrawsDistribution, PointEstimate
from hiddenrate.core.quantiles import normal_ppf
from hiddenrate.core.exceptions import ModelError
from hiddenrate.models.lists.base import ListModel
from hiddenrate.result.value import StratumEstimate


def two_list_cells(table: ListTable) -> tuple[int, int, int]:
    """``(n11, n10, n01)`` of a two-list table."""
    if table.k != 2:
        raise ModelError(f"a two-list estimator needs exactly 2 lists; the data have {table.k} (use --lists A,B)")
    c = table.counts
    return int(c[3]), int(c[1]), int(c[2])


def no_overlap_reason(names: tuple[str, ...]) -> str:
    """The plain answer when two lists have nobody in common."""
    return (
        f"lists {names[0]} and {names[1]} have nobody in common, so the data are consistent with a population "
        "of any size: there is no upper bound without an assumption (for example, from a survey, the share of "
        "victims that one of the lists reaches)"
    )


def independence_caveat(log_odds_ratio: tuple[float, float] | None = None) -> Caveat:
    """The warning every two-list result carries: the dependence between the lists is assumed (independence,
    or the prior ``(mu, sigma)`` on their log odds ratio), and two lists cannot check it."""
    mu, sigma = log_odds_ratio if log_odds_ratio is not None else (0.0, 0.0)
    if mu == 0 and sigma == 0:
        assumed = ("two lists cannot show whether they are independent, and this estimate assumes they are; police and "
                   "NGO lists rarely are (an NGO refers people to the police, so the same people turn up on both, and "
                   "then more are hidden than independence says)")
    else:
        assumed = ("two lists cannot show how dependent they are: this estimate takes their dependence from the "
                   "prior you gave (--dependence), not from the data")
    return Caveat(f"{assumed}; a third list, or a survey of one list's reach combined with these lists (hiddenrate "
                  "combine), would measure the dependence", "independence-assumed")


def lognormal_interval(observed: int, hidden: float, variance: float, level: float) -> tuple[float, float]:
    """Chao's (1987) log-normal interval for the total: the hidden count varies on the log scale,
    so the lower end is never below the observed count."""
    if hidden <= 0 or variance <= 0:
        return float(observed + max(hidden, 0.0)), float(observed + max(hidden, 0.0))
    z = normal_ppf(0.5 + level / 2)
    spread = np.exp(z * np.sqrt(np.log1p(variance / hidden**2)))
    return float(observed + hidden / spread), float(observed + hidden * spread)


class _ClassicalTwoList(ListModel):
    min_lists = 2
    max_lists = 2
    estimate_type = "point estimate (closed form)"
    interval_type = "log-normal confidence interval for the hidden count (Chao 1987)"
    assumptions: ClassVar[tuple[str, ...]] = (
        "The two lists are independent: being on one does not change the chance of being on the other "
        "(two lists alone cannot check this).",
        "Closed population: the same people could have been on either list.",
        "Everyone on a list has the same chance of being on the other list (no heterogeneity).",
        "Records are matched correctly across the lists.",
    )

    def _estimate(self, n11: int, n1: int, n2: int) -> tuple[float, float]:
        raise NotImplementedError

    def fit_table(self, table: ListTable, *, levels: tuple[float, ...], seed: int, interval_kind: str) -> StratumEstimate:
        n11, n10, n01 = two_list_cells(table)
        n1, n2 = n11 + n10, n11 + n01
        observed = table.observed
        method = diag.exact(f"closed form ({self.title})")
        if n11 == 0:
            return StratumEstimate(
                stratum=table.stratum, observed=observed, total=None, diagnostics=method, reason=no_overlap_reason(table.names)
            )
        total, variance = self._estimate(n11, n1, n2)
        hidden = total - observed
        intervals = {level: lognormal_interval(observed, hidden, variance, level) for level in levels}
        warnings = []
        if n11 < 10:
            warnings.append(
                f"only {n11} people are on both lists: the estimate rests on a very small overlap and is fragile"
            )
        return StratumEstimate(
            stratum=table.stratum,
            observed=observed,
            total=PointEstimate(total, intervals, self.interval_type),
            diagnostics=method,
            warnings=tuple(warnings),
            details={"n11": n11, "n10": n10, "n01": n01, "standard_error": float(np.sqrt(variance))},
        )


    def combine_points(self, estimates: list[StratumEstimate], tables: tuple[ListTable, ...],
                       levels: tuple[float, ...]) -> PointEstimate | None:
        """Independent strata: hidden counts and variances add; the same log-normal interval."""
        observed = sum(e.observed for e in estimates)
        hidden = sum(float(e.total.median() or 0.0) - e.observed for e in estimates if e.total is not None)
        variance = sum(float(e.details.get("standard_error", 0.0)) ** 2 for e in estimates)
        intervals = {level: lognormal_interval(observed, hidden, variance, level) for level in levels}
        return PointEstimate(observed + hidden, intervals, "sum over independent strata; " + self.interval_type)


class LincolnPetersen(_ClassicalTwoList):
    r"""Lincoln–Petersen estimator :math:`\hat N = n_1 n_2 / n_{11}`.

    Variance :math:`n_1 n_2 (n_1 - n_{11})(n_2 - n_{11}) / n_{11}^3` (Seber 1982, 3.4).
    Biased upwards in small samples; prefer Chapman. No estimate when :math:`n_{11} = 0`.
    """

    name = "lincoln-petersen"
    title = "Lincoln–Petersen estimator"
    description = "Two lists assumed independent: total = (size of list 1 x size of list 2) / number on both."

    def _estimate(self, n11: int, n1: int, n2: int) -> tuple[float, float]:
        total = n1 * n2 / n11
        variance = n1 * n2 * (n1 - n11) * (n2 - n11) / n11**3
        return total, variance


class Chapman(_ClassicalTwoList):
    r"""Chapman's nearly unbiased estimator :math:`\hat N = (n_1+1)(n_2+1)/(n_{11}+1) - 1`.

    Variance :math:`(n_1+1)(n_2+1)(n_1-n_{11})(n_2-n_{11}) / ((n_{11}+1)^2 (n_{11}+2))`
    (Seber 1982, 3.7). With :math:`n_{11} = 0` the formula is finite only because of its
    ``+1``; the data then give no upper bound, so no estimate is reported.
    """

    name = "chapman"
    title = "Chapman estimator"
    description = "Two lists assumed independent; Chapman's small-sample correction of Lincoln–Petersen."

    def _estimate(self, n11: int, n1: int, n2: int) -> tuple[float, float]:
        total = (n1 + 1) * (n2 + 1) / (n11 + 1) - 1
        variance = (n1 + 1) * (n2 + 1) * (n1 - n11) * (n2 - n11) / ((n11 + 1) ** 2 * (n11 + 2))
        return total, variance


DEFAULT_TWO_LIST_PRIORS: dict[str, dict[str, float]] = {
    # log odds ratio between the lists; sigma = 0 fixes it (independence is the default assumption)
    "log_odds_ratio": {"mu": 0.0, "sigma": 0.0},
}


class BayesTwoList(ListModel):
    r"""Bayesian two-list model with an explicit prior on list dependence.

    .. math::

        n_c \sim \text{Poisson}(\mu_c),\ c \in \{10, 01, 11\}, \qquad
        p(\mu_c) \propto 1/\mu_c, \qquad
        \gamma \sim \text{Normal}(m, s), \qquad
        n_{00} \sim \text{Poisson}\!\left(e^{\gamma} \mu_{10}\mu_{01}/\mu_{11}\right).

    The log-uniform priors on the cell means are the scale-invariant prior
    :math:`p(N) \propto 1/N` (see docs/methods.md#two-lists); the posterior of each :math:`\mu_c` is then
    exactly Gamma(:math:`n_c`, 1), and :math:`\gamma` is not informed by the data: its
    posterior is its prior. So the posterior is sampled exactly with independent draws — no
    MCMC, nothing to converge. Default :math:`s = 0`: independence, stated as an assumption.

    Parameters
    ----------
    log_odds_ratio
        ``(mu, sigma)`` of the Normal prior on the log odds ratio between the lists; for example
        ``(np.log(2), 0.35)`` says "being on one list roughly doubles the odds of being on the
        other (between about 1 and 4)".
    draws
        Number of independent posterior draws.
    """

    name = "bayes-2list"
    option_names: ClassVar[tuple[str, ...]] = ("log_odds_ratio",)
    title = "Bayesian two-list model with a dependence prior"
    description = "Two lists with an explicit prior on their dependence (log odds ratio); exact posterior draws."
    estimate_type = "posterior median"
    interval_type = "credible interval"
    min_lists = 2
    max_lists = 2

    def __init__(self, log_odds_ratio: tuple[float, float] | None = None, draws: int = EXACT_DRAWS) -> None:
        mu, sigma = log_odds_ratio if log_odds_ratio is not None else (0.0, 0.0)
        if not np.isfinite(mu) or not np.isfinite(sigma) or sigma < 0:
            raise ModelError(f"the log odds ratio prior needs a finite mean and a standard deviation >= 0, got ({mu}, {sigma})")
        if draws < 100:
            raise ModelError(f"draws must be at least 100, got {draws}")
        self.log_odds_ratio = (float(mu), float(sigma))
        self.draws = int(draws)

    @property
    def assumptions(self) -> tuple[str, ...]:  # type: ignore[override]
        mu, sigma = self.log_odds_ratio
        if sigma == 0 and mu == 0:
            dependence = "The two lists are independent (the default; two lists alone cannot check this)."
        elif sigma == 0:
            dependence = f"The odds ratio between the lists is fixed at {np.exp(mu):.3g} (an assumption, not estimated)."
        else:
            low, high = np.exp(mu - 1.96 * sigma), np.exp(mu + 1.96 * sigma)
            dependence = (
                f"The odds ratio between the lists is between {low:.3g} and {high:.3g} with 95% prior probability "
                "(an assumption: the data cannot inform it)."
            )
        return (
            dependence,
            "Closed population: the same people could have been on either list.",
            "Records are matched correctly across the lists.",
        )

    def priors(self) -> dict[str, Any]:
        mu, sigma = self.log_odds_ratio
        return {
            "log_odds_ratio": {"distribution": "normal" if sigma > 0 else "fixed", "mu": mu, "sigma": sigma},
            "cell_means": {"distribution": "log-uniform (p(mu) ∝ 1/mu)", "equivalent": "p(N) ∝ 1/N"},
        }

    def options(self) -> dict[str, Any]:
        return {"draws": self.draws}

    def fit_table(self, table: ListTable, *, levels: tuple[float, ...], seed: int, interval_kind: str) -> StratumEstimate:
        n11, n10, n01 = two_list_cells(table)
        observed = table.observed
        method = diag.Diagnostics(
            method=f"exact posterior: {self.draws} independent draws (no MCMC)",
            converged=True,
            ess_bulk_min=float(self.draws),
            ess_tail_min=float(self.draws),
            chains=1,
            draws=self.draws,
        )
        if n11 == 0:
            return StratumEstimate(
                stratum=table.stratum, observed=observed, total=None, diagnostics=method, reason=no_overlap_reason(table.names)
            )
        rng = np.random.default_rng(seed)
        mu11 = rng.gamma(n11, size=self.draws)
        mu10 = rng.gamma(n10, size=self.draws) if n10 > 0 else np.zeros(self.draws)
        mu01 = rng.gamma(n01, size=self.draws) if n01 > 0 else np.zeros(self.draws)
        mu, sigma = self.log_odds_ratio
        gamma = rng.normal(mu, sigma, size=self.draws) if sigma > 0 else np.full(self.draws, mu)
        hidden_mean = np.exp(gamma) * mu10 * mu01 / mu11
        hidden = rng.poisson(hidden_mean)
        total = observed + hidden
        warnings = []
        if n11 < 10:
            warnings.append(f"only {n11} people are on both lists: the estimate rests on a very small overlap")
        if n10 == 0 or n01 == 0:
            inner, outer = (table.names[0], table.names[1]) if n10 == 0 else (table.names[1], table.names[0])
            warnings.append(
                f"everyone on {inner} is also on {outer}: the model then says nobody is missing, which more likely "
                f"means {inner} is drawn from {outer} (strong dependence) than that the count is complete"
            )
        if sigma > 0:
            warnings.append(
                "the width of this interval comes partly from the dependence prior, which the data cannot check"
            )
        return StratumEstimate(
            stratum=table.stratum,
            observed=observed,
            total=DrawsDistribution(total),
            diagnostics=method,
            warnings=tuple(warnings),
            details={"n11": n11, "n10": n10, "n01": n01, "odds_ratio_median": float(np.exp(np.median(gamma)))},
        )
