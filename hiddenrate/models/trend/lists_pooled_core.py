r"""Pooled Bayesian log-linear model for list data over periods, sampled with nutpie.

The model
---------
Periods :math:`t = 1, \dots, T` at times :math:`\tau_1 < \dots < \tau_T` (gaps allowed), ``K``
lists (2 to 6), cells :math:`c` as in :mod:`hiddenrate.core.design` (list ``j`` holds the
record iff ``(c >> j) & 1``). The observed cells are Poisson,

.. math::

    n_{tc} \sim \operatorname{Poisson}(\mu_{tc}), \qquad
    \log \mu_{tc} = \alpha_t + \sum_j x_j(c)\, \beta_{tj} + \sum_{(i,j) \in \mathcal T} x_i(c) x_j(c)\, \gamma_{ij},

* :math:`\alpha_t` (log of the number on no list) is free per period;
* the list main effects :math:`\beta_{tj}` follow a random walk across periods,
  :math:`\beta_{tj} = \beta_{t-1,j} + \sigma \sqrt{\tau_t - \tau_{t-1}}\,\varepsilon_{tj}`, with one
  step size :math:`\sigma` for all lists: a period with few records borrows its capture
  probabilities from its neighbours;
* the interactions :math:`\gamma_{ij}` (the capture structure: dependence between lists) are
  **shared by all periods**, estimated from the pooled data.

Never sample N (docs/methods.md#never-sample-n): NUTS sees only the continuous parameters and the Poisson
likelihood of the observed cells; afterwards, draw by draw,
:math:`N_t = n_t + n_{t0}` with :math:`n_{t0} \sim \operatorname{Poisson}(e^{\alpha_t})`.

Priors (:data:`DEFAULT_PRIORS`)
-------------------------------
* ``intercept``: flat on each :math:`\alpha_t`, i.e. :math:`p(N_t) \propto 1/N_t` per period (as in
  :mod:`~hiddenrate.models.lists.bayes_loglinear_core`).
* ``main_level``: Normal(0, 5) on each list's mean main effect over the periods,
  :math:`\bar\beta_j` (capture odds between about 1e-4 and 1e4).
* ``main_step``: :math:`\sigma^2 \sim` scaled-Inv-:math:`\chi^2(4, 0.2^2)`, integrated out exactly
  as the trend model's step sizes (:func:`hiddenrate.models.trend.core.process_log_prior`): one step
  is Student-t(4) with scale 0.2 on the log odds of capture, so capture probabilities typically
  move by about 20% (relative odds) per period and can jump.
* ``interaction``: Normal(0, 2) on each shared :math:`\gamma_{ij}` (odds ratios 1/55 to 55 at ±2 sd).

Terms: by default every pair of lists seen together in the pooled data, except the interaction
of all ``K`` lists at once, which is never identified (so with two lists the default is
independence; give ``terms`` and an informative interaction prior to change that).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from hiddenrate.core.settings import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_TUNE
from hiddenrate.core.exceptions import DataError, EstimationError, ModelError
from hiddenrate.models.lists.bayes_loglinear_core import term_coord
from hiddenrate.core.priors import merge_priors
from hiddenrate.core.design import Terms, design_matrix, is_hierarchical, n_cells, normalize_terms
from hiddenrate.models.trend.core import TARGET_ACCEPT, normal_log_density, process_log_prior
from hiddenrate.models.sampling.nuts import compile_once, public_posterior, sample_nuts

if TYPE_CHECKING:
    import arviz

#: Default priors (see the module docstring); overridable by name.
DEFAULT_PRIORS: dict[str, dict[str, Any]] = {
    "intercept": {"dist": "flat"},
    "main_level": {"dist": "normal", "mu": 0.0, "sigma": 5.0},
    "main_step": {"dist": "scaled_inv_chi2", "dof": 4.0, "scale": 0.2},
    "interaction": {"dist": "normal", "mu": 0.0, "sigma": 2.0},
}
_FIELDS = {"main_level": ("mu", "sigma"), "main_step": ("scale", "dof"), "interaction": ("mu", "sigma")}
_MAX_POISSON_MEAN = 1e15
#: what decides the sampler's R-hat / ESS remedy: the parameters the model's diagnostics check (not the
#: random walk's level, which they leave out)
REMEDY_MONITOR = ("intercept", "main_effect", "interaction")
_COMPILED: dict[tuple[int, int, Terms, str], Any] = {}
_COMPILE_LOCK = threading.Lock()


def merge_pooled_priors(overrides: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """:data:`DEFAULT_PRIORS` with ``overrides`` merged in (:func:`hiddenrate.core.priors.merge_priors`);
    all problems in one ModelError.

    An override is a dict of fields (``{"scale": 0.5}``) or numbers in field order: ``main_level``
    and ``interaction`` take ``mu, sigma``; ``main_step`` takes ``scale[, dof]`` (the CLI's
    ``--prior main_step=0.5``). The intercept stays flat.
    """
    return merge_priors(DEFAULT_PRIORS, overrides, _merge_entry, model="pooled list trend",
                        valid=list(_FIELDS), canonical=lambda name: name if name in _FIELDS else None)


def _merge_entry(name: str, base: Mapping[str, Any], value: Any, errors: list[str]) -> dict[str, Any]:
    """One override onto its default entry; problems go to ``errors``."""
    merged = dict(base)
    if isinstance(value, (int, float, list, tuple)):  # numbers in field order, e.g. main_step=0.5 or 0.5,4
        numbers = list(value) if isinstance(value, (list, tuple)) else [value]
        if not 1 <= len(numbers) <= 2 or (len(numbers) == 1 and name != "main_step"):
            errors.append(f"prior '{name}' takes {'1 or 2' if name == 'main_step' else '2'} number(s): "
                          f"{', '.join(_FIELDS[name])}")
            return merged
        value = dict(zip(_FIELDS[name], numbers, strict=False))
    if not isinstance(value, Mapping):
        errors.append(f"prior '{name}' must be numbers or a dict of {', '.join(_FIELDS[name])}, got {value!r}")
        return merged
    for key, raw in value.items():
        if key == "dist":
            continue
        if key not in _FIELDS[name]:
            errors.append(f"prior '{name}' has unknown field '{key}'; valid: {', '.join(_FIELDS[name])}")
            continue
        try:
            number = float(raw)
        except (TypeError, ValueError):
            errors.append(f"prior '{name}': {key} must be a number, got {raw!r}")
            continue
        if not np.isfinite(number) or (key != "mu" and number <= 0):
            errors.append(f"prior '{name}': {key} = {raw!r} must be finite{'' if key == 'mu' else ' and > 0'}")
            continue
        merged[key] = number
    return merged


def default_terms(counts: np.ndarray, k: int) -> Terms:
    """Every pair of lists with a positive overlap in the pooled table, except the ``K``-way term."""
    if k == 2:  # the only pair is the all-lists term
        return ()
    pooled = np.asarray(counts).sum(axis=0)
    terms = []
    for i in range(k):
        for j in range(i + 1, k):
            together = sum(int(pooled[c]) for c in range(1, n_cells(k)) if (c >> i) & 1 and (c >> j) & 1)
            if together > 0:
                terms.append((i, j))
    return normalize_terms(terms)


def _build_model(k: int, n_periods: int, terms: Terms, priors: Mapping[str, Mapping[str, Any]]) -> Any:
    """The PyMC model; counts, times and intercept offsets enter through ``pm.Data``."""
    import pymc as pm
    import pytensor.tensor as pt

    design = design_matrix(k, terms)[1:]  # observed cells: intercept, K main, then interaction columns
    main_columns = design[:, 1:1 + k]
    inter_columns = design[:, 1 + k:]
    coords: dict[str, list[Any]] = {"period": list(range(n_periods)), "list": list(range(k)),
                                    "cell": list(range(1, n_cells(k)))}
    if terms:
        coords["term"] = [term_coord(t) for t in terms]
    with pm.Model(coords=coords) as model:
        observed = pm.Data("observed_counts", np.ones((n_periods, n_cells(k) - 1), dtype=np.int64), dims=("period", "cell"))
        times = pm.Data("times", np.arange(n_periods, dtype=float), dims="period")
        offset = pm.Data("intercept_offset", np.zeros(n_periods), dims="period")
        intercept = pm.Deterministic("intercept", offset + pm.Flat("_intercept_raw", dims="period"), dims="period")
        main = pm.Flat("_main_raw", dims=("list", "period"))  # lists x periods; prior added below
        level = pm.Deterministic("main_level", pt.mean(main, axis=1), dims="list")
        pm.Potential("main_priors", process_log_prior(main, times, None, None, None, priors["main_step"])
                     + pt.sum(normal_log_density(level, priors["main_level"])))
        pm.Deterministic("main_effect", main.T, dims=("period", "list"))
        eta = intercept[:, None] + pt.dot(main.T, main_columns.T)
        if terms:
            spec = priors["interaction"]
            interaction = pm.Normal("interaction", mu=spec["mu"], sigma=spec["sigma"], dims="term")
            eta = eta + pt.dot(inter_columns, interaction)[None, :]
        pm.Poisson("counts", mu=pt.exp(eta), observed=observed, dims=("period", "cell"))
    return model


def _compiled(k: int, n_periods: int, terms: Terms, priors: Mapping[str, Mapping[str, Any]]) -> Any:
    key = (k, n_periods, terms, json.dumps(priors, sort_keys=True))
    return compile_once(_COMPILED, _COMPILE_LOCK, key, lambda: _build_model(k, n_periods, terms, priors))


class PooledLoglinearSampler:
    """Compile the pooled model once per (K, T, terms, priors), then sample it for count tables.

    Parameters
    ----------
    k, n_periods : int
        Lists (2 to 6) and periods (at least 2).
    terms : tuple of tuple of int
        Shared interaction terms (hierarchical); see :func:`default_terms`.
    priors : mapping, optional
        Overrides of :data:`DEFAULT_PRIORS` by name, e.g. ``{"main_step": {"scale": 0.5}}``.
    """

    def __init__(self, k: int, n_periods: int, terms: Terms = (), priors: Mapping[str, Any] | None = None) -> None:
        if not 2 <= int(k) <= 6:
            raise ModelError(f"the pooled log-linear model takes 2 to 6 lists, got {k}")
        if int(n_periods) < 2:
            raise ModelError("the pooled model needs at least 2 periods")
        self.k, self.n_periods = int(k), int(n_periods)
        self.terms = normalize_terms(terms)
        outside = [t for t in self.terms if max(t) >= self.k]
        if outside:
            raise ModelError(f"interaction term(s) {outside} name lists outside 0..{self.k - 1}")
        if not is_hierarchical(self.terms):
            raise ModelError(f"the model {list(self.terms)} is not hierarchical: every sub-interaction of a term must be a term")
        if any(len(t) == self.k for t in self.terms):
            raise ModelError("the interaction of all lists at once is not identified; leave it out of the terms")
        self.priors = merge_pooled_priors(priors)

    def sample(self, counts: np.ndarray, times: np.ndarray, *, draws: int = DEFAULT_DRAWS, tune: int = DEFAULT_TUNE,
               chains: int = DEFAULT_CHAINS, seed: int = DEFAULT_SEED, target_accept: float = TARGET_ACCEPT,
               remedy: bool = False) -> arviz.InferenceData:
        """Sample the posterior for a (periods x 2**K) count table (column 0, the unobserved cell, ignored).

        Returns an InferenceData whose posterior has ``intercept`` (period), ``main_effect``
        (period, list), ``main_level`` (list), ``interaction`` (term), ``hidden`` and ``total``
        (period; int64, drawn after sampling), and ``sample_stats`` with ``diverging``.

        Raises
        ------
        DataError
            Counts of the wrong shape, negative or fractional, or a period with no records.
        EstimationError
            A draw of the number on no list above 1e15 (N unbounded under this model).
        """
        import arviz
        import nutpie

        table = np.asarray(counts)
        if table.shape != (self.n_periods, n_cells(self.k)):
            raise DataError(f"counts must have shape ({self.n_periods}, {n_cells(self.k)}), got {table.shape}")
        observed = table[:, 1:].astype(float)
        if np.any(~np.isfinite(observed) | (observed < 0) | (observed != np.round(observed))):
            raise DataError("counts must be whole numbers >= 0")
        per_period = observed.sum(axis=1)
        if np.any(per_period == 0):
            raise DataError("a period has no records on any list; the pooled model needs records in every period")
        nuts_seq, hidden_seq = np.random.SeedSequence(seed).spawn(2)
        compiled = _compiled(self.k, self.n_periods, self.terms, self.priors).with_data(
            observed_counts=observed.astype(np.int64),
            times=np.asarray(times, dtype=float),
            intercept_offset=np.log(per_period / observed.shape[1]),
        )
        idata = sample_nuts(compiled, draws=draws, tune=tune, chains=chains, seed=nuts_seq, target_accept=target_accept,
                            remedy=remedy, monitor=REMEDY_MONITOR)
        posterior = public_posterior(idata)
        with np.errstate(over="ignore"):
            hidden_mean = np.exp(posterior["intercept"].values)
        if not np.all(np.isfinite(hidden_mean) & (hidden_mean <= _MAX_POISSON_MEAN)):
            raise EstimationError("the posterior of the number on no list is unbounded in some period: neither the data "
                                  "nor the priors bound N (lists that never overlap?); drop terms or give them "
                                  "informative priors")
        hidden = np.random.default_rng(hidden_seq).poisson(hidden_mean).astype(np.int64)
        dims = ("chain", "draw", "period")
        posterior = posterior.assign(hidden=(dims, hidden), total=(dims, hidden + per_period.astype(np.int64)))
        posterior.attrs.update({"model": "pooled_loglinear", "k": self.k, "terms": json.dumps([list(t) for t in self.terms]),
                                "priors": json.dumps(self.priors, sort_keys=True), "seed": int(seed), "draws": int(draws),
                                "tune": int(tune), "chains": int(chains), "sampler": f"nutpie {nutpie.__version__}"})
        return arviz.InferenceData(posterior=posterior, sample_stats=idata.sample_stats)


def simulate(totals: np.ndarray, main: np.ndarray, terms: Terms, interaction: np.ndarray,
             rng: np.random.Generator) -> np.ndarray:
    """Counts (periods x 2**K) with known totals: each period's N_t people multinomial over the cells.

    ``main`` (periods x K) and ``interaction`` (one per term) give the log-linear cell weights
    (cell 0 has weight 1); the unobserved cell is set to 0 in the result.
    """
    totals = np.asarray(totals, dtype=np.int64)
    k = np.asarray(main).shape[1]
    design = design_matrix(k, normalize_terms(terms))
    out = np.zeros((totals.size, n_cells(k)), dtype=np.int64)
    for t, total in enumerate(totals):
        eta = design[:, 1:1 + k] @ np.asarray(main)[t] + design[:, 1 + k:] @ np.asarray(interaction, dtype=float)
        weights = np.exp(eta)
        out[t] = rng.multinomial(total, weights / weights.sum())
    out[:, 0] = 0
    return out


__all__ = ["DEFAULT_PRIORS", "PooledLoglinearSampler", "default_terms", "merge_pooled_priors", "simulate"]
