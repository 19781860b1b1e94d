r"""Exact Bayesian model averaging over decomposable graphical models, in closed form.

Madigan & York (1997) average the population size :math:`N` over every decomposable
graphical model :math:`g` of the :math:`K` lists, with a hyper-Dirichlet prior that puts
:math:`\delta` prior observations in each of the :math:`2^K` cells of the full table. The
complete table (observed cells plus :math:`n_0 = N - n` people on no list) then has

.. math::

    p(\text{table} \mid g) = \frac{\prod_{C} h(C)}{\prod_{S} h(S)}, \qquad
    h(A) = \frac{\Gamma(\alpha_+)}{\Gamma(\alpha_+ + N)}
           \prod_{i} \frac{\Gamma(\alpha_A + n_A(i))}{\Gamma(\alpha_A)},

over cliques :math:`C` and separators :math:`S`, with :math:`n_A(i)` the counts of the
marginal table of the lists in :math:`A`, :math:`\alpha_A = \delta 2^{K-|A|}` and
:math:`\alpha_+ = \delta 2^K`; and

.. math::

    p(N, g \mid \text{data}) \propto p(N)\, p(g)\, \frac{N!}{(N-n)!}\, p(\text{table} \mid g).

Only the all-zero cell of each marginal depends on :math:`N` (its count is
:math:`n_A(0) + N - n`), so each subset's :math:`\log h(A)` is one vector of ``gammaln``
over the grid of :math:`N`, shared by every graph; the graphs enter as a matrix of signed
subset multiplicities (:func:`hiddenrate.models.lists.decomposable.factor_coefficients`, the
perfect-elimination form :math:`\prod_v h(\{v\}\cup pa(v)) / h(pa(v))`), and one matrix
product gives every graph's log posterior on the grid. This is ``dga::bma.cr``
(Lum, Johndrow & Ball) without its per-call cost and without a hand-picked grid.

Heavy tails. As :math:`N \to \infty`, :math:`\log p(N, g \mid \text{data}) = c_g + \beta_g
\log N + O(1/N)` with

.. math:: \beta_g = \pi + n + \sum_{A} c_{gA} \bigl(\alpha_A + n_A(0) - \alpha_+ - n\bigr),

where :math:`c_{gA}` are the signed multiplicities and :math:`\pi` is the power of the prior
(:math:`-1` for :math:`p(N) \propto 1/N`, 0 for a flat prior). For the complete graph
:math:`\beta = \pi + \delta - \alpha_+`: with :math:`\delta = 2^{-K}` and :math:`p(N) \propto 1/N`
that is :math:`-2 + 2^{-K}`, so the posterior mass beyond :math:`M` falls only like
:math:`M^{-(1 - 2^{-K})}` and the posterior mean of :math:`N` does not exist; under a flat
prior :math:`\beta = 2^{-K} - 1 > -1` and the posterior is improper. Graphs that cut the
lists into groups with no overlap between them have the same kind of tail. The grid is
therefore not guessed: the mass beyond it, :math:`\sum_{m > M} f(m) \approx
\int_{M+1/2}^\infty f(x)\,dx` over the missing count :math:`m = N - n`, is integrated by the
trapezoid rule in :math:`u = \log x` (where the integrand is :math:`f(x)\,x`) out to
:math:`x = 10^{10}`, plus the power-law remainder :math:`f(x)\,x / |\beta_g + 1|` past it, and
the grid is extended until that mass is below ``tail_tol``.

References
----------
Madigan, D. & York, J. C. (1997). Bayesian methods for estimation of the size of a closed
population. *Biometrika* 84(1), 19-31.
Dawid, A. P. & Lauritzen, S. L. (1993). Hyper Markov laws in the statistical analysis of
decomposable graphical models. *Annals of Statistics* 21(3), 1272-1317.
Lum, K., Johndrow, J. & Ball, P. (2015). dga: Capture-Recapture Estimation using Bayesian
Model Averaging. R package (CRAN).

Examples
--------
>>> import numpy as np
>>> counts = np.array([0, 247, 49, 142, 60, 112, 4, 12])   # spina bifida, Madigan & York
>>> post = bma_posterior(counts, 3)
>>> int(post.median), tuple(int(v) for v in post.interval(0.95))
(731, (694, 787))
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from hiddenrate.core.exceptions import DataError, EstimationError, ModelError
from hiddenrate.core.limits import MAX_FIT_BYTES, size_text
from hiddenrate.models.lists.bma_grid import MAX_AUTO_GRID, choose_grid_end, coarse_bytes, coarse_pass, fine_pass, logsumexp
from hiddenrate.models.lists.decomposable import (
    MAX_LISTS,
    GraphLogJoint,
    decomposable_graphs,
    graph_log_joint,
)

__all__ = [
    "BMAPosterior",
    "bma_posterior",
    "decomposable_graphs",
    "joint_log_posterior",
    "posterior_quantiles",
    "tail_exponents",
    "PRIOR_N_CHOICES",
    "GRAPH_PRIOR_CHOICES",
]

#: Priors on N accepted by ``prior_n`` (``lognormal`` and ``negbin`` take parameters).
PRIOR_N_CHOICES = ("inverse", "uniform", "lognormal:MEDIAN,SDLOG", "negbin:SHAPE,SCALE")
#: Priors over graphs accepted by ``graph_prior``.
GRAPH_PRIOR_CHOICES = ("uniform",)

#: Default bound on the posterior mass beyond the end of an automatic grid.
DEFAULT_TAIL_TOL = 1e-6
#: Longest grid accepted through ``n_max``.
MAX_GRID = 10_000_000

_PRUNE_SAFETY = 5.0  # nats of slack for the coarse estimate of each graph's mass


@dataclass(frozen=True, eq=False)
class BMAPosterior:
    """Posterior of the total population size, averaged over decomposable graphs.

    Attributes
    ----------
    totals
        Grid of total population sizes :math:`N`, consecutive integers from the observed
        ``n`` up to the grid end.
    pmf
        Posterior probability of each grid value. Normalised over *all* :math:`N \\ge n`,
        so it sums to ``1 - tail_mass``.
    graphs
        Graphs with posterior probability at least ``min_graph_prob``, best first, as edge
        tuples of list indices.
    graph_probs
        Their posterior probabilities (including the mass beyond the grid).
    edge_probs
        ``(k, k)`` symmetric matrix: posterior probability that lists ``i`` and ``j`` are
        joined by an edge (directly dependent given the others).
    delta
        Hyper-Dirichlet prior count per cell of the full table.
    prior_n
        Human-readable description of the prior on :math:`N`.
    tail_mass
        Posterior mass beyond the grid's end, estimated by quadrature (below ``tail_tol``
        for automatic grids unless the grid reached ``MAX_AUTO_GRID``; 0 for a flat prior
        bounded by ``n_max``).
    n_graphs
        How many graphs were averaged over (all decomposable graphs on ``k`` lists).
    n_evaluated
        How many graphs were evaluated on the full grid; the others had an estimated
        total posterior mass below ``1e-12`` together and were dropped.
    """

    totals: np.ndarray
    pmf: np.ndarray
    graphs: tuple[tuple[tuple[int, int], ...], ...]
    graph_probs: np.ndarray
    edge_probs: np.ndarray
    delta: float
    prior_n: str
    tail_mass: float
    n_graphs: int
    n_evaluated: int

    def quantile(self, levels: float | Sequence[float] | np.ndarray) -> np.ndarray:
        """Posterior quantiles of :math:`N`; see :func:`posterior_quantiles`."""
        return posterior_quantiles(self.totals, self.pmf, levels)

    @property
    def median(self) -> int:
        """Posterior median: the smallest :math:`N` with cumulative probability >= 0.5."""
        return int(self.quantile(0.5)[0])

    def interval(self, level: float = 0.95) -> tuple[int, int]:
        """Equal-tailed credible interval: quantiles ``(1 - level)/2`` and ``(1 + level)/2``."""
        if not 0.0 < level < 1.0:
            raise ModelError(f"interval level must be between 0 and 1, not {level}")
        lower, upper = self.quantile([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
        return int(lower), int(upper)


def posterior_quantiles(
    totals: np.ndarray, pmf: np.ndarray, levels: float | Sequence[float] | np.ndarray
) -> np.ndarray:
    """Quantiles of a discrete distribution on a grid: smallest ``totals[i]`` with
    ``sum(pmf[:i+1]) >= level``.

    This is the inverse of the distribution function, :math:`F^{-1}(q) = \\min\\{N : F(N)
    \\ge q\\}` (R's ``quantile(type = 1)``). ``dga::posteriorQuantiles`` takes the first
    cumulative sum strictly greater than the level; the two agree unless a cumulative sum
    equals a level exactly. ``pmf`` may sum to less than 1 (mass beyond the grid).

    Raises
    ------
    EstimationError
        If a level lies beyond the grid (more than ``1 - level`` of the mass is past its end).
    """
    wanted = np.atleast_1d(np.asarray(levels, dtype=float))
    if np.any(~np.isfinite(wanted)) or np.any(wanted <= 0.0) or np.any(wanted >= 1.0):
        raise ModelError(f"quantile levels must be strictly between 0 and 1, not {levels}")
    cumulative = np.cumsum(pmf)
    index = np.searchsorted(cumulative, wanted, side="left")
    if np.any(index >= len(cumulative)):
        raise EstimationError(
            f"the grid ends at N = {int(totals[-1])} with cumulative probability "
            f"{cumulative[-1]:.6g}, below the requested level {wanted.max():g}; give a larger --n-max (the grid "
            f"holds at most {MAX_GRID:,} values past the people observed) or use --model loglinear"
        )
    return np.asarray(totals)[index]


# ----------------------------------------------------------------------------- priors


@dataclass(frozen=True)
class _PriorN:
    kind: str
    description: str
    params: tuple[float, ...]
    power: float  # log p(N) ~ power * log N in the tail (an upper bound for lognormal/negbin)

    def log_density(self, total: np.ndarray) -> np.ndarray:
        if self.kind == "inverse":
            return -np.log(total)
        if self.kind == "uniform":
            return np.zeros_like(total)
        if self.kind == "lognormal":
            median, sdlog = self.params
            z = (np.log(total) - math.log(median)) / sdlog
            return -np.log(total) - 0.5 * z * z
        shape, scale = self.params  # negbin: N ~ NegBin, mean shape * scale
        return (
            gammaln(total + shape)
            - gammaln(total + 1.0)
            + total * math.log(scale)
            - (total + shape) * math.log1p(scale)
        )


def _parse_prior_n(spec: str, n_max: int | None) -> _PriorN:
    text = spec.strip().lower()
    if text == "inverse":
        return _PriorN("inverse", "p(N) proportional to 1/N (scale-invariant; dga's default)", (), -1.0)
    if text == "uniform":
        where = f"on N = n..{n_max}" if n_max is not None else "on N >= n (improper)"
        return _PriorN("uniform", f"p(N) flat {where}", (), 0.0)
    match = re.fullmatch(r"(lognormal|negbin)\s*:\s*([^,]+),([^,]+)", text)
    if match:
        kind = match.group(1)
        try:
            first, second = float(match.group(2)), float(match.group(3))
        except ValueError:
            first = second = float("nan")
        if not (math.isfinite(first) and math.isfinite(second) and first > 0 and second > 0):
            raise ModelError(f"prior_n '{spec}' needs two positive numbers after '{kind}:'")
        if kind == "lognormal":
            description = f"N lognormal with median {first:g} and sdlog {second:g}"
        else:
            description = (
                f"N negative binomial with shape {first:g} and scale {second:g} "
                f"(mean {first * second:g}; Madigan & York 1997)"
            )
        return _PriorN(kind, description, (first, second), -1.0)
    raise ModelError(f"unknown prior_n '{spec}'; valid choices: {', '.join(PRIOR_N_CHOICES)}")


# ------------------------------------------------------------------------- inputs


def _validated_counts(counts: np.ndarray, k: int) -> np.ndarray:
    values = np.asarray(counts, dtype=float)
    if values.shape != (1 << k,):
        raise DataError(
            f"counts must be a vector of length 2**k = {1 << k} for k = {k} lists "
            f"(cell i holds pattern i, list j in bit j), not shape {values.shape}"
        )
    observed = values[1:]
    if not np.all(np.isfinite(observed)) or np.any(observed < 0) or np.any(observed != np.round(observed)):
        raise DataError("counts must be whole numbers >= 0")
    cleaned = values.copy()
    cleaned[0] = 0.0  # the unobserved cell is what we estimate; its entry is ignored
    if cleaned.sum() <= 0:
        raise DataError("no one was observed on any list; there is nothing to estimate from")
    return cleaned


def _check_k(k: int) -> None:
    if not isinstance(k, (int, np.integer)):
        raise ModelError(f"k (the number of lists) must be an integer, not {k!r}")
    if k < 3:
        raise ModelError(
            f"Bayesian model averaging over graphs needs at least 3 lists, not {k}: with two "
            "lists the dependence between them cannot be identified from the overlap"
        )
    if k > MAX_LISTS:
        raise ModelError(
            f"exact averaging over decomposable graphs supports up to {MAX_LISTS} lists "
            f"(18,154 graphs), not {k} (617,675 graphs for 7); merge lists or fit a "
            "log-linear model"
        )


def _prepare(
    counts: np.ndarray, k: int, delta: float | None, prior_n: str, n_max: int | None, graph_prior: str
) -> tuple[GraphLogJoint, _PriorN]:
    _check_k(k)
    table = _validated_counts(counts, k)
    if delta is None:
        delta = 2.0**-k
    if not (isinstance(delta, (int, float, np.floating, np.integer)) and math.isfinite(delta) and delta > 0):
        raise ModelError(f"delta (prior count per cell) must be a positive number, not {delta!r}")
    if graph_prior.strip().lower() not in GRAPH_PRIOR_CHOICES:
        raise ModelError(
            f"unknown graph_prior '{graph_prior}'; valid choices: {', '.join(GRAPH_PRIOR_CHOICES)}"
        )
    prior = _parse_prior_n(prior_n, n_max)
    return graph_log_joint(table, k, float(delta), prior.log_density, prior.power), prior


def joint_log_posterior(
    counts: np.ndarray,
    k: int,
    missing: np.ndarray,
    *,
    delta: float | None = None,
    prior_n: str = "inverse",
    graph_prior: str = "uniform",
) -> np.ndarray:
    """``log p(N = n + missing, g | data)`` for every decomposable graph, up to one constant.

    Shape ``(len(decomposable_graphs(k)), len(missing))``, rows in the order of
    :func:`decomposable_graphs`. ``exp`` of it normalised over the matrix is exactly
    ``dga::bma.cr(Y, Nmissing = missing, delta, graphs, logprior = -log(N))``, i.e. the
    posterior *restricted to the given grid*; prefer :func:`bma_posterior`, which chooses
    the grid and accounts for the mass beyond it. Memory is ``graphs x len(missing)``.
    """
    terms, _ = _prepare(counts, k, delta, prior_n, None, graph_prior)
    grid = np.asarray(missing, dtype=float)
    if grid.ndim != 1 or np.any(grid < 0) or not np.all(np.isfinite(grid)):
        raise ModelError("missing must be a vector of counts >= 0 of people on no list")
    return terms(grid)


def tail_exponents(
    counts: np.ndarray, k: int, *, delta: float | None = None, prior_n: str = "inverse"
) -> np.ndarray:
    """Each graph's tail power: :math:`p(N, g \\mid \\text{data}) \\sim N^{\\beta_g}` as
    :math:`N \\to \\infty` (rows in the order of :func:`decomposable_graphs`).

    The posterior is proper iff every :math:`\\beta_g < -1`; its mean exists iff every
    :math:`\\beta_g < -2` (for lognormal and negative binomial priors these are bounds
    computed as if :math:`p(N) \\propto 1/N`). With :math:`\\delta = 2^{-K}` and
    :math:`p(N) \\propto 1/N` the complete graph has :math:`\\beta = -2 + 2^{-K}`.
    """
    terms, _ = _prepare(counts, k, delta, prior_n, None, "uniform")
    return terms.exponents.copy()


# ------------------------------------------------------------------------ main API


def bma_posterior(
    counts: np.ndarray,
    k: int,
    *,
    delta: float | None = None,
    prior_n: str = "inverse",
    n_max: int | None = None,
    graph_prior: str = "uniform",
    tail_tol: float = DEFAULT_TAIL_TOL,
    min_graph_prob: float = 1e-6,
    interpolate: bool = True,
) -> BMAPosterior:
    """Posterior of the population size averaged over all decomposable graphs.

    Parameters
    ----------
    counts
        Length ``2**k`` vector of capture-pattern counts (cell ``i``: list ``j`` iff
        ``(i >> j) & 1``); entry 0, the unobserved cell, is ignored.
    k
        Number of lists, 3 to 6 (8, 61, 822 and 18,154 graphs).
    delta
        Hyper-Dirichlet prior count per cell of the full table; default ``2**-k``, dga's
        recommendation (one prior observation spread over the table). Sparse tables are
        sensitive to it: report a second value.
    prior_n
        ``"inverse"`` (:math:`p(N) \\propto 1/N`, dga's default), ``"uniform"`` (flat; with
        ``n_max`` it is flat on ``n..n_max``), ``"lognormal:MEDIAN,SDLOG"`` or
        ``"negbin:SHAPE,SCALE"`` (Madigan & York's negative binomial, mean SHAPE*SCALE).
    n_max
        Last value of the grid of :math:`N`. ``None`` chooses it: the smallest grid whose
        posterior mass beyond the end is below ``tail_tol`` (at most ``MAX_AUTO_GRID``
        values; past that the remaining mass is reported in ``tail_mass``). For the flat
        prior ``n_max`` also bounds the prior; for the others it only ends the grid, and the
        mass beyond it is still estimated and reported.
    graph_prior
        ``"uniform"``: every decomposable graph equally likely a priori.
    tail_tol
        Target for the mass beyond an automatic grid.
    min_graph_prob
        Graphs with a smaller posterior probability are not listed in ``graphs``.
    interpolate
        ``True`` (default): missing counts below ``1/h``, with
        :math:`h = \\min(0.005, n^{-1/2}/4)` (200 for :math:`n \\le 2500`), are evaluated
        exactly and the log posterior beyond them on nodes spaced :math:`h` apart in
        :math:`\\log m`, then interpolated to every integer by a cubic spline (relative error
        of the pmf below 3e-7 on the reference data; see the tests).
        ``False``: every grid value is evaluated exactly (slower on wide grids).

    Returns
    -------
    BMAPosterior
        Grid, pmf (normalised over all :math:`N`, summing to ``1 - tail_mass``), graph and
        edge posterior probabilities.

    Raises
    ------
    ModelError
        For fewer than 3 or more than 6 lists, an unknown prior, a non-positive ``delta``,
        ``n_max`` below the observed count, or a flat prior without ``n_max`` when the
        posterior is improper.
    DataError
        For counts of the wrong length or that are not whole numbers >= 0.

    Notes
    -----
    The computation (coarse pass, dropping negligible graphs, grid end, fine pass) and the
    accuracy of ``tail_mass`` are set out in :mod:`hiddenrate.models.lists.bma_grid`.
    """
    terms, prior = _prepare(counts, k, delta, prior_n, n_max, graph_prior)
    if not 0.0 < tail_tol < 1.0:
        raise ModelError(f"tail_tol must be between 0 and 1, not {tail_tol}")
    _check_grid_end(terms, prior, n_max, k)
    bounded = prior.kind == "uniform" and n_max is not None
    survivors, last_missing, n_graphs = _coarse_grid(terms, n_max, tail_tol, bounded)
    fine = _fine_grid(terms, survivors, last_missing, n_max, tail_tol, interpolate, bounded)
    return _posterior(terms, prior, k, survivors, fine, min_graph_prob, n_graphs=n_graphs)


def _coarse_grid(terms: GraphLogJoint, n_max: int | None, tail_tol: float, bounded: bool
                 ) -> tuple[np.ndarray, int, int]:
    """Steps 1-3 of :mod:`~hiddenrate.models.lists.bma_grid`: the graphs worth evaluating on the
    fine grid, the grid's last missing count, and how many graphs there are."""
    n = terms.n
    bound = int(n_max) - n if bounded and n_max is not None else None
    step = min(0.02, 1.0 / math.sqrt(n))
    needed = coarse_bytes(n, terms.coefficients.shape[0], step)
    if needed > MAX_FIT_BYTES:
        raise ModelError(f"model averaging over {terms.coefficients.shape[0]:,} graphs with {n:,} people observed "
                         f"would need about {size_text(needed)} of memory (more than {size_text(MAX_FIT_BYTES)}); "
                         "use --model loglinear (closed form), or fewer lists")
    log_mass, log_node_total, log_remainder_total, nodes = coarse_pass(terms, step, bound)
    log_evidence = float(logsumexp(log_mass, axis=0))
    threshold = log_evidence + math.log(1e-12 / len(log_mass)) - _PRUNE_SAFETY
    survivors = np.flatnonzero(log_mass >= threshold)
    if n_max is not None:
        last_missing = int(n_max) - n
    else:
        last_missing = choose_grid_end(nodes, log_node_total, log_remainder_total,
                                       log_evidence + math.log(tail_tol))
    return survivors, last_missing, len(log_mass)


def _check_grid_end(terms: GraphLogJoint, prior: _PriorN, n_max: int | None, k: int) -> None:
    """Reject an ``n_max`` below the data or too long, and a flat prior whose posterior is improper."""
    n = terms.n
    if n_max is not None:
        if int(n_max) != n_max or n_max < n:
            raise ModelError(f"n_max must be a whole number >= the {n} people observed, not {n_max}")
        if n_max - n + 1 > MAX_GRID:
            raise ModelError(f"n_max gives a grid of {n_max - n + 1:,} values; at most {MAX_GRID:,} are supported")
    elif prior.kind == "uniform" and np.any(terms.exponents >= -1.0):
        worst = int(np.argmax(terms.exponents))
        raise ModelError(
            "with a flat prior on N and no n_max the posterior is improper: under the graph "
            f"{decomposable_graphs(k)[worst]} p(N | data) decays like N^{terms.exponents[worst]:.4g}, "
            "which does not sum; give n_max (a flat prior on n..n_max), use prior_n='inverse', "
            "or a larger delta"
        )


@dataclass(frozen=True)
class _FineGrid:
    """The fine pass on the chosen grid: unnormalised log pmf, each graph's log mass, the
    normalising constant over all N and the share of it beyond the grid."""

    log_pmf: np.ndarray
    graph_log_mass: np.ndarray
    last_missing: int
    log_total: float
    tail_mass: float


def _fine_grid(terms: GraphLogJoint, survivors: np.ndarray, last_missing: int, n_max: int | None,
               tail_tol: float, interpolate: bool, bounded: bool) -> _FineGrid:
    """Evaluate the surviving graphs on missing = 0..last_missing; an automatic grid (no
    ``n_max``) is lengthened, at most 5 times, until the mass beyond it is below ``tail_tol``."""
    n = terms.n
    fine_step = min(0.005, 0.25 / math.sqrt(n))
    dense_end = math.ceil(1.0 / fine_step) if interpolate else None
    for _attempt in range(6):
        log_pmf, graph_log_mass, graph_log_tail = fine_pass(
            terms, survivors, last_missing, fine_step, dense_end, with_tail=not bounded
        )
        log_tail = float(logsumexp(graph_log_tail, axis=0))
        log_total = float(np.logaddexp(logsumexp(log_pmf, axis=0), log_tail))
        tail_mass = math.exp(log_tail - log_total)
        if n_max is not None or tail_mass <= tail_tol or last_missing + 1 >= MAX_AUTO_GRID:
            break
        growth = (tail_mass / tail_tol) ** 1.1
        last_missing = min(MAX_AUTO_GRID - 1, math.ceil((last_missing + n) * growth) - n)
    return _FineGrid(log_pmf, graph_log_mass, last_missing, log_total, tail_mass)


def _posterior(terms: GraphLogJoint, prior: _PriorN, k: int, survivors: np.ndarray, fine: _FineGrid,
               min_graph_prob: float, n_graphs: int) -> BMAPosterior:
    """Normalise the fine pass into the pmf over N, graph probabilities and edge probabilities."""
    pmf = np.exp(fine.log_pmf - fine.log_total)
    graph_probs_all = np.exp(fine.graph_log_mass - logsumexp(fine.graph_log_mass, axis=0))
    order = np.argsort(-graph_probs_all, kind="stable")
    listed = order[graph_probs_all[order] >= min_graph_prob]
    all_graphs = decomposable_graphs(k)
    edge_probs = np.zeros((k, k))
    for index, prob in zip(survivors, graph_probs_all):
        for i, j in all_graphs[index]:
            edge_probs[i, j] += prob
    edge_probs = edge_probs + edge_probs.T
    totals = np.arange(terms.n, terms.n + fine.last_missing + 1, dtype=np.int64)
    graph_probs = graph_probs_all[listed]
    for array in (totals, pmf, edge_probs, graph_probs):
        array.setflags(write=False)
    return BMAPosterior(
        totals=totals,
        pmf=pmf,
        graphs=tuple(all_graphs[survivors[i]] for i in listed),
        graph_probs=graph_probs,
        edge_probs=edge_probs,
        delta=float(terms.alpha_total / (1 << k)),
        prior_n=prior.description,
        tail_mass=fine.tail_mass,
        n_graphs=n_graphs,
        n_evaluated=len(survivors),
    )
