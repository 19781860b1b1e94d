r"""Latent-class (Dirichlet-process mixture) model for K >= 2 lists: the model and its two samplers.

The model (Manrique-Vallier 2016; R package LCMCR)
---------------------------------------------------
People fall in latent classes :math:`j = 1..K` with weights :math:`w_j`; within a class the
lists capture independently with probabilities :math:`\lambda_{jk}`. Cell :math:`c` (list
:math:`k` holds the record iff bit :math:`k` of :math:`c` is set) has probability

.. math::

    \pi_c = \sum_{j=1}^{K} w_j \prod_k \lambda_{jk}^{c_k} (1 - \lambda_{jk})^{1 - c_k}.

Priors (:data:`DEFAULT_PRIORS`, LCMCR's): truncated stick-breaking weights
:math:`w_j = v_j \prod_{l<j} (1 - v_l)`, :math:`v_j \sim \text{Beta}(1, \alpha)` for
:math:`j < K` (:math:`v_K = 1`), :math:`\alpha \sim \text{Gamma}(a, b)` with
:math:`a = b = 0.25` (shape, rate), :math:`\lambda_{jk} \sim \text{Beta}(1, 1)`, and
:math:`p(N) \propto 1/N`.

Never sample N, nor the classes (``docs/methods.md#never-sample-n``)
--------------------------------------------------------------------
Class membership is summed out (the log-sum-exp above), so NUTS sees only continuous
parameters. With :math:`p(N) \propto 1/N` the posterior of the parameters is proportional to
the prior times the *conditional* likelihood of the observed cells,
:math:`\prod_{c \ne 0} (\pi_c / (1 - \pi_0))^{n_c}`, where
:math:`\log(1 - \pi_0) = \operatorname{logsumexp}_{c \ne 0} \log \pi_c` (no cancellation when
:math:`\pi_0` is near 1). After sampling, draw by draw, the number on no list is
:math:`n_0 \sim \text{NegativeBinomial}(n, 1 - \pi_0)` (failures before the :math:`n`-th
success) with numpy, and :math:`N = n + n_0`.

Two samplers
------------
``sampler="gibbs-hmc"`` (the default; :mod:`hiddenrate.models.sampling.latent_class_gibbs`): Gibbs sweeps
over the classes of the people in every cell (the hidden ones included, drawn from their exact
conditional), each followed by one HMC move on the density below. ``sampler="nuts"``: nutpie's
NUTS on the density below alone; this is where the notes on NUTS that follow apply. How well
each mixes on the shared data sets: ``docs/latent-class-sampler.md``.

Reparameterisation
------------------
* **The concentration is integrated out exactly.** With :math:`u_j = -\log(1 - v_j)`, the
  sticks are i.i.d. :math:`\text{Exponential}(\alpha)` given :math:`\alpha`, so with
  :math:`S = \sum_{j<K} u_j`

  .. math::

      p(u) = \int \alpha^{K-1} e^{-\alpha S}\, \text{Gamma}(\alpha; a, b)\, d\alpha
           = \frac{b^a\, \Gamma(a + K - 1)}{\Gamma(a)\, (b + S)^{a + K - 1}},

  and :math:`\alpha \mid u \sim \text{Gamma}(a + K - 1, b + S)` is drawn afterwards. This removes
  the funnel between :math:`\alpha` and the sticks (with :math:`\alpha \to 0` the Beta(1,
  :math:`\alpha`) sticks pile up at 1), the main source of divergences of the direct
  parameterisation. NUTS samples :math:`x_j = \log u_j` (density
  :math:`\propto e^{\sum x_j} (b + \sum e^{x_j})^{-(a+K-1)}`: exponential tails both ways).
* **Capture probabilities on the logit scale**, :math:`z_{jk} = \operatorname{logit}\lambda_{jk}`
  with the Beta(:math:`a_\lambda, b_\lambda`) density and its Jacobian,
  :math:`a_\lambda \log\sigma(z) + b_\lambda \log\sigma(-z)` (exponential tails).
* **Label switching.** :math:`N`, :math:`\pi` and :math:`\pi_0` do not depend on the labels;
  convergence is judged on label-free quantities only (:math:`N` and the log odds of being on
  no list), and class summaries are reported after sorting the classes by weight in every
  draw.

* **Log density.** NUTS evaluates a hand-written log density and gradient
  (:mod:`hiddenrate.models.sampling.latent_class_kernel`, checked against this PyTensor model to
  rounding error); the PyTensor model still supplies the variable layout, initial points
  and the derived quantities. Same model, same posterior; about twice as fast.
* **Step size.** NUTS runs with ``target_accept = 0.99`` (:data:`TARGET_ACCEPT`), not 0.9: the
  posterior has narrow necks where a class's weight is pinned by the data while its capture
  probabilities are not. Why NUTS chains settle in different modes (the number of occupied
  classes), and the divergences on data without heterogeneity, measured: ``docs/latent-class-sampler.md``.
  R-hat and the ``chains-disagree`` check of :mod:`hiddenrate.analysis.fragility` report them.

References
----------
Manrique-Vallier, D. (2016). Bayesian population size estimation using Dirichlet process
mixtures. *Biometrics* 72, 1246-1254.
Ishwaran, H. & James, L. F. (2001). Gibbs sampling methods for stick-breaking priors. *JASA* 96, 161-173.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hiddenrate.core.settings import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_TUNE
from hiddenrate.core.exceptions import DataError, EstimationError, ModelError
from hiddenrate.core.priors import merge_priors, numbers_to_fields
from hiddenrate.models.sampling.nuts import compile_once
from hiddenrate.core.design import n_cells, patterns
from hiddenrate.models.sampling.latent_class_kernel import install_kernel, kernel_installed

if TYPE_CHECKING:
    import arviz

__all__ = ["DEFAULT_CLASSES", "DEFAULT_PRIORS", "DEFAULT_SAMPLER", "LEAPFROG", "SAMPLERS", "TARGET_ACCEPT",
           "LAST_CLASS_WEIGHT", "TEMPERING_LADDER", "THIN", "LatentClassSampler", "check_sampler", "last_class_share",
           "latent_priors", "prior_log_odds_unseen"]

DEFAULT_CLASSES = 10
#: LCMCR's defaults: Gamma(shape 0.25, rate 0.25) on the concentration, Beta(1, 1) capture probabilities
DEFAULT_PRIORS: dict[str, dict[str, float]] = {
    "alpha": {"shape": 0.25, "rate": 0.25},
    "capture": {"a": 1.0, "b": 1.0},
}
#: NUTS target acceptance rate (see "Step size" above)
TARGET_ACCEPT = 0.99
_FIELDS = {"alpha": ("shape", "rate"), "capture": ("a", "b")}
_MAX_HIDDEN_MEAN = 1e15
_UNBOUNDED = ("the posterior of the number on no list is unbounded under this model (some draws put almost "
              "everybody in a class that no list reaches); the data cannot bound N without a stronger prior")
#: samplers of :meth:`LatentClassSampler.sample`; the first is the default
SAMPLERS = ("gibbs-hmc", "nuts")
DEFAULT_SAMPLER = SAMPLERS[0]
#: gibbs-hmc: keep every THIN-th sweep; HMC trajectories of LEAPFROG steps on average
THIN = 5
LEAPFROG = 20
#: gibbs-hmc with tempering: the share of the counts each replica sees (the first is the data);
#: see :mod:`hiddenrate.models.sampling.latent_class_gibbs`
TEMPERING_LADDER = (1.0, 0.85, 0.72, 0.6, 0.5)
_COMPILED: dict[tuple[int, int, str], Any] = {}
_COMPILE_LOCK = threading.Lock()


def latent_priors(priors: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Merge user overrides onto :data:`DEFAULT_PRIORS` (:func:`hiddenrate.core.priors.merge_priors`).

    ``{"alpha": {"shape": 1, "rate": 1}, "capture": {"a": 1, "b": 2}}``, or the two numbers in
    that order (the CLI's ``--prior alpha=0.25,0.25``); a pair given as ``{"mu": x, "sigma": y}``
    is read as the two numbers in that order. All values must be finite and positive.

    Raises
    ------
    ModelError
        Unknown prior names (the message lists the valid ones), unknown fields, bad values; all at once.
    """
    return merge_priors(DEFAULT_PRIORS, priors, _latent_entry, model="latent-class")


def _latent_entry(name: str, base: Mapping[str, Any], value: Any, errors: list[str]) -> dict[str, Any]:
    """One override of ``alpha`` or ``capture`` merged onto its default."""
    fields = _FIELDS[name]
    entry = numbers_to_fields(name, value, fields, errors)
    if entry is None:
        return dict(base)
    if set(entry) <= {"mu", "sigma"} and entry:
        entry = {fields[0]: entry.get("mu"), fields[1]: entry.get("sigma")}
    unknown = sorted(set(entry) - set(fields))
    if unknown:
        errors.append(f"prior '{name}' has unknown field(s) {unknown}; valid: {', '.join(fields)}")
    merged = dict(base)
    for field in fields:
        raw = entry.get(field, base[field])
        try:
            number = float(raw)
        except (TypeError, ValueError):
            errors.append(f"prior '{name}': {field} must be a number, got {raw!r}")
            continue
        if not math.isfinite(number) or number <= 0:
            errors.append(f"prior '{name}': {field} must be finite and > 0, got {raw!r}")
            continue
        merged[field] = number
    return merged


def _build_model(k: int, classes: int, priors: Mapping[str, Mapping[str, float]]) -> Any:
    """The PyMC model (counts enter through ``pm.Data`` so a compiled model can be reused)."""
    import pymc as pm
    import pytensor.tensor as pt

    pattern = patterns(k).astype(float)
    shape, rate = priors["alpha"]["shape"], priors["alpha"]["rate"]
    beta_a, beta_b = priors["capture"]["a"], priors["capture"]["b"]
    coords = {"cell": list(range(1, n_cells(k))), "class": list(range(classes)), "list": list(range(k))}
    with pm.Model(coords=coords) as model:
        counts = pm.Data("observed_counts", np.ones(n_cells(k) - 1), dims="cell")
        logit_capture = pm.Flat("_logit_capture", shape=(classes, k))
        log_capture = -pt.softplus(-logit_capture)
        log_miss = -pt.softplus(logit_capture)
        pm.Potential("capture_prior", pt.sum(beta_a * log_capture + beta_b * log_miss))
        if classes > 1:
            log_stick = pm.Flat("_log_stick", shape=classes - 1)
            stick = pt.exp(log_stick)
            pm.Potential("stick_prior", pt.sum(log_stick) - (shape + classes - 1) * pt.log(rate + pt.sum(stick)))
            log_v = pt.log(-pt.expm1(-stick))
            remaining = pt.concatenate([pt.zeros(1), -pt.cumsum(stick)])
            log_weight = pt.concatenate([log_v, pt.zeros(1)]) + remaining
        else:
            log_weight = pt.zeros(1)
        terms = log_weight[None, :] + pt.dot(pattern, log_capture.T) + pt.dot(1.0 - pattern, log_miss.T)
        log_pi = pm.math.logsumexp(terms, axis=1).flatten()
        log_seen = pm.math.logsumexp(log_pi[1:], axis=0).flatten()[0]
        pm.Potential("likelihood", pt.sum(counts * (log_pi[1:] - log_seen)))
        pm.Deterministic("log_odds_unseen", log_pi[0] - log_seen)
        pm.Deterministic("class_weight", pt.exp(log_weight), dims="class")
        pm.Deterministic("capture", pt.sigmoid(logit_capture), dims=("class", "list"))
        if classes > 1:
            pm.Deterministic("_stick_sum", pt.sum(stick))
    return model


def _compiled(k: int, classes: int, priors: Mapping[str, Mapping[str, float]]) -> Any:
    key = (k, classes, json.dumps(priors, sort_keys=True))
    compiled = compile_once(_COMPILED, _COMPILE_LOCK, key, lambda: _build_model(k, classes, priors))
    return install_kernel(compiled, k, classes, priors)


def check_sampler(sampler: str) -> str:
    """Return ``sampler`` if it is one of :data:`SAMPLERS`; otherwise raise :class:`ModelError`."""
    if sampler not in SAMPLERS:
        raise ModelError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
    return sampler


def prior_log_odds_unseen(k: int, classes: int, priors: Mapping[str, Mapping[str, float]],
                          rng: np.random.Generator, size: int = 4000) -> np.ndarray:
    """Draws of :math:`\\log(\\pi_0 / (1 - \\pi_0))` from the prior (for the posterior-contraction check)."""
    alpha = rng.gamma(priors["alpha"]["shape"], 1.0 / priors["alpha"]["rate"], size=size)
    sticks = rng.beta(1.0, np.maximum(alpha, 1e-300)[:, None], size=(size, max(classes - 1, 0)))
    remaining = np.cumprod(np.concatenate([np.ones((size, 1)), 1.0 - sticks], axis=1), axis=1)
    weights = np.concatenate([sticks, np.ones((size, 1))], axis=1) * remaining
    capture = rng.beta(priors["capture"]["a"], priors["capture"]["b"], size=(size, classes, k))
    unseen = np.sum(weights * np.exp(np.sum(np.log1p(-capture), axis=2)), axis=1)
    unseen = np.clip(unseen, 1e-300, 1 - 1e-16)
    return np.log(unseen) - np.log1p(-unseen)


def _check_counts(counts: Any, k: int) -> np.ndarray:
    values = np.asarray(counts, dtype=float)
    if values.ndim != 1 or values.shape[0] != n_cells(k):
        raise DataError(f"counts must be a vector of length 2**{k} = {n_cells(k)} (entry 0 ignored), got {values.shape}")
    observed = values[1:]
    if not np.all(np.isfinite(observed)) or np.any(observed < 0) or np.any(observed != np.round(observed)):
        raise DataError("counts must be whole numbers >= 0")
    if observed.sum() <= 0:
        raise DataError("all observed counts are 0; there is nothing to estimate from")
    return observed


def _check_surveys(surveys: Mapping[int, tuple[int, int]] | None, k: int) -> list[tuple[int, int, int]]:
    """``{list: (reported, surveyed)}`` as sorted (list, on the list, not on it) rows."""
    rows = []
    for index, pair in sorted(dict(surveys or {}).items()):
        if int(index) != index or not 0 <= index < k:
            raise ModelError(f"a survey names list {index!r}; lists are numbered 0 to {k - 1}")
        reported, surveyed = pair
        if any(int(v) != v or v < 0 for v in (reported, surveyed)) or reported > surveyed or surveyed == 0:
            raise ModelError(f"survey of list {index}: reported ({reported}) and surveyed ({surveyed}) must be whole "
                             "numbers with 0 <= reported <= surveyed and surveyed > 0")
        rows.append((int(index), int(reported), int(surveyed) - int(reported)))
    return rows


class LatentClassSampler:
    """Compile the latent-class model once per (lists, classes, priors); sample many tables.

    Parameters
    ----------
    k : int
        Number of lists (>= 2).
    classes : int
        Truncation :math:`K` of the stick-breaking prior (default 10, as LCMCR).
    priors : dict, optional
        Overrides of :data:`DEFAULT_PRIORS` (see :func:`latent_priors`).

    Notes
    -----
    Gibbs-HMC (default): numba compiles the sampler in about 6-8 s, once per structure (lists,
    classes, priors) on a machine, and keeps it in its disk cache (a later process loads it in
    about 0.05 s; :mod:`hiddenrate.models.sampling.jit_cache`); a fit at default settings (4 chains x 6,000 sweeps, in
    parallel threads) then takes 0.7-2 s on the eleven shared sets on a 2-core machine
    (``benchmarks/bench_latent_class.py``), about five times as long with ``tempering``. NUTS: compiling takes 10-30 s; a fit of 4 x 2,000
    iterations on 5 lists 3.5-5.5 s (8 lists: about 16 s) with the hand-written log density of
    :mod:`hiddenrate.models.sampling.latent_class_kernel`; :meth:`sample` swaps the counts into the
    compiled model (``CompiledModel.with_data``).
    """

    def __init__(self, k: int, classes: int = DEFAULT_CLASSES, priors: Mapping[str, Any] | None = None) -> None:
        if int(k) != k or k < 2:
            raise ModelError(f"the latent-class model needs at least 2 lists, got {k}")
        if int(classes) != classes or classes < 1:
            raise ModelError(f"the number of classes must be a whole number >= 1, got {classes!r}")
        self.k, self.classes = int(k), int(classes)
        self.priors = latent_priors(priors)

    def sample(self, counts: Any, *, draws: int = DEFAULT_DRAWS, tune: int = DEFAULT_TUNE, chains: int = DEFAULT_CHAINS,
               seed: int = DEFAULT_SEED, sampler: str = DEFAULT_SAMPLER, target_accept: float | None = None, thin: int = THIN,
               leapfrog: int = LEAPFROG, surveys: Mapping[int, tuple[int, int]] | None = None,
               tempering: Sequence[float] | None = None, progress: bool = False) -> arviz.InferenceData:
        """Sample the posterior for one count vector (cell order of :mod:`hiddenrate.core.design`).

        Parameters
        ----------
        surveys : dict, optional
            ``{list index: (reported, surveyed)}``: of ``surveyed`` people drawn from the
            population, ``reported`` were on that list (e.g. a victim survey asking who was known
            to the police). Each adds :math:`\\text{Binomial}(\\text{reported} \\mid \\text{surveyed},
            p_k)` with :math:`p_k = \\sum_j w_j \\lambda_{jk}` to the likelihood; the Gibbs sweep
            gives every respondent a class (so every conditional stays conjugate) and the HMC
            move includes the term. Gibbs-HMC only.
        sampler : {"gibbs-hmc", "nuts"}
            ``"gibbs-hmc"`` (default): the blocked Gibbs sweep with one HMC transition per sweep of
            :mod:`hiddenrate.models.sampling.latent_class_gibbs`; ``draws`` kept per chain, every ``thin``-th
            of ``draws * thin`` sweeps after ``tune`` warm-up sweeps, HMC trajectories of about
            ``leapfrog`` steps, step size tuned to ``target_accept`` (default 0.95). ``"nuts"``: NUTS
            (nutpie) on the model with the classes summed out, ``draws`` after ``tune`` tuning
            iterations at ``target_accept`` (default :data:`TARGET_ACCEPT`, 0.99).
        tempering : sequence of float, optional
            Gibbs-HMC only: run every chain with hotter replicas that see these shares of the
            counts (starting at 1, falling; e.g. :data:`TEMPERING_LADDER`) and swap states between
            them (parallel tempering); the draws are the first replica's. Costs one sweep per
            replica; recorded as ``tempering`` and ``swap_acceptance`` in the posterior's attributes.

        Returns
        -------
        arviz.InferenceData
            ``posterior``: ``log_odds_unseen`` (:math:`\\log \\pi_0/(1-\\pi_0)`), ``class_weight``
            (dim ``class``), ``capture`` (dims ``class, list``), ``alpha``, ``hidden`` and ``total``
            (int64), and with Gibbs-HMC ``occupied_classes`` (classes holding anybody on a list or
            on none; survey respondents not counted: LCMCR's k*); ``prior``: prior draws of ``log_odds_unseen``; ``sample_stats`` (with
            ``diverging``); ``observed_data``: ``counts``. One ``SeedSequence(seed)`` seeds the
            sampler, the hidden counts, :math:`\\alpha` and the prior draws.

        Raises
        ------
        DataError
            Counts that are not ``2**k`` whole numbers >= 0 with a positive total.
        EstimationError
            When a draw puts essentially everybody on no list (expected hidden count above
            1e15): the posterior of N is unbounded under this model and prior.
        """
        import arviz
        observed = _check_counts(counts, self.k)
        survey_rows, ladder = _check_options(self.k, sampler, surveys, tempering, draws=draws, tune=tune,
                                             chains=chains, thin=thin, leapfrog=leapfrog)
        from hiddenrate.models.sampling import latent_class_gibbs

        sampler_seed, hidden_seed, alpha_seed, prior_seed = np.random.SeedSequence(seed).spawn(4)
        if sampler == "nuts":
            posterior, sample_stats, attrs = self._nuts(observed, int(draws), int(tune), int(chains), sampler_seed,
                                                        hidden_seed, alpha_seed,
                                                        float(target_accept or TARGET_ACCEPT), progress)
        else:
            from hiddenrate.core.progress import stage

            with stage(f"sampling the latent-class model ({chains} chains x {draws} draws)"):
                posterior, sample_stats, attrs = self._gibbs_hmc(observed, int(draws), int(tune), int(chains),
                                                                 sampler_seed, int(thin), int(leapfrog),
                                                                 float(target_accept or latent_class_gibbs.TARGET_ACCEPT),
                                                                 survey_rows, ladder)
        posterior.attrs.update({
            "model": "latent_class", "k": self.k, "classes": self.classes,
            "priors": json.dumps(self.priors, sort_keys=True), "seed": int(seed), "draws": int(draws),
            "tune": int(tune), "chains": int(chains), **attrs,
        })
        prior_draws = prior_log_odds_unseen(self.k, self.classes, self.priors, np.random.default_rng(prior_seed))
        extra = arviz.from_dict(
            prior={"log_odds_unseen": prior_draws[None, :]},
            observed_data={"counts": observed.astype(np.int64)},
            coords={"cell": list(range(1, n_cells(self.k)))},
            dims={"counts": ["cell"]},
        )
        return arviz.InferenceData(posterior=posterior, sample_stats=sample_stats, prior=extra.prior,
                                   observed_data=extra.observed_data)

    def _gibbs_hmc(self, observed: np.ndarray, draws: int, tune: int, chains: int,
                   seed: np.random.SeedSequence, thin: int, leapfrog: int,
                   target_accept: float, surveys: list[tuple[int, int, int]],
                   ladder: tuple[float, ...] = (1.0,)) -> tuple[Any, Any, dict[str, Any]]:
        import xarray

        from hiddenrate.models.sampling.latent_class_gibbs import run_chains

        seeds = [int(child.generate_state(1, dtype=np.uint32)[0]) for child in seed.spawn(chains)]
        runs = run_chains(observed, self.k, self.classes, self.priors, tune=tune, draws=draws, thin=thin,
                          seeds=seeds, max_hidden_mean=_MAX_HIDDEN_MEAN, leapfrog=leapfrog,
                          target_accept=target_accept, surveys=surveys, ladder=ladder)
        if not all(run["bounded"] for run in runs):
            raise EstimationError(_UNBOUNDED)
        n_observed = np.int64(round(observed.sum()))
        hidden = np.stack([run["hidden"] for run in runs])
        coords = {"chain": np.arange(chains), "draw": np.arange(draws), "class": np.arange(self.classes),
                  "list": np.arange(self.k)}
        dims = ("chain", "draw")
        posterior = xarray.Dataset({
            "log_odds_unseen": (dims, np.stack([run["log_odds_unseen"] for run in runs])),
            "class_weight": ((*dims, "class"), np.stack([run["class_weight"] for run in runs])),
            "capture": ((*dims, "class", "list"), np.stack([run["capture"] for run in runs])),
            "alpha": (dims, np.stack([run["alpha"] for run in runs])),
            "occupied_classes": (dims, np.stack([run["occupied_classes"] for run in runs])),
            "hidden": (dims, hidden),
            "total": (dims, hidden + n_observed),
        }, coords=coords)
        sample_stats = xarray.Dataset({"diverging": (dims, np.stack([run["diverging"] for run in runs]))},
                                      coords={"chain": coords["chain"], "draw": coords["draw"]})
        attrs = {"sampler": "blocked Gibbs with one HMC transition per sweep (hiddenrate.models.sampling.latent_class_gibbs)",
                 "thin": thin, "leapfrog": leapfrog, "target_accept": target_accept,
                 "log_density": "hand-written kernel",
                 "hmc_step_size": json.dumps([round(run["step"], 6) for run in runs]),
                 "hmc_acceptance": json.dumps([round(run["accept"], 4) for run in runs]),
                 "surveys": json.dumps([[k, on, on + off] for k, on, off in surveys])}
        if len(ladder) > 1:
            attrs["tempering"] = json.dumps(list(ladder))
            attrs["swap_acceptance"] = json.dumps([[round(float(r), 3) for r in run["swap_rate"]] for run in runs])
        return posterior, sample_stats, attrs

    def _nuts(self, observed: np.ndarray, draws: int, tune: int, chains: int, seed: np.random.SeedSequence,
              hidden_seed: np.random.SeedSequence, alpha_seed: np.random.SeedSequence, target_accept: float,
              progress: bool) -> tuple[Any, Any, dict[str, Any]]:
        import nutpie

        n_observed = int(round(observed.sum()))
        compiled = _compiled(self.k, self.classes, self.priors).with_data(observed_counts=observed)
        idata = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains,
                              seed=int(seed.generate_state(1, dtype=np.uint64)[0]), progress_bar=progress,
                              save_warmup=False, target_accept=target_accept)
        posterior = idata.posterior
        log_odds = np.asarray(posterior["log_odds_unseen"].values, dtype=float)
        seen = 1.0 / (1.0 + np.exp(np.clip(log_odds, -700, 700)))
        with np.errstate(divide="ignore", over="ignore"):
            hidden_mean = n_observed * np.exp(np.clip(log_odds, -700, 700))
        if not np.all(np.isfinite(hidden_mean) & (hidden_mean <= _MAX_HIDDEN_MEAN)):
            raise EstimationError(_UNBOUNDED)
        hidden = np.random.default_rng(hidden_seed).negative_binomial(n_observed, seen).astype(np.int64)
        shape, rate = self.priors["alpha"]["shape"], self.priors["alpha"]["rate"]
        stick_sum = np.asarray(posterior["_stick_sum"].values, dtype=float) if "_stick_sum" in posterior else 0.0
        alpha = np.random.default_rng(alpha_seed).gamma(shape + self.classes - 1, 1.0 / (rate + stick_sum),
                                                        size=log_odds.shape)
        posterior = posterior.drop_vars([v for v in posterior.data_vars if str(v).startswith("_")])
        posterior = posterior.drop_dims([d for d in posterior.dims if str(d).startswith("_")])
        dims = ("chain", "draw")
        posterior = posterior.assign(alpha=(dims, alpha), hidden=(dims, hidden),
                                     total=(dims, hidden + np.int64(n_observed)))
        attrs = {"sampler": f"nutpie {nutpie.__version__}", "target_accept": target_accept,
                 "log_density": "hand-written kernel" if kernel_installed(compiled) else "PyTensor"}
        return posterior, idata.sample_stats, attrs


#: a last class holding more than this share of the population means the truncation at K binds
LAST_CLASS_WEIGHT = 0.02


def last_class_share(idata: Any) -> float | None:
    """Posterior mean weight of the last of the :math:`K` latent classes (None without classes, or K = 1).

    The stick-breaking prior truncated at :math:`K` gives the last class whatever the first
    :math:`K - 1` leave; more than :data:`LAST_CLASS_WEIGHT` there means the truncation binds.
    """
    posterior = getattr(idata, "posterior", None) if idata is not None else None
    if posterior is None or "class_weight" not in posterior:
        return None
    weights = np.asarray(posterior["class_weight"].values, dtype=float)
    return float(np.mean(weights[..., -1])) if weights.shape[-1] > 1 else None


def _check_options(k: int, sampler: str, surveys: Mapping[int, tuple[int, int]] | None, tempering: Any, *,
                   draws: int, tune: int, chains: int, thin: int,
                   leapfrog: int) -> tuple[list[tuple[int, int, int]], tuple[float, ...]]:
    """Check the sampling options together (surveys and tempering need Gibbs-HMC); returns the
    survey rows and the tempering ladder."""
    check_sampler(sampler)
    survey_rows = _check_surveys(surveys, k)
    if survey_rows and sampler != "gibbs-hmc":
        raise ModelError("surveys need the gibbs-hmc sampler")
    from hiddenrate.models.sampling import latent_class_gibbs

    try:
        ladder = latent_class_gibbs.check_ladder((1.0,) if tempering is None else tempering)
    except ValueError as err:
        raise ModelError(str(err)) from None
    if ladder != (1.0,) and sampler != "gibbs-hmc":
        raise ModelError("tempering needs the gibbs-hmc sampler")
    for name, value, low in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1), ("thin", thin, 1),
                             ("leapfrog", leapfrog, 0)):
        if int(value) != value or value < low:
            raise ModelError(f"{name} must be a whole number >= {low}, got {value!r}")
    return survey_rows, ladder
