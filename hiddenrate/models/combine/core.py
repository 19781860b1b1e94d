r"""The joint model of matched lists, surveys and a population route, sampled with nutpie.

The model
---------
``K`` matched lists give the counts :math:`n_c` of the :math:`2^K - 1` observed capture
patterns (cell ``c``; list ``j`` holds the person iff bit ``j`` of ``c`` is set; cell 0, on no
list, is never observed). Cell probabilities follow a log-linear model without intercept,

.. math::

    \pi_c = \frac{e^{x_c^\top\theta}}{Z}, \qquad Z = \sum_{c} e^{x_c^\top\theta}, \qquad
    x_0^\top\theta = 0,

with :math:`\theta` = one main effect per list and one log odds ratio per interaction term
(by default every pair of lists). People are Poisson, :math:`N \sim \text{Poisson}(\lambda)`,
so the observed cells are independent :math:`n_c \sim \text{Poisson}(\lambda\pi_c)`.
Each list's *marginal* capture probability is implied by the cells,

.. math::

    p_j = \sum_{c:\,c_j = 1} \pi_c ,

and a survey in which :math:`r_j` of :math:`m_j` victims were known to list ``j`` enters as
:math:`r_j \sim \text{Binomial}(m_j, p_j)`. With two lists the cells alone cannot tell the
log odds ratio :math:`\gamma` from the size of the hidden cell (docs/methods.md#two-lists); a survey of :math:`p_1` fixes :math:`\gamma`.

Never sample N (docs/methods.md#never-sample-n). NUTS samples only :math:`\theta`, the log observed mean
:math:`\eta = \log \lambda(1 - \pi_0)` and, for the population route, the prevalence. In these
coordinates the Poisson likelihood of the cells is
:math:`\sum_c n_c \log(e^{\eta}\pi_c / (1-\pi_0)) - e^{\eta}`: a flat prior on :math:`\eta`
is :math:`p(\lambda) \propto 1/\lambda` (the scale-invariant prior), and :math:`\eta` is nearly
independent of :math:`\theta`, which makes sampling easy. Afterwards, draw by draw, the number on
no list is drawn with numpy, :math:`n_0 \sim \text{Poisson}(\lambda\pi_0) = \text{Poisson}(e^\eta/S)`
with :math:`S = Z - 1`, and :math:`N = n + n_0`.

Population route: :math:`\lambda = P q`, with the population size :math:`\log P \sim
\text{Normal}(\mu_P, \sigma_P)` (from its 95% interval) and the victimisation prevalence
:math:`q \sim \text{Beta}(\alpha_q, \beta_q)`, informed by "``k`` of ``m`` surveyed were
victimised", :math:`k \sim \text{Binomial}(m, q)`. It is added as a density on
:math:`\log\lambda - \log q` (unit Jacobian given :math:`\theta` and :math:`q`), switched on
and off by data, so one compiled model serves both. (The exact counts model uses
:math:`N \sim \text{Binomial}(P, q)`; the Poisson form here differs by :math:`q`, negligible
for small prevalences.)

Priors (data of the compiled model, so changing them does not recompile): main effects
Normal(0, 5); log odds ratios Normal(0, 2) (odds ratios between about 1/50 and 50);
:math:`\eta` flat; prevalence Beta(1, 1).

Sampler: nutpie with its low-rank modified mass matrix. The main effects and log odds ratios
are strongly correlated along the direction that changes the hidden cell; with a diagonal mass
matrix about one fit in ten of three lists ended with R-hat 1.011-1.015 (4 x 1000 draws), with
the low-rank adaptation none of 40 did, in less time.

Compiled once per (K, terms) and process; surveys, priors and the route are swapped in with
``CompiledModel.with_data`` (a survey with :math:`m_j = 0` contributes nothing, which is how the
conflict check leaves one piece of evidence out without recompiling).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp

from hiddenrate.core.settings import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_TUNE
from hiddenrate.core.exceptions import DataError, EstimationError, ModelError
from hiddenrate.models.lists.bayes_loglinear_core import term_coord
from hiddenrate.core.design import Terms, design_matrix, n_cells, normalize_terms, patterns
from hiddenrate.models.sampling.combine_kernel import install_kernel
from hiddenrate.models.sampling.nuts import compile_once, sample_nuts

#: numpy's Poisson sampler refuses means above about 9.2e18
_MAX_HIDDEN_MEAN = 1e15
_COMPILED: dict[tuple[int, Terms], Any] = {}
_COMPILE_LOCK = threading.Lock()


@dataclass(frozen=True)
class RouteData:
    """The population route: log-normal population size and the prevalence survey."""

    log_population_mu: float
    log_population_sigma: float
    victimized: int
    respondents: int


@dataclass(frozen=True)
class JointFit:
    """Posterior draws of one fit (flattened over chains) and the InferenceData."""

    idata: Any
    theta: np.ndarray  # (draws, k + terms)
    log_observed_mean: np.ndarray  # (draws,)
    capture: np.ndarray  # (draws, k): marginal capture probabilities
    cell_probabilities: np.ndarray  # (draws, 2**k): pi_c, cell 0 included
    hidden: np.ndarray  # (draws,) int
    total: np.ndarray  # (draws,) int
    prevalence: np.ndarray | None  # (draws,) with the route


def _build_model(k: int, terms: Terms) -> Any:
    import pymc as pm
    import pytensor.tensor as pt

    design = design_matrix(k, terms)[:, 1:]  # no intercept; row 0 (on no list) is all zeros
    on = patterns(k).T.astype(float)  # (k, cells): 1 where list j holds the cell
    off = 1.0 - on
    coords: dict[str, list[Any]] = {"list": list(range(k)), "cell": list(range(1, n_cells(k)))}
    if terms:
        coords["term"] = [term_coord(t) for t in terms]
    with pm.Model(coords=coords) as model:
        counts = pm.Data("observed_counts", np.ones(n_cells(k) - 1), dims="cell")
        n_observed = pm.Data("n_observed", 1.0)
        surveyed = pm.Data("surveyed", np.zeros(k), dims="list")
        reported = pm.Data("reported", np.zeros(k), dims="list")
        offset = pm.Data("offset", 0.0)
        main_mu, main_sigma = pm.Data("main_mu", 0.0), pm.Data("main_sigma", 5.0)
        route_on = pm.Data("route_on", 0.0)
        population_mu, population_sigma = pm.Data("population_mu", 0.0), pm.Data("population_sigma", 1.0)
        prevalence_a, prevalence_b = pm.Data("prevalence_a", 1.0), pm.Data("prevalence_b", 1.0)

        raw = pm.Flat("_log_observed_raw")
        log_observed = pm.Deterministic("log_observed_mean", offset + raw)
        theta = pm.Normal("main_effect", mu=main_mu, sigma=main_sigma, dims="list")
        if terms:
            odds_mu, odds_sigma = pm.Data("odds_mu", 0.0), pm.Data("odds_sigma", 2.0)
            odds = pm.Normal("log_odds_ratio", mu=odds_mu, sigma=odds_sigma, dims="term")
            theta = pt.concatenate([theta, odds])
        eta = pt.dot(design, theta)
        log_s = pt.logsumexp(eta[1:])
        log_z = pt.logaddexp(0.0, log_s)
        pi = pt.exp(eta - log_z)
        # cells: sum_c n_c log(mu_c) - sum_c mu_c with mu_c = exp(log_observed + eta_c - log_s)
        cells = pt.dot(counts, eta[1:]) - n_observed * log_s + n_observed * log_observed - pt.exp(log_observed)
        surveys = pt.sum(reported * pt.log(pt.dot(on, pi)) + (surveyed - reported) * pt.log(pt.dot(off, pi)))
        logit_q = pm.Flat("_logit_prevalence")
        log_q, log_not_q = -pt.softplus(-logit_q), -pt.softplus(logit_q)
        pm.Deterministic("prevalence", pt.exp(log_q))
        log_lambda = log_observed + log_z - log_s
        route = route_on * (-0.5 * ((log_lambda - log_q - population_mu) / population_sigma) ** 2)
        prevalence = prevalence_a * log_q + prevalence_b * log_not_q  # Beta density of q, in logit coordinates
        pm.Potential("likelihood", cells + surveys + route + prevalence)
    return model


def _compiled(k: int, terms: Terms, kernel: bool = True) -> Any:
    """Compile (once per process) the nutpie model for (k, terms).

    With ``kernel`` (what the sampler uses), its log density and gradient are then evaluated by
    the hand-written kernel of :mod:`hiddenrate.models.sampling.combine_kernel` (same function, checked
    against PyTensor's, which ``kernel=False`` returns).
    """
    key = (k, terms)
    compiled = compile_once(_COMPILED, _COMPILE_LOCK, key, lambda: _build_model(k, terms))
    return install_kernel(compiled, k, terms) if kernel else compiled


class JointSampler:
    """Compile the joint model once per (K, terms), then sample it for many data sets.

    Parameters
    ----------
    k
        Number of matched lists (>= 2).
    terms
        Interaction terms (list-index tuples); ``()`` is independence.
    """

    def __init__(self, k: int, terms: Terms = ()) -> None:
        if int(k) != k or k < 2:
            raise ModelError(f"the joint model needs at least 2 matched lists, got {k}")
        self.k = int(k)
        self.terms = normalize_terms(terms)
        self.design = design_matrix(self.k, self.terms)[:, 1:]
        self.patterns = patterns(self.k).astype(float)

    @staticmethod
    def method(draws: int, tune: int, chains: int) -> str:
        """How the fits are sampled, for the diagnostics."""
        return f"NUTS (nutpie), {chains} chains x {draws} draws after {tune} tuning"

    def sample(
        self,
        counts: np.ndarray,
        surveyed: np.ndarray,
        reported: np.ndarray,
        *,
        route: RouteData | None = None,
        priors: dict[str, dict[str, float]] | None = None,
        draws: int = DEFAULT_DRAWS,
        tune: int = DEFAULT_TUNE,
        chains: int = DEFAULT_CHAINS,
        seed: int = DEFAULT_SEED,
        remedy: bool = False,
    ) -> JointFit:
        """Sample the posterior for one table.

        Parameters
        ----------
        counts
            Cell counts, length ``2**k`` (entry 0 ignored), in hiddenrate's cell order.
        surveyed, reported
            Per list: survey size and how many of them were on the list (``0, 0``: no survey).
        route
            The population route, or ``None``.
        priors
            ``{"main_effect": {"mu", "sigma"}, "log_odds_ratio": {...}, "prevalence": {"alpha", "beta"}}``.
        draws, tune, chains, seed
            NUTS settings; one ``SeedSequence(seed)`` seeds NUTS and the hidden-count draws.
        remedy
            Sample once more with the usual remedy when the run fails its checks (``sample_nuts``).

        Raises
        ------
        EstimationError
            When the posterior of the hidden count is unbounded (draws of its mean above 1e15).
        """
        table = np.asarray(counts, dtype=float)
        if table.shape != (n_cells(self.k),) or np.any(table[1:] < 0) or table[1:].sum() <= 0:
            raise DataError(f"counts must be {n_cells(self.k)} whole numbers >= 0 with a positive total")
        observed = table[1:]
        n_observed = float(observed.sum())
        priors = priors or {}
        main = priors.get("main_effect", {"mu": 0.0, "sigma": 5.0})
        odds = priors.get("log_odds_ratio", {"mu": 0.0, "sigma": 2.0})
        prevalence = priors.get("prevalence", {"alpha": 1.0, "beta": 1.0})
        data: dict[str, Any] = {
            "observed_counts": observed,
            "n_observed": n_observed,
            "surveyed": np.asarray(surveyed, dtype=float),
            "reported": np.asarray(reported, dtype=float),
            "offset": float(np.log(n_observed)),
            "main_mu": float(main["mu"]),
            "main_sigma": float(main["sigma"]),
            "route_on": 0.0,
            "population_mu": 0.0,
            "population_sigma": 1.0,
            "prevalence_a": float(prevalence["alpha"]),
            "prevalence_b": float(prevalence["beta"]),
        }
        if self.terms:
            data.update(odds_mu=float(odds["mu"]), odds_sigma=float(odds["sigma"]))
        if route is not None:
            data.update(route_on=1.0, population_mu=route.log_population_mu,
                        population_sigma=max(route.log_population_sigma, 1e-3),
                        prevalence_a=float(prevalence["alpha"]) + route.victimized,
                        prevalence_b=float(prevalence["beta"]) + route.respondents - route.victimized)
        nuts_seq, hidden_seq = np.random.SeedSequence(seed).spawn(2)
        compiled = _compiled(self.k, self.terms).with_data(**data)
        idata = sample_nuts(compiled, draws=draws, tune=tune, chains=chains, seed=nuts_seq,
                            low_rank_modified_mass_matrix=True, remedy=remedy)
        return self._expand(idata, n_observed, route is not None, np.random.default_rng(hidden_seq))

    def _expand(self, idata: Any, n_observed: float, with_route: bool, rng: np.random.Generator) -> JointFit:
        posterior = idata.posterior
        shape = (int(posterior.sizes["chain"]), int(posterior.sizes["draw"]))
        parts = [posterior["main_effect"].values.reshape(-1, self.k)]
        if self.terms:
            parts.append(posterior["log_odds_ratio"].values.reshape(-1, len(self.terms)))
        theta = np.concatenate(parts, axis=1)
        log_observed = posterior["log_observed_mean"].values.ravel()
        eta = theta @ self.design.T
        log_s = logsumexp(eta[:, 1:], axis=1)
        log_z = np.logaddexp(0.0, log_s)
        pi = np.exp(eta - log_z[:, None])
        capture = pi @ self.patterns
        with np.errstate(over="ignore"):
            hidden_mean = np.exp(log_observed - log_s)
        if not np.all(np.isfinite(hidden_mean) & (hidden_mean <= _MAX_HIDDEN_MEAN)):
            raise EstimationError(
                "the posterior of the number on no list is unbounded: nothing in the evidence bounds the total "
                "(typically lists that never overlap and no survey); add a survey or a population route"
            )
        hidden = rng.poisson(hidden_mean).astype(np.int64)
        total = hidden + np.int64(round(n_observed))
        dims = ("chain", "draw")
        keep = [v for v in posterior.data_vars if not str(v).startswith("_") and (with_route or v != "prevalence")]
        new_posterior = posterior[keep].assign(
            capture_probability=(("chain", "draw", "list"), capture.reshape(*shape, self.k)),
            hidden=(dims, hidden.reshape(shape)),
            total=(dims, total.reshape(shape)),
        )
        import arviz

        out = arviz.InferenceData(posterior=new_posterior, sample_stats=idata.sample_stats)
        return JointFit(
            idata=out, theta=theta, log_observed_mean=log_observed, capture=capture, cell_probabilities=pi,
            hidden=hidden, total=total,
            prevalence=posterior["prevalence"].values.ravel() if with_route else None,
        )


__all__ = ["JointFit", "JointSampler", "RouteData"]
