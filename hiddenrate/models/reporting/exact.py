r"""Exact posterior of the true count in one stratum from recorded counts, reporting surveys and
the population route — on a grid, no MCMC.

The model
---------
For one stratum, the true count :math:`N` (incidents or victims in the period) is recorded by
source :math:`k` with probability :math:`p_k`, independently per incident and across sources:

.. math::

    N \sim \text{Poisson}(\lambda), \quad y_k \mid N \sim \text{Binomial}(N, p_k), \quad
    r_k \sim \text{Binomial}(m_k, p_k), \quad p_k \sim \text{Beta}(\alpha, \beta),

where :math:`r_k` of :math:`m_k` surveyed incidents reached source :math:`k`. With
:math:`p(\lambda) \propto \lambda^{s-1}` the prior of :math:`N` is
:math:`\Gamma(N+s)/\Gamma(N+1)` (:math:`s = 0`: :math:`p(N) \propto 1/N`, the scale-invariant
prior of docs/methods.md#never-sample-n), and integrating each :math:`p_k` over its survey posterior
:math:`\text{Beta}(a_k, b_k)`, :math:`a_k = \alpha + r_k`, :math:`b_k = \beta + m_k - r_k`,
leaves a beta-binomial likelihood per source:

.. math::

    p(N \mid \text{data}) \propto \frac{\Gamma(N+s)}{\Gamma(N+1)}
        \prod_k \binom{N}{y_k} \frac{B(a_k + y_k,\, b_k + N - y_k)}{B(a_k, b_k)},
    \qquad N \ge \max_k y_k .

This one-dimensional posterior is computed on a grid — every integer from the largest count
up to 2,048 above it, then steps of 0.1% — so quantiles have no Monte Carlo error (exact below
about 2,000, within 0.1% above; a grid point stands for its cell, midpoint rule).
Given :math:`N`, :math:`p_k \sim \text{Beta}(a_k + y_k, b_k + N - y_k)`: the reporting rates
are drawn from that. With one source and :math:`s = 0` the recorded count carries no
information on :math:`p` (:math:`\sum_N p(N)\,\text{Bin}(y; N, p) = 1/y` for every :math:`p`), so
its posterior is exactly :math:`\text{Beta}(\alpha + r, \beta + m - r)`, and the hidden count
is the beta-negative-binomial mixture of docs/methods.md#thinning (for 100 recorded and 195 of 711 reported: total
363 [296, 446]).

Tails. For large :math:`N` the posterior falls like :math:`N^{s - 1 - \sum_k a_k}`; it is proper
only if :math:`\sum_k a_k > s` and has a finite mean only if :math:`\sum_k a_k > s + 1`. So with
nothing recorded (:math:`y = 0`, where :math:`s = 0` would put all mass on :math:`N = 0`) the flat
prior :math:`s = 1` is used and a survey with at least one report is needed; without it there
is no estimate.

Population route. :math:`N \mid P, q \sim \text{Binomial}(P, q)`: the population size
:math:`P` is log-normal with the given 95% interval (integrated over 256 equal-probability
nodes), the victimisation prevalence :math:`q \sim \text{Beta}(\alpha_q + k, \beta_q + m - k)`
from ":math:`k` of :math:`m` surveyed were victimised". This replaces the prior on :math:`N`,
and the sources' beta-binomial likelihoods multiply it. It counts victims (people), not
incidents.

Disagreement. Each route alone and all routes but one are fitted separately, and the conflict
p-value :math:`2\min\{P(N_a > N_b), P(N_a < N_b)\}` of the difference between the two
independent posteriors is computed exactly from the grids (node splitting; Marshall &
Spiegelhalter 2007; Presanis et al. 2013). Below 0.05 a warning says the routes disagree
beyond their uncertainty.

References
----------
Marshall, E. C. & Spiegelhalter, D. J. (2007). Identifying outliers in Bayesian hierarchical
models: a simulation-based approach. *Bayesian Analysis* 2, 409-444.
Presanis, A. M., Ohlssen, D., Spiegelhalter, D. J. & De Angelis, D. (2013). Conflict diagnostics
in directed acyclic graphs, with applications in Bayesian evidence synthesis. *Statistical
Science* 28, 376-397.
UNAIDS/WHO (2010). *Guidelines on estimating the size of populations most at risk to HIV*
(the multiplier method).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, gammaln, logsumexp
from scipy.stats import beta as beta_dist
from scipy.stats import norm

from hiddenrate.data.reporting import PopulationRoute
from hiddenrate.core.distributions import GridDistribution
from hiddenrate.core.exceptions import EstimationError

#: unit-spaced grid points above the lower end before the spacing turns geometric
UNIT_SPAN = 2048
#: ratio between neighbouring grid points in the geometric part (0.1%: quantiles within 0.1%)
GEOMETRIC_RATIO = 1.001
#: the grid never goes beyond this total
MAX_TOTAL = 1e13
#: the grid ends where the log mass has fallen this far below its peak
TAIL_DROP = 32.0
#: nodes of the log-normal population size
POPULATION_NODES = 256
#: below this, two routes are said to disagree
CONFLICT_LEVEL = 0.05

LogDensity = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SourceEvidence:
    """One source: its recorded count and the Beta(a, b) its survey and prior give its rate."""

    name: str
    recorded: int
    a: float
    b: float
    surveyed: int = 0
    reported: int = 0

    def log_likelihood(self, values: np.ndarray) -> np.ndarray:
        """Log beta-binomial probability of the recorded count for each total in ``values``."""
        y = self.recorded
        out = np.full(values.shape, -np.inf)
        ok = values >= y
        n = values[ok]
        out[ok] = _log_choose(n, y) + betaln(self.a + y, self.b + n - y) - betaln(self.a, self.b)
        return out


@dataclass(frozen=True)
class PopulationEvidence:
    """Population-size nodes (equal weights) and the Beta(a, b) of the victimisation prevalence."""

    nodes: np.ndarray
    a: float
    b: float

    @classmethod
    def from_route(cls, route: PopulationRoute, alpha: float, beta: float) -> PopulationEvidence:
        """Log-normal population size with the route's interval; prevalence prior Beta(alpha, beta)."""
        if route.low == route.high:
            nodes = np.array([round(route.low)], dtype=float)
        else:
            z = norm.ppf(0.5 + route.level / 2)
            mu = (np.log(route.low) + np.log(route.high)) / 2
            sigma = (np.log(route.high) - np.log(route.low)) / (2 * z)
            quantiles = (np.arange(POPULATION_NODES) + 0.5) / POPULATION_NODES
            nodes = np.maximum(np.round(np.exp(mu + sigma * norm.ppf(quantiles))), 1.0)
        return cls(nodes=nodes, a=alpha + route.victimized, b=beta + route.respondents - route.victimized)

    def node_log_likelihood(self, node: float, values: np.ndarray) -> np.ndarray:
        """Log beta-binomial probability of ``values`` victims among ``node`` people."""
        out = np.full(values.shape, -np.inf)
        ok = values <= node
        n = values[ok]
        out[ok] = _log_choose(np.full(n.shape, node), n) + betaln(self.a + n, self.b + node - n) - betaln(self.a, self.b)
        return out

    def window(self, node: float) -> tuple[float, float]:
        """Totals outside this range have negligible probability among ``node`` people."""
        low, high = beta_dist.ppf(1e-14, self.a, self.b), beta_dist.isf(1e-14, self.a, self.b)
        spread = 12 * np.sqrt(node) + 12
        return max(0.0, node * low - spread), min(node, node * high + spread)

    def log_prior(self, values: np.ndarray) -> np.ndarray:
        """Log probability of each total under the population route (mixture over the nodes)."""
        acc = np.full(values.shape, -np.inf)
        for node in np.unique(self.nodes):
            weight = np.log(np.count_nonzero(self.nodes == node) / self.nodes.size)
            low, high = self.window(node)
            inside = (values >= low) & (values <= high)
            if inside.any():
                acc[inside] = np.logaddexp(acc[inside], weight + self.node_log_likelihood(node, values[inside]))
        return acc

    @property
    def upper(self) -> float:
        """Largest possible total (the largest population node)."""
        return float(self.nodes.max())


def _log_choose(n: np.ndarray, k: np.ndarray | int) -> np.ndarray:
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def incidence_log_prior(shape: float) -> LogDensity:
    r"""Prior of N implied by :math:`p(\lambda) \propto \lambda^{s-1}`: :math:`\Gamma(N+s)/\Gamma(N+1)`."""

    def log_prior(values: np.ndarray) -> np.ndarray:
        if shape == 0:
            with np.errstate(divide="ignore"):
                return -np.log(values)
        return gammaln(values + shape) - gammaln(values + 1)

    return log_prior


def grid_nodes(lower: float, upper: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid values from ``lower`` to ``upper`` and the width each stands for."""
    unit_end = min(upper, lower + UNIT_SPAN)
    values = np.arange(lower, unit_end + 1, dtype=float)
    if upper > unit_end:
        steps = int(np.ceil(np.log(upper / unit_end) / np.log(GEOMETRIC_RATIO)))
        geometric = np.unique(np.floor(unit_end * GEOMETRIC_RATIO ** np.arange(1, steps + 1)))
        values = np.concatenate([values, geometric[geometric > unit_end]])
    edges = np.concatenate([[values[0] - 0.5], (values[1:] + values[:-1]) / 2, [values[-1] + 0.5]])
    return values, np.diff(edges)


def _find_upper(log_density: LogDensity, lower: float) -> tuple[float, float]:
    """Where the mass has fallen :data:`TAIL_DROP` below its peak, and the mass share beyond it."""
    probes = lower + np.unique(np.floor(2.0 ** np.arange(0, np.log2(MAX_TOTAL) + 1, 0.25))) - 1
    probes = probes[probes <= max(MAX_TOTAL, lower)]
    if probes.size == 0:
        raise EstimationError(f"the recorded count {lower:,.0f} is beyond the largest total this model computes")
    log_mass = log_density(probes) + np.log(np.maximum(probes, 1.0))
    peak = int(np.argmax(log_mass))
    for index in range(peak + 1, probes.size):
        if log_mass[index] < log_mass[peak] - TAIL_DROP:
            return float(probes[index]), 0.0
    return float(probes[-1]), float(np.exp(min(0.0, log_mass[-1] - log_mass[peak])))


def posterior_grid(log_density: LogDensity, lower: int, upper: float | None = None) -> GridDistribution:
    """Normalised posterior on a grid from ``lower`` (the largest recorded count) upwards.

    ``upper`` bounds the support (population route); otherwise the grid extends until the
    mass is negligible, up to :data:`MAX_TOTAL` (the mass left beyond is ``tail_mass``).
    """
    tail = 0.0
    if upper is None:
        upper, tail = _find_upper(log_density, float(lower))
    values, widths = grid_nodes(float(lower), max(float(upper), float(lower)))
    log_mass = log_density(values) + np.log(widths)
    if not np.isfinite(log_mass).any():
        raise EstimationError("the data are impossible under the model (no total is consistent with them)")
    pmf = np.exp(log_mass - logsumexp(log_mass))
    return GridDistribution(values, pmf, tail_mass=tail)


def conflict_p_value(a: GridDistribution, b: GridDistribution) -> float:
    r"""Two-sided :math:`2\min\{P(A > B), P(A < B)\}` for independent totals on grids (ties split)."""
    cumulative = np.concatenate([[0.0], np.cumsum(b.pmf)])
    below = cumulative[np.searchsorted(b.values, a.values, side="left")]
    at_or_below = cumulative[np.searchsorted(b.values, a.values, side="right")]
    greater = float(np.dot(a.pmf, below))
    tie = float(np.dot(a.pmf, at_or_below - below))
    less = max(0.0, 1.0 - greater - tie)
    return float(min(1.0, 2 * min(greater + tie / 2, less + tie / 2)))


@dataclass(frozen=True)
class StratumPosterior:
    """What the exact computation gives for one stratum (combined over its routes)."""

    total: GridDistribution
    shape: float | None  # prior shape on lambda used (None: the population route was the prior)
    heavy_tail: bool  # infinite posterior mean


def combine(
    sources: list[SourceEvidence],
    population: PopulationEvidence | None,
    shape: float,
    shape_if_none_recorded: float,
) -> StratumPosterior | None:
    """Posterior of N from the given routes; ``None`` when it is improper (no estimate)."""
    lower = max((s.recorded for s in sources), default=0)
    likelihoods = [s.log_likelihood for s in sources]
    prior: LogDensity
    upper: float | None
    if population is not None:
        prior = population.log_prior
        used_shape: float | None = None
        upper = population.upper
        heavy = False
        if lower > population.upper:
            raise EstimationError(
                f"the population route allows at most {population.upper:,.0f} victims, fewer than the {lower:,} recorded"
            )
    else:
        used_shape = shape if lower > 0 else shape_if_none_recorded
        if sum(s.a for s in sources) <= used_shape:
            return None
        prior = incidence_log_prior(used_shape)
        upper = None
        heavy = sum(s.a for s in sources) <= used_shape + 1

    def log_density(values: np.ndarray) -> np.ndarray:
        total = prior(values)
        for likelihood in likelihoods:
            total = total + likelihood(values)
        return total

    return StratumPosterior(posterior_grid(log_density, lower, upper), used_shape, heavy)


def draw_rates(
    total: GridDistribution, sources: list[SourceEvidence], size: int, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Draws of N from the grid and, given each, of every source's rate ``Beta(a + y, b + N - y)``."""
    totals = total.sample(size, rng)
    rates = {s.name: rng.beta(s.a + s.recorded, s.b + totals - s.recorded) for s in sources}
    return totals, rates


def draw_prevalence(
    totals: np.ndarray, population: PopulationEvidence, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draws of the population size and the victimisation prevalence given each drawn total.

    For each distinct total, the node is drawn with probability proportional to the node's
    beta-binomial probability of that many victims; then
    :math:`q \\sim \\text{Beta}(a + N, b + P - N)`.
    """
    nodes = population.nodes
    distinct, which = np.unique(totals, return_inverse=True)
    log_weights = np.full((distinct.size, nodes.size), -np.inf)
    for j, node in enumerate(nodes):
        log_weights[:, j] = population.node_log_likelihood(node, distinct)
    log_weights -= logsumexp(log_weights, axis=1, keepdims=True)
    cumulative = np.cumsum(np.exp(log_weights), axis=1)
    uniforms = rng.random(totals.size)
    index = np.minimum((cumulative[which] < uniforms[:, None]).sum(axis=1), nodes.size - 1)
    sizes = nodes[index]
    prevalence = rng.beta(population.a + totals, population.b + np.maximum(sizes - totals, 0))
    return sizes, prevalence


__all__ = [
    "CONFLICT_LEVEL",
    "PopulationEvidence",
    "SourceEvidence",
    "StratumPosterior",
    "combine",
    "conflict_p_value",
    "draw_prevalence",
    "draw_rates",
    "incidence_log_prior",
    "posterior_grid",
]
