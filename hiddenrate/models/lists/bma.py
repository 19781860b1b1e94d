r"""Exact Bayesian model averaging over decomposable graphical models (Madigan & York 1997).

The computation (closed form, no MCMC; what R's dga does, 50-100x faster) is in
:mod:`hiddenrate.models.lists.bma_core`. For each decomposable graph :math:`g` on the lists and each
total :math:`N`, the hyper-Dirichlet marginal likelihood of the complete table gives
:math:`p(N, g \mid \text{data})`; summing over graphs gives the posterior of :math:`N`, which
accounts for uncertainty about which lists depend on which. This module makes it a
:class:`~hiddenrate.result.value.Result` and adds what a reader needs:

* the prior weight :math:`\delta` in every output, and the answer under a second :math:`\delta`
  (sparse tables can move 8x with it), with a warning when the two disagree;
* the most probable graphs and the posterior probability that each pair of lists is dependent;
* the posterior mean is reported only when it exists (with :math:`p(N) \propto 1/N` and
  :math:`\delta = 2^{-K}` the tail is too heavy for a mean; the median is the estimate).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from hiddenrate.core import diagnostics as diag
from hiddenrate.core.caveats import Caveat
from hiddenrate.data.lists import ListData, ListTable
from hiddenrate.core.distributions import GridDistribution
from hiddenrate.core.exceptions import ModelError
from hiddenrate.models.lists.base import ListModel
from hiddenrate.models.lists.bma_core import bma_posterior, tail_exponents
from hiddenrate.models.lists.decomposable import cliques_and_separators
from hiddenrate.result.table import Column, build, interval_cell, report_levels
from hiddenrate.result.value import StratumEstimate
from hiddenrate.core.settings import headline_level

SENSITIVITY_DELTA = 1.0
DISAGREEMENT_RATIO = 1.5
TOP_GRAPHS = 8
#: graphs whose edges the result keeps (``details["graph_weights"]``; the heterogeneity check refits them)
REFERENCE_GRAPHS = 30


def _cliques(edges: tuple[tuple[int, int], ...], names: tuple[str, ...]) -> list[list[str]]:
    """The cliques of a decomposable graph by their lists' names, largest first, in the order the label writes them."""
    cliques, _ = cliques_and_separators(edges, len(names))
    parts = [[names[j] for j in range(len(names)) if (mask >> j) & 1] for mask in cliques]
    return sorted(parts, key=lambda p: (-len(p), ":".join(p)))


def graph_label(edges: tuple[tuple[int, int], ...], names: tuple[str, ...]) -> str:
    """A decomposable graph named by its cliques, e.g. ``LA:NG:GO + PF``; ``independence`` if no edges."""
    if not edges:
        return "independence"
    return " + ".join(":".join(part) for part in _cliques(edges, names))


def graph_structure(edges: tuple[tuple[int, int], ...], names: tuple[str, ...]) -> dict[str, Any]:
    """The graph as the renderers put it in words (:mod:`hiddenrate.render.model_words`): every list, and
    the cliques of two or more lists, in the order of :func:`graph_label`."""
    terms = [part for part in _cliques(edges, names) if len(part) >= 2] if edges else []
    return {"lists": list(names), "terms": terms}


class BMAModel(ListModel):
    r"""Exact model averaging over decomposable graphs, with hyper-Dirichlet priors.

    Parameters
    ----------
    delta
        Prior count per cell of the full table (default :math:`2^{-K}`, dga's choice).
    prior_n
        Prior on N: ``inverse`` (:math:`\propto 1/N`, default), ``uniform`` (needs ``n_max``),
        ``lognormal:MEDIAN,SDLOG`` or ``negbin:SHAPE,SCALE``.
    n_max
        Last total on the grid (default: chosen so the posterior beyond it is below 1e-6).
    sensitivity_delta
        A second :math:`\delta` whose answer is shown beside the main one (default 1).

    References
    ----------
    Madigan, D. & York, J. C. (1997). Bayesian methods for estimation of the size of a closed
    population. *Biometrika* 84, 19-31. R package dga (Johndrow, Lum & Ball).
    """

    name = "bma"
    title = "Bayesian model averaging over decomposable graphical models"
    description = (
        "Averages over every decomposable log-linear model of the lists (which lists depend on which), "
        "weighting each by how well it fits; exact, no sampling."
    )
    estimate_type = "posterior median"
    interval_type = "credible interval"
    min_lists = 3
    max_lists = 6
    option_names: ClassVar[tuple[str, ...]] = ("delta", "prior_n", "n_max")
    assumptions: ClassVar[tuple[str, ...]] = (
        "The lists' dependence follows one of the decomposable graphical models (any pattern of pairwise "
        "dependence whose cycles have chords); the answer averages over them.",
        "Capture probabilities do not vary between people beyond what those dependencies absorb.",
        "Closed population, and records matched correctly across lists.",
        "The hyper-Dirichlet prior weight delta matters on sparse tables; a second delta is shown for comparison.",
    )

    def __init__(self, delta: float | None = None, prior_n: str | None = None, n_max: int | None = None,
                 sensitivity_delta: float | None = SENSITIVITY_DELTA) -> None:
        if delta is not None and not delta > 0:
            raise ModelError(f"--delta must be positive, got {delta}")
        self.delta = delta
        self.prior_n = prior_n or "inverse"
        self.n_max = n_max
        self.sensitivity_delta = sensitivity_delta

    def _delta(self, k: int) -> float:
        return self.delta if self.delta is not None else 2.0 ** -k

    def priors_for(self, data: ListData) -> dict[str, Any]:
        delta = self._delta(data.k)
        return {
            "delta": {"value": delta, "meaning": f"hyper-Dirichlet prior count per cell ({'2^-K, dga default' if self.delta is None else 'user'})"},
            "N": {"prior": self.prior_n, "meaning": "p(N) ∝ 1/N" if self.prior_n == "inverse" else self.prior_n},
            "graphs": {"prior": "uniform over decomposable graphs"},
        }

    def options(self) -> dict[str, Any]:
        return {"delta": self.delta, "prior_n": self.prior_n, "n_max": self.n_max,
                "sensitivity_delta": self.sensitivity_delta}

    def describe(self, data: ListData) -> str:
        delta = self._delta(data.k)
        return f"{self.description} Prior weight delta = {delta:.4g}{' (2^-' + str(data.k) + ')' if self.delta is None else ''}."

    def fit_table(self, table: ListTable, *, levels: tuple[float, ...], seed: int, interval_kind: str) -> StratumEstimate:
        delta = self._delta(table.k)
        posterior = bma_posterior(table.counts, table.k, delta=delta, prior_n=self.prior_n, n_max=self.n_max)
        mean_exists = True
        if self.prior_n in ("inverse", "uniform") and self.n_max is None:
            mean_exists = bool(np.max(tail_exponents(table.counts, table.k, delta=delta, prior_n=self.prior_n)) < -2)
        total = GridDistribution(posterior.totals, posterior.pmf, posterior.tail_mass, mean_exists)
        names = table.names
        warnings: list[Caveat] = []
        likeliest = list(zip(posterior.graphs[:TOP_GRAPHS], posterior.graph_probs, strict=False))
        rows = [[graph_label(g, names), float(p)] for g, p in likeliest]
        structures = [graph_structure(g, names) for g, _ in likeliest]
        tables: list[dict[str, Any]] = [build(
            f"Most probable models (of {posterior.n_graphs:,} decomposable graphs)",
            [Column("model (cliques)"), Column("posterior probability", "probability")], rows,
            "A clique such as A:B:C means lists A, B and C may all depend on one another.",
            facts={"models": structures})]
        pairs: list[list[Any]] = [[f"{names[i]} - {names[j]}", float(posterior.edge_probs[i, j])]
                                  for i in range(table.k) for j in range(i + 1, table.k)]
        tables.append(build("Probability that two lists are directly dependent",
                            [Column("lists"), Column("probability", "probability")],
                            sorted(pairs, key=lambda r: -float(r[1]))))
        level = headline_level(levels)
        sensitivity = None
        if self.sensitivity_delta is not None and abs(self.sensitivity_delta - delta) > 1e-12:
            other = bma_posterior(table.counts, table.k, delta=self.sensitivity_delta, prior_n=self.prior_n,
                                  n_max=self.n_max)
            lo, hi = other.interval(level)
            sensitivity = {"delta": self.sensitivity_delta, "median": other.median, "interval": [lo, hi], "level": level}
            ladder = report_levels(levels)
            tables.append(build(
                "Sensitivity to the prior weight delta",
                [Column("delta", "number"), Column("median", "count", "split")],
                [[delta, interval_cell(total.median(), total.interval, ladder)],
                 [self.sensitivity_delta, interval_cell(float(other.median), other.interval, ladder)]],
                "delta is the prior count per cell; on sparse tables it can move the answer a lot.",
            ))
            ratio = max(other.median, total.median()) / max(min(other.median, total.median()), 1)
            if ratio > DISAGREEMENT_RATIO:
                warnings.append(Caveat(
                    f"the prior weight delta decides this answer: the median is {total.median():,.0f} with delta = "
                    f"{delta:.4g} but {other.median:,.0f} with delta = {self.sensitivity_delta:g} ({ratio:.1f}x); "
                    "the data alone do not settle it", "prior-sensitive"))
        zero_pairs = table.zero_overlap_pairs()
        if zero_pairs:
            listed = ", ".join(f"{a}-{b}" for a, b in zero_pairs)
            warnings.append(Caveat(f"{len(zero_pairs)} pair(s) of lists never overlap ({listed}): estimates are fragile",
                                   "zero-overlap"))
        if total.median() == table.observed:
            warnings.append(Caveat("the posterior median equals the observed count (nobody hidden): check the "
                                   "sensitivity table", "bound"))
        if posterior.tail_mass > 1e-4:
            warnings.append(Caveat(f"{posterior.tail_mass:.2g} of the posterior lies beyond the largest total computed "
                                   f"({posterior.totals[-1]:,}); the upper interval ends may be too low", "bound"))
        if not mean_exists:  # a note: the median and interval, which are reported, exist and are exact
            warnings.append(Caveat("the posterior has no mean (its tail is too heavy under this prior); the median is "
                                   "the estimate", "no-mean"))
        _, top = total.interval(level)
        if top is not None and top > 5 * total.median():
            warnings.append(Caveat(f"the {100 * level:g}% interval reaches {top / total.median():.1f}x the median: the "
                                   "data leave the upper end poorly determined", "heavy-tail"))
        return StratumEstimate(
            stratum=table.stratum,
            observed=table.observed,
            total=total,
            diagnostics=diag.exact(
                f"exact computation over {posterior.n_graphs:,} graphs on a grid of {posterior.totals.size:,} totals "
                f"(mass beyond the grid {posterior.tail_mass:.1g})"
            ),
            warnings=tuple(warnings),
            details={"delta": delta, "prior_n": self.prior_n, "n_graphs": posterior.n_graphs,
                     "tail_mass": posterior.tail_mass, "sensitivity": sensitivity, "tables": tables,
                     "top_graphs": [{"model": r[0], "probability": r[1], "structure": m} for r, m in zip(rows, structures,
                                                                                                         strict=True)],
                     # the most probable graphs as edges (list indices), for checks that refit them
                     "graph_weights": [[[list(edge) for edge in graph], float(p)] for graph, p in
                                       zip(posterior.graphs[:REFERENCE_GRAPHS], posterior.graph_probs, strict=False)]},
        )
