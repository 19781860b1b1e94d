r"""Bayesian Poisson log-linear model for K >= 2 lists, sampled with nutpie.

The model
---------
With ``K`` lists, cell ``c`` (``1 <= c < 2**K``, list ``j`` holds the record iff
``(c >> j) & 1``; see :mod:`hiddenrate.core.design`) has observed count

.. math::

    n_c \sim \operatorname{Poisson}\bigl(\exp(x_c^\top \beta)\bigr),
    \qquad \beta = (\alpha, \beta_1, \dots, \beta_K, \gamma_{t_1}, \dots),

where :math:`x_c` is row ``c`` of :func:`~hiddenrate.core.design.design_matrix`:
the intercept :math:`\alpha`, one main effect per list and one column per
interaction term. The unobserved cell ``c = 0`` has mean :math:`\exp(\alpha)`.

Never sample N (``docs/methods.md#never-sample-n``): NUTS samples only the continuous
parameters from the Poisson likelihood of the :math:`2^K - 1` observed cells;
afterwards, draw by draw, the hidden count is drawn with numpy,

.. math::

    n_0 \mid \beta \sim \operatorname{Poisson}\bigl(e^{\alpha}\bigr),
    \qquad N = n + n_0, \quad n = \sum_{c \ne 0} n_c .

Priors (:data:`DEFAULT_PRIORS`)
-------------------------------
* ``intercept``: flat. With the other parameters held fixed the expected total
  is :math:`\mu = e^{\alpha} \sum_c e^{x_c^\top\beta - \alpha}`, so a flat prior
  on :math:`\alpha = \log\mu + \text{const}` is :math:`p(\mu) \propto 1/\mu`:
  the scale-invariant prior :math:`p(N) \propto 1/N` of the conditional
  multinomial formulation (Madigan & York 1997; docs/methods.md#never-sample-n).
* ``main``: Normal(0, 5) on every main effect (weakly informative on the log
  scale: capture odds between about 1e-4 and 1e4).
* ``interaction``: Normal(0, 2) on every interaction (a log odds ratio between
  lists; ±4 covers odds ratios of 1/55 to 55).

Overrides are merged on top: a group key (``"main"``, ``"interaction"``) changes
every term of the group, a per-term key (``"main:1"``, ``"interaction:0,2"``)
one term. Each entry holds ``mu`` and ``sigma`` of a Normal prior; ``sigma = 0``
fixes the term at ``mu``. The intercept also accepts ``{"dist": "flat"}``.

Identification
--------------
The model with every interaction among all ``K`` lists (the ``K``-way term
included) has as many parameters as there are cells, ``2**K``, but only
``2**K - 1`` observed counts: the ``K``-way interaction is then not identified,
and its posterior equals its prior. For ``K = 2`` this is the list dependence
(the log odds ratio between the two lists): the data say nothing about it and
N is a monotone function of it, so its prior is an explicit assumption to report.

Exactly equal only when the main effects are (nearly) flat. The unidentified
direction moves the intercept, the main effects and the interaction together, so
the main effects' priors also act on it. For ``K = 2`` the main effects implied by
the data are :math:`\beta_1 \approx \log(n_{11}/n_{01}) - \gamma` and
:math:`\beta_2 \approx \log(n_{11}/n_{10}) - \gamma`, and Normal(0, s) priors on
them multiply the prior of :math:`\gamma` by roughly
:math:`\mathcal N\bigl(\gamma;\ \tfrac12[\log(n_{11}/n_{01}) + \log(n_{11}/n_{10})],\ s/\sqrt2\bigr)`.
With the defaults (s = 5, interaction Normal(0, 2)) and overlaps ``n11/n01 = 0.3``,
``n11/n10 = 0.2`` the effective prior of :math:`\gamma` is about Normal(-0.34, 1.74);
with an informative Normal(0.5, 0.3) it is Normal(0.486, 0.299). Give the main
effects ``sigma`` of 100 or more to make the interaction prior the whole assumption.

References
----------
Fienberg, S. E. (1972). The multiple recapture census for closed populations
and incomplete 2^k contingency tables. *Biometrika* 59, 591-603.
Madigan, D. & York, J. C. (1997). Bayesian methods for estimation of the size
of a closed population. *Biometrika* 84, 19-31.

Examples
--------
>>> import numpy as np
>>> sampler = LoglinearSampler(3)                     # doctest: +SKIP
>>> counts = np.array([0, 247, 49, 142, 60, 112, 4, 12])
>>> idata = sampler.sample(counts, seed=1)            # doctest: +SKIP
>>> float(idata.posterior["total"].median())          # doctest: +SKIP
763.0
"""

from __future__ import annotations

import copy
import json
import math
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from hiddenrate.core.settings import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_TUNE
from hiddenrate.core.exceptions import DataError, EstimationError, ModelError
from hiddenrate.core.priors import merge_priors, numbers_to_fields
from hiddenrate.core.design import Terms, design_matrix, is_hierarchical, n_cells, normalize_terms
from hiddenrate.models.sampling.bayes_loglinear_kernel import install_kernel, kernel_installed
from hiddenrate.models.sampling.nuts import compile_once, public_posterior, sample_nuts

if TYPE_CHECKING:
    import arviz

__all__ = ["DEFAULT_PRIORS", "LoglinearSampler", "loglinear_priors", "term_coord"]

#: Default priors, keyed by parameter group; see the module docstring.
DEFAULT_PRIORS: dict[str, dict[str, Any]] = {
    "intercept": {"dist": "flat"},
    "main": {"dist": "normal", "mu": 0.0, "sigma": 5.0},
    "interaction": {"dist": "normal", "mu": 0.0, "sigma": 2.0},
}

# numpy's Poisson sampler refuses means above about 9.2e18.
_MAX_POISSON_MEAN = 1e18
# Compiled nutpie models, keyed by (k, terms, priors as canonical JSON).
_COMPILED: dict[tuple[int, Terms, str], Any] = {}
_COMPILE_LOCK = threading.Lock()


def term_coord(term: Iterable[int]) -> str:
    """Coordinate label of an interaction term on the ``term`` dimension, e.g. ``"(0, 2)"``."""
    return str(tuple(int(j) for j in term))


def _valid_prior_names(k: int, terms: Terms) -> list[str]:
    names = ["intercept", "main", "interaction"]
    names += [f"main:{j}" for j in range(k)]
    names += ["interaction:" + ",".join(str(j) for j in term) for term in terms]
    return names


def _canonical_key(key: str, k: int, terms: Terms) -> str | None:
    """Canonical spelling of a prior name, or None if it names nothing in this model."""
    key = key.strip()
    if key in ("intercept", "main", "interaction"):
        return key
    group, sep, rest = key.partition(":")
    if not sep or group not in ("main", "interaction"):
        return None
    try:
        members = [int(part) for part in rest.replace(" ", "").strip("()").split(",") if part != ""]
    except ValueError:
        return None
    if group == "main":
        return f"main:{members[0]}" if len(members) == 1 and 0 <= members[0] < k else None
    term = tuple(sorted(members))
    return "interaction:" + ",".join(map(str, term)) if term in terms else None


def _merge_entry(key: str, base: Mapping[str, Any], value: Any, errors: list[str]) -> dict[str, Any]:
    """Merge one user prior entry (a dict, ``mu, sigma`` as two numbers, or ``"flat"``) onto its base entry."""
    if isinstance(value, str) and value.strip() == "flat":
        value = {"dist": "flat"}
    override = numbers_to_fields(key, value, ("mu", "sigma"), errors)
    if override is None:
        return dict(base)
    unknown = sorted(set(override) - {"dist", "mu", "sigma"})
    if unknown:
        errors.append(f"prior '{key}' has unknown field(s) {unknown}; valid fields: dist, mu, sigma")
    dist = override.get("dist", "normal" if ("mu" in override or "sigma" in override) else base["dist"])
    if dist == "flat":
        if key != "intercept":
            errors.append(f"prior '{key}': only the intercept may have a flat prior; give mu and sigma")
        return {"dist": "flat"}
    if dist != "normal":
        errors.append(f"prior '{key}': dist must be 'normal' (or 'flat' for the intercept), got {dist!r}")
        return dict(base)
    merged: dict[str, Any] = {"dist": "normal"}
    for field in ("mu", "sigma"):
        value = override.get(field, base.get(field))
        if value is None:
            errors.append(f"prior '{key}' needs '{field}' (a Normal prior takes mu and sigma)")
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            errors.append(f"prior '{key}': {field} must be a number, got {value!r}")
            continue
        if not math.isfinite(number) or (field == "sigma" and number < 0):
            errors.append(f"prior '{key}': {field} must be finite{' and >= 0' if field == 'sigma' else ''}, got {value!r}")
            continue
        merged[field] = number
    if key == "intercept" and merged.get("sigma") == 0.0:
        errors.append("prior 'intercept': sigma = 0 would fix the size of the hidden population; give sigma > 0")
    return merged


def loglinear_priors(k: int, terms: Terms = (), priors: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Merge user prior overrides onto :data:`DEFAULT_PRIORS` and check them
    (:func:`hiddenrate.core.priors.merge_priors`).

    Parameters
    ----------
    k : int
        Number of lists.
    terms : tuple of tuple of int
        Interaction terms of the model (normalised with
        :func:`~hiddenrate.core.design.normalize_terms`).
    priors : mapping, optional
        Overrides. Group keys ``"intercept"``, ``"main"``, ``"interaction"``; per-term
        keys ``"main:j"`` and ``"interaction:i,j[,...]"`` (list indices, 0-based, any
        order). Values are dicts with ``mu`` and ``sigma`` or the two numbers (``sigma = 0``
        fixes the term at ``mu``); fields not given are taken from the group entry. The
        intercept also accepts ``{"dist": "flat"}`` or ``"flat"`` (the default).

    Returns
    -------
    dict
        JSON-serialisable: the three group entries, then one fully merged entry per
        per-term override, keyed by its canonical name (``"interaction:0,2"``).

    Raises
    ------
    ModelError
        Listing every problem at once: unknown prior names (the message lists the
        valid ones), unknown fields, non-numeric or negative values.
    """
    terms = normalize_terms(terms)
    return merge_priors(DEFAULT_PRIORS, priors, _merge_entry, model="bayes-loglinear",
                        valid=_valid_prior_names(k, terms), canonical=lambda name: _canonical_key(name, k, terms))


def _term_priors(group: str, labels: list[str], priors: Mapping[str, Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Per-term (mu, sigma) arrays of a group, per-term overrides applied."""
    specs = [priors.get(f"{group}:{label}", priors[group]) for label in labels]
    return np.array([s["mu"] for s in specs], dtype=float), np.array([s["sigma"] for s in specs], dtype=float)


def linear_parts(k: int, terms: Terms, priors: Mapping[str, Mapping[str, Any]]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The linear predictor of the observed cells without the intercept, split by prior.

    Returns ``columns`` (cells x terms: main effects then interactions), ``fixed_part`` (the
    contribution of the terms fixed by a ``sigma = 0`` prior), the priors' ``mu`` and ``sigma``
    per term, and the mask of ``free`` (sampled) terms.
    """
    design = design_matrix(k, terms)[1:]  # the 2**k - 1 observed cells
    main_mu, main_sigma = _term_priors("main", [str(j) for j in range(k)], priors)
    inter_mu, inter_sigma = _term_priors("interaction", [",".join(map(str, t)) for t in terms], priors)
    mu = np.concatenate([main_mu, inter_mu])
    sigma = np.concatenate([main_sigma, inter_sigma])
    columns = design[:, 1:]
    free = sigma > 0
    return columns, columns[:, ~free] @ mu[~free], mu, sigma, free


def _build_model(k: int, terms: Terms, priors: Mapping[str, Mapping[str, Any]]) -> Any:
    """The PyMC model; data enter through ``pm.Data`` so nutpie can swap them.

    Terms whose prior has ``sigma = 0`` are not parameters: their fixed contribution
    ``x_c * mu`` is a constant in the linear predictor, and they are left out of the
    posterior (a constant "parameter" would give NaN R-hat and warnings in ArviZ).
    """
    import pymc as pm
    import pytensor.tensor as pt

    columns, fixed_part, mu, sigma, free = linear_parts(k, terms, priors)
    main_mu, main_sigma, inter_mu, inter_sigma = mu[:k], sigma[:k], mu[k:], sigma[k:]
    free_main = np.flatnonzero(free[:k])
    free_inter = np.flatnonzero(free[k:])
    coords: dict[str, list[Any]] = {"cell": list(range(1, n_cells(k)))}
    if free_main.size:
        coords["list"] = [int(j) for j in free_main]
    if free_inter.size:
        coords["term"] = [term_coord(terms[i]) for i in free_inter]
    with pm.Model(coords=coords) as model:
        observed = pm.Data("observed_counts", np.ones(n_cells(k) - 1, dtype=np.int64), dims="cell")
        # The intercept is sampled as offset + raw with the offset (log of the mean observed
        # count) set per data set: chains start near the answer whatever the scale of the counts.
        # A flat prior is shift invariant; a Normal prior is shifted with it.
        offset = pm.Data("intercept_offset", 0.0)
        spec = priors["intercept"]
        if spec["dist"] == "flat":
            raw = pm.Flat("_intercept_raw")
        else:
            raw = pm.Normal("_intercept_raw", mu=spec["mu"] - offset, sigma=spec["sigma"])
        intercept = pm.Deterministic("intercept", offset + raw)
        eta = intercept + fixed_part
        if free_main.size:
            main = pm.Normal("main_effect", mu=main_mu[free_main], sigma=main_sigma[free_main], dims="list")
            eta = eta + pt.dot(columns[:, free_main], main)
        if free_inter.size:
            interaction = pm.Normal(
                "interaction", mu=inter_mu[free_inter], sigma=inter_sigma[free_inter], dims="term"
            )
            eta = eta + pt.dot(columns[:, k + free_inter], interaction)
        pm.Poisson("counts", mu=pt.exp(eta), observed=observed, dims="cell")
    return model


def _compiled_model(k: int, terms: Terms, priors: Mapping[str, Mapping[str, Any]], kernel: bool = True) -> Any:
    """Compile (once per process) the nutpie model for (k, terms, priors).

    With ``kernel`` (what the sampler uses), its log density and gradient are then evaluated by
    the hand-written kernel of :mod:`hiddenrate.models.sampling.bayes_loglinear_kernel` (same function,
    checked against PyTensor's, which ``kernel=False`` returns).
    """
    key = (k, terms, json.dumps(priors, sort_keys=True))
    compiled = compile_once(_COMPILED, _COMPILE_LOCK, key, lambda: _build_model(k, terms, priors))
    if not kernel:
        return compiled
    return install_kernel(compiled, (k, repr(terms), key[2]), linear_parts(k, terms, priors), priors["intercept"])


def _check_counts(counts: Any, k: int) -> np.ndarray:
    """Validated int64 count vector of length 2**k (entry 0 is ignored)."""
    values = np.asarray(counts)
    expected = n_cells(k)
    if values.ndim != 1 or values.shape[0] != expected:
        raise DataError(
            f"counts must be a vector of length 2**{k} = {expected} (cell i, list j captured iff "
            f"(i >> j) & 1; entry 0 is ignored), got shape {values.shape}"
        )
    if not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating):
        raise DataError(f"counts must be numbers, got dtype {values.dtype}")
    observed = values[1:].astype(float)
    bad = np.flatnonzero(~np.isfinite(observed) | (observed < 0) | (observed != np.round(observed)))
    if bad.size:
        cell = int(bad[0]) + 1
        raise DataError(f"count of cell {cell} is {values[cell]}; counts must be whole numbers >= 0")
    if observed.sum() == 0:
        raise DataError("all observed counts are 0; there is nothing to estimate from")
    return np.concatenate([[0], observed.astype(np.int64)])


class LoglinearSampler:
    """Compile the Bayesian log-linear model once, then sample it for many count vectors.

    Parameters
    ----------
    k : int
        Number of lists, ``k >= 2``.
    terms : tuple of tuple of int, default ``()``
        Interaction terms (0-based list indices); ``()`` is the independence model.
        The model must be hierarchical (see :mod:`hiddenrate.core.design`).
    priors : dict, optional
        Overrides of :data:`DEFAULT_PRIORS`; see :func:`loglinear_priors`.

    Notes
    -----
    The nutpie model is compiled on first use and cached per process, keyed by
    ``(k, terms, priors)``; every later :meth:`sample` call swaps the counts into the
    compiled model (``CompiledModel.with_data``) without recompiling. Compiling takes
    several seconds; one fit of 4 x 2000 iterations about 0.1 s.

    Raises
    ------
    ModelError
        For ``k < 2``, terms naming lists outside ``0..k-1``, a non-hierarchical model,
        or invalid priors (all problems listed at once).
    """

    def __init__(self, k: int, terms: Iterable[Iterable[int]] = (), priors: Mapping[str, Any] | None = None) -> None:
        if int(k) != k or k < 2:
            raise ModelError(f"the log-linear model needs at least 2 lists, got k = {k}")
        self._k = int(k)
        self._terms = normalize_terms(terms)
        outside = [t for t in self._terms if max(t) >= self._k or min(t) < 0]
        if outside:
            raise ModelError(f"interaction term(s) {outside} name lists outside 0..{self._k - 1}")
        if not is_hierarchical(self._terms):
            raise ModelError(
                f"the model {list(self._terms)} is not hierarchical: every sub-interaction of a term must "
                "also be a term (use hiddenrate.core.design.hierarchical_closure)"
            )
        self._priors = loglinear_priors(self._k, self._terms, priors)

    @property
    def k(self) -> int:
        """Number of lists."""
        return self._k

    @property
    def terms(self) -> Terms:
        """Interaction terms, normalised."""
        return self._terms

    @property
    def priors(self) -> dict[str, dict[str, Any]]:
        """The merged priors (a copy; JSON-serialisable)."""
        return copy.deepcopy(self._priors)

    def sample(
        self,
        counts: np.ndarray,
        *,
        draws: int = DEFAULT_DRAWS,
        tune: int = DEFAULT_TUNE,
        chains: int = DEFAULT_CHAINS,
        seed: int = DEFAULT_SEED,
        progress: bool = False,
        remedy: bool = False,
    ) -> arviz.InferenceData:
        r"""Sample the posterior for one count vector.

        Parameters
        ----------
        counts : array of int, length ``2**k``
            Cell counts in hiddenrate's cell order; entry 0 (the unobserved cell) is ignored.
        draws, tune, chains : int
            Draws kept per chain, tuning iterations per chain, number of chains.
        seed : int
            Seeds everything: one ``numpy.random.SeedSequence(seed)`` spawns the nutpie seed
            and the generator of the hidden-count draws. Same counts and seed give identical draws.
        progress : bool, default False
            Show nutpie's progress bar.
        remedy : bool, default False
            Sample once more with the usual remedy when the run fails its checks (``sample_nuts``).

        Returns
        -------
        arviz.InferenceData
            ``posterior``: ``intercept``; ``main_effect`` (dim ``list``); ``interaction`` (dim
            ``term``, labels like ``"(0, 1)"``) when the model has terms. Terms fixed by a
            prior with ``sigma = 0`` are not parameters and are left out (their values are in
            ``posterior.attrs["priors"]``); ``hidden_mean`` =
            :math:`e^\alpha`; ``hidden`` (int64, :math:`n_0 \sim \text{Poisson}(e^\alpha)`) and
            ``total`` = n + hidden (int64), all with dims ``(chain, draw)`` first.
            ``sample_stats``: nutpie's statistics, including the boolean ``diverging``.
            ``observed_data``: ``counts`` (dim ``cell``, cells ``1 .. 2**k - 1``). Provenance
            (k, terms, priors as JSON, seed, sampler settings) is in ``posterior.attrs``.

        Raises
        ------
        DataError
            If the counts are not ``2**k`` whole numbers >= 0 with a positive total.
        EstimationError
            If a draw of :math:`e^\alpha` is not finite or exceeds 1e18: the posterior of N is
            then unbounded (typically lists that never overlap, under the flat intercept prior).
        """
        table = _check_counts(counts, self._k)
        observed = table[1:]
        n_observed = int(observed.sum())
        for name, value in (("draws", draws), ("tune", tune), ("chains", chains)):
            if int(value) != value or value < (0 if name == "tune" else 1):
                raise ModelError(f"{name} must be a whole number >= {0 if name == 'tune' else 1}, got {value!r}")
        nuts_seq, hidden_seq = np.random.SeedSequence(seed).spawn(2)
        compiled = _compiled_model(self._k, self._terms, self._priors).with_data(
            observed_counts=observed,
            intercept_offset=np.log(max(n_observed, 1) / observed.size),
        )
        idata = sample_nuts(compiled, draws=draws, tune=tune, chains=chains, seed=nuts_seq, progress=progress, remedy=remedy)
        posterior = public_posterior(idata)
        with np.errstate(over="ignore"):  # overflow to inf is caught just below
            hidden_mean = np.exp(posterior["intercept"].values)
        if not np.all(np.isfinite(hidden_mean) & (hidden_mean <= _MAX_POISSON_MEAN)):
            raise EstimationError(
                "the posterior of the number on no list is unbounded (exp(intercept) reached "
                f"{np.nanmax(hidden_mean):.3g}): neither the data nor the priors bound N under this "
                "model (very wide priors on unidentified terms, or lists that never overlap); drop "
                "interaction terms or give them informative priors"
            )
        hidden = np.random.default_rng(hidden_seq).poisson(hidden_mean).astype(np.int64)
        dims = ("chain", "draw")
        posterior = posterior.assign(
            hidden_mean=(dims, hidden_mean),
            hidden=(dims, hidden),
            total=(dims, hidden + np.int64(n_observed)),
        )
        return self._inference_data(posterior, idata.sample_stats, observed, compiled, seed=seed, draws=draws,
                                    tune=tune, chains=chains)

    def _inference_data(self, posterior: Any, sample_stats: Any, observed: np.ndarray, compiled: Any, *, seed: int,
                        draws: int, tune: int, chains: int) -> arviz.InferenceData:
        """The result: the posterior with its provenance in ``attrs``, nutpie's statistics, the counts."""
        import arviz
        import nutpie

        posterior.attrs.update(
            {
                "model": "bayes_loglinear",
                "k": self._k,
                "terms": json.dumps([list(t) for t in self._terms]),
                "priors": json.dumps(self._priors, sort_keys=True),
                "seed": int(seed),
                "draws": int(draws),
                "tune": int(tune),
                "chains": int(chains),
                "sampler": f"nutpie {nutpie.__version__}",
                "log_density": "hand-written kernel" if kernel_installed(compiled) else "PyTensor",
            }
        )
        observed_data = arviz.from_dict(
            observed_data={"counts": observed},
            coords={"cell": list(range(1, n_cells(self._k)))},
            dims={"counts": ["cell"]},
        )
        return arviz.InferenceData(
            posterior=posterior,
            sample_stats=sample_stats,
            observed_data=observed_data.observed_data,
        )
